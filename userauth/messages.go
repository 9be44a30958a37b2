package userauth

import "github.com/zerossh/zerossh/wire"

// Method-specific message numbers (RFC 4250 §4.1.2). 60 and 61 mean
// different things depending on the method in progress.
const (
	MsgUserauthPKOK             = 60 // publickey (RFC 4252 §7)
	MsgUserauthPasswdChangeReq  = 60 // password (RFC 4252 §8)
	MsgUserauthInfoRequest      = 60 // keyboard-interactive (RFC 4256 §3.2)
	MsgUserauthInfoResponse     = 61 // keyboard-interactive (RFC 4256 §3.4)
	msgFirstMethodSpecific      = 60
	msgLastUserauth             = 79
	msgFirstAfterAuthentication = 80
)

// Method names (RFC 4252 §5.2, §7, §8; RFC 4256 §3.1; OpenSSH PROTOCOL).
const (
	MethodNone                = "none"
	MethodPassword            = "password"
	MethodPublicKey           = "publickey"
	MethodPublicKeyHostbound  = "publickey-hostbound-v00@openssh.com"
	MethodKeyboardInteractive = "keyboard-interactive"
)

// Request is SSH_MSG_USERAUTH_REQUEST (RFC 4252 §5). The fields that
// depend on the method are left as sent in MethodData, for
// PublicKeyRequest, PasswordRequest or KeyboardInteractiveRequest to
// parse; "none" has none.
type Request struct {
	User       []byte // ISO-10646 UTF-8
	Service    []byte
	Method     []byte
	MethodData []byte
}

// Len returns the encoded length.
func (m *Request) Len() int {
	return 1 + 4 + len(m.User) + 4 + len(m.Service) + 4 + len(m.Method) + len(m.MethodData)
}

// Append appends the message, including its number.
func (m *Request) Append(dst []byte) []byte {
	dst = append(dst, wire.MsgUserauthRequest)
	dst = wire.AppendString(dst, m.User)
	dst = wire.AppendString(dst, m.Service)
	dst = wire.AppendString(dst, m.Method)
	return append(dst, m.MethodData...)
}

// Parse decodes the message. The fields alias b.
func (m *Request) Parse(b []byte) error {
	r := wire.Reader(b)
	var n byte
	if !r.ReadUint8(&n) || n != wire.MsgUserauthRequest ||
		!r.ReadString(&m.User) || !r.ReadString(&m.Service) || !r.ReadString(&m.Method) {
		return wire.ErrMalformed
	}
	m.MethodData = []byte(r)
	return nil
}

// Failure is SSH_MSG_USERAUTH_FAILURE (RFC 4252 §5.1).
type Failure struct {
	// Methods are the authentications that can continue.
	Methods wire.NameList
	// PartialSuccess is true when the request answered was successful but
	// more authentication is needed.
	PartialSuccess bool
}

// Len returns the encoded length.
func (m *Failure) Len() int { return 1 + 4 + len(m.Methods) + 1 }

// Append appends the message, including its number.
func (m *Failure) Append(dst []byte) []byte {
	dst = wire.AppendString(append(dst, wire.MsgUserauthFailure), m.Methods)
	return wire.AppendBool(dst, m.PartialSuccess)
}

// Parse decodes the message. Methods aliases b.
func (m *Failure) Parse(b []byte) error {
	r := wire.Reader(b)
	var n byte
	if !r.ReadUint8(&n) || n != wire.MsgUserauthFailure || !r.ReadNameList(&m.Methods) ||
		!r.ReadBool(&m.PartialSuccess) || !r.Empty() {
		return wire.ErrMalformed
	}
	return nil
}

// Success is SSH_MSG_USERAUTH_SUCCESS (RFC 4252 §5.1), which has no
// fields.
type Success struct{}

// Len returns the encoded length.
func (m *Success) Len() int { return 1 }

// Append appends the message, including its number.
func (m *Success) Append(dst []byte) []byte { return append(dst, wire.MsgUserauthSuccess) }

// Parse decodes the message.
func (m *Success) Parse(b []byte) error {
	if len(b) != 1 || b[0] != wire.MsgUserauthSuccess {
		return wire.ErrMalformed
	}
	return nil
}

// Banner is SSH_MSG_USERAUTH_BANNER (RFC 4252 §5.4).
type Banner struct {
	Message  []byte // ISO-10646 UTF-8
	Language []byte
}

// Len returns the encoded length.
func (m *Banner) Len() int { return 1 + 4 + len(m.Message) + 4 + len(m.Language) }

// Append appends the message, including its number.
func (m *Banner) Append(dst []byte) []byte {
	dst = wire.AppendString(append(dst, wire.MsgUserauthBanner), m.Message)
	return wire.AppendString(dst, m.Language)
}

// Parse decodes the message. The fields alias b.
func (m *Banner) Parse(b []byte) error {
	return parseTwoStrings(b, wire.MsgUserauthBanner, &m.Message, &m.Language)
}

