package compression

import (
	"fmt"

	"github.com/klauspost/compress/flate"
)

// Compressor is the sending half of a zlib stream: each Compress call
// deflates one packet's payload and flushes, so that the peer can decode
// the packet as soon as it arrives. It is not safe for concurrent use.
type Compressor struct {
	fw     *flate.Writer
	out    sliceWriter
	level  int
	header bool // the two-byte zlib header is still to be written
}

// NewCompressor returns a Compressor at the given level (MinLevel to
// MaxLevel; 0 means DefaultLevel), at the start of a stream.
func NewCompressor(level int) (*Compressor, error) {
	if level == 0 {
		level = DefaultLevel
	}
	if level < MinLevel || level > MaxLevel {
		return nil, fmt.Errorf("compression: level %d out of range [%d, %d]", level, MinLevel, MaxLevel)
	}
	c := &Compressor{level: level, header: true}
	fw, err := flate.NewWriter(&c.out, level)
	if err != nil {
		return nil, err
	}
	c.fw = fw
	return c, nil
}

// Reset starts a new stream, as after a key exchange (RFC 4253 §6.2: "The
// compression context is initialized after each key exchange").
func (c *Compressor) Reset() {
	c.out.b = nil
	c.fw.Reset(&c.out)
	c.header = true
}

// Level returns the compression level.
func (c *Compressor) Level() int { return c.level }

// Bound is the most bytes Compress appends for n bytes of input. When
// coding does not pay, klauspost/compress/flate stores the data: 5 bytes
// of framing per block of 16 KiB or more (levels 7 to 9; 64 KiB below),
// plus the zlib header and the flush; TestBound measures the worst case.
func Bound(n int) int {
	return n + n>>11 + 32
}

// Compress deflates src, one packet's payload, appending the compressed
// bytes to dst, and flushes (a sync flush: an empty stored block). It
// never appends past cap(dst), which should leave Bound(len(src)) bytes.
func (c *Compressor) Compress(dst, src []byte) ([]byte, error) {
	c.out.b = dst
	if c.header {
		// RFC 1950 §2.2: CMF 0x78 is deflate with a 32 KiB window; FLG
		// carries FLEVEL and makes CMF*256+FLG a multiple of 31.
		if err := c.out.put(0x78, zlibFLG(c.level)); err != nil {
			return dst, err
		}
		c.header = false
	}
	if _, err := c.fw.Write(src); err != nil {
		return c.out.b, err
	}
	err := c.fw.Flush()
	dst, c.out.b = c.out.b, nil
	return dst, err
}

// zlibFLG is the FLG byte zlib writes for a level (RFC 1950 §2.2: FLEVEL
// 0 fastest, 1 fast, 2 default, 3 maximum).
func zlibFLG(level int) byte {
	switch {
	case level <= 1:
		return 0x01
	case level <= 5:
		return 0x5e
	case level == 6:
		return 0x9c
	}
	return 0xda
}

// sliceWriter appends to b without ever growing it past its capacity.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	if len(p) > cap(w.b)-len(w.b) {
		return 0, ErrOverflow
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *sliceWriter) put(b0, b1 byte) error {
	if cap(w.b)-len(w.b) < 2 {
		return ErrOverflow
	}
	w.b = append(w.b, b0, b1)
	return nil
}
