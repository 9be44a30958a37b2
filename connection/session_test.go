package connection

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/internal/testutil"
)

// testTimeout bounds every test of a session: when it expires, the
// connections are closed, which ends every blocked call.
const testTimeout = 30 * time.Second

// servePair returns a client over a transport pair whose server end runs
// Serve with opts. The cleanup closes both and waits for Serve.
func servePair(t testing.TB, opts *ServerOptions) *Conn {
	t.Helper()
	c, s := connPair(t, nil, nil)
	served := make(chan error, 1)
	go func() { served <- Serve(s, opts) }()
	watchdog := time.AfterFunc(testTimeout, func() {
		t.Errorf("timed out after %v", testTimeout)
		c.Close()
		s.Close()
	})
	t.Cleanup(func() {
		watchdog.Stop()
		// The server end first: closed from the other end, Serve may
		// find the connection reset before it reads the DISCONNECT.
		s.Close()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after the connection closed")
		}
		c.Close()
	})
	return c
}

// echoHandler echoes stdin to stdout, writes "err\n" to stderr and
// exits with status 3.
func echoHandler(s *ServerSession) int {
	if _, err := copyPooled(s, s); err != nil {
		return 100
	}
	io.WriteString(s.Stderr(), "err\n")
	return 3
}

func newSession(t testing.TB, c *Conn) *Session {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantExit(t testing.TB, err error, status int, signal string) {
	t.Helper()
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Status != status || ee.Signal != signal {
		t.Fatalf("got %v; want an ExitError with status %d and signal %q", err, status, signal)
	}
}

func TestSessionExec(t *testing.T) {
	var command string
	c := servePair(t, &ServerOptions{Exec: func(s *ServerSession) int {
		command = s.Command()
		return echoHandler(s)
	}})
	s := newSession(t, c)
	var stdout, stderr bytes.Buffer
	s.Stdin = strings.NewReader("hello, world\n")
	s.Stdout, s.Stderr = &stdout, &stderr
	wantExit(t, s.Run("echo it"), 3, "")
	if got := stdout.String(); got != "hello, world\n" {
		t.Errorf("stdout %q; want %q", got, "hello, world\n")
	}
	if got := stderr.String(); got != "err\n" {
		t.Errorf("stderr %q; want %q", got, "err\n")
	}
	if command != "echo it" {
		t.Errorf("command %q; want %q", command, "echo it")
	}
	if err := s.Wait(); err == nil {
		t.Error("second Wait succeeded")
	}
}

func TestSessionOutput(t *testing.T) {
	c := servePair(t, &ServerOptions{Handler: func(s *ServerSession) int {
		fmt.Fprintf(s, "out %s\n", s.Command())
		io.WriteString(s.Stderr(), "err\n")
		if s.Command() == "fail" {
			return 1
		}
		return 0
	}})
	out, err := newSession(t, c).Output("x")
	if err != nil || string(out) != "out x\n" {
		t.Errorf("Output = %q, %v; want %q, nil", out, err, "out x\n")
	}
	out, err = newSession(t, c).CombinedOutput("fail")
	wantExit(t, err, 1, "")
	if got := string(out); !strings.Contains(got, "out fail\n") || !strings.Contains(got, "err\n") || len(got) != len("out fail\nerr\n") {
		t.Errorf("CombinedOutput = %q; want stdout and stderr", got)
	}
	s := newSession(t, c)
	s.Stdout = io.Discard
	if _, err := s.Output("x"); err == nil {
		t.Error("Output with Stdout set succeeded")
	}
}

func TestSessionEnvPtyWindowChange(t *testing.T) {
	type seen struct {
		env     []string
		pty     *Pty
		windows []Window
	}
	got := make(chan seen, 1)
	started := make(chan struct{})
	c := servePair(t, &ServerOptions{
		AcceptEnv: func(name, value string) bool { return name != "FORBIDDEN" },
		Exec: func(s *ServerSession) int {
			pty, _ := s.Pty()
			v := seen{env: s.Env(), pty: pty}
			close(started)
			for w := range s.WindowChanges() {
				v.windows = append(v.windows, w)
				if len(v.windows) == 2 {
					break
				}
			}
			got <- v
			return 0
		},
	})
	s := newSession(t, c)
	for _, kv := range [][2]string{{"LANG", "C.UTF-8"}, {"A", "b=c"}} {
		if err := s.Setenv(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Setenv("FORBIDDEN", "1"); err == nil {
		t.Error("Setenv of a refused name succeeded")
	}
	modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.TTY_OP_ISPEED: 14400, ssh.TTY_OP_OSPEED: 14400}
	if err := s.RequestPty("xterm", 40, 80, modes); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 40, 80, modes); err == nil {
		t.Error("second pty-req accepted")
	}
	if err := s.WindowChange(41, 81); err != nil { // before exec: changes the pty
		t.Fatal(err)
	}
	if err := s.Start("x"); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := s.Setenv("LATE", "1"); err == nil {
		t.Error("Setenv after exec accepted")
	}
	s.WindowChange(50, 100)
	s.WindowChange(60, 120)
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	v := <-got
	if want := []string{"LANG=C.UTF-8", "A=b=c"}; !slices.Equal(v.env, want) {
		t.Errorf("env %q; want %q", v.env, want)
	}
	if v.pty == nil || v.pty.Term != "xterm" || v.pty.Rows != 41 || v.pty.Cols != 81 || !maps.Equal(v.pty.Modes, modes) {
		t.Errorf("pty %+v; want xterm 81x41 with modes %v", v.pty, modes)
	}
	if want := []Window{{Cols: 100, Rows: 50}, {Cols: 120, Rows: 60}}; !slices.Equal(v.windows, want) {
		t.Errorf("window changes %v; want %v", v.windows, want)
	}
}

func TestSessionSignal(t *testing.T) {
	c := servePair(t, &ServerOptions{Exec: func(s *ServerSession) int {
		select {
		case sig := <-s.Signals():
			if s.Command() == "die" {
				s.ExitSignal(sig, true, "terminated by "+sig)
				return 0 // ignored: the exit signal went out already
			}
			return 128 + signalNumbers[sig]
		case <-s.Done():
			return 99
		}
	}})
	s := newSession(t, c)
	if err := s.Start("wait"); err != nil {
		t.Fatal(err)
	}
	if err := s.Signal("INT"); err != nil {
		t.Fatal(err)
	}
	wantExit(t, s.Wait(), 130, "")

	s = newSession(t, c)
	if err := s.Start("die"); err != nil {
		t.Fatal(err)
	}
	s.Signal(string(ssh.SIGTERM))
	err := s.Wait()
	wantExit(t, err, 128+15, "TERM")
	if msg := err.(*ExitError).Message; msg != "terminated by TERM" {
		t.Errorf("message %q; want %q", msg, "terminated by TERM")
	}
}

func TestSessionShell(t *testing.T) {
	c := servePair(t, &ServerOptions{Shell: func(s *ServerSession) int {
		if !s.IsShell() || s.Command() != "" {
			return 2
		}
		line := make([]byte, 5)
		if _, err := io.ReadFull(s, line); err != nil {
			return 1
		}
		fmt.Fprintf(s, "$ %s", line)
		return 0
	}})
	s := newSession(t, c)
	in, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("exec is not allowed"); err == nil {
		t.Fatal("exec accepted by a server with only a shell")
	}
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Shell(); err == nil {
		t.Error("second Shell succeeded")
	}
	io.WriteString(in, "exit\n")
	in.Close()
	got, err := io.ReadAll(out)
	if err != nil || string(got) != "$ exit\n" {
		t.Errorf("read %q, %v; want %q", got, err, "$ exit\n")
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSessionSubsystem(t *testing.T) {
	c := servePair(t, &ServerOptions{Subsystems: map[string]SessionHandler{
		"echo": func(s *ServerSession) int {
			if s.Subsystem() != "echo" {
				return 1
			}
			copyPooled(s, s)
			return 0
		},
	}})
	s := newSession(t, c)
	if err := s.RequestSubsystem("sftp"); err == nil {
		t.Fatal("unknown subsystem accepted")
	}
	s.Stdin = strings.NewReader("ping")
	var out bytes.Buffer
	s.Stdout = &out
	if err := s.RequestSubsystem("echo"); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err != nil || out.String() != "ping" {
		t.Fatalf("Wait = %v, output %q; want nil, %q", err, out.String(), "ping")
	}
}

// TestSessionSecondExecRefused sends a second exec on a running session
// past the Session API, which refuses it itself.
func TestSessionSecondExecRefused(t *testing.T) {
	release := make(chan struct{})
	c := servePair(t, &ServerOptions{Handler: func(s *ServerSession) int {
		<-release
		return 0
	}})
	s := newSession(t, c)
	if err := s.Start("one"); err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct {
		typ     string
		payload []byte
	}{{"exec", (&ExecRequest{Command: []byte("two")}).Append(nil)}, {"shell", nil}, {"pty-req", (&PtyRequest{Term: []byte("vt100")}).Append(nil)}, {"x11-req", nil}} {
		if ok, err := s.ch.SendRequest(req.typ, true, req.payload); ok || err != nil {
			t.Errorf("%s on a running session: %v, %v; want a refusal", req.typ, ok, err)
		}
	}
	close(release)
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSessionRefusedWithoutHandler(t *testing.T) {
	c := servePair(t, nil)
	s := newSession(t, c)
	if err := s.Start("ls"); err == nil {
		t.Error("exec accepted without a handler")
	}
	if err := s.Shell(); err == nil {
		t.Error("shell accepted without a handler")
	}
	if err := s.Wait(); err == nil {
		t.Error("Wait on an unstarted session succeeded")
	}
	if _, err := c.OpenChannel("x-unknown@example.com", nil); !isOpenError(err, UnknownChannelType) {
		t.Errorf("unknown channel type: %v; want %v", err, UnknownChannelType)
	}
	if ok, _, err := c.SendRequest("tcpip-forward", true, ssh.Marshal(struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0})); ok || err != nil {
		t.Errorf("tcpip-forward: %v, %v; want a refusal", ok, err)
	}
	if ok, _, err := c.SendRequest("x-test@example.com", true, nil); ok || err != nil {
		t.Errorf("global request: %v, %v; want a refusal", ok, err)
	}
}

func isOpenError(err error, reason RejectionReason) bool {
	var oe *OpenChannelError
	return errors.As(err, &oe) && oe.Reason == reason
}

// TestSessionExitMissing has a server close the channel without an exit
// status.
func TestSessionExitMissing(t *testing.T) {
	c, srv := connPair(t, nil, nil)
	go func() {
		for nc := range srv.Channels() {
			ch, err := nc.Accept()
			if err != nil {
				return
			}
			go func() {
				for r := range ch.Requests() {
					r.Reply(r.Type == "exec", nil)
					if r.Type == "exec" {
						io.WriteString(ch, "bye")
						ch.Close()
					}
				}
			}()
		}
	}()
	s := newSession(t, c)
	out, err := s.Output("x")
	var me *ExitMissingError
	if !errors.As(err, &me) || string(out) != "bye" {
		t.Fatalf("Output = %q, %v; want %q and an ExitMissingError", out, err, "bye")
	}
}

// TestSessionConnectionLost checks that Wait returns once the connection
// fails under a running command.
func TestSessionConnectionLost(t *testing.T) {
	running := make(chan struct{})
	c, srv := connPair(t, nil, nil)
	go Serve(srv, &ServerOptions{Handler: func(s *ServerSession) int {
		close(running)
		<-s.Done()
		return 0
	}})
	s := newSession(t, c)
	if err := s.Start("x"); err != nil {
		t.Fatal(err)
	}
	<-running
	srv.Transport().Close()
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		var ee *ExitError
		if err == nil || errors.As(err, &ee) {
			t.Fatalf("Wait = %v; want the connection's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after the connection failed")
	}
}

// TestSessionCloseEndsCopies closes a session whose command never ends.
func TestSessionCloseEndsCopies(t *testing.T) {
	c := servePair(t, &ServerOptions{Handler: func(s *ServerSession) int {
		for {
			if _, err := s.Write(make([]byte, 1024)); err != nil {
				return 0
			}
		}
	}})
	s := newSession(t, c)
	s.Stdin = blockingReader{}
	if err := s.Start("yes"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	s.Close()
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		var me *ExitMissingError
		if !errors.As(err, &me) {
			t.Fatalf("Wait after Close = %v; want an ExitMissingError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after Close")
	}
}

// blockingReader is a Stdin that never has data, like a quiet terminal.
type blockingReader struct{}

func (blockingReader) Read(p []byte) (int, error) { select {} }

// patternReader yields n bytes of a fixed pattern, and hashes them.
type patternReader struct {
	n, off int
	sum    interface{ Write([]byte) (int, error) }
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(len(p), r.n-r.off)]
	for i := range p {
		o := r.off + i
		p[i] = byte(o ^ o>>8 ^ o>>16)
	}
	r.off += len(p)
	if r.sum != nil {
		r.sum.Write(p)
	}
	return len(p), nil
}

// transferSize is what the throughput tests send each way.
const transferSize = 64 << 20

// logThroughput logs the rate of a transfer of n bytes each way.
func logThroughput(t testing.TB, what string, n int, d time.Duration) {
	t.Helper()
	t.Logf("%s: %d MiB each way in %v: %.1f MB/s", what, n>>20, d.Round(time.Millisecond), float64(n)/d.Seconds()/1e6)
}

func TestSessionEcho64MiB(t *testing.T) {
	c := servePair(t, &ServerOptions{Exec: echoHandler})
	s := newSession(t, c)
	sent, got := sha256.New(), sha256.New()
	s.Stdin = &patternReader{n: transferSize, sum: sent}
	counted := &countingWriter{w: got}
	var stderr bytes.Buffer
	s.Stdout, s.Stderr = counted, &stderr
	start := time.Now()
	wantExit(t, s.Run("echo"), 3, "")
	logThroughput(t, "zerossh client, zerossh server, exec echo, "+c.Transport().Algorithms().Write.Cipher, transferSize, time.Since(start))
	if counted.n != transferSize || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("echoed %d bytes, hashes equal: %v; want %d equal bytes", counted.n, bytes.Equal(got.Sum(nil), sent.Sum(nil)), transferSize)
	}
	if stderr.String() != "err\n" {
		t.Errorf("stderr %q; want %q", stderr.String(), "err\n")
	}
}

type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return c.w.Write(p)
}

// echoListener is a TCP echo server on 127.0.0.1 that half-closes after
// echoing.
func echoListener(t testing.TB) *net.TCPListener {
	t.Helper()
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := l.AcceptTCP()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(testTimeout))
				io.Copy(conn, conn)
				conn.CloseWrite()
			})
		}
	})
	return l
}

