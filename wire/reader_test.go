package wire

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// readCase is one call of a Reader method on the hex input in: when ok it
// must return want and leave rest; otherwise it must leave the Reader
// exactly as it was.
type readCase struct {
	name string
	in   string
	ok   bool
	want any
	rest string
}

func runReads(t *testing.T, cases []readCase, read func(*Reader) (any, bool)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := mustHex(tc.in)
			r := Reader(in)
			got, ok := read(&r)
			if ok != tc.ok {
				t.Fatalf("read(%x) ok = %v; want %v", in, ok, tc.ok)
			}
			if !ok {
				if len(r) != len(in) || (len(in) > 0 && &r[0] != &in[0]) {
					t.Errorf("failed read(%x) moved the Reader to %x", in, []byte(r))
				}
				return
			}
			if !sameValue(got, tc.want) {
				t.Errorf("read(%x) = %#v; want %#v", in, got, tc.want)
			}
			if rest := mustHex(tc.rest); !bytes.Equal(r, rest) {
				t.Errorf("read(%x) left %x; want %x", in, []byte(r), rest)
			}
		})
	}
}

func TestReaderUint8(t *testing.T) {
	runReads(t, []readCase{
		{name: "exact", in: "07", ok: true, want: byte(7)},
		{name: "short", in: ""},
		{name: "oversized", in: "07 08", ok: true, want: byte(7), rest: "08"},
	}, func(r *Reader) (any, bool) {
		var v byte
		ok := r.ReadUint8(&v)
		return v, ok
	})
}

func TestReaderBool(t *testing.T) {
	// RFC 4251 §5: "All non-zero values MUST be interpreted as TRUE".
	runReads(t, []readCase{
		{name: "false", in: "00", ok: true, want: false},
		{name: "true", in: "01", ok: true, want: true},
		{name: "non-zero", in: "ff", ok: true, want: true},
		{name: "short", in: ""},
		{name: "oversized", in: "02 00", ok: true, want: true, rest: "00"},
	}, func(r *Reader) (any, bool) {
		var v bool
		ok := r.ReadBool(&v)
		return v, ok
	})
}

func TestReaderUint32(t *testing.T) {
	// RFC 4251 §5: "the value 699921578 (0x29b7f4aa) is stored as 29 b7 f4 aa".
	runReads(t, []readCase{
		{name: "exact", in: "29b7f4aa", ok: true, want: uint32(699921578)},
		{name: "short", in: "29b7f4"},
		{name: "empty", in: ""},
		{name: "oversized", in: "29b7f4aa 01", ok: true, want: uint32(0x29b7f4aa), rest: "01"},
	}, func(r *Reader) (any, bool) {
		var v uint32
		ok := r.ReadUint32(&v)
		return v, ok
	})
}

func TestReaderUint64(t *testing.T) {
	runReads(t, []readCase{
		{name: "exact", in: "0102030405060708", ok: true, want: uint64(0x0102030405060708)},
		{name: "short", in: "01020304050607"},
		{name: "oversized", in: "ffffffffffffffff 00", ok: true, want: ^uint64(0), rest: "00"},
	}, func(r *Reader) (any, bool) {
		var v uint64
		ok := r.ReadUint64(&v)
		return v, ok
	})
}

func TestReaderBytes(t *testing.T) {
	for _, n := range []int{-1, 0, 2, 3, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			in := []byte{1, 2, 3}
			r := Reader(in)
			var out []byte
			ok := r.ReadBytes(&out, n)
			if want := n >= 0 && n <= 3; ok != want {
				t.Fatalf("ReadBytes(%d) on 3 bytes = %v; want %v", n, ok, want)
			}
			if !ok {
				if len(r) != 3 {
					t.Errorf("failed ReadBytes(%d) left %d bytes; want 3", n, len(r))
				}
				return
			}
			if !bytes.Equal(out, in[:n]) || !bytes.Equal(r, in[n:]) {
				t.Errorf("ReadBytes(%d) = %x, rest %x; want %x, rest %x", n, out, []byte(r), in[:n], in[n:])
			}
			if cap(out) != n {
				t.Errorf("cap(out) = %d; want %d, so appending to it cannot overwrite the input", cap(out), n)
			}
		})
	}
}

func TestReaderSkip(t *testing.T) {
	for _, tc := range []struct {
		n    int
		ok   bool
		left int
	}{{-1, false, 3}, {0, true, 3}, {3, true, 0}, {4, false, 3}} {
		r := Reader([]byte{1, 2, 3})
		if ok := r.Skip(tc.n); ok != tc.ok || r.Len() != tc.left {
			t.Errorf("Skip(%d) = %v, %d left; want %v, %d left", tc.n, ok, r.Len(), tc.ok, tc.left)
		}
	}
	r := Reader(nil)
	if !r.Empty() || r.Len() != 0 {
		t.Errorf("Reader(nil): Empty() = %v, Len() = %d; want true, 0", r.Empty(), r.Len())
	}
}

