package userauth

// The test speaks for one side, straight on the transport, to send what
// our own client or server never would.

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/wire"
)

// rawClient starts Serve and requests the service on the client side,
// which the test then drives by hand. The server gives up after 5 s, so
// that a wrong expectation fails rather than hangs.
func rawClient(t *testing.T, tcc *zerossh.ClientConfig, sc *ServerConfig) *session {
	t.Helper()
	if sc.Timeout == 0 {
		sc.Timeout = 5 * time.Second
	}
	s := startSession(t, false, tcc, nil, sc)
	if err := s.client.RequestService("ssh-userauth"); err != nil {
		t.Fatalf("RequestService: %v", err)
	}
	return s
}

// write sends a message on c.
func write(t *testing.T, c *zerossh.Conn, msg []byte) {
	t.Helper()
	if err := c.WritePacket(msg); err != nil {
		t.Fatalf("WritePacket: %v", err)
	}
}

// read returns a copy of the next message on c.
func read(t *testing.T, c *zerossh.Conn) []byte {
	t.Helper()
	p, err := c.ReadPacket()
	if err != nil {
		t.Fatalf("ReadPacket: %v", err)
	}
	return bytes.Clone(p)
}

// request encodes a USERAUTH_REQUEST from testUser.
func request(method string, data []byte) []byte {
	m := Request{User: []byte(testUser), Service: []byte(defaultService), Method: []byte(method), MethodData: data}
	return m.Append(nil)
}

// wantFailure reads a message and checks it is FAILURE with the methods
// given.
func wantFailure(t *testing.T, c *zerossh.Conn, methods string) {
	t.Helper()
	p := read(t, c)
	var f Failure
	if err := f.Parse(p); err != nil || string(f.Methods) != methods || f.PartialSuccess {
		t.Fatalf("got %x; want USERAUTH_FAILURE listing %q", p, methods)
	}
}

func wantSuccess(t *testing.T, c *zerossh.Conn) {
	t.Helper()
	if p := read(t, c); !bytes.Equal(p, []byte{wire.MsgUserauthSuccess}) {
		t.Fatalf("got %x; want USERAUTH_SUCCESS", p)
	}
}

// wantDisconnected reads until the connection ends and checks why.
func wantDisconnected(t *testing.T, c *zerossh.Conn, reason zerossh.DisconnectReason) {
	t.Helper()
	for {
		_, err := c.ReadPacket()
		if err != nil {
			wantDisconnect(t, err, reason, true)
			return
		}
	}
}

// signedRequest builds a signed publickey request. The signed data is laid
// out here with x/crypto/ssh's Marshal, independently of the package.
func signedRequest(t *testing.T, signer ssh.Signer, sessionID []byte, method, alg, sigAlg string, hostKey []byte) []byte {
	t.Helper()
	blob := signer.PublicKey().Marshal()
	data := ssh.Marshal(struct {
		Session []byte
		Type    byte
		User    string
		Service string
		Method  string
		Sign    bool
		Alg     string
		Key     []byte
	}{sessionID, wire.MsgUserauthRequest, testUser, defaultService, method, true, alg, blob})
	hostbound := method == MethodPublicKeyHostbound
	if hostbound {
		data = append(data, ssh.Marshal(struct{ Host []byte }{hostKey})...)
	}
	sig, err := signer.(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, data, sigAlg)
	if err != nil {
		t.Fatal(err)
	}
	pk := PublicKeyRequest{Hostbound: hostbound, HasSignature: true, Algorithm: []byte(alg), PublicKey: blob,
		HostKey: hostKey, Signature: ssh.Marshal(sig)}
	return request(method, pk.Append(nil))
}

func TestServerTimeout(t *testing.T) {
	checkGoroutines(t)
	s := rawClient(t, nil, &ServerConfig{PasswordCallback: checkPassword, Timeout: 200 * time.Millisecond})
	start := time.Now()
	wantDisconnected(t, s.client, zerossh.ByApplication)
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("disconnected after %v; want about 200ms", d)
	}
	_, err := s.serve(t)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("Serve = %v; want ErrTimeout", err)
	}
	wantDisconnect(t, err, zerossh.ByApplication, false)
}

