// Package compression implements the SSH payload compression methods
// "zlib" (RFC 4253 §6.2) and "zlib@openssh.com" (OpenSSH PROTOCOL §1.3):
// one zlib stream (RFC 1950, deflate data per RFC 1951) per direction for
// the life of the keys, flushed at the end of every packet so that the
// peer can decode each packet as it arrives.
//
// A Compressor deflates on github.com/klauspost/compress/flate and ends
// every packet with a sync flush. A Decompressor inflates with its own
// resumable decoder: a packet may end anywhere in the bit stream (OpenSSH
// ends packets with zlib's Z_PARTIAL_FLUSH, whose empty static block is
// not byte aligned), and decoding must stop there with all the packet's
// data delivered and pick up at the next packet, without a goroutine and
// without reading earlier packets again. The flate readers of the standard
// library and of klauspost/compress treat the end of their input inside a
// block as a permanent error, and keep part of a symbol only in locals.
//
// The two methods differ only in when they start; the transport decides
// that (Delayed).
package compression

import "errors"

// Method names (RFC 4253 §6.2; OpenSSH PROTOCOL §1.3).
const (
	None = "none"
	Zlib = "zlib"
	// ZlibOpenSSH is zlib that starts after user authentication: "packet
	// compression does not start until the server sends a
	// SSH_MSG_USERAUTH_SUCCESS packet".
	ZlibOpenSSH = "zlib@openssh.com"
)

// All lists the methods this package implements, "none" included, in the
// order a side that wants compression offers them (OpenSSH's ssh -C).
var All = []string{ZlibOpenSSH, Zlib, None}

// Known reports whether name is a method in All.
func Known(name string) bool {
	return name == None || name == Zlib || name == ZlibOpenSSH
}

// Enabled reports whether name compresses at all.
func Enabled(name string) bool { return name == Zlib || name == ZlibOpenSSH }

// Delayed reports whether name starts only once user authentication has
// succeeded, rather than at NEWKEYS.
func Delayed(name string) bool { return name == ZlibOpenSSH }

// Compression levels, as in zlib: 1 is the fastest, 9 the smallest.
const (
	MinLevel = 1
	MaxLevel = 9
	// DefaultLevel is the level used when none is configured, the knee
	// of BenchmarkCompressLevels on text in 32 KiB packets (one core):
	// level 4 shrinks it 5.0:1 at 200 MB/s, level 6 5.2:1 at 110 MB/s,
	// level 9 6.3:1 at 5 MB/s. Past 4 the ratio gains little for half
	// the speed or less, and a link slower than the compressor is what
	// compression is for.
	DefaultLevel = 4
)

// Errors. A Decompressor that returns ErrCorrupt or ErrTooLarge stays
// failed until Reset; the transport ends the connection with DISCONNECT
// reason compression error (6) for either.
var (
	// ErrCorrupt reports input that is not a valid zlib stream.
	ErrCorrupt = errors.New("compression: corrupt zlib stream")
	// ErrShortBuffer reports that the output buffer filled up before the
	// packet was decoded in full; see Decompressor.Continue.
	ErrShortBuffer = errors.New("compression: output buffer full")
	// ErrOverflow reports that compressed output did not fit the buffer
	// given to Compress, which Bound sizes; it means a bug.
	ErrOverflow = errors.New("compression: compressed output exceeds Bound")
)
