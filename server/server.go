// Package server runs the SSH server stack on a listener: the transport,
// user authentication and the connection protocol, handing each
// authenticated connection to a Handler.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/userauth"
)

// Handler serves one authenticated connection; the connection closes when
// it returns.
type Handler func(c *connection.Conn, auth *userauth.Result)

// Server accepts SSH connections.
type Server struct {
	// Transport configures the transport; its Services are set to
	// "ssh-userauth".
	Transport zerossh.ServerConfig
	// Auth configures user authentication.
	Auth userauth.ServerConfig
	// Connection tunes the connection protocol.
	Connection connection.Config
	// Handler serves each authenticated connection.
	Handler Handler
	// Logger receives one line per connection; slog.Default() if nil.
	Logger *slog.Logger

	mu sync.Mutex
	// conns are the open connections, with their transport once the
	// handshake is done (nil before).
	conns    map[net.Conn]*zerossh.Conn
	wg       sync.WaitGroup
	closing  bool
	listener []net.Listener
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("ssh: server closed")

// Serve accepts connections on l until Shutdown, serving each in its own
// goroutine.
func (s *Server) Serve(l net.Listener) error {
	if !s.addListeners(l) {
		return ErrServerClosed
	}
	return s.accept(l)
}

// ServeListeners runs Serve's accept loop on each of ls at once, such as
// the group ListenReusePort opens, and returns when all have ended:
// ErrServerClosed after Shutdown. If one loop fails, it closes the other
// listeners and returns that loop's error, so that no listener stays open
// without a loop (the kernel would keep handing it connections). The
// listeners are closed when it returns.
func (s *Server) ServeListeners(ls []net.Listener) error {
	if len(ls) == 0 {
		return errors.New("ssh: ServeListeners: no listeners")
	}
	if !s.addListeners(ls...) {
		closeListeners(ls)
		return ErrServerClosed
	}
	errs := make(chan error, len(ls))
	for _, l := range ls {
		go func() { errs <- s.accept(l) }()
	}
	var first error
	for range ls {
		if err := <-errs; first == nil {
			first = err
			closeListeners(ls)
		}
	}
	return first
}

// addListeners records ls for Shutdown to close, unless Shutdown has
// begun.
func (s *Server) addListeners(ls ...net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.listener = append(s.listener, ls...)
	return true
}

// accept is Serve's loop on a recorded listener.
func (s *Server) accept(l net.Listener) error {
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			if temporaryAcceptError(err) {
				// Back off on temporary failures such as running out of
				// file descriptors.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.ServeConn(nc)
		}()
	}
}

// temporaryAcceptError reports whether Accept failed for a reason that
// may pass: out of file descriptors or memory, a connection aborted
// before it was accepted, a timeout.
func temporaryAcceptError(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.As(err, &ne) && ne.Timeout()
}

// ServeConn runs the server stack on one accepted connection and returns
// when it ends.
func (s *Server) ServeConn(nc net.Conn) error {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	if !s.track(nc, nil) {
		nc.Close()
		return ErrServerClosed
	}
	defer s.untrack(nc)
	// The handshake and authentication run on a goroutine that ends with
	// them, so that their deep stack (key exchange, signatures) is freed
	// instead of staying with the goroutine that waits in the handler for
	// as long as the connection lasts (BenchmarkIdleConns).
	var (
		t    *zerossh.Conn
		auth *userauth.Result
		err  error
	)
	established := make(chan struct{})
	go func() {
		defer close(established)
		t, auth, err = s.establish(nc, log)
	}()
	<-established
	if err != nil {
		return err
	}
	c := connection.New(t, &s.Connection)
	if s.Handler != nil {
		s.Handler(c, auth)
	}
	err = c.Close()
	logClosed(log, nc, t, auth, start)
	return err
}

// logClosed writes the line of a connection that ended after it was
// authenticated. It is a function of its own so that its frame, large
// with the log call's arguments, is not part of ServeConn's, which stays
// on the stack while the connection lasts.
func logClosed(log *slog.Logger, nc net.Conn, t *zerossh.Conn, auth *userauth.Result, start time.Time) {
	algs := t.Algorithms()
	log.Info("ssh connection", "remote", nc.RemoteAddr().String(), "user", auth.User, "method", auth.Method,
		"kex", algs.Kex, "cipher", algs.Read.Cipher, "mac", algs.Read.MAC,
		"duration", time.Since(start).Round(time.Millisecond), "outcome", "closed")
}

// establish runs the transport's handshake and user authentication on
// nc; on failure it logs why and closes the connection.
func (s *Server) establish(nc net.Conn, log *slog.Logger) (*zerossh.Conn, *userauth.Result, error) {
	cfg := s.Transport
	cfg.Services = []string{"ssh-userauth"}
	t, err := zerossh.Server(nc, &cfg)
	if err != nil {
		log.Info("ssh connection", "remote", nc.RemoteAddr().String(), "outcome", "handshake failed", "err", err)
		return nil, nil, err
	}
	if !s.track(nc, t) {
		t.Close()
		return nil, nil, ErrServerClosed
	}
	authCfg := s.Auth
	if len(authCfg.PublicKeyAlgorithms) == 0 && len(cfg.ServerSigAlgs) > 0 {
		// Accept what server-sig-algs announces.
		authCfg.PublicKeyAlgorithms = cfg.ServerSigAlgs
	}
	auth, err := userauth.Serve(t, &authCfg)
	if err != nil {
		t.Close()
		log.Info("ssh connection", "remote", nc.RemoteAddr().String(), "outcome", "authentication failed", "err", err)
		return nil, nil, err
	}
	return t, auth, nil
}

// track records nc, and its transport once there is one; it refuses
// new connections once Shutdown has begun.
func (s *Server) track(nc net.Conn, t *zerossh.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing && t == nil {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]*zerossh.Conn)
	}
	s.conns[nc] = t
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
}

// Shutdown stops accepting connections and waits for the open ones to end
// until ctx is done; then it closes them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, l := range s.listener {
		l.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for nc, t := range s.conns {
		if t != nil {
			go t.Disconnect(zerossh.ByApplication, "server shutting down")
		} else {
			nc.Close() // still in its handshake
		}
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}
