package cipher

import (
	"encoding/binary"

	"golang.org/x/crypto/chacha20"

	"github.com/zerossh/zerossh/cipher/internal/chachastream"
	"github.com/zerossh/zerossh/cipher/internal/poly1305x"
)

const (
	chachaName      = "chacha20-poly1305@openssh.com"
	chachaKeyLen    = 64 // K_2 || K_1
	chachaBlockSize = 8  // RFC 4253 §6: the minimum, as for any stream cipher
	chachaTagSize   = poly1305x.TagSize
)

// chachaAlgorithm is chacha20-poly1305@openssh.com as OpenSSH's
// PROTOCOL.chacha20poly1305 defines it. It derives no IV: the nonce is
// the sequence number.
var chachaAlgorithm = &Algorithm{
	Name:   chachaName,
	KeyLen: chachaKeyLen,
	AEAD:   true,
	NewSealer: func(key, _ []byte, _ MAC, _ []byte) (Sealer, error) {
		return newChaCha(key)
	},
	NewOpener: func(key, _ []byte, _ MAC, _ []byte) (Opener, error) {
		return newChaCha(key)
	},
}

// chachaCipher is one direction of chacha20-poly1305@openssh.com. Per
// packet, with the nonce uint64(seq):
//
//	encrypted length = packet_length XOR ChaCha20(K_1, block 0)
//	poly key         = first 32 bytes of ChaCha20(K_2, block 0)
//	encrypted rest   = rest XOR ChaCha20(K_2, blocks 1...)
//	tag              = Poly1305(poly key, encrypted length || encrypted rest)
//
// The rest, the bulk of the work, is encrypted by
// internal/chachastream, whose AVX2 assembly on amd64 computes eight
// ChaCha20 blocks at a time; x/crypto/chacha20 has no assembly on amd64,
// and x/crypto/chacha20poly1305's has none without its own Poly1305 pass.
// Elsewhere chachastream is x/crypto/chacha20 itself (which has assembly
// on arm64, ppc64x, s390x and loong64). The two single blocks (length and
// poly key) come from chachastream.XORBlock, plain Go that never
// allocates, and the tag from internal/poly1305x, AVX2 assembly for
// long packets (x/crypto/poly1305's amd64 assembly is scalar) and
// x/crypto/poly1305 otherwise.
type chachaCipher struct {
	lengthKey  [32]byte // K_1
	payloadKey [32]byte // K_2
	// fast is chachaStream when the cipher was made: whether the
	// payload goes through chachastream rather than x/crypto/chacha20.
	fast bool
	// nonce is the 12-byte nonce of RFC 8439 that equals the original
	// ChaCha20's 64-bit block counter and 64-bit nonce uint64(seq): four
	// zero bytes (the counter's high half) || uint64(seq), big-endian.
	nonce [chacha20.NonceSize]byte

	// The opener keeps the packet_length that PacketLength decrypted, so
	// that Open does not derive a ChaCha20 block for it again.
	lenSeq   uint32
	lenCiph  [4]byte
	lenPlain [4]byte
	lenValid bool
}

// chachaStream reports whether chacha20-poly1305@openssh.com ciphers
// made from now on encrypt the payload through chachastream, rather than
// with x/crypto/chacha20 directly: by default, where chachastream runs its
// assembly. The tests switch it with SetChaChaStream to cover both paths.
var chachaStream = chachastream.Accelerated

var (
	_ Sealer = (*chachaCipher)(nil)
	_ Opener = (*chachaCipher)(nil)
)

func newChaCha(key []byte) (*chachaCipher, error) {
	if err := checkLen(chachaName, "key", key, chachaKeyLen); err != nil {
		return nil, err
	}
	// PROTOCOL.chacha20poly1305: "The first 256 bits constitute K_2 and
	// the second 256 bits become K_1."
	c := &chachaCipher{}
	copy(c.payloadKey[:], key[:32])
	copy(c.lengthKey[:], key[32:])
	c.fast = chachaStream
	return c, nil
}

