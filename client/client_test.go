package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/client"
	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/server"
	"github.com/zerossh/zerossh/userauth"
)

func signer(t *testing.T) ssh.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDialServe runs the whole stack: server.Server with a session
// handler, client.Dial, an exec, and a graceful Shutdown.
func TestDialServe(t *testing.T) {
	before := runtime.NumGoroutine()
	hostKey, userKey := signer(t), signer(t)
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
	waitGoroutines(t, before)
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
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
