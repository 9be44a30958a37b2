package zerossh

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerossh/zerossh/compression"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// readBufferSize is the buffered reader in front of the socket. It is
// small on purpose: the body of a large packet is read straight into its
// own buffer (bufio skips its buffer for reads at least this large), so
// only the start of each packet is copied, and small packets still come
// several to a read. An idle connection holds it: 512 bytes instead of
// bufio's 4 KiB default (BenchmarkIdleConns).
const readBufferSize = 512

// incomingPackets bounds the packets read ahead of ReadPacket. Only
// services that pull packets (user authentication) use that queue, so it
// is short: every connection holds it (BenchmarkIdleConns).
const incomingPackets = 4

// Conn is an SSH transport connection (RFC 4253), client or server. Its
// methods are safe for concurrent use, except that ReadPacket is for one
// goroutine at a time.
type Conn struct {
	nc       net.Conn
	isClient bool
	cfg      Config
	client   *ClientConfig
	server   *ServerConfig
	addr     string // the address the client dialled, for HostKeyCallback

	localVersion, remoteVersion []byte

	// The read side belongs to the goroutine that reads the socket: the
	// constructor during the first key exchange, then readLoop.
	recv        receiver
	peerKexInit bool // the peer's KEXINIT started an exchange still running

	// authSeen: USERAUTH_SUCCESS went out (server) or came in (client);
	// zlib@openssh.com compresses from there on. Atomic: the two
	// directions watch and set it from their own goroutines.
	authSeen atomic.Bool

	// wmu is held while writing to the socket; never taken under mu.
	wmu  sync.Mutex
	send sender // under wmu

	mu   sync.Mutex
	cond sync.Cond // on mu: a key exchange or the held-back queue moved on
	// out is the queue of transport messages, written in order ahead of
	// anything else by whoever holds wmu next; outBytes is its size.
	out      []outMsg
	outBytes int
	// sendPhase is phaseKex from the moment our KEXINIT is written until
	// our NEWKEYS is; messages that phase forbids wait in held.
	sendPhase kexPhase
	held      []heldMsg
	heldBytes int
	// kexQueued: our KEXINIT for the running exchange is queued or sent.
	kexQueued  bool
	ourKexInit []byte
	kexInitSeq uint32 // the sequence number our last KEXINIT went out with
	// kexRefusals counts exchanges the peer refused with UNIMPLEMENTED.
	kexRefusals int
	kexDone     int // key exchanges completed
	err         error
	closed      bool
	endSending  bool // the read side ended and is sending DISCONNECT
	sessionID   []byte
	hostKey     []byte // K_S of the first key exchange
	authDone    bool   // user authentication succeeded
	algs        Algorithms
	strict      bool // kex-strict negotiated in the first exchange
	readKeyed   bool // the first NEWKEYS was received
	writeKeyed  bool // the first NEWKEYS was sent
	peerExt     bool // the peer takes EXT_INFO
	extensions  map[string][]byte
	service     string
	// pendingService is the service a client requested.
	pendingService string
	serviceOK      chan struct{} // client: closed when SERVICE_ACCEPT arrives
	rekeyTimer     *time.Timer

	incoming chan inbound
	closedCh chan struct{} // closed by Close
	done     chan struct{} // closed when the read loop ends
	readErr  error         // why the read loop ended, set before done closes
	current  *pool.Buffer  // the buffer behind the last ReadPacket payload
	// earlyKex is the client's ephemeral key for its preferred method,
	// made while the server's KEXINIT is on its way; the first exchange
	// uses it if that method is chosen.
	earlyKex *kex.ClientKey
	lastSeq  uint32

	// Delivery to a service's handler instead of incoming (Deliver).
	delivering atomic.Bool // set once, when Deliver installs handle
	dmu        sync.Mutex  // serialises handle calls; guards what follows
	handle     func(buf *pool.Buffer, payload []byte) error
	onEnd      func(error)
	handleErr  error // handle failed; later packets are dropped
	readEnded  bool  // the read loop has ended and called onEnd if set
}

// heldMsg is a message held back during a key exchange.
type heldMsg struct {
	buf   *pool.Buffer // the payload
	padTo int
}

type inbound struct {
	buf     *pool.Buffer
	payload []byte
	seq     uint32
}

