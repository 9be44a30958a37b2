package wire

import (
	"bytes"
	"testing"
)

// Vectors written out from the layouts of RFC 4253 §11.2-11.4 and §7.3.
var (
	ignoreVectors = []vector[Ignore]{
		{
			name: "abc",
			m:    Ignore{Data: []byte("abc")},
			enc: mustHex("02" + // SSH_MSG_IGNORE
				"00000003 616263"), // data "abc"
		},
		{name: "empty", m: Ignore{}, enc: mustHex("02 00000000")},
	}
	debugVectors = []vector[Debug]{
		{
			name: "always-display",
			m:    Debug{AlwaysDisplay: true, Message: []byte("hi")},
			enc: mustHex("04" + // SSH_MSG_DEBUG
				"01" + // always_display
				"00000002 6869" + // message "hi"
				"00000000"), // language tag
		},
		{
			name: "language",
			m:    Debug{Language: []byte("en")},
			enc:  mustHex("04 00 00000000 00000002 656e"),
		},
	}
	unimplementedVectors = []vector[Unimplemented]{
		{
			name: "seq",
			m:    Unimplemented{Seq: 0x01020304},
			enc: mustHex("03" + // SSH_MSG_UNIMPLEMENTED
				"01020304"), // packet sequence number of rejected message
		},
		{name: "max", m: Unimplemented{Seq: 0xffffffff}, enc: mustHex("03 ffffffff")},
	}
)

func TestIgnoreEncoding(t *testing.T) {
	for _, v := range ignoreVectors {
		t.Run(v.name, func(t *testing.T) { checkEncoding(t, v.m, v.enc) })
	}
}

// TestIgnoreLenient checks the documented leniency of Ignore.Parse: only
// the message number is required. A receiver must ignore the message
// (RFC 4253 §11.2), so a broken or truncated data field or trailing bytes
// do not make it malformed.
func TestIgnoreLenient(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"02", nil},
		{"02 000000", nil},
		{"02 00000003 6162", nil},
		{"02 00000003 616263 ff", []byte("abc")},
	}
	for _, tt := range tests {
		m := Ignore{Data: []byte("stale")}
		if err := m.Parse(mustHex(tt.in)); err != nil {
			t.Errorf("Parse(%s): %v", tt.in, err)
			continue
		}
		if !bytes.Equal(m.Data, tt.want) || (tt.want == nil && m.Data != nil) {
			t.Errorf("Parse(%s).Data = %q; want %q", tt.in, m.Data, tt.want)
		}
	}
	for _, in := range []string{"", "03 00000000", "01"} {
		var m Ignore
		if err := m.Parse(mustHex(in)); err != ErrMalformed {
			t.Errorf("Parse(%s) = %v; want ErrMalformed", in, err)
		}
	}
}

func TestDebugEncoding(t *testing.T) {
	for _, v := range debugVectors {
		t.Run(v.name, func(t *testing.T) { checkEncoding(t, v.m, v.enc) })
	}
}

func TestDebugStrict(t *testing.T) {
	var m Debug
	for _, v := range debugVectors {
		// The one prefix that parses is the message without its
		// language tag.
		t.Run(v.name, func(t *testing.T) { checkStrict(t, m.Parse, v.enc, len(v.enc)-4-len(v.m.Language)) })
	}
}

// TestDebugNoLanguage checks that a DEBUG without the language tag, as
// older implementations send it, is accepted, and that it does not keep
// the language of a message parsed before.
func TestDebugNoLanguage(t *testing.T) {
	var m Debug
	if err := m.Parse(debugVectors[1].enc); err != nil {
		t.Fatal(err)
	}
	in := mustHex("04 02 00000002 6869")
	if err := m.Parse(in); err != nil {
		t.Fatalf("Parse(%x): %v", in, err)
	}
	// RFC 4251 §5: any non-zero boolean is TRUE.
	want := Debug{AlwaysDisplay: true, Message: []byte("hi")}
	if !sameValue(m, want) || m.Language != nil {
		t.Errorf("Parse(%x) = %+v; want %+v", in, m, want)
	}
	if got, want := m.Append(nil), mustHex("04 01 00000002 6869 00000000"); !bytes.Equal(got, want) {
		t.Errorf("Append = %x; want %x", got, want)
	}
}

