package compression

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/flate"
)

// textPayload returns n bytes of English-like text from a seeded
// generator: compressible about 3:1 like source code or logs.
func textPayload(seed uint64, n int) []byte {
	words := []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
		"channel", "window", "packet", "stream", "flush", "block", "literal", "distance",
		"zerossh", "transport", "compression", "deflate", "inflate", "huffman", "table"}
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[rng.IntN(len(words))]...)
		if rng.IntN(12) == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ' ')
		}
	}
	return b[:n]
}

func randomPayload(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

// goldenPacket is one packet of a recorded stream: its payload before and
// after compression.
type goldenPacket struct {
	raw, compressed []byte
}

// readGolden reads a file written by testdata/gen_zlib_partial.py.
func readGolden(t testing.TB, name string) []goldenPacket {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []goldenPacket
	next := func() []byte {
		n := binary.BigEndian.Uint32(data)
		b := data[4 : 4+n]
		data = data[4+n:]
		return b
	}
	for len(data) > 0 {
		raw := next()
		out = append(out, goldenPacket{raw: raw, compressed: next()})
	}
	return out
}

// TestDecompressZlibPartialFlush decodes streams that zlib itself made
// with Z_PARTIAL_FLUSH after every packet, as OpenSSH's packet.c does: each
// packet must decode in full on its own, though it ends inside the empty
// static block the flush writes.
func TestDecompressZlibPartialFlush(t *testing.T) {
	for _, level := range []int{1, 6, 9} {
		name := fmt.Sprintf("zlib-partial-level%d.bin", level)
		t.Run(name, func(t *testing.T) {
			packets := readGolden(t, name)
			d := NewDecompressor()
			unaligned := 0
			for i, p := range packets {
				got, err := d.Decompress(make([]byte, 0, len(p.raw)+1), p.compressed)
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if !bytes.Equal(got, p.raw) {
					t.Fatalf("packet %d: got %d bytes %.40q; want %d bytes %.40q", i, len(got), got, len(p.raw), p.raw)
				}
				if d.f.nb != 0 {
					unaligned++
				}
			}
			if unaligned == 0 {
				t.Errorf("no packet ended inside a byte; the file does not test partial flushes")
			}
		})
	}
}

// TestRoundTrip compresses packets of text and random bytes at every
// level and decodes them packet by packet, and checks the whole stream
// against klauspost/compress's own inflater.
func TestRoundTrip(t *testing.T) {
	sizes := []int{1, 2, 5, 64, 300, 4 << 10, 32 << 10, 1, 100 << 10, 256 << 10, 7}
	for level := MinLevel; level <= MaxLevel; level++ {
		t.Run(fmt.Sprintf("level-%d", level), func(t *testing.T) {
			c, err := NewCompressor(level)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecompressor()
			var stream, all []byte
			for round := range 2 { // the second round checks Reset
				c.Reset()
				d.Reset()
				stream, all = stream[:0], all[:0]
				for i, n := range sizes {
					p := textPayload(uint64(i+round), n)
					if i%3 == 2 {
						p = randomPayload(uint64(i), n)
					}
					z, err := c.Compress(make([]byte, 0, Bound(n)), p)
					if err != nil {
						t.Fatalf("packet %d: compress: %v", i, err)
					}
					stream = append(stream, z...)
					all = append(all, p...)
					got, err := d.Decompress(make([]byte, 0, n), z)
					if err != nil || !bytes.Equal(got, p) {
						t.Fatalf("packet %d (%d bytes): decompress: %v, equal %v", i, n, err, bytes.Equal(got, p))
					}
				}
				// The reference sees the flushed stream end mid-stream: it
				// returns everything, then io.ErrUnexpectedEOF.
				ref, err := io.ReadAll(flate.NewReader(bytes.NewReader(stream[2:])))
				if !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.Equal(ref, all) {
					t.Fatalf("klauspost/compress/flate read %d of %d bytes: %v", len(ref), len(all), err)
				}
			}
		})
	}
}

// TestDecompressAnySplit feeds one stream cut into pieces at random
// places, bits of a symbol on both sides of every cut: the output must
// not depend on where the packets end.
func TestDecompressAnySplit(t *testing.T) {
	var stream, want []byte
	for _, p := range readGolden(t, "zlib-partial-level6.bin") {
		stream = append(stream, p.compressed...)
		want = append(want, p.raw...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, maxPiece := range []int{1, 2, 3, 7, 64, 1000} {
		d := NewDecompressor()
		var got []byte
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(maxPiece))
			var err error
			got, err = d.Decompress(got, rest[:n])
			for errors.Is(err, ErrShortBuffer) {
				got = append(got, 0)[:len(got)] // grow
				got, err = d.Continue(got)
			}
			if err != nil {
				t.Fatalf("pieces up to %d bytes: %v", maxPiece, err)
			}
			rest = rest[n:]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("pieces up to %d bytes: got %d bytes; want %d", maxPiece, len(got), len(want))
		}
	}
}

// TestDecompressShortBuffer decodes a packet into buffers too small for
// it: each stops with ErrShortBuffer and Continue picks up in a larger
// one, without the packet's input again.
func TestDecompressShortBuffer(t *testing.T) {
	c, _ := NewCompressor(6)
	d := NewDecompressor()
	for i, p := range [][]byte{textPayload(1, 200<<10), randomPayload(2, 100<<10), textPayload(3, 10)} {
		z, err := c.Compress(make([]byte, 0, Bound(len(p))), p)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Decompress(make([]byte, 0, 1000), z)
		steps := 1
		for errors.Is(err, ErrShortBuffer) {
			if len(out) != cap(out) {
				t.Fatalf("packet %d: ErrShortBuffer with %d of %d bytes used", i, len(out), cap(out))
			}
			bigger := make([]byte, len(out), 2*cap(out))
			copy(bigger, out)
			out, err = d.Continue(bigger)
			steps++
		}
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("packet %d: %v after %d steps, equal %v", i, err, steps, bytes.Equal(out, p))
		}
	}
}

