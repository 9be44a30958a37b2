package sftp

import (
	"encoding/binary"
	"io"
)

// joinedWriter is a stream that sends two buffers in the packets one
// write of both would take: connection's channels and sessions.
type joinedWriter interface {
	io.Writer
	WriteJoined(a, b []byte) (int, error)
}

// maxHeldHeader bounds the start of a packet packetWriter holds back;
// pkg/sftp's headers of packets with a payload are far shorter.
const maxHeldHeader = 512

// packetWriter joins the two writes in which pkg/sftp sends a packet with
// a payload, its header (length, type, id, fields) and then the data,
// into one: a 32 KiB WRITE or DATA leaves as one channel packet, one
// record and one system call instead of two of each. It follows the
// SFTP framing (uint32 length first) to know when a write is a header
// short of its payload; such a header waits for the next write, which
// pkg/sftp makes at once under the same lock. Everything else passes
// through, and the bytes leave in the order written whatever the split.
type packetWriter struct {
	w    joinedWriter
	held []byte // the start of a packet, waiting for its payload
	need int    // bytes of the current packet not yet written or held
	buf  [maxHeldHeader]byte
	// lost is set once a write could not be framed (a packet start
	// shorter than its length field); from then on writes pass through.
	lost bool
}

// joinWrites returns rwc with its writes joined by a packetWriter when
// rwc can write two buffers at once, else rwc itself.
func joinWrites(rwc io.ReadWriteCloser) io.ReadWriteCloser {
	jw, ok := rwc.(joinedWriter)
	if !ok {
		return rwc
	}
	return struct {
		io.Reader
		io.Writer
		io.Closer
	}{rwc, &packetWriter{w: jw}, rwc}
}

func (pw *packetWriter) Write(p []byte) (int, error) {
	if pw.lost {
		return pw.w.Write(p)
	}
	written := 0
	if len(pw.held) > 0 {
		// p carries the held packet's payload: both leave together.
		k := min(len(p), pw.need)
		n, err := pw.w.WriteJoined(pw.held, p[:k])
		held := len(pw.held)
		pw.held = pw.held[:0]
		pw.need -= k
		if err != nil {
			return max(n-held, 0), err
		}
		written, p = k, p[k:]
	}
	for len(p) > 0 {
		if pw.need > 0 {
			// The rest of a packet already begun.
			k := min(len(p), pw.need)
			n, err := pw.w.Write(p[:k])
			written += n
			pw.need -= n
			if err != nil {
				return written, err
			}
			p = p[k:]
			continue
		}
		if len(p) < 4 {
			pw.lost = true
			n, err := pw.w.Write(p)
			return written + n, err
		}
		total := 4 + int(binary.BigEndian.Uint32(p))
		switch {
		case len(p) >= total:
			n, err := pw.w.Write(p[:total])
			written += n
			if err != nil {
				return written, err
			}
			p = p[total:]
		case len(p) <= maxHeldHeader:
			pw.held = append(pw.buf[:0], p...)
			pw.need = total - len(p)
			return written + len(p), nil
		default:
			n, err := pw.w.Write(p)
			written += n
			pw.need = total - n
			if err != nil {
				return written, err
			}
			p = nil
		}
	}
	return written, nil
}