func TestDebugMalformed(t *testing.T) {
	for _, in := range []string{
		"", "04", "04 01", "04 01 000000",
		"04 01 00000002 68",          // truncated message
		"04 01 00000000 00000001",    // truncated language
		"04 01 00000000 00000000 00", // trailing byte
		"02 01 00000000 00000000",    // SSH_MSG_IGNORE
	} {
		var m Debug
		if err := m.Parse(mustHex(in)); err != ErrMalformed {
			t.Errorf("Parse(%s) = %v; want ErrMalformed", in, err)
		}
	}
}

func TestUnimplementedEncoding(t *testing.T) {
	var m Unimplemented
	for _, v := range unimplementedVectors {
		t.Run(v.name, func(t *testing.T) {
			checkEncoding(t, v.m, v.enc)
			checkStrict(t, m.Parse, v.enc)
		})
	}
	if err := m.Parse(mustHex("02 01020304")); err != ErrMalformed {
		t.Errorf("Parse of SSH_MSG_IGNORE = %v; want ErrMalformed", err)
	}
}

func TestNewKeysEncoding(t *testing.T) {
	var m NewKeys
	checkEncoding(t, m, mustHex("15")) // SSH_MSG_NEWKEYS
	checkStrict(t, m.Parse, mustHex("15"))
	if err := m.Parse(mustHex("14")); err != ErrMalformed {
		t.Errorf("Parse(14) = %v; want ErrMalformed", err)
	}
}

func FuzzIgnore(f *testing.F) {
	for _, v := range ignoreVectors {
		f.Add(v.enc)
	}
	f.Add(mustHex("02 00000003 6162"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Ignore
		if m.Parse(b) != nil {
			if len(b) > 0 && b[0] == MsgIgnore {
				t.Fatalf("Parse(%x) failed; any message starting with SSH_MSG_IGNORE is accepted", b)
			}
			return
		}
		enc := reparse(t, &m)
		// Data is the string right after the message number when there
		// is one, and nil otherwise.
		r := Reader(b[1:])
		var s []byte
		switch {
		case r.ReadString(&s) && !bytes.HasPrefix(b, enc):
			t.Fatalf("Parse(%x) re-encodes as %x; want a prefix of the input", b, enc)
		case s == nil && m.Data != nil:
			t.Fatalf("Parse(%x).Data = %x; want nil, the input holds no string", b, m.Data)
		}
	})
}

func FuzzDebug(f *testing.F) {
	for _, v := range debugVectors {
		f.Add(v.enc)
		f.Add(v.enc[:len(v.enc)-4-len(v.m.Language)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Debug
		if m.Parse(b) != nil {
			return
		}
		enc := reparse(t, &m)
		// Only always_display may encode differently (any non-zero
		// byte is true), and a missing language tag comes back empty.
		if len(enc) != len(b) && len(enc) != len(b)+4 {
			t.Fatalf("Parse(%x) re-encodes as %x", b, enc)
		}
		if !bytes.Equal(enc[2:len(b)], b[2:]) {
			t.Fatalf("Parse(%x) re-encodes as %x", b, enc)
		}
	})
}

func FuzzUnimplemented(f *testing.F) {
	for _, v := range unimplementedVectors {
		f.Add(v.enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Unimplemented
		if m.Parse(b) != nil {
			return
		}
		if enc := reparse(t, &m); !bytes.Equal(enc, b) {
			t.Fatalf("Parse(%x) re-encodes as %x", b, enc)
		}
	})
}
