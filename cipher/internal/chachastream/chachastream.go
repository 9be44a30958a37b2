// Package chachastream is the ChaCha20 keystream of RFC 8439 on its own,
// with AVX2 assembly on amd64.
//
// golang.org/x/crypto/chacha20 has no assembly on amd64, and the assembly
// of golang.org/x/crypto/chacha20poly1305 only comes with a Poly1305 pass;
// chacha20-poly1305@openssh.com needs the bare keystream, computes its own
// Poly1305 tag over other bytes, and would otherwise pay for a tag it
// throws away. Elsewhere, and on amd64 without AVX2 or with the purego
// tag, XORKeyStream is x/crypto/chacha20.
package chachastream

import (
	"unsafe"

	"golang.org/x/crypto/chacha20"
)

// Accelerated reports whether XORKeyStream runs the assembly of this
// package rather than x/crypto/chacha20.
var Accelerated = useAsm

// XORKeyStream XORs src with the RFC 8439 ChaCha20 keystream (20 rounds,
// 96-bit nonce) of key and nonce from 32-bit block counter counter on, and
// writes the result to dst. It is byte for byte what x/crypto/chacha20's
// NewUnauthenticatedCipher(key, nonce), SetCounter(counter) and
// XORKeyStream(dst, src) do. dst and src must overlap entirely or not at
// all; len(dst) must be at least len(src), and dst[len(src):] is left as
// it is. key and nonce are read before dst is written, so they may be in
// dst's memory. Like x/crypto/chacha20, XORKeyStream panics rather than let the
// block counter wrap: counter plus the number of 64-byte blocks that src
// spans must not exceed 2^32.
func XORKeyStream(dst, src []byte, key *[32]byte, nonce *[12]byte, counter uint32) {
	if len(src) == 0 {
		return
	}
	if len(dst) < len(src) {
		panic("chachastream: output smaller than input")
	}
	dst = dst[:len(src)]
	if inexactOverlap(dst, src) {
		panic("chachastream: invalid buffer overlap")
	}
	if uint64(counter)+(uint64(len(src))+63)/64 > 1<<32 {
		panic("chachastream: counter overflow")
	}
	if useAsm {
		xorKeyStreamAsm(dst, src, key, nonce, counter)
		return
	}
	xorKeyStreamGeneric(dst, src, key, nonce, counter)
}

// xorKeyStreamGeneric is XORKeyStream on x/crypto/chacha20, whose Cipher
// stays on the stack.
func xorKeyStreamGeneric(dst, src []byte, key *[32]byte, nonce *[12]byte, counter uint32) {
	s, err := chacha20.NewUnauthenticatedCipher(key[:], nonce[:])
	if err != nil {
		panic("chachastream: " + err.Error()) // key and nonce sizes are constants
	}
	s.SetCounter(counter)
	s.XORKeyStream(dst, src)
}

// inexactOverlap reports whether x and y share memory at any
// non-corresponding index, as crypto/internal/alias does.
func inexactOverlap(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 || &x[0] == &y[0] {
		return false
	}
	x0, x1 := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&x[len(x)-1]))
	y0, y1 := uintptr(unsafe.Pointer(&y[0])), uintptr(unsafe.Pointer(&y[len(y)-1]))
	return x0 <= y1 && y0 <= x1
}
