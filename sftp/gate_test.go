package sftp

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRequestGateHoldsWrite holds a WRITE back until the OPEN before it is
// answered, and counts answers split across writes.
func TestRequestGateHoldsWrite(t *testing.T) {
	var in []byte
	for _, p := range sftpPacket(sftpPacket(sftpPacket(nil, fxpInit, 3), fxpOpen, 1, "/f", 2, 0), fxpWrite, 2, "1", uint64(0), "x") {
		in = append(in, p...)
	}
	g := newRequestGate(&recordingConn{r: bytes.NewReader(in), w: &bytes.Buffer{}})

	// INIT and OPEN pass.
	buf := make([]byte, 64)
	for range 2 {
		if _, err := io.ReadFull(g, buf[:4]); err != nil {
			t.Fatal(err)
		}
		n := int(buf[3])
		if _, err := io.ReadFull(g, buf[:n]); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(g, buf[:4])
		got <- err
	}()
	// VERSION answers INIT, header and body written separately.
	g.Write([]byte{0, 0, 0, 5, 2})
	g.Write([]byte{0, 0, 0, 3})
	select {
	case err := <-got:
		t.Fatalf("WRITE passed before the OPEN was answered (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	// HANDLE answers OPEN.
	g.Write([]byte{0, 0, 0, 10, 102, 0, 0, 0, 1, 0, 0, 0, 1, '1'})
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("Read after the answer: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WRITE still held after the OPEN was answered")
	}
}

// TestRequestGateClose releases a held Read when the session closes.
func TestRequestGateClose(t *testing.T) {
	var in []byte
	for _, p := range sftpPacket(sftpPacket(nil, fxpOpen, 1, "/f", 2, 0), fxpRead, 2, "1", uint64(0), 10) {
		in = append(in, p...)
	}
	g := newRequestGate(&recordingConn{r: bytes.NewReader(in), w: &bytes.Buffer{}})
	io.ReadFull(g, make([]byte, 4+int(in[3])))
	got := make(chan error, 1)
	go func() {
		_, err := g.Read(make([]byte, 4))
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	g.Close()
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("held Read returned no error after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("held Read not released by Close")
	}
}

// TestServePipelinedOpenWrite sends an upload without waiting for any answer:
// the WRITEs must still reach the file opened just before them.
func TestServePipelinedOpenWrite(t *testing.T) {
	for range 20 {
		root := t.TempDir()
		in := bytes.Join(seedSessions()[0][:6], nil) // INIT, OPEN, WRITE x2, FSETSTAT, CLOSE
		err := Serve(&recordingConn{r: bytes.NewReader(in), w: &bytes.Buffer{}}, &ServerOptions{Root: root, Logger: discardLogger})
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
		if got, _ := os.ReadFile(filepath.Join(root, "up")); string(got) != "hello world" {
			t.Fatalf("up = %q; want hello world", got)
		}
	}
}
