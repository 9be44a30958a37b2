package connection

import (
	"errors"
	"io"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
)

// SessionHandler runs what a session asked for (a command, a shell or a
// subsystem) and returns its exit status. When it returns, the server
// sends the status, EOF and CLOSE, unless the handler called Exit or
// ExitSignal itself. It should return soon after Done is closed.
type SessionHandler func(s *ServerSession) int

// ServerOptions configures Serve. The zero value accepts sessions but
// refuses every command, shell and subsystem, and every forwarding.
type ServerOptions struct {
	// Exec runs "exec" requests and Shell "shell" requests; where one is
	// nil, Handler runs them. With neither, the request is refused.
	Exec, Shell, Handler SessionHandler
	// Subsystems runs "subsystem" requests by name; other names are
	// refused.
	Subsystems map[string]SessionHandler
	// AcceptEnv decides which "env" requests to accept; nil accepts all.
	AcceptEnv func(name, value string) bool
	// DirectTCPIP connects a "direct-tcpip" channel (RFC 4254 §7.2,
	// local port forwarding) to host and port; origin and originPort
	// are where the client says the connection came from. When nil,
	// such channels are refused with Prohibited.
	DirectTCPIP func(host string, port uint32, origin string, originPort uint32) (net.Conn, error)
	// GlobalRequest receives the global requests the connection passes
	// on (see Config.ForwardRequests) and must reply to each; nil
	// refuses them all.
	GlobalRequest func(r *Request)
}

// Pty is the pseudo-terminal a client asked for (RFC 4254 §6.2).
type Pty struct {
	Term          string // TERM, e.g. "xterm"
	Cols, Rows    uint32 // in characters and rows
	Width, Height uint32 // in pixels
	Modes         ssh.TerminalModes
}

// Window is a terminal size from a "window-change" request (RFC 4254
// §6.7).
type Window struct {
	Cols, Rows    uint32
	Width, Height uint32
}

// Bounds on what a client may pile up in one session.
const (
	maxEnv         = 256      // variables
	maxEnvBytes    = 64 << 10 // bytes of names and values in all
	sessionQueue   = 16       // window changes and signals not yet taken
	maxDials       = 16       // direct-tcpip connections being dialled at once
	serverShellReq = "shell"
)

// ServerSession is the server side of a session channel, handed to a
// SessionHandler. Read and Write move the standard input and output,
// Stderr the error output. What the client asked for before the
// handler started (Env, Pty, Command, Subsystem, IsShell) does not change
// afterwards.
type ServerSession struct {
	ch *Channel
	c  *Conn

	env       []string
	envBytes  int
	pty       *Pty
	command   string
	subsystem string
	shell     bool

	windows chan Window
	signals chan string
	done    chan struct{}

	exitOnce sync.Once
	exitErr  error
}

// Read reads the client's standard input; it returns io.EOF after the
// client's EOF.
func (s *ServerSession) Read(p []byte) (int, error) { return s.ch.Read(p) }

// Write writes to the client's standard output.
func (s *ServerSession) Write(p []byte) (int, error) { return s.ch.Write(p) }

// WriteJoined writes a and then b to the standard output in the packets
// one Write of both would take (Channel.WriteJoined).
func (s *ServerSession) WriteJoined(a, b []byte) (int, error) { return s.ch.WriteJoined(a, b) }

// Stderr returns the client's standard error output.
func (s *ServerSession) Stderr() io.Writer { return s.ch.Stderr() }

// CloseWrite sends EOF on the standard output.
func (s *ServerSession) CloseWrite() error { return s.ch.CloseWrite() }

// Conn returns the connection the session belongs to.
func (s *ServerSession) Conn() *Conn { return s.c }

// Env returns the environment variables the client set, as "name=value".
func (s *ServerSession) Env() []string { return s.env }

// Pty returns the pseudo-terminal the client asked for, if it did.
func (s *ServerSession) Pty() (*Pty, bool) { return s.pty, s.pty != nil }

// Command returns the command of an "exec" request, or "".
func (s *ServerSession) Command() string { return s.command }

// Subsystem returns the name of a "subsystem" request, or "".
func (s *ServerSession) Subsystem() string { return s.subsystem }

// IsShell reports whether the client asked for a shell.
func (s *ServerSession) IsShell() bool { return s.shell }

// WindowChanges returns the terminal size changes the client sends, closed
// when the session ends. When the handler falls behind, the oldest are
// dropped.
func (s *ServerSession) WindowChanges() <-chan Window { return s.windows }

