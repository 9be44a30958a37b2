package kex

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"testing"

	"github.com/zerossh/zerossh/wire"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// ecdhReply builds SSH_MSG_KEX_ECDH_REPLY (RFC 5656 §4).
func ecdhReply(q []byte) []byte {
	m := []byte{wire.MsgKexECDHReply}
	m = wire.AppendString(m, testHostPub)
	m = wire.AppendString(m, q)
	return wire.AppendString(m, []byte("signature"))
}

// ecdhInit builds SSH_MSG_KEX_ECDH_INIT (RFC 5656 §4).
func ecdhInit(q []byte) []byte {
	return wire.AppendString([]byte{wire.MsgKexECDHInit}, q)
}

// TestX25519RFC7748 checks the X25519 function and K's encoding against
// RFC 7748 §5.2 (the function) and §6.1 (Diffie-Hellman).
func TestX25519RFC7748(t *testing.T) {
	for _, v := range []struct{ scalar, u, out string }{
		// §5.2, first and second vectors.
		{"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
		{"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
		// §6.1: Alice's private key with Bob's public key, and the reverse.
		{"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
			"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
			"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
		{"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
			"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
			"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
	} {
		priv, err := newX25519Key(bytes.NewReader(mustHex(v.scalar)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := x25519Shared(priv, mustHex(v.u))
		if err != nil || hex.EncodeToString(s) != v.out {
			t.Errorf("X25519(%s, %s) = %x, %v; want %s", v.scalar, v.u, s, err, v.out)
		}
	}
	// §6.1's public keys come from the private keys.
	for _, v := range []struct{ scalar, public string }{
		{"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
		{"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"},
	} {
		priv, err := newX25519Key(bytes.NewReader(mustHex(v.scalar)))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(priv.PublicKey()); got != v.public {
			t.Errorf("public key of %s: %s; want %s", v.scalar, got, v.public)
		}
	}
}

// TestX25519Iterated runs RFC 7748 §5.2's iteration: k and u start as the
// base point's u (9), and each round sets k = X25519(k, u), u = old k.
func TestX25519Iterated(t *testing.T) {
	var k, u [x25519Size]byte
	k[0], u[0] = 9, 9
	want := map[int]string{
		1:    "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
		1000: "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
	}
	for i := 1; i <= 1000; i++ {
		k, u = x25519(&k, &u), k
		if w, ok := want[i]; ok && hex.EncodeToString(k[:]) != w {
			t.Fatalf("after %d iterations: %x; want %s", i, k, w)
		}
	}
}

// TestX25519MatchesCryptoECDH compares key generation and the shared
// secret with crypto/ecdh for random scalars and points, including
// points with the top bit set and non-canonical ones (at least p).
func TestX25519MatchesCryptoECDH(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	for i := range 2000 {
		var scalar, u [x25519Size]byte
		fill(scalar[:])
		fill(u[:])
		switch i % 4 {
		case 1:
			u[31] |= 0x80
		case 2: // p + small, non-canonical
			u = [x25519Size]byte{0xed + byte(i%18)}
			for j := 1; j < 31; j++ {
				u[j] = 0xff
			}
			u[31] = 0x7f
		}
		ours, err := newX25519Key(bytes.NewReader(scalar[:]))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := ecdh.X25519().NewPrivateKey(scalar[:])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours.PublicKey(), theirs.PublicKey().Bytes()) {
			t.Fatalf("scalar %x: public key %x; crypto/ecdh %x", scalar, ours.PublicKey(), theirs.PublicKey().Bytes())
		}
		got := x25519(&scalar, &u)
		// crypto/ecdh refuses no point of 32 bytes, but refuses an
		// all-zero result.
		pk, err := ecdh.X25519().NewPublicKey(u[:])
		if err != nil {
			t.Fatal(err)
		}
		want, err := theirs.ECDH(pk)
		if err != nil {
			if got != [x25519Size]byte{} {
				t.Fatalf("X25519(%x, %x) = %x; crypto/ecdh: %v", scalar, u, got, err)
			}
			continue
		}
		if !bytes.Equal(got[:], want) {
			t.Fatalf("X25519(%x, %x) = %x; crypto/ecdh %x", scalar, u, got, want)
		}
	}
}

// TestX25519Allocs: one key pair and one shared secret allocate little:
// the key, and the secret handed to the caller.
func TestX25519Allocs(t *testing.T) {
	var seed [x25519Size]byte
	peer := make([]byte, x25519Size)
	peer[0] = 9
	if a := testing.AllocsPerRun(100, func() {
		k, _ := newX25519Key(bytes.NewReader(seed[:]))
		x25519Shared(k, peer)
	}); a > 3 {
		t.Errorf("%v allocations per key and secret; want at most 3", a)
	}
}

// TestX25519KEncoding checks RFC 8731 §3.1: K is the shared secret read as
// an unsigned big-endian integer, encoded as an mpint.
func TestX25519KEncoding(t *testing.T) {
	for _, v := range []struct{ secret, k string }{
		// §6.1's secret: top bit clear, so no pad.
		{"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
			"00000020" + "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
		// §5.2's first output: top bit set, so a zero byte first.
		{"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
			"00000021" + "00" + "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
		// Leading zero bytes are dropped...
		{"0000125d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e16",
			"0000001e" + "125d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e16"},
		// ...and the pad comes back when the next byte has its top bit set.
		{"00ff125d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e16",
			"00000020" + "00ff125d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e16"},
	} {
		if got := hex.EncodeToString(x25519K(mustHex(v.secret))); got != v.k {
			t.Errorf("K(%s) = %s; want %s", v.secret, got, v.k)
		}
	}
}

// x25519LowOrder are u-coordinates of points of small order (and their
// non-canonical aliases): X25519 with any of them outputs all zeros.
var x25519LowOrder = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

// isPlainFailure reports whether err is a key exchange failure that is
// neither a malformed message nor an unexpected one.
func isPlainFailure(err error) bool {
	var ue *UnexpectedMessageError
	return err != nil && !errors.Is(err, wire.ErrMalformed) && !errors.As(err, &ue)
}

func TestX25519LowOrder(t *testing.T) {
	for _, name := range []string{Curve25519SHA256, Curve25519SHA256LibSSH} {
		m, _ := Lookup(name)
		for _, u := range x25519LowOrder {
			_, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(mustHex(u))}}, nil, testMagics)
			if !isPlainFailure(err) {
				t.Errorf("%s client, Q_S %s: %v; want a key exchange failure", name, u, err)
			}
			s := &scriptConn{reads: [][]byte{ecdhInit(mustHex(u))}}
			_, err = m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign)
			if !isPlainFailure(err) || len(s.writes) != 0 {
				t.Errorf("%s server, Q_C %s: %v (%d written); want a key exchange failure", name, u, err, len(s.writes))
			}
		}
	}
}

// TestX25519Lengths checks RFC 8731 §3: a public key that is not 32 bytes
// fails the exchange.
func TestX25519Lengths(t *testing.T) {
	m, _ := Lookup(Curve25519SHA256)
	good := mustHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
	for _, q := range [][]byte{nil, good[:31], append(bytes.Clone(good), 0), append(good, good...)} {
		_, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(q)}}, nil, testMagics)
		if !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("client, %d-byte Q_S: %v; want ErrMalformed", len(q), err)
		}
		_, err = m.Server(&scriptConn{reads: [][]byte{ecdhInit(q)}}, nil, testMagics, testHostPub, (&testSigner{}).sign)
		if !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("server, %d-byte Q_C: %v; want ErrMalformed", len(q), err)
		}
	}
	// A good key gets through.
	if _, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(good)}}, nil, testMagics); err != nil {
		t.Errorf("client, good Q_S: %v", err)
	}
}