// TestServerTimeoutDuringKeyboardInteractive: the timeout also ends an
// exchange waiting for answers.
func TestServerTimeoutDuringKeyboardInteractive(t *testing.T) {
	checkGoroutines(t)
	s := rawClient(t, nil, &ServerConfig{
		Timeout: 200 * time.Millisecond,
		KeyboardInteractiveCallback: func(m ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			_, err := client("", "", []string{"?"}, []bool{true})
			return nil, err
		},
	})
	var kbd KeyboardInteractiveRequest
	write(t, s.client, request(MethodKeyboardInteractive, kbd.Append(nil)))
	if p := read(t, s.client); p[0] != MsgUserauthInfoRequest {
		t.Fatalf("got %x; want INFO_REQUEST", p)
	}
	wantDisconnected(t, s.client, zerossh.ByApplication)
	if _, err := s.serve(t); !errors.Is(err, ErrTimeout) {
		t.Errorf("Serve = %v; want ErrTimeout", err)
	}
}

func TestServerUnknownMethod(t *testing.T) {
	checkGoroutines(t)
	s := rawClient(t, nil, &ServerConfig{PasswordCallback: checkPassword, PublicKeyCallback: acceptKeys(userEd().PublicKey())})
	write(t, s.client, request("hostbased", []byte("whatever")))
	wantFailure(t, s.client, "publickey,password")
	write(t, s.client, request(MethodNone, nil))
	wantFailure(t, s.client, "publickey,password")
	s.client.Close()
	s.serve(t)
}

// TestServerSignatureBinding checks what a signature must cover: the
// session identifier, the algorithm named, the host key of a host-bound
// request. Each wrong request gets FAILURE; the right one SUCCESS.
func TestServerSignatureBinding(t *testing.T) {
	ed, rsaKey := userEd(), userRSA()
	wrongSession := make([]byte, 32)
	rand.Read(wrongSession)
	otherHost := otherEd().PublicKey().Marshal()
	tests := []struct {
		name string
		// build returns the request, given the session identifier and the
		// host key.
		build func(t *testing.T, sid, host []byte) []byte
		algs  []string // ServerConfig.PublicKeyAlgorithms
		ok    bool
	}{
		{"ed25519", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, ed, sid, MethodPublicKey, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519, nil)
		}, nil, true},
		{"wrong-session-id", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, ed, wrongSession, MethodPublicKey, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519, nil)
		}, nil, false},
		{"hostbound", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, ed, sid, MethodPublicKeyHostbound, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519, host)
		}, nil, true},
		{"hostbound-other-host", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, ed, sid, MethodPublicKeyHostbound, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519, otherHost)
		}, nil, false},
		{"hostbound-signed-as-publickey", func(t *testing.T, sid, host []byte) []byte {
			// A signature over the plain layout sent as host-bound.
			plain := signedRequest(t, ed, sid, MethodPublicKey, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519, nil)
			var r Request
			var pk PublicKeyRequest
			r.Parse(plain)
			pk.Parse(r.MethodData, false)
			pk.Hostbound, pk.HostKey = true, host
			return request(MethodPublicKeyHostbound, pk.Append(nil))
		}, nil, false},
		{"rsa-sha2-512", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, rsaKey, sid, MethodPublicKey, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA512, nil)
		}, nil, true},
		{"ssh-rsa", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, rsaKey, sid, MethodPublicKey, ssh.KeyAlgoRSA, ssh.KeyAlgoRSA, nil)
		}, nil, false},
		{"ssh-rsa-allowed", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, rsaKey, sid, MethodPublicKey, ssh.KeyAlgoRSA, ssh.KeyAlgoRSA, nil)
		}, []string{ssh.KeyAlgoRSA}, true},
		{"sha1-signature-named-rsa-sha2-512", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, rsaKey, sid, MethodPublicKey, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSA, nil)
		}, []string{ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA512}, false},
		{"rsa-sha2-256-named-rsa-sha2-512", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, rsaKey, sid, MethodPublicKey, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, nil)
		}, nil, false},
		{"ed25519-key-named-ecdsa", func(t *testing.T, sid, host []byte) []byte {
			return signedRequest(t, ed, sid, MethodPublicKey, ssh.KeyAlgoECDSA256, ssh.KeyAlgoED25519, nil)
		}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := rawClient(t, nil, &ServerConfig{
				PublicKeyCallback:   acceptKeys(ed.PublicKey(), rsaKey.PublicKey()),
				PublicKeyAlgorithms: tt.algs,
			})
			write(t, s.client, tt.build(t, s.client.SessionID(), s.client.HostKey()))
			if !tt.ok {
				wantFailure(t, s.client, "publickey")
				s.client.Close()
				if _, err := s.serve(t); err == nil {
					t.Errorf("Serve succeeded")
				}
				return
			}
			wantSuccess(t, s.client)
			res, err := s.serve(t)
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			var r Request
			r.Parse(tt.build(t, nil, nil))
			if res.Method != string(r.Method) {
				t.Errorf("Result.Method = %q; want %q", res.Method, r.Method)
			}
		})
	}
}

