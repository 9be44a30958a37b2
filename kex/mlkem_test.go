package kex

import (
	"bytes"
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/zerossh/zerossh/wire"
)

// TestHybridLayout rebuilds the client's keys from its rand and checks,
// independently of the method's code, the draft's layout: C_INIT is the
// ML-KEM-768 encapsulation key then the X25519 public key, S_REPLY the
// ML-KEM ciphertext then the server's X25519 public key, and
// K = string(SHA-256(K_PQ || K_CL)).
func TestHybridLayout(t *testing.T) {
	const seed = 11
	x := runPair(mlkem768x25519, newTestRand(seed), nil)
	if x.clientErr != nil || x.serverErr != nil {
		t.Fatalf("client: %v; server: %v", x.clientErr, x.serverErr)
	}
	r := newTestRand(seed)
	var kseed [64]byte
	var xseed [32]byte
	r.Read(kseed[:])
	r.Read(xseed[:])
	dk, _ := mlkem.NewDecapsulationKey768(kseed[:])
	xpriv, _ := ecdh.X25519().NewPrivateKey(xseed[:])

	var cInit, sReply []byte
	init := wire.Reader(x.log.sent[0][1:])
	reply := wire.Reader(x.log.received[0][1:])
	var hostKey []byte
	if !init.ReadString(&cInit) || !reply.ReadString(&hostKey) || !reply.ReadString(&sReply) {
		t.Fatal("cannot parse the messages")
	}
	if len(cInit) != 1184+32 || len(sReply) != 1088+32 {
		t.Fatalf("C_INIT %d bytes, S_REPLY %d bytes; want 1216 and 1120", len(cInit), len(sReply))
	}
	if !bytes.Equal(cInit[:1184], dk.EncapsulationKey().Bytes()) || !bytes.Equal(cInit[1184:], xpriv.PublicKey().Bytes()) {
		t.Error("C_INIT is not encapsulation key || X25519 public key")
	}
	kpq, err := dk.Decapsulate(sReply[:1088])
	if err != nil {
		t.Fatal(err)
	}
	spub, _ := ecdh.X25519().NewPublicKey(sReply[1088:])
	kcl, err := xpriv.ECDH(spub)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(kpq, kcl...))
	if want := wire.AppendString(nil, sum[:]); !bytes.Equal(x.client.K, want) || !bytes.Equal(x.server.K, want) {
		t.Errorf("K %x / %x; want %x", x.client.K, x.server.K, want)
	}
}

func TestHybridLengths(t *testing.T) {
	m := mlkem768x25519
	v := validExchange(t, MLKEM768X25519SHA256)
	var cInit, sReply, hostKey []byte
	init := wire.Reader(v.client.sent[0][1:])
	reply := wire.Reader(v.client.received[0][1:])
	init.ReadString(&cInit)
	reply.ReadString(&hostKey)
	reply.ReadString(&sReply)

	for _, n := range []int{0, 32, 1184, 1215, 1217, 2 * 1216} {
		q := make([]byte, n)
		copy(q, cInit)
		s := &scriptConn{reads: [][]byte{ecdhInit(q)}}
		_, err := m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign)
		if !errors.Is(err, wire.ErrMalformed) || len(s.writes) != 0 {
			t.Errorf("server, %d-byte C_INIT: %v; want ErrMalformed", n, err)
		}
	}
	for _, n := range []int{0, 32, 1088, 1119, 1121, 2 * 1120} {
		q := make([]byte, n)
		copy(q, sReply)
		_, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(q)}}, newTestRand(v.seed), testMagics)
		if !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("client, %d-byte S_REPLY: %v; want ErrMalformed", n, err)
		}
	}
	// The recorded S_REPLY itself completes.
	if _, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(sReply)}}, newTestRand(v.seed), testMagics); err != nil {
		t.Errorf("client, recorded S_REPLY: %v", err)
	}
}

func TestHybridBadKeys(t *testing.T) {
	m := mlkem768x25519
	v := validExchange(t, MLKEM768X25519SHA256)
	var cInit, sReply, hostKey []byte
	init := wire.Reader(v.client.sent[0][1:])
	reply := wire.Reader(v.client.received[0][1:])
	init.ReadString(&cInit)
	reply.ReadString(&hostKey)
	reply.ReadString(&sReply)

	// An encapsulation key whose first coefficient is 4095 >= q fails
	// FIPS 203 §7.2's modulus check.
	bad := bytes.Clone(cInit)
	bad[0], bad[1] = 0xff, bad[1]|0x0f
	s := &scriptConn{reads: [][]byte{ecdhInit(bad)}}
	if _, err := m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign); !isPlainFailure(err) || len(s.writes) != 0 {
		t.Errorf("server, bad encapsulation key: %v; want a key exchange failure", err)
	}
	// Low-order X25519 halves, either side.
	for _, u := range x25519LowOrder {
		q := append(bytes.Clone(cInit[:1184]), mustHex(u)...)
		s := &scriptConn{reads: [][]byte{ecdhInit(q)}}
		if _, err := m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign); !isPlainFailure(err) || len(s.writes) != 0 {
			t.Errorf("server, X25519 %s: %v; want a key exchange failure", u, err)
		}
		q = append(bytes.Clone(sReply[:1088]), mustHex(u)...)
		if _, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(q)}}, newTestRand(v.seed), testMagics); !isPlainFailure(err) {
			t.Errorf("client, X25519 %s: %v; want a key exchange failure", u, err)
		}
	}
	// A corrupted ciphertext decapsulates to another secret (implicit
	// rejection), so the exchange completes with a different K.
	ct := bytes.Clone(sReply)
	ct[0] ^= 1
	res, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(ct)}}, newTestRand(v.seed), testMagics)
	if err != nil || bytes.Equal(res.K, v.k) {
		t.Errorf("client, corrupted ciphertext: %v; want success with another K", err)
	}
}
