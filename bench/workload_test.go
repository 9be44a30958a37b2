package bench

import (
	"io"
	"testing"
	"time"
)

// TestWorkloads runs every in-process workload once on a small scale, so
// that a broken benchmark shows up in go test without -bench.
func TestWorkloads(t *testing.T) {
	data := Payload(1 << 20)
	for _, impl := range Impls {
		t.Run(string(impl), func(t *testing.T) {
			root := tempDir(t)
			if err := WriteFile(root, "down", data); err != nil {
				t.Fatal(err)
			}
			p := newPair(t, impl, Ciphers[0], root)
			w, err := p.Client.Sink()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("sink: %v", err)
			}
			if err := Handshake(impl, p.Server.Addr(), Ciphers[0]); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			c, err := p.Client.SFTP()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := Upload(c, "/up", data); err != nil {
				t.Fatalf("upload: %v", err)
			}
			if err := Download(c, "/up", int64(len(data))); err != nil {
				t.Fatalf("download: %v", err)
			}
		})
	}
}

// TestHelper runs the idle-connection helper in-process: a server, and
// clients that connect to it.
func TestHelper(t *testing.T) {
	s := startServer(t, ZeroSSH, SFTPAlgorithms, "")
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	out := &lineWriter{line: make(chan string, 1)}
	go func() { errc <- Helper("clients zerossh "+s.Addr()+" 3", pr, out) }()
	if got := <-out.line; got != "ready\n" {
		t.Fatalf("helper printed %q; want ready", got)
	}
	pw.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := WaitAuthenticated(s, 3, 5*time.Second); err != nil {
		t.Error(err)
	}
}

type lineWriter struct{ line chan string }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.line <- string(p)
	return len(p), nil
}