// TestDecompressBomb decodes a small packet that inflates past the
// caller's bound: the Decompressor stops at the bound, having written no
// more than it.
func TestDecompressBomb(t *testing.T) {
	c, _ := NewCompressor(9)
	z, err := c.Compress(make([]byte, 0, Bound(64<<20)), make([]byte, 64<<20))
	if err != nil {
		t.Fatal(err)
	}
	if len(z) > 128<<10 {
		t.Fatalf("64 MiB of zeros compressed to %d bytes", len(z))
	}
	const limit = 256 << 10
	d := NewDecompressor()
	out, err := d.Decompress(make([]byte, 0, limit), z)
	if !errors.Is(err, ErrShortBuffer) || len(out) != limit {
		t.Fatalf("got %d bytes, %v; want %d bytes, ErrShortBuffer", len(out), err, limit)
	}
}

// TestDecompressCorrupt checks that invalid streams fail with ErrCorrupt,
// and that the failure lasts until Reset.
func TestDecompressCorrupt(t *testing.T) {
	c, _ := NewCompressor(6)
	good, _ := c.Compress(make([]byte, 0, 1<<16), textPayload(9, 10000))
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"bad-zlib-method", []byte{0x77, 0x9c, 0x00}},
		{"bad-zlib-check", []byte{0x78, 0x9d}},
		{"preset-dictionary", []byte{0x78, 0xbb}},
		{"final-block", []byte{0x78, 0x9c, 0x03, 0x00}}, // BFINAL fixed block, EOB
		{"reserved-block-type", []byte{0x78, 0x9c, 0x06}},
		{"stored-length-check", []byte{0x78, 0x9c, 0x00, 0x05, 0x00, 0xfa, 0xfe}},
		{"distance-before-start", []byte{0x78, 0x9c, 0x02, 0x02, 0x00}}, // fixed block: a length-3 copy from 1 back, first thing
		{"too-many-length-codes", []byte{0x78, 0x9c, 0xfc, 0xff, 0xff}},
		{"garbage-after-good", append(bytes.Clone(good), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecompressor()
			_, err := d.Decompress(make([]byte, 0, 1<<20), tc.in)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v; want ErrCorrupt", err)
			}
			if _, err := d.Decompress(make([]byte, 0, 1<<20), good); !errors.Is(err, ErrCorrupt) {
				t.Errorf("after a corrupt stream, a good packet gave %v; want ErrCorrupt", err)
			}
			d.Reset()
			if _, err := d.Decompress(make([]byte, 0, 1<<20), good); err != nil {
				t.Errorf("after Reset: %v", err)
			}
		})
	}
}

