package zerossh

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/compression"
	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// Packet faults. The transport ends the connection with DISCONNECT
// reason protocol error for each, as OpenSSH's packet.c does ("Packet
// corrupt"); errors.Is tells them apart.
var (
	ErrBadPacketLength = errors.New("ssh: bad packet length")
	ErrBadPadding      = errors.New("ssh: bad padding")
	ErrMAC             = cipher.ErrMAC
	ErrSeqWrap         = errors.New("ssh: sequence number would wrap before a rekey")
	// ErrCompression is a payload that does not decompress, or that
	// decompresses to nothing or past MaxPacketSize; the transport ends
	// the connection with DISCONNECT reason compression error.
	ErrCompression = errors.New("ssh: compression error")
)

// minPadding is RFC 4253 §6: "There MUST be at least four bytes of padding."
const minPadding = 4

// clearBlockSize is the block size before the first NEWKEYS: RFC 4253 §6
// asks for a multiple of 8 even without a cipher.
const clearBlockSize = 8

// sender is the write direction of the binary packet protocol. It is
// used under Conn.wmu.
type sender struct {
	w      io.Writer
	sealer cipher.Sealer // nil until the first NEWKEYS
	seq    uint32
	// Traffic under the current keys, and its byte budget.
	bytes, packets, limit uint64
	rng                   *rand.ChaCha8 // padding bytes
	compress              sendCompression
	// While corked, packets wait in held (with their buffers in
	// heldBufs) to be written together.
	corked   bool
	held     [][]byte
	heldBufs []*pool.Buffer
}

// cork holds back the socket writes of the packets that follow, to send
// them together with uncork: the messages a handshake step sends back to
// back (version line and KEXINIT, NEWKEYS and EXT_INFO, a release of
// held-back messages) then cost one system call. It reports whether it
// corked, so that nested users leave the uncorking to the outermost.
func (s *sender) cork() bool {
	if s.corked {
		return false
	}
	s.corked = true
	return true
}

// uncork writes what was held back, in one writev where the socket has it.
func (s *sender) uncork() error {
	s.corked = false
	if len(s.held) == 0 {
		return nil
	}
	v := net.Buffers(s.held)
	_, err := v.WriteTo(s.w)
	for i, b := range s.heldBufs {
		pool.Put(b)
		s.heldBufs[i] = nil
	}
	clear(s.held)
	s.held, s.heldBufs = s.held[:0], s.heldBufs[:0]
	return err
}

// emit writes p, or holds it back while corked; buf, which p lies in,
// goes back to the pool once written (nil for bytes not pooled).
func (s *sender) emit(p []byte, buf *pool.Buffer) error {
	if s.corked {
		s.held = append(s.held, p)
		s.heldBufs = append(s.heldBufs, buf)
		return nil
	}
	_, err := s.w.Write(p)
	pool.Put(buf)
	return err
}

// sendCompression is the compression of the write direction.
type sendCompression struct {
	c       *compression.Compressor // non-nil while payloads are compressed
	stream  *compression.Compressor // kept across key exchanges, reset for each
	level   int
	pending bool         // zlib@openssh.com waits for auth
	auth    *atomic.Bool // USERAUTH_SUCCESS has passed (Conn.authSeen)
	// server: the server's sender sets auth as it writes USERAUTH_SUCCESS.
	server bool
}

// set installs the method negotiated for keys that take effect now: the
// stream restarts (RFC 4253 §6.2: "The compression context is initialized
// after each key exchange").
func (s *sendCompression) set(method string) {
	s.c, s.pending = nil, false
	switch {
	case !compression.Enabled(method):
	case compression.Delayed(method) && !s.auth.Load():
		s.pending = true
	default:
		s.start()
	}
}

func (s *sendCompression) start() {
	if s.stream == nil {
		c, err := compression.NewCompressor(s.level)
		if err != nil {
			panic("zerossh: compression level passed Config.validate: " + err.Error())
		}
		s.stream = c
	} else {
		s.stream.Reset()
	}
	s.c, s.pending = s.stream, false
}

// sent notes the message number of a payload about to be written.
// OpenSSH's packet.c starts delayed compression where USERAUTH_SUCCESS
// passes: on the server as it sends it, for the packets after it in both
// directions, and on the client as it receives it. The server's read side
// must know before the client can answer, hence before the write.
func (s *sendCompression) sent(msg byte) {
	if s.server && msg == wire.MsgUserauthSuccess {
		s.auth.Store(true)
	}
}

