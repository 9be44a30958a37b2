package zerossh

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestVersionServerRefusesUnsupportedVersion checks RFC 4253 §5.1's other
// protocol versions: the server answers with a clear-text DISCONNECT,
// reason protocol version not supported, after its own version line, and
// Server returns that as a local *DisconnectError.
func TestVersionServerRefusesUnsupportedVersion(t *testing.T) {
	for _, line := range []string{"SSH-1.5-x", "SSH-3.0-x", "SSH-2.1-x", "SSH-1.0-OpenSSH_1.2"} {
		for _, tr := range rawTransports {
			t.Run(line+"/"+tr.name, func(t *testing.T) {
				nc1, nc2 := tr.conns(t)
				ps := startServer(t, nc2, &ServerConfig{})
				p := newRawPeer(t, nc1)
				if err := p.writeVersion(line); err != nil {
					t.Fatal(err)
				}
				if v, err := p.readVersion(); err != nil || v != "SSH-2.0-zerossh_1.0" {
					t.Fatalf("server version %q, %v; want SSH-2.0-zerossh_1.0", v, err)
				}
				d, err := p.readDisconnect()
				if err != nil {
					t.Fatalf("reading DISCONNECT: %v", err)
				}
				if d.Reason != ProtocolVersionNotSupported {
					t.Errorf("DISCONNECT reason %v; want %v", d.Reason, ProtocolVersionNotSupported)
				}
				_, serr := ps.wait(t)
				var de *DisconnectError
				if !errors.As(serr, &de) || de.Reason != ProtocolVersionNotSupported || de.Remote {
					t.Errorf("Server: %v; want a local DisconnectError with reason %v", serr, ProtocolVersionNotSupported)
				}
			})
		}
	}
}

// TestVersionClientRefusesUnsupportedVersion is the client's side of the
// rule above, seen from a real server: the client refuses "SSH-1.5-",
// and the server reads the client's version line and then its DISCONNECT
// with reason protocol version not supported.
func TestVersionClientRefusesUnsupportedVersion(t *testing.T) {
	m := &mitmProxy{version: func(d proxyDir, line []byte) []byte {
		if d == toClient {
			return []byte("SSH-1.5-old\r\n")
		}
		return line
	}}
	_, cerr, _, serr := proxiedHandshake(t, m, &ClientConfig{}, &ServerConfig{})
	var de *DisconnectError
	if !errors.As(cerr, &de) || de.Remote || de.Reason != ProtocolVersionNotSupported {
		t.Errorf("Client: %v; want a local DisconnectError with reason %v", cerr, ProtocolVersionNotSupported)
	}
	if !errors.As(serr, &de) || !de.Remote || de.Reason != ProtocolVersionNotSupported {
		t.Errorf("Server: %v; want the client's DISCONNECT with reason %v", serr, ProtocolVersionNotSupported)
	}
}

// TestVersionClientRefusesUnsupportedVersionFromRawServer checks the
// client's refusal against a server driven by hand whose version line is
// already waiting when the client starts, as a real server's is: the raw
// server reads the client's version line, then a DISCONNECT with reason
// protocol version not supported.
func TestVersionClientRefusesUnsupportedVersionFromRawServer(t *testing.T) {
	for _, tr := range rawTransports {
		t.Run(tr.name, func(t *testing.T) {
			nc1, nc2 := tr.conns(t)
			p := newRawPeer(t, nc2)
			wrote := make(chan error, 1)
			go func() { wrote <- p.writeVersion("SSH-1.5-old") }()
			if tr.name == "tcp" {
				if err := <-wrote; err != nil {
					t.Fatal(err)
				}
			}
			_, cerr := Client(nc1, "raw", &ClientConfig{HostKeyCallback: ssh.InsecureIgnoreHostKey(), Config: Config{HandshakeTimeout: rawTimeout}})
			var de *DisconnectError
			if !errors.As(cerr, &de) || de.Remote || de.Reason != ProtocolVersionNotSupported {
				t.Errorf("Client: %v; want a local DisconnectError with reason %v", cerr, ProtocolVersionNotSupported)
			}
			if v, err := p.readVersion(); err != nil || v != "SSH-2.0-zerossh_1.0" {
				t.Fatalf("client version %q, %v; want SSH-2.0-zerossh_1.0", v, err)
			}
			d, err := p.readDisconnect()
			if err != nil {
				t.Fatalf("reading DISCONNECT: %v", err)
			}
			if d.Reason != ProtocolVersionNotSupported {
				t.Errorf("DISCONNECT reason %v; want %v", d.Reason, ProtocolVersionNotSupported)
			}
		})
	}
}

