package kex

import (
	"errors"
	"math/big"
	"strconv"
	"testing"

	"github.com/zerossh/zerossh/wire"
)

// piBits returns floor(pi * 2^bits), from Machin's formula
// pi = 16 arctan(1/5) - 4 arctan(1/239) in fixed point with guard bits.
func piBits(bits uint) *big.Int {
	const guard = 64
	scale := bits + guard
	arctanInv := func(x int64) *big.Int {
		one := new(big.Int).Lsh(big.NewInt(1), scale)
		sum := new(big.Int)
		pow := big.NewInt(x)
		x2 := big.NewInt(x * x)
		t := new(big.Int)
		for k := int64(0); ; k++ {
			t.Quo(one, pow)
			t.Quo(t, big.NewInt(2*k+1))
			if t.Sign() == 0 {
				return sum
			}
			if k%2 == 0 {
				sum.Add(sum, t)
			} else {
				sum.Sub(sum, t)
			}
			pow.Mul(pow, x2)
		}
	}
	pi := new(big.Int).Mul(arctanInv(5), big.NewInt(16))
	pi.Sub(pi, new(big.Int).Mul(arctanInv(239), big.NewInt(4)))
	return pi.Rsh(pi, guard)
}

// TestMODPGroups checks the RFC 3526 primes: each is
// 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k) for the k the RFC
// gives, has n bits, and is a safe prime (p and (p-1)/2 prime), which is
// what makes the range check of RFC 4253 §8 enough.
//
// ProbablyPrime(20) runs 20 Miller-Rabin rounds and Baillie-PSW. On the
// 6144- and 8192-bit primes that takes 4 s and 10 s here, so those two get
// Baillie-PSW alone (ProbablyPrime(0), 0.6 s and 1.3 s), which no known
// composite passes; the derivation from pi pins every bit in any case.
func TestMODPGroups(t *testing.T) {
	pi := piBits(8192 - 130)
	for _, v := range []struct {
		group  *dhGroup
		bits   int
		k      int64
		rounds int
	}{
		{group14, 2048, 124476, 20},
		{group15, 3072, 1690314, 20},
		{group16, 4096, 240904, 20},
		{group17, 6144, 929484, 0},
		{group18, 8192, 4743158, 0},
	} {
		t.Run(strconv.Itoa(v.bits), func(t *testing.T) {
			t.Parallel()
			n := uint(v.bits)
			want := new(big.Int).Lsh(big.NewInt(1), n)
			want.Sub(want, new(big.Int).Lsh(big.NewInt(1), n-64))
			want.Sub(want, big.NewInt(1))
			mid := new(big.Int).Rsh(pi, 8192-n) // [2^(n-130) pi]
			mid.Add(mid, big.NewInt(v.k))
			want.Add(want, mid.Lsh(mid, 64))
			p := v.group.p
			if p.Cmp(want) != 0 {
				t.Fatalf("%d-bit prime differs from RFC 3526's formula", v.bits)
			}
			if p.BitLen() != v.bits || v.group.g.Cmp(big.NewInt(2)) != 0 {
				t.Errorf("%d bits, g = %v; want %d bits, g = 2", p.BitLen(), v.group.g, v.bits)
			}
			if v.group.pMinus1.Cmp(new(big.Int).Sub(p, bigOne)) != 0 {
				t.Error("pMinus1 is not p-1")
			}
			q := new(big.Int).Rsh(p, 1)
			if !p.ProbablyPrime(v.rounds) || !q.ProbablyPrime(v.rounds) {
				t.Errorf("%d-bit p or (p-1)/2 is not prime", v.bits)
			}
		})
	}
	if len(modpGroups) != 5 {
		t.Errorf("%d groups offered for group exchange; want 5", len(modpGroups))
	}
}

