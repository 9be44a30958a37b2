package zerossh

import (
	"fmt"

	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// message is a transport message that can encode itself.
type message interface {
	Len() int
	Append(dst []byte) []byte
}

// queueMsg appends a transport message to the out queue; someone holding
// wmu writes it soon (see kick and flush).
func (c *Conn) queueMsg(m message) {
	c.mu.Lock()
	c.queueLocked(outMsg{buf: encode(m)})
	c.mu.Unlock()
}

func (c *Conn) queueLocked(m outMsg) {
	if m.buf != nil {
		c.outBytes += len(m.buf.B)
	}
	c.out = append(c.out, m)
}

// QueuePacket sends one packet for the service above the transport, like
// WritePacket, but does not wait for the socket: the packet is copied to
// the queue of transport messages and written by whoever writes next, or
// a short-lived goroutine. It is for a service's own read loop, which
// must never block on a write: two peers whose read loops both wait to
// write can deadlock. Only when the queue holds more than
// Config.MaxHeldBackBytes does it wait, as WritePacket does.
func (c *Conn) QueuePacket(payload []byte) error {
	if len(payload) == 0 || payload[0] < 50 || len(payload) > c.MaxPayload() {
		return fmt.Errorf("ssh: QueuePacket takes service messages of 1 to %d bytes", c.MaxPayload())
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	if c.outBytes+len(payload) > c.cfg.MaxHeldBackBytes {
		c.mu.Unlock()
		return c.WritePacket(payload)
	}
	buf := pool.Get(len(payload))
	buf.B = append(buf.B, payload...)
	c.queueLocked(outMsg{buf: buf})
	c.mu.Unlock()
	c.kick()
	return nil
}

// encode returns m's encoding in a pooled buffer.
func encode(m message) *pool.Buffer {
	buf := pool.Get(m.Len())
	buf.B = m.Append(buf.B)
	return buf
}

// drainLocked writes the out queue under wmu. Messages the send phase
// forbids (a PONG or SERVICE_ACCEPT during a key exchange) move to the
// held-back queue; NEWKEYS switches keys and releases that queue.
func (c *Conn) drainLocked() error {
	corked := c.send.cork()
	err := c.drainQueue()
	if corked {
		if uerr := c.send.uncork(); uerr != nil {
			c.fail(uerr)
			if err == nil {
				err = uerr
			}
		}
	}
	return err
}

func (c *Conn) drainQueue() error {
	for {
		c.mu.Lock()
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return err
		}
		if len(c.out) == 0 {
			c.mu.Unlock()
			return nil
		}
		m := c.out[0]
		c.out[0] = outMsg{}
		c.out = c.out[1:]
		if m.buf != nil {
			c.outBytes -= len(m.buf.B)
		}
		if len(c.out) == 0 {
			c.out = c.out[:0:0] // let a long queue's array go
		}
		if m.buf == nil { // a refused exchange: only release what it held
			c.mu.Unlock()
			if err := c.releaseHeldLocked(); err != nil {
				c.fail(err)
			}
			continue
		}
		if !c.sendPhase.allows(m.buf.B[0]) {
			c.held = append(c.held, heldMsg{buf: m.buf})
			c.heldBytes += len(m.buf.B)
			c.mu.Unlock()
			continue
		}
		if m.buf.B[0] == wire.MsgKexInit {
			c.kexInitSeq = c.send.seq
		}
		c.mu.Unlock()

		err := c.send.writePacket(len(m.buf.B), 0, func(dst []byte) { copy(dst, m.buf.B) })
		msg := m.buf.B[0]
		pool.Put(m.buf)
		if err != nil {
			c.fail(err)
			continue
		}
		c.checkWriteBudget()
		switch {
		case msg == wire.MsgKexInit:
			c.mu.Lock()
			c.sendPhase = phaseKex
			c.mu.Unlock()
		case m.newKeys != nil:
			c.installWriteKeys(m.newKeys)
		}
		if m.releasesHeld {
			if err := c.releaseHeldLocked(); err != nil {
				c.fail(err)
			}
		}
	}
}

// releaseHeldLocked writes the held-back messages after our NEWKEYS,
// under wmu, and wakes the writers waiting for room.
func (c *Conn) releaseHeldLocked() error {
	c.mu.Lock()
	held := c.held
	c.held, c.heldBytes = nil, 0
	c.sendPhase = phaseNormal
	c.cond.Broadcast()
	c.mu.Unlock()
	var err error
	for _, h := range held {
		if err == nil {
			err = c.send.writePacket(len(h.buf.B), h.padTo, func(dst []byte) { copy(dst, h.buf.B) })
		}
		pool.Put(h.buf)
	}
	return err
}

// unlockWrite releases wmu, then writes what was queued meanwhile by
// goroutines that could not take wmu themselves.
func (c *Conn) unlockWrite() {
	for {
		c.wmu.Unlock()
		c.mu.Lock()
		pending := len(c.out) > 0 && c.err == nil
		c.mu.Unlock()
		if !pending || !c.wmu.TryLock() {
			return
		}
		c.drainLocked()
	}
}

// flush writes the out queue now, waiting for wmu.
func (c *Conn) flush() error {
	c.wmu.Lock()
	err := c.drainLocked()
	c.unlockWrite()
	return err
}

// kick gets the out queue written without blocking the caller, which is
// the read loop: a read loop that waits on a write can deadlock two peers
// that both write. If wmu is busy its holder writes the queue when it
// lets go; otherwise a short-lived goroutine does.
func (c *Conn) kick() {
	if c.wmu.TryLock() {
		go func() {
			c.drainLocked()
			c.unlockWrite()
		}()
	}
}
