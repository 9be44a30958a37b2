package connection

import (
	"github.com/zerossh/zerossh/wire"
)

// The messages of RFC 4254 that the mux parses. Parsers read from a
// payload that starts with the message number; fields alias it.

// channelOpen is SSH_MSG_CHANNEL_OPEN (RFC 4254 §5.1).
type channelOpen struct {
	Type          []byte
	Sender        uint32
	InitialWindow uint32
	MaxPacket     uint32
	Extra         []byte
}

func (m *channelOpen) parse(p []byte) bool {
	r := wire.Reader(p[1:])
	if !r.ReadString(&m.Type) || !r.ReadUint32(&m.Sender) || !r.ReadUint32(&m.InitialWindow) || !r.ReadUint32(&m.MaxPacket) {
		return false
	}
	m.Extra = []byte(r)
	return true
}

func (m *channelOpen) append(dst []byte) []byte {
	dst = wire.AppendString(append(dst, wire.MsgChannelOpen), m.Type)
	dst = wire.AppendUint32(dst, m.Sender)
	dst = wire.AppendUint32(dst, m.InitialWindow)
	dst = wire.AppendUint32(dst, m.MaxPacket)
	return append(dst, m.Extra...)
}

// openConfirm is SSH_MSG_CHANNEL_OPEN_CONFIRMATION (RFC 4254 §5.1).
type openConfirm struct {
	Recipient, Sender, InitialWindow, MaxPacket uint32
	Extra                                       []byte
}

func (m *openConfirm) parse(p []byte) bool {
	r := wire.Reader(p[1:])
	if !r.ReadUint32(&m.Recipient) || !r.ReadUint32(&m.Sender) || !r.ReadUint32(&m.InitialWindow) || !r.ReadUint32(&m.MaxPacket) {
		return false
	}
	m.Extra = []byte(r)
	return true
}

func (m *openConfirm) append(dst []byte) []byte {
	dst = wire.AppendUint32(append(dst, wire.MsgChannelOpenConfirm), m.Recipient)
	dst = wire.AppendUint32(dst, m.Sender)
	dst = wire.AppendUint32(dst, m.InitialWindow)
	dst = wire.AppendUint32(dst, m.MaxPacket)
	return append(dst, m.Extra...)
}

// openFailure is SSH_MSG_CHANNEL_OPEN_FAILURE (RFC 4254 §5.1).
type openFailure struct {
	Recipient uint32
	Reason    RejectionReason
	Message   []byte
	Language  []byte
}

func (m *openFailure) parse(p []byte) bool {
	r := wire.Reader(p[1:])
	var reason uint32
	if !r.ReadUint32(&m.Recipient) || !r.ReadUint32(&reason) || !r.ReadString(&m.Message) {
		return false
	}
	m.Reason = RejectionReason(reason)
	if !r.Empty() && !r.ReadString(&m.Language) { // some peers omit the language tag
		return false
	}
	return r.Empty()
}

func (m *openFailure) append(dst []byte) []byte {
	dst = wire.AppendUint32(append(dst, wire.MsgChannelOpenFailure), m.Recipient)
	dst = wire.AppendUint32(dst, uint32(m.Reason))
	dst = wire.AppendString(dst, m.Message)
	return wire.AppendString(dst, m.Language)
}

// channelRequest is SSH_MSG_CHANNEL_REQUEST (RFC 4254 §5.4).
type channelRequest struct {
	Recipient uint32
	Type      []byte
	WantReply bool
	Payload   []byte
}

func (m *channelRequest) parse(p []byte) bool {
	r := wire.Reader(p[1:])
	if !r.ReadUint32(&m.Recipient) || !r.ReadString(&m.Type) || !r.ReadBool(&m.WantReply) {
		return false
	}
	m.Payload = []byte(r)
	return true
}

func (m *channelRequest) append(dst []byte) []byte {
	dst = wire.AppendUint32(append(dst, wire.MsgChannelRequest), m.Recipient)
	dst = wire.AppendString(dst, m.Type)
	dst = wire.AppendBool(dst, m.WantReply)
	return append(dst, m.Payload...)
}

// globalRequest is SSH_MSG_GLOBAL_REQUEST (RFC 4254 §4).
type globalRequest struct {
	Type      []byte
	WantReply bool
	Payload   []byte
}

func (m *globalRequest) parse(p []byte) bool {
	r := wire.Reader(p[1:])
	if !r.ReadString(&m.Type) || !r.ReadBool(&m.WantReply) {
		return false
	}
	m.Payload = []byte(r)
	return true
}

func (m *globalRequest) append(dst []byte) []byte {
	dst = wire.AppendString(append(dst, wire.MsgGlobalRequest), m.Type)
	dst = wire.AppendBool(dst, m.WantReply)
	return append(dst, m.Payload...)
}

// channelData parses SSH_MSG_CHANNEL_DATA (RFC 4254 §5.2) and, with
// extended set, SSH_MSG_CHANNEL_EXTENDED_DATA, returning the data type
// (0 for plain data).
func parseChannelData(p []byte, extended bool) (recipient, dataType uint32, data []byte, ok bool) {
	r := wire.Reader(p[1:])
	if !r.ReadUint32(&recipient) || extended && !r.ReadUint32(&dataType) || !r.ReadString(&data) || !r.Empty() {
		return 0, 0, nil, false
	}
	return recipient, dataType, data, true
}

// parseRecipient parses a message that is a channel number and nothing
// more (EOF, CLOSE, SUCCESS, FAILURE), or a channel number and a uint32
// (WINDOW_ADJUST) when withValue is set.
func parseRecipient(p []byte, withValue bool) (recipient, value uint32, ok bool) {
	r := wire.Reader(p[1:])
	if !r.ReadUint32(&recipient) || withValue && !r.ReadUint32(&value) || !r.Empty() {
		return 0, 0, false
	}
	return recipient, value, true
}

func appendRecipient(dst []byte, msg byte, recipient uint32) []byte {
	return wire.AppendUint32(append(dst, msg), recipient)
}
