package zerossh

import (
	"errors"
	"fmt"

	"github.com/zerossh/zerossh/wire"
)

// DisconnectReason is the reason code of a DISCONNECT message.
type DisconnectReason = wire.DisconnectReason

// DisconnectError ends a connection: either the peer sent DISCONNECT
// (Remote) or this side did, after finding the fault Message describes.
type DisconnectError struct {
	Reason  DisconnectReason
	Message string
	Remote  bool
	// Err is the local cause, when there is one (ErrMAC, a *HostKeyError,
	// a *NegotiationError, ...), for errors.Is and errors.As.
	Err error
}

func (e *DisconnectError) Unwrap() error { return e.Err }

func (e *DisconnectError) Error() string {
	who := "local"
	if e.Remote {
		who = "peer"
	}
	if e.Message == "" {
		return fmt.Sprintf("ssh: disconnected by %s: %s", who, e.Reason)
	}
	return fmt.Sprintf("ssh: disconnected by %s: %s: %s", who, e.Reason, e.Message)
}

// ErrClosed is returned by operations on a Conn after Close.
var ErrClosed = errors.New("ssh: connection closed")

// ErrKexRefused is returned by Rekey when the peer answered our KEXINIT
// with UNIMPLEMENTED; the connection goes on under the old keys.
var ErrKexRefused = errors.New("ssh: peer refused the key exchange")

// HostKeyError reports a host key that the client's HostKeyCallback
// refused or whose signature did not verify. It wraps the callback's error.
type HostKeyError struct {
	Err error
}

func (e *HostKeyError) Error() string { return "ssh: host key not verifiable: " + e.Err.Error() }
func (e *HostKeyError) Unwrap() error { return e.Err }

// Disconnect reason codes (RFC 4250 §4.2.2).
const (
	HostNotAllowedToConnect     = wire.HostNotAllowedToConnect
	ProtocolError               = wire.ProtocolError
	KeyExchangeFailed           = wire.KeyExchangeFailed
	MACError                    = wire.MACError
	CompressionError            = wire.CompressionError
	ServiceNotAvailable         = wire.ServiceNotAvailable
	ProtocolVersionNotSupported = wire.ProtocolVersionNotSupported
	HostKeyNotVerifiable        = wire.HostKeyNotVerifiable
	ConnectionLost              = wire.ConnectionLost
	ByApplication               = wire.ByApplication
	TooManyConnections          = wire.TooManyConnections
	AuthCancelledByUser         = wire.AuthCancelledByUser
	NoMoreAuthMethodsAvailable  = wire.NoMoreAuthMethodsAvailable
	IllegalUserName             = wire.IllegalUserName
)
