package userauth

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/wire"
)

// errPasswordUnencrypted is why neither side uses "password" over an
// unencrypted transport. RFC 4252 §8: "If no confidentiality is provided
// ("none" cipher), password authentication SHOULD be disabled."
var errPasswordUnencrypted = errors.New("ssh: password authentication disabled on an unencrypted transport")

// password handles a "password" request (RFC 4252 §8) on the server.
func (s *server) password(data []byte) (outcome, error) {
	var m PasswordRequest
	if m.Parse(data) != nil {
		return outcome{}, s.disconnect(zerossh.ProtocolError, "malformed password request")
	}
	// The read buffer goes back to a pool: leave no password in it.
	defer clear(m.NewPassword)
	defer clear(m.Password)
	switch {
	case s.cb.PasswordCallback == nil:
		return outcome{err: errRefused}, nil
	case m.Change:
		// A password change needs a server that asked for one with
		// PASSWD_CHANGEREQ, which this one never does.
		return outcome{err: errors.New("ssh: password change not supported")}, nil
	case !s.t.IsEncrypted(zerossh.Both):
		return outcome{err: errPasswordUnencrypted}, nil
	}
	perms, err := s.cb.PasswordCallback(s.meta, bytes.Clone(m.Password))
	return outcome{perms: perms, err: err}, nil
}

// passwordMethod is the client side of "password".
type passwordMethod struct {
	get   func() (string, error)
	tries int
}

// Password returns a Method that sends password once.
func Password(password string) Method {
	return &passwordMethod{get: func() (string, error) { return password, nil }, tries: 1}
}

// PasswordCallback returns a Method that asks prompt for a password, and
// asks again after a wrong one, up to three times in all (OpenSSH's
// NumberOfPasswordPrompts). An error from prompt ends the
// authentication.
func PasswordCallback(prompt func() (string, error)) Method {
	return &passwordMethod{get: prompt, tries: 3}
}

func (m *passwordMethod) name() string { return MethodPassword }

func (m *passwordMethod) run(c *client) (bool, error) {
	if !c.t.IsEncrypted(zerossh.Both) {
		c.errs = append(c.errs, errPasswordUnencrypted)
		return false, nil
	}
	for range m.tries {
		if !c.allowed(MethodPassword) {
			return false, nil
		}
		pw, err := m.get()
		if err != nil {
			return false, c.cancel(err)
		}
		req := PasswordRequest{Password: []byte(pw)}
		data := req.Append(nil)
		// OpenSSH pads password requests so that their length does not
		// give away the password's.
		err = c.send(MethodPassword, data, true)
		clear(data)
		clear(req.Password)
		if err != nil {
			return false, err
		}
		p, err := c.reply()
		if err != nil {
			return false, err
		}
		switch p[0] {
		case wire.MsgUserauthSuccess:
			return true, nil
		case wire.MsgUserauthFailure:
			continue
		case MsgUserauthPasswdChangeReq:
			var ch PasswdChangeReq
			if ch.Parse(p) != nil {
				return false, c.protocolError("malformed PASSWD_CHANGEREQ")
			}
			// The server waits for a request with a new password; the
			// next request of another method ends that wait (RFC 4252
			// §5.1: "A request that requires further messages to be
			// exchanged will be aborted by a subsequent request").
			c.errs = append(c.errs, fmt.Errorf("%w (server prompt: %q)", ErrPasswordChangeRequired, ch.Prompt))
			return false, nil
		default:
			return false, c.protocolError(fmt.Sprintf("message %d in answer to a password", p[0]))
		}
	}
	return false, nil
}
