package userauth

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/wire"
)

// ServerConfig configures Serve. Each callback enables its method: a nil
// callback leaves the method out of the list sent to clients.
type ServerConfig struct {
	// NoneCallback decides whether a client may log in with no
	// authentication at all ("none", RFC 4252 §5.2). When nil, "none"
	// always fails.
	NoneCallback func(meta ssh.ConnMetadata) (*ssh.Permissions, error)
	// PasswordCallback checks a password. password is a copy the callback
	// may keep.
	PasswordCallback func(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error)
	// PublicKeyCallback decides whether key may log in. It is called for
	// a query without signature (accepting answers USERAUTH_PK_OK) and
	// again for the real attempt, after the signature has verified. For
	// OpenSSH user certificates pass (&ssh.CertChecker{...}).Authenticate;
	// the source-address critical option it leaves to the server is
	// enforced here.
	PublicKeyCallback func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error)
	// KeyboardInteractiveCallback runs a keyboard-interactive exchange
	// (RFC 4256): each call of client sends one INFO_REQUEST and returns
	// the answers.
	KeyboardInteractiveCallback func(meta ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error)
	// BannerCallback returns a message sent as USERAUTH_BANNER before the
	// answer to the first request, when not empty.
	BannerCallback func(meta ssh.ConnMetadata) string

	// MaxAttempts is the number of failed attempts after which the server
	// sends DISCONNECT with reason no more auth methods available; 6 by
	// default, like OpenSSH's MaxAuthTries. As in OpenSSH, a first "none"
	// request, a public key query the server accepts (answered PK_OK), a
	// partial success and a keyboard-interactive exchange the client
	// abandons do not count; a public key query the server refuses does.
	MaxAttempts int
	// Timeout bounds the whole authentication; 2 minutes by default, like
	// OpenSSH's LoginGraceTime, negative for none. On expiry the server
	// sends DISCONNECT with reason by application.
	Timeout time.Duration
	// ServiceName is the service the client may start once
	// authenticated; "ssh-connection" by default.
	ServiceName string
	// PublicKeyAlgorithms are the signature algorithms accepted for
	// "publickey", named as in server-sig-algs (RFC 8308 §3.1); the
	// certificate algorithms of these are accepted too. Default:
	// zerossh.DefaultServerSigAlgs, which leaves out "ssh-rsa" (RSA with
	// SHA-1). Keep it equal to the transport's ServerSigAlgs, which is
	// what clients are told.
	PublicKeyAlgorithms []string
}

// Result describes a successful authentication.
type Result struct {
	User string
	// Method is the name of the method that completed the
	// authentication, as the client sent it, such as "publickey" or
	// "publickey-hostbound-v00@openssh.com".
	Method string
	// Permissions are what the callback that accepted the last step
	// returned.
	Permissions *ssh.Permissions
}

const (
	defaultMaxAttempts = 6
	defaultTimeout     = 2 * time.Minute
	defaultService     = "ssh-connection"
	// packetsPerAttempt bounds the messages a client may send per allowed
	// failure, so that requests that do not count (accepted queries,
	// abandoned exchanges) cannot go on for ever within the timeout.
	packetsPerAttempt = 16
)

// errRefused is the reason for refusals without a more precise one.
var errRefused = errors.New("ssh: authentication method refused")

// server is the state of one Serve.
type server struct {
	t         *zerossh.Conn
	cfg       ServerConfig
	meta      *connMeta
	sessionID []byte
	hostKey   []byte
	// cb are the callbacks in force: the configuration's, then those of
	// the last *ssh.PartialSuccessError.
	cb         ssh.ServerAuthCallbacks
	partial    bool
	requests   int
	failures   int
	packets    int
	maxPackets int
	bannerDone bool
	// pending is a request read while a keyboard-interactive exchange
	// waited for an answer: it ends that exchange, then is handled.
	pending []byte

	timer   *time.Timer
	expired atomic.Bool
}

// outcome is how the server handles one request.
type outcome struct {
	perms *ssh.Permissions
	// err is nil for an accepted request, a *ssh.PartialSuccessError when
	// another method must follow, and the reason for a refusal otherwise.
	err error
	// answered means the method has already answered (PK_OK) or was
	// abandoned by the client: no FAILURE is sent.
	answered bool
	// free means a refusal does not count against MaxAttempts.
	free bool
}

// Serve runs the server side of user authentication on t, whose client
// has requested "ssh-userauth", until the client is authenticated. It
// returns right after USERAUTH_SUCCESS and t.SetAuthenticated, leaving
// every later message on t to the next service; that service should
// silently ignore any further USERAUTH_REQUEST (RFC 4252 §5.1).
//
// On error t is closed: after DISCONNECT with the reason the
// *zerossh.DisconnectError gives when the server ends the connection, or
// because the client or the transport did.
func Serve(t *zerossh.Conn, cfg *ServerConfig) (*Result, error) {
	s := newServer(t, cfg)
	if s.cfg.Timeout > 0 {
		// RFC 4252 §4: "The server SHOULD have a timeout for
		// authentication and disconnect if the authentication has not
		// been accepted within the timeout period."
		s.timer = time.AfterFunc(s.cfg.Timeout, s.expire)
	}
	res, err := s.run()
	if err != nil {
		if s.timer != nil {
			s.timer.Stop()
		}
		if s.expired.Load() {
			err = timeoutError()
		}
		t.Close()
		return nil, err
	}
	return res, nil
}

