package userauth

import (
	"fmt"
	"slices"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/wire"
)

// serviceUserauth is the transport service this protocol runs as (RFC
// 4252 §1).
const serviceUserauth = "ssh-userauth"

// Method is a way for a client to authenticate: Password,
// PasswordCallback, PublicKeys, PublicKeysCallback or
// KeyboardInteractive.
type Method interface {
	// name is the method as the server lists it.
	name() string
	// run tries the method; it reports whether the server accepted the
	// client. An error ends the authentication.
	run(c *client) (bool, error)
}

// ClientConfig configures Authenticate.
type ClientConfig struct {
	User string
	// Methods are tried in order, each as long as the server lists it
	// among the methods that can continue, after a first "none" request.
	Methods []Method
	// ServiceName is the service to start once authenticated;
	// "ssh-connection" by default.
	ServiceName string
	// BannerCallback receives each USERAUTH_BANNER message. RFC 4252 §5.4:
	// a client that displays it SHOULD filter control characters first.
	// An error ends the authentication.
	BannerCallback func(message string) error
}

// client is the state of one Authenticate.
type client struct {
	t         *zerossh.Conn
	cfg       *ClientConfig
	service   string
	sessionID []byte
	hostKey   []byte
	ext       map[string][]byte
	// remaining is the server's last list of methods that can continue.
	remaining []string
	partial   bool
	tried     []string
	errs      []error
	buf       []byte
}

// Authenticate runs the client side of user authentication on t. It
// requests the "ssh-userauth" service unless the server has accepted it
// already, sends "none", then tries cfg.Methods. On success it returns
// right after USERAUTH_SUCCESS and t.SetAuthenticated.
//
// When every method fails it returns an *AuthError and t stays open for
// another Authenticate. Any other error closes t; the server's DISCONNECT
// comes back as a *zerossh.DisconnectError with Remote set.
func Authenticate(t *zerossh.Conn, cfg *ClientConfig) error {
	switch s := t.Service(); s {
	case "":
		if err := t.RequestService(serviceUserauth); err != nil {
			return err
		}
	case serviceUserauth:
	default:
		return fmt.Errorf("ssh: service %q is running, not %q", s, serviceUserauth)
	}
	if cfg == nil {
		cfg = &ClientConfig{}
	}
	c := &client{
		t:         t,
		cfg:       cfg,
		service:   cfg.ServiceName,
		sessionID: t.SessionID(),
		hostKey:   t.HostKey(),
		// The server's EXT_INFO precedes its SERVICE_ACCEPT (RFC 8308
		// §2.4), so it has arrived by now.
		ext: t.Extensions(),
	}
	if c.service == "" {
		c.service = defaultService
	}
	err := c.run()
	if _, ok := err.(*AuthError); err != nil && !ok {
		t.Close()
	}
	return err
}

func (c *client) run() error {
	if ok, err := c.none(); ok || err != nil {
		return err
	}
	used := make([]bool, len(c.cfg.Methods))
	for {
		i := c.nextMethod(used)
		if i < 0 {
			return &AuthError{
				Tried:          c.tried,
				Remaining:      c.remaining,
				PartialSuccess: c.partial,
				Errs:           c.errs,
			}
		}
		used[i] = true
		if ok, err := c.cfg.Methods[i].run(c); ok || err != nil {
			return err
		}
	}
}

// nextMethod returns the first unused method the server allows, or -1.
func (c *client) nextMethod(used []bool) int {
	for i, m := range c.cfg.Methods {
		if !used[i] && m != nil && c.allowed(m.name()) {
			return i
		}
	}
	return -1
}

// allowed reports whether the server lists method among those that can
// continue.
func (c *client) allowed(method string) bool { return slices.Contains(c.remaining, method) }

// none sends the "none" request, which tells the client which methods
// the server allows (RFC 4252 §5.2).
func (c *client) none() (bool, error) {
	if err := c.send(MethodNone, nil, false); err != nil {
		return false, err
	}
	p, err := c.reply()
	if err != nil {
		return false, err
	}
	if p[0] == wire.MsgUserauthSuccess {
		return true, nil
	}
	if p[0] != wire.MsgUserauthFailure {
		return false, c.protocolError(fmt.Sprintf("message %d in answer to \"none\"", p[0]))
	}
	return false, nil
}

// send writes a USERAUTH_REQUEST for method, with the method's fields in
// data, padded to 64 bytes when it holds a secret. RFC 4252 §5.1: "A
// client MUST NOT send a subsequent request if it has not received a
// response from the server for a previous request": every caller reads
// the answer before the next send.
func (c *client) send(method string, data []byte, secret bool) error {
	if !slices.Contains(c.tried, method) {
		c.tried = append(c.tried, method)
	}
	m := Request{User: []byte(c.cfg.User), Service: []byte(c.service), Method: []byte(method), MethodData: data}
	c.buf = m.Append(c.buf[:0])
	if !secret {
		return c.t.WritePacket(c.buf)
	}
	err := c.t.WritePacketPadded(c.buf, 64)
	clear(c.buf)
	return err
}

// reply reads the server's answer to a request, handing banners to the
// BannerCallback on the way. It returns USERAUTH_SUCCESS, after marking
// the transport authenticated; USERAUTH_FAILURE, after recording the
// methods that can continue; or a method-specific message (60-79) for the
// caller. The message aliases the read buffer until the next read.
func (c *client) reply() ([]byte, error) {
	for {
		p, err := c.t.ReadPacket()
		if err != nil {
			return nil, err
		}
		switch n := p[0]; {
		case n == wire.MsgUserauthSuccess:
			var m Success
			if m.Parse(p) != nil {
				return nil, c.protocolError("malformed USERAUTH_SUCCESS")
			}
			c.t.SetAuthenticated()
			return p, nil
		case n == wire.MsgUserauthFailure:
			var m Failure
			if m.Parse(p) != nil {
				return nil, c.protocolError("malformed USERAUTH_FAILURE")
			}
			c.remaining = m.Methods.Strings()
			c.partial = c.partial || m.PartialSuccess
			return p, nil
		case n == wire.MsgUserauthBanner:
			var m Banner
			if m.Parse(p) != nil {
				return nil, c.protocolError("malformed USERAUTH_BANNER")
			}
			if c.cfg.BannerCallback != nil {
				if err := c.cfg.BannerCallback(string(m.Message)); err != nil {
					return nil, c.cancel(err)
				}
			}
		case n >= msgFirstMethodSpecific && n <= msgLastUserauth:
			return p, nil
		case n >= msgFirstAfterAuthentication:
			// RFC 4252 §6: message numbers of 80 and higher belong to
			// the protocols after authentication.
			return nil, c.protocolError(fmt.Sprintf("message %d before authentication completed", n))
		case n == wire.MsgUserauthRequest:
			return nil, c.protocolError("USERAUTH_REQUEST from the server")
		default:
			// RFC 4253 §11.4: "An implementation MUST respond to all
			// unrecognized messages with an SSH_MSG_UNIMPLEMENTED
			// message".
			if err := c.t.Unimplemented(); err != nil {
				return nil, err
			}
		}
	}
}

// protocolError sends DISCONNECT for a protocol error and returns the
// matching error.
func (c *client) protocolError(msg string) error {
	c.t.Disconnect(zerossh.ProtocolError, msg)
	return &zerossh.DisconnectError{Reason: zerossh.ProtocolError, Message: msg}
}

// cancel ends the authentication after a callback of the client failed,
// and returns the callback's error.
func (c *client) cancel(err error) error {
	c.t.Disconnect(zerossh.AuthCancelledByUser, "")
	return err
}
