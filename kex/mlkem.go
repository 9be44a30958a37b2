package kex

import (
	"crypto"
	"crypto/mlkem"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/zerossh/zerossh/wire"
)

// mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex §2) combines
// ML-KEM-768 (FIPS 203) with X25519 over the ECDH message shape, renamed
// SSH_MSG_KEX_HYBRID_INIT (30) and SSH_MSG_KEX_HYBRID_REPLY (31):
//
//	C_INIT  = C_PK2 || C_PK1  (ML-KEM-768 encapsulation key, 1184 bytes,
//	                           then the client's X25519 public key, 32 bytes)
//	S_REPLY = S_CT2 || S_PK1  (ML-KEM-768 ciphertext, 1088 bytes,
//	                           then the server's X25519 public key, 32 bytes)
//	K       = SHA-256(K_PQ || K_CL)
//
// K_PQ is the ML-KEM shared secret and K_CL the X25519 one. K goes into
// the exchange hash and the key derivation as a string, not an mpint.
var mlkem768x25519 = &oneRound{name: MLKEM768X25519SHA256, hash: crypto.SHA256, kem: mlkemX25519{}}

const (
	hybridInitLen  = mlkem.EncapsulationKeySize768 + x25519Size
	hybridReplyLen = mlkem.CiphertextSize768 + x25519Size
)

type mlkemX25519 struct{}

// clientKey derives the ML-KEM decapsulation key from a 64-byte seed read
// from rand (FIPS 203 ML-KEM.KeyGen_internal's d || z), so that a fixed
// rand reproduces the client's C_INIT.
func (mlkemX25519) clientKey(rand io.Reader) ([]byte, func([]byte) ([]byte, error), error) {
	var seed [mlkem.SeedSize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, nil, err
	}
	dk, err := mlkem.NewDecapsulationKey768(seed[:])
	if err != nil {
		return nil, nil, err
	}
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, nil, err
	}
	pub := make([]byte, 0, hybridInitLen)
	pub = append(pub, dk.EncapsulationKey().Bytes()...)
	pub = append(pub, priv.PublicKey()...)

	finish := func(peer []byte) ([]byte, error) {
		// The draft's S_REPLY has a fixed length; anything else is not
		// a reply we can split.
		if len(peer) != hybridReplyLen {
			return nil, errMalformed("S_REPLY")
		}
		kpq, err := dk.Decapsulate(peer[:mlkem.CiphertextSize768])
		if err != nil {
			return nil, fmt.Errorf("kex: ML-KEM-768: %w", err)
		}
		kcl, err := x25519Shared(priv, peer[mlkem.CiphertextSize768:])
		if err != nil {
			return nil, err
		}
		return hybridK(kpq, kcl), nil
	}
	return pub, finish, nil
}

// serverKey makes the X25519 key; its answer encapsulates to the
// client's ML-KEM key and runs X25519. crypto/mlkem takes the
// encapsulation randomness from its own source, so S_REPLY does not
// depend on rand.
func (mlkemX25519) serverKey(rand io.Reader) (func([]byte) ([]byte, []byte, error), error) {
	priv, err := newX25519Key(rand)
	if err != nil {
		return nil, err
	}
	return func(peer []byte) ([]byte, []byte, error) {
		if len(peer) != hybridInitLen {
			return nil, nil, errMalformed("C_INIT")
		}
		// FIPS 203 §7.2 requires the encapsulation key check (every
		// coefficient below q) before encapsulating;
		// NewEncapsulationKey768 performs it.
		ek, err := mlkem.NewEncapsulationKey768(peer[:mlkem.EncapsulationKeySize768])
		if err != nil {
			return nil, nil, fmt.Errorf("kex: ML-KEM-768 encapsulation key: %w", err)
		}
		kcl, err := x25519Shared(priv, peer[mlkem.EncapsulationKeySize768:])
		if err != nil {
			return nil, nil, err
		}
		kpq, ct := ek.Encapsulate()
		pub := make([]byte, 0, hybridReplyLen)
		pub = append(pub, ct...)
		pub = append(pub, priv.PublicKey()...)
		return pub, hybridK(kpq, kcl), nil
	}, nil
}

// hybridK returns K = SHA-256(K_PQ || K_CL) encoded as a string, and
// clears both inputs.
func hybridK(kpq, kcl []byte) []byte {
	h := sha256.New()
	h.Write(kpq)
	h.Write(kcl)
	clear(kpq)
	clear(kcl)
	k := make([]byte, 0, 4+sha256.Size)
	k = wire.AppendUint32(k, sha256.Size)
	return h.Sum(k)
}
