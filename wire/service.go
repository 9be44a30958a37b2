package wire

// ServiceRequest is SSH_MSG_SERVICE_REQUEST (RFC 4253 §10).
type ServiceRequest struct {
	Service []byte
}

// Len returns the encoded length.
func (m *ServiceRequest) Len() int { return 1 + 4 + len(m.Service) }

// Append appends the message, including its number.
func (m *ServiceRequest) Append(dst []byte) []byte {
	return AppendString(append(dst, MsgServiceRequest), m.Service)
}

// Parse decodes the message. Service aliases b.
func (m *ServiceRequest) Parse(b []byte) error { return parseService(b, MsgServiceRequest, &m.Service) }

// ServiceAccept is SSH_MSG_SERVICE_ACCEPT (RFC 4253 §10).
type ServiceAccept struct {
	Service []byte
}

// Len returns the encoded length.
func (m *ServiceAccept) Len() int { return 1 + 4 + len(m.Service) }

// Append appends the message, including its number.
func (m *ServiceAccept) Append(dst []byte) []byte {
	return AppendString(append(dst, MsgServiceAccept), m.Service)
}

// Parse decodes the message. Service aliases b.
func (m *ServiceAccept) Parse(b []byte) error { return parseService(b, MsgServiceAccept, &m.Service) }

func parseService(b []byte, num byte, out *[]byte) error {
	r := Reader(b)
	var n byte
	if !r.ReadUint8(&n) || n != num || !r.ReadString(out) || !r.Empty() {
		return ErrMalformed
	}
	return nil
}