// writePacket frames, compresses if on, seals and writes one packet. fill
// writes the n payload bytes into their final place in the packet
// buffer, or into a buffer of their own when compression is on. padTo,
// when above the block size, pads the packet to a multiple of it instead,
// to hide the payload's length (OpenSSH does so for passwords).
func (s *sender) writePacket(n, padTo int, fill func(payload []byte)) error {
	if s.seq == ^uint32(0) {
		return ErrSeqWrap
	}
	if s.compress.pending && s.compress.auth.Load() {
		s.compress.start()
	}
	bs, overhead, lengthInBlocks := clearBlockSize, 0, true
	if s.sealer != nil {
		bs, overhead, lengthInBlocks = s.sealer.BlockSize(), s.sealer.Overhead(), s.sealer.LengthInBlocks()
	}
	var buf *pool.Buffer
	var padding, total int
	if s.compress.c == nil {
		padding, total = packetLayout(n, padTo, bs, lengthInBlocks)
		buf = pool.Get(total + overhead)
		payload := buf.B[5 : 5+n]
		fill(payload)
		s.compress.sent(payload[0])
	} else {
		raw := pool.Get(n)
		raw.B = raw.B[:n]
		fill(raw.B)
		s.compress.sent(raw.B[0])
		// The compressed payload goes straight to its place in the
		// packet; padding is at most 255 bytes.
		bound := compression.Bound(n)
		buf = pool.Get(5 + bound + 255 + overhead)
		z, err := s.compress.c.Compress(buf.B[5:5:5+bound], raw.B)
		pool.Put(raw)
		if err != nil {
			pool.Put(buf)
			return err
		}
		n = len(z)
		padding, total = packetLayout(n, padTo, bs, lengthInBlocks)
	}
	p := buf.B[:total]
	binary.BigEndian.PutUint32(p, uint32(total-4))
	p[4] = byte(padding)
	s.rng.Read(p[5+n:])
	if s.sealer != nil {
		p = s.sealer.Seal(s.seq, p)
	}
	err := s.emit(p, buf)
	s.seq++
	s.bytes += uint64(len(p))
	s.packets++
	return err
}

// packetLayout returns the padding and the length of a packet with n
// payload bytes, before the MAC or tag (RFC 4253 §6).
func packetLayout(n, padTo, bs int, lengthInBlocks bool) (padding, total int) {
	unpadded := 1 + n
	if lengthInBlocks {
		unpadded += 4
	}
	align := bs
	if padTo > bs {
		align = (padTo + bs - 1) / bs * bs
	}
	padding = align - unpadded%align
	if padding < minPadding {
		padding += align
	}
	if padding > 255 { // padding_length is one byte
		padding = bs - unpadded%bs
		if padding < minPadding {
			padding += bs
		}
	}
	return padding, 4 + 1 + n + padding
}

// receiver is the read direction of the binary packet protocol. It is
// owned by the goroutine that reads the connection.
type receiver struct {
	r         *bufio.Reader
	opener    cipher.Opener // nil until the first NEWKEYS
	seq       uint32
	maxPacket uint32
	// Traffic under the current keys, and its byte budget.
	bytes, packets, limit uint64
	// first holds the start of a packet until its length is known; a
	// field, not a local, because passing it to the opener would move a
	// local to the heap.
	first      [32]byte
	decompress recvCompression
}

// recvCompression is the compression of the read direction.
type recvCompression struct {
	d       *compression.Decompressor // non-nil while payloads are compressed
	stream  *compression.Decompressor // kept across key exchanges, reset for each
	pending bool                      // zlib@openssh.com waits for auth
	auth    *atomic.Bool              // Conn.authSeen
	// client: the client's receiver sets auth as USERAUTH_SUCCESS arrives.
	client bool
	trace  func(compressed, payload []byte) // Config.traceInflate
}

// set is sendCompression.set for the read direction, at the peer's
// NEWKEYS.
func (r *recvCompression) set(method string) {
	r.d, r.pending = nil, false
	switch {
	case !compression.Enabled(method):
	case compression.Delayed(method) && !r.auth.Load():
		r.pending = true
	default:
		r.start()
	}
}

func (r *recvCompression) start() {
	if r.stream == nil {
		r.stream = compression.NewDecompressor()
	} else {
		r.stream.Reset()
	}
	r.d, r.pending = r.stream, false
}

