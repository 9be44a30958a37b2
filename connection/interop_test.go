package connection

// Live interop with golang.org/x/crypto/ssh: its client against our
// server stack, our client stack against its server. The stacks here
// (transport, user authentication, connection protocol) serve the
// OpenSSH tests too.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/userauth"
)

const (
	testUser     = "alice"
	testPassword = "correct horse battery staple"
)

func newEd25519Signer(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serverStack is our whole server on a TCP listener on 127.0.0.1: the
// transport, user authentication, then Serve.
type serverStack struct {
	Addr    string
	Port    int
	HostKey ssh.Signer

	mu      sync.Mutex
	results []*userauth.Result
	errs    []error
	algs    zerossh.Algorithms // of the last connection
}

// startServerStack listens on 127.0.0.1 and serves every connection
// with auth and opts until the test ends; the cleanup closes the
// listener and every connection, waits for them, and fails the test if
// one of them ended with an error other than a reset.
func startServerStack(t testing.TB, auth *userauth.ServerConfig, opts *ServerOptions) *serverStack {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &serverStack{Addr: l.Addr().String(), Port: l.Addr().(*net.TCPAddr).Port, HostKey: newEd25519Signer(t)}
	var wg sync.WaitGroup
	var connsMu sync.Mutex
	conns := map[net.Conn]bool{}
	stopped := false
	wg.Go(func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			if stopped {
				connsMu.Unlock()
				nc.Close()
				return
			}
			conns[nc] = true
			connsMu.Unlock()
			wg.Go(func() {
				defer func() {
					connsMu.Lock()
					delete(conns, nc)
					connsMu.Unlock()
					nc.Close()
				}()
				s.serve(nc, auth, opts)
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		connsMu.Lock()
		stopped = true
		for nc := range conns {
			nc.Close()
		}
		connsMu.Unlock()
		wg.Wait()
		for _, err := range s.Errors() {
			// A client gone before it read our last packet resets the
			// connection, and its DISCONNECT may be lost with it.
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("server connection: %v", err)
			}
		}
	})
	return s
}

func (s *serverStack) serve(nc net.Conn, auth *userauth.ServerConfig, opts *ServerOptions) {
	record := func(res *userauth.Result, err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if res != nil {
			s.results = append(s.results, res)
		}
		if err != nil {
			s.errs = append(s.errs, err)
		}
	}
	t, err := zerossh.Server(nc, &zerossh.ServerConfig{HostKeys: []ssh.Signer{s.HostKey}, Services: []string{"ssh-userauth"}})
	if err != nil {
		record(nil, err)
		return
	}
	s.mu.Lock()
	s.algs = t.Algorithms()
	s.mu.Unlock()
	res, err := userauth.Serve(t, auth)
	if err != nil {
		record(nil, err)
		return
	}
	record(res, nil)
	c := New(t, nil)
	defer c.Close()
	record(nil, Serve(c, opts))
}

// Results returns the successful authentications so far.
func (s *serverStack) Results() []*userauth.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*userauth.Result(nil), s.results...)
}

// Cipher returns the cipher the last connection negotiated, server to
// client.
func (s *serverStack) Cipher() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.algs.Write.Cipher
}

// Errors returns the errors of connections that failed so far.
func (s *serverStack) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// dialStack connects our client stack to addr and authenticates; the
// cleanup closes it.
func dialStack(t testing.TB, addr string, tcfg *zerossh.ClientConfig, auth *userauth.ClientConfig, cfg *Config) *Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := zerossh.Client(nc, addr, tcfg)
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	if err := userauth.Authenticate(tc, auth); err != nil {
		tc.Close()
		t.Fatalf("authentication with %s: %v", addr, err)
	}
	c := New(tc, cfg)
	watchdog := time.AfterFunc(testTimeout*2, func() {
		t.Errorf("timed out after %v", testTimeout*2)
		c.Close()
	})
	t.Cleanup(func() {
		watchdog.Stop()
		c.Close()
	})
	return c
}

func passwordAuth() *userauth.ServerConfig {
	return &userauth.ServerConfig{PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if m.User() == testUser && string(pw) == testPassword {
			return nil, nil
		}
		return nil, errors.New("wrong password")
	}}
}

// xcryptoDial connects x/crypto's client to addr.
func xcryptoDial(t testing.TB, addr string, cfg *ssh.ClientConfig) *ssh.Client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(testTimeout*2, func() {
		t.Errorf("timed out after %v", testTimeout*2)
		nc.Close()
	})
	cc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		watchdog.Stop()
		nc.Close()
		t.Fatal(err)
	}
	client := ssh.NewClient(cc, chans, reqs)
	t.Cleanup(func() {
		watchdog.Stop()
		client.Close()
	})
	return client
}

