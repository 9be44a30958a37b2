package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/client"
	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/server"
	"github.com/zerossh/zerossh/userauth"
)

// testServer is a server that accepts userKey and answers any exec with
// "USER ran COMMAND".
func testServer(t *testing.T, hostKey, userKey ssh.Signer) *server.Server {
	t.Helper()
	srv := &server.Server{Logger: discardLogger()}
	srv.Transport.HostKeys = []ssh.Signer{hostKey}
	srv.Auth.PublicKeyCallback = func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) != string(userKey.PublicKey().Marshal()) {
			return nil, errors.New("unknown key")
		}
		return nil, nil
	}
	srv.Handler = func(c *connection.Conn, auth *userauth.Result) {
		connection.Serve(c, &connection.ServerOptions{Exec: func(s *connection.ServerSession) int {
			io.WriteString(s, auth.User+" ran "+s.Command())
			return 0
		}})
	}
	return srv
}

// exec dials addr, authenticates and runs one command.
func exec(ctx context.Context, addr string, hostKey, userKey ssh.Signer) error {
	cfg := &client.Config{Auth: userauth.ClientConfig{User: "alice", Methods: []userauth.Method{userauth.PublicKeys(userKey)}}}
	cfg.Transport.HostKeyCallback = ssh.FixedHostKey(hostKey.PublicKey())
	conn, err := client.Dial(ctx, addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	s, err := conn.NewSession()
	if err != nil {
		return err
	}
	out, err := s.Output("true")
	if err != nil {
		return err
	}
	if string(out) != "alice ran true" {
		return errors.New("got " + string(out))
	}
	return nil
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func listenReusePort(t *testing.T, address string, n int) []net.Listener {
	t.Helper()
	ls, err := server.ListenReusePort(context.Background(), "tcp", address, n)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func TestListenReusePortSharesPort(t *testing.T) {
	ls := listenReusePort(t, "127.0.0.1:0", 4)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	if len(ls) != 4 {
		t.Fatalf("got %d listeners; want 4", len(ls))
	}
	for _, l := range ls[1:] {
		if l.Addr().String() != ls[0].Addr().String() {
			t.Fatalf("listeners on %v and %v; want one port", ls[0].Addr(), l.Addr())
		}
	}
	if ls[0].Addr().(*net.TCPAddr).Port == 0 {
		t.Fatal("port 0")
	}
	// A socket without SO_REUSEPORT cannot take the port.
	if l, err := net.Listen("tcp", ls[0].Addr().String()); err == nil {
		l.Close()
		t.Fatal("net.Listen on the shared port succeeded")
	}
	// A named port works too, and adds to the group.
	more := listenReusePort(t, ls[0].Addr().String(), 2)
	for _, l := range more {
		if l.Addr().String() != ls[0].Addr().String() {
			t.Fatalf("listener on %v; want %v", l.Addr(), ls[0].Addr())
		}
		l.Close()
	}
}

func TestListenReusePortDefault(t *testing.T) {
	ls := listenReusePort(t, "127.0.0.1:0", 0)
	for _, l := range ls {
		l.Close()
	}
	if want := runtime.GOMAXPROCS(0); len(ls) != want {
		t.Fatalf("got %d listeners; want GOMAXPROCS = %d", len(ls), want)
	}
}

func TestListenReusePortErrors(t *testing.T) {
	if _, err := server.ListenReusePort(context.Background(), "unix", "/tmp/x", 2); err == nil {
		t.Error("unix network: no error")
	}
	// A port held without SO_REUSEPORT: the first bind fails, and the
	// error comes back with nothing left open.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ls, err := server.ListenReusePort(context.Background(), "tcp", l.Addr().String(), 2)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err == nil || ls != nil {
		t.Fatalf("got %v, %v on a port in use; want an error", ls, err)
	}
}

// TestServeListeners serves many clients over a group of SO_REUSEPORT
// listeners: each listener gets some, every handshake, authentication and
// exec succeeds, Shutdown closes the group and ServeListeners returns
// ErrServerClosed, and nothing keeps running.
func TestServeListeners(t *testing.T) {
	before := runtime.NumGoroutine()
	hostKey, userKey := testutil.Ed25519Signer(t), testutil.Ed25519Signer(t)
	srv := testServer(t, hostKey, userKey)
	const n, dials = 4, 64
	raw := listenReusePort(t, "127.0.0.1:0", n)
	addr := raw[0].Addr().String()
	counted := make([]*countingListener, n)
	ls := make([]net.Listener, n)
	for i, l := range raw {
		counted[i] = &countingListener{Listener: l}
		ls[i] = counted[i]
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeListeners(ls) }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, dials)
	sem := make(chan struct{}, 8)
	for range dials {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := exec(ctx, addr, hostKey, userKey); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The kernel hashes each connection to a listener; 64 connections
	// miss one of 4 listeners with probability 4·(3/4)^64 ≈ 4e-8.
	total := int64(0)
	for i, l := range counted {
		c := l.n.Load()
		total += c
		if c == 0 {
			t.Errorf("listener %d accepted no connection", i)
		}
		t.Logf("listener %d: %d connections", i, c)
	}
	if total != dials {
		t.Errorf("accepted %d connections; want %d", total, dials)
	}

	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if !errors.Is(err, server.ErrServerClosed) {
			t.Fatalf("ServeListeners returned %v; want ErrServerClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListeners did not return after Shutdown")
	}
	// Every listener of the group is closed: the port is free again.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port still held after Shutdown: %v", err)
	}
	l.Close()
	if err := srv.ServeListeners(listenReusePort(t, "127.0.0.1:0", 2)); !errors.Is(err, server.ErrServerClosed) {
		t.Fatalf("ServeListeners after Shutdown returned %v; want ErrServerClosed", err)
	}
	testutil.WaitGoroutines(t, before)
}

// failingListener fails Accept with err once fail is closed.
type failingListener struct {
	net.Listener
	fail chan struct{}
	err  error
}

func (l *failingListener) Accept() (net.Conn, error) {
	<-l.fail
	return nil, l.err
}

// TestServeListenersFailure: when one loop fails, ServeListeners closes the
// other listeners and returns that loop's error.
func TestServeListenersFailure(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := testServer(t, testutil.Ed25519Signer(t), testutil.Ed25519Signer(t))
	ls := listenReusePort(t, "127.0.0.1:0", 3)
	addr := ls[0].Addr().String()
	boom := errors.New("boom")
	bad := &failingListener{Listener: ls[1], fail: make(chan struct{}), err: boom}
	ls[1] = bad
	served := make(chan error, 1)
	go func() { served <- srv.ServeListeners(ls) }()
	close(bad.fail)
	select {
	case err := <-served:
		if !errors.Is(err, boom) {
			t.Fatalf("ServeListeners returned %v; want %v", err, boom)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListeners did not return after a loop failed")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port still held after the failure: %v", err)
	}
	l.Close()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	testutil.WaitGoroutines(t, before)
}

// TestServeListenersEmpty: no listeners is an error, not a hang.
func TestServeListenersEmpty(t *testing.T) {
	var srv server.Server
	if err := srv.ServeListeners(nil); err == nil {
		t.Fatal("no error")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
