package zerossh

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/wire"
)

// pair connects a client and a server over nc1/nc2.
func pair(t testing.TB, nc1, nc2 net.Conn, cc *ClientConfig, sc *ServerConfig) (client, server *Conn) {
	t.Helper()
	if sc.HostKeys == nil {
		sc.HostKeys = []ssh.Signer{testutil.Ed25519Signer(t)}
	}
	if sc.Services == nil {
		sc.Services = []string{"ssh-userauth"}
	}
	if cc.HostKeyCallback == nil {
		cc.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	}
	type result struct {
		c   *Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := Server(nc2, sc)
		ch <- result{s, err}
	}()
	c, err := Client(nc1, "pipe:22", cc)
	r := <-ch
	if err != nil || r.err != nil {
		t.Fatalf("handshake: client %v, server %v", err, r.err)
	}
	t.Cleanup(func() { c.Close(); r.c.Close() })
	return c, r.c
}

func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			ch <- nil
			return
		}
		ch <- c
	}()
	c1, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2 := <-ch
	if c2 == nil {
		t.Fatal("accept failed")
	}
	return c1, c2
}

func TestHandshakePipe(t *testing.T) {
	nc1, nc2 := net.Pipe()
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
	if !bytes.Equal(c.SessionID(), s.SessionID()) || len(c.SessionID()) == 0 {
		t.Fatalf("session IDs differ: %x vs %x", c.SessionID(), s.SessionID())
	}
	if !c.StrictKex() || !s.StrictKex() {
		t.Errorf("strict kex not negotiated")
	}
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Extensions()["server-sig-algs"]; !ok {
		t.Errorf("client got no server-sig-algs: %v", c.Extensions())
	}
	msg := []byte{wire.MsgUserauthRequest, 1, 2, 3}
	if err := c.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadPacket()
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("got %x, %v; want %x", got, err, msg)
	}
	if s.Service() != "ssh-userauth" {
		t.Errorf("service %q", s.Service())
	}
	if err := s.Rekey(); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	got, err = c.ReadPacket()
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("got %x, %v; want %x", got, err, msg)
	}
	c.Close()
	done := make(chan error)
	go func() { _, err := s.ReadPacket(); done <- err }()
	select {
	case err := <-done:
		var de *DisconnectError
		if !errors.As(err, &de) || !de.Remote || de.Reason != ByApplication {
			t.Fatalf("server read after client close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server read did not end")
	}
}

func TestConfigRefusesUnknownAlgorithms(t *testing.T) {
	for _, cfg := range []Config{
		{Ciphers: []string{"aes128-cbc"}},
		{MACs: []string{"hmac-md5"}},
		{KeyExchanges: []string{"diffie-hellman-group1-sha1"}},
		{Compressions: []string{"zlib"}},
		{SoftwareVersion: "my-ssh"},
		{SoftwareVersion: "a b"},
		{Comment: strings.Repeat("x", 250)},
	} {
		nc1, nc2 := net.Pipe()
		defer nc2.Close()
		_, err := Client(nc1, "pipe:22", &ClientConfig{Config: cfg, HostKeyCallback: ssh.InsecureIgnoreHostKey()})
		if err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	nc1, nc2 := net.Pipe()
	defer nc2.Close()
	_, err := Client(nc1, "pipe:22", &ClientConfig{HostKeyAlgorithms: []string{"ssh-dss"}, HostKeyCallback: ssh.InsecureIgnoreHostKey()})
	if err == nil {
		t.Error("ssh-dss host key algorithm accepted")
	}
}

// TestQueuePacketOrder: packets queued with QueuePacket and written with
// WritePacket arrive in the order of the calls.
func TestQueuePacketOrder(t *testing.T) {
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		p := []byte{wire.MsgChannelData, byte(i)}
		var err error
		if i%3 == 1 {
			err = c.QueuePacket(p)
		} else {
			err = c.WritePacket(p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 300 {
		p, err := s.ReadPacket()
		if err != nil || p[1] != byte(i) {
			t.Fatalf("packet %d: got %x, %v", i, p, err)
		}
	}
	if err := c.QueuePacket([]byte{wire.MsgIgnore}); err == nil {
		t.Fatal("QueuePacket took a transport message")
	}
}