// TestServerQueryDoesNotAuthenticate: PK_OK grants nothing.
func TestServerQueryDoesNotAuthenticate(t *testing.T) {
	checkGoroutines(t)
	s := rawClient(t, nil, &ServerConfig{PublicKeyCallback: acceptKeys(userEd().PublicKey())})
	pub := userEd().PublicKey()
	q := PublicKeyRequest{Algorithm: []byte(pub.Type()), PublicKey: pub.Marshal()}
	write(t, s.client, request(MethodPublicKey, q.Append(nil)))
	p := read(t, s.client)
	var ok PKOK
	if ok.Parse(p) != nil || string(ok.Algorithm) != pub.Type() || !bytes.Equal(ok.PublicKey, pub.Marshal()) {
		t.Fatalf("got %x; want PK_OK echoing the query", p)
	}
	write(t, s.client, request(MethodNone, nil))
	wantFailure(t, s.client, "publickey")
	s.client.Close()
	if _, err := s.serve(t); err == nil {
		t.Errorf("Serve succeeded")
	}
}

// TestServerQueryBudget: queries the server accepts do not count as
// failures, but cannot go on for ever either.
func TestServerQueryBudget(t *testing.T) {
	checkGoroutines(t)
	s := rawClient(t, nil, &ServerConfig{PublicKeyCallback: acceptKeys(userEd().PublicKey()), MaxAttempts: 1})
	pub := userEd().PublicKey()
	q := PublicKeyRequest{Algorithm: []byte(pub.Type()), PublicKey: pub.Marshal()}
	for range packetsPerAttempt {
		write(t, s.client, request(MethodPublicKey, q.Append(nil)))
		if p := read(t, s.client); p[0] != MsgUserauthPKOK {
			t.Fatalf("got %x; want PK_OK", p)
		}
	}
	write(t, s.client, request(MethodPublicKey, q.Append(nil)))
	wantDisconnected(t, s.client, zerossh.NoMoreAuthMethodsAvailable)
	s.serve(t)
}

func TestServerKeyboardInteractiveAbandoned(t *testing.T) {
	checkGoroutines(t)
	var callbackErr error
	s := rawClient(t, nil, &ServerConfig{
		PasswordCallback: checkPassword,
		KeyboardInteractiveCallback: func(m ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			_, callbackErr = client("", "", []string{"?"}, []bool{true})
			// Even a callback that ignores the error gets nowhere.
			return nil, nil
		},
	})
	var kbd KeyboardInteractiveRequest
	write(t, s.client, request(MethodKeyboardInteractive, kbd.Append(nil)))
	if p := read(t, s.client); p[0] != MsgUserauthInfoRequest {
		t.Fatalf("got %x; want INFO_REQUEST", p)
	}
	pw := PasswordRequest{Password: []byte(testPassword)}
	write(t, s.client, request(MethodPassword, pw.Append(nil)))
	// No FAILURE for the abandoned method first.
	wantSuccess(t, s.client)
	res, err := s.serve(t)
	if err != nil || res.Method != MethodPassword {
		t.Fatalf("Serve = %+v, %v", res, err)
	}
	if callbackErr == nil {
		t.Errorf("the challenge returned no error for an abandoned exchange")
	}
}

