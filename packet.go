package zerossh

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/pool"
)

// Packet faults. The transport ends the connection with DISCONNECT
// reason protocol error for each, as OpenSSH's packet.c does ("Packet
// corrupt"); errors.Is tells them apart.
var (
	ErrBadPacketLength = errors.New("ssh: bad packet length")
	ErrBadPadding      = errors.New("ssh: bad padding")
	ErrMAC             = cipher.ErrMAC
	ErrSeqWrap         = errors.New("ssh: sequence number would wrap before a rekey")
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
}

// writePacket frames, seals and writes one packet. fill writes the n
// payload bytes into their final place in the packet buffer. padTo, when
// above the block size, pads the packet to a multiple of it instead, to
// hide the payload's length (OpenSSH does so for passwords).
func (s *sender) writePacket(n, padTo int, fill func(payload []byte)) error {
	if s.seq == ^uint32(0) {
		return ErrSeqWrap
	}
	bs, overhead, lengthInBlocks := clearBlockSize, 0, true
	if s.sealer != nil {
		bs, overhead, lengthInBlocks = s.sealer.BlockSize(), s.sealer.Overhead(), s.sealer.LengthInBlocks()
	}
	unpadded := 1 + n
	if lengthInBlocks {
		unpadded += 4
	}
	align := bs
	if padTo > bs {
		align = (padTo + bs - 1) / bs * bs
	}
	padding := align - unpadded%align
	if padding < minPadding {
		padding += align
	}
	if padding > 255 { // padding_length is one byte
		padding = bs - unpadded%bs
		if padding < minPadding {
			padding += bs
		}
	}
	total := 4 + 1 + n + padding
	buf := pool.Get(total + overhead)
	p := buf.B[:total]
	binary.BigEndian.PutUint32(p, uint32(total-4))
	p[4] = byte(padding)
	fill(p[5 : 5+n])
	s.rng.Read(p[5+n:])
	if s.sealer != nil {
		p = s.sealer.Seal(s.seq, p)
	}
	_, err := s.w.Write(p)
	pool.Put(buf)
	s.seq++
	s.bytes += uint64(len(p))
	s.packets++
	return err
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
	first [32]byte
}

// readPacket reads, verifies and decrypts one packet. The payload aliases
// buf, which the caller returns to the pool when done; seq is the
// packet's sequence number.
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
	return buf, p[5 : 4+length-padding], seq, nil
}
