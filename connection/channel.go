package connection

import (
	"io"
	"sync"

	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// Channel is one open channel (RFC 4254 §5). Read and Write move its
// data; Stderr moves extended data of type 1. It is safe for one reader
// and any number of writers at once.
type Channel struct {
	c        *Conn
	typ      string
	localID  uint32
	remoteID uint32

	mu   sync.Mutex
	cond sync.Cond // on mu: data, window, a reply or the end arrived

	// Receive side.
	data, stderr rxQueue
	window       uint32 // receive window we advertised in all, our budget
	available    uint32 // what the peer may still send before our next adjust
	consumed     uint32 // read since the last adjust
	gotEOF       bool
	gotClose     bool
	requests     chan *Request

	// Send side.
	remoteWindow    uint32
	remoteMaxPacket uint32
	sentEOF         bool
	sentClose       bool
	closed          bool        // Close was called: reads and writes end
	replies         []chan bool // our channel requests awaiting replies, in order
	writeMu         sync.Mutex  // one writer frames data at a time, so chunks keep their order
	// sendMu orders every message we send on the channel against our
	// CLOSE, after which RFC 4254 §5.3 lets nothing follow.
	sendMu sync.Mutex

	// Opening.
	openDone chan error // closed or sent once the peer answers our open
	err      error      // why the channel ended early
}

// rxQueue holds received data that was not read yet: packet buffers kept
// whole when the data fills most of them, small data copied together.
type rxQueue struct {
	bufs []rxBuf // bufs[head:] are queued; the array is reused once empty
	head int
	n    int // bytes queued
}

type rxBuf struct {
	buf  *pool.Buffer
	data []byte // unread part, aliasing buf
	// coalesce marks a buffer of our own that small data is appended to.
	coalesce bool
}

const coalesceSize = 32 << 10

// push queues data, taking buf when that pays; it reports whether it
// kept buf.
func (q *rxQueue) push(buf *pool.Buffer, data []byte) bool {
	q.n += len(data)
	if 2*len(data) >= cap(buf.B) {
		q.bufs = append(q.bufs, rxBuf{buf: buf, data: data})
		return true
	}
	// Small data: copy it so that many tiny packets cannot pin a
	// buffer each.
	if k := len(q.bufs) - 1; k >= q.head && q.bufs[k].coalesce {
		last := &q.bufs[k]
		if end := len(last.buf.B); cap(last.buf.B)-end >= len(data) {
			last.buf.B = append(last.buf.B, data...)
			last.data = last.buf.B[end-len(last.data):]
			return false
		}
	}
	nb := pool.Get(max(coalesceSize, len(data)))
	nb.B = append(nb.B, data...)
	q.bufs = append(q.bufs, rxBuf{buf: nb, data: nb.B, coalesce: true})
	return false
}

// read copies queued data into p.
func (q *rxQueue) read(p []byte) int {
	n := 0
	for n < len(p) && q.head < len(q.bufs) {
		head := &q.bufs[q.head]
		k := copy(p[n:], head.data)
		n += k
		head.data = head.data[k:]
		if len(head.data) == 0 {
			pool.Put(head.buf)
			*head = rxBuf{}
			q.head++
		}
	}
	if q.head == len(q.bufs) {
		q.bufs, q.head = q.bufs[:0], 0
	}
	q.n -= n
	return n
}

func (q *rxQueue) release() {
	for _, b := range q.bufs[q.head:] {
		pool.Put(b.buf)
	}
	q.bufs, q.head, q.n = nil, 0, 0
}

func newChannel(c *Conn, id uint32, typ string) *Channel {
	ch := &Channel{
		c:        c,
		typ:      typ,
		localID:  id,
		window:   c.cfg.Window,
		requests: make(chan *Request, requestQueue),
		openDone: make(chan error, 1),
	}
	ch.available = ch.window
	ch.cond.L = &ch.mu
	return ch
}

// Type returns the channel type, e.g. "session".
func (ch *Channel) Type() string { return ch.typ }

// Requests returns the peer's requests on this channel. When the
// application falls behind by more than a few, further requests are
// refused.
func (ch *Channel) Requests() <-chan *Request { return ch.requests }

// receive queues data from the peer. RFC 4254 §5.2: the peer may send
// no more than the window allows, nor more than the maximum packet size.
func (ch *Channel) receive(buf *pool.Buffer, typ uint32, data []byte, extended bool) (bool, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.gotEOF || ch.gotClose {
		return false, protocolError("data on channel %d after EOF or close", ch.localID)
	}
	if uint32(len(data)) > ch.available {
		return false, protocolError("channel %d: %d bytes exceed the window of %d", ch.localID, len(data), ch.available)
	}
	if uint32(len(data)) > ch.c.cfg.MaxPacket {
		return false, protocolError("channel %d: %d bytes exceed the maximum packet of %d", ch.localID, len(data), ch.c.cfg.MaxPacket)
	}
	ch.available -= uint32(len(data))
	if len(data) == 0 || ch.closed {
		return false, nil // nobody will read it
	}
	var kept bool
	switch {
	case !extended:
		kept = ch.data.push(buf, data)
	case typ == 1: // SSH_EXTENDED_DATA_STDERR
		kept = ch.stderr.push(buf, data)
	default:
		// Other types are not defined; their bytes count as read.
		ch.consumed += uint32(len(data))
	}
	ch.cond.Broadcast()
	return kept, nil
}

// Read reads channel data; it returns io.EOF after the peer's EOF or
// CLOSE once the queued data is read.
func (ch *Channel) Read(p []byte) (int, error) { return ch.read(&ch.data, p) }

func (ch *Channel) read(q *rxQueue, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	ch.mu.Lock()
	for q.n == 0 && !ch.gotEOF && !ch.gotClose && !ch.closed && ch.err == nil {
		ch.cond.Wait()
	}
	if ch.closed {
		ch.mu.Unlock()
		return 0, ErrClosed
	}
	if q.n == 0 {
		err := ch.err
		if err == nil {
			err = io.EOF
		}
		ch.mu.Unlock()
		return 0, err
	}
	n := q.read(p)
	ch.consumed += uint32(n)
	adjust := ch.windowAdjustLocked()
	ch.mu.Unlock()
	if adjust > 0 {
		ch.sendWindowAdjust(adjust)
	}
	return n, nil
}

// windowAdjustLocked decides how much window to give back after a read:
// nothing until half the window was read, then what was read, plus more
// when the reader keeps up (the queue is nearly empty), up to MaxWindow.
func (ch *Channel) windowAdjustLocked() uint32 {
	if ch.gotClose || ch.consumed < ch.window/2 {
		return 0
	}
	adjust := ch.consumed
	ch.consumed = 0
	if ch.data.n+ch.stderr.n < int(ch.window/8) && ch.window < ch.c.cfg.MaxWindow {
		grow := ch.c.growWindow(min(ch.window, ch.c.cfg.MaxWindow-ch.window))
		ch.window += grow
		adjust += grow
	}
	ch.available += adjust
	return adjust
}

// sendWindowAdjust runs on a reader's goroutine, which may wait for the
// socket, so it writes directly: no copy, no queue, no allocation.
func (ch *Channel) sendWindowAdjust(n uint32) {
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	if ch.sentCloseAlready() {
		return
	}
	ch.c.t.WritePacketFunc(9, func(dst []byte) {
		dst[0] = wire.MsgChannelWindowAdjust
		putUint32(dst[1:], ch.remoteID)
		putUint32(dst[5:], n)
	})
}

// sendControl sends a message about the channel unless our CLOSE went
// out already, in which case it reports ErrClosed.
func (ch *Channel) sendControl(p []byte) error {
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	if ch.sentCloseAlready() {
		return ErrClosed
	}
	return ch.c.write(p)
}

// sentCloseAlready reports whether our CLOSE went out; callers hold
// sendMu, so it cannot go out before they have sent.
func (ch *Channel) sentCloseAlready() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.sentClose
}

