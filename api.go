package zerossh

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"time"

	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// fail records the first error that ends the connection and wakes every
// writer waiting on the key exchange.
func (c *Conn) fail(err error) {
	if err == nil {
		return
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.cond.Broadcast()
	c.mu.Unlock()
}

// end finishes the connection after the read side stopped with err: a
// fault found here is reported to the peer with DISCONNECT, then the
// socket closes and ReadPacket returns err.
//
// Disconnect may run at the same time. Whichever of the two comes first
// under c.mu sends its DISCONNECT and closes the socket afterwards; the
// other neither sends nor closes, so that no DISCONNECT is cut off.
func (c *Conn) end(err error) {
	var de *DisconnectError
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.cond.Broadcast()
	first := !c.closed
	send := first && errors.As(err, &de) && !de.Remote
	c.endSending = send
	c.mu.Unlock()
	if send {
		c.sendDisconnect(de.Reason, de.Message)
	}
	c.mu.Lock()
	if c.rekeyTimer != nil {
		c.rekeyTimer.Stop()
	}
	if c.closed {
		err = ErrClosed
	}
	c.mu.Unlock()
	c.readErr = err
	if first {
		c.nc.Close()
	}
	close(c.done)
}

// sendDisconnect writes DISCONNECT past every queue. A writer stuck on a
// full socket must not hold it up for long, hence the deadline.
func (c *Conn) sendDisconnect(reason DisconnectReason, msg string) {
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	m := wire.Disconnect{Reason: reason, Description: []byte(msg)}
	c.wmu.Lock()
	c.send.writePacket(m.Len(), 0, func(dst []byte) { m.Append(dst[:0]) })
	c.wmu.Unlock()
}

// Close sends DISCONNECT (by application) if the connection is still
// sound, closes it, and waits for its read loop to end.
func (c *Conn) Close() error {
	return c.Disconnect(ByApplication, "")
}

// Disconnect sends DISCONNECT with the given reason and description
// (RFC 4253 §11.1) and closes the connection.
func (c *Conn) Disconnect(reason DisconnectReason, description string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	close(c.closedCh)
	sound := c.err == nil
	if sound {
		c.err = ErrClosed
	}
	endSending := c.endSending
	c.cond.Broadcast()
	c.mu.Unlock()
	if sound {
		c.sendDisconnect(reason, description)
	}
	var err error
	if !endSending {
		// Otherwise end is sending its DISCONNECT, and closes the socket
		// once it has.
		err = c.nc.Close()
	}
	<-c.done
	for {
		select {
		case in := <-c.incoming:
			pool.Put(in.buf)
		default:
			if errors.Is(err, net.ErrClosed) {
				err = nil
			}
			return err
		}
	}
}

// SendIgnore sends an IGNORE message carrying data (RFC 4253 §11.2), for
// example to keep a connection from idling out.
func (c *Conn) SendIgnore(data []byte) error {
	c.queueMsg(&wire.Ignore{Data: data})
	return c.flush()
}

// SendDebug sends a DEBUG message (RFC 4253 §11.3).
func (c *Conn) SendDebug(alwaysDisplay bool, message, language string) error {
	c.queueMsg(&wire.Debug{AlwaysDisplay: alwaysDisplay, Message: []byte(message), Language: []byte(language)})
	return c.flush()
}

// Rekey starts a key exchange, unless one is running, and waits for it
// to complete.
func (c *Conn) Rekey() error {
	c.mu.Lock()
	done, refusals := c.kexDone, c.kexRefusals
	c.queueKexInitLocked()
	c.mu.Unlock()
	if err := c.flush(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.kexDone == done && c.kexRefusals == refusals && c.err == nil {
		c.cond.Wait()
	}
	switch {
	case c.kexDone != done:
		return nil
	case c.kexRefusals != refusals:
		return ErrKexRefused
	}
	return c.err
}

// checkWriteBudget starts a rekey when the write direction has used up
// its key's budget; wmu is held.
func (c *Conn) checkWriteBudget() {
	if c.send.bytes >= c.send.limit || c.send.packets >= c.cfg.RekeyPackets {
		c.mu.Lock()
		c.autoKexLocked()
		c.mu.Unlock()
	}
}

// checkReadBudget is checkWriteBudget for the read direction, on the read
// loop.
func (c *Conn) checkReadBudget() {
	if c.recv.bytes >= c.recv.limit || c.recv.packets >= c.cfg.RekeyPackets {
		c.autoKex()
	}
}

// autoKex starts a rekey that a budget or the interval calls for.
func (c *Conn) autoKex() {
	c.mu.Lock()
	c.autoKexLocked()
	c.mu.Unlock()
	c.kick()
}

// autoKexLocked queues a KEXINIT for a budget or the interval, but only
// after user authentication: as in OpenSSH, whose client treats a
// KEXINIT during authentication as fatal and whose server refuses one.
func (c *Conn) autoKexLocked() {
	if c.authDone {
		c.queueKexInitLocked()
	}
}

// kexRefused handles an UNIMPLEMENTED answer to our KEXINIT (OpenSSH
// servers answer so before authentication): the exchange is dropped, the
// old keys stay, and the held-back messages go out.
func (c *Conn) kexRefused(seq uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.kexQueued || c.sendPhase != phaseKex || seq != c.kexInitSeq {
		return false
	}
	c.kexQueued = false
	c.ourKexInit = nil
	c.kexRefusals++
	c.queueLocked(outMsg{releasesHeld: true})
	c.cond.Broadcast()
	return true
}

// RequestService asks the server for a service (RFC 4253 §10), such as
// "ssh-userauth", and waits for SERVICE_ACCEPT. Client only.
func (c *Conn) RequestService(name string) error {
	if !c.isClient {
		return errors.New("ssh: RequestService is for clients")
	}
	c.mu.Lock()
	if c.pendingService != "" {
		c.mu.Unlock()
		return errors.New("ssh: a service was requested already")
	}
	c.pendingService = name
	c.queueLocked(outMsg{buf: encode(&wire.ServiceRequest{Service: []byte(name)})})
	c.mu.Unlock()
	if err := c.flush(); err != nil {
		return err
	}
	select {
	case <-c.serviceOK:
		return nil
	case <-c.done:
		return c.readErr
	}
}

// serviceRequest answers a client's SERVICE_REQUEST on the server.
func (c *Conn) serviceRequest(payload []byte) error {
	var m wire.ServiceRequest
	if err := m.Parse(payload); err != nil {
		return &DisconnectError{Reason: ProtocolError, Message: "malformed SERVICE_REQUEST"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.service != "" {
		return &DisconnectError{Reason: ProtocolError, Message: "second SERVICE_REQUEST"}
	}
	if !slices.Contains(c.server.Services, string(m.Service)) {
		return &DisconnectError{Reason: ServiceNotAvailable, Message: fmt.Sprintf("service %q not available", m.Service)}
	}
	c.service = string(m.Service)
	c.queueLocked(outMsg{buf: encode(&wire.ServiceAccept{Service: m.Service})})
	c.kick()
	return nil
}

// serviceAccept takes the server's SERVICE_ACCEPT on the client.
func (c *Conn) serviceAccept(payload []byte) error {
	var m wire.ServiceAccept
	if err := m.Parse(payload); err != nil {
		return &DisconnectError{Reason: ProtocolError, Message: "malformed SERVICE_ACCEPT"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pendingService == "" || c.service != "" || string(m.Service) != c.pendingService {
		return &DisconnectError{Reason: ProtocolError, Message: fmt.Sprintf("unrequested SERVICE_ACCEPT for %q", m.Service)}
	}
	c.service = c.pendingService
	close(c.serviceOK)
	return nil
}

// extInfo stores the peer's EXT_INFO (RFC 8308 §2.3).
func (c *Conn) extInfo(payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// RFC 8308 §2.2: EXT_INFO only goes to a side that asked for it.
	if c.cfg.DisableExtInfo || c.sessionID == nil {
		return &DisconnectError{Reason: ProtocolError, Message: "unexpected EXT_INFO"}
	}
	var m wire.ExtInfo
	if err := m.Parse(payload); err != nil {
		return &DisconnectError{Reason: ProtocolError, Message: "malformed EXT_INFO"}
	}
	if c.extensions == nil {
		c.extensions = make(map[string][]byte, len(m.Extensions))
	}
	for _, e := range m.Extensions {
		c.extensions[e.Name] = append([]byte(nil), e.Value...)
	}
	return nil
}

// Extensions returns the extensions the peer announced in EXT_INFO (RFC
// 8308), such as "server-sig-algs", by name.
func (c *Conn) Extensions() map[string][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.extensions)
}

// SessionID returns the session identifier: the exchange hash of the
// first key exchange (RFC 4253 §7.2).
func (c *Conn) SessionID() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sessionID)
}

// HostKey returns the server's host key blob (K_S) from the first key
// exchange: on a client the key its HostKeyCallback accepted, on a server
// the key it signed with.
func (c *Conn) HostKey() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.hostKey)
}

// SetAuthenticated records that user authentication succeeded: a server
// calls it right after writing USERAUTH_SUCCESS, a client right after
// reading it; rekeys by budget or interval wait for it. Delayed
// compression (zlib@openssh.com) starts at that same message, but the
// transport starts it itself as USERAUTH_SUCCESS passes, as OpenSSH's
// packet.c does: by the time a service calls SetAuthenticated the peer's
// first compressed packet may have been read already.
func (c *Conn) SetAuthenticated() {
	c.mu.Lock()
	c.authDone = true
	c.mu.Unlock()
}

// Authenticated reports whether SetAuthenticated was called.
func (c *Conn) Authenticated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authDone
}

