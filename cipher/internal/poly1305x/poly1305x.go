// Package poly1305x implements the Poly1305 one-time authenticator
// (RFC 8439, section 2.5) with an AVX2-vectorised bulk loop on amd64.
//
// Sum and Verify are drop-in equivalents of golang.org/x/crypto/poly1305.Sum
// and Verify. On amd64 with AVX2 (and not built with the purego tag) long
// messages are processed four 16-byte blocks at a time in radix 2^26; all
// other configurations call golang.org/x/crypto/poly1305 directly.
package poly1305x

import "crypto/subtle"

// TagSize is the size, in bytes, of a Poly1305 authenticator.
const TagSize = 16

// Sum generates an authenticator for msg using a one-time key and puts the
// 16-byte result into out. Authenticating two different messages with the
// same key allows an attacker to forge messages at will.
func Sum(out *[16]byte, msg []byte, key *[32]byte) {
	sum(out, msg, key)
}

// Verify returns true if mac is a valid authenticator for msg with the given
// key. The comparison is constant time.
func Verify(mac *[16]byte, msg []byte, key *[32]byte) bool {
	var tmp [16]byte
	sum(&tmp, msg, key)
	return subtle.ConstantTimeCompare(tmp[:], mac[:]) == 1
}
