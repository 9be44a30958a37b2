package connection

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/pool"
)

// copyBufferSize is the buffer of each copying goroutine: one data packet
// of the default maximum packet size.
const copyBufferSize = defaultMaxPacket

// Session is a remote command, shell or subsystem on a "session" channel
// (RFC 4254 §6), the client side. It follows golang.org/x/crypto/ssh's
// Session: set Stdin, Stdout and Stderr (or take pipes), ask for a
// terminal or environment, then Start, Run, Shell or RequestSubsystem,
// and Wait.
type Session struct {
	// Stdin is sent to the remote side, then EOF. When nil, EOF is sent at
	// once.
	Stdin io.Reader
	// Stdout and Stderr receive the remote side's output and error
	// output; when nil, what arrives is discarded. If both are the same
	// writer, of a type that can be compared with ==, at most one
	// goroutine calls Write at a time.
	Stdout io.Writer
	Stderr io.Writer

	ch *Channel

	mu                                sync.Mutex
	started, waited                   bool
	stdinPipe, stdoutPipe, stderrPipe bool
	copyErr                           error // the first failure of a copying goroutine

	exited  chan struct{} // closed once the channel's requests end
	exitErr error         // what Wait reports of the remote side, set before exited closes

	outputs sync.WaitGroup // the Stdout and Stderr copies
}

// ExitError is the remote side's failure: a non-zero exit status
// ("exit-status") or the signal that ended it ("exit-signal"), RFC 4254
// §6.10.
type ExitError struct {
	// Status is the exit status; for a signal, 128 plus its number when
	// the name is one of RFC 4254 §6.10, else 128.
	Status int
	// Signal is the name of the signal, without "SIG", or "".
	Signal string
	// Message is the error message sent with the signal.
	Message string
}

func (e *ExitError) Error() string {
	if e.Signal == "" {
		return fmt.Sprintf("ssh: remote command exited with status %d", e.Status)
	}
	if e.Message != "" {
		return fmt.Sprintf("ssh: remote command killed by signal %s: %s", e.Signal, e.Message)
	}
	return fmt.Sprintf("ssh: remote command killed by signal %s", e.Signal)
}

// ExitMissingError is returned by Wait when the channel closed without
// an exit status or exit signal.
type ExitMissingError struct{}

func (*ExitMissingError) Error() string {
	return "ssh: remote side closed the session without an exit status or signal"
}

// signalNumbers are the signals of RFC 4254 §6.10 with their numbers on
// Linux, which OpenSSH's exit-signal names come from.
var signalNumbers = map[string]int{
	"ABRT": 6, "ALRM": 14, "FPE": 8, "HUP": 1, "ILL": 4, "INT": 2, "KILL": 9,
	"PIPE": 13, "QUIT": 3, "SEGV": 11, "TERM": 15, "USR1": 10, "USR2": 12,
}

// NewSession opens a "session" channel.
func (c *Conn) NewSession() (*Session, error) {
	ch, err := c.OpenChannel(channelSession, nil)
	if err != nil {
		return nil, err
	}
	s := &Session{ch: ch, exited: make(chan struct{})}
	go s.serveRequests()
	return s, nil
}

// serveRequests takes the server's requests until the channel closes,
// keeping the exit status or signal for Wait.
func (s *Session) serveRequests() {
	var exit *ExitError
	for r := range s.ch.Requests() {
		switch r.Type {
		case requestExitStatus:
			var m ExitStatus
			if m.Parse(r.Payload) == nil {
				exit = &ExitError{Status: int(m.Status)}
			}
		case requestExitSignal:
			var m ExitSignal
			if m.Parse(r.Payload) == nil {
				sig := string(m.Signal)
				exit = &ExitError{Status: 128 + signalNumbers[sig], Signal: sig, Message: string(m.Message)}
			}
		}
		// Other requests, such as keepalive@openssh.com, are refused.
		replyUnlessClosed(r, false)
	}
	s.ch.mu.Lock()
	failed := s.ch.err
	s.ch.mu.Unlock()
	switch {
	case exit != nil && exit.Status == 0 && exit.Signal == "":
	case exit != nil:
		s.exitErr = exit
	case failed != nil:
		s.exitErr = failed
	default:
		s.exitErr = &ExitMissingError{}
	}
	close(s.exited)
}

// sendRequest sends a request that wants a reply and turns a refusal
// into an error.
func (s *Session) sendRequest(name string, payload []byte, what string) error {
	ok, err := s.ch.SendRequest(name, true, payload)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("ssh: %s refused", what)
	}
	return nil
}

