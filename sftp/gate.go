package sftp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// SFTP packet types the gate looks at (draft-ietf-secsh-filexfer-02, Section 3).
const (
	sshFxpOpen  = 3
	sshFxpRead  = 5
	sshFxpWrite = 6
)

// gateBufferSize holds two SSH channel packets of OpenSSH's usual 32 KiB.
const gateBufferSize = 64 << 10

var errGateClosed = errors.New("sftp: session closed")

// requestGate sits between the channel and pkg/sftp's request server and holds
// back SSH_FXP_READ and SSH_FXP_WRITE while an SSH_FXP_OPEN is unanswered.
//
// The request server publishes a handle before its open handler has finished
// setting the request up, and runs reads and writes on other goroutines than
// the open: a client that sends a READ or WRITE naming the next handle (they are
// predictable: "1", "2", ...) before the OPEN's answer makes pkg/sftp v1.13.12
// read Request.Method while the open writes it, a data race a peer could use to
// crash the process. A well-behaved client never waits here, as it needs the
// handle from the answer before it can send a READ or WRITE.
//
// The request server answers requests strictly in the order it read them, so
// the gate numbers the requests it passes on and counts the answers written:
// the last OPEN is answered once the count reaches its number.
type requestGate struct {
	rwc io.ReadWriteCloser
	r   *bufio.Reader // rwc, buffered: many small requests arrive in one read

	// Read side, used by the request server's single reading goroutine.
	hdr  [9]byte // length, type and request id of the packet being passed on
	head []byte  // header bytes not yet passed on
	body uint32  // body bytes of the packet not yet passed on
	seq  uint64  // requests passed on

	// Write side, serialised by the request server's connection lock.
	whdr  [4]byte
	whdrN int
	wbody uint32

	mu       sync.Mutex
	cond     sync.Cond
	answered uint64 // answers written
	openSeq  uint64 // number of the last SSH_FXP_OPEN passed on
	closed   bool
}

func newRequestGate(rwc io.ReadWriteCloser) *requestGate {
	g := &requestGate{rwc: rwc, r: bufio.NewReaderSize(rwc, gateBufferSize)}
	g.cond.L = &g.mu
	return g
}

// Read passes the client's packets on, one at a time, waiting before a READ or
// WRITE until every OPEN before it is answered.
func (g *requestGate) Read(p []byte) (int, error) {
	if len(g.head) == 0 && g.body == 0 {
		if err := g.nextPacket(); err != nil {
			return 0, err
		}
	}
	if len(g.head) > 0 {
		n := copy(p, g.head)
		g.head = g.head[n:]
		return n, nil
	}
	if uint32(len(p)) > g.body {
		p = p[:g.body]
	}
	n, err := g.r.Read(p)
	g.body -= uint32(n)
	return n, err
}

// nextPacket reads the header of the next packet and waits if it must.
func (g *requestGate) nextPacket() error {
	if _, err := io.ReadFull(g.r, g.hdr[:4]); err != nil {
		return err
	}
	length := binary.BigEndian.Uint32(g.hdr[:4])
	more := min(length, 5) // type and request id
	if _, err := io.ReadFull(g.r, g.hdr[4:4+more]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	g.head, g.body = g.hdr[:4+more], length-more
	g.seq++
	if length == 0 {
		return nil
	}
	switch g.hdr[4] {
	case sshFxpOpen:
		g.mu.Lock()
		g.openSeq = g.seq
		g.mu.Unlock()
	case sshFxpRead, sshFxpWrite:
		g.mu.Lock()
		defer g.mu.Unlock()
		for g.answered < g.openSeq && !g.closed {
			g.cond.Wait()
		}
		if g.closed {
			return errGateClosed
		}
	}
	return nil
}

// Write passes the server's answers on and counts them.
func (g *requestGate) Write(p []byte) (int, error) {
	n, err := g.rwc.Write(p)
	answers := g.count(p[:n])
	if answers > 0 || err != nil {
		g.mu.Lock()
		g.answered += answers
		if err != nil {
			g.closed = true
		}
		g.cond.Broadcast()
		g.mu.Unlock()
	}
	return n, err
}

// count returns the number of packets that b completes.
func (g *requestGate) count(b []byte) uint64 {
	var answers uint64
	for len(b) > 0 {
		if g.wbody > 0 {
			k := min(uint32(len(b)), g.wbody)
			g.wbody -= k
			b = b[k:]
			if g.wbody == 0 {
				answers++
			}
			continue
		}
		k := copy(g.whdr[g.whdrN:], b)
		g.whdrN += k
		b = b[k:]
		if g.whdrN == len(g.whdr) {
			g.whdrN = 0
			g.wbody = binary.BigEndian.Uint32(g.whdr[:])
			if g.wbody == 0 {
				answers++
			}
		}
	}
	return answers
}

// Close releases a waiting Read and closes the channel.
func (g *requestGate) Close() error {
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
	return g.rwc.Close()
}
