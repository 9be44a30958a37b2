package connection

import (
	"github.com/zerossh/zerossh/wire"
)

// Request is a channel request (RFC 4254 §5.4) or a global request
// (§4) from the peer. If WantReply is set, the application must call
// Reply.
type Request struct {
	Type      string
	WantReply bool
	Payload   []byte

	c       *Conn
	ch      *Channel // nil for a global request
	replied bool
}

// Reply answers the request with success or failure. A global request's
// success may carry a payload; a channel request's may not.
func (r *Request) Reply(ok bool, payload []byte) error {
	if !r.WantReply || r.replied {
		return nil
	}
	r.replied = true
	if r.ch == nil {
		msg := byte(wire.MsgRequestFailure)
		if ok {
			msg = wire.MsgRequestSuccess
		} else {
			payload = nil
		}
		return r.c.write(append([]byte{msg}, payload...))
	}
	msg := byte(wire.MsgChannelFailure)
	if ok {
		msg = wire.MsgChannelSuccess
	}
	// After our CLOSE the peer may have forgotten the channel; a reply
	// would be a protocol error, so it is dropped.
	if err := r.ch.sendControl(appendRecipient(make([]byte, 0, 5), msg, r.ch.remoteID)); err != ErrClosed {
		return err
	}
	return nil
}

// receiveRequest queues the peer's request on a channel.
func (ch *Channel) receiveRequest(m *channelRequest) error {
	r := &Request{Type: string(m.Type), WantReply: m.WantReply, Payload: append([]byte(nil), m.Payload...), c: ch.c, ch: ch}
	ch.mu.Lock()
	closed := ch.gotClose
	ch.mu.Unlock()
	if closed {
		return protocolError("request on channel %d after close", ch.localID)
	}
	select {
	case ch.requests <- r:
		return nil
	default:
		return r.Reply(false, nil)
	}
}

// SendRequest sends a channel request; with wantReply it waits for the
// peer's answer.
func (ch *Channel) SendRequest(name string, wantReply bool, payload []byte) (bool, error) {
	var reply chan bool
	ch.mu.Lock()
	// Requests may follow our EOF (exit-status does), not a close.
	if ch.err != nil || ch.sentClose || ch.gotClose {
		err := ch.err
		if err == nil {
			err = ErrClosed
		}
		ch.mu.Unlock()
		return false, err
	}
	if wantReply {
		reply = make(chan bool, 1)
		ch.replies = append(ch.replies, reply)
	}
	ch.mu.Unlock()
	m := channelRequest{Recipient: ch.remoteID, Type: []byte(name), WantReply: wantReply, Payload: payload}
	if err := ch.sendControl(m.append(nil)); err != nil || !wantReply {
		return false, err
	}
	ok, open := <-reply
	if !open {
		return false, ErrClosed
	}
	return ok, nil
}

// receiveReply takes CHANNEL_SUCCESS or CHANNEL_FAILURE for the oldest
// request awaiting one.
func (ch *Channel) receiveReply(ok bool) error {
	ch.mu.Lock()
	if len(ch.replies) == 0 {
		ch.mu.Unlock()
		return protocolError("unrequested reply on channel %d", ch.localID)
	}
	r := ch.replies[0]
	ch.replies = ch.replies[1:]
	ch.mu.Unlock()
	r <- ok
	return nil
}

// SendRequest sends a global request; with wantReply it waits for the
// answer and its payload.
func (c *Conn) SendRequest(name string, wantReply bool, payload []byte) (bool, []byte, error) {
	var reply chan globalReply
	c.mu.Lock()
	if c.channels == nil {
		err := c.closedErr()
		c.mu.Unlock()
		return false, nil, err
	}
	if wantReply {
		reply = make(chan globalReply, 1)
		c.globalReplies = append(c.globalReplies, reply)
	}
	c.mu.Unlock()
	m := globalRequest{Type: []byte(name), WantReply: wantReply, Payload: payload}
	if err := c.write(m.append(nil)); err != nil || !wantReply {
		return false, nil, err
	}
	r, open := <-reply
	if !open {
		return false, nil, c.Err()
	}
	return r.ok, r.payload, nil
}

func (c *Conn) receiveGlobalReply(p []byte) error {
	c.mu.Lock()
	if len(c.globalReplies) == 0 {
		c.mu.Unlock()
		return protocolError("unrequested global request reply")
	}
	r := c.globalReplies[0]
	c.globalReplies = c.globalReplies[1:]
	c.mu.Unlock()
	r <- globalReply{ok: p[0] == wire.MsgRequestSuccess, payload: append([]byte(nil), p[1:]...)}
	return nil
}

// receiveGlobalRequest answers the requests the connection knows and
// queues the rest for the application.
func (c *Conn) receiveGlobalRequest(p []byte) error {
	var m globalRequest
	if !m.parse(p) {
		return protocolError("malformed global request")
	}
	r := &Request{Type: string(m.Type), WantReply: m.WantReply, Payload: append([]byte(nil), m.Payload...), c: c}
	switch r.Type {
	case "keepalive@openssh.com":
		// Any answer keeps the peer's connection alive; OpenSSH refuses.
		return r.Reply(false, nil)
	case "no-more-sessions@openssh.com":
		c.mu.Lock()
		c.noMoreSessions = true
		c.mu.Unlock()
		return nil
	case "tcpip-forward", "cancel-tcpip-forward":
		if !c.cfg.ForwardRequests {
			return r.Reply(false, nil)
		}
	}
	select {
	case c.requests <- r:
		return nil
	default:
		return r.Reply(false, nil)
	}
}
