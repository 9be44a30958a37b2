package connection

import (
	"fmt"
)

// RejectionReason is the reason code of CHANNEL_OPEN_FAILURE (RFC 4254 §5.1).
type RejectionReason uint32

// Rejection reasons (RFC 4254 §5.1).
const (
	Prohibited         RejectionReason = 1 // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED
	ConnectionFailed   RejectionReason = 2
	UnknownChannelType RejectionReason = 3
	ResourceShortage   RejectionReason = 4
)

func (r RejectionReason) String() string {
	switch r {
	case Prohibited:
		return "administratively prohibited"
	case ConnectionFailed:
		return "connect failed"
	case UnknownChannelType:
		return "unknown channel type"
	case ResourceShortage:
		return "resource shortage"
	}
	return fmt.Sprintf("reason %d", uint32(r))
}

// OpenChannelError is the peer's refusal to open a channel.
type OpenChannelError struct {
	Reason  RejectionReason
	Message string
}

func (e *OpenChannelError) Error() string {
	return fmt.Sprintf("ssh: channel open refused: %s: %q", e.Reason, e.Message)
}

// OpenChannel opens a channel of type typ with extra type-specific data
// and waits for the peer's answer.
func (c *Conn) OpenChannel(typ string, extra []byte) (*Channel, error) {
	ch, err := c.newChannel(typ)
	if err != nil {
		return nil, err
	}
	m := channelOpen{Type: []byte(typ), Sender: ch.localID, InitialWindow: ch.window, MaxPacket: c.cfg.MaxPacket, Extra: extra}
	if err := c.write(m.append(nil)); err != nil {
		c.release(ch)
		return nil, err
	}
	if err := <-ch.openDone; err != nil {
		c.release(ch)
		return nil, err
	}
	return ch, nil
}

// opened takes the peer's OPEN_CONFIRMATION of our open.
func (ch *Channel) opened(m *openConfirm) error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.remoteMaxPacket != 0 || len(ch.openDone) > 0 {
		return protocolError("unexpected open confirmation for channel %d", ch.localID)
	}
	ch.remoteID = m.Sender
	ch.remoteWindow = m.InitialWindow
	ch.remoteMaxPacket = max(m.MaxPacket, 1)
	ch.openDone <- nil
	return nil
}

// openFailed takes the peer's OPEN_FAILURE of our open.
func (ch *Channel) openFailed(m *openFailure) error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.remoteMaxPacket != 0 || len(ch.openDone) > 0 {
		return protocolError("unexpected open failure for channel %d", ch.localID)
	}
	ch.err = &OpenChannelError{Reason: m.Reason, Message: string(m.Message)}
	ch.openDone <- ch.err
	return nil
}

// NewChannel is the peer's request to open a channel, which the
// application must Accept or Reject.
type NewChannel struct {
	c            *Conn
	typ          string
	extra        []byte
	remoteID     uint32
	remoteWindow uint32
	remoteMaxPkt uint32
	answered     bool
}

// ChannelType returns the requested channel type, e.g. "session".
func (nc *NewChannel) ChannelType() string { return nc.typ }

// ExtraData returns the type-specific data of the open request.
func (nc *NewChannel) ExtraData() []byte { return nc.extra }

// Accept opens the channel.
func (nc *NewChannel) Accept() (*Channel, error) {
	if nc.answered {
		return nil, fmt.Errorf("ssh: channel open answered twice")
	}
	nc.answered = true
	ch, err := nc.c.newChannel(nc.typ)
	if err != nil {
		nc.reject(ResourceShortage, err.Error())
		return nil, err
	}
	ch.remoteID = nc.remoteID
	ch.remoteWindow = nc.remoteWindow
	ch.remoteMaxPacket = max(nc.remoteMaxPkt, 1)
	m := openConfirm{Recipient: nc.remoteID, Sender: ch.localID, InitialWindow: ch.window, MaxPacket: nc.c.cfg.MaxPacket}
	if err := nc.c.write(m.append(nil)); err != nil {
		nc.c.release(ch)
		return nil, err
	}
	return ch, nil
}

// Reject refuses the channel with a reason and a message.
func (nc *NewChannel) Reject(reason RejectionReason, message string) error {
	if nc.answered {
		return fmt.Errorf("ssh: channel open answered twice")
	}
	nc.answered = true
	return nc.reject(reason, message)
}

func (nc *NewChannel) reject(reason RejectionReason, message string) error {
	m := openFailure{Recipient: nc.remoteID, Reason: reason, Message: []byte(message)}
	return nc.c.write(m.append(nil))
}

// receiveOpen takes the peer's CHANNEL_OPEN.
func (c *Conn) receiveOpen(p []byte) error {
	var m channelOpen
	if !m.parse(p) {
		return protocolError("malformed channel open")
	}
	nc := &NewChannel{
		c: c, typ: string(m.Type), extra: append([]byte(nil), m.Extra...),
		remoteID: m.Sender, remoteWindow: m.InitialWindow, remoteMaxPkt: m.MaxPacket,
	}
	c.mu.Lock()
	noMore := c.noMoreSessions && nc.typ == "session"
	c.mu.Unlock()
	if noMore {
		// OpenSSH PROTOCOL §2.2: after no-more-sessions@openssh.com a
		// session open is a sign of attack, and ends the connection.
		return protocolError("session channel opened after no-more-sessions@openssh.com")
	}
	select {
	case c.incoming <- nc:
		return nil
	default:
		nc.answered = true
		return nc.reject(ResourceShortage, "too many channel opens pending")
	}
}
