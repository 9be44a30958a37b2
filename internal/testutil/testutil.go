// Package testutil holds what the tests of several packages need alike.
package testutil

import (
	"crypto/ed25519"
	"crypto/rand"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Ed25519Signer returns a new Ed25519 key as an ssh.Signer.
func Ed25519Signer(tb testing.TB) ssh.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// WaitGoroutines waits up to five seconds for the number of goroutines
// to fall back to before, and fails with every goroutine's stack if it
// does not.
func WaitGoroutines(tb testing.TB, before int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			tb.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