// adjustWindow takes the peer's WINDOW_ADJUST. RFC 4254 §5.2: the window
// may not exceed 2^32 - 1 bytes.
func (ch *Channel) adjustWindow(n uint32) error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if uint64(ch.remoteWindow)+uint64(n) > 1<<32-1 {
		return protocolError("channel %d: window adjust beyond 2^32-1", ch.localID)
	}
	ch.remoteWindow += n
	ch.cond.Broadcast()
	return nil
}

// Write sends data, as many CHANNEL_DATA packets as the peer's window and
// maximum packet size ask for, waiting for window as needed.
func (ch *Channel) Write(p []byte) (int, error) { return ch.write(p, nil, false) }

// WriteJoined sends a followed by b as Write(append(a, b...)) would, in
// the same packets, without joining them first: a protocol's small
// header and large payload leave as one packet instead of two. It
// returns how many bytes of a and b together were sent.
func (ch *Channel) WriteJoined(a, b []byte) (int, error) { return ch.write(a, b, false) }

// write sends the bytes of a and then b.
func (ch *Channel) write(a, b []byte, stderr bool) (int, error) {
	ch.writeMu.Lock()
	defer ch.writeMu.Unlock()
	hdr := 9 // message number, recipient, string length
	if stderr {
		hdr += 4
	}
	total := len(a) + len(b)
	sent := 0
	for sent < total {
		ch.mu.Lock()
		for ch.remoteWindow == 0 && !ch.sentEOF && !ch.sentClose && !ch.closed && !ch.gotClose && ch.err == nil {
			ch.cond.Wait()
		}
		if err := ch.writeErrLocked(); err != nil {
			ch.mu.Unlock()
			return sent, err
		}
		n := min(total-sent, int(ch.remoteWindow), int(ch.remoteMaxPacket), ch.c.t.MaxPayload()-hdr)
		ch.remoteWindow -= uint32(n)
		ch.mu.Unlock()

		// The chunk's bytes: the rest of a, then the start of b.
		var fromA, fromB []byte
		if sent < len(a) {
			fromA = a[sent:min(sent+n, len(a))]
		}
		if end := sent + n; end > len(a) {
			fromB = b[max(sent-len(a), 0) : end-len(a)]
		}
		ch.sendMu.Lock()
		ch.mu.Lock()
		err := ch.writeErrLocked()
		ch.mu.Unlock()
		if err != nil {
			ch.sendMu.Unlock()
			return sent, err
		}
		err = ch.c.t.WritePacketFunc(hdr+n, func(dst []byte) {
			if stderr {
				dst[0] = wire.MsgChannelExtendedData
				putUint32(dst[1:], ch.remoteID)
				putUint32(dst[5:], 1)
				putUint32(dst[9:], uint32(n))
			} else {
				dst[0] = wire.MsgChannelData
				putUint32(dst[1:], ch.remoteID)
				putUint32(dst[5:], uint32(n))
			}
			copy(dst[hdr+copy(dst[hdr:], fromA):], fromB)
		})
		ch.sendMu.Unlock()
		if err != nil {
			return sent, err
		}
		sent += n
	}
	return sent, nil
}

