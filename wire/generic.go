package wire

// Ignore is SSH_MSG_IGNORE (RFC 4253 §11.2).
type Ignore struct {
	Data []byte
}

// Len returns the encoded length.
func (m *Ignore) Len() int { return 1 + 4 + len(m.Data) }

// Append appends the message, including its number.
func (m *Ignore) Append(dst []byte) []byte {
	return AppendString(append(dst, MsgIgnore), m.Data)
}

// Parse decodes the message. Data aliases b. Trailing bytes are allowed:
// the RFC gives the message no structure a receiver must check.
func (m *Ignore) Parse(b []byte) error {
	r := Reader(b)
	var n byte
	if !r.ReadUint8(&n) || n != MsgIgnore {
		return ErrMalformed
	}
	if !r.ReadString(&m.Data) {
		m.Data = nil
	}
	return nil
}

// Debug is SSH_MSG_DEBUG (RFC 4253 §11.3).
type Debug struct {
	AlwaysDisplay bool
	Message       []byte
	Language      []byte
}

// Len returns the encoded length.
func (m *Debug) Len() int { return 1 + 1 + 4 + len(m.Message) + 4 + len(m.Language) }

// Append appends the message, including its number.
func (m *Debug) Append(dst []byte) []byte {
	dst = AppendBool(append(dst, MsgDebug), m.AlwaysDisplay)
	dst = AppendString(dst, m.Message)
	return AppendString(dst, m.Language)
}

// Parse decodes the message. The fields alias b.
func (m *Debug) Parse(b []byte) error {
	r := Reader(b)
	var n byte
	if !r.ReadUint8(&n) || n != MsgDebug || !r.ReadBool(&m.AlwaysDisplay) ||
		!r.ReadString(&m.Message) || !readOptionalString(&r, &m.Language) || !r.Empty() {
		return ErrMalformed
	}
	return nil
}

// Unimplemented is SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4).
type Unimplemented struct {
	Seq uint32 // sequence number of the rejected packet
}

// Len returns the encoded length.
func (m *Unimplemented) Len() int { return 5 }

// Append appends the message, including its number.
func (m *Unimplemented) Append(dst []byte) []byte {
	return AppendUint32(append(dst, MsgUnimplemented), m.Seq)
}

// Parse decodes the message.
func (m *Unimplemented) Parse(b []byte) error {
	r := Reader(b)
	var n byte
	if !r.ReadUint8(&n) || n != MsgUnimplemented || !r.ReadUint32(&m.Seq) || !r.Empty() {
		return ErrMalformed
	}
	return nil
}

// NewKeys is SSH_MSG_NEWKEYS (RFC 4253 §7.3): the message number alone.
type NewKeys struct{}

// Len returns the encoded length.
func (m *NewKeys) Len() int { return 1 }

// Append appends the message.
func (m *NewKeys) Append(dst []byte) []byte { return append(dst, MsgNewKeys) }

// Parse decodes the message.
func (m *NewKeys) Parse(b []byte) error {
	if len(b) != 1 || b[0] != MsgNewKeys {
		return ErrMalformed
	}
	return nil
}