// PKOK is SSH_MSG_USERAUTH_PK_OK (RFC 4252 §7): the server would accept
// a signature by this key.
type PKOK struct {
	Algorithm []byte
	PublicKey []byte
}

// Len returns the encoded length.
func (m *PKOK) Len() int { return 1 + 4 + len(m.Algorithm) + 4 + len(m.PublicKey) }

// Append appends the message, including its number.
func (m *PKOK) Append(dst []byte) []byte {
	dst = wire.AppendString(append(dst, MsgUserauthPKOK), m.Algorithm)
	return wire.AppendString(dst, m.PublicKey)
}

// Parse decodes the message. The fields alias b.
func (m *PKOK) Parse(b []byte) error {
	return parseTwoStrings(b, MsgUserauthPKOK, &m.Algorithm, &m.PublicKey)
}

// PasswdChangeReq is SSH_MSG_USERAUTH_PASSWD_CHANGEREQ (RFC 4252 §8).
type PasswdChangeReq struct {
	Prompt   []byte // ISO-10646 UTF-8
	Language []byte
}

// Len returns the encoded length.
func (m *PasswdChangeReq) Len() int { return 1 + 4 + len(m.Prompt) + 4 + len(m.Language) }

// Append appends the message, including its number.
func (m *PasswdChangeReq) Append(dst []byte) []byte {
	dst = wire.AppendString(append(dst, MsgUserauthPasswdChangeReq), m.Prompt)
	return wire.AppendString(dst, m.Language)
}

// Parse decodes the message. The fields alias b.
func (m *PasswdChangeReq) Parse(b []byte) error {
	return parseTwoStrings(b, MsgUserauthPasswdChangeReq, &m.Prompt, &m.Language)
}

func parseTwoStrings(b []byte, num byte, s1, s2 *[]byte) error {
	r := wire.Reader(b)
	var n byte
	if !r.ReadUint8(&n) || n != num || !r.ReadString(s1) || !r.ReadString(s2) || !r.Empty() {
		return wire.ErrMalformed
	}
	return nil
}

// InfoRequest is SSH_MSG_USERAUTH_INFO_REQUEST (RFC 4256 §3.2).
type InfoRequest struct {
	Name        []byte
	Instruction []byte
	Language    []byte
	Prompts     []Prompt
}

// Prompt is one question of an InfoRequest.
type Prompt struct {
	Text []byte
	// Echo is true when the answer may be shown as it is typed.
	Echo bool
}

// Len returns the encoded length.
func (m *InfoRequest) Len() int {
	n := 1 + 4 + len(m.Name) + 4 + len(m.Instruction) + 4 + len(m.Language) + 4
	for _, p := range m.Prompts {
		n += 4 + len(p.Text) + 1
	}
	return n
}

// Append appends the message, including its number.
func (m *InfoRequest) Append(dst []byte) []byte {
	dst = append(dst, MsgUserauthInfoRequest)
	dst = wire.AppendString(dst, m.Name)
	dst = wire.AppendString(dst, m.Instruction)
	dst = wire.AppendString(dst, m.Language)
	dst = wire.AppendUint32(dst, uint32(len(m.Prompts)))
	for _, p := range m.Prompts {
		dst = wire.AppendString(dst, p.Text)
		dst = wire.AppendBool(dst, p.Echo)
	}
	return dst
}

// Parse decodes the message. The strings alias b; Prompts is allocated,
// bounded by the size of b.
func (m *InfoRequest) Parse(b []byte) error {
	r := wire.Reader(b)
	var n byte
	var count uint32
	if !r.ReadUint8(&n) || n != MsgUserauthInfoRequest || !r.ReadString(&m.Name) ||
		!r.ReadString(&m.Instruction) || !r.ReadString(&m.Language) || !r.ReadUint32(&count) {
		return wire.ErrMalformed
	}
	// Each prompt takes at least 5 bytes: check the count against what
	// was received before allocating for it.
	if uint64(count)*5 > uint64(r.Len()) {
		return wire.ErrMalformed
	}
	m.Prompts = make([]Prompt, count)
	for i := range m.Prompts {
		if !r.ReadString(&m.Prompts[i].Text) || !r.ReadBool(&m.Prompts[i].Echo) {
			return wire.ErrMalformed
		}
	}
	if !r.Empty() {
		return wire.ErrMalformed
	}
	return nil
}

// InfoResponse is SSH_MSG_USERAUTH_INFO_RESPONSE (RFC 4256 §3.4).
type InfoResponse struct {
	Responses [][]byte // ISO-10646 UTF-8
}

// Len returns the encoded length.
func (m *InfoResponse) Len() int {
	n := 1 + 4
	for _, s := range m.Responses {
		n += 4 + len(s)
	}
	return n
}

// Append appends the message, including its number.
func (m *InfoResponse) Append(dst []byte) []byte {
	dst = wire.AppendUint32(append(dst, MsgUserauthInfoResponse), uint32(len(m.Responses)))
	for _, s := range m.Responses {
		dst = wire.AppendString(dst, s)
	}
	return dst
}