func TestDirectTCPIPRefusedByDefault(t *testing.T) {
	c := servePair(t, &ServerOptions{Handler: echoHandler})
	if _, err := c.OpenDirectTCPIP("127.0.0.1", 22, "127.0.0.1", 12345); !isOpenError(err, Prohibited) {
		t.Fatalf("OpenDirectTCPIP = %v; want a refusal with %v", err, Prohibited)
	}
}

func TestDirectTCPIP(t *testing.T) {
	l := echoListener(t)
	type dialed struct {
		host, origin     string
		port, originPort uint32
	}
	calls := make(chan dialed, 2)
	c := servePair(t, &ServerOptions{DirectTCPIP: func(host string, port uint32, origin string, originPort uint32) (net.Conn, error) {
		calls <- dialed{host, origin, port, originPort}
		return net.DialTimeout("tcp", net.JoinHostPort(host, fmt.Sprint(port)), 5*time.Second)
	}})
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	ch, err := c.OpenDirectTCPIP("127.0.0.1", port, "192.0.2.1", 4242)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := <-calls, (dialed{"127.0.0.1", "192.0.2.1", port, 4242}); got != want {
		t.Errorf("dialed %+v; want %+v", got, want)
	}
	sent, got := sha256.New(), sha256.New()
	const n = 8 << 20
	go func() {
		copyPooled(ch, &patternReader{n: n, sum: sent})
		ch.CloseWrite()
	}()
	read, err := copyPooled(got, ch)
	if err != nil || read != n || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("read %d bytes, %v, hashes equal %v; want %d equal bytes", read, err, bytes.Equal(got.Sum(nil), sent.Sum(nil)), n)
	}
	ch.Close()

	// A port nobody listens on fails to connect.
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := uint32(l2.Addr().(*net.TCPAddr).Port)
	l2.Close()
	if _, err := c.OpenDirectTCPIP("127.0.0.1", closedPort, "127.0.0.1", 1); !isOpenError(err, ConnectionFailed) {
		t.Fatalf("OpenDirectTCPIP to a closed port = %v; want %v", err, ConnectionFailed)
	}
	if _, err := c.OpenChannel("direct-tcpip", []byte("junk")); !isOpenError(err, ConnectionFailed) {
		t.Fatalf("malformed direct-tcpip = %v; want %v", err, ConnectionFailed)
	}
}

