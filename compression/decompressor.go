package compression

// Decompressor is the receiving half of a zlib stream: each Decompress
// call takes one packet's payload, as it arrived, and returns everything
// the stream holds up to the end of that payload, wherever in the bit
// stream the payload ends. It never reads an earlier payload again, and
// its memory is fixed (about 100 KiB of history plus the Huffman tables).
// It is not safe for concurrent use.
type Decompressor struct {
	f inflater
}

// NewDecompressor returns a Decompressor at the start of a stream.
func NewDecompressor() *Decompressor {
	d := new(Decompressor)
	d.f.reset()
	return d
}

// Reset starts a new stream, as after a key exchange, and clears an
// error.
func (d *Decompressor) Reset() { d.f.reset() }

// Decompress decodes src, one packet's compressed payload, appending the
// output to dst; it never grows dst past cap(dst), so the caller bounds
// what a packet may cost. It returns:
//   - nil: src is used up and its output is in dst;
//   - ErrShortBuffer: dst is full and src holds more; the rest of src
//     (src must stay unchanged until then) is kept, and Continue with a
//     larger buffer holding the same bytes picks up there;
//   - ErrCorrupt: the stream is not valid zlib; the Decompressor fails
//     every call until Reset.
func (d *Decompressor) Decompress(dst, src []byte) ([]byte, error) {
	d.f.in = src
	return d.f.inflate(dst)
}

// Continue goes on with the packet that Decompress stopped with
// ErrShortBuffer, appending to dst; its results are those of Decompress.
func (d *Decompressor) Continue(dst []byte) ([]byte, error) {
	return d.f.inflate(dst)
}