// outMsg is one queued transport message.
type outMsg struct {
	buf *pool.Buffer // the payload
	// newKeys, for NEWKEYS, switches the write direction to new keys once
	// the message is written.
	newKeys *directionKeys
	// releasesHeld ends our side of a key exchange: the held-back
	// messages follow this one (NEWKEYS, or the EXT_INFO right after it).
	releasesHeld bool
}

// Client runs the client side of the transport over nc: version exchange
// and the first key exchange. addr is the address dialled, passed to the
// HostKeyCallback. On error nc is closed.
func Client(nc net.Conn, addr string, cfg *ClientConfig) (*Conn, error) {
	if cfg == nil || cfg.HostKeyCallback == nil {
		nc.Close()
		return nil, errors.New("ssh: ClientConfig.HostKeyCallback is required")
	}
	c := newConn(nc, true, cfg.Config)
	c.client = cfg
	c.addr = addr
	if err := c.cfg.validate(); err != nil {
		nc.Close()
		return nil, err
	}
	for _, a := range cfg.HostKeyAlgorithms {
		if !validHostKeyAlgorithm(a) {
			nc.Close()
			return nil, fmt.Errorf("ssh: unsupported host key algorithm %q", a)
		}
	}
	if err := c.handshake(); err != nil {
		return nil, err
	}
	return c, nil
}

// Server runs the server side of the transport over nc: version exchange
// and the first key exchange. On error nc is closed.
func Server(nc net.Conn, cfg *ServerConfig) (*Conn, error) {
	if cfg == nil || len(cfg.HostKeys) == 0 {
		nc.Close()
		return nil, errors.New("ssh: ServerConfig.HostKeys is required")
	}
	c := newConn(nc, false, cfg.Config)
	c.server = cfg
	if err := c.cfg.validate(); err != nil {
		nc.Close()
		return nil, err
	}
	if err := c.handshake(); err != nil {
		return nil, err
	}
	return c, nil
}

func newConn(nc net.Conn, isClient bool, cfg Config) *Conn {
	c := &Conn{
		nc:        nc,
		isClient:  isClient,
		cfg:       cfg.withDefaults(),
		incoming:  make(chan inbound, incomingPackets),
		done:      make(chan struct{}),
		closedCh:  make(chan struct{}),
		serviceOK: make(chan struct{}),
	}
	c.cond.L = &c.mu
	c.recv = receiver{r: bufio.NewReaderSize(nc, readBufferSize), maxPacket: c.cfg.MaxPacketSize, limit: ^uint64(0),
		decompress: recvCompression{auth: &c.authSeen, client: isClient, trace: c.cfg.traceInflate}}
	var seed [32]byte
	rand.Read(seed[:])
	c.send = sender{w: nc, rng: mrand.NewChaCha8(seed), limit: ^uint64(0),
		compress: sendCompression{level: c.cfg.CompressionLevel, auth: &c.authSeen, server: !isClient}}
	c.localVersion = c.cfg.versionLine()
	return c
}

// handshake runs the version exchange and the first key exchange, then
// starts the read loop.
func (c *Conn) handshake() error {
	if t := c.cfg.HandshakeTimeout; t > 0 {
		c.nc.SetDeadline(time.Now().Add(t))
	}
	c.mu.Lock()
	c.queueKexInitLocked()
	c.mu.Unlock()
	err := c.exchangeVersions()
	if err == nil {
		err = c.firstKex()
	}
	if err == nil {
		// Our NEWKEYS (and a server's EXT_INFO) leave before Client or
		// Server returns: a fault the read loop finds next must not send
		// its DISCONNECT ahead of them, ending the peer's key exchange.
		err = c.flush()
	}
	if err != nil {
		c.end(err)
		return c.readErr
	}
	c.nc.SetDeadline(time.Time{})
	go c.readLoop()
	return nil
}

func (c *Conn) exchangeVersions() error {
	// Both sides speak first, so the write must not wait for the read: on
	// an unbuffered pipe that would deadlock. Our KEXINIT, queued already,
	// goes out with the version line (RFC 4253 §7: "Key exchange will
	// begin immediately after sending this identifier").
	// The lock is taken here, before anything else can write, and handed
	// to the goroutine that writes.
	written := make(chan error, 1)
	c.wmu.Lock()
	c.send.cork()
	c.send.emit(append(c.localVersion, '\r', '\n'), nil)
	drainErr := c.drainLocked()
	go func() {
		err := c.send.uncork()
		if drainErr != nil {
			err = drainErr
		}
		c.unlockWrite()
		written <- err
	}()
	if c.isClient {
		c.prepareKex()
	}
	v, err := readVersion(c.recv.r, c.isClient)
	if err != nil {
		// Our line goes out in full even when theirs is refused, so that
		// the DISCONNECT that may follow is read as a packet.
		<-written
		return err
	}
	// Otherwise the write may still wait for the peer to read our
	// KEXINIT (on a pipe, say); a failure of it fails the connection.
	c.remoteVersion = v
	return nil
}

