package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/client"
	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/server"
	"github.com/zerossh/zerossh/userauth"
)

// TestDialServe runs the whole stack: server.Server with a session
// handler, client.Dial, an exec, and a graceful Shutdown.
func TestDialServe(t *testing.T) {
	before := runtime.NumGoroutine()
	hostKey, userKey := testutil.Ed25519Signer(t), testutil.Ed25519Signer(t)
	srv := &server.Server{}
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	cfg := &client.Config{Auth: userauth.ClientConfig{User: "alice", Methods: []userauth.Method{userauth.PublicKeys(userKey)}}}
	cfg.Transport.HostKeyCallback = ssh.FixedHostKey(hostKey.PublicKey())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, l.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("true")
	if err != nil || string(out) != "alice ran true" {
		t.Fatalf("got %q, %v; want %q", out, err, "alice ran true")
	}
	conn.Close()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, server.ErrServerClosed) {
		t.Fatalf("Serve returned %v; want ErrServerClosed", err)
	}
	testutil.WaitGoroutines(t, before)
}

// TestDialContextCancel: a server that accepts and says nothing holds the
// handshake; cancelling the context ends Dial promptly, leaving nothing
// running.
func TestDialContextCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	cfg := &client.Config{}
	cfg.Transport.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = client.Dial(ctx, l.Addr().String(), cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v; want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Dial took %v after its context ended", d)
	}
	l.Close()
	testutil.WaitGoroutines(t, before)
}