// TestBound checks Bound against the worst case, random bytes, at every
// level, alone and after text that made the encoder build tables.
func TestBound(t *testing.T) {
	for level := MinLevel; level <= MaxLevel; level++ {
		c, _ := NewCompressor(level)
		worst := 0
		for i, n := range []int{0, 1, 31, 32, 200, 1000, 4 << 10, 33 << 10, 64 << 10, 64<<10 + 1, 200 << 10, 256 << 10} {
			for _, p := range [][]byte{textPayload(uint64(i), n), randomPayload(uint64(i), n)} {
				z, err := c.Compress(make([]byte, 0, Bound(n)), p)
				if err != nil {
					t.Fatalf("level %d, %d bytes: %v", level, n, err)
				}
				worst = max(worst, len(z)-n)
			}
		}
		t.Logf("level %d: at most %d bytes added", level, worst)
	}
}

// TestCompressorAllocs and TestDecompressorAllocs: a packet compressed or
// decompressed in steady state costs no allocation.
func TestCompressorAllocs(t *testing.T) {
	for _, level := range []int{1, DefaultLevel, 6, 9} {
		c, _ := NewCompressor(level)
		p := textPayload(1, 32<<10)
		dst := make([]byte, 0, Bound(len(p)))
		for range 10 {
			c.Compress(dst, p)
		}
		if n := testing.AllocsPerRun(100, func() { c.Compress(dst, p) }); n != 0 {
			t.Errorf("level %d: %v allocations per 32 KiB packet; want 0", level, n)
		}
	}
}

func TestDecompressorAllocs(t *testing.T) {
	c, _ := NewCompressor(6)
	d := NewDecompressor()
	dst := make([]byte, 0, 64<<10)
	packets := make([][]byte, 200)
	for i := range packets {
		packets[i], _ = c.Compress(make([]byte, 0, Bound(32<<10)), textPayload(uint64(i), 32<<10))
	}
	i := 0
	step := func() {
		if _, err := d.Decompress(dst, packets[i]); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for range 20 {
		step()
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%v allocations per 32 KiB packet; want 0", n)
	}
}

// BenchmarkCompressLevels compresses 32 KiB packets of text, one stream
// per level, and reports the ratio beside the speed: the numbers behind
// DefaultLevel. zlib's level 6, OpenSSH's, is the reference point.
func BenchmarkCompressLevels(b *testing.B) {
	text := textPayload(1, 8<<20)
	for level := MinLevel; level <= MaxLevel; level++ {
		b.Run(fmt.Sprintf("level-%d/text", level), func(b *testing.B) {
			c, _ := NewCompressor(level)
			dst := make([]byte, 0, Bound(32<<10))
			var in, out int64
			b.SetBytes(32 << 10)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := text[i : i+32<<10]
				i = (i + 32<<10) % (len(text) - 32<<10)
				z, err := c.Compress(dst, p)
				if err != nil {
					b.Fatal(err)
				}
				in += int64(len(p))
				out += int64(len(z))
			}
			b.ReportMetric(float64(in)/float64(out), "ratio")
		})
	}
}

// BenchmarkDecompress decodes 32 KiB packets of text compressed at the
// default level, packet by packet.
func BenchmarkDecompress(b *testing.B) {
	c, _ := NewCompressor(DefaultLevel)
	packets := make([][]byte, 256)
	for i := range packets {
		packets[i], _ = c.Compress(make([]byte, 0, Bound(32<<10)), textPayload(uint64(i), 32<<10))
	}
	d := NewDecompressor()
	dst := make([]byte, 0, 64<<10)
	b.SetBytes(32 << 10)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(packets) { // the stream ends: start it again
			d.Reset()
			c.Reset()
			i = 0
		}
		if _, err := d.Decompress(dst, packets[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