// Signals returns the names of the signals the client sends (without
// "SIG"), closed when the session ends. When the handler falls behind by
// more than a few, further signals are dropped.
func (s *ServerSession) Signals() <-chan string { return s.signals }

// Done is closed when the client closed the channel or the connection
// ended.
func (s *ServerSession) Done() <-chan struct{} { return s.done }

// Exit sends the exit status, EOF and CLOSE (RFC 4254 §6.10). Only the
// first Exit or ExitSignal counts.
func (s *ServerSession) Exit(status int) error {
	m := ExitStatus{Status: uint32(status)}
	return s.exit(requestExitStatus, m.Append(nil))
}

// ExitSignal reports that the command was ended by signal sig (without
// "SIG"), whether it dumped core, and an error message, then sends EOF
// and CLOSE (RFC 4254 §6.10). Only the first Exit or ExitSignal counts.
func (s *ServerSession) ExitSignal(sig string, core bool, msg string) error {
	m := ExitSignal{Signal: []byte(sig), CoreDumped: core, Message: []byte(msg)}
	return s.exit(requestExitSignal, m.Append(nil))
}

func (s *ServerSession) exit(name string, payload []byte) error {
	s.exitOnce.Do(func() {
		_, err := s.ch.SendRequest(name, false, payload)
		if werr := s.ch.CloseWrite(); err == nil {
			err = werr
		}
		if cerr := s.ch.Close(); err == nil {
			err = cerr
		}
		// A client that closed first has heard all it wanted to.
		if err == ErrClosed {
			err = nil
		}
		s.exitErr = err
	})
	return s.exitErr
}

// Serve runs the server side of the connection protocol on c until the
// connection ends: it accepts "session" channels and runs their
// handlers, accepts "direct-tcpip" channels when opts.DirectTCPIP is set,
// rejects other channel types with UnknownChannelType, and refuses global
// requests unless opts.GlobalRequest takes them. It takes every channel
// open and global request of c, and returns once the connection has
// ended and every handler has returned: nil when the connection was
// closed or the peer disconnected, else why it ended.
func Serve(c *Conn, opts *ServerOptions) error {
	if opts == nil {
		opts = &ServerOptions{}
	}
	var wg sync.WaitGroup
	// A channel holds part of the connection's window budget only once
	// accepted, so the dials before that are bounded here.
	dials := make(chan struct{}, maxDials)
	requests := c.GlobalRequests()
	if opts.GlobalRequest != nil {
		// The application's handler may take its time; channel opens
		// must not wait for it.
		wg.Go(func() {
			for r := range requests {
				opts.GlobalRequest(r)
			}
		})
		requests = nil
	}
	// Refusals and channel opens are quick, so one goroutine serves both:
	// an idle connection costs one goroutine less.
	channels := c.Channels()
	for channels != nil || requests != nil {
		select {
		case r, ok := <-requests:
			if !ok {
				requests = nil
				continue
			}
			r.Reply(false, nil)
		case nc, ok := <-channels:
			if !ok {
				channels = nil
				continue
			}
			serveChannel(c, nc, opts, &wg, dials)
		}
	}
	wg.Wait()
	return serveErr(c.Err())
}

// serveChannel starts serving one channel the peer opened, or rejects it.
func serveChannel(c *Conn, nc *NewChannel, opts *ServerOptions, wg *sync.WaitGroup, dials chan struct{}) {
	switch nc.ChannelType() {
	case channelSession:
		wg.Go(func() { serveSession(c, nc, opts) })
	case channelDirectTCPIP:
		if opts.DirectTCPIP == nil {
			nc.Reject(Prohibited, "direct-tcpip forwarding is not allowed")
			return
		}
		select {
		case dials <- struct{}{}:
			wg.Go(func() { serveDirectTCPIP(nc, opts.DirectTCPIP, dials) })
		default:
			nc.Reject(ResourceShortage, "too many connections being forwarded at once")
		}
	default:
		nc.Reject(UnknownChannelType, "unknown channel type "+nc.ChannelType())
	}
}

// serveErr drops the errors of an orderly end.
func serveErr(err error) error {
	var de *zerossh.DisconnectError
	switch {
	case errors.Is(err, zerossh.ErrClosed), errors.Is(err, ErrClosed), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return nil
	case errors.As(err, &de) && de.Remote && de.Reason == zerossh.ByApplication:
		return nil
	}
	return err
}