func TestServerInfoResponseCount(t *testing.T) {
	checkGoroutines(t)
	s := rawClient(t, nil, &ServerConfig{
		KeyboardInteractiveCallback: func(m ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			client("", "", []string{"a", "b"}, []bool{true, true})
			return nil, nil // accepts whatever happened
		},
	})
	var kbd KeyboardInteractiveRequest
	write(t, s.client, request(MethodKeyboardInteractive, kbd.Append(nil)))
	read(t, s.client)
	resp := InfoResponse{Responses: [][]byte{[]byte("only one")}}
	write(t, s.client, resp.Append(nil))
	wantFailure(t, s.client, "keyboard-interactive")
	s.client.Close()
	s.serve(t)
}

func TestServerPasswordChangeRefused(t *testing.T) {
	checkGoroutines(t)
	var called atomic.Bool
	s := rawClient(t, nil, &ServerConfig{PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		called.Store(true)
		return nil, nil
	}})
	pw := PasswordRequest{Change: true, Password: []byte("old"), NewPassword: []byte("new")}
	write(t, s.client, request(MethodPassword, pw.Append(nil)))
	wantFailure(t, s.client, "password")
	if called.Load() {
		t.Errorf("PasswordCallback called for a password change")
	}
	s.client.Close()
	s.serve(t)
}

func TestServerProtocolErrors(t *testing.T) {
	tests := []struct {
		name   string
		msgs   [][]byte
		reason zerossh.DisconnectReason
	}{
		{"user-change", [][]byte{request(MethodNone, nil),
			(&Request{User: []byte("bob"), Service: []byte(defaultService), Method: []byte(MethodNone)}).Append(nil)},
			zerossh.ProtocolError},
		{"wrong-service", [][]byte{(&Request{User: []byte(testUser), Service: []byte("ssh-foo"), Method: []byte(MethodNone)}).Append(nil)},
			zerossh.ServiceNotAvailable},
		{"global-request-first", [][]byte{{wire.MsgGlobalRequest, 0, 0, 0, 0, 0}}, zerossh.ProtocolError},
		{"malformed-request", [][]byte{{wire.MsgUserauthRequest, 0, 0}}, zerossh.ProtocolError},
		{"malformed-password", [][]byte{request(MethodPassword, []byte{0, 0, 0})}, zerossh.ProtocolError},
		{"malformed-publickey", [][]byte{request(MethodPublicKey, []byte{0})}, zerossh.ProtocolError},
		{"none-with-data", [][]byte{request(MethodNone, []byte{1})}, zerossh.ProtocolError},
		{"too-many-failures", [][]byte{request(MethodNone, nil), request("x", nil), request("x", nil)},
			zerossh.NoMoreAuthMethodsAvailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := rawClient(t, nil, &ServerConfig{PasswordCallback: checkPassword, PublicKeyCallback: acceptKeys(), MaxAttempts: 2})
			for _, m := range tt.msgs {
				write(t, s.client, m)
			}
			wantDisconnected(t, s.client, tt.reason)
			_, err := s.serve(t)
			wantDisconnect(t, err, tt.reason, false)
		})
	}
}

