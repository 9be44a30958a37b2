package chachastream

import (
	"crypto/subtle"
	"encoding/binary"
	"math/bits"
)

// XORBlock XORs b, at most 64 bytes, in place with ChaCha20 block counter
// of key and nonce (RFC 8439 §2.3). One block is cheaper in plain Go than
// a batch of the assembly, and unlike x/crypto/chacha20 this never
// allocates: x/crypto's Cipher stays on the stack only when the compiler
// inlines its constructor, which a build with a PGO profile was seen not
// to do, costing chacha20-poly1305@openssh.com an allocation per packet.
func XORBlock(b []byte, key *[32]byte, nonce *[12]byte, counter uint32) {
	if len(b) > 64 {
		panic("chachastream: XORBlock takes at most 64 bytes")
	}
	var ks [64]byte
	s := initialState(key, nonce, counter)
	block(&ks, &s)
	subtle.XORBytes(b, b, ks[:len(b)])
}

// initialState is the ChaCha20 state of RFC 8439 §2.3.
func initialState(key *[32]byte, nonce *[12]byte, counter uint32) [16]uint32 {
	return [16]uint32{
		0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, // "expand 32-byte k"
		binary.LittleEndian.Uint32(key[0:4]),
		binary.LittleEndian.Uint32(key[4:8]),
		binary.LittleEndian.Uint32(key[8:12]),
		binary.LittleEndian.Uint32(key[12:16]),
		binary.LittleEndian.Uint32(key[16:20]),
		binary.LittleEndian.Uint32(key[20:24]),
		binary.LittleEndian.Uint32(key[24:28]),
		binary.LittleEndian.Uint32(key[28:32]),
		counter,
		binary.LittleEndian.Uint32(nonce[0:4]),
		binary.LittleEndian.Uint32(nonce[4:8]),
		binary.LittleEndian.Uint32(nonce[8:12]),
	}
}

// block writes the keystream block of state s to out: 20 rounds, then
// the input added (RFC 8439 §2.3).
func block(out *[64]byte, s *[16]uint32) {
	x0, x1, x2, x3 := s[0], s[1], s[2], s[3]
	x4, x5, x6, x7 := s[4], s[5], s[6], s[7]
	x8, x9, x10, x11 := s[8], s[9], s[10], s[11]
	x12, x13, x14, x15 := s[12], s[13], s[14], s[15]
	for range 10 {
		// Column round, then diagonal round.
		x0, x4, x8, x12 = quarterRound(x0, x4, x8, x12)
		x1, x5, x9, x13 = quarterRound(x1, x5, x9, x13)
		x2, x6, x10, x14 = quarterRound(x2, x6, x10, x14)
		x3, x7, x11, x15 = quarterRound(x3, x7, x11, x15)
		x0, x5, x10, x15 = quarterRound(x0, x5, x10, x15)
		x1, x6, x11, x12 = quarterRound(x1, x6, x11, x12)
		x2, x7, x8, x13 = quarterRound(x2, x7, x8, x13)
		x3, x4, x9, x14 = quarterRound(x3, x4, x9, x14)
	}
	for i, x := range [16]uint32{x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15} {
		binary.LittleEndian.PutUint32(out[4*i:], x+s[i])
	}
}

// quarterRound is RFC 8439 §2.1.
func quarterRound(a, b, c, d uint32) (uint32, uint32, uint32, uint32) {
	a += b
	d = bits.RotateLeft32(d^a, 16)
	c += d
	b = bits.RotateLeft32(b^c, 12)
	a += b
	d = bits.RotateLeft32(d^a, 8)
	c += d
	b = bits.RotateLeft32(b^c, 7)
	return a, b, c, d
}
