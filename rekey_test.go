package zerossh

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/zerossh/zerossh/wire"
)

// kexCount returns how many key exchanges c completed.
func kexCount(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kexDone
}

// waitKex waits until c has completed at least n key exchanges.
func waitKex(t *testing.T, c *Conn, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for kexCount(c) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d key exchanges after 10s; want %d", kexCount(c), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRekeyInterval(t *testing.T) {
	cc := &ClientConfig{}
	cc.RekeyInterval = 50 * time.Millisecond
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, cc, &ServerConfig{})
	c.SetAuthenticated() // rekeys by interval and budget wait for authentication
	waitKex(t, c, 3)
	waitKex(t, s, 3)
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, s, 5)
}

func TestRekeyPacketBudget(t *testing.T) {
	sc := &ServerConfig{}
	sc.RekeyPackets = 100
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, &ClientConfig{}, sc)
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	s.SetAuthenticated()
	// In lockstep, 500 packets each way: the server's budget runs out
	// in both directions about every 100 packets.
	for i := range 500 {
		for _, d := range [][2]*Conn{{c, s}, {s, c}} {
			p := []byte{wire.MsgChannelData, byte(i)}
			if err := d[0].WritePacket(p); err != nil {
				t.Fatal(err)
			}
			if got, err := d[1].ReadPacket(); err != nil || !bytes.Equal(got, p) {
				t.Fatalf("got %x, %v; want %x", got, err, p)
			}
		}
	}
	if n := kexCount(s); n < 4 {
		t.Fatalf("server completed %d key exchanges after 1000 packets with a budget of 100; want at least 4", n)
	}
}

// TestPeerRekeyWhileOnlyWriting has the client write and never read
// while the server starts key exchanges: the client's read loop must
// answer them, and the client's packets sent meanwhile must arrive in
// order, held back in a bounded queue.
func TestPeerRekeyWhileOnlyWriting(t *testing.T) {
	cc := &ClientConfig{}
	cc.MaxHeldBackBytes = 64 << 10 // smaller than what is written during one exchange
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, cc, &ServerConfig{})
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	const packets = 20000
	var wg sync.WaitGroup
	wg.Go(func() {
		p := make([]byte, 1024)
		p[0] = wire.MsgChannelData
		for i := range packets {
			binary.BigEndian.PutUint32(p[1:], uint32(i))
			if err := c.WritePacket(p); err != nil {
				t.Error(err)
				return
			}
			c.mu.Lock()
			held := c.heldBytes
			c.mu.Unlock()
			if held > cc.MaxHeldBackBytes+len(p) {
				t.Errorf("held-back queue at %d bytes; bound %d", held, cc.MaxHeldBackBytes)
				return
			}
		}
	})
	rekeys := 0
	for i := range packets {
		p, err := s.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.BigEndian.Uint32(p[1:]); got != uint32(i) {
			t.Fatalf("packet %d arrived as %d", got, i)
		}
		if i%4000 == 100 {
			// Rekey from another goroutine: this one must keep reading.
			wg.Go(func() {
				if err := s.Rekey(); err != nil {
					t.Error(err)
				}
			})
			rekeys++
		}
	}
	wg.Wait()
	// Overlapping Rekey calls share one exchange, so count at least two.
	if n := kexCount(s); n < 2 {
		t.Fatalf("server completed %d key exchanges after %d Rekey calls", n, rekeys)
	}
	waitKex(t, c, kexCount(s))
}

// TestHeldBackOrder starts a key exchange and writes while it runs: the
// held-back packets must arrive after it, in order, none lost.
func TestHeldBackOrder(t *testing.T) {
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if i == 50 && g == 0 {
					c.mu.Lock()
					c.queueKexInitLocked()
					c.mu.Unlock()
					c.kick()
				}
				p := []byte{wire.MsgChannelData, byte(g), byte(i)}
				if err := c.WritePacket(p); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	next := make([]int, 4)
	for range 800 {
		p, err := s.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		g, i := int(p[1]), int(p[2])
		if i != next[g] {
			t.Fatalf("writer %d: packet %d arrived when %d was due", g, i, next[g])
		}
		next[g]++
	}
	wg.Wait()
	waitKex(t, s, 2)
	if !bytes.Equal(c.SessionID(), s.SessionID()) {
		t.Fatal("session IDs differ")
	}
}

// TestNoAutomaticRekeyBeforeAuthentication: budgets and intervals wait for
// authentication, as OpenSSH's do, because OpenSSH's client ends the
// connection on a KEXINIT during authentication.
func TestNoAutomaticRekeyBeforeAuthentication(t *testing.T) {
	cc := &ClientConfig{}
	cc.RekeyPackets = 10
	cc.RekeyInterval = time.Millisecond
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, cc, &ServerConfig{})
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, s, 50)
	if n := kexCount(c); n != 1 {
		t.Fatalf("%d key exchanges before authentication; want 1", n)
	}
	c.SetAuthenticated()
	roundTrip(t, c, s, 50)
	waitKex(t, c, 2)
}

// TestPeerKexInitWhileClosing: a KEXINIT from the peer that arrives once
// our side has failed (here: marked failed by hand, as Close or a write
// error does) ends the read loop with that error instead of running an
// exchange without a KEXINIT of ours.
func TestPeerKexInitWhileClosing(t *testing.T) {
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
	s.fail(ErrClosed)
	if err := c.Rekey(); err == nil {
		t.Log("rekey completed before the server noticed") // acceptable; the point is no panic
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server read loop did not end")
	}
}
