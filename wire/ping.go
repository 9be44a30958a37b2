package wire

// Ping is SSH2_MSG_PING of ping@openssh.com (OpenSSH PROTOCOL §1.9); the
// receiver answers with a Pong carrying the same data.
type Ping struct {
	Data []byte
}

// Len returns the encoded length.
func (m *Ping) Len() int { return 1 + 4 + len(m.Data) }

// Append appends the message, including its number.
func (m *Ping) Append(dst []byte) []byte { return AppendString(append(dst, MsgPing), m.Data) }

// Parse decodes the message. Data aliases b.
func (m *Ping) Parse(b []byte) error { return parseService(b, MsgPing, &m.Data) }

// Pong is SSH2_MSG_PONG, the answer to a Ping.
type Pong struct {
	Data []byte
}

// Len returns the encoded length.
func (m *Pong) Len() int { return 1 + 4 + len(m.Data) }

// Append appends the message, including its number.
func (m *Pong) Append(dst []byte) []byte { return AppendString(append(dst, MsgPong), m.Data) }

// Parse decodes the message. Data aliases b.
func (m *Pong) Parse(b []byte) error { return parseService(b, MsgPong, &m.Data) }