func TestSessionGoroutines(t *testing.T) {
	l := echoListener(t)
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	before := runtime.NumGoroutine()
	for range 3 {
		t.Run("conn", func(t *testing.T) {
			c := servePair(t, &ServerOptions{
				Handler: echoHandler,
				Shell: func(s *ServerSession) int {
					<-s.Done()
					return 0
				},
				DirectTCPIP: func(host string, port uint32, _ string, _ uint32) (net.Conn, error) {
					return net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
				},
			})
			// A session run to the end.
			s := newSession(t, c)
			s.Stdin = strings.NewReader("x")
			wantExit(t, s.Run("x"), 3, "")
			// One closed while its shell runs, with a Stdin that blocks
			// until the connection ends.
			s = newSession(t, c)
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.Close() })
			s.Stdin = pr
			if err := s.Shell(); err != nil {
				t.Fatal(err)
			}
			s.Close()
			// One never started, and a forwarded connection left open.
			newSession(t, c)
			ch, err := c.OpenDirectTCPIP("127.0.0.1", port, "127.0.0.1", 1)
			if err != nil {
				t.Fatal(err)
			}
			ch.Write([]byte("x"))
		})
	}
	testutil.WaitGoroutines(t, before)
}

// TestSessionStdoutAllocs checks that a session's stdout copy does not
// allocate per packet.
func TestSessionStdoutAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const chunk = 32 << 10
	chans := make(chan *Channel, 1)
	c, srv := connPair(t, nil, nil)
	go func() {
		nc := <-srv.Channels()
		ch, err := nc.Accept()
		if err != nil {
			return
		}
		r := <-ch.Requests()
		r.Reply(true, nil)
		chans <- ch
		for r := range ch.Requests() {
			r.Reply(false, nil)
		}
	}()
	s := newSession(t, c)
	w := &signalWriter{next: chunk, sig: make(chan struct{}, 64)}
	s.Stdout = w
	if err := s.Start("x"); err != nil {
		t.Fatal(err)
	}
	sch := <-chans
	out := make([]byte, chunk)
	step := func() {
		if _, err := sch.Write(out); err != nil {
			t.Fatal(err)
		}
		<-w.sig
	}
	for range 200 {
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Fatalf("%v allocations per 32 KiB through a session's stdout; want 0", n)
	}
}

