package kex

import (
	"io"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// x25519Key is an ephemeral X25519 key pair (RFC 7748).
//
// crypto/ecdh computes a private key's public key as the key is made,
// with the same variable-base Montgomery ladder it uses for the shared
// secret, so an ephemeral key there costs two ladders. Here the public
// key comes from a fixed-base multiplication on the birationally
// equivalent Edwards curve with filippo.io/edwards25519's precomputed
// tables (about 2.5x faster than a ladder), and the shared secret from
// the ladder of RFC 7748 §5 on that package's constant-time field
// arithmetic. Tested against crypto/ecdh and the RFC's vectors.
type x25519Key struct {
	scalar [x25519Size]byte // as drawn; clamped where used
	public [x25519Size]byte
	used   bool // the scalar was cleared after its one use
}

// newX25519Key draws a private key from rand.
func newX25519Key(rand io.Reader) (*x25519Key, error) {
	k := new(x25519Key)
	if _, err := io.ReadFull(rand, k.scalar[:]); err != nil {
		return nil, err
	}
	// RFC 7748 §5 clamps the scalar; SetBytesWithClamping does the same
	// and reduces it modulo the group order, which changes nothing here:
	// the base point has that order. The Montgomery u of s·B is the
	// X25519 public key, as B maps to u = 9.
	s, err := new(edwards25519.Scalar).SetBytesWithClamping(k.scalar[:])
	if err != nil {
		return nil, err // cannot happen: 32 bytes
	}
	copy(k.public[:], new(edwards25519.Point).ScalarBaseMult(s).BytesMontgomery())
	return k, nil
}

// PublicKey returns the key's public value.
func (k *x25519Key) PublicKey() []byte { return k.public[:] }

// destroy clears the private scalar.
func (k *x25519Key) destroy() {
	clear(k.scalar[:])
	k.used = true
}

// x25519 is the X25519 function of RFC 7748 §5: the u-coordinate of
// scalar (clamped) times the point with u-coordinate u, by the Montgomery
// ladder. Every step runs whatever the bits, with conditional swaps, so
// the time does not depend on the scalar.
func x25519(scalar, u *[x25519Size]byte) [x25519Size]byte {
	k := *scalar
	defer clear(k[:])
	k[0] &= 248
	k[31] &= 127
	k[31] |= 64

	// SetBytes ignores the top bit and accepts non-canonical values, as
	// RFC 7748 §5 asks of u.
	var x1 field.Element
	if _, err := x1.SetBytes(u[:]); err != nil {
		panic("kex: x25519: " + err.Error()) // cannot happen: 32 bytes
	}
	var x2, z2, x3, z3, a, aa, b, bb, e, c, d, da, cb field.Element
	x2.One()
	z2.Zero()
	x3.Set(&x1)
	z3.One()
	swap := 0
	for t := 254; t >= 0; t-- {
		kt := int(k[t/8]>>(t%8)) & 1
		swap ^= kt
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = kt

		a.Add(&x2, &z2)
		aa.Square(&a)
		b.Subtract(&x2, &z2)
		bb.Square(&b)
		e.Subtract(&aa, &bb)
		c.Add(&x3, &z3)
		d.Subtract(&x3, &z3)
		da.Multiply(&d, &a)
		cb.Multiply(&c, &b)
		x3.Add(&da, &cb)
		x3.Square(&x3)
		z3.Subtract(&da, &cb)
		z3.Square(&z3)
		z3.Multiply(&z3, &x1)
		x2.Multiply(&aa, &bb)
		z2.Mult32(&e, 121665) // a24 = (486662 - 2) / 4
		z2.Add(&aa, &z2)
		z2.Multiply(&e, &z2)
	}
	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)
	// z2^(p-2) is z2's inverse, and 0 when z2 is 0 (a low-order point),
	// which makes the result 0 as the RFC's formula does.
	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	return [x25519Size]byte(x2.Bytes())
}