func TestReaderString(t *testing.T) {
	// RFC 4251 §5: "the US-ASCII string "testing" is represented as
	// 00 00 00 07 t e s t i n g".
	runReads(t, []readCase{
		{name: "exact", in: "00000007 74657374696e67", ok: true, want: []byte("testing")},
		{name: "empty-string", in: "00000000", ok: true, want: []byte{}},
		{name: "oversized", in: "00000001 61 62", ok: true, want: []byte("a"), rest: "62"},
		{name: "no-length", in: "000000"},
		{name: "empty", in: ""},
		{name: "length-past-end", in: "00000008 74657374696e67"},
		{name: "length-max", in: "ffffffff 74657374"},
		{name: "length-2^31", in: "80000000 74657374"},
	}, func(r *Reader) (any, bool) {
		var v []byte
		ok := r.ReadString(&v)
		return v, ok
	})
}

func TestReaderStringAliases(t *testing.T) {
	in := mustHex("00000002 6162 6364")
	r := Reader(in)
	var s []byte
	if !r.ReadString(&s) {
		t.Fatal("ReadString failed")
	}
	if &s[0] != &in[4] {
		t.Error("ReadString copied the string; want it to alias the input")
	}
	if cap(s) != 2 {
		t.Errorf("cap = %d; want 2, so appending to it cannot overwrite the next field", cap(s))
	}
	_ = append(s, 'X')
	if string(r) != "cd" {
		t.Errorf("appending to the string changed the rest of the input to %q", []byte(r))
	}
}

func TestReaderMpint(t *testing.T) {
	// Encodings from RFC 4251 §5; "two's complement magnitude" values
	// are returned without the sign-clearing zero byte.
	runReads(t, []readCase{
		{name: "RFC-0", in: "00000000", ok: true, want: []byte{}},
		{name: "RFC-9a378f9b2e332a7", in: "00000008 09a378f9b2e332a7", ok: true, want: mustHex("09a378f9b2e332a7")},
		{name: "RFC-80", in: "00000002 0080", ok: true, want: []byte{0x80}},
		{name: "RFC-minus-1234", in: "00000002 edcc"},
		{name: "RFC-minus-deadbeef", in: "00000005 ff21524111"},
		{name: "7f", in: "00000001 7f", ok: true, want: []byte{0x7f}},
		{name: "oversized", in: "00000001 01 ff", ok: true, want: []byte{1}, rest: "ff"},
		{name: "zero-as-00", in: "00000001 00"},
		{name: "zero-as-0000", in: "00000002 0000"},
		{name: "leading-zero-000001", in: "00000003 000001"},
		{name: "leading-zero-0001", in: "00000002 0001"},
		{name: "leading-zero-007f", in: "00000002 007f"},
		{name: "leading-zeros-000080", in: "00000003 000080"},
		{name: "negative-80", in: "00000001 80"},
		{name: "negative-ff", in: "00000001 ff"},
		{name: "short-string", in: "00000003 0102"},
		{name: "short-length", in: "000000"},
	}, func(r *Reader) (any, bool) {
		var v []byte
		ok := r.ReadMpint(&v)
		return v, ok
	})
}

func TestReaderNameList(t *testing.T) {
	valid := []string{"", "a", "a,b", "curve25519-sha256,curve25519-sha256@libssh.org", "!~"}
	invalid := []string{
		",", ",a", "a,", "a,,b", // RFC 4251 §5: "A name MUST have a non-zero length"
		"a b", " ", "a,b ", // and "MUST NOT contain a comma (",")": names are printable US-ASCII
		"a\x00", "\t", "a\r\n", "\x7f", "caf\xc3\xa9", "\x80",
	}
	for _, s := range valid {
		in := AppendStringS(nil, s)
		in = append(in, 0xee)
		r := Reader(in)
		var l NameList
		if !r.ReadNameList(&l) {
			t.Errorf("ReadNameList(%q) failed", s)
			continue
		}
		if string(l) != s || string(r) != "\xee" {
			t.Errorf("ReadNameList(%q) = %q, rest %x; want %q, rest ee", s, l, []byte(r), s)
		}
	}
	for _, s := range invalid {
		in := AppendStringS(nil, s)
		r := Reader(in)
		l := NameList("unchanged")
		if r.ReadNameList(&l) {
			t.Errorf("ReadNameList(%q) succeeded", s)
		}
		if len(r) != len(in) || string(l) != "unchanged" {
			t.Errorf("failed ReadNameList(%q) changed the Reader (%d of %d bytes left) or its output (%q)", s, len(r), len(in), l)
		}
	}
	r := Reader(mustHex("00000005 61"))
	var l NameList
	if r.ReadNameList(&l) || r.Len() != 5 {
		t.Errorf("ReadNameList of a truncated string: ok, or %d of 5 bytes left", r.Len())
	}
}

