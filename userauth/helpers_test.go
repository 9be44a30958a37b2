package userauth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
)

// testTimeout bounds every wait on a peer.
const testTimeout = 10 * time.Second

const (
	testUser     = "alice"
	testPassword = "correct horse battery staple"
)

// Keys are made once: RSA generation is slow.
var (
	hostKey    = sync.OnceValue(func() ssh.Signer { return newSigner(ed25519Key()) })
	userEd     = sync.OnceValue(func() ssh.Signer { return newSigner(ed25519Key()) })
	otherEd    = sync.OnceValue(func() ssh.Signer { return newSigner(ed25519Key()) })
	caKey      = sync.OnceValue(func() ssh.Signer { return newSigner(ed25519Key()) })
	userECDSA  = sync.OnceValue(func() ssh.Signer { return newSigner(ecdsaKey()) })
	userRSA    = sync.OnceValue(func() ssh.Signer { return newSigner(rsaKey()) })
	rsaKeyOnce = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func ed25519Key() ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func ecdsaKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func rsaKey() *rsa.PrivateKey { return rsaKeyOnce() }

func newSigner(k any) ssh.Signer {
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		panic(err)
	}
	return s
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic("bad hex literal: " + err.Error())
	}
	return b
}

// checkGoroutines fails the test if goroutines started during it are
// still running once its other cleanups have run. Call it first, so that
// its cleanup runs last.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines before the test, %d after:\n%s", before, n, buf)
		}
	})
}

// tcpPair returns both ends of a TCP loopback connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		ch <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-ch
	if s == nil {
		c.Close()
		t.Fatal("accept failed")
	}
	return c, s
}

// netPair returns a loopback TCP connection, or net.Pipe when pipe is
// set.
func netPair(t *testing.T, pipe bool) (client, server net.Conn) {
	if pipe {
		return net.Pipe()
	}
	return tcpPair(t)
}

// transports runs the handshake of our transport on both ends. Either
// configuration may be nil.
func transports(t *testing.T, nc1, nc2 net.Conn, cc *zerossh.ClientConfig, sc *zerossh.ServerConfig) (client, server *zerossh.Conn) {
	t.Helper()
	if cc == nil {
		cc = &zerossh.ClientConfig{}
	}
	if sc == nil {
		sc = &zerossh.ServerConfig{}
	}
	if cc.HostKeyCallback == nil {
		cc.HostKeyCallback = ssh.FixedHostKey(hostKey().PublicKey())
	}
	if sc.HostKeys == nil {
		sc.HostKeys = []ssh.Signer{hostKey()}
	}
	if sc.Services == nil {
		sc.Services = []string{"ssh-userauth"}
	}
	type result struct {
		c   *zerossh.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := zerossh.Server(nc2, sc)
		ch <- result{s, err}
	}()
	c, err := zerossh.Client(nc1, "pipe:22", cc)
	r := <-ch
	if err != nil || r.err != nil {
		t.Fatalf("handshake: client %v, server %v", err, r.err)
	}
	t.Cleanup(func() { c.Close(); r.c.Close() })
	return c, r.c
}

// session is our client and our server on one connection, with Serve
// running.
type session struct {
	client, server *zerossh.Conn
	serveCh        chan serveResult
	// Filled in by authenticate.
	res    *Result
	srvErr error
	cliErr error
}

type serveResult struct {
	res *Result
	err error
}

// startSession connects our transports and starts Serve.
func startSession(t *testing.T, pipe bool, tcc *zerossh.ClientConfig, tsc *zerossh.ServerConfig, sc *ServerConfig) *session {
	t.Helper()
	nc1, nc2 := netPair(t, pipe)
	c, s := transports(t, nc1, nc2, tcc, tsc)
	ss := &session{client: c, server: s, serveCh: make(chan serveResult, 1)}
	go func() {
		res, err := Serve(s, sc)
		ss.serveCh <- serveResult{res, err}
	}()
	return ss
}

// auth runs Authenticate as testUser unless cc names a user.
func (s *session) auth(cc *ClientConfig) error {
	if cc.User == "" {
		cc.User = testUser
	}
	return Authenticate(s.client, cc)
}

// serve waits for Serve to return.
func (s *session) serve(t *testing.T) (*Result, error) {
	t.Helper()
	r := wait(t, s.serveCh, "Serve")
	return r.res, r.err
}

// authenticate runs our client against our server over TCP loopback.
func authenticate(t *testing.T, sc *ServerConfig, cc *ClientConfig) *session {
	t.Helper()
	return authenticateOver(t, false, nil, nil, sc, cc)
}