// Algorithms returns the algorithms of the last completed key exchange.
func (c *Conn) Algorithms() Algorithms {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.algs
}

// Service returns the service the server accepted, or "" before then.
func (c *Conn) Service() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.service
}

// StrictKex reports whether strict key exchange was negotiated.
func (c *Conn) StrictKex() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.strict
}

// Direction names one or both directions of a connection.
type Direction int

// Directions, from this side's point of view.
const (
	Read Direction = 1 << iota
	Write
	Both = Read | Write
)

// IsEncrypted reports whether the given direction is encrypted. Every
// cipher here also authenticates, so IsVerified answers the same; both
// become true as the first NEWKEYS passes in that direction.
func (c *Conn) IsEncrypted(d Direction) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return (d&Read == 0 || c.readKeyed) && (d&Write == 0 || c.writeKeyed)
}

// IsVerified reports whether the given direction is protected by a MAC
// or an AEAD tag.
func (c *Conn) IsVerified(d Direction) bool { return c.IsEncrypted(d) }

// LocalVersion returns this side's identification string, without CR LF.
func (c *Conn) LocalVersion() string { return string(c.localVersion) }

// RemoteVersion returns the peer's identification string, without CR LF.
func (c *Conn) RemoteVersion() string { return string(c.remoteVersion) }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// IsClient reports whether this is the client side.
func (c *Conn) IsClient() bool { return c.isClient }