func TestDHExponent(t *testing.T) {
	r := newTestRand(9)
	for range 50 {
		x, e, err := group14.newKey(r)
		if err != nil {
			t.Fatal(err)
		}
		if x.BitLen() > dhExponentBits || x.Cmp(bigOne) <= 0 {
			t.Fatalf("x has %d bits", x.BitLen())
		}
		if e.Cmp(new(big.Int).Exp(group14.g, x, group14.p)) != 0 || group14.checkPublic(e) != nil {
			t.Fatal("e is not g^x mod p in range")
		}
	}
	// A small modulus caps the exponent below its own size.
	small := &dhGroup{p: big.NewInt(1019), pMinus1: big.NewInt(1018), g: big.NewInt(2)}
	for range 50 {
		x, _, err := small.newKey(r)
		if err != nil || x.BitLen() > 9 || x.Cmp(bigOne) <= 0 {
			t.Fatalf("x = %v, %v", x, err)
		}
	}
}

// dhReply builds SSH_MSG_KEXDH_REPLY (RFC 4253 §8) with f's raw mpint
// bytes.
func dhReply(num byte, f []byte) []byte {
	m := []byte{num}
	m = wire.AppendString(m, testHostPub)
	m = wire.AppendString(m, f)
	return wire.AppendString(m, []byte("signature"))
}

// TestDHRange checks RFC 4253 §8's range on e (server) and f (client), and
// the mpint form of both.
func TestDHRange(t *testing.T) {
	p := group14.p
	mag := func(v *big.Int) []byte { // an mpint body
		return wire.AppendMpint(nil, v.Bytes())[4:]
	}
	pm1 := new(big.Int).Sub(p, bigOne)
	for _, c := range []struct {
		what      string
		v         []byte
		malformed bool
	}{
		{"0", nil, false},
		{"1", mag(big.NewInt(1)), false},
		{"p-1", mag(pm1), false},
		{"p", mag(p), false},
		{"p+1", mag(new(big.Int).Add(p, bigOne)), false},
		{"2^8192", mag(new(big.Int).Lsh(bigOne, 8192)), false},
		{"-1", []byte{0xff}, true},
		{"-(p-1)", pm1.Bytes(), true}, // no pad: the sign bit is set
		{"non-minimal 2", []byte{0, 2}, true},
		{"zero byte", []byte{0}, true},
	} {
		m, _ := Lookup(DHGroup14SHA256)
		_, err := m.Client(&scriptConn{reads: [][]byte{dhReply(msgKexDHReply, c.v)}}, nil, testMagics)
		checkFailure(t, "client, f = "+c.what, err, c.malformed)

		s := &scriptConn{reads: [][]byte{wire.AppendString([]byte{msgKexDHInit}, c.v)}}
		_, err = m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign)
		checkFailure(t, "server, e = "+c.what, err, c.malformed)
		if len(s.writes) != 0 {
			t.Errorf("server, e = %s: replied", c.what)
		}
	}
}

func checkFailure(t *testing.T, what string, err error, malformed bool) {
	t.Helper()
	if malformed && !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("%s: %v; want ErrMalformed", what, err)
	}
	if !malformed && !isPlainFailure(err) {
		t.Errorf("%s: %v; want a key exchange failure", what, err)
	}
}

// TestDHTrivialK checks the guard on K for a group that is not a
// safe-prime group, as a group exchange server may send one: modulo 31,
// f = 2 has order 5, so an exponent that is a multiple of 5 makes K = 1.
func TestDHTrivialK(t *testing.T) {
	gr := &dhGroup{p: big.NewInt(31), pMinus1: big.NewInt(30), g: big.NewInt(3)}
	if _, err := gr.sharedK(big.NewInt(10), big.NewInt(2)); err != errDHTrivial {
		t.Errorf("K = 1 accepted: %v", err)
	}
	if _, err := gr.sharedK(big.NewInt(3), big.NewInt(2)); err != nil {
		t.Errorf("K = 8 refused: %v", err)
	}
}