// authenticateOver runs Authenticate, closes the client if it gave up,
// and waits for Serve.
func authenticateOver(t *testing.T, pipe bool, tcc *zerossh.ClientConfig, tsc *zerossh.ServerConfig, sc *ServerConfig, cc *ClientConfig) *session {
	t.Helper()
	s := startSession(t, pipe, tcc, tsc, sc)
	s.cliErr = s.auth(cc)
	var ae *AuthError
	if errors.As(s.cliErr, &ae) {
		s.client.Close()
	}
	s.res, s.srvErr = s.serve(t)
	return s
}

// wait receives from ch, failing the test after testTimeout.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("%s: timed out after %v", what, testTimeout)
		panic("unreachable")
	}
}

// mustSucceed fails the test unless both sides report success.
func (s *session) mustSucceed(t *testing.T, method string) {
	t.Helper()
	if s.cliErr != nil || s.srvErr != nil {
		t.Fatalf("Authenticate: %v; Serve: %v", s.cliErr, s.srvErr)
	}
	if s.res.User != testUser || s.res.Method != method {
		t.Fatalf("Result = %+v; want user %q, method %q", s.res, testUser, method)
	}
	if !s.client.Authenticated() || !s.server.Authenticated() {
		t.Fatalf("Authenticated(): client %v, server %v; want true", s.client.Authenticated(), s.server.Authenticated())
	}
}

// wantDisconnect checks that err is a *zerossh.DisconnectError with the
// given reason and origin.
func wantDisconnect(t *testing.T, err error, reason zerossh.DisconnectReason, remote bool) {
	t.Helper()
	var de *zerossh.DisconnectError
	if !errors.As(err, &de) || de.Reason != reason || de.Remote != remote {
		t.Fatalf("error %v; want a DisconnectError with reason %v (%d), remote %v", err, reason, reason, remote)
	}
}

// recordingSigner records the algorithms it is asked to sign with.
type recordingSigner struct {
	ssh.AlgorithmSigner
	mu   sync.Mutex
	algs []string
}

func newRecordingSigner(s ssh.Signer) *recordingSigner {
	return &recordingSigner{AlgorithmSigner: s.(ssh.AlgorithmSigner)}
}

func (r *recordingSigner) SignWithAlgorithm(rand io.Reader, data []byte, alg string) (*ssh.Signature, error) {
	r.mu.Lock()
	r.algs = append(r.algs, alg)
	r.mu.Unlock()
	return r.AlgorithmSigner.SignWithAlgorithm(rand, data, alg)
}

func (r *recordingSigner) used() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.algs...)
}

// acceptKeys returns a PublicKeyCallback that accepts the user with any
// of keys.
func acceptKeys(keys ...ssh.PublicKey) func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
	return func(m ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if m.User() != testUser {
			return nil, errors.New("unknown user")
		}
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return &ssh.Permissions{Extensions: map[string]string{"key": ssh.FingerprintSHA256(key)}}, nil
			}
		}
		return nil, errors.New("unknown key")
	}
}

// checkPassword is a PasswordCallback accepting testUser with
// testPassword.
func checkPassword(m ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	if m.User() != testUser || string(password) != testPassword {
		return nil, errors.New("wrong user or password")
	}
	return &ssh.Permissions{Extensions: map[string]string{"via": "password"}}, nil
}

// userCert returns a user certificate for testUser's ed25519 key signed
// by caKey, and a signer presenting it.
func userCert(t *testing.T, critical map[string]string) ssh.Signer {
	t.Helper()
	cert := &ssh.Certificate{
		Key:             userEd().PublicKey(),
		CertType:        ssh.UserCert,
		KeyId:           "alice@test",
		ValidPrincipals: []string{testUser},
		ValidBefore:     ssh.CertTimeInfinity,
		Permissions: ssh.Permissions{
			CriticalOptions: critical,
			Extensions:      map[string]string{"permit-pty": ""},
		},
	}
	if err := cert.SignCert(rand.Reader, caKey()); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(cert, userEd())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// certChecker trusts caKey for user certificates.
func certChecker() *ssh.CertChecker {
	return &ssh.CertChecker{
		IsUserAuthority: func(auth ssh.PublicKey) bool {
			return bytes.Equal(auth.Marshal(), caKey().PublicKey().Marshal())
		},
	}
}

// sameValue reports whether a and b hold the same message, treating a
// nil slice and an empty one as equal, since the wire cannot tell them
// apart.
func sameValue(a, b any) bool { return sameReflect(reflect.ValueOf(a), reflect.ValueOf(b)) }

func sameReflect(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Equal(a.Bytes(), b.Bytes())
		}
		fallthrough
	case reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameReflect(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameReflect(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameReflect(a.Elem(), b.Elem())
	default:
		return a.Equal(b)
	}
}
