package userauth

import (
	"errors"
	"fmt"
	"strings"
)

// AuthError is returned by Authenticate when every method the server
// allows and the client has was tried without success. The connection
// stays open: Authenticate may be called again with other methods.
type AuthError struct {
	// Tried lists the methods that sent at least one request, in order,
	// starting with "none".
	Tried []string
	// Remaining is the server's last list of methods that can continue.
	Remaining []string
	// PartialSuccess is true when the server accepted at least one
	// method but wanted more.
	PartialSuccess bool
	// Errs are the reasons methods or keys were given up before or
	// without a server decision, such as ErrPasswordChangeRequired or a
	// key for which no acceptable signature algorithm exists.
	Errs []error
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ssh: unable to authenticate, attempted methods %v, server allows %v", e.Tried, e.Remaining)
	if e.PartialSuccess {
		b.WriteString(" after a partial success")
	}
	for _, err := range e.Errs {
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns Errs, for errors.Is and errors.As.
func (e *AuthError) Unwrap() []error { return e.Errs }

// ErrPasswordChangeRequired is in AuthError.Errs when the server answered
// a password with SSH_MSG_USERAUTH_PASSWD_CHANGEREQ (RFC 4252 §8): the
// password has expired, and this package does not change passwords.
var ErrPasswordChangeRequired = errors.New("ssh: the server requires a password change, which is not supported")

// ErrTimeout is wrapped in the *zerossh.DisconnectError that Serve
// returns when ServerConfig.Timeout expires.
var ErrTimeout = errors.New("ssh: user authentication timed out")
