package wire

// ExtInfo is SSH_MSG_EXT_INFO (RFC 8308 §2.3).
type ExtInfo struct {
	Extensions []Extension
}

// Extension is one name and value of an ExtInfo.
type Extension struct {
	Name  string
	Value []byte
}

// Len returns the encoded length.
func (m *ExtInfo) Len() int {
	n := 1 + 4
	for _, e := range m.Extensions {
		n += 4 + len(e.Name) + 4 + len(e.Value)
	}
	return n
}

// Append appends the message, including its number.
func (m *ExtInfo) Append(dst []byte) []byte {
	dst = AppendUint32(append(dst, MsgExtInfo), uint32(len(m.Extensions)))
	for _, e := range m.Extensions {
		dst = AppendStringS(dst, e.Name)
		dst = AppendString(dst, e.Value)
	}
	return dst
}

// Parse decodes the message. Values alias b; names are copied, since
// extensions are kept for the life of the connection.
func (m *ExtInfo) Parse(b []byte) error {
	r := Reader(b)
	var n byte
	var count uint32
	if !r.ReadUint8(&n) || n != MsgExtInfo || !r.ReadUint32(&count) {
		return ErrMalformed
	}
	// Each extension takes at least 8 bytes, which bounds the count by
	// what was actually received before anything is allocated.
	if uint64(count)*8 > uint64(r.Len()) {
		return ErrMalformed
	}
	m.Extensions = make([]Extension, 0, count)
	for range count {
		var name, value []byte
		if !r.ReadString(&name) || !r.ReadString(&value) {
			return ErrMalformed
		}
		m.Extensions = append(m.Extensions, Extension{Name: string(name), Value: value})
	}
	if !r.Empty() {
		return ErrMalformed
	}
	return nil
}
