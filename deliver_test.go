package zerossh

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// collector is a Deliver handler that records payloads and checks that
// calls never overlap.
type collector struct {
	mu      sync.Mutex
	got     []byte // the second byte of each payload
	inside  atomic.Int32
	overlap atomic.Bool
	failAt  int // fail on this many-th packet (1-based), if not 0
	ends    atomic.Int32
	endErr  chan error
}

func newCollector() *collector { return &collector{endErr: make(chan error, 2)} }

func (c *collector) handle(buf *pool.Buffer, p []byte) error {
	if c.inside.Add(1) != 1 {
		c.overlap.Store(true)
	}
	defer c.inside.Add(-1)
	c.mu.Lock()
	c.got = append(c.got, p[1])
	n := len(c.got)
	c.mu.Unlock()
	pool.Put(buf)
	if n == c.failAt {
		return &DisconnectError{Reason: ProtocolError, Message: "test refuses this packet"}
	}
	return nil
}

func (c *collector) onEnd(err error) {
	c.ends.Add(1)
	c.endErr <- err
}

func (c *collector) received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.got...)
}

func waitQueued(t *testing.T, c *Conn, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(c.incoming) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d packets queued, want %d", len(c.incoming), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDeliverOrder: packets queued before Deliver reach the handler
// first, then the rest, in order, one call at a time; onEnd comes once,
// after the last packet, and ReadPacket then reports the end.
func TestDeliverOrder(t *testing.T) {
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	// One more than the queue holds: the read loop waits to queue the
	// last of them when Deliver comes.
	const before, total = incomingPackets + 1, 250
	for i := range before {
		if err := c.WritePacket([]byte{wire.MsgChannelData, byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitQueued(t, s, incomingPackets)
	col := newCollector()
	// Packets keep coming while Deliver drains the queue.
	sent := make(chan error, 1)
	go func() {
		for i := before; i < total; i++ {
			if err := c.WritePacket([]byte{wire.MsgChannelData, byte(i)}); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	s.Deliver(col.handle, col.onEnd)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case err := <-col.endErr:
		if err == nil {
			t.Fatal("onEnd got no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("onEnd not called")
	}
	got := col.received()
	if len(got) != total {
		t.Fatalf("handler got %d packets, want %d", len(got), total)
	}
	for i, b := range got {
		if b != byte(i) {
			t.Fatalf("packet %d carries %d: out of order", i, b)
		}
	}
	if col.overlap.Load() {
		t.Fatal("handler calls overlapped")
	}
	if _, err := s.ReadPacket(); err == nil {
		t.Fatal("ReadPacket after Deliver returned a packet")
	}
	time.Sleep(10 * time.Millisecond)
	if n := col.ends.Load(); n != 1 {
		t.Fatalf("onEnd called %d times", n)
	}
}

// TestDeliverHandlerError: a handler's DisconnectError goes to the peer,
// and nothing after that packet reaches the handler.
func TestDeliverHandlerError(t *testing.T) {
	for _, queued := range []bool{false, true} {
		name := "live"
		if queued {
			name = "queued before Deliver"
		}
		t.Run(name, func(t *testing.T) {
			nc1, nc2 := tcpPair(t)
			c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
			if err := c.RequestService("ssh-userauth"); err != nil {
				t.Fatal(err)
			}
			col := newCollector()
			col.failAt = 3
			if !queued {
				s.Deliver(col.handle, col.onEnd)
			}
			for i := range incomingPackets + 1 {
				// Writes after the third may find the connection ended.
				if err := c.WritePacket([]byte{wire.MsgChannelData, byte(i)}); err != nil && i < 3 {
					t.Fatal(err)
				}
			}
			if queued {
				waitQueued(t, s, incomingPackets)
				s.Deliver(col.handle, col.onEnd)
			}
			_, err := c.ReadPacket()
			var de *DisconnectError
			if !errors.As(err, &de) || !de.Remote || de.Reason != ProtocolError {
				t.Fatalf("client read %v, want the peer's DISCONNECT protocol error", err)
			}
			select {
			case <-col.endErr:
			case <-time.After(5 * time.Second):
				t.Fatal("onEnd not called")
			}
			if got := col.received(); len(got) != 3 {
				t.Fatalf("handler got %v after failing on the third", got)
			}
		})
	}
}

// TestDeliverAfterEnd: Deliver on a connection that has ended hands over
// what was read and calls onEnd before it returns.
func TestDeliverAfterEnd(t *testing.T) {
	nc1, nc2 := tcpPair(t)
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := c.WritePacket([]byte{wire.MsgChannelData, byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitQueued(t, s, 3)
	c.Close()
	for ended := false; !ended; time.Sleep(time.Millisecond) {
		s.dmu.Lock()
		ended = s.readEnded
		s.dmu.Unlock()
	}
	col := newCollector()
	s.Deliver(col.handle, col.onEnd)
	if n := col.ends.Load(); n != 1 {
		t.Fatalf("onEnd called %d times before Deliver returned", n)
	}
	if got := col.received(); string(got) != "\x00\x01\x02" {
		t.Fatalf("handler got %v", got)
	}
}
