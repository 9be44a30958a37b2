// Package kex implements SSH key exchange methods and key derivation:
// curve25519-sha256 (RFC 8731), ecdh-sha2-nistp256/384/521 (RFC 5656),
// diffie-hellman-group14-sha256, -group16-sha512 and -group18-sha512
// (RFC 8268), diffie-hellman-group-exchange-sha256 (RFC 4419) and
// mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex), with the key
// derivation of RFC 4253 §7.2.
//
// A Method exchanges its messages through a PacketConn and knows nothing
// of host key types: the server side is handed its host key blob and a
// signing function, the client side returns the host key and signature
// for the transport to check.
package kex

import (
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"strconv"

	"github.com/zerossh/zerossh/wire"
)

// PacketConn carries the key exchange method's messages (numbers 30-49).
// ReadPacket returns the next payload, which aliases a buffer that is
// valid until the next ReadPacket.
type PacketConn interface {
	WritePacket(payload []byte) error
	ReadPacket() ([]byte, error)
}

// Magics are the values both sides hash into the exchange hash besides the
// method's own (RFC 4253 §8): the version strings without CR LF and the
// KEXINIT payloads as sent.
type Magics struct {
	ClientVersion []byte
	ServerVersion []byte
	ClientKexInit []byte
	ServerKexInit []byte
}

// Result is the outcome of a key exchange.
type Result struct {
	// H is the exchange hash.
	H []byte
	// K is the shared secret, encoded as the method hashes it (an mpint
	// for most methods, a string for mlkem768x25519-sha256), ready for
	// DeriveKey.
	K []byte
	// Hash is the method's hash function.
	Hash crypto.Hash
	// HostKey is the server's public host key blob (K_S).
	HostKey []byte
	// Signature is the server's signature over H, as sent. The client
	// checks it; on the server it is what was sent.
	Signature []byte
}

// Signer signs the exchange hash with the server's host key and returns
// the signature blob as it goes on the wire.
type Signer func(h []byte) ([]byte, error)

// Method is one key exchange method.
type Method interface {
	// Name is the method's name in KEXINIT.
	Name() string
	// Client runs the client's side of the exchange.
	Client(c PacketConn, rand io.Reader, m *Magics) (*Result, error)
	// Server runs the server's side; hostKey is K_S.
	Server(c PacketConn, rand io.Reader, m *Magics, hostKey []byte, sign Signer) (*Result, error)
}

// Names of the key exchange methods this package implements.
const (
	MLKEM768X25519SHA256   = "mlkem768x25519-sha256"
	Curve25519SHA256       = "curve25519-sha256"
	Curve25519SHA256LibSSH = "curve25519-sha256@libssh.org"
	ECDHSHA2NISTP256       = "ecdh-sha2-nistp256"
	ECDHSHA2NISTP384       = "ecdh-sha2-nistp384"
	ECDHSHA2NISTP521       = "ecdh-sha2-nistp521"
	DHGroupExchangeSHA256  = "diffie-hellman-group-exchange-sha256"
	DHGroup14SHA256        = "diffie-hellman-group14-sha256"
	DHGroup16SHA512        = "diffie-hellman-group16-sha512"
	DHGroup18SHA512        = "diffie-hellman-group18-sha512"
)

// Default is the preference order a client or server offers: the hybrid
// post-quantum method first, then the elliptic curves, then the finite
// field groups, with the 2048-bit group14 last.
var Default = []string{
	MLKEM768X25519SHA256,
	Curve25519SHA256,
	Curve25519SHA256LibSSH,
	ECDHSHA2NISTP256,
	ECDHSHA2NISTP384,
	ECDHSHA2NISTP521,
	DHGroupExchangeSHA256,
	DHGroup16SHA512,
	DHGroup18SHA512,
	DHGroup14SHA256,
}

// All lists every method Lookup knows, in the order of Default.
var All = []string{
	MLKEM768X25519SHA256,
	Curve25519SHA256,
	Curve25519SHA256LibSSH,
	ECDHSHA2NISTP256,
	ECDHSHA2NISTP384,
	ECDHSHA2NISTP521,
	DHGroupExchangeSHA256,
	DHGroup16SHA512,
	DHGroup18SHA512,
	DHGroup14SHA256,
}