// firstKex reads up to the peer's first KEXINIT and runs the exchange.
func (c *Conn) firstKex() error {
	for {
		buf, payload, seq, err := c.recv.readPacket()
		if err != nil {
			return packetError(err)
		}
		if payload[0] == wire.MsgKexInit {
			err = c.runKex(payload, seq)
			pool.Put(buf)
			return err
		}
		// Before the first KEXINIT only generic messages may come; strict
		// kex refuses even those, which runKex checks from seq.
		err = c.handleGeneric(payload, seq, true)
		pool.Put(buf)
		if err != nil {
			return err
		}
	}
}

// readLoop reads packets until the connection ends, handles transport
// messages and hands the others to ReadPacket.
func (c *Conn) readLoop() {
	var err error
	for err == nil {
		var buf *pool.Buffer
		var payload []byte
		var seq uint32
		buf, payload, seq, err = c.recv.readPacket()
		if err != nil {
			err = packetError(err)
			break
		}
		c.checkReadBudget()
		if payload[0] >= 50 && payload[0] != wire.MsgPing && payload[0] != wire.MsgPong {
			if err = c.checkServiceStarted(payload[0]); err != nil {
				pool.Put(buf)
				break
			}
			in := inbound{buf, payload, seq}
			if c.delivering.Load() {
				err = c.deliver(&in)
				continue
			}
			select {
			case c.incoming <- in:
			case <-c.closedCh:
				pool.Put(buf)
				err = ErrClosed
			}
			if err == nil && c.delivering.Load() {
				// Deliver came while this packet was being queued, and may
				// have drained the queue before it got there.
				err = c.deliver(nil)
			}
			continue
		}
		if payload[0] == wire.MsgKexInit {
			err = c.runKex(payload, seq)
		} else {
			err = c.handleGeneric(payload, seq, false)
		}
		pool.Put(buf)
	}
	c.end(err)
	c.dmu.Lock()
	c.readEnded = true
	onEnd := c.onEnd
	c.dmu.Unlock()
	if onEnd != nil {
		onEnd(c.readErr)
	}
}

// checkServiceStarted refuses upper-layer messages before a service was
// accepted (RFC 4253 §10).
func (c *Conn) checkServiceStarted(msg byte) error {
	c.mu.Lock()
	ok := c.service != ""
	c.mu.Unlock()
	if !ok {
		return &DisconnectError{Reason: ProtocolError, Message: fmt.Sprintf("message %d before a service was accepted", msg)}
	}
	return nil
}

// handleGeneric handles a transport message outside a key exchange.
// beforeKex is true while waiting for the first KEXINIT.
func (c *Conn) handleGeneric(payload []byte, seq uint32, beforeKex bool) error {
	switch payload[0] {
	case wire.MsgDisconnect:
		var m wire.Disconnect
		if err := m.Parse(payload); err != nil {
			return &DisconnectError{Reason: ProtocolError, Message: "malformed DISCONNECT"}
		}
		return &DisconnectError{Reason: m.Reason, Message: string(m.Description), Remote: true}
	case wire.MsgIgnore:
		return nil
	case wire.MsgDebug:
		var m wire.Debug
		if err := m.Parse(payload); err != nil {
			return &DisconnectError{Reason: ProtocolError, Message: "malformed DEBUG"}
		}
		if c.cfg.OnDebug != nil {
			c.cfg.OnDebug(m.AlwaysDisplay, string(m.Message), string(m.Language))
		}
		return nil
	case wire.MsgUnimplemented:
		var m wire.Unimplemented
		if err := m.Parse(payload); err != nil {
			return &DisconnectError{Reason: ProtocolError, Message: "malformed UNIMPLEMENTED"}
		}
		if c.kexRefused(m.Seq) {
			c.kick()
			return nil
		}
		if c.cfg.OnUnimplemented != nil {
			c.cfg.OnUnimplemented(m.Seq)
		}
		return nil
	}
	if beforeKex {
		return &DisconnectError{Reason: ProtocolError, Message: fmt.Sprintf("message %d before key exchange", payload[0])}
	}
	switch payload[0] {
	case wire.MsgServiceRequest:
		if !c.isClient {
			return c.serviceRequest(payload)
		}
	case wire.MsgServiceAccept:
		if c.isClient {
			return c.serviceAccept(payload)
		}
	case wire.MsgExtInfo:
		return c.extInfo(payload)
	case wire.MsgNewKeys:
		return &DisconnectError{Reason: ProtocolError, Message: "NEWKEYS outside key exchange"}
	case wire.MsgPing:
		var m wire.Ping
		if err := m.Parse(payload); err != nil {
			return &DisconnectError{Reason: ProtocolError, Message: "malformed PING"}
		}
		pong := wire.Pong{Data: m.Data}
		c.queueMsg(&pong)
		c.kick()
		return nil
	case wire.MsgPong:
		return nil
	}
	// RFC 4253 §11.4: "An implementation MUST respond to all unrecognized
	// messages with an SSH_MSG_UNIMPLEMENTED message in the order in which
	// the messages were received."
	c.sendUnimplemented(seq)
	c.kick()
	return nil
}