// serveSession answers a session's requests until the channel closes,
// and runs its handler once a command, shell or subsystem is asked for.
func serveSession(c *Conn, nc *NewChannel, opts *ServerOptions) {
	ch, err := nc.Accept()
	if err != nil {
		return
	}
	s := &ServerSession{
		ch:      ch,
		c:       c,
		windows: make(chan Window, sessionQueue),
		signals: make(chan string, sessionQueue),
		done:    make(chan struct{}),
	}
	var handlerDone chan struct{}
	for r := range ch.Requests() {
		ok := false
		switch r.Type {
		case requestPty:
			ok = handlerDone == nil && s.setPty(r.Payload)
		case requestEnv:
			ok = handlerDone == nil && s.setEnv(r.Payload, opts.AcceptEnv)
		case requestWindowChange:
			ok = s.windowChange(r.Payload, handlerDone != nil)
		case requestSignal:
			var m SignalRequest
			if m.Parse(r.Payload) == nil {
				select {
				case s.signals <- string(m.Signal):
				default:
				}
				ok = true
			}
		case requestExec, serverShellReq, requestSubsystem:
			if handlerDone != nil {
				break
			}
			h := s.pick(r.Type, r.Payload, opts)
			if h == nil {
				break
			}
			// The reply goes out before anything the handler writes.
			replyUnlessClosed(r, true)
			handlerDone = make(chan struct{})
			go func() {
				defer close(handlerDone)
				s.Exit(h(s))
			}()
			continue
		}
		replyUnlessClosed(r, ok)
	}
	close(s.done)
	close(s.windows)
	close(s.signals)
	if handlerDone != nil {
		<-handlerDone
	} else {
		ch.Close()
	}
}

// replyUnlessClosed answers a request unless our CLOSE went out already:
// RFC 4254 §5.3, "After sending this message, the party MUST NOT send
// any more data to the channel".
func replyUnlessClosed(r *Request, ok bool) {
	r.ch.mu.Lock()
	closed := r.ch.sentClose
	r.ch.mu.Unlock()
	if !closed {
		r.Reply(ok, nil)
	}
}

// pick returns the handler for an exec, shell or subsystem request and
// records what was asked, or nil to refuse it.
func (s *ServerSession) pick(typ string, payload []byte, opts *ServerOptions) SessionHandler {
	switch typ {
	case requestExec:
		var m ExecRequest
		if m.Parse(payload) != nil {
			return nil
		}
		h := opts.Exec
		if h == nil {
			h = opts.Handler
		}
		if h != nil {
			s.command = string(m.Command)
		}
		return h
	case serverShellReq:
		if len(payload) != 0 {
			return nil
		}
		h := opts.Shell
		if h == nil {
			h = opts.Handler
		}
		s.shell = h != nil
		return h
	}
	var m SubsystemRequest
	if m.Parse(payload) != nil {
		return nil
	}
	h := opts.Subsystems[string(m.Name)]
	if h != nil {
		s.subsystem = string(m.Name)
	}
	return h
}

func (s *ServerSession) setPty(payload []byte) bool {
	var m PtyRequest
	if s.pty != nil || m.Parse(payload) != nil {
		return false
	}
	modes, err := ParseTerminalModes(m.Modes)
	if err != nil {
		return false
	}
	s.pty = &Pty{Term: string(m.Term), Cols: m.Cols, Rows: m.Rows, Width: m.Width, Height: m.Height, Modes: modes}
	return true
}

func (s *ServerSession) setEnv(payload []byte, accept func(name, value string) bool) bool {
	var m EnvRequest
	if m.Parse(payload) != nil || len(s.env) >= maxEnv || s.envBytes+len(m.Name)+len(m.Value) > maxEnvBytes {
		return false
	}
	name, value := string(m.Name), string(m.Value)
	if accept != nil && !accept(name, value) {
		return false
	}
	s.env = append(s.env, name+"="+value)
	s.envBytes += len(name) + len(value)
	return true
}

// windowChange records the size in the pty before the handler runs,
// and queues it for the handler afterwards, dropping the oldest when the
// queue is full: only the latest size matters.
func (s *ServerSession) windowChange(payload []byte, running bool) bool {
	var m WindowChange
	if m.Parse(payload) != nil {
		return false
	}
	w := Window{Cols: m.Cols, Rows: m.Rows, Width: m.Width, Height: m.Height}
	if !running && s.pty != nil {
		s.pty.Cols, s.pty.Rows, s.pty.Width, s.pty.Height = w.Cols, w.Rows, w.Width, w.Height
		return true
	}
	for {
		select {
		case s.windows <- w:
			return true
		default:
		}
		// This goroutine is the only sender: after taking one out, the
		// next send finds room.
		select {
		case <-s.windows:
		default:
		}
	}
}
