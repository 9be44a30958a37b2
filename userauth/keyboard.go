package userauth

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/wire"
)

var (
	errExchangeOver = errors.New("ssh: keyboard-interactive exchange is over")
	errAbandoned    = errors.New("ssh: client abandoned the keyboard-interactive exchange")
)

// keyboardInteractive handles a "keyboard-interactive" request (RFC 4256
// §3.1) on the server.
func (s *server) keyboardInteractive(data []byte) (outcome, error) {
	var m KeyboardInteractiveRequest
	if m.Parse(data) != nil {
		return outcome{}, s.disconnect(zerossh.ProtocolError, "malformed keyboard-interactive request")
	}
	if s.cb.KeyboardInteractiveCallback == nil {
		return outcome{err: errRefused}, nil
	}
	x := &exchange{s: s}
	perms, err := s.cb.KeyboardInteractiveCallback(s.meta, x.challenge)
	switch {
	case x.fatal != nil:
		return outcome{}, x.fatal
	case x.abandoned:
		// RFC 4252 §5.1: "A SSH_MSG_USERAUTH_FAILURE message MUST NOT be
		// sent for an aborted method."
		return outcome{answered: true}, nil
	case x.failed != nil:
		// Whatever the callback made of it.
		return outcome{err: x.failed}, nil
	}
	return outcome{perms: perms, err: err}, nil
}

// exchange is one keyboard-interactive conversation on the server.
type exchange struct {
	s *server
	// fatal ends the authentication, abandoned ends the exchange without
	// an answer, and failed makes it fail.
	fatal     error
	abandoned bool
	failed    error
}

// challenge sends one INFO_REQUEST and waits for its INFO_RESPONSE.
func (x *exchange) challenge(name, instruction string, questions []string, echos []bool) ([]string, error) {
	if x.fatal != nil || x.abandoned || x.failed != nil {
		return nil, errExchangeOver
	}
	if len(questions) != len(echos) {
		x.failed = fmt.Errorf("ssh: %d questions with %d echo flags", len(questions), len(echos))
		return nil, x.failed
	}
	m := InfoRequest{Name: []byte(name), Instruction: []byte(instruction), Prompts: make([]Prompt, len(questions))}
	for i, q := range questions {
		m.Prompts[i] = Prompt{Text: []byte(q), Echo: echos[i]}
	}
	if err := x.s.t.WritePacket(m.Append(nil)); err != nil {
		x.fatal = err
		return nil, err
	}
	for {
		p, err := x.s.next()
		if err != nil {
			x.fatal = err
			return nil, err
		}
		switch p[0] {
		case MsgUserauthInfoResponse:
			var r InfoResponse
			if r.Parse(p) != nil {
				x.fatal = x.s.disconnect(zerossh.ProtocolError, "malformed INFO_RESPONSE")
				return nil, x.fatal
			}
			if len(r.Responses) != len(questions) {
				// RFC 4256 §3.4: "If the num-responses field does not
				// match the num-prompts field in the request message, the
				// server MUST send a failure message."
				x.failed = fmt.Errorf("ssh: %d answers to %d questions", len(r.Responses), len(questions))
				return nil, x.failed
			}
			answers := make([]string, len(r.Responses))
			for i, a := range r.Responses {
				answers[i] = string(a)
				clear(a) // as for passwords
			}
			return answers, nil
		case wire.MsgUserauthRequest:
			// RFC 4252 §5.1: "A request that requires further messages to
			// be exchanged will be aborted by a subsequent request." The
			// request is handled once the callback returns.
			x.s.pending = bytes.Clone(p)
			x.abandoned = true
			return nil, errAbandoned
		default:
			if err := x.s.unexpected(p[0]); err != nil {
				x.fatal = err
				return nil, err
			}
		}
	}
}

// keyboardInteractiveMethod is the client side of "keyboard-interactive".
type keyboardInteractiveMethod struct {
	challenge ssh.KeyboardInteractiveChallenge
}

// KeyboardInteractive returns a Method that answers the server's
// questions (RFC 4256) with challenge, once per INFO_REQUEST. RFC 4256
// §3.3: a challenge that displays name, instruction or prompts SHOULD
// filter control characters first. An error from challenge ends the
// authentication.
func KeyboardInteractive(challenge ssh.KeyboardInteractiveChallenge) Method {
	return &keyboardInteractiveMethod{challenge: challenge}
}

func (m *keyboardInteractiveMethod) name() string { return MethodKeyboardInteractive }

func (m *keyboardInteractiveMethod) run(c *client) (bool, error) {
	// RFC 4256 §3.1: the language tag is deprecated and "SHOULD be the
	// empty string"; no submethods are asked for.
	var req KeyboardInteractiveRequest
	if err := c.send(MethodKeyboardInteractive, req.Append(nil), false); err != nil {
		return false, err
	}
	for {
		p, err := c.reply()
		if err != nil {
			return false, err
		}
		switch p[0] {
		case wire.MsgUserauthSuccess:
			return true, nil
		case wire.MsgUserauthFailure:
			return false, nil
		case MsgUserauthInfoRequest:
		default:
			return false, c.protocolError(fmt.Sprintf("message %d during keyboard-interactive", p[0]))
		}
		var info InfoRequest
		if info.Parse(p) != nil {
			return false, c.protocolError("malformed INFO_REQUEST")
		}
		questions := make([]string, len(info.Prompts))
		echos := make([]bool, len(info.Prompts))
		for i, q := range info.Prompts {
			questions[i], echos[i] = string(q.Text), q.Echo
		}
		answers, err := m.challenge(string(info.Name), string(info.Instruction), questions, echos)
		if err != nil {
			return false, c.cancel(err)
		}
		if len(answers) != len(questions) {
			return false, c.cancel(fmt.Errorf("ssh: keyboard-interactive challenge gave %d answers to %d questions", len(answers), len(questions)))
		}
		// RFC 4256 §3.4: "the client MUST respond with an
		// SSH_MSG_USERAUTH_INFO_RESPONSE message", zero answers to zero
		// prompts included.
		resp := InfoResponse{Responses: make([][]byte, len(answers))}
		for i, a := range answers {
			resp.Responses[i] = []byte(a)
		}
		// Answers are secrets as passwords are: OpenSSH pads them too.
		msg := resp.Append(nil)
		err = c.t.WritePacketPadded(msg, 64)
		clear(msg)
		if err != nil {
			return false, err
		}
	}
}