var methods = map[string]Method{
	MLKEM768X25519SHA256:   mlkem768x25519,
	Curve25519SHA256:       curve25519,
	Curve25519SHA256LibSSH: curve25519LibSSH,
	ECDHSHA2NISTP256:       nistp256,
	ECDHSHA2NISTP384:       nistp384,
	ECDHSHA2NISTP521:       nistp521,
	DHGroupExchangeSHA256:  DHGroupExchange{Min: GEXMin, Preferred: GEXPreferred, Max: GEXMax},
	DHGroup14SHA256:        dhGroup14SHA256,
	DHGroup16SHA512:        dhGroup16SHA512,
	DHGroup18SHA512:        dhGroup18SHA512,
}

// Lookup returns the method called name in KEXINIT.
func Lookup(name string) (Method, bool) {
	m, ok := methods[name]
	return m, ok
}

// UnexpectedMessageError is returned when the peer sends a message whose
// number is not the one the method's next step expects.
type UnexpectedMessageError struct {
	Got, Want byte
}

// Error implements error.
func (e *UnexpectedMessageError) Error() string {
	return "kex: unexpected message " + strconv.Itoa(int(e.Got)) + ", want " + strconv.Itoa(int(e.Want))
}

// malformedError describes a peer message that does not decode as the
// message it should be; it unwraps to wire.ErrMalformed.
type malformedError struct{ what string }

func (e *malformedError) Error() string { return "kex: malformed " + e.what }
func (e *malformedError) Unwrap() error { return wire.ErrMalformed }

func errMalformed(what string) error { return &malformedError{what} }

var errNilMagics = errors.New("kex: nil Magics")

// readMsg reads the next packet and checks its message number. The
// returned Reader holds the rest of the payload and aliases the
// connection's buffer until the next ReadPacket.
func readMsg(c PacketConn, want byte) (wire.Reader, error) {
	p, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errMalformed("empty packet")
	}
	if p[0] != want {
		return nil, &UnexpectedMessageError{Got: p[0], Want: want}
	}
	return wire.Reader(p[1:]), nil
}

// randOrDefault returns r, or crypto/rand.Reader when r is nil.
func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// transcript accumulates the exchange hash H (RFC 4253 §8): the fields
// every method shares, then the method's own, each in its wire encoding.
type transcript struct {
	h   hash.Hash
	buf [5]byte
}

func newTranscript(h crypto.Hash, m *Magics) *transcript {
	t := &transcript{h: h.New()}
	t.string(m.ClientVersion)
	t.string(m.ServerVersion)
	t.string(m.ClientKexInit)
	t.string(m.ServerKexInit)
	return t
}

// string hashes b as an SSH string.
func (t *transcript) string(b []byte) {
	binary.BigEndian.PutUint32(t.buf[:4], uint32(len(b)))
	t.h.Write(t.buf[:4])
	t.h.Write(b)
}

// uint32 hashes v as an SSH uint32.
func (t *transcript) uint32(v uint32) {
	binary.BigEndian.PutUint32(t.buf[:4], v)
	t.h.Write(t.buf[:4])
}

// mpint hashes the unsigned big-endian magnitude as an SSH mpint, the
// same bytes wire.AppendMpint would produce.
func (t *transcript) mpint(magnitude []byte) {
	for len(magnitude) > 0 && magnitude[0] == 0 {
		magnitude = magnitude[1:]
	}
	n := len(magnitude)
	pad := n > 0 && magnitude[0]&0x80 != 0
	if pad {
		n++
		t.buf[4] = 0
	}
	binary.BigEndian.PutUint32(t.buf[:4], uint32(n))
	if pad {
		t.h.Write(t.buf[:5])
	} else {
		t.h.Write(t.buf[:4])
	}
	t.h.Write(magnitude)
}

// raw hashes bytes that are already encoded, such as K.
func (t *transcript) raw(b []byte) { t.h.Write(b) }

func (t *transcript) sum() []byte { return t.h.Sum(nil) }