// minInflateBuffer is the first output buffer of a compressed packet
// that is not tiny: one that holds a full 32 KiB channel packet, the
// size OpenSSH sends. Larger output grows it fourfold.
const minInflateBuffer = 32<<10 + 1024

// readPacket reads, verifies, decrypts and, if on, decompresses one
// packet. The payload aliases buf, which the caller returns to the pool
// when done; seq is the packet's sequence number.
func (r *receiver) readPacket() (buf *pool.Buffer, payload []byte, seq uint32, err error) {
	if r.seq == ^uint32(0) {
		return nil, nil, 0, ErrSeqWrap
	}
	firstLen, bs, overhead, lengthInBlocks := 4, clearBlockSize, 0, true
	if r.opener != nil {
		firstLen, bs, overhead, lengthInBlocks = r.opener.FirstLen(), r.opener.BlockSize(), r.opener.Overhead(), r.opener.LengthInBlocks()
	}
	first := r.first[:firstLen]
	if _, err := io.ReadFull(r.r, first); err != nil {
		return nil, nil, 0, err
	}
	var length uint32
	if r.opener != nil {
		length = r.opener.PacketLength(r.seq, first)
	} else {
		length = binary.BigEndian.Uint32(first)
	}
	// The checks and their order follow OpenSSH's packet.c: the length
	// bounds first, then the block alignment, then the MAC, then the
	// padding length.
	if length < 1+minPadding || length > r.maxPacket {
		return nil, nil, 0, ErrBadPacketLength
	}
	aligned := length
	if lengthInBlocks {
		aligned += 4
	}
	if aligned%uint32(bs) != 0 {
		return nil, nil, 0, ErrBadPacketLength
	}
	total := 4 + int(length) + overhead
	buf = pool.Get(total)
	p := buf.B[:total]
	copy(p, first)
	if _, err := io.ReadFull(r.r, p[firstLen:]); err != nil {
		pool.Put(buf)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, 0, err
	}
	if r.opener != nil {
		if p, err = r.opener.Open(r.seq, p); err != nil {
			pool.Put(buf)
			return nil, nil, 0, err
		}
	}
	padding := uint32(p[4])
	if padding < minPadding || padding+1 >= length {
		pool.Put(buf)
		return nil, nil, 0, ErrBadPadding
	}
	seq = r.seq
	r.seq++
	r.bytes += uint64(total)
	r.packets++
	payload = p[5 : 4+length-padding]
	// Checked here, after the read: on the server, auth may have been set
	// while this packet was on its way.
	if r.decompress.pending && r.decompress.auth.Load() {
		r.decompress.start()
	}
	if r.decompress.d != nil {
		in := buf
		compressed := payload
		buf, payload, err = r.inflate(payload)
		if err == nil && r.decompress.trace != nil {
			r.decompress.trace(compressed, payload)
		}
		pool.Put(in)
		if err != nil {
			return nil, nil, 0, err
		}
	}
	if r.decompress.client && payload[0] == wire.MsgUserauthSuccess {
		r.decompress.auth.Store(true)
	}
	return buf, payload, seq, nil
}

// inflate decompresses a packet's payload into a pooled buffer of its
// own, which grows up to MaxPacketSize bytes of payload and no further:
// a payload that inflates past that costs no more than that buffer.
func (r *receiver) inflate(in []byte) (*pool.Buffer, []byte, error) {
	limit := int(r.maxPacket)
	buf := pool.Get(min(limit, minInflateBuffer, max(4*len(in), 512)))
	out, err := r.decompress.d.Decompress(buf.B[:0:min(cap(buf.B), limit)], in)
	for errors.Is(err, compression.ErrShortBuffer) && len(out) < limit {
		bigger := pool.Get(min(limit, 4*cap(out)))
		next := append(bigger.B[:0:min(cap(bigger.B), limit)], out...)
		pool.Put(buf)
		buf = bigger
		out, err = r.decompress.d.Continue(next)
	}
	switch {
	case errors.Is(err, compression.ErrShortBuffer):
		err = fmt.Errorf("%w: payload decompresses past %d bytes", ErrCompression, limit)
	case err != nil:
		err = fmt.Errorf("%w: %w", ErrCompression, err)
	case len(out) == 0:
		err = fmt.Errorf("%w: payload decompresses to nothing", ErrCompression)
	}
	if err != nil {
		pool.Put(buf)
		return nil, nil, err
	}
	return buf, out, nil
}
