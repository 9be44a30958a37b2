package chachastream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// reference is x/crypto/chacha20 from counter on.
func reference(dst, src []byte, key *[32]byte, nonce *[12]byte, counter uint32) {
	s, err := chacha20.NewUnauthenticatedCipher(key[:], nonce[:])
	if err != nil {
		panic(err)
	}
	s.SetCounter(counter)
	s.XORKeyStream(dst, src)
}

func randBytes(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// checkEquivalent runs XORKeyStream and the reference on src, in place
// and out of place, at offset off into larger buffers, and checks that
// they agree and that nothing around dst[:len(src)] changes.
func checkEquivalent(t *testing.T, rng *rand.Rand, src []byte, key *[32]byte, nonce *[12]byte, counter uint32, off int) {
	t.Helper()
	want := make([]byte, len(src))
	reference(want, src, key, nonce, counter)

	const guard = 80 // more than a block
	const fill = 0xa5
	check := func(mode string, buf []byte) {
		t.Helper()
		if got := buf[off : off+len(src)]; !bytes.Equal(got, want) {
			t.Fatalf("%s, len %d, counter %d, offset %d: XORKeyStream differs from x/crypto/chacha20\ngot  %x\nwant %x",
				mode, len(src), counter, off, got, want)
		}
		for i, b := range buf[:off] {
			if b != fill {
				t.Fatalf("%s, len %d, offset %d: byte %d before dst changed", mode, len(src), off, i)
			}
		}
		for i, b := range buf[off+len(src):] {
			if b != fill {
				t.Fatalf("%s, len %d, offset %d: byte %d after len(src) changed", mode, len(src), off, i)
			}
		}
	}

	// Out of place: dst longer than src, with room after it.
	buf := bytes.Repeat([]byte{fill}, off+len(src)+guard)
	srcBuf := make([]byte, off+len(src))
	s := srcBuf[off:]
	copy(s, src)
	XORKeyStream(buf[off:], s, key, nonce, counter)
	check("out of place", buf)
	if !bytes.Equal(s, src) {
		t.Fatalf("out of place, len %d: src changed", len(src))
	}

	// In place.
	buf = bytes.Repeat([]byte{fill}, off+len(src)+guard)
	copy(buf[off:], src)
	b := buf[off : off+len(src)]
	XORKeyStream(b, b, key, nonce, counter)
	check("in place", buf)
}

func TestEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	counters := []uint32{0, 1, 7, 1<<32 - 64}
	for _, counter := range counters {
		t.Run(fmt.Sprint("counter=", counter), func(t *testing.T) {
			for n := 0; n <= 2100; n++ {
				if uint64(counter)+(uint64(n)+63)/64 > 1<<32 {
					break
				}
				var key [32]byte
				var nonce [12]byte
				randBytes(rng, key[:])
				randBytes(rng, nonce[:])
				src := make([]byte, n)
				randBytes(rng, src)
				checkEquivalent(t, rng, src, &key, &nonce, counter, n%8)
			}
		})
	}
}

// TestOffsets runs lengths around the batch size at every offset 1..7
// into a larger buffer.
func TestOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var key [32]byte
	var nonce [12]byte
	randBytes(rng, key[:])
	randBytes(rng, nonce[:])
	for _, n := range []int{1, 63, 64, 65, 511, 512, 513, 1023, 1024, 1025, 1600, 4096 + 77, 32<<10 - 4} {
		src := make([]byte, n)
		randBytes(rng, src)
		for off := 1; off <= 7; off++ {
			checkEquivalent(t, rng, src, &key, &nonce, 3, off)
		}
	}
}

// TestCounterEnd runs up to the last block counter, 2^32-1, and checks
// the panic one block later.
func TestCounterEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var key [32]byte
	var nonce [12]byte
	randBytes(rng, key[:])
	randBytes(rng, nonce[:])
	for _, blocks := range []int{1, 7, 8, 9, 16, 17, 64} {
		counter := uint32(1<<32 - uint64(blocks))
		for _, n := range []int{blocks*64 - 63, blocks * 64} {
			src := make([]byte, n)
			randBytes(rng, src)
			checkEquivalent(t, rng, src, &key, &nonce, counter, 0)
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("counter %d, %d bytes: no panic on overflow", counter, n+64)
					}
				}()
				b := make([]byte, n+64)
				XORKeyStream(b, b, &key, &nonce, counter)
			}()
		}
	}
}

// TestKeyInDst checks that key and nonce may be in dst's memory: they
// are read before anything is written.
func TestKeyInDst(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{44, 64, 100, 512, 513, 560, 600, 1100} {
		buf := make([]byte, n)
		randBytes(rng, buf)
		key, nonce := (*[32]byte)(buf[n-44:]), (*[12]byte)(buf[n-12:])
		want := make([]byte, n)
		reference(want, buf, key, nonce, 5)
		XORKeyStream(buf, buf, key, nonce, 5)
		if !bytes.Equal(buf, want) {
			t.Fatalf("%d bytes, key and nonce at the end of dst: got %x, want %x", n, buf, want)
		}
	}
}

func TestPanics(t *testing.T) {
	var key [32]byte
	var nonce [12]byte
	buf := make([]byte, 1024)
	for _, tc := range []struct {
		name     string
		dst, src []byte
	}{
		{"short dst", buf[:10], buf[:11]},
		{"inexact overlap", buf[1:600], buf[:599]},
		{"inexact overlap 2", buf[:599], buf[1:600]},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			XORKeyStream(tc.dst, tc.src, &key, &nonce, 0)
		}()
	}
}

