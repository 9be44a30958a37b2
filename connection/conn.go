// Package connection is the SSH connection protocol (RFC 4254) over an
// authenticated zerossh transport: channels with flow control, channel
// and global requests, and sessions.
//
// Its data path copies once each way: Channel.Write frames CHANNEL_DATA
// straight into the transport's packet buffer, and Channel.Read copies
// out of the received packet, which the channel keeps until read.
package connection

import (
	"errors"
	"fmt"
	"sync"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// Config tunes a Conn. The zero value takes the defaults.
type Config struct {
	// Window is the receive window a channel starts with; 2 MiB by
	// default. It grows while the reader keeps up, up to MaxWindow.
	Window uint32
	// MaxWindow bounds a channel's receive window, and so the memory
	// its unread data may take; 16 MiB by default.
	MaxWindow uint32
	// ConnWindow bounds the sum of all channels' receive windows; 64 MiB
	// by default.
	ConnWindow uint32
	// MaxPacket is the largest data packet the peer may send; 64 KiB by
	// default.
	MaxPacket uint32
	// ForwardRequests passes "tcpip-forward" and "cancel-tcpip-forward"
	// global requests to GlobalRequests; without it they are refused.
	ForwardRequests bool
}

const (
	defaultWindow     = 2 << 20
	defaultMaxWindow  = 16 << 20
	defaultConnWindow = 64 << 20
	defaultMaxPacket  = 64 << 10
	// requestQueue bounds requests and channel opens waiting for the
	// application; beyond it they are refused rather than buffered.
	requestQueue = 16
)

func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = defaultWindow
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = defaultMaxWindow
	}
	c.MaxWindow = max(c.MaxWindow, c.Window)
	if c.ConnWindow == 0 {
		c.ConnWindow = defaultConnWindow
	}
	if c.MaxPacket == 0 {
		c.MaxPacket = defaultMaxPacket
	}
	return c
}

// Conn is the connection protocol over one transport. Create it after
// user authentication succeeded; it reads every packet from then on.
type Conn struct {
	t   *zerossh.Conn
	cfg Config

	mu       sync.Mutex
	channels map[uint32]*Channel
	nextID   uint32
	// windows is the sum of the channels' receive windows, bounded by
	// cfg.ConnWindow.
	windows        uint64
	globalReplies  []chan globalReply // our global requests awaiting replies, in order
	noMoreSessions bool
	err            error

	incoming chan *NewChannel
	requests chan *Request
	done     chan struct{}
}

type globalReply struct {
	ok      bool
	payload []byte
}

// New starts the connection protocol on t: from now on the transport's read
// goroutine hands it every packet (zerossh.Conn.Deliver).
func New(t *zerossh.Conn, cfg *Config) *Conn {
	var conf Config
	if cfg != nil {
		conf = *cfg
	}
	conf = conf.withDefaults()
	// The peer may send data packets this large; the transport must take
	// them with their 13 bytes of header.
	conf.MaxPacket = min(conf.MaxPacket, uint32(t.MaxPayload()-13))
	c := &Conn{
		t:        t,
		cfg:      conf,
		channels: make(map[uint32]*Channel),
		incoming: make(chan *NewChannel, requestQueue),
		requests: make(chan *Request, requestQueue),
		done:     make(chan struct{}),
	}
	t.Deliver(c.handlePacket, c.shutdown)
	return c
}

// Transport returns the transport under the connection.
func (c *Conn) Transport() *zerossh.Conn { return c.t }

// Channels returns the channel open requests from the peer, closed when
// the connection ends. Each must be accepted or rejected; when the
// application falls behind by more than a few, further ones are rejected
// with resource shortage.
func (c *Conn) Channels() <-chan *NewChannel { return c.incoming }

// GlobalRequests returns the peer's global requests (RFC 4254 §4) that
// the connection does not answer itself, closed when the connection
// ends. Requests that find the queue full are refused.
func (c *Conn) GlobalRequests() <-chan *Request { return c.requests }

// Done is closed when the connection has ended; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it runs.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the transport and waits for its reading to end; every
// channel fails with ErrClosed and every buffer goes back to its pool.
func (c *Conn) Close() error {
	err := c.t.Close()
	<-c.done
	if errors.Is(err, zerossh.ErrClosed) {
		err = nil
	}
	return err
}

// ErrClosed is returned by operations on a closed channel or connection.
var ErrClosed = errors.New("ssh: channel closed")

// handlePacket takes one packet on the transport's read goroutine. An
// error ends the connection: the transport sends DISCONNECT for ours.
func (c *Conn) handlePacket(buf *pool.Buffer, p []byte) error {
	kept, err := c.dispatch(buf, p)
	if !kept {
		pool.Put(buf)
	}
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return err
}

// shutdown fails every channel and waiter with why the connection ended:
// the handler's error if it failed, else err from the transport.
func (c *Conn) shutdown(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	err = c.err
	chans := c.channels
	c.channels = nil
	replies := c.globalReplies
	c.globalReplies = nil
	c.mu.Unlock()
	for _, ch := range chans {
		ch.fail(err)
	}
	for _, r := range replies {
		close(r)
	}
	// Only this goroutine sends on these, so closing them is safe; what
	// the application has not taken yet fails when answered.
	close(c.incoming)
	close(c.requests)
	close(c.done)
}

