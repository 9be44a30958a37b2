package wire

import (
	"bytes"
	"strings"
	"testing"
)

// disconnectVectors are written out from the layout of RFC 4253 §11.1.
var disconnectVectors = []vector[Disconnect]{
	{
		name: "protocol-error",
		m:    Disconnect{Reason: ProtocolError, Description: []byte("bad packet"), Language: []byte("en")},
		enc: mustHex("01" + // SSH_MSG_DISCONNECT
			"00000002" + // reason code SSH_DISCONNECT_PROTOCOL_ERROR
			"0000000a 626164207061636b6574" + // description "bad packet"
			"00000002 656e"), // language tag "en"
	},
	{
		name: "by-application-empty",
		m:    Disconnect{Reason: ByApplication},
		enc:  mustHex("01 0000000b 00000000 00000000"),
	},
}

func TestDisconnectEncoding(t *testing.T) {
	for _, v := range disconnectVectors {
		t.Run(v.name, func(t *testing.T) { checkEncoding(t, v.m, v.enc) })
	}
}

func TestDisconnectStrict(t *testing.T) {
	var m Disconnect
	for _, v := range disconnectVectors {
		// The one prefix that parses is the message without its
		// language tag.
		t.Run(v.name, func(t *testing.T) { checkStrict(t, m.Parse, v.enc, len(v.enc)-4-len(v.m.Language)) })
	}
}

// TestDisconnectNoLanguage checks that a DISCONNECT without the language
// tag, as older implementations send it, is accepted, and that it does
// not keep the language of a message parsed before.
func TestDisconnectNoLanguage(t *testing.T) {
	var m Disconnect
	if err := m.Parse(disconnectVectors[0].enc); err != nil {
		t.Fatal(err)
	}
	in := mustHex("01 00000002 0000000a 626164207061636b6574")
	if err := m.Parse(in); err != nil {
		t.Fatalf("Parse(%x): %v", in, err)
	}
	want := Disconnect{Reason: ProtocolError, Description: []byte("bad packet")}
	if !sameValue(m, want) || m.Language != nil {
		t.Errorf("Parse(%x) = %+v; want %+v", in, m, want)
	}
	// It re-encodes with an empty language tag.
	if got, want := m.Append(nil), append(bytes.Clone(in), 0, 0, 0, 0); !bytes.Equal(got, want) {
		t.Errorf("Append = %x; want %x", got, want)
	}
}

func TestDisconnectMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"01",
		"01 00000002",                          // no description
		"02 00000002 00000000 00000000",        // SSH_MSG_IGNORE
		"01 00000002 00000000 000000",          // truncated language length
		"01 00000002 00000000 00000002 65",     // truncated language
		"01 00000002 00000005 626164",          // truncated description
		"01 00000002 00000000 00000000 ff",     // trailing byte
		"01 00000002 00000000 00000000 000000", // trailing bytes
	} {
		var m Disconnect
		if err := m.Parse(mustHex(in)); err != ErrMalformed {
			t.Errorf("Parse(%s) = %v; want ErrMalformed", in, err)
		}
	}
}

func TestDisconnectReasonString(t *testing.T) {
	tests := []struct {
		r    DisconnectReason
		want string
	}{
		{HostNotAllowedToConnect, "host not allowed to connect"},
		{ProtocolError, "protocol error"},
		{MACError, "MAC error"},
		{ByApplication, "by application"},
		{IllegalUserName, "illegal user name"},
		{0, "reason 0"},
		{16, "reason 16"},
		// A peer chooses the code; on 32-bit platforms int(r) of these
		// is negative.
		{1 << 31, "reason 2147483648"},
		{0xffffffff, "reason 4294967295"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("DisconnectReason(%d).String() = %q; want %q", uint32(tt.r), got, tt.want)
		}
	}
	// Every code RFC 4250 §4.2.2 assigns has a name.
	for r := HostNotAllowedToConnect; r <= IllegalUserName; r++ {
		if s := r.String(); strings.HasPrefix(s, "reason ") {
			t.Errorf("DisconnectReason(%d).String() = %q; want a name", uint32(r), s)
		}
	}
}

func FuzzDisconnect(f *testing.F) {
	for _, v := range disconnectVectors {
		f.Add(v.enc)
		f.Add(v.enc[:len(v.enc)-4-len(v.m.Language)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Disconnect
		if m.Parse(b) != nil {
			return
		}
		_ = m.Reason.String()
		enc := reparse(t, &m)
		// A message without its language tag re-encodes with an empty
		// one; any other re-encodes exactly.
		if !bytes.Equal(enc, b) && !bytes.Equal(enc, append(bytes.Clone(b), 0, 0, 0, 0)) {
			t.Fatalf("Parse(%x) re-encodes as %x", b, enc)
		}
	})
}
