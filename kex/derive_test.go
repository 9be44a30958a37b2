package kex

import (
	"bytes"
	"crypto"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/hex"
	"fmt"
	"testing"
)

// deriveKeyVectors were computed with Python's hashlib by the formula of
// RFC 4253 §7.2, from
//
//	K          = mpint(0x80 0x81 ... 0x9f), so with the 0x00 pad
//	H          = SHA-256("exchange hash")
//	session_id = SHA-256("session id")
var deriveKeyVectors = []struct {
	hash   crypto.Hash
	letter byte
	n      int
	want   string
}{
	{crypto.SHA256, 'C', 64, "5fca2c06dce6e078771840e75b83d673fed120e3a5099386e7c5503602664cf9" +
		"d603e14d790e99840c567405baf275ad5e610430a69415f5a94aecc3fbab84e9"},
	{crypto.SHA256, 'E', 100, "535885905e3b7cf7a8db025a042c02031f9aba60dddee1f68457b82e7d9fe362" +
		"b83f9a72b82530fcc8662db6e1eaa3374c6b1362abfe9723a58fe71e69025467" +
		"c7fbc55377e527214ff014c791feaa12bca89ed93ef632757d23f5e7dd0de748" +
		"80990b34"},
	{crypto.SHA512, 'A', 100, "ce1b77deea359435d3c8f927c49f1c5deceb144c4affac9ed0fb4b4186d1365b" +
		"60e0d4bf454d99a259e1aff05ae2efaf1d3712a055f0b04f4bf1a7a2b9c5b6bf" +
		"a569e820dcc1370c8306b6be4d3b50b2eace12395440c688371a6ffb8907ac99" +
		"413bde59"},
}

func deriveInputs() (k, h, sid []byte) {
	k = append([]byte{0, 0, 0, 0x21, 0}, make([]byte, 32)...)
	for i := range 32 {
		k[5+i] = 0x80 + byte(i)
	}
	hh := crypto.SHA256.New()
	hh.Write([]byte("exchange hash"))
	h = hh.Sum(nil)
	hh.Reset()
	hh.Write([]byte("session id"))
	return k, h, hh.Sum(nil)
}

func TestDeriveKeyVectors(t *testing.T) {
	k, h, sid := deriveInputs()
	if got := hex.EncodeToString(k); got != "0000002100808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" {
		t.Fatalf("K = %s", got)
	}
	for _, v := range deriveKeyVectors {
		got := DeriveKey(v.hash, k, h, sid, v.letter, v.n)
		if hex.EncodeToString(got) != v.want {
			t.Errorf("%v %c %d: got %x; want %s", v.hash, v.letter, v.n, got, v.want)
		}
	}
}

// refDeriveKey is RFC 4253 §7.2 written out with whole-buffer hashing.
func refDeriveKey(h crypto.Hash, k, hh, sid []byte, letter byte, n int) []byte {
	sum := func(parts ...[]byte) []byte {
		d := h.New()
		d.Write(bytes.Join(parts, nil))
		return d.Sum(nil)
	}
	key := sum(k, hh, []byte{letter}, sid)
	for len(key) < n {
		key = append(key, sum(k, hh, key)...)
	}
	return key[:n]
}

func TestDeriveKeyReference(t *testing.T) {
	k, h, sid := deriveInputs()
	for _, hash := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		for _, n := range []int{1, 16, 31, 32, 33, 48, 64, 65, 100, 128, 129, 200} {
			for letter := byte('A'); letter <= 'F'; letter++ {
				got := DeriveKey(hash, k, h, sid, letter, n)
				if want := refDeriveKey(hash, k, h, sid, letter, n); !bytes.Equal(got, want) {
					t.Errorf("%v %c %d: got %x; want %x", hash, letter, n, got, want)
				}
			}
		}
	}
}

func TestDeriveKeyEdges(t *testing.T) {
	k, h, sid := deriveInputs()
	if got := DeriveKey(crypto.SHA256, k, h, sid, 'A', 0); len(got) != 0 {
		t.Errorf("n = 0: got %x", got)
	}
	// A shorter key is a prefix of a longer one, and the result's capacity
	// ends at its length so that appending never touches a neighbour.
	long := DeriveKey(crypto.SHA256, k, h, sid, 'C', 64)
	short := DeriveKey(crypto.SHA256, k, h, sid, 'C', 20)
	if !bytes.Equal(long[:20], short) || cap(short) != 20 {
		t.Errorf("short %x (cap %d) is not the prefix of %x", short, cap(short), long)
	}
	// Letters and session IDs separate keys.
	if bytes.Equal(DeriveKey(crypto.SHA256, k, h, sid, 'C', 32), DeriveKey(crypto.SHA256, k, h, sid, 'D', 32)) {
		t.Error("letters C and D give the same key")
	}
	if bytes.Equal(DeriveKey(crypto.SHA256, k, h, sid, 'C', 32), DeriveKey(crypto.SHA256, k, h, h, 'C', 32)) {
		t.Error("session ID does not change the key")
	}
}

func TestDeriveKeyAllocs(t *testing.T) {
	k, h, sid := deriveInputs()
	allocs := testing.AllocsPerRun(100, func() { DeriveKey(crypto.SHA256, k, h, sid, 'C', 64) })
	// The result and the hash state.
	if allocs > 2 {
		t.Errorf("DeriveKey allocates %v times; want at most 2", allocs)
	}
}

func BenchmarkDeriveKey(b *testing.B) {
	k, h, sid := deriveInputs()
	for _, n := range []int{32, 64} {
		b.Run(fmt.Sprintf("sha256/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				DeriveKey(crypto.SHA256, k, h, sid, 'C', n)
			}
		})
	}
}