// Setenv asks the server to set an environment variable for the command
// or shell that follows (RFC 4254 §6.4). Servers commonly refuse names
// they were not configured to accept.
func (s *Session) Setenv(name, value string) error {
	m := EnvRequest{Name: []byte(name), Value: []byte(value)}
	return s.sendRequest(requestEnv, m.Append(nil), fmt.Sprintf("environment variable %q", name))
}

// RequestPty asks for a pseudo-terminal of term type term (such as
// "xterm"), h rows and w columns, with the given terminal modes (RFC
// 4254 §6.2, §8).
func (s *Session) RequestPty(term string, h, w int, modes ssh.TerminalModes) error {
	m := PtyRequest{Term: []byte(term), Cols: uint32(w), Rows: uint32(h), Modes: AppendTerminalModes(nil, modes)}
	return s.sendRequest(requestPty, m.Append(nil), "pseudo-terminal")
}

// WindowChange tells the server the terminal now has h rows and w
// columns (RFC 4254 §6.7).
func (s *Session) WindowChange(h, w int) error {
	m := WindowChange{Cols: uint32(w), Rows: uint32(h)}
	_, err := s.ch.SendRequest(requestWindowChange, false, m.Append(nil))
	return err
}

// Signal sends a signal to the remote process (RFC 4254 §6.9). sig is
// the name without "SIG", such as "INT" or string(ssh.SIGTERM).
func (s *Session) Signal(sig string) error {
	m := SignalRequest{Signal: []byte(sig)}
	_, err := s.ch.SendRequest(requestSignal, false, m.Append(nil))
	return err
}

// Start runs cmd on the server (RFC 4254 §6.5, "exec") and starts
// copying Stdin, Stdout and Stderr. Wait waits for it.
func (s *Session) Start(cmd string) error {
	m := ExecRequest{Command: []byte(cmd)}
	return s.startWith(requestExec, m.Append(nil), fmt.Sprintf("command %q", cmd))
}

// Run is Start followed by Wait.
func (s *Session) Run(cmd string) error {
	if err := s.Start(cmd); err != nil {
		return err
	}
	return s.Wait()
}

// Shell starts the user's login shell on the server (RFC 4254 §6.5).
func (s *Session) Shell() error {
	return s.startWith(requestShell, nil, "shell")
}

// RequestSubsystem starts a subsystem on the server, such as "sftp"
// (RFC 4254 §6.5).
func (s *Session) RequestSubsystem(name string) error {
	m := SubsystemRequest{Name: []byte(name)}
	return s.startWith(requestSubsystem, m.Append(nil), fmt.Sprintf("subsystem %q", name))
}

// Output runs cmd and returns its standard output.
func (s *Session) Output(cmd string) ([]byte, error) {
	if s.Stdout != nil {
		return nil, errors.New("ssh: Stdout already set")
	}
	var b bytes.Buffer
	s.Stdout = &b
	err := s.Run(cmd)
	return b.Bytes(), err
}

// CombinedOutput runs cmd and returns its standard output and standard
// error together.
func (s *Session) CombinedOutput(cmd string) ([]byte, error) {
	if s.Stdout != nil || s.Stderr != nil {
		return nil, errors.New("ssh: Stdout or Stderr already set")
	}
	var b bytes.Buffer
	s.Stdout, s.Stderr = &b, &b
	err := s.Run(cmd)
	return b.Bytes(), err
}

// lockedWriter serialises the writes of the Stdout and Stderr copies to
// one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// sameWriter reports whether a and b are the same writer; writers of
// types that cannot be compared are not.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { recover() }()
	return a != nil && a == b
}

// StdinPipe returns a pipe to the remote side's standard input; closing
// it sends EOF. Call it before the session starts, with Stdin unset.
func (s *Session) StdinPipe() (io.WriteCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Stdin != nil || s.stdinPipe {
		return nil, errors.New("ssh: Stdin already set")
	}
	if s.started {
		return nil, errors.New("ssh: StdinPipe after the session started")
	}
	s.stdinPipe = true
	return stdinPipe{s.ch}, nil
}

type stdinPipe struct{ ch *Channel }

func (p stdinPipe) Write(b []byte) (int, error) { return p.ch.Write(b) }

// WriteJoined is Channel.WriteJoined on the standard input.
func (p stdinPipe) WriteJoined(a, b []byte) (int, error) { return p.ch.WriteJoined(a, b) }
func (p stdinPipe) Close() error                         { return p.ch.CloseWrite() }

