// Package cipher protects SSH binary packets (RFC 4253 §6): the AEAD
// modes aes128-gcm@openssh.com, aes256-gcm@openssh.com (RFC 5647 as
// OpenSSH's PROTOCOL amends it) and chacha20-poly1305@openssh.com
// (OpenSSH's PROTOCOL.chacha20poly1305), and aes{128,192,256}-ctr (RFC
// 4344) with a MAC from package mac, in both its encrypt-and-MAC and its
// encrypt-then-MAC (-etm@openssh.com) forms.
//
// Every method works in place on a buffer the caller owns, and none
// allocates once a Sealer or Opener exists.
package cipher

import "errors"

// A packet here is the whole binary packet as it travels, from the
// 4-byte packet_length to the end of the MAC or tag:
//
//	uint32    packet_length
//	byte      padding_length
//	byte[n1]  payload
//	byte[n2]  random padding
//	byte[m]   mac or tag (Overhead bytes)

// Sealer encrypts and authenticates outgoing packets.
type Sealer interface {
	// BlockSize is the multiple that the padded packet must reach; at
	// least 8 (RFC 4253 §6).
	BlockSize() int
	// Overhead is the number of MAC or tag bytes Seal appends.
	Overhead() int
	// LengthInBlocks reports whether packet_length counts towards the
	// block alignment. It does for encrypt-and-MAC; it does not for the
	// AEAD and encrypt-then-MAC modes, whose length is sent apart.
	LengthInBlocks() bool
	// Seal protects the packet p, whose lengths and padding are filled
	// in, under sequence number seq. It encrypts p in place and writes
	// the tag into p[len(p):len(p)+Overhead()], which must be within
	// cap(p), and returns p extended by the tag.
	Seal(seq uint32, p []byte) []byte
}

// Opener verifies and decrypts incoming packets.
type Opener interface {
	// BlockSize is the multiple that the padded packet must reach.
	BlockSize() int
	// Overhead is the number of MAC or tag bytes after the packet.
	Overhead() int
	// LengthInBlocks is as for Sealer.
	LengthInBlocks() bool
	// FirstLen is the number of leading bytes PacketLength needs: 4 when
	// the length travels apart, the block size for encrypt-and-MAC.
	FirstLen() int
	// PacketLength returns packet_length from the first FirstLen bytes of
	// a packet. For encrypt-and-MAC it decrypts those bytes in place, once:
	// Open then carries on from there and never decrypts them again. It
	// returns 0, which no valid packet has, if first is shorter than
	// FirstLen. The length is not authenticated until Open succeeds.
	PacketLength(seq uint32, first []byte) uint32
	// Open verifies and decrypts p in place. p runs from packet_length to
	// the end of the tag and has been passed to PacketLength first. It
	// returns the plaintext packet without the tag, aliasing p, or
	// ErrMAC; on ErrMAC the contents of p are unspecified.
	Open(seq uint32, p []byte) ([]byte, error)
}

// ErrMAC reports a packet whose MAC or authentication tag does not verify.
var ErrMAC = errors.New("ssh: message authentication failed")

// Algorithm describes one cipher as negotiated in KEXINIT.
type Algorithm struct {
	Name   string // the name in KEXINIT's encryption_algorithms
	KeyLen int    // bytes of encryption key to derive
	IVLen  int    // bytes of IV to derive
	// AEAD ciphers authenticate by themselves; the negotiated MAC is
	// ignored (OpenSSH PROTOCOL §1.6) and no MAC key is derived.
	AEAD bool
	// NewSealer and NewOpener return the Sealer and Opener for one
	// direction's keys. m and macKey are nil for AEAD ciphers, which
	// ignore them; the other ciphers need a MAC and its key of
	// m.KeyLen() bytes. They fail on a key or IV of the wrong length.
	NewSealer func(key, iv []byte, m MAC, macKey []byte) (Sealer, error)
	NewOpener func(key, iv []byte, m MAC, macKey []byte) (Opener, error)
}

// MAC is the view of a package mac algorithm that a cipher needs.
type MAC interface {
	// Name is the algorithm name, e.g. "hmac-sha2-256-etm@openssh.com".
	Name() string
	// ETM reports an encrypt-then-MAC algorithm.
	ETM() bool
	// Size is the tag length.
	Size() int
	// KeyLen is the key length to derive.
	KeyLen() int
	// New returns a keyed MAC state that can be reused packet after packet.
	New(key []byte) MACState
}

// MACState computes one packet's tag at a time without allocating.
type MACState interface {
	// Sum returns the MAC of uint32(seq) || data, written to dst[:0],
	// where dst has room for Size bytes.
	Sum(dst []byte, seq uint32, data []byte) []byte
}