// TestServerUnimplemented: a userauth message out of place gets
// UNIMPLEMENTED, and authentication goes on.
func TestServerUnimplemented(t *testing.T) {
	checkGoroutines(t)
	got := make(chan uint32, 1)
	tcc := &zerossh.ClientConfig{}
	tcc.OnUnimplemented = func(seq uint32) { got <- seq }
	s := rawClient(t, tcc, &ServerConfig{PasswordCallback: checkPassword})
	write(t, s.client, (&InfoResponse{}).Append(nil))
	wait(t, got, "UNIMPLEMENTED")
	pw := PasswordRequest{Password: []byte(testPassword)}
	write(t, s.client, request(MethodPassword, pw.Append(nil)))
	wantSuccess(t, s.client)
	if _, err := s.serve(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// rawServer connects our transports and runs Authenticate; the test plays
// the server on the returned connection.
func rawServer(t *testing.T, cc *ClientConfig) (server *zerossh.Conn, authErr <-chan error) {
	t.Helper()
	nc1, nc2 := tcpPair(t)
	c, s := transports(t, nc1, nc2, nil, nil)
	ch := make(chan error, 1)
	cc.User = testUser
	go func() { ch <- Authenticate(c, cc) }()
	return s, ch
}

// readRequest reads a USERAUTH_REQUEST and returns its method.
func readRequest(t *testing.T, s *zerossh.Conn) (string, []byte) {
	t.Helper()
	p := read(t, s)
	var r Request
	if err := r.Parse(p); err != nil {
		t.Fatalf("got %x; want USERAUTH_REQUEST", p)
	}
	return string(r.Method), r.MethodData
}

func writeFailure(t *testing.T, s *zerossh.Conn, methods string) {
	t.Helper()
	f := Failure{Methods: wire.NameList(methods)}
	write(t, s, f.Append(nil))
}

func TestClientPasswordChangeRequest(t *testing.T) {
	checkGoroutines(t)
	s, authErr := rawServer(t, &ClientConfig{Methods: []Method{Password(testPassword)}})
	if m, _ := readRequest(t, s); m != MethodNone {
		t.Fatalf("first request %q; want none", m)
	}
	writeFailure(t, s, "password")
	m, data := readRequest(t, s)
	var pw PasswordRequest
	if m != MethodPassword || pw.Parse(data) != nil || string(pw.Password) != testPassword {
		t.Fatalf("request %q %x; want the password", m, data)
	}
	ch := PasswdChangeReq{Prompt: []byte("Password expired")}
	write(t, s, ch.Append(nil))
	err := wait(t, authErr, "Authenticate")
	var ae *AuthError
	if !errors.As(err, &ae) || !errors.Is(err, ErrPasswordChangeRequired) {
		t.Fatalf("Authenticate = %v; want an *AuthError with ErrPasswordChangeRequired", err)
	}
}

func TestClientProtocolErrors(t *testing.T) {
	tests := []struct {
		name  string
		reply func(t *testing.T, s *zerossh.Conn)
	}{
		{"pk-ok-other-key", func(t *testing.T, s *zerossh.Conn) {
			readRequest(t, s) // the query
			ok := PKOK{Algorithm: []byte(ssh.KeyAlgoED25519), PublicKey: otherEd().PublicKey().Marshal()}
			write(t, s, ok.Append(nil))
		}},
		{"success-to-query", func(t *testing.T, s *zerossh.Conn) {
			readRequest(t, s)
			write(t, s, []byte{wire.MsgUserauthSuccess})
		}},
		{"channel-message", func(t *testing.T, s *zerossh.Conn) {
			readRequest(t, s)
			write(t, s, []byte{wire.MsgChannelEOF, 0, 0, 0, 0})
		}},
		{"malformed-failure", func(t *testing.T, s *zerossh.Conn) {
			readRequest(t, s)
			write(t, s, []byte{wire.MsgUserauthFailure, 0})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			// Keys from a callback are queried first, as agents' are.
			keys := func() ([]ssh.Signer, error) { return []ssh.Signer{userEd()}, nil }
			s, authErr := rawServer(t, &ClientConfig{Methods: []Method{PublicKeysCallback(keys)}})
			readRequest(t, s) // none
			writeFailure(t, s, "publickey")
			tt.reply(t, s)
			err := wait(t, authErr, "Authenticate")
			wantDisconnect(t, err, zerossh.ProtocolError, false)
			wantDisconnected(t, s, zerossh.ProtocolError)
		})
	}
}

// TestClientBannerBetweenRequests: banners may come at any time before
// success (RFC 4252 §5.4).
func TestClientBannerBetweenRequests(t *testing.T) {
	checkGoroutines(t)
	var banners []string
	s, authErr := rawServer(t, &ClientConfig{
		Methods:        []Method{Password(testPassword)},
		BannerCallback: func(m string) error { banners = append(banners, m); return nil },
	})
	readRequest(t, s)
	write(t, s, (&Banner{Message: []byte("one")}).Append(nil))
	writeFailure(t, s, "password")
	readRequest(t, s)
	write(t, s, (&Banner{Message: []byte("two")}).Append(nil))
	write(t, s, []byte{wire.MsgUserauthSuccess})
	if err := wait(t, authErr, "Authenticate"); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if !slices.Equal(banners, []string{"one", "two"}) {
		t.Errorf("banners %q; want [one two]", banners)
	}
}