// TestVersionServerAcceptsSSH199 checks RFC 4253 §5.1: "SSH-1.99-" is a
// client that speaks 2.0. The whole handshake runs and the server keeps the
// line as the client sent it.
func TestVersionServerAcceptsSSH199(t *testing.T) {
	nc1, nc2 := net.Pipe()
	ps := startServer(t, nc2, &ServerConfig{})
	p := newRawPeer(t, nc1)
	if err := (rawClientKex{hello: "SSH-1.99-OpenSSH_x\r\n"}).run(p); err != nil {
		t.Fatalf("raw client: %v", err)
	}
	s, err := ps.wait(t)
	if err != nil {
		t.Fatalf("Server: %v", err)
	}
	if got := s.RemoteVersion(); got != "SSH-1.99-OpenSSH_x" {
		t.Errorf("RemoteVersion %q; want %q", got, "SSH-1.99-OpenSSH_x")
	}
}

// TestVersionServerRefusesLineBeforeVersion checks that a server takes no
// other line before the client's version line (RFC 4253 §4.2 lets only
// the server send such lines).
func TestVersionServerRefusesLineBeforeVersion(t *testing.T) {
	nc1, nc2 := net.Pipe()
	ps := startServer(t, nc2, &ServerConfig{})
	p := newRawPeer(t, nc1)
	if err := p.write([]byte("hello there\r\nSSH-2.0-x\r\n")); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatal(err)
	}
	if _, err := ps.wait(t); !errors.Is(err, errNotSSH) {
		t.Errorf("Server: %v; want %v", err, errNotSSH)
	}
}

// TestVersionClientSkipsLinesBeforeVersion checks that a client skips the
// lines a server sends before its version line, up to 1024 of them as
// OpenSSH does, and refuses more.
func TestVersionClientSkipsLinesBeforeVersion(t *testing.T) {
	for _, tc := range []struct {
		lines int
		ok    bool
	}{{3, true}, {1024, true}, {1025, false}, {5000, false}} {
		t.Run(strconv.Itoa(tc.lines), func(t *testing.T) {
			m := &mitmProxy{version: func(d proxyDir, line []byte) []byte {
				if d != toClient {
					return line
				}
				var b []byte
				for i := range tc.lines {
					b = append(b, "banner line "+strconv.Itoa(i)+"\r\n"...)
				}
				return append(b, line...)
			}}
			c, cerr, s, _ := proxiedHandshake(t, m, &ClientConfig{}, &ServerConfig{})
			if !tc.ok {
				if !errors.Is(cerr, errTooManyPreLines) {
					t.Errorf("Client: %v; want %v", cerr, errTooManyPreLines)
				}
				return
			}
			if cerr != nil {
				t.Fatalf("Client: %v", cerr)
			}
			if s == nil {
				t.Fatal("Server failed")
			}
			if got, want := c.RemoteVersion(), s.LocalVersion(); got != want {
				t.Errorf("client RemoteVersion %q; want %q", got, want)
			}
		})
	}
}

// versionLineOf returns "SSH-2.0-" followed by enough 'v' bytes that the
// line and its ending are n bytes long.
func versionLineOf(n int, ending string) string {
	prefix := "SSH-2.0-"
	return prefix + strings.Repeat("v", n-len(prefix)-len(ending)) + ending
}

// TestVersionLineLength checks RFC 4253 §4.2: "The maximum length of the
// string is 255 characters, including the Carriage Return and Line Feed."
func TestVersionLineLength(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hello string
		ok    bool
	}{
		{"255 with CR LF", versionLineOf(255, "\r\n"), true},
		{"256 with CR LF", versionLineOf(256, "\r\n"), false},
		{"256 with LF", versionLineOf(256, "\n"), false},
		{"4096 with CR LF", versionLineOf(4096, "\r\n"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc1, nc2 := net.Pipe()
			ps := startServer(t, nc2, &ServerConfig{})
			p := newRawPeer(t, nc1)
			if tc.ok {
				if err := (rawClientKex{hello: tc.hello}).run(p); err != nil {
					t.Fatalf("raw client: %v", err)
				}
				s, err := ps.wait(t)
				if err != nil {
					t.Fatalf("Server: %v", err)
				}
				if want := strings.TrimSuffix(tc.hello, "\r\n"); s.RemoteVersion() != want {
					t.Errorf("RemoteVersion %q; want %q", s.RemoteVersion(), want)
				}
				return
			}
			p.write([]byte(tc.hello)) // the server may stop reading part way
			if _, err := ps.wait(t); !errors.Is(err, errVersionTooLong) {
				t.Errorf("Server: %v; want %v", err, errVersionTooLong)
			}
		})
	}
}

// TestVersionRefusesNUL checks that a NUL byte in the version exchange
// ends it, on either side.
func TestVersionRefusesNUL(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, &ServerConfig{})
		p := newRawPeer(t, nc1)
		p.write([]byte("SSH-2.0-x\x00y\r\n"))
		if _, err := ps.wait(t); !errors.Is(err, errVersionNUL) {
			t.Errorf("Server: %v; want %v", err, errVersionNUL)
		}
	})
	t.Run("client before version", func(t *testing.T) {
		m := &mitmProxy{version: func(d proxyDir, line []byte) []byte {
			if d == toClient {
				return append([]byte("banner\x00\r\n"), line...)
			}
			return line
		}}
		_, cerr, _, _ := proxiedHandshake(t, m, &ClientConfig{}, &ServerConfig{})
		if !errors.Is(cerr, errVersionNUL) {
			t.Errorf("Client: %v; want %v", cerr, errVersionNUL)
		}
	})
}

