package connection

import (
	"io"
	"net"

	"github.com/zerossh/zerossh/pool"
)

// OpenDirectTCPIP opens a "direct-tcpip" channel (RFC 4254 §7.2): the
// server connects to host and port, and the channel carries that
// connection's bytes. originAddr and originPort say where the
// connection being forwarded came from.
func (c *Conn) OpenDirectTCPIP(host string, port uint32, originAddr string, originPort uint32) (*Channel, error) {
	m := DirectTCPIP{Host: []byte(host), Port: port, OriginAddr: []byte(originAddr), OriginPort: originPort}
	return c.OpenChannel(channelDirectTCPIP, m.Append(nil))
}

// serveDirectTCPIP connects a direct-tcpip channel with dial and copies
// between the two until both directions have ended. It takes a token
// from dials, and gives it back once the dial is answered.
func serveDirectTCPIP(nc *NewChannel, dial func(string, uint32, string, uint32) (net.Conn, error), dials chan struct{}) {
	var m DirectTCPIP
	if err := m.Parse(nc.ExtraData()); err != nil {
		<-dials
		nc.Reject(ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	conn, err := dial(string(m.Host), m.Port, string(m.OriginAddr), m.OriginPort)
	<-dials
	if err != nil {
		nc.Reject(ConnectionFailed, err.Error())
		return
	}
	ch, err := nc.Accept()
	if err != nil {
		conn.Close()
		return
	}
	splice(ch, conn)
}

// splice copies both ways between ch and conn, passing each direction's
// end on as a half-close (EOF on the channel, CloseWrite on a TCP
// connection), and closes both once both directions have ended. A
// failure in either direction, or the peer's CLOSE, ends both.
func splice(ch *Channel, conn net.Conn) {
	toConn := make(chan struct{})
	go func() {
		defer close(toConn)
		if _, err := copyPooled(conn, ch); err == nil {
			if cw, ok := conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
				return
			}
		}
		conn.Close()
	}()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		// No requests are defined for this channel type.
		for r := range ch.Requests() {
			replyUnlessClosed(r, false)
		}
		// The peer closed the channel, or the connection ended: once the
		// data that came before is written, stop the other direction.
		<-toConn
		conn.Close()
	}()
	if _, err := copyPooled(ch, conn); err == nil {
		ch.CloseWrite()
	} else {
		ch.Close()
	}
	<-toConn
	ch.Close()
	conn.Close()
	<-watched
}

// copyPooled copies from src to dst until src ends, with a pooled buffer
// rather than the io.Copy paths that allocate one per call. A clean end
// of src returns a nil error.
func copyPooled(dst io.Writer, src io.Reader) (int64, error) {
	buf := pool.Get(copyBufferSize)
	defer pool.Put(buf)
	b := buf.B[:cap(buf.B)]
	var total int64
	for {
		n, err := src.Read(b)
		if n > 0 {
			w, werr := dst.Write(b[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