// Parse decodes the message. The responses alias b; the slice holding
// them is allocated, bounded by the size of b.
func (m *InfoResponse) Parse(b []byte) error {
	r := wire.Reader(b)
	var n byte
	var count uint32
	if !r.ReadUint8(&n) || n != MsgUserauthInfoResponse || !r.ReadUint32(&count) {
		return wire.ErrMalformed
	}
	if uint64(count)*4 > uint64(r.Len()) {
		return wire.ErrMalformed
	}
	m.Responses = make([][]byte, count)
	for i := range m.Responses {
		if !r.ReadString(&m.Responses[i]) {
			return wire.ErrMalformed
		}
	}
	if !r.Empty() {
		return wire.ErrMalformed
	}
	return nil
}

// PublicKeyRequest holds the method-specific fields of a "publickey"
// request (RFC 4252 §7) or of a "publickey-hostbound-v00@openssh.com"
// one, which adds the server's host key before the signature.
type PublicKeyRequest struct {
	// Hostbound is not sent: the method name says it. It decides whether
	// HostKey is part of the encoding.
	Hostbound    bool
	HasSignature bool
	Algorithm    []byte
	PublicKey    []byte
	HostKey      []byte // Hostbound only
	Signature    []byte // HasSignature only
}

// Len returns the encoded length.
func (m *PublicKeyRequest) Len() int {
	n := 1 + 4 + len(m.Algorithm) + 4 + len(m.PublicKey)
	if m.Hostbound {
		n += 4 + len(m.HostKey)
	}
	if m.HasSignature {
		n += 4 + len(m.Signature)
	}
	return n
}

// Append appends the fields.
func (m *PublicKeyRequest) Append(dst []byte) []byte {
	dst = wire.AppendBool(dst, m.HasSignature)
	dst = wire.AppendString(dst, m.Algorithm)
	dst = wire.AppendString(dst, m.PublicKey)
	if m.Hostbound {
		dst = wire.AppendString(dst, m.HostKey)
	}
	if m.HasSignature {
		dst = wire.AppendString(dst, m.Signature)
	}
	return dst
}

// Parse decodes the fields of a request whose method is hostbound or
// not. The fields alias b.
func (m *PublicKeyRequest) Parse(b []byte, hostbound bool) error {
	r := wire.Reader(b)
	*m = PublicKeyRequest{Hostbound: hostbound}
	if !r.ReadBool(&m.HasSignature) || !r.ReadString(&m.Algorithm) || !r.ReadString(&m.PublicKey) {
		return wire.ErrMalformed
	}
	if hostbound && !r.ReadString(&m.HostKey) {
		return wire.ErrMalformed
	}
	if m.HasSignature && !r.ReadString(&m.Signature) {
		return wire.ErrMalformed
	}
	if !r.Empty() {
		return wire.ErrMalformed
	}
	return nil
}

// PasswordRequest holds the method-specific fields of a "password"
// request (RFC 4252 §8).
type PasswordRequest struct {
	// Change is true when the client sends a new password as well.
	Change      bool
	Password    []byte // ISO-10646 UTF-8
	NewPassword []byte // Change only
}

// Len returns the encoded length.
func (m *PasswordRequest) Len() int {
	n := 1 + 4 + len(m.Password)
	if m.Change {
		n += 4 + len(m.NewPassword)
	}
	return n
}

// Append appends the fields.
func (m *PasswordRequest) Append(dst []byte) []byte {
	dst = wire.AppendBool(dst, m.Change)
	dst = wire.AppendString(dst, m.Password)
	if m.Change {
		dst = wire.AppendString(dst, m.NewPassword)
	}
	return dst
}

// Parse decodes the fields. They alias b.
func (m *PasswordRequest) Parse(b []byte) error {
	r := wire.Reader(b)
	*m = PasswordRequest{}
	if !r.ReadBool(&m.Change) || !r.ReadString(&m.Password) {
		return wire.ErrMalformed
	}
	if m.Change && !r.ReadString(&m.NewPassword) {
		return wire.ErrMalformed
	}
	if !r.Empty() {
		return wire.ErrMalformed
	}
	return nil
}

// KeyboardInteractiveRequest holds the method-specific fields of a
// "keyboard-interactive" request (RFC 4256 §3.1).
type KeyboardInteractiveRequest struct {
	Language   []byte // deprecated, empty
	Submethods []byte
}

// Len returns the encoded length.
func (m *KeyboardInteractiveRequest) Len() int { return 4 + len(m.Language) + 4 + len(m.Submethods) }

// Append appends the fields.
func (m *KeyboardInteractiveRequest) Append(dst []byte) []byte {
	return wire.AppendString(wire.AppendString(dst, m.Language), m.Submethods)
}

// Parse decodes the fields. They alias b.
func (m *KeyboardInteractiveRequest) Parse(b []byte) error {
	r := wire.Reader(b)
	if !r.ReadString(&m.Language) || !r.ReadString(&m.Submethods) || !r.Empty() {
		return wire.ErrMalformed
	}
	return nil
}
