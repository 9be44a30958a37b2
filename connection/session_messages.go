package connection

import (
	"errors"
	"slices"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/wire"
)

// The type-specific data of the session requests (RFC 4254 §6) and of
// the direct-tcpip channel open (§7.2): what follows want_reply in
// CHANNEL_REQUEST, or the initial window and maximum packet size in
// CHANNEL_OPEN. Each type has Len, Append and Parse; Parse requires the
// data to be consumed exactly, never panics, and its results alias the
// input.

// errMalformedRequest is returned by Parse for data that does not have
// the layout of its request.
var errMalformedRequest = errors.New("ssh: malformed request data")

// Request and channel types of RFC 4254 §6 and §7.2.
const (
	requestPty           = "pty-req"
	requestEnv           = "env"
	requestShell         = "shell"
	requestExec          = "exec"
	requestSubsystem     = "subsystem"
	requestWindowChange  = "window-change"
	requestSignal        = "signal"
	requestExitStatus    = "exit-status"
	requestExitSignal    = "exit-signal"
	channelSession       = "session"
	channelDirectTCPIP   = "direct-tcpip"
	terminalModeEnd      = 0   // TTY_OP_END
	terminalModeReserved = 160 // opcodes 160 to 255 are not defined
)

// PtyRequest is the data of a "pty-req" request (RFC 4254 §6.2).
type PtyRequest struct {
	Term       []byte // TERM environment variable value, e.g. "xterm"
	Cols, Rows uint32 // terminal width in characters and height in rows
	Width      uint32 // terminal width in pixels
	Height     uint32 // terminal height in pixels
	Modes      []byte // encoded terminal modes (§8); see AppendTerminalModes
}

// Len returns the length of the encoding.
func (m *PtyRequest) Len() int { return 4 + len(m.Term) + 16 + 4 + len(m.Modes) }

// Append appends the encoding to dst.
func (m *PtyRequest) Append(dst []byte) []byte {
	dst = wire.AppendString(dst, m.Term)
	dst = wire.AppendUint32(dst, m.Cols)
	dst = wire.AppendUint32(dst, m.Rows)
	dst = wire.AppendUint32(dst, m.Width)
	dst = wire.AppendUint32(dst, m.Height)
	return wire.AppendString(dst, m.Modes)
}

// Parse parses b.
func (m *PtyRequest) Parse(b []byte) error {
	r := wire.Reader(b)
	if !r.ReadString(&m.Term) || !r.ReadUint32(&m.Cols) || !r.ReadUint32(&m.Rows) ||
		!r.ReadUint32(&m.Width) || !r.ReadUint32(&m.Height) || !r.ReadString(&m.Modes) || !r.Empty() {
		return errMalformedRequest
	}
	return nil
}