// protocolError ends the connection with DISCONNECT protocol error.
func protocolError(format string, args ...any) error {
	return &zerossh.DisconnectError{Reason: zerossh.ProtocolError, Message: fmt.Sprintf(format, args...)}
}

// dispatch handles one packet. It reports whether it kept buf (queued
// channel data), in which case the channel returns it to the pool.
func (c *Conn) dispatch(buf *pool.Buffer, p []byte) (kept bool, err error) {
	switch p[0] {
	case wire.MsgChannelData, wire.MsgChannelExtendedData:
		id, typ, data, ok := parseChannelData(p, p[0] == wire.MsgChannelExtendedData)
		if !ok {
			return false, protocolError("malformed channel data")
		}
		ch, err := c.channel(id)
		if err != nil {
			return false, err
		}
		return ch.receive(buf, typ, data, p[0] == wire.MsgChannelExtendedData)
	case wire.MsgChannelWindowAdjust:
		id, n, ok := parseRecipient(p, true)
		if !ok {
			return false, protocolError("malformed window adjust")
		}
		ch, err := c.channel(id)
		if err != nil {
			return false, err
		}
		return false, ch.adjustWindow(n)
	case wire.MsgChannelEOF, wire.MsgChannelClose, wire.MsgChannelSuccess, wire.MsgChannelFailure:
		id, _, ok := parseRecipient(p, false)
		if !ok {
			return false, protocolError("malformed channel message %d", p[0])
		}
		ch, err := c.channel(id)
		if err != nil {
			return false, err
		}
		switch p[0] {
		case wire.MsgChannelEOF:
			return false, ch.receiveEOF()
		case wire.MsgChannelClose:
			return false, ch.receiveClose()
		}
		return false, ch.receiveReply(p[0] == wire.MsgChannelSuccess)
	case wire.MsgChannelRequest:
		var m channelRequest
		if !m.parse(p) {
			return false, protocolError("malformed channel request")
		}
		ch, err := c.channel(m.Recipient)
		if err != nil {
			return false, err
		}
		return false, ch.receiveRequest(&m)
	case wire.MsgChannelOpen:
		return false, c.receiveOpen(p)
	case wire.MsgChannelOpenConfirm:
		var m openConfirm
		if !m.parse(p) {
			return false, protocolError("malformed channel open confirmation")
		}
		ch, err := c.channel(m.Recipient)
		if err != nil {
			return false, err
		}
		return false, ch.opened(&m)
	case wire.MsgChannelOpenFailure:
		var m openFailure
		if !m.parse(p) {
			return false, protocolError("malformed channel open failure")
		}
		ch, err := c.channel(m.Recipient)
		if err != nil {
			return false, err
		}
		return false, ch.openFailed(&m)
	case wire.MsgGlobalRequest:
		return false, c.receiveGlobalRequest(p)
	case wire.MsgRequestSuccess, wire.MsgRequestFailure:
		return false, c.receiveGlobalReply(p)
	}
	if p[0] >= wire.MsgUserauthRequest && p[0] < wire.MsgGlobalRequest {
		// RFC 4252 §5.1: authentication requests after USERAUTH_SUCCESS
		// "SHOULD be silently ignored".
		return false, nil
	}
	// RFC 4253 §11.4: unknown messages get UNIMPLEMENTED.
	return false, c.t.Unimplemented()
}

// channel finds a channel by our number. A message for a channel that
// does not exist is a protocol error.
func (c *Conn) channel(id uint32) (*Channel, error) {
	c.mu.Lock()
	ch := c.channels[id]
	c.mu.Unlock()
	if ch == nil {
		return nil, protocolError("message for unknown channel %d", id)
	}
	return ch, nil
}

// newChannel registers a channel under a fresh number, or returns nil
// when the connection's window budget is spent.
func (c *Conn) newChannel(typ string) (*Channel, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.channels == nil {
		return nil, c.closedErr()
	}
	if c.windows+uint64(c.cfg.Window) > uint64(c.cfg.ConnWindow) {
		return nil, errors.New("ssh: connection receive window budget spent")
	}
	for c.channels[c.nextID] != nil {
		c.nextID++
	}
	ch := newChannel(c, c.nextID, typ)
	c.channels[c.nextID] = ch
	c.nextID++
	c.windows += uint64(ch.window)
	return ch, nil
}

// growWindow takes up to n more bytes of the connection's window budget
// for a channel, and returns how much it got.
func (c *Conn) growWindow(n uint32) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if avail := uint64(c.cfg.ConnWindow) - min(c.windows, uint64(c.cfg.ConnWindow)); uint64(n) > avail {
		n = uint32(avail)
	}
	c.windows += uint64(n)
	return n
}

// release forgets a fully closed channel and returns its window budget.
func (c *Conn) release(ch *Channel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.channels != nil && c.channels[ch.localID] == ch {
		delete(c.channels, ch.localID)
		c.windows -= uint64(ch.window)
	}
}

func (c *Conn) closedErr() error {
	if c.err != nil {
		return c.err
	}
	return ErrClosed
}

// write sends a control message without waiting for the socket: the
// read loop sends some (a CLOSE in answer, request replies), and a read
// loop that blocks on a write can deadlock two peers. Data goes through
// Channel.write instead, straight into the packet buffer.
func (c *Conn) write(p []byte) error { return c.t.QueuePacket(p) }
