package cipher

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
)

const (
	gcmBlockSize = 16 // RFC 5647 §7.2: AES-GCM packets are padded to 16 bytes
	gcmIVLen     = 12 // RFC 5647 §7.1: fixed field (4) || invocation counter (8)
	gcmTagSize   = 16 // RFC 5647 §7.3: the authentication tag is 16 octets
)

// gcmAlgorithm describes aes128-gcm@openssh.com or aes256-gcm@openssh.com.
// OpenSSH's PROTOCOL §1.6 keeps RFC 5647's packet format but negotiates
// the cipher by itself: the MAC algorithm is ignored.
func gcmAlgorithm(name string, keyLen int) *Algorithm {
	newGCM := func(key, iv []byte) (*gcmCipher, error) {
		if err := checkLen(name, "key", key, keyLen); err != nil {
			return nil, err
		}
		if err := checkLen(name, "IV", iv, gcmIVLen); err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c := &gcmCipher{aead: aead}
		copy(c.nonce[:], iv)
		return c, nil
	}
	return &Algorithm{
		Name:   name,
		KeyLen: keyLen,
		IVLen:  gcmIVLen,
		AEAD:   true,
		NewSealer: func(key, iv []byte, _ MAC, _ []byte) (Sealer, error) {
			return newGCM(key, iv)
		},
		NewOpener: func(key, iv []byte, _ MAC, _ []byte) (Opener, error) {
			return newGCM(key, iv)
		},
	}
}

// gcmCipher is one direction of AES-GCM. The packet_length travels in
// clear as the additional authenticated data; the rest of the packet is
// the GCM plaintext (RFC 5647 §7.3).
type gcmCipher struct {
	aead  cipher.AEAD
	nonce [gcmIVLen]byte
	// aad holds a copy of packet_length: crypto/cipher's GCM checks that
	// the additional data does not overlap its output, and a copy keeps
	// that true whatever the caller's slices look like.
	aad [4]byte
}

var (
	_ Sealer = (*gcmCipher)(nil)
	_ Opener = (*gcmCipher)(nil)
)

func (c *gcmCipher) BlockSize() int       { return gcmBlockSize }
func (c *gcmCipher) Overhead() int        { return gcmTagSize }
func (c *gcmCipher) LengthInBlocks() bool { return false }
func (c *gcmCipher) FirstLen() int        { return 4 }

// nextNonce increments the invocation counter. RFC 5647 §7.1: "The
// invocation counter is treated as a 64-bit integer and is incremented
// after each invocation of AES-GCM to process a binary packet." It is
// not the sequence number.
func (c *gcmCipher) nextNonce() {
	ic := binary.BigEndian.Uint64(c.nonce[4:])
	binary.BigEndian.PutUint64(c.nonce[4:], ic+1)
}

// Seal encrypts p[4:] in place and appends the tag; seq is not used, the
// nonce carries its own counter.
func (c *gcmCipher) Seal(_ uint32, p []byte) []byte {
	copy(c.aad[:], p[:4])
	c.aead.Seal(p[4:4], c.nonce[:], p[4:], c.aad[:])
	c.nextNonce()
	return p[:len(p)+gcmTagSize]
}

// PacketLength returns the packet_length sent in clear, or 0 if first is
// shorter than 4 bytes.
func (c *gcmCipher) PacketLength(_ uint32, first []byte) uint32 {
	if len(first) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(first)
}

// Open verifies the tag and decrypts p[4:] in place. The invocation
// counter only moves on a packet that verifies; after ErrMAC the
// direction's state is of no further use.
func (c *gcmCipher) Open(_ uint32, p []byte) ([]byte, error) {
	if len(p) < 4+gcmTagSize {
		return nil, ErrMAC
	}
	copy(c.aad[:], p[:4])
	if _, err := c.aead.Open(p[4:4], c.nonce[:], p[4:], c.aad[:]); err != nil {
		return nil, ErrMAC
	}
	c.nextNonce()
	return p[:len(p)-gcmTagSize], nil
}