// signalWriter signals each time another chunk has been written.
type signalWriter struct {
	n, next int
	sig     chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	for w.n >= w.next {
		w.next += 32 << 10
		w.sig <- struct{}{}
	}
	return len(p), nil
}

// TestChannelWriteLargePeerMaxPacket: RFC 4254 §5.1 lets a peer announce
// any maximum packet size, up to 2^32-1. A Write must still frame its
// data in packets the transport can send.
func TestChannelWriteLargePeerMaxPacket(t *testing.T) {
	c, srv := connPair(t, nil, &Config{MaxPacket: 1 << 20})
	go echoServer(srv)
	ch, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if _, err := ch.Write(make([]byte, 512<<10)); err != nil {
		t.Fatalf("Write of 512 KiB to a peer announcing a 1 MiB maximum packet: %v", err)
	}
}

// TestChannelReplyAfterClose: a reply to a channel request that comes
// after the channel was closed on both sides must not reach the peer,
// which has forgotten the channel (RFC 4254 §5.3: after CLOSE, "the
// party MUST NOT send any more data to the channel").
func TestChannelReplyAfterClose(t *testing.T) {
	c, srv := connPair(t, nil, nil)
	go func() {
		for r := range srv.GlobalRequests() {
			r.Reply(false, nil)
		}
	}()
	pending := make(chan *Request, 1)
	closed := make(chan struct{})
	go func() {
		nc := <-srv.Channels()
		ch, err := nc.Accept()
		if err != nil {
			return
		}
		pending <- <-ch.Requests()
		for range ch.Requests() {
		}
		close(closed) // the client's CLOSE came, ours went back
	}()
	ch, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ch.SendRequest("keepalive@openssh.com", true, nil)
	r := <-pending
	ch.Close()
	<-closed
	r.Reply(false, nil)
	// The connection must survive: a global request still gets its answer.
	if _, _, err := c.SendRequest("x-probe@example.com", true, nil); err != nil {
		t.Fatalf("connection ended after a late channel reply: %v", err)
	}
}

