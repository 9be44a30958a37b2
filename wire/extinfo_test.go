package wire

import (
	"bytes"
	"testing"
)

// extInfoVectors are written out from the layout of RFC 8308 §2.3.
var extInfoVectors = []vector[ExtInfo]{
	{
		name: "server-sig-algs-ping",
		m: ExtInfo{Extensions: []Extension{
			{Name: "server-sig-algs", Value: []byte("ssh-ed25519,rsa-sha2-512")},
			{Name: "ping@openssh.com", Value: []byte("0")},
		}},
		enc: mustHex("07" + // SSH_MSG_EXT_INFO
			"00000002" + // nr-extensions
			"0000000f 7365727665722d7369672d616c6773" + // extension-name "server-sig-algs"
			"00000018 7373682d656432353531392c7273612d736861322d353132" + // extension-value "ssh-ed25519,rsa-sha2-512"
			"00000010 70696e67406f70656e7373682e636f6d" + // extension-name "ping@openssh.com"
			"00000001 30"), // extension-value "0"
	},
	{name: "none", m: ExtInfo{}, enc: mustHex("07 00000000")},
	{
		name: "empty-name-and-value",
		m:    ExtInfo{Extensions: []Extension{{}}},
		enc:  mustHex("07 00000001 00000000 00000000"),
	},
}

func TestExtInfoEncoding(t *testing.T) {
	var m ExtInfo
	for _, v := range extInfoVectors {
		t.Run(v.name, func(t *testing.T) {
			checkEncoding(t, v.m, v.enc)
			checkStrict(t, m.Parse, v.enc)
		})
	}
}

// TestExtInfoAliases checks the documented ownership: values alias the
// input, names are copies.
func TestExtInfoAliases(t *testing.T) {
	in := bytes.Clone(extInfoVectors[0].enc)
	var m ExtInfo
	if err := m.Parse(in); err != nil {
		t.Fatal(err)
	}
	for i := range in[5:] {
		in[5+i] = 'X'
	}
	if got := m.Extensions[0].Name; got != "server-sig-algs" {
		t.Errorf("Name = %q after the input changed; want a copy", got)
	}
	if got := string(m.Extensions[1].Value); got != "X" {
		t.Errorf("Value = %q after the input changed; want it to alias the input", got)
	}
}

func TestExtInfoMalformed(t *testing.T) {
	for _, in := range []string{
		"", "07", "07 000000",
		"08 00000000",                         // SSH_MSG_NEWCOMPRESS
		"07 00000001",                         // count 1, nothing follows
		"07 00000001 00000000",                // no value
		"07 00000001 00000000 00000000 00",    // trailing byte
		"07 00000002 00000000 00000000",       // count larger than the extensions present
		"07 00000001 00000001 61 00000002 62", // truncated value
		"07 ffffffff 00000000 00000000",       // count far beyond the input
	} {
		var m ExtInfo
		if err := m.Parse(mustHex(in)); err != ErrMalformed {
			t.Errorf("Parse(%s) = %v; want ErrMalformed", in, err)
		}
	}
}

// TestExtInfoHugeCountAllocs checks that a count no input of this size
// could hold is refused before the extensions slice is allocated: a
// peer must not make us allocate by sending a large number.
func TestExtInfoHugeCountAllocs(t *testing.T) {
	for _, in := range [][]byte{
		mustHex("07 ffffffff"),
		mustHex("07 7fffffff 00000000 00000000"),
		// 3 extensions need at least 24 bytes; 23 are present.
		mustHex("07 00000003 00000000 00000000 00000000 00000000 00000000 000000"),
		append(mustHex("07 00010000"), make([]byte, 8*0x10000-1)...),
	} {
		var m ExtInfo
		if err := m.Parse(in); err != ErrMalformed {
			t.Errorf("Parse(%x...) = %v; want ErrMalformed", in[:min(len(in), 16)], err)
		}
		if n := testing.AllocsPerRun(100, func() { _ = m.Parse(in) }); n != 0 {
			t.Errorf("Parse(%x...): %v allocations; want 0", in[:min(len(in), 16)], n)
		}
	}
}

func FuzzExtInfo(f *testing.F) {
	for _, v := range extInfoVectors {
		f.Add(v.enc)
	}
	f.Add(mustHex("07 ffffffff 00000000 00000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m ExtInfo
		if m.Parse(b) != nil {
			return
		}
		if len(m.Extensions)*8 > len(b) {
			t.Fatalf("Parse(%x) returned %d extensions", b, len(m.Extensions))
		}
		if enc := reparse(t, &m); !bytes.Equal(enc, b) {
			t.Fatalf("Parse(%x) re-encodes as %x", b, enc)
		}
	})
}