func (c *chachaCipher) BlockSize() int       { return chachaBlockSize }
func (c *chachaCipher) Overhead() int        { return chachaTagSize }
func (c *chachaCipher) LengthInBlocks() bool { return false }
func (c *chachaCipher) FirstLen() int        { return 4 }

// setNonce makes the sequence number the ChaCha20 nonce.
// PROTOCOL.chacha20poly1305: "an IV consisting of the packet sequence
// number encoded as an uint64 under the SSH wire encoding rules".
func (c *chachaCipher) setNonce(seq uint32) {
	binary.BigEndian.PutUint32(c.nonce[8:], seq)
}

// xorBlock0 XORs b, at most 64 bytes, with ChaCha20 block 0 of key under
// the current nonce.
func (c *chachaCipher) xorBlock0(key *[32]byte, b []byte) {
	chachastream.XORBlock(b, key, &c.nonce, 0)
}

// polyKey returns the Poly1305 key, ChaCha20(K_2) at block counter 0.
func (c *chachaCipher) polyKey() [32]byte {
	var k [32]byte
	c.xorBlock0(&c.payloadKey, k[:])
	return k
}

// xorPayload encrypts or decrypts b in place with ChaCha20(K_2) from block
// counter 1. It writes nothing past len(b). packet_length is 32 bits, so
// b spans fewer than 2^26 blocks: the 32-bit block counter, which both
// paths would panic on rather than wrap, cannot overflow.
func (c *chachaCipher) xorPayload(b []byte) {
	if c.fast {
		chachastream.XORKeyStream(b, b, &c.payloadKey, &c.nonce, 1)
		return
	}
	s, err := chacha20.NewUnauthenticatedCipher(c.payloadKey[:], c.nonce[:])
	if err != nil {
		panic("cipher: chacha20: " + err.Error()) // key and nonce sizes are constants
	}
	s.SetCounter(1)
	s.XORKeyStream(b, b)
}

// Seal encrypts p in place and appends the tag.
func (c *chachaCipher) Seal(seq uint32, p []byte) []byte {
	n := len(p)
	c.setNonce(seq)
	c.xorBlock0(&c.lengthKey, p[:4])
	c.xorPayload(p[4:])
	k := c.polyKey()
	poly1305x.Sum((*[chachaTagSize]byte)(p[n:n+chachaTagSize]), p[:n], &k)
	return p[:n+chachaTagSize]
}

// PacketLength decrypts packet_length from a copy of first[:4]: the
// ciphertext must stay as it is, since the tag covers it. It returns 0 if
// first is shorter than 4 bytes.
func (c *chachaCipher) PacketLength(seq uint32, first []byte) uint32 {
	if len(first) < 4 {
		return 0
	}
	c.setNonce(seq)
	c.lenSeq = seq
	c.lenCiph = [4]byte(first)
	c.lenPlain = c.lenCiph
	c.xorBlock0(&c.lengthKey, c.lenPlain[:])
	c.lenValid = true
	return binary.BigEndian.Uint32(c.lenPlain[:])
}

// Open verifies the tag in constant time before it decrypts anything
// (PROTOCOL.chacha20poly1305: "the MAC MUST be checked before
// decryption"), then decrypts p in place, packet_length included.
func (c *chachaCipher) Open(seq uint32, p []byte) ([]byte, error) {
	n := len(p) - chachaTagSize
	if n < 4 {
		return nil, ErrMAC
	}
	c.setNonce(seq)
	k := c.polyKey()
	if !poly1305x.Verify((*[chachaTagSize]byte)(p[n:]), p[:n], &k) {
		return nil, ErrMAC
	}
	c.xorPayload(p[4:n])
	if c.lenValid && c.lenSeq == seq && c.lenCiph == [4]byte(p) {
		copy(p, c.lenPlain[:])
	} else {
		c.xorBlock0(&c.lengthKey, p[:4])
	}
	c.lenValid = false
	return p[:n], nil
}
