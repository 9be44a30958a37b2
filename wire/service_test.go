package wire

import (
	"bytes"
	"testing"
)

// Vectors written out from the layout of RFC 4253 §10.
var (
	serviceRequestVectors = []vector[ServiceRequest]{
		{
			name: "ssh-userauth",
			m:    ServiceRequest{Service: []byte("ssh-userauth")},
			enc: mustHex("05" + // SSH_MSG_SERVICE_REQUEST
				"0000000c 7373682d7573657261757468"), // service name "ssh-userauth"
		},
		{name: "empty", m: ServiceRequest{}, enc: mustHex("05 00000000")},
	}
	serviceAcceptVectors = []vector[ServiceAccept]{
		{
			name: "ssh-connection",
			m:    ServiceAccept{Service: []byte("ssh-connection")},
			enc: mustHex("06" + // SSH_MSG_SERVICE_ACCEPT
				"0000000e 7373682d636f6e6e656374696f6e"), // service name "ssh-connection"
		},
	}
)

func TestServiceRequestEncoding(t *testing.T) {
	var m ServiceRequest
	for _, v := range serviceRequestVectors {
		t.Run(v.name, func(t *testing.T) {
			checkEncoding(t, v.m, v.enc)
			checkStrict(t, m.Parse, v.enc)
		})
	}
	if err := m.Parse(serviceAcceptVectors[0].enc); err != ErrMalformed {
		t.Errorf("Parse of SSH_MSG_SERVICE_ACCEPT = %v; want ErrMalformed", err)
	}
}

func TestServiceAcceptEncoding(t *testing.T) {
	var m ServiceAccept
	for _, v := range serviceAcceptVectors {
		t.Run(v.name, func(t *testing.T) {
			checkEncoding(t, v.m, v.enc)
			checkStrict(t, m.Parse, v.enc)
		})
	}
	if err := m.Parse(serviceRequestVectors[0].enc); err != ErrMalformed {
		t.Errorf("Parse of SSH_MSG_SERVICE_REQUEST = %v; want ErrMalformed", err)
	}
}

// FuzzServiceRequest also parses each input as SERVICE_ACCEPT, which
// shares the parser.
func FuzzServiceRequest(f *testing.F) {
	for _, v := range serviceRequestVectors {
		f.Add(v.enc)
	}
	for _, v := range serviceAcceptVectors {
		f.Add(v.enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req ServiceRequest
		if req.Parse(b) == nil {
			if enc := reparse(t, &req); !bytes.Equal(enc, b) {
				t.Fatalf("ServiceRequest.Parse(%x) re-encodes as %x", b, enc)
			}
		}
		var acc ServiceAccept
		if acc.Parse(b) == nil {
			if enc := reparse(t, &acc); !bytes.Equal(enc, b) {
				t.Fatalf("ServiceAccept.Parse(%x) re-encodes as %x", b, enc)
			}
		}
	})
}
