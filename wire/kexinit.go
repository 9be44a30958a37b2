package wire

// KexInit is SSH_MSG_KEXINIT (RFC 4253 §7.1).
type KexInit struct {
	Cookie                  [16]byte
	KexAlgos                NameList
	ServerHostKeyAlgos      NameList
	CiphersClientServer     NameList
	CiphersServerClient     NameList
	MACsClientServer        NameList
	MACsServerClient        NameList
	CompressionClientServer NameList
	CompressionServerClient NameList
	LanguagesClientServer   NameList
	LanguagesServerClient   NameList
	FirstKexFollows         bool
	Reserved                uint32
}

func (m *KexInit) lists() [10]*NameList {
	return [10]*NameList{
		&m.KexAlgos, &m.ServerHostKeyAlgos,
		&m.CiphersClientServer, &m.CiphersServerClient,
		&m.MACsClientServer, &m.MACsServerClient,
		&m.CompressionClientServer, &m.CompressionServerClient,
		&m.LanguagesClientServer, &m.LanguagesServerClient,
	}
}

// Len returns the encoded length.
func (m *KexInit) Len() int {
	n := 1 + 16 + 1 + 4
	for _, l := range m.lists() {
		n += 4 + len(*l)
	}
	return n
}

// Append appends the message, including its number.
func (m *KexInit) Append(dst []byte) []byte {
	dst = append(append(dst, MsgKexInit), m.Cookie[:]...)
	for _, l := range m.lists() {
		dst = AppendString(dst, *l)
	}
	dst = AppendBool(dst, m.FirstKexFollows)
	return AppendUint32(dst, m.Reserved)
}

// Parse decodes the message. The name-lists alias b.
func (m *KexInit) Parse(b []byte) error {
	r := Reader(b)
	var n byte
	var cookie []byte
	if !r.ReadUint8(&n) || n != MsgKexInit || !r.ReadBytes(&cookie, 16) {
		return ErrMalformed
	}
	copy(m.Cookie[:], cookie)
	for _, l := range m.lists() {
		if !r.ReadNameList(l) {
			return ErrMalformed
		}
	}
	// RFC 4253 §7.1 ends the message with the reserved uint32; anything
	// after it is not a KEXINIT we understand.
	if !r.ReadBool(&m.FirstKexFollows) || !r.ReadUint32(&m.Reserved) || !r.Empty() {
		return ErrMalformed
	}
	return nil
}