// TestGenericPath checks the fallback too wherever the assembly runs.
func TestGenericPath(t *testing.T) {
	if !Accelerated {
		t.Skip("XORKeyStream is the generic path here; TestEquivalence covers it")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var key [32]byte
	var nonce [12]byte
	randBytes(rng, key[:])
	randBytes(rng, nonce[:])
	src := make([]byte, 1500)
	randBytes(rng, src)
	got := make([]byte, len(src))
	want := make([]byte, len(src))
	xorKeyStreamGeneric(got, src, &key, &nonce, 9)
	reference(want, src, &key, &nonce, 9)
	if !bytes.Equal(got, want) {
		t.Fatal("xorKeyStreamGeneric differs from x/crypto/chacha20")
	}
}

// TestKnownAnswer is RFC 8439 §2.4.2.
func TestKnownAnswer(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i)
	}
	nonce := [12]byte{7: 0x4a}
	plain := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	want := "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
		"f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
		"07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
		"5af90bbf74a35be6b40b8eedf2785e42874d"
	got := make([]byte, len(plain))
	XORKeyStream(got, plain, &key, &nonce, 1)
	if fmt.Sprintf("%x", got) != want {
		t.Fatalf("got  %x\nwant %s", got, want)
	}
}

func TestAllocs(t *testing.T) {
	var key [32]byte
	var nonce [12]byte
	for _, n := range []int{1, 64, 500, 512, 32<<10 - 4} {
		b := make([]byte, n)
		if a := testing.AllocsPerRun(100, func() { XORKeyStream(b, b, &key, &nonce, 1) }); a != 0 {
			t.Errorf("%d bytes: %v allocations per call; want 0", n, a)
		}
	}
}

func FuzzXORKeyStream(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 12), uint32(0), []byte("hello"))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 12), uint32(1), make([]byte, 1100))
	f.Add(make([]byte, 32), make([]byte, 12), uint32(1<<32-9), make([]byte, 513))
	f.Fuzz(func(t *testing.T, key, nonce []byte, counter uint32, data []byte) {
		if len(key) < 32 || len(nonce) < 12 {
			return
		}
		k, n := (*[32]byte)(key), (*[12]byte)(nonce)
		if uint64(counter)+(uint64(len(data))+63)/64 > 1<<32 {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic on counter overflow")
				}
			}()
			XORKeyStream(make([]byte, len(data)), data, k, n, counter)
			return
		}
		want := make([]byte, len(data))
		reference(want, data, k, n, counter)
		got := make([]byte, len(data))
		XORKeyStream(got, data, k, n, counter)
		if !bytes.Equal(got, want) {
			t.Fatalf("out of place: got %x, want %x", got, want)
		}
		// The fuzzing engine may pass key and nonce in data's memory: the
		// in-place call then also checks that they are read before
		// anything is written.
		XORKeyStream(data, data, k, n, counter)
		if !bytes.Equal(data, want) {
			t.Fatalf("in place, %d bytes, counter %d: got %x, want %x", len(data), counter, data, want)
		}
	})
}

func BenchmarkXORKeyStream(b *testing.B) {
	var key [32]byte
	var nonce [12]byte
	for _, n := range benchSizes {
		buf := make([]byte, n)
		b.Run(fmt.Sprintf("chachastream/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				XORKeyStream(buf, buf, &key, &nonce, 1)
			}
		})
		b.Run(fmt.Sprintf("x-crypto-chacha20/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				reference(buf, buf, &key, &nonce, 1)
			}
		})
		// What chacha20-poly1305@openssh.com used to encrypt its payload
		// with on amd64: the RFC 8439 AEAD's Seal, its tag thrown away.
		b.Run(fmt.Sprintf("x-crypto-chacha20poly1305-seal/%d", n), func(b *testing.B) {
			aead, err := chacha20poly1305.New(key[:])
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, n, n+aead.Overhead())
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				aead.Seal(buf[:0], nonce[:], buf, nil)
			}
		})
	}
}

var benchSizes = []int{64, 128, 256, 512, 1 << 10, 32 << 10}

// TestXORBlock compares XORBlock with x/crypto/chacha20 for every length
// up to a block and counters at both ends, and checks it does not
// allocate.
func TestXORBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, counter := range []uint32{0, 1, 0x12345678, 1<<32 - 1} {
		for n := range 65 {
			var key [32]byte
			var nonce [12]byte
			randBytes(rng, key[:])
			randBytes(rng, nonce[:])
			src := make([]byte, n)
			randBytes(rng, src)
			want := make([]byte, n)
			reference(want, src, &key, &nonce, counter)
			got := append([]byte(nil), src...)
			XORBlock(got, &key, &nonce, counter)
			if !bytes.Equal(got, want) {
				t.Fatalf("counter %#x, %d bytes: differs from x/crypto/chacha20", counter, n)
			}
		}
	}
	b := make([]byte, 64)
	var key [32]byte
	var nonce [12]byte
	if a := testing.AllocsPerRun(100, func() { XORBlock(b, &key, &nonce, 0) }); a != 0 {
		t.Errorf("%v allocations per call; want 0", a)
	}
	defer func() {
		if recover() == nil {
			t.Error("XORBlock took 65 bytes")
		}
	}()
	XORBlock(make([]byte, 65), &key, &nonce, 0)
}
