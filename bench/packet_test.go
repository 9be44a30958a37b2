package bench

import (
	"testing"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/mac"
)

// BenchmarkPacket is the transport's packet protection beside the raw
// primitives of BenchmarkAEAD, in one loop each: for zerossh one op seals
// a binary packet carrying a 32 KiB payload with package cipher, as the
// transport's sender does, and opens it again as its receiver does
// (PacketLength on the first bytes, then Open), in place, sequence number
// after sequence number; for raw one op is the primitive's seal and open
// of the same bytes. zerossh's ns/op over raw's is the transport's
// overhead over the raw cipher.
func BenchmarkPacket(b *testing.B) {
	for _, algs := range Ciphers {
		b.Run(algs.Name()+"/raw", func(b *testing.B) {
			c := rawCiphers[algs.Name()]()
			p := make([]byte, ChunkSize, ChunkSize+c.overhead())
			dst := make([]byte, len(p)+c.overhead())
			b.SetBytes(ChunkSize)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.open(dst, c.seal(p)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(algs.Name()+"/zerossh", func(b *testing.B) {
			alg, ok := cipher.Lookup(algs.Cipher)
			if !ok {
				b.Fatalf("no cipher %s", algs.Cipher)
			}
			var m cipher.MAC
			var macKey []byte
			if algs.MAC != "" {
				if m, ok = mac.Lookup(algs.MAC); !ok {
					b.Fatalf("no MAC %s", algs.MAC)
				}
				macKey = make([]byte, m.KeyLen())
			}
			key, iv := make([]byte, alg.KeyLen), make([]byte, alg.IVLen)
			s := must(alg.NewSealer(key, iv, m, macKey))
			o := must(alg.NewOpener(key, iv, m, macKey))

			// packet_length || padding_length || payload || padding,
			// padded as the transport pads (RFC 4253 §6).
			payload := ChunkSize
			unaligned := 1 + payload + 4
			if s.LengthInBlocks() {
				unaligned += 4
			}
			padding := s.BlockSize() - unaligned%s.BlockSize()
			if padding < 4 {
				padding += s.BlockSize()
			}
			n := 4 + 1 + payload + padding
			p := make([]byte, n, n+s.Overhead())
			p[0], p[1], p[2], p[3] = byte((n-4)>>24), byte((n-4)>>16), byte((n-4)>>8), byte(n-4)
			p[4] = byte(padding)

			b.SetBytes(ChunkSize)
			b.ReportAllocs()
			var seq uint32
			for b.Loop() {
				sealed := s.Seal(seq, p)
				if o.PacketLength(seq, sealed[:o.FirstLen()]) != uint32(n-4) {
					b.Fatal("packet length")
				}
				if _, err := o.Open(seq, sealed); err != nil {
					b.Fatal(err)
				}
				seq++
			}
		})
	}
}
