package compression

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"testing"
)

// FuzzDecompress decodes arbitrary input whole and cut in two at every
// place the fuzzer picks, and checks that:
//   - the cut changes nothing: same output, same verdict;
//   - the output never passes the caller's bound;
//   - the standard library's compress/flate, reading the same deflate
//     data in one go, produces the same bytes (or fewer where the input
//     ends: it reads ahead), and fails where this decoder does (but
//     for a final block, which SSH never sends and this decoder refuses,
//     and a missing end-of-block code, which it refuses early as zlib does).
//
// klauspost/compress/flate is no reference here: a block without
// distance codes makes it decode with the previous block's, where zlib
// and this decoder find the stream corrupt.
func FuzzDecompress(f *testing.F) {
	c, _ := NewCompressor(6)
	var stream []byte
	for i, n := range []int{1, 100, 5000, 300} {
		p := textPayload(uint64(i), n)
		if i == 2 {
			p = randomPayload(1, n)
		}
		z, _ := c.Compress(make([]byte, 0, Bound(n)), p)
		stream = append(stream, z...)
	}
	f.Add(stream, uint16(7))
	for _, level := range []int{1, 9} {
		var s []byte
		for _, p := range readGolden(f, fmt.Sprintf("zlib-partial-level%d.bin", level))[:9] {
			s = append(s, p.compressed...)
		}
		f.Add(s, uint16(len(s)/2))
	}
	f.Add([]byte{0x78, 0x9c, 0x02, 0x02, 0x00}, uint16(3))
	f.Add([]byte{0x78, 0x01, 0x00, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'}, uint16(9))

	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		d := NewDecompressor()
		whole, err := d.Decompress(make([]byte, 0, limit), data)
		if len(whole) > limit {
			t.Fatalf("output of %d bytes past the bound of %d", len(whole), limit)
		}
		at := min(int(cut), len(data))
		d2 := NewDecompressor()
		split, err2 := d2.Decompress(make([]byte, 0, limit), data[:at])
		if err2 == nil {
			split, err2 = d2.Decompress(split, data[at:])
		}
		if !errors.Is(err2, err) || err == nil && !bytes.Equal(split, whole) {
			t.Fatalf("cut at %d: %d bytes, %v; whole: %d bytes, %v", at, len(split), err2, len(whole), err)
		}

		if len(data) < 2 || (uint(data[0])<<8|uint(data[1]))%31 != 0 || data[0] != 0x78 || data[1]&0x20 != 0 {
			return // the zlib header is this package's own business
		}
		ref, rerr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(data[2:])), limit))
		var corrupt flate.CorruptInputError
		refCorrupt := errors.As(rerr, &corrupt)
		// compress/flate reads ahead of the symbol it decodes (up to
		// the shortest possible next block), so where the input ends it
		// may have decoded less: its output must be a prefix of ours.
		n := min(len(ref), len(whole))
		switch {
		case err == nil:
			if refCorrupt || !bytes.Equal(ref, whole[:len(ref)]) {
				t.Fatalf("decoded %d bytes; compress/flate: %d bytes, %v", len(whole), len(ref), rerr)
			}
		case errors.Is(err, ErrShortBuffer):
			if !bytes.Equal(ref[:n], whole[:n]) {
				t.Fatalf("stopped at the bound; compress/flate: %d bytes, %v", len(ref), rerr)
			}
		case errors.Is(err, errFinalBlock), errors.Is(err, errNoEndOfBlock):
			// compress/flate decodes a final block and ends there,
			// and finds a missing end-of-block code only when it needs it.
		case errors.Is(err, ErrCorrupt):
			if errors.Is(rerr, io.ErrUnexpectedEOF) {
				// It ran out of input reading ahead before it met the
				// fault: with more input it must meet it too.
				more := append(bytes.Clone(data[2:]), make([]byte, 64)...)
				_, rerr = io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(more)), limit))
				refCorrupt = errors.As(rerr, &corrupt)
			}
			if !refCorrupt {
				t.Fatalf("corrupt; compress/flate read %d bytes: %v", len(ref), rerr)
			}
		}
	})
}