func TestXCryptoSSHClientExec(t *testing.T) {
	srv := startServerStack(t, passwordAuth(), &ServerOptions{Exec: echoHandler})
	client := xcryptoDial(t, srv.Addr, &ssh.ClientConfig{
		User:            testUser,
		Auth:            []ssh.AuthMethod{ssh.Password(testPassword)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey.PublicKey()),
	})

	// Run: stdin echoed, stderr, exit status 3.
	s, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = strings.NewReader("hello\n"), &stdout, &stderr
	err = s.Run("echo")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Fatalf("Run = %v; want *ssh.ExitError with status 3", err)
	}
	if stdout.String() != "hello\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q; want %q, %q", stdout.String(), stderr.String(), "hello\n", "err\n")
	}
	s.Close()

	// Output, with no stdin at all.
	s, err = client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.Output("echo"); !errors.As(err, &ee) || len(out) != 0 {
		t.Errorf("Output = %q, %v; want nothing and exit status 3", out, err)
	}
	s.Close()

	// StdinPipe, StdoutPipe.
	s, err = client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Start("echo"); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "piped")
	in.Close()
	if got, err := io.ReadAll(out); err != nil || string(got) != "piped" {
		t.Errorf("read %q, %v; want %q", got, err, "piped")
	}
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Errorf("Wait = %v; want exit status 3", err)
	}
	s.Close()

	// 64 MiB echoed.
	s, err = client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sent, got := sha256.New(), sha256.New()
	counted := &countingWriter{w: got}
	s.Stdin, s.Stdout = &patternReader{n: transferSize, sum: sent}, counted
	start := time.Now()
	if err := s.Run("echo"); !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Fatalf("Run = %v; want exit status 3", err)
	}
	logThroughput(t, "x/crypto/ssh client, zerossh server, exec echo, "+srv.Cipher(), transferSize, time.Since(start))
	if counted.n != transferSize || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("echoed %d bytes, hashes equal %v; want %d equal bytes", counted.n, bytes.Equal(got.Sum(nil), sent.Sum(nil)), transferSize)
	}
}

// xcryptoServer runs x/crypto's server on a listener on 127.0.0.1: each
// "session" channel's "exec" echoes stdin, writes "err\n" to stderr and
// exits with status 3.
func xcryptoServer(t testing.TB, cfg *ssh.ServerConfig) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Go(func() {
				defer nc.Close()
				sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
				if err != nil {
					t.Errorf("x/crypto server handshake: %v", err)
					return
				}
				defer sc.Close()
				wg.Go(func() { ssh.DiscardRequests(reqs) })
				for newCh := range chans {
					if newCh.ChannelType() != "session" {
						newCh.Reject(ssh.UnknownChannelType, "only sessions")
						continue
					}
					ch, chReqs, err := newCh.Accept()
					if err != nil {
						continue
					}
					wg.Go(func() { xcryptoSession(ch, chReqs) })
				}
			})
		}
	})
	return l.Addr().String()
}

func xcryptoSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		io.Copy(ch, ch)
		io.WriteString(ch.Stderr(), "err\n")
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{3}))
		ch.CloseWrite()
		return
	}
}

func TestXCryptoSSHServerExec(t *testing.T) {
	hostKey := newEd25519Signer(t)
	userKey := newEd25519Signer(t)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(m ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if m.User() == testUser && bytes.Equal(key.Marshal(), userKey.PublicKey().Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostKey)
	addr := xcryptoServer(t, cfg)
	c := dialStack(t, addr,
		&zerossh.ClientConfig{HostKeyCallback: ssh.FixedHostKey(hostKey.PublicKey())},
		&userauth.ClientConfig{User: testUser, Methods: []userauth.Method{userauth.PublicKeys(userKey)}}, nil)

	s := newSession(t, c)
	var stdout, stderr bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = strings.NewReader("hello\n"), &stdout, &stderr
	wantExit(t, s.Run("echo"), 3, "")
	if stdout.String() != "hello\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q; want %q, %q", stdout.String(), stderr.String(), "hello\n", "err\n")
	}

	out, err := newSession(t, c).CombinedOutput("echo")
	wantExit(t, err, 3, "")
	if string(out) != "err\n" {
		t.Errorf("CombinedOutput = %q; want %q", out, "err\n")
	}

	s = newSession(t, c)
	if err := s.Shell(); err == nil {
		t.Error("shell accepted by a server that refuses it")
	}

	s = newSession(t, c)
	sent, got := sha256.New(), sha256.New()
	counted := &countingWriter{w: got}
	s.Stdin, s.Stdout = &patternReader{n: transferSize, sum: sent}, counted
	start := time.Now()
	wantExit(t, s.Run("echo"), 3, "")
	logThroughput(t, "zerossh client, x/crypto/ssh server, exec echo, "+c.Transport().Algorithms().Write.Cipher, transferSize, time.Since(start))
	if counted.n != transferSize || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("echoed %d bytes, hashes equal %v; want %d equal bytes", counted.n, bytes.Equal(got.Sum(nil), sent.Sum(nil)), transferSize)
	}
}