func putUint32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func (ch *Channel) writeErrLocked() error {
	switch {
	case ch.err != nil:
		return ch.err
	case ch.closed:
		return ErrClosed
	case ch.sentEOF, ch.sentClose, ch.gotClose:
		return io.EOF
	}
	return nil
}

// Stderr returns the channel's extended data stream of type 1 (stderr in
// a session): reads take what the peer sent, writes send to the peer.
func (ch *Channel) Stderr() io.ReadWriter { return stderrStream{ch} }

type stderrStream struct{ ch *Channel }

func (s stderrStream) Read(p []byte) (int, error)  { return s.ch.read(&s.ch.stderr, p) }
func (s stderrStream) Write(p []byte) (int, error) { return s.ch.write(p, nil, true) }

// CloseWrite sends EOF: no more data from this side (RFC 4254 §5.3).
func (ch *Channel) CloseWrite() error {
	ch.writeMu.Lock()
	defer ch.writeMu.Unlock()
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	ch.mu.Lock()
	if ch.sentEOF || ch.sentClose || ch.err != nil {
		ch.mu.Unlock()
		return nil
	}
	ch.sentEOF = true
	ch.cond.Broadcast()
	ch.mu.Unlock()
	return ch.c.write(appendRecipient(make([]byte, 0, 5), wire.MsgChannelEOF, ch.remoteID))
}

// Close sends CLOSE (RFC 4254 §5.3); the channel is gone once the peer's
// CLOSE arrives too. Unread data is dropped.
func (ch *Channel) Close() error {
	ch.mu.Lock()
	ch.closed = true
	ch.cond.Broadcast()
	ch.data.release()
	ch.stderr.release()
	ch.mu.Unlock()
	return ch.sendClose()
}

// sendClose sends our CLOSE once, and forgets the channel if the peer's
// came already.
func (ch *Channel) sendClose() error {
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	ch.mu.Lock()
	if ch.sentClose || ch.err != nil {
		ch.mu.Unlock()
		return nil
	}
	ch.sentClose = true
	both := ch.gotClose
	ch.cond.Broadcast()
	ch.mu.Unlock()
	err := ch.c.write(appendRecipient(make([]byte, 0, 5), wire.MsgChannelClose, ch.remoteID))
	if both {
		ch.c.release(ch)
	}
	return err
}

func (ch *Channel) receiveEOF() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.gotClose {
		return protocolError("EOF on channel %d after close", ch.localID)
	}
	ch.gotEOF = true
	ch.cond.Broadcast()
	return nil
}

// receiveClose takes the peer's CLOSE and answers with ours if not sent
// already (RFC 4254 §5.3: "Upon receiving this message, a party MUST
// send back an SSH_MSG_CHANNEL_CLOSE unless it has already sent this
// message for the channel").
func (ch *Channel) receiveClose() error {
	ch.mu.Lock()
	if ch.gotClose {
		ch.mu.Unlock()
		return protocolError("second close on channel %d", ch.localID)
	}
	ch.gotClose = true
	replies := ch.replies
	ch.replies = nil
	sent := ch.sentClose
	ch.cond.Broadcast()
	ch.mu.Unlock()
	for _, r := range replies {
		close(r)
	}
	close(ch.requests)
	if sent {
		ch.c.release(ch)
		return nil
	}
	// Data that came before the CLOSE stays readable.
	return ch.sendClose()
}

// fail ends the channel because the connection ended.
func (ch *Channel) fail(err error) {
	if err == nil {
		err = ErrClosed
	}
	ch.mu.Lock()
	if ch.err == nil {
		ch.err = err
	}
	ch.data.release()
	ch.stderr.release()
	replies := ch.replies
	ch.replies = nil
	closedRequests := ch.gotClose
	ch.gotClose = true
	ch.cond.Broadcast()
	ch.mu.Unlock()
	for _, r := range replies {
		close(r)
	}
	if !closedRequests {
		close(ch.requests)
	}
	select {
	case ch.openDone <- err:
	default:
	}
}