func (c *Conn) sendUnimplemented(seq uint32) {
	m := wire.Unimplemented{Seq: seq}
	c.queueMsg(&m)
}

// ReadPacket returns the next packet for the service above the transport
// (message numbers 50 and up). The payload aliases a buffer that stays
// valid until the next ReadPacket or Close.
func (c *Conn) ReadPacket() ([]byte, error) {
	pool.Put(c.current)
	c.current = nil
	buf, payload, err := c.ReadPacketBuffer()
	c.current = buf
	return payload, err
}

// ReadPacketBuffer is ReadPacket for a service that keeps payloads past
// the next read, such as a channel's receive queue: the payload aliases
// buf, which now belongs to the caller, who hands it back with pool.Put
// when done. ReadPacket and ReadPacketBuffer take from one stream of
// packets; use one goroutine for both.
func (c *Conn) ReadPacketBuffer() (*pool.Buffer, []byte, error) {
	if c.delivering.Load() {
		<-c.done
		return nil, nil, c.readErr
	}
	select {
	case in := <-c.incoming:
		c.lastSeq = in.seq
		return in.buf, in.payload, nil
	case <-c.done:
		// Deliver what was read before the end.
		select {
		case in := <-c.incoming:
			c.lastSeq = in.seq
			return in.buf, in.payload, nil
		default:
		}
		return nil, nil, c.readErr
	}
}

// Deliver hands every upper-layer packet from now on to handle instead
// of ReadPacket: a service whose handling never waits saves a goroutine
// per connection and a hand-off per packet. handle runs on the goroutine
// that reads the connection, one packet at a time and in order (packets
// read before Deliver was called come first, possibly on the caller's
// goroutine). It owns buf and returns it to the pool when done. It must
// not wait on the peer or on a key exchange, which that same goroutine
// runs: it may send with QueuePacket and Unimplemented, not WritePacket.
// An error from handle ends the connection as a fault in a packet would
// (a *DisconnectError of ours is sent to the peer), and no packet is
// handed over after it. onEnd is called once, after the last packet,
// with why the connection ended. Deliver is called at most once; after
// it ReadPacket only reports the end.
func (c *Conn) Deliver(handle func(buf *pool.Buffer, payload []byte) error, onEnd func(error)) {
	c.dmu.Lock()
	c.handle, c.onEnd = handle, onEnd
	c.delivering.Store(true)
	err := c.drainDeliveriesLocked()
	ended := c.readEnded
	c.dmu.Unlock()
	if err != nil {
		// A packet read before Deliver failed: end the connection as the
		// read loop does for its own faults.
		var de *DisconnectError
		if errors.As(err, &de) && !de.Remote {
			c.Disconnect(de.Reason, de.Message)
		} else {
			c.Close()
		}
	}
	if ended {
		onEnd(c.readErr)
	}
}

// deliver hands the queued packets and then in, if not nil, to the
// Deliver handler.
func (c *Conn) deliver(in *inbound) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	err := c.drainDeliveriesLocked()
	if in != nil {
		if e := c.handOverLocked(*in); err == nil {
			err = e
		}
	}
	return err
}