func newServer(t *zerossh.Conn, cfg *ServerConfig) *server {
	s := &server{t: t}
	if cfg != nil {
		s.cfg = *cfg
	}
	if s.cfg.MaxAttempts <= 0 {
		s.cfg.MaxAttempts = defaultMaxAttempts
	}
	if s.cfg.Timeout == 0 {
		s.cfg.Timeout = defaultTimeout
	}
	if s.cfg.ServiceName == "" {
		s.cfg.ServiceName = defaultService
	}
	if s.cfg.PublicKeyAlgorithms == nil {
		s.cfg.PublicKeyAlgorithms = zerossh.DefaultServerSigAlgs
	}
	s.meta = newConnMeta(t)
	s.sessionID = t.SessionID()
	s.hostKey = t.HostKey()
	s.cb = ssh.ServerAuthCallbacks{
		PasswordCallback:            s.cfg.PasswordCallback,
		PublicKeyCallback:           s.cfg.PublicKeyCallback,
		KeyboardInteractiveCallback: s.cfg.KeyboardInteractiveCallback,
	}
	s.maxPackets = packetsPerAttempt * s.cfg.MaxAttempts
	return s
}

// expire ends an authentication that took longer than Timeout. No
// disconnect reason of RFC 4250 §4.2.2 names a timeout, and OpenSSH
// just drops the connection; "by application" says that the server
// chose to end it, without blaming the protocol or the credentials.
func (s *server) expire() {
	s.expired.Store(true)
	s.t.Disconnect(zerossh.ByApplication, "authentication timed out")
}

func timeoutError() error {
	return &zerossh.DisconnectError{Reason: zerossh.ByApplication, Message: "authentication timed out", Err: ErrTimeout}
}

// disconnect sends DISCONNECT, closes t and returns the matching error.
func (s *server) disconnect(reason zerossh.DisconnectReason, msg string) error {
	s.t.Disconnect(reason, msg)
	return &zerossh.DisconnectError{Reason: reason, Message: msg}
}

func (s *server) run() (*Result, error) {
	for {
		msg, err := s.next()
		if err != nil {
			return nil, err
		}
		if msg[0] != wire.MsgUserauthRequest {
			if err := s.unexpected(msg[0]); err != nil {
				return nil, err
			}
			continue
		}
		var req Request
		if req.Parse(msg) != nil {
			return nil, s.disconnect(zerossh.ProtocolError, "malformed USERAUTH_REQUEST")
		}
		if err := s.checkUserAndService(&req); err != nil {
			return nil, err
		}
		if err := s.sendBanner(); err != nil {
			return nil, err
		}
		// req aliases the read buffer, which a keyboard-interactive
		// exchange reuses: keep the method name.
		method := string(req.Method)
		out, err := s.attempt(&req, method)
		if err != nil {
			return nil, err
		}
		if res, err := s.answer(method, out); res != nil || err != nil {
			return res, err
		}
	}
}

// next returns the request that ended a keyboard-interactive exchange,
// if any, or reads the next message.
func (s *server) next() ([]byte, error) {
	if p := s.pending; p != nil {
		s.pending = nil
		return p, nil
	}
	p, err := s.t.ReadPacket()
	if err != nil {
		return nil, err
	}
	s.packets++
	if s.packets > s.maxPackets {
		return nil, s.disconnect(zerossh.NoMoreAuthMethodsAvailable, "too many messages during authentication")
	}
	return p, nil
}

// unexpected handles a message other than the one the server waits for.
func (s *server) unexpected(n byte) error {
	if n >= msgFirstAfterAuthentication {
		// RFC 4252 §6: "receiving one of them before authentication is
		// complete is an error, to which the server MUST respond by
		// disconnecting".
		return s.disconnect(zerossh.ProtocolError, fmt.Sprintf("message %d before authentication completed", n))
	}
	// RFC 4253 §11.4: "An implementation MUST respond to all
	// unrecognized messages with an SSH_MSG_UNIMPLEMENTED message".
	return s.t.Unimplemented()
}

// checkUserAndService enforces what RFC 4252 §5 requires of the user name
// and service name of each request.
func (s *server) checkUserAndService(req *Request) error {
	// "In any case, if the service does not exist, authentication MUST
	// NOT be accepted." The server disconnects at once, which the section
	// allows, and which is what the client needs to know.
	if string(req.Service) != s.cfg.ServiceName {
		return s.disconnect(zerossh.ServiceNotAvailable, fmt.Sprintf("service %q not available", req.Service))
	}
	s.requests++
	if s.requests == 1 {
		s.meta.user = string(req.User)
		return nil
	}
	// "The server implementation MUST carefully check them in every
	// message, and MUST flush any accumulated authentication states if
	// they change. If it is unable to flush an authentication state, it
	// MUST disconnect if the 'user name' or 'service name' changes." The
	// server disconnects, as OpenSSH does: flushing would also reset the
	// attempt count, and the partial successes of one user must never
	// serve another.
	if string(req.User) != s.meta.user {
		return s.disconnect(zerossh.ProtocolError, "change of user name not allowed")
	}
	return nil
}

