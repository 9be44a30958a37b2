package poly1305x

import (
	"bytes"
	"encoding/hex"
	"math/rand"
	"testing"

	"golang.org/x/crypto/poly1305"
)

func check(t *testing.T, key *[32]byte, msg []byte) {
	t.Helper()
	var want, got [16]byte
	poly1305.Sum(&want, msg, key)
	Sum(&got, msg, key)
	if got != want {
		t.Fatalf("len %d key %x: Sum = %x, want %x", len(msg), key[:], got, want)
	}
	if !Verify(&want, msg, key) {
		t.Fatalf("len %d: Verify rejected correct tag", len(msg))
	}
	bad := want
	bad[len(msg)%16] ^= 1
	if Verify(&bad, msg, key) {
		t.Fatalf("len %d: Verify accepted wrong tag", len(msg))
	}
	checkInternal(t, key, msg) // exercises the vector path at every length (amd64)
}

func fill(b []byte, v byte) []byte {
	for i := range b {
		b[i] = v
	}
	return b
}

func adversarialKeys() [][32]byte {
	var keys [][32]byte
	var k [32]byte
	keys = append(keys, k) // all zero
	fill(k[:], 0xff)
	keys = append(keys, k) // all 0xff: r maximal after clamping, s all 0xff
	var k2 [32]byte
	fill(k2[:16], 0xff) // r maximal, s = 0
	keys = append(keys, k2)
	var k3 [32]byte
	k3[0] = 1
	fill(k3[16:], 0xff) // r = 1, s all 0xff (carry out of the final addition)
	keys = append(keys, k3)
	var k4 [32]byte
	fill(k4[:], 0xff)
	k4[0] = 0xfe // r near the clamped maximum
	keys = append(keys, k4)
	return keys
}

func TestDifferentialLengths(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	buf := make([]byte, 32<<10+64)
	ff := fill(make([]byte, len(buf)), 0xff)
	zero := make([]byte, len(buf))
	lengths := []int{}
	for n := 0; n <= 2100; n++ {
		lengths = append(lengths, n)
	}
	for i := 0; i < 64; i++ {
		lengths = append(lengths, 32<<10+i)
	}
	for _, n := range lengths {
		var key [32]byte
		rng.Read(key[:])
		rng.Read(buf[:n])
		check(t, &key, buf[:n])
		for _, k := range adversarialKeys() {
			k := k
			check(t, &k, ff[:n])
			check(t, &k, zero[:n])
			check(t, &k, buf[:n])
		}
	}
}

// TestNearPrime feeds blocks that keep the accumulator close to 2^130 - 5.
func TestNearPrime(t *testing.T) {
	var one [32]byte
	one[0] = 1 // r = 1: h is the plain sum of the padded blocks
	patterns := [][]byte{}
	fb, _ := hex.DecodeString("fbffffffffffffffffffffffffffffff") // with pad: 2^130 - 5
	fa, _ := hex.DecodeString("faffffffffffffffffffffffffffffff") // 2^130 - 6
	fc, _ := hex.DecodeString("fcffffffffffffffffffffffffffffff") // 2^130 - 4
	patterns = append(patterns, fb, fa, fc, fill(make([]byte, 16), 0xff))
	for _, p := range patterns {
		for nb := 1; nb <= 200; nb++ {
			msg := bytes.Repeat(p, nb)
			for _, k := range append(adversarialKeys(), one) {
				k := k
				check(t, &k, msg)
				// with a zero block after each pattern block
				check(t, &k, append(msg, make([]byte, 16)...))
			}
		}
	}
}

func TestRFC8439(t *testing.T) {
	for _, v := range rfcVectors {
		key := mustHex(t, v.key)
		msg := mustHex(t, v.msg)
		tag := mustHex(t, v.tag)
		var k [32]byte
		copy(k[:], key)
		var got, want [16]byte
		copy(want[:], tag)
		Sum(&got, msg, &k)
		if got != want {
			t.Errorf("%s: got %x, want %x", v.name, got, want)
		}
		if !Verify(&want, msg, &k) {
			t.Errorf("%s: Verify failed", v.name)
		}
		checkInternal(t, &k, msg)
		// Same vectors, repeated to reach the vector path, against x/crypto.
		long := bytes.Repeat(msg, 2100/(len(msg)+1)+1)
		check(t, &k, long)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAllocs(t *testing.T) {
	var key [32]byte
	var out [16]byte
	for _, n := range []int{0, 15, 64, 1024, 32 << 10} {
		msg := make([]byte, n)
		a := testing.AllocsPerRun(100, func() { Sum(&out, msg, &key) })
		if a != 0 {
			t.Errorf("Sum(%d bytes): %v allocs", n, a)
		}
		a = testing.AllocsPerRun(100, func() { Verify(&out, msg, &key) })
		if a != 0 {
			t.Errorf("Verify(%d bytes): %v allocs", n, a)
		}
	}
}

func FuzzSum(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 300))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 1000))
	f.Fuzz(func(t *testing.T, key []byte, msg []byte) {
		var k [32]byte
		copy(k[:], key)
		var want, got [16]byte
		poly1305.Sum(&want, msg, &k)
		Sum(&got, msg, &k)
		if got != want {
			t.Fatalf("Sum = %x, want %x", got, want)
		}
		checkInternal(t, &k, msg)
	})
}

var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1024}, {"32KiB", 32 << 10}}

func BenchmarkSum(b *testing.B) {
	var key [32]byte
	var out [16]byte
	for _, s := range benchSizes {
		msg := make([]byte, s.n)
		b.Run("poly1305x/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				Sum(&out, msg, &key)
			}
		})
		b.Run("xcrypto/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				poly1305.Sum(&out, msg, &key)
			}
		})
	}
}
