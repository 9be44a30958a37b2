package cipher_test

import (
	"fmt"
	"testing"

	stdcipher "crypto/cipher"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/mac"
)

var benchSizes = []int{1 << 10, 32 << 10}

// benchCases lists the ciphers as benchmarked: the AEADs, and AES-CTR with
// each default MAC.
func benchCases() []testCase {
	var cs []testCase
	for _, tc := range testCases() {
		if tc.alg == cipher.None || tc.direct {
			continue
		}
		if tc.mac == nil {
			cs = append(cs, tc)
			continue
		}
		for _, name := range mac.Default {
			if tc.mac.Name() == name {
				cs = append(cs, tc)
			}
		}
	}
	return cs
}

// rawAEAD is an AEAD as it comes, for the ceiling a packet cipher built on
// it cannot beat: packet_length as additional data, the rest sealed in
// place under a fixed nonce.
type rawAEAD struct {
	name  string
	aead  func(testing.TB) stdcipher.AEAD
	nonce [12]byte
}

var rawAEADs = []rawAEAD{
	{name: "raw-aes128-gcm", aead: func(t testing.TB) stdcipher.AEAD { return rawGCM(t, make([]byte, 16)) }},
	{name: "raw-aes256-gcm", aead: func(t testing.TB) stdcipher.AEAD { return rawGCM(t, make([]byte, 32)) }},
	{name: "raw-chacha20poly1305", aead: func(t testing.TB) stdcipher.AEAD {
		a, err := chacha20poly1305.New(make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}},
}

func (r *rawAEAD) seal(a stdcipher.AEAD, p []byte) []byte {
	return p[:4+len(a.Seal(p[4:4], r.nonce[:], p[4:], p[:4]))]
}

func (r *rawAEAD) open(a stdcipher.AEAD, p []byte) error {
	_, err := a.Open(p[4:4], r.nonce[:], p[4:], p[:4])
	return err
}

// BenchmarkSeal measures Seal on a packet of size bytes, from packet_length
// to the end of the padding, beside the raw AEADs on the same buffer.
func BenchmarkSeal(b *testing.B) {
	for _, size := range benchSizes {
		for _, r := range rawAEADs {
			b.Run(fmt.Sprintf("%s/%dKiB", r.name, size>>10), func(b *testing.B) {
				a := r.aead(b)
				p := make([]byte, size, size+a.Overhead())
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					r.seal(a, p[:size])
				}
			})
		}
		for _, tc := range benchCases() {
			b.Run(fmt.Sprintf("%s/%dKiB", tc.name, size>>10), func(b *testing.B) {
				benchmarkSeal(b, tc, size)
			})
		}
	}
}

// BenchmarkOpen measures PacketLength and Open on a packet of size
// bytes, beside the raw AEADs' Open on the same buffers.
func BenchmarkOpen(b *testing.B) {
	for _, size := range benchSizes {
		for _, r := range rawAEADs {
			b.Run(fmt.Sprintf("%s/%dKiB", r.name, size>>10), func(b *testing.B) {
				a := r.aead(b)
				benchmarkOpen(b, size, a.Overhead(),
					func(p []byte) []byte { return r.seal(a, p) },
					func(p []byte) error { return r.open(a, p) })
			})
		}
		for _, tc := range benchCases() {
			b.Run(fmt.Sprintf("%s/%dKiB", tc.name, size>>10), func(b *testing.B) {
				benchmarkOpenPacket(b, tc, size)
			})
		}
	}
}

func benchmarkSeal(b *testing.B, tc testCase, size int) {
	s, _ := tc.pair(b)
	p := make([]byte, size, size+s.Overhead())
	b.ReportAllocs()
	b.SetBytes(int64(size))
	seq := uint32(0)
	for b.Loop() {
		s.Seal(seq, p[:size])
		seq++
	}
}

func benchmarkOpenPacket(b *testing.B, tc testCase, size int) {
	s, o := tc.pair(b)
	var sealSeq, openSeq uint32
	benchmarkOpen(b, size, s.Overhead(),
		func(p []byte) []byte {
			sealSeq++
			return s.Seal(sealSeq, p)
		},
		func(p []byte) error {
			openSeq++
			o.PacketLength(openSeq, p[:o.FirstLen()])
			_, err := o.Open(openSeq, p)
			return err
		})
}

// openBatch is how many packets benchmarkOpen seals at a time: about 256
// KiB of them, so that they are in cache as the one packet BenchmarkSeal
// reuses is.
func openBatch(size int) int { return max(1, (256<<10)/size) }

// benchmarkOpen times open on packets of size bytes (overhead more once
// sealed). Opening consumes a packet, and stateful openers need each next
// one in order, so seal makes a batch of them with the timer stopped; it
// is called for the packets in the order open gets them.
func benchmarkOpen(b *testing.B, size, overhead int, seal func(p []byte) []byte, open func(p []byte) error) {
	batch := make([][]byte, openBatch(size))
	for i := range batch {
		batch[i] = make([]byte, size, size+overhead)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	next := len(batch)
	for b.Loop() {
		if next == len(batch) {
			b.StopTimer()
			for i, p := range batch {
				batch[i] = seal(p[:size])
			}
			next = 0
			b.StartTimer()
		}
		if err := open(batch[next]); err != nil {
			b.Fatal(err)
		}
		next++
	}
}