// sendBanner sends the banner once, before the first answer (RFC 4252
// §5.4: "at any time after this authentication protocol starts and
// before authentication is successful").
func (s *server) sendBanner() error {
	if s.bannerDone || s.cfg.BannerCallback == nil {
		return nil
	}
	s.bannerDone = true
	text := s.cfg.BannerCallback(s.meta)
	if text == "" {
		return nil
	}
	m := Banner{Message: []byte(text)}
	return s.t.WritePacket(m.Append(nil))
}

// attempt runs the method of req. An error ends the authentication.
func (s *server) attempt(req *Request, method string) (outcome, error) {
	switch method {
	case MethodNone:
		if len(req.MethodData) != 0 {
			return outcome{}, s.disconnect(zerossh.ProtocolError, "malformed none request")
		}
		return s.none(), nil
	case MethodPassword:
		return s.password(req.MethodData)
	case MethodPublicKey, MethodPublicKeyHostbound:
		return s.publicKey(req, method == MethodPublicKeyHostbound)
	case MethodKeyboardInteractive:
		return s.keyboardInteractive(req.MethodData)
	}
	return outcome{err: fmt.Errorf("ssh: unknown method %q", method)}, nil
}

// none handles "none". RFC 4252 §5.2: "The server MUST always reject this
// request, unless the client is to be granted access without any
// authentication, in which case, the server MUST accept this request."
func (s *server) none() outcome {
	// A first "none" is how clients learn the methods: it is free, as in
	// OpenSSH. No "none" after a partial success: the next step must be a
	// method the callback asked for.
	out := outcome{err: errRefused, free: s.requests == 1}
	if s.cfg.NoneCallback != nil && !s.partial {
		out.perms, out.err = s.cfg.NoneCallback(s.meta)
	}
	return out
}

// answer sends the answer an outcome calls for. It returns a Result on
// success.
func (s *server) answer(method string, out outcome) (*Result, error) {
	if out.answered {
		return nil, nil
	}
	var partial *ssh.PartialSuccessError
	isPartial := errors.As(out.err, &partial)
	if out.err == nil || isPartial {
		if err := checkSourceAddress(s.meta.remote, out.perms); err != nil {
			out.err, isPartial = err, false
		}
	}
	switch {
	case out.err == nil:
		return s.succeed(method, out.perms)
	case isPartial:
		// RFC 4252 §5.1: "The value of 'partial success' MUST be TRUE if
		// the authentication request to which this is a response was
		// successful." The methods offered next are those of Next.
		s.cb = partial.Next
		s.partial = true
		m := Failure{Methods: s.methods(), PartialSuccess: true}
		return nil, s.t.WritePacket(m.Append(nil))
	}
	if !out.free {
		s.failures++
	}
	if s.failures >= s.cfg.MaxAttempts {
		// RFC 4252 §4: "the implementation SHOULD limit the number of
		// failed authentication attempts a client may perform in a single
		// session ... If the threshold is exceeded, the server SHOULD
		// disconnect." As OpenSSH, without a FAILURE first, which a client
		// could take as an invitation to try again.
		return nil, s.disconnect(zerossh.NoMoreAuthMethodsAvailable, "too many authentication failures")
	}
	m := Failure{Methods: s.methods()}
	return nil, s.t.WritePacket(m.Append(nil))
}

// succeed sends USERAUTH_SUCCESS, unless the timeout has fired already.
func (s *server) succeed(method string, perms *ssh.Permissions) (*Result, error) {
	if s.timer != nil && !s.timer.Stop() {
		return nil, timeoutError()
	}
	// RFC 4252 §5.1: "SSH_MSG_USERAUTH_SUCCESS MUST be sent only once";
	// Serve returns right after it.
	if err := s.t.WritePacket([]byte{wire.MsgUserauthSuccess}); err != nil {
		return nil, err
	}
	s.t.SetAuthenticated()
	return &Result{User: s.meta.user, Method: method, Permissions: perms}, nil
}

// methods lists the methods that can continue. RFC 4252 §5.2: "none"
// "MUST NOT be listed as supported"; §5.1: "It is RECOMMENDED that
// servers only include those 'method name' values in the name-list that
// are actually useful", so "password" is left out while the transport
// is unencrypted (RFC 4252 §8).
func (s *server) methods() wire.NameList {
	names := make([]string, 0, 3)
	if s.cb.PublicKeyCallback != nil {
		names = append(names, MethodPublicKey)
	}
	if s.cb.PasswordCallback != nil && s.t.IsEncrypted(zerossh.Both) {
		names = append(names, MethodPassword)
	}
	if s.cb.KeyboardInteractiveCallback != nil {
		names = append(names, MethodKeyboardInteractive)
	}
	return wire.NameList(strings.Join(names, ","))
}