// StdoutPipe returns a pipe from the remote side's standard output. Call
// it before the session starts, with Stdout unset. The remote side
// stalls once its window is full, so read the pipe until EOF before
// Wait.
func (s *Session) StdoutPipe() (io.Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Stdout != nil || s.stdoutPipe {
		return nil, errors.New("ssh: Stdout already set")
	}
	if s.started {
		return nil, errors.New("ssh: StdoutPipe after the session started")
	}
	s.stdoutPipe = true
	return s.ch, nil
}

// StderrPipe is StdoutPipe for the standard error.
func (s *Session) StderrPipe() (io.Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Stderr != nil || s.stderrPipe {
		return nil, errors.New("ssh: Stderr already set")
	}
	if s.started {
		return nil, errors.New("ssh: StderrPipe after the session started")
	}
	s.stderrPipe = true
	return s.ch.Stderr(), nil
}

// startWith sends the request that starts the session and, once the
// server accepted it, the copying goroutines.
func (s *Session) startWith(name string, payload []byte, what string) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		return errors.New("ssh: session already started")
	}
	if err := s.sendRequest(name, payload, what); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = true
	if !s.stdinPipe {
		if s.Stdin == nil {
			s.ch.CloseWrite()
		} else {
			go s.copyStdin(s.Stdin)
		}
	}
	stdout, stderr := s.Stdout, s.Stderr
	if sameWriter(stdout, stderr) {
		lw := &lockedWriter{w: stdout}
		stdout, stderr = lw, lw
	}
	if !s.stdoutPipe {
		s.outputs.Add(1)
		go s.copyOutput(stdout, s.ch)
	}
	if !s.stderrPipe {
		s.outputs.Add(1)
		go s.copyOutput(stderr, s.ch.Stderr())
	}
	return nil
}

func (s *Session) setCopyErr(err error) {
	s.mu.Lock()
	if s.copyErr == nil {
		s.copyErr = err
	}
	s.mu.Unlock()
}

// copyOutput copies channel data to w until EOF, with one pooled buffer.
// Once w fails, the rest is read and dropped, so that the remote side
// does not stall on a full window.
func (s *Session) copyOutput(w io.Writer, r io.Reader) {
	defer s.outputs.Done()
	buf := pool.Get(copyBufferSize)
	defer pool.Put(buf)
	b := buf.B[:cap(buf.B)]
	for {
		n, err := r.Read(b)
		if n > 0 && w != nil {
			if _, werr := w.Write(b[:n]); werr != nil {
				s.setCopyErr(werr)
				w = nil
			}
		}
		if err != nil {
			// EOF ends the stream; ErrClosed follows Close, and a failed
			// connection is what Wait reports.
			return
		}
	}
}

// copyStdin copies Stdin to the channel, then sends EOF.
func (s *Session) copyStdin(r io.Reader) {
	var err error
	if wt, ok := r.(io.WriterTo); ok {
		_, err = wt.WriteTo(s.ch)
	} else {
		buf := pool.Get(copyBufferSize)
		b := buf.B[:cap(buf.B)]
		for {
			n, rerr := r.Read(b)
			if n > 0 {
				if _, err = s.ch.Write(b[:n]); err != nil {
					break
				}
			}
			if rerr != nil {
				if rerr != io.EOF {
					err = rerr
				}
				break
			}
		}
		pool.Put(buf)
	}
	s.ch.CloseWrite()
	// A write fails with EOF once the remote side closed the channel
	// without reading all of its input: its choice, not a failure.
	if err != nil && err != io.EOF && !errors.Is(err, ErrClosed) {
		s.setCopyErr(err)
	}
}

// Wait waits for the remote command to exit and the copying of Stdout
// and Stderr to finish. It returns nil for exit status 0, an *ExitError
// for another status or a signal, an *ExitMissingError when the channel
// closed without either, the connection's error when it failed first,
// and otherwise the first error of copying. A Read of Stdin that blocks
// does not hold Wait up: that copy ends when the Read returns.
func (s *Session) Wait() error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return errors.New("ssh: session not started")
	}
	if s.waited {
		s.mu.Unlock()
		return errors.New("ssh: Wait already called")
	}
	s.waited = true
	s.mu.Unlock()
	<-s.exited
	s.outputs.Wait()
	if s.exitErr != nil {
		return s.exitErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyErr
}

// Close closes the session's channel, which ends its copying goroutines.
func (s *Session) Close() error { return s.ch.Close() }