// AppendTerminalModes appends the encoding of modes (RFC 4254 §8): each
// opcode as a byte and its argument as a uint32, in opcode order, then
// TTY_OP_END. Opcodes 0 and 160 to 255 have no defined argument and are
// left out.
func AppendTerminalModes(dst []byte, modes ssh.TerminalModes) []byte {
	ops := make([]uint8, 0, len(modes))
	for op := range modes {
		if op != terminalModeEnd && op < terminalModeReserved {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	for _, op := range ops {
		dst = wire.AppendUint32(append(dst, op), modes[op])
	}
	return append(dst, terminalModeEnd)
}

// ParseTerminalModes parses encoded terminal modes (RFC 4254 §8). It
// stops at TTY_OP_END or at an opcode from 160 to 255 ("Opcodes 160 to
// 254 are not yet defined, and cause parsing to stop"); an empty
// encoding has no modes. A truncated argument is an error.
func ParseTerminalModes(b []byte) (ssh.TerminalModes, error) {
	modes := ssh.TerminalModes{}
	r := wire.Reader(b)
	for !r.Empty() {
		var op byte
		var arg uint32
		r.ReadUint8(&op)
		if op == terminalModeEnd || op >= terminalModeReserved {
			break
		}
		if !r.ReadUint32(&arg) {
			return nil, errMalformedRequest
		}
		modes[op] = arg
	}
	return modes, nil
}

// EnvRequest is the data of an "env" request (RFC 4254 §6.4).
type EnvRequest struct {
	Name, Value []byte
}

// Len returns the length of the encoding.
func (m *EnvRequest) Len() int { return 8 + len(m.Name) + len(m.Value) }

// Append appends the encoding to dst.
func (m *EnvRequest) Append(dst []byte) []byte {
	return wire.AppendString(wire.AppendString(dst, m.Name), m.Value)
}

// Parse parses b.
func (m *EnvRequest) Parse(b []byte) error {
	r := wire.Reader(b)
	if !r.ReadString(&m.Name) || !r.ReadString(&m.Value) || !r.Empty() {
		return errMalformedRequest
	}
	return nil
}

// ExecRequest is the data of an "exec" request (RFC 4254 §6.5).
type ExecRequest struct {
	Command []byte
}

// Len returns the length of the encoding.
func (m *ExecRequest) Len() int { return 4 + len(m.Command) }

// Append appends the encoding to dst.
func (m *ExecRequest) Append(dst []byte) []byte { return wire.AppendString(dst, m.Command) }

// Parse parses b.
func (m *ExecRequest) Parse(b []byte) error { return parseOneString(b, &m.Command) }

// SubsystemRequest is the data of a "subsystem" request (RFC 4254 §6.5).
type SubsystemRequest struct {
	Name []byte
}

// Len returns the length of the encoding.
func (m *SubsystemRequest) Len() int { return 4 + len(m.Name) }

// Append appends the encoding to dst.
func (m *SubsystemRequest) Append(dst []byte) []byte { return wire.AppendString(dst, m.Name) }

// Parse parses b.
func (m *SubsystemRequest) Parse(b []byte) error { return parseOneString(b, &m.Name) }

// SignalRequest is the data of a "signal" request (RFC 4254 §6.9): the
// signal name without the "SIG" prefix, such as "INT".
type SignalRequest struct {
	Signal []byte
}

// Len returns the length of the encoding.
func (m *SignalRequest) Len() int { return 4 + len(m.Signal) }

// Append appends the encoding to dst.
func (m *SignalRequest) Append(dst []byte) []byte { return wire.AppendString(dst, m.Signal) }

// Parse parses b.
func (m *SignalRequest) Parse(b []byte) error { return parseOneString(b, &m.Signal) }

func parseOneString(b []byte, s *[]byte) error {
	r := wire.Reader(b)
	if !r.ReadString(s) || !r.Empty() {
		return errMalformedRequest
	}
	return nil
}

// WindowChange is the data of a "window-change" request (RFC 4254 §6.7).
type WindowChange struct {
	Cols, Rows    uint32 // terminal width in characters and height in rows
	Width, Height uint32 // in pixels
}

// Len returns the length of the encoding.
func (m *WindowChange) Len() int { return 16 }

// Append appends the encoding to dst.
func (m *WindowChange) Append(dst []byte) []byte {
	dst = wire.AppendUint32(dst, m.Cols)
	dst = wire.AppendUint32(dst, m.Rows)
	dst = wire.AppendUint32(dst, m.Width)
	return wire.AppendUint32(dst, m.Height)
}

// Parse parses b.
func (m *WindowChange) Parse(b []byte) error {
	r := wire.Reader(b)
	if !r.ReadUint32(&m.Cols) || !r.ReadUint32(&m.Rows) || !r.ReadUint32(&m.Width) || !r.ReadUint32(&m.Height) || !r.Empty() {
		return errMalformedRequest
	}
	return nil
}

// ExitStatus is the data of an "exit-status" request (RFC 4254 §6.10).
type ExitStatus struct {
	Status uint32
}

// Len returns the length of the encoding.
func (m *ExitStatus) Len() int { return 4 }

// Append appends the encoding to dst.
func (m *ExitStatus) Append(dst []byte) []byte { return wire.AppendUint32(dst, m.Status) }

// Parse parses b.
func (m *ExitStatus) Parse(b []byte) error {
	r := wire.Reader(b)
	if !r.ReadUint32(&m.Status) || !r.Empty() {
		return errMalformedRequest
	}
	return nil
}

// ExitSignal is the data of an "exit-signal" request (RFC 4254 §6.10).
type ExitSignal struct {
	Signal     []byte // without the "SIG" prefix
	CoreDumped bool
	Message    []byte
	Language   []byte
}

// Len returns the length of the encoding.
func (m *ExitSignal) Len() int {
	return 4 + len(m.Signal) + 1 + 4 + len(m.Message) + 4 + len(m.Language)
}

// Append appends the encoding to dst.
func (m *ExitSignal) Append(dst []byte) []byte {
	dst = wire.AppendString(dst, m.Signal)
	dst = wire.AppendBool(dst, m.CoreDumped)
	dst = wire.AppendString(dst, m.Message)
	return wire.AppendString(dst, m.Language)
}

// Parse parses b.
func (m *ExitSignal) Parse(b []byte) error {
	r := wire.Reader(b)
	if !r.ReadString(&m.Signal) || !r.ReadBool(&m.CoreDumped) || !r.ReadString(&m.Message) || !r.ReadString(&m.Language) || !r.Empty() {
		return errMalformedRequest
	}
	return nil
}

// DirectTCPIP is the type-specific data of a "direct-tcpip" channel open
// (RFC 4254 §7.2): where to connect, and where the connection came from.
type DirectTCPIP struct {
	Host       []byte
	Port       uint32
	OriginAddr []byte
	OriginPort uint32
}

// Len returns the length of the encoding.
func (m *DirectTCPIP) Len() int { return 4 + len(m.Host) + 4 + 4 + len(m.OriginAddr) + 4 }

// Append appends the encoding to dst.
func (m *DirectTCPIP) Append(dst []byte) []byte {
	dst = wire.AppendString(dst, m.Host)
	dst = wire.AppendUint32(dst, m.Port)
	dst = wire.AppendString(dst, m.OriginAddr)
	return wire.AppendUint32(dst, m.OriginPort)
}

// Parse parses b.
func (m *DirectTCPIP) Parse(b []byte) error {
	r := wire.Reader(b)
	if !r.ReadString(&m.Host) || !r.ReadUint32(&m.Port) || !r.ReadString(&m.OriginAddr) || !r.ReadUint32(&m.OriginPort) || !r.Empty() {
		return errMalformedRequest
	}
	return nil
}