// drainDeliveriesLocked hands the packets queued before Deliver to the handler.
func (c *Conn) drainDeliveriesLocked() error {
	for {
		select {
		case in := <-c.incoming:
			if err := c.handOverLocked(in); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// handOverLocked gives one packet to the handler, or drops it once the
// handler has failed.
func (c *Conn) handOverLocked(in inbound) error {
	if c.handleErr != nil {
		pool.Put(in.buf)
		return c.handleErr
	}
	c.lastSeq = in.seq
	c.handleErr = c.handle(in.buf, in.payload)
	return c.handleErr
}

// Unimplemented answers the packet last returned by ReadPacket with
// UNIMPLEMENTED (RFC 4253 §11.4), for a service that does not know it.
// Like QueuePacket it does not wait for the socket.
func (c *Conn) Unimplemented() error {
	c.sendUnimplemented(c.lastSeq)
	c.kick()
	return nil
}

// WritePacket sends one packet for the service above the transport; the
// payload starts with its message number, 50 or above. While a key
// exchange runs the packet is copied and held back, to be sent after
// NEWKEYS; a writer waits when the held-back queue is full.
func (c *Conn) WritePacket(payload []byte) error {
	return c.write(len(payload), 0, func(dst []byte) { copy(dst, payload) })
}

// WritePacketPadded is WritePacket with the packet padded to a multiple
// of padTo bytes, so that its length does not tell a listener how long a
// secret in it is (OpenSSH pads password requests to 64).
func (c *Conn) WritePacketPadded(payload []byte, padTo int) error {
	return c.write(len(payload), padTo, func(dst []byte) { copy(dst, payload) })
}

// WritePacketFunc sends one packet of n payload bytes for the service
// above the transport; fill writes the payload straight into the packet
// buffer, so that a service can frame its data without a copy of its own.
// fill must not keep dst, and must write the message number first.
func (c *Conn) WritePacketFunc(n int, fill func(dst []byte)) error {
	return c.write(n, 0, fill)
}

// MaxPayload is the largest payload WritePacket takes, and the largest a
// peer may send: MaxPacketSize less the padding length byte, room for
// padding, and what compression may add to an incompressible payload.
func (c *Conn) MaxPayload() int {
	n := int(c.cfg.MaxPacketSize) - 1 - maxBlockPadding
	return n - (compression.Bound(n) - n)
}

// maxBlockPadding bounds block-aligned padding: under 4 bytes more than
// the largest block size, 16.
const maxBlockPadding = 16 + minPadding

func (c *Conn) write(n, padTo int, fill func(dst []byte)) error {
	if n <= 0 || n > c.MaxPayload() {
		return fmt.Errorf("ssh: payload of %d bytes out of range", n)
	}
	for {
		c.wmu.Lock()
		if err := c.drainLocked(); err != nil {
			c.unlockWrite()
			return err
		}
		c.mu.Lock()
		if c.sendPhase == phaseNormal {
			c.mu.Unlock()
			err := c.writeLocked(n, padTo, fill)
			c.unlockWrite()
			return err
		}
		if c.heldBytes+n <= c.cfg.MaxHeldBackBytes || len(c.held) == 0 {
			buf := pool.Get(n)
			buf.B = buf.B[:n]
			fill(buf.B)
			if buf.B[0] < 50 {
				pool.Put(buf)
				c.mu.Unlock()
				c.unlockWrite()
				return fmt.Errorf("ssh: message %d is the transport's own", buf.B[0])
			}
			c.held = append(c.held, heldMsg{buf: buf, padTo: padTo})
			c.heldBytes += n
			c.mu.Unlock()
			c.unlockWrite()
			return nil
		}
		c.wmu.Unlock()
		for c.sendPhase != phaseNormal && c.err == nil {
			c.cond.Wait()
		}
		c.mu.Unlock()
	}
}

// writeLocked writes an upper-layer packet under wmu.
func (c *Conn) writeLocked(n, padTo int, fill func([]byte)) error {
	var bad byte
	err := c.send.writePacket(n, padTo, func(dst []byte) {
		fill(dst)
		if dst[0] < 50 {
			bad = dst[0]
			dst[0] = wire.MsgIgnore // never let a service forge transport messages
		}
	})
	if err != nil {
		c.fail(err) // the first error is what every write reports from now on
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.err
	}
	c.checkWriteBudget()
	if bad != 0 {
		return fmt.Errorf("ssh: message %d is the transport's own", bad)
	}
	return nil
}