// TestDirectTCPIPDialLimit opens more forwarded connections at once than
// Serve dials at once: the excess is refused with ResourceShortage, the
// rest connect once their dials return.
func TestDirectTCPIPDialLimit(t *testing.T) {
	l := echoListener(t)
	release := make(chan struct{})
	c := servePair(t, &ServerOptions{DirectTCPIP: func(host string, port uint32, _ string, _ uint32) (net.Conn, error) {
		<-release
		return net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	}})
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	const n = maxDials + 4
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ch, err := c.OpenDirectTCPIP("127.0.0.1", port, "127.0.0.1", 1)
			if err == nil {
				ch.Close()
			}
			errs <- err
		})
	}
	// The refusals come while the dials are held.
	for range n - maxDials {
		if err := <-errs; !isOpenError(err, ResourceShortage) {
			t.Errorf("got %v; want a refusal with %v", err, ResourceShortage)
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("forwarded connection failed: %v", err)
		}
	}
}

// TestServeMalformedRequests sends requests whose data does not parse,
// and more environment than a session keeps: each is refused, and the
// session still runs its command afterwards.
func TestServeMalformedRequests(t *testing.T) {
	c := servePair(t, &ServerOptions{Exec: func(s *ServerSession) int { return len(s.Env()) }, Subsystems: map[string]SessionHandler{"x": echoHandler}})
	s := newSession(t, c)
	for _, typ := range []string{"pty-req", "env", "exec", "subsystem", "window-change", "signal", "shell"} {
		for _, payload := range [][]byte{{0, 0, 0, 9, 'a'}, {0xff, 0xff, 0xff, 0xff}, {1}} {
			if ok, err := s.ch.SendRequest(typ, true, payload); ok || err != nil {
				t.Errorf("%s with data %x: %v, %v; want a refusal", typ, payload, ok, err)
			}
		}
	}
	for i := range maxEnv + 10 {
		err := s.Setenv(fmt.Sprintf("V%d", i), "x")
		if (err == nil) != (i < maxEnv) {
			t.Fatalf("Setenv number %d: %v", i+1, err)
		}
	}
	wantExit(t, s.Run("x"), maxEnv, "")
}

type funcWriter func([]byte) (int, error)

func (f funcWriter) Write(p []byte) (int, error) { return f(p) }

func TestSessionSameWriter(t *testing.T) {
	var b bytes.Buffer
	f := funcWriter(b.Write)
	for _, tc := range []struct {
		a, b io.Writer
		want bool
	}{{&b, &b, true}, {&b, io.Discard, false}, {nil, nil, false}, {f, f, false}} {
		if got := sameWriter(tc.a, tc.b); got != tc.want {
			t.Errorf("sameWriter(%T, %T) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
