//go:build gc && !purego

package poly1305x

import (
	"strconv"
	"testing"

	"golang.org/x/crypto/poly1305"
)

// checkInternal runs the AVX2 path directly, bypassing the length threshold,
// so that every length (including 64..255) exercises the vector code.
func checkInternal(t *testing.T, key *[32]byte, msg []byte) {
	t.Helper()
	if !useAVX2 {
		return
	}
	var want, got [16]byte
	poly1305.Sum(&want, msg, key)
	sumAVX2(&got, msg, key)
	if got != want {
		t.Fatalf("sumAVX2 len %d key %x: got %x, want %x", len(msg), key[:], got, want)
	}
}

func BenchmarkSumAVX2Direct(b *testing.B) {
	var key [32]byte
	var out [16]byte
	for _, n := range []int{64, 128, 256, 512, 1024} {
		msg := make([]byte, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sumAVX2(&out, msg, &key)
			}
		})
	}
}

func BenchmarkThreshold(b *testing.B) {
	var key [32]byte
	var out [16]byte
	for _, n := range []int{128, 192, 256, 384, 512} {
		msg := make([]byte, n)
		b.Run("avx2/"+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sumAVX2(&out, msg, &key)
			}
		})
		b.Run("xcrypto/"+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				poly1305.Sum(&out, msg, &key)
			}
		})
	}
}
