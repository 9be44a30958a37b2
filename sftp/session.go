package sftp

import (
	"io"

	"github.com/pkg/sftp"

	"github.com/zerossh/zerossh/connection"
)

// Open starts the "sftp" subsystem on a new session of c and returns a
// client on it; closing the client closes the session.
func Open(c *connection.Conn, opts ...sftp.ClientOption) (*Client, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	stdin, err := s.StdinPipe()
	if err == nil {
		var stdout io.Reader
		if stdout, err = s.StdoutPipe(); err == nil {
			if err = s.RequestSubsystem("sftp"); err == nil {
				return NewClient(sessionPipe{stdout, stdin, s}, opts...)
			}
		}
	}
	s.Close()
	return nil, err
}

// sessionPipe is a client session as the stream pkg/sftp's client reads
// and writes.
type sessionPipe struct {
	io.Reader
	stdin io.WriteCloser
	s     *connection.Session
}

func (p sessionPipe) Write(b []byte) (int, error) { return p.stdin.Write(b) }

// WriteJoined sends a and b in the packets one write of both would take,
// as the session's standard input does.
func (p sessionPipe) WriteJoined(a, b []byte) (int, error) {
	if jw, ok := p.stdin.(joinedWriter); ok {
		return jw.WriteJoined(a, b)
	}
	n, err := p.stdin.Write(a)
	if err != nil {
		return n, err
	}
	m, err := p.stdin.Write(b)
	return n + m, err
}

func (p sessionPipe) Close() error {
	p.stdin.Close()
	return p.s.Close()
}

// SessionConn turns a server session running the "sftp" subsystem into
// the stream Serve takes.
func SessionConn(s *connection.ServerSession) io.ReadWriteCloser { return serverSession{s} }

type serverSession struct{ *connection.ServerSession }

// Close sends EOF; the session handler's return closes the channel.
func (s serverSession) Close() error { return s.CloseWrite() }