// validNameListOracle is RFC 4251 §5 read directly: empty, or non-empty
// names of printable US-ASCII other than comma, separated by commas.
func validNameListOracle(s []byte) bool {
	if len(s) == 0 {
		return true
	}
	for name := range strings.SplitSeq(string(s), ",") {
		if name == "" {
			return false
		}
		for _, c := range []byte(name) {
			if c < 0x21 || c > 0x7e {
				return false
			}
		}
	}
	return true
}

func FuzzMpint(f *testing.F) {
	for _, s := range []string{
		"00000000", "00000008 09a378f9b2e332a7", "00000002 0080", "00000001 7f",
		"00000002 edcc", "00000005 ff21524111", "00000002 0001",
	} {
		f.Add(mustHex(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// b as an encoded mpint: one that parses is in canonical form,
		// so encoding its magnitude again gives back exactly the bytes
		// it was read from.
		r := Reader(b)
		var mag []byte
		if r.ReadMpint(&mag) {
			read := b[:len(b)-r.Len()]
			if len(mag) > 0 && mag[0] == 0 {
				t.Fatalf("ReadMpint(%x) = %x, with a leading zero", b, mag)
			}
			if enc := AppendMpint(nil, mag); !bytes.Equal(enc, read) {
				t.Fatalf("ReadMpint(%x) = %x, which encodes as %x", read, mag, enc)
			}
		} else if r.Len() != len(b) {
			t.Fatalf("failed ReadMpint(%x) consumed %d bytes", b, len(b)-r.Len())
		}

		// b as a magnitude: it encodes to a valid mpint of the same value.
		enc := AppendMpint(nil, b)
		if len(enc) != MpintLen(b) {
			t.Fatalf("len(AppendMpint(%x)) = %d; MpintLen = %d", b, len(enc), MpintLen(b))
		}
		r = Reader(enc)
		if !r.ReadMpint(&mag) || !r.Empty() {
			t.Fatalf("AppendMpint(%x) = %x, which ReadMpint refuses", b, enc)
		}
		if want := bytes.TrimLeft(b, "\x00"); !bytes.Equal(mag, want) {
			t.Fatalf("ReadMpint(AppendMpint(%x)) = %x; want %x", b, mag, want)
		}
	})
}

func FuzzNameList(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", "none,zlib@openssh.com", ",a", "a,", "a b"} {
		f.Add([]byte(s))
	}
	var m KexInit
	if err := m.Parse(readTestdata(f, "openssh-client-kexinit.bin")); err != nil {
		f.Fatal(err)
	}
	for _, l := range m.lists() {
		f.Add([]byte(*l))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		in := AppendString(nil, s)
		r := Reader(in)
		var l NameList
		ok := r.ReadNameList(&l)
		if want := validNameListOracle(s); ok != want {
			t.Fatalf("ReadNameList(%q) = %v; want %v", s, ok, want)
		}
		if !ok {
			if r.Len() != len(in) {
				t.Fatalf("failed ReadNameList(%q) consumed input", s)
			}
			return
		}
		if !bytes.Equal(l, s) || !r.Empty() {
			t.Fatalf("ReadNameList(%q) = %q, %d bytes left", s, l, r.Len())
		}
		names := l.Strings()
		if got := strings.Join(names, ","); got != string(s) {
			t.Fatalf("Strings(%q) = %q", s, names)
		}
		if enc := AppendNameList(nil, names); !bytes.Equal(enc, in) {
			t.Fatalf("AppendNameList(%q) = %x; want %x", names, enc, in)
		}
		i := 0
		for name := range l.All() {
			if i >= len(names) || string(name) != names[i] {
				t.Fatalf("All(%q) yields %q at %d; Strings = %q", s, name, i, names)
			}
			if !l.Contains(names[i]) {
				t.Fatalf("%q.Contains(%q) = false", s, names[i])
			}
			i++
		}
		if i != len(names) {
			t.Fatalf("All(%q) yields %d names; Strings = %q", s, i, names)
		}
	})
}

// BenchmarkReaderString reports no throughput: the string aliases the
// input, so the cost does not depend on its size, which the sizes show.
func BenchmarkReaderString(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 32 << 10} {
		name := fmt.Sprintf("%dB", size)
		if size >= 1<<10 {
			name = fmt.Sprintf("%dKiB", size>>10)
		}
		b.Run(name, func(b *testing.B) {
			in := AppendString(nil, make([]byte, size))
			b.ReportAllocs()
			var s []byte
			for b.Loop() {
				r := Reader(in)
				if !r.ReadString(&s) || !r.Empty() {
					b.Fatal("ReadString failed")
				}
			}
		})
	}
}
