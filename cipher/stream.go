package cipher

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
)

// maxMACSize bounds the MAC sizes a stream cipher can verify: SHA-512's.
const maxMACSize = 64

// ctrAlgorithm describes aes128-ctr, aes192-ctr or aes256-ctr (RFC 4344
// §4). The IV is the initial counter block, and the counter is
// incremented after every block across packet boundaries, never reset
// for a new packet: one CTR stream serves the whole direction.
func ctrAlgorithm(name string, keyLen int) *Algorithm {
	newCTR := func(key, iv []byte, m MAC, macKey []byte) (packetCipher, error) {
		if err := checkLen(name, "key", key, keyLen); err != nil {
			return nil, err
		}
		if err := checkLen(name, "IV", iv, aes.BlockSize); err != nil {
			return nil, err
		}
		if m == nil {
			return nil, fmt.Errorf("cipher: %s needs a MAC", name)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return newStream(cipher.NewCTR(block, iv), aes.BlockSize, m, macKey)
	}
	return &Algorithm{
		Name:   name,
		KeyLen: keyLen,
		IVLen:  aes.BlockSize,
		NewSealer: func(key, iv []byte, m MAC, macKey []byte) (Sealer, error) {
			return newCTR(key, iv, m, macKey)
		},
		NewOpener: func(key, iv []byte, m MAC, macKey []byte) (Opener, error) {
			return newCTR(key, iv, m, macKey)
		},
	}
}

// packetCipher is a cipher that serves either direction.
type packetCipher interface {
	Sealer
	Opener
}

// newStream combines a stream cipher (nil for "none") with a MAC (nil for
// the "none" MAC) in the order the MAC's name asks for.
func newStream(s cipher.Stream, blockSize int, m MAC, macKey []byte) (packetCipher, error) {
	st := streamState{stream: s, blockSize: blockSize}
	if m == nil {
		return &encryptAndMAC{st}, nil
	}
	if err := checkLen(m.Name(), "MAC key", macKey, m.KeyLen()); err != nil {
		return nil, err
	}
	if m.Size() > maxMACSize {
		return nil, fmt.Errorf("cipher: %s: MAC size %d is over %d", m.Name(), m.Size(), maxMACSize)
	}
	st.mac = m.New(macKey)
	st.macSize = m.Size()
	if m.ETM() {
		return &encryptThenMAC{st}, nil
	}
	return &encryptAndMAC{st}, nil
}

// streamState is what both MAC orders keep per direction.
type streamState struct {
	stream    cipher.Stream // nil for "none"
	blockSize int
	mac       MACState // nil for the "none" MAC
	macSize   int
	sum       [maxMACSize]byte // the MAC an opener computes
}

func (s *streamState) BlockSize() int { return s.blockSize }
func (s *streamState) Overhead() int  { return s.macSize }

func (s *streamState) xor(b []byte) {
	if s.stream != nil {
		s.stream.XORKeyStream(b, b)
	}
}

// verify compares, in constant time, the MAC of uint32(seq) || data with
// tag.
func (s *streamState) verify(seq uint32, data, tag []byte) bool {
	sum := s.mac.Sum(s.sum[:], seq, data)
	return subtle.ConstantTimeCompare(sum, tag) == 1
}

// encryptAndMAC is RFC 4253 §6.4's order: "mac = MAC(key, sequence_number
// || unencrypted_packet)", and the whole packet, packet_length included,
// is encrypted (RFC 4253 §6.3).
type encryptAndMAC struct{ streamState }

var (
	_ Sealer = (*encryptAndMAC)(nil)
	_ Opener = (*encryptAndMAC)(nil)
)

func (c *encryptAndMAC) LengthInBlocks() bool { return true }

// FirstLen is one cipher block: RFC 4253 §6 "Implementations SHOULD
// decrypt the length after receiving the first 8 (or cipher block size,
// whichever is larger) bytes of a packet."
func (c *encryptAndMAC) FirstLen() int { return c.blockSize }

// Seal computes the MAC over the plaintext into p's tail, then encrypts p
// in place.
func (c *encryptAndMAC) Seal(seq uint32, p []byte) []byte {
	n := len(p)
	if c.mac != nil {
		c.mac.Sum(p[n:n+c.macSize], seq, p)
	}
	c.xor(p)
	return p[:n+c.macSize]
}

// PacketLength decrypts the first block in place and returns
// packet_length from it. It returns 0, and decrypts nothing, if first is
// shorter than a block.
func (c *encryptAndMAC) PacketLength(_ uint32, first []byte) uint32 {
	if len(first) < c.blockSize {
		return 0
	}
	c.xor(first[:c.blockSize])
	return binary.BigEndian.Uint32(first)
}

// Open decrypts the rest of p in place, carrying on from the block
// PacketLength decrypted, then checks the MAC over the plaintext.
func (c *encryptAndMAC) Open(seq uint32, p []byte) ([]byte, error) {
	n := len(p) - c.macSize
	if n < c.blockSize {
		return nil, ErrMAC
	}
	c.xor(p[c.blockSize:n])
	if c.mac != nil && !c.verify(seq, p[:n], p[n:]) {
		return nil, ErrMAC
	}
	return p[:n], nil
}

// encryptThenMAC is the -etm@openssh.com order (OpenSSH PROTOCOL §1.5):
// packet_length travels in clear and "mac = MAC(key, sequence_number ||
// packet_length || encrypted_packet)", so the receiver checks the MAC
// before it decrypts anything.
type encryptThenMAC struct{ streamState }

var (
	_ Sealer = (*encryptThenMAC)(nil)
	_ Opener = (*encryptThenMAC)(nil)
)

func (c *encryptThenMAC) LengthInBlocks() bool { return false }
func (c *encryptThenMAC) FirstLen() int        { return 4 }

// Seal encrypts p[4:] in place, then appends the MAC over the clear
// packet_length and the ciphertext.
func (c *encryptThenMAC) Seal(seq uint32, p []byte) []byte {
	n := len(p)
	c.xor(p[4:])
	c.mac.Sum(p[n:n+c.macSize], seq, p)
	return p[:n+c.macSize]
}

// PacketLength returns the packet_length sent in clear, or 0 if first is
// shorter than 4 bytes.
func (c *encryptThenMAC) PacketLength(_ uint32, first []byte) uint32 {
	if len(first) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(first)
}

// Open checks the MAC, then decrypts p[4:] in place.
func (c *encryptThenMAC) Open(seq uint32, p []byte) ([]byte, error) {
	n := len(p) - c.macSize
	if n < 4 {
		return nil, ErrMAC
	}
	if !c.verify(seq, p[:n], p[n:]) {
		return nil, ErrMAC
	}
	c.xor(p[4:n])
	return p[:n], nil
}
