package userauth

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
)

// connMeta is the ssh.ConnMetadata handed to server callbacks.
type connMeta struct {
	user          string
	sessionID     []byte
	clientVersion []byte
	serverVersion []byte
	remote, local net.Addr
}

var _ ssh.ConnMetadata = (*connMeta)(nil)

func newConnMeta(t *zerossh.Conn) *connMeta {
	return &connMeta{
		sessionID:     t.SessionID(),
		clientVersion: []byte(t.RemoteVersion()),
		serverVersion: []byte(t.LocalVersion()),
		remote:        t.RemoteAddr(),
		local:         t.LocalAddr(),
	}
}

func (m *connMeta) User() string { return m.user }

// SessionID returns a copy, so that a callback cannot change what later
// signatures are checked against.
func (m *connMeta) SessionID() []byte     { return bytes.Clone(m.sessionID) }
func (m *connMeta) ClientVersion() []byte { return bytes.Clone(m.clientVersion) }
func (m *connMeta) ServerVersion() []byte { return bytes.Clone(m.serverVersion) }
func (m *connMeta) RemoteAddr() net.Addr  { return m.remote }
func (m *connMeta) LocalAddr() net.Addr   { return m.local }

// sourceAddressOption is the certificate critical option that lists the
// client addresses a certificate may be used from (OpenSSH
// PROTOCOL.certkeys).
const sourceAddressOption = "source-address"

// checkSourceAddress enforces the source-address critical option when
// perms carries one. ssh.CertChecker.Authenticate accepts certificates
// with that option and leaves it to the server, so a server that skipped
// this check would let a restricted certificate in from anywhere. A
// present but empty list matches no address, as in OpenSSH.
func checkSourceAddress(remote net.Addr, perms *ssh.Permissions) error {
	if perms == nil {
		return nil
	}
	list, ok := perms.CriticalOptions[sourceAddressOption]
	if !ok {
		return nil
	}
	tcp, ok := remote.(*net.TCPAddr)
	if !ok {
		return fmt.Errorf("ssh: source-address restriction, but %v is not a TCP address", remote)
	}
	for entry := range strings.SplitSeq(list, ",") {
		if ip := net.ParseIP(entry); ip != nil {
			if ip.Equal(tcp.IP) {
				return nil
			}
			continue
		}
		_, ipNet, err := net.ParseCIDR(entry)
		if err != nil {
			return fmt.Errorf("ssh: malformed source-address entry %q", entry)
		}
		if ipNet.Contains(tcp.IP) {
			return nil
		}
	}
	return errors.New("ssh: client address not allowed by the source-address restriction")
}
