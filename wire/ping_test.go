package wire

import (
	"bytes"
	"testing"
)

// Vectors written out from the layout in OpenSSH's PROTOCOL §1.9.
var (
	pingVectors = []vector[Ping]{
		{
			name: "data",
			m:    Ping{Data: []byte("data")},
			enc: mustHex("c0" + // SSH2_MSG_PING
				"00000004 64617461"), // data "data"
		},
		{name: "empty", m: Ping{}, enc: mustHex("c0 00000000")},
	}
	pongVectors = []vector[Pong]{
		{
			name: "data",
			m:    Pong{Data: []byte("data")},
			enc: mustHex("c1" + // SSH2_MSG_PONG
				"00000004 64617461"), // data "data"
		},
	}
)

func TestPingEncoding(t *testing.T) {
	var m Ping
	for _, v := range pingVectors {
		t.Run(v.name, func(t *testing.T) {
			checkEncoding(t, v.m, v.enc)
			checkStrict(t, m.Parse, v.enc)
		})
	}
	if err := m.Parse(pongVectors[0].enc); err != ErrMalformed {
		t.Errorf("Parse of SSH2_MSG_PONG = %v; want ErrMalformed", err)
	}
}

func TestPongEncoding(t *testing.T) {
	var m Pong
	for _, v := range pongVectors {
		t.Run(v.name, func(t *testing.T) {
			checkEncoding(t, v.m, v.enc)
			checkStrict(t, m.Parse, v.enc)
		})
	}
	if err := m.Parse(pingVectors[0].enc); err != ErrMalformed {
		t.Errorf("Parse of SSH2_MSG_PING = %v; want ErrMalformed", err)
	}
}

// FuzzPing also parses each input as PONG, which shares the parser.
func FuzzPing(f *testing.F) {
	for _, v := range pingVectors {
		f.Add(v.enc)
	}
	for _, v := range pongVectors {
		f.Add(v.enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ping Ping
		if ping.Parse(b) == nil {
			if enc := reparse(t, &ping); !bytes.Equal(enc, b) {
				t.Fatalf("Ping.Parse(%x) re-encodes as %x", b, enc)
			}
		}
		var pong Pong
		if pong.Parse(b) == nil {
			if enc := reparse(t, &pong); !bytes.Equal(enc, b) {
				t.Fatalf("Pong.Parse(%x) re-encodes as %x", b, enc)
			}
		}
	})
}
