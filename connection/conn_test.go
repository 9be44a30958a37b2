package connection

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/internal/testutil"
)

// transports connects a zerossh client and server over TCP loopback and
// starts the service, as user authentication would leave them.
func transports(t testing.TB) (client, server *zerossh.Conn) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type res struct {
		c   *zerossh.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			ch <- res{nil, err}
			return
		}
		s, err := zerossh.Server(nc, &zerossh.ServerConfig{HostKeys: []ssh.Signer{signer}, Services: []string{"ssh-userauth"}})
		ch <- res{s, err}
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := zerossh.Client(nc, l.Addr().String(), &zerossh.ClientConfig{HostKeyCallback: ssh.FixedHostKey(signer.PublicKey())})
	r := <-ch
	if err != nil || r.err != nil {
		t.Fatalf("handshake: %v, %v", err, r.err)
	}
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	c.SetAuthenticated()
	r.c.SetAuthenticated()
	return c, r.c
}

// connPair returns connection-protocol ends over a fresh transport pair.
func connPair(t testing.TB, cc, sc *Config) (client, server *Conn) {
	tc, ts := transports(t)
	client, server = New(tc, cc), New(ts, sc)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// echoServer accepts channels and echoes their data back until EOF.
func echoServer(s *Conn) {
	for nc := range s.Channels() {
		ch, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			io.Copy(ch, ch)
			ch.CloseWrite()
			ch.Close()
		}()
	}
}

func TestEcho64MiB(t *testing.T) {
	c, s := connPair(t, nil, nil)
	go echoServer(s)
	ch, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	const total = 64 << 20
	want := sha256.New()
	go func() {
		buf := make([]byte, 1<<20)
		for i := 0; i < total/len(buf); i++ {
			for j := range buf {
				buf[j] = byte(i + j*31)
			}
			want.Write(buf)
			if _, err := ch.Write(buf); err != nil {
				t.Error(err)
				return
			}
		}
		ch.CloseWrite()
	}()
	got := sha256.New()
	n, err := io.Copy(got, ch)
	if err != nil || n != total {
		t.Fatalf("read %d bytes, %v; want %d", n, err, total)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("echoed data differs")
	}
	ch.Close()
}

func TestChannelReadWriteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c, s := connPair(t, nil, nil)
	accepted := make(chan *Channel, 1)
	go func() {
		nc := <-s.Channels()
		ch, err := nc.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- ch
	}()
	ch, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	sch := <-accepted
	out := make([]byte, 32<<10)
	in := make([]byte, 32<<10)
	step := func() {
		if _, err := ch.Write(out); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(sch, in); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 {
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Fatalf("%v allocations per 32 KiB channel write and read; want 0", n)
	}
}

func TestCloseReleasesGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 5 {
		c, s := connPair(t, nil, nil)
		go echoServer(s)
		ch, err := c.OpenChannel("session", nil)
		if err != nil {
			t.Fatal(err)
		}
		ch.Write([]byte("hello"))
		c.Close()
		s.Close()
		if _, err := ch.Read(make([]byte, 10)); err == nil {
			// data may be there; the next read must fail
			if _, err := ch.Read(make([]byte, 10)); err == nil {
				t.Fatal("read after close succeeded twice")
			}
		}
	}
	testutil.WaitGoroutines(t, before)
}

func TestOpenRejected(t *testing.T) {
	c, s := connPair(t, nil, nil)
	go func() {
		nc := <-s.Channels()
		nc.Reject(UnknownChannelType, "no such type")
	}()
	_, err := c.OpenChannel("x-unknown", nil)
	var oe *OpenChannelError
	if !errors.As(err, &oe) || oe.Reason != UnknownChannelType || oe.Message != "no such type" {
		t.Fatalf("got %v; want an OpenChannelError with reason unknown channel type", err)
	}
}

// TestBidirectionalWithRequests moves data both ways at once while both
// sides send channel requests that the other answers: the read loops
// answer without waiting for the socket, so neither side can stall the
// other.
func TestBidirectionalWithRequests(t *testing.T) {
	c, s := connPair(t, &Config{Window: 256 << 10, MaxWindow: 256 << 10}, &Config{Window: 256 << 10, MaxWindow: 256 << 10})
	accepted := make(chan *Channel, 1)
	go func() {
		nc := <-s.Channels()
		ch, err := nc.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- ch
	}()
	cch, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	sch := <-accepted
	const total = 16 << 20
	done := make(chan error, 8)
	for _, ch := range []*Channel{cch, sch} {
		go func() { // answer every request
			for r := range ch.Requests() {
				r.Reply(true, nil)
			}
		}()
		go func() {
			buf := make([]byte, 64<<10)
			for n := 0; n < total; n += len(buf) {
				if _, err := ch.Write(buf); err != nil {
					done <- err
					return
				}
			}
			done <- ch.CloseWrite()
		}()
		go func() {
			n, err := io.Copy(io.Discard, ch)
			if err == nil && n != total {
				err = fmt.Errorf("read %d bytes; want %d", n, total)
			}
			done <- err
		}()
		go func() {
			for range 200 {
				if ok, err := ch.SendRequest("x-ping@zerossh", true, nil); err != nil || !ok {
					done <- fmt.Errorf("request: %v, %v", ok, err)
					return
				}
			}
			done <- nil
		}()
	}
	timeout := time.After(60 * time.Second)
	for range 6 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("stalled: data and requests both ways did not finish in 60s")
		}
	}
}

// TestWriteJoined: WriteJoined delivers a then b, whatever the split of
// the two into packets by the peer's maximum packet size and window.
func TestWriteJoined(t *testing.T) {
	c, s := connPair(t, nil, &Config{MaxPacket: 1000, Window: 4096})
	go echoServer(s)
	ch, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, 5, 999, 1000, 1001, 3000, 5000}
	for _, na := range sizes {
		for _, nb := range sizes {
			a, b := make([]byte, na), make([]byte, nb)
			for i := range a {
				a[i] = byte(i)
			}
			for i := range b {
				b[i] = byte(i*7 + 3)
			}
			n, err := ch.WriteJoined(a, b)
			if err != nil || n != na+nb {
				t.Fatalf("WriteJoined(%d, %d) = %d, %v", na, nb, n, err)
			}
			got := make([]byte, na+nb)
			if _, err := io.ReadFull(ch, got); err != nil {
				t.Fatalf("read back %d+%d: %v", na, nb, err)
			}
			if !bytes.Equal(got, append(a, b...)) {
				t.Fatalf("WriteJoined(%d, %d): the bytes came back changed", na, nb)
			}
		}
	}
}
