package wire

import "strconv"

// DisconnectReason is the reason code of SSH_MSG_DISCONNECT (RFC 4253 §11.1).
type DisconnectReason uint32

// Disconnect reason codes (RFC 4250 §4.2.2).
const (
	HostNotAllowedToConnect     DisconnectReason = 1
	ProtocolError               DisconnectReason = 2
	KeyExchangeFailed           DisconnectReason = 3
	Reserved                    DisconnectReason = 4
	MACError                    DisconnectReason = 5
	CompressionError            DisconnectReason = 6
	ServiceNotAvailable         DisconnectReason = 7
	ProtocolVersionNotSupported DisconnectReason = 8
	HostKeyNotVerifiable        DisconnectReason = 9
	ConnectionLost              DisconnectReason = 10
	ByApplication               DisconnectReason = 11
	TooManyConnections          DisconnectReason = 12
	AuthCancelledByUser         DisconnectReason = 13
	NoMoreAuthMethodsAvailable  DisconnectReason = 14
	IllegalUserName             DisconnectReason = 15
)

var reasonNames = [...]string{
	HostNotAllowedToConnect:     "host not allowed to connect",
	ProtocolError:               "protocol error",
	KeyExchangeFailed:           "key exchange failed",
	Reserved:                    "reserved",
	MACError:                    "MAC error",
	CompressionError:            "compression error",
	ServiceNotAvailable:         "service not available",
	ProtocolVersionNotSupported: "protocol version not supported",
	HostKeyNotVerifiable:        "host key not verifiable",
	ConnectionLost:              "connection lost",
	ByApplication:               "by application",
	TooManyConnections:          "too many connections",
	AuthCancelledByUser:         "auth cancelled by user",
	NoMoreAuthMethodsAvailable:  "no more auth methods available",
	IllegalUserName:             "illegal user name",
}

func (r DisconnectReason) String() string {
	// Compare as DisconnectReason: int(r) is negative for codes above
	// 1<<31 on 32-bit platforms, and a peer chooses the code.
	if r < DisconnectReason(len(reasonNames)) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "reason " + strconv.FormatUint(uint64(r), 10)
}

// Disconnect is SSH_MSG_DISCONNECT (RFC 4253 §11.1).
type Disconnect struct {
	Reason      DisconnectReason
	Description []byte // ISO-10646 UTF-8
	Language    []byte
}

// Len returns the encoded length.
func (m *Disconnect) Len() int { return 1 + 4 + 4 + len(m.Description) + 4 + len(m.Language) }

// Append appends the message, including its number.
func (m *Disconnect) Append(dst []byte) []byte {
	dst = append(dst, MsgDisconnect)
	dst = AppendUint32(dst, uint32(m.Reason))
	dst = AppendString(dst, m.Description)
	return AppendString(dst, m.Language)
}

// Parse decodes the message, including its number. The fields alias b.
func (m *Disconnect) Parse(b []byte) error {
	r := Reader(b)
	var n byte
	var reason uint32
	if !r.ReadUint8(&n) || n != MsgDisconnect || !r.ReadUint32(&reason) ||
		!r.ReadString(&m.Description) || !readOptionalString(&r, &m.Language) || !r.Empty() {
		return ErrMalformed
	}
	m.Reason = DisconnectReason(reason)
	return nil
}

// readOptionalString reads a string that some peers leave out at the end
// of a message (older implementations omit the language tag).
func readOptionalString(r *Reader, out *[]byte) bool {
	if r.Empty() {
		*out = nil
		return true
	}
	return r.ReadString(out)
}
