package kex

import (
	"crypto"
	"crypto/subtle"
	"errors"
	"io"

	"github.com/zerossh/zerossh/wire"
)

// curve25519-sha256 and its older name curve25519-sha256@libssh.org are
// the same method (RFC 8731 §3): X25519 (RFC 7748) over the ECDH messages
// of RFC 5656 §4, with SHA-256.
var (
	curve25519       = &oneRound{name: Curve25519SHA256, hash: crypto.SHA256, kem: x25519KEM{}}
	curve25519LibSSH = &oneRound{name: Curve25519SHA256LibSSH, hash: crypto.SHA256, kem: x25519KEM{}}
)

// x25519Size is the length of X25519 public keys and shared secrets.
const x25519Size = 32

var errKeyUsed = errors.New("kex: an ephemeral key was used twice")

var errX25519Zero = errors.New("kex: X25519 shared secret is all zero (peer sent a low-order point)")

// x25519KEM is X25519 ECDH; K is the shared secret as an mpint.
type x25519KEM struct{}

func (x25519KEM) clientKey(rand io.Reader) ([]byte, func([]byte) ([]byte, error), error) {
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, nil, err
	}
	finish := func(peer []byte) ([]byte, error) {
		s, err := x25519Shared(priv, peer)
		if err != nil {
			return nil, err
		}
		return x25519K(s), nil
	}
	return priv.PublicKey(), finish, nil
}

func (x25519KEM) serverKey(rand io.Reader) (func([]byte) ([]byte, []byte, error), error) {
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, err
	}
	return func(peer []byte) ([]byte, []byte, error) {
		s, err := x25519Shared(priv, peer)
		if err != nil {
			return nil, nil, err
		}
		return priv.PublicKey(), x25519K(s), nil
	}, nil
}

// x25519K encodes an X25519 shared secret as K. RFC 8731 §3.1: the 32
// bytes are read as an unsigned integer in network byte order and sent
// through the mpint encoding, so leading zero bytes are dropped and a
// zero byte is prefixed when the top bit is set.
func x25519K(secret []byte) []byte {
	k := wire.AppendMpint(make([]byte, 0, 4+1+x25519Size), secret)
	clear(secret)
	return k
}

// x25519Shared computes the X25519 shared secret with the peer's public
// key. RFC 8731 §3: "Clients and servers MUST also abort if the length of
// the received public keys are not the expected lengths." RFC 7748 §6.1
// lets a party reject the all-zero output that a low-order point
// produces; we do.
func x25519Shared(priv *x25519Key, peer []byte) ([]byte, error) {
	if len(peer) != x25519Size {
		return nil, errMalformed("X25519 public key")
	}
	if priv.used {
		return nil, errKeyUsed
	}
	s := x25519(&priv.scalar, (*[x25519Size]byte)(peer))
	priv.destroy() // an ephemeral key serves once
	var zero [x25519Size]byte
	if subtle.ConstantTimeCompare(s[:], zero[:]) == 1 {
		return nil, errX25519Zero
	}
	return s[:], nil
}