// TestX25519Init checks the client's message: one 32-byte string, the
// public key of the private key drawn from rand.
func TestX25519Init(t *testing.T) {
	m, _ := Lookup(Curve25519SHA256)
	c := &scriptConn{}
	m.Client(c, newTestRand(3), testMagics)
	var b [32]byte
	newTestRand(3).Read(b[:])
	priv, _ := ecdh.X25519().NewPrivateKey(b[:])
	if want := ecdhInit(priv.PublicKey().Bytes()); len(c.writes) != 1 || !bytes.Equal(c.writes[0], want) {
		t.Errorf("client sent %x; want %x", c.writes, want)
	}
}

// FuzzX25519 compares the shared secret with crypto/ecdh's for any
// scalar and peer value.
func FuzzX25519(f *testing.F) {
	f.Add(make([]byte, 32), append([]byte{9}, make([]byte, 31)...))
	f.Add(mustHex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"), mustHex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
	f.Fuzz(func(t *testing.T, scalar, u []byte) {
		if len(scalar) != x25519Size || len(u) != x25519Size {
			return
		}
		got := x25519((*[x25519Size]byte)(scalar), (*[x25519Size]byte)(u))
		priv, err := ecdh.X25519().NewPrivateKey(scalar)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := ecdh.X25519().NewPublicKey(u)
		if err != nil {
			t.Fatal(err)
		}
		want, err := priv.ECDH(pk)
		if err != nil {
			want = make([]byte, x25519Size) // crypto/ecdh refuses the all-zero result
		}
		if !bytes.Equal(got[:], want) {
			t.Fatalf("X25519(%x, %x) = %x; crypto/ecdh %x", scalar, u, got, want)
		}
		ours, _ := newX25519Key(bytes.NewReader(scalar))
		if !bytes.Equal(ours.PublicKey(), priv.PublicKey().Bytes()) {
			t.Fatalf("public key of %x: %x; crypto/ecdh %x", scalar, ours.PublicKey(), priv.PublicKey().Bytes())
		}
	})
}