// TestVersionAcceptsBareLF checks that a version line ending in LF alone
// is taken, as OpenSSH takes it, and kept without the LF.
func TestVersionAcceptsBareLF(t *testing.T) {
	nc1, nc2 := net.Pipe()
	ps := startServer(t, nc2, &ServerConfig{})
	p := newRawPeer(t, nc1)
	if err := (rawClientKex{hello: "SSH-2.0-bare\n"}).run(p); err != nil {
		t.Fatalf("raw client: %v", err)
	}
	s, err := ps.wait(t)
	if err != nil {
		t.Fatalf("Server: %v", err)
	}
	if got := s.RemoteVersion(); got != "SSH-2.0-bare" {
		t.Errorf("RemoteVersion %q; want %q", got, "SSH-2.0-bare")
	}
}

// TestVersionRefusesMalformedLine checks version lines that name SSH 2.0
// but break RFC 4253 §4.2's "SSH-protoversion-softwareversion SP
// comments": no software version, or characters outside printable
// US-ASCII.
func TestVersionRefusesMalformedLine(t *testing.T) {
	for _, line := range []string{
		"SSH-2.0-",
		"SSH-2.0- comment",
		"SSH-2.0",
		"SSH-",
		"SSH-2.0-x\x01y",
		"SSH-2.0-x\ry",
		"SSH-2.0-caf\xc3\xa9",
	} {
		t.Run(strings.ToValidUTF8(line, "?"), func(t *testing.T) {
			nc1, nc2 := net.Pipe()
			ps := startServer(t, nc2, &ServerConfig{})
			p := newRawPeer(t, nc1)
			p.writeVersion(line)
			_, err := ps.wait(t)
			if !errors.Is(err, errVersionMalformed) {
				t.Errorf("Server: %v; want %v", err, errVersionMalformed)
			}
		})
	}
}

// TestVersionEOFMidLine checks that a connection closed part way through
// a version line ends the handshake at once with an error, on either side.
func TestVersionEOFMidLine(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, &ServerConfig{})
		p := newRawPeer(t, nc1)
		if err := p.write([]byte("SSH-2.0-abc")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		nc1.Close()
		_, err := ps.wait(t)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Server: %v; want %v", err, io.ErrUnexpectedEOF)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Server took %v to notice EOF", d)
		}
	})
	t.Run("client", func(t *testing.T) {
		nc1, nc2 := net.Pipe()
		p := newRawPeer(t, nc2)
		done := make(chan error, 1)
		go func() {
			_, err := Client(nc1, "pipe", &ClientConfig{HostKeyCallback: ssh.InsecureIgnoreHostKey(), Config: Config{HandshakeTimeout: rawTimeout}})
			done <- err
		}()
		if err := p.write([]byte("banner\r\nSSH-2.0-ab")); err != nil {
			t.Fatal(err)
		}
		nc2.Close()
		select {
		case err := <-done:
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Client: %v; want %v", err, io.ErrUnexpectedEOF)
			}
		case <-time.After(2 * rawTimeout):
			t.Fatal("Client did not return")
		}
	})
}

// TestVersionLocalVersion checks that the version line sent is
// "SSH-2.0-<SoftwareVersion>[ <Comment>]" and that the peer reads it so.
func TestVersionLocalVersion(t *testing.T) {
	cc := &ClientConfig{}
	cc.SoftwareVersion = "TestClient_1.2"
	cc.Comment = "a comment here"
	sc := &ServerConfig{}
	sc.SoftwareVersion = "TestServer_3.4"
	nc1, nc2 := net.Pipe()
	c, s := pair(t, nc1, nc2, cc, sc)
	for _, tc := range []struct{ what, got, want string }{
		{"client LocalVersion", c.LocalVersion(), "SSH-2.0-TestClient_1.2 a comment here"},
		{"server RemoteVersion", s.RemoteVersion(), "SSH-2.0-TestClient_1.2 a comment here"},
		{"server LocalVersion", s.LocalVersion(), "SSH-2.0-TestServer_3.4"},
		{"client RemoteVersion", c.RemoteVersion(), "SSH-2.0-TestServer_3.4"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s %q; want %q", tc.what, tc.got, tc.want)
		}
	}

	nc3, nc4 := net.Pipe()
	c2, _ := pair(t, nc3, nc4, &ClientConfig{}, &ServerConfig{})
	if got, want := c2.LocalVersion(), "SSH-2.0-zerossh_1.0"; got != want {
		t.Errorf("default LocalVersion %q; want %q", got, want)
	}
}
