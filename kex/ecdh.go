package kex

import (
	"crypto"
	"crypto/ecdh"
	"errors"
	"io"

	"github.com/zerossh/zerossh/wire"
)

// kem is the arithmetic of a method with the message shape of RFC 5656
// §4: the client sends one public value, the server answers with its own,
// and both derive K. curve25519-sha256 (RFC 8731 §3) and
// mlkem768x25519-sha256 reuse that shape with other values in the strings.
type kem interface {
	// clientKey makes the client's ephemeral key. It returns the value
	// to send (Q_C or C_INIT) and a function that, given the server's
	// value (Q_S or S_REPLY), returns K encoded as the method hashes it.
	clientKey(rand io.Reader) (pub []byte, finish func(peer []byte) ([]byte, error), err error)
	// serverKey makes the server's ephemeral key. It returns a function
	// that answers the client's value with the server's value and K.
	serverKey(rand io.Reader) (answer func(peer []byte) (pub, k []byte, err error), err error)
}

// oneRound runs a kem over SSH_MSG_KEX_ECDH_INIT (30) and
// SSH_MSG_KEX_ECDH_REPLY (31), RFC 5656 §4:
//
//	byte   SSH_MSG_KEX_ECDH_INIT
//	string Q_C
//
//	byte   SSH_MSG_KEX_ECDH_REPLY
//	string K_S
//	string Q_S
//	string the signature on the exchange hash
//
// with H = HASH(V_C || V_S || I_C || I_S || K_S || Q_C || Q_S || K).
type oneRound struct {
	name string
	hash crypto.Hash
	kem  kem
}

var (
	_ Method = (*oneRound)(nil)

	nistp256 = &oneRound{name: ECDHSHA2NISTP256, hash: crypto.SHA256, kem: nistKEM{ecdh.P256(), 32}}
	nistp384 = &oneRound{name: ECDHSHA2NISTP384, hash: crypto.SHA384, kem: nistKEM{ecdh.P384(), 48}}
	nistp521 = &oneRound{name: ECDHSHA2NISTP521, hash: crypto.SHA512, kem: nistKEM{ecdh.P521(), 66}}
)

func (m *oneRound) Name() string { return m.name }

func (m *oneRound) Client(c PacketConn, rand io.Reader, magics *Magics) (*Result, error) {
	key, err := m.prepare(rand)
	if err != nil {
		return nil, err
	}
	return key.Client(c, magics)
}

func (m *oneRound) prepare(rand io.Reader) (*ClientKey, error) {
	pub, finish, err := m.kem.clientKey(randOrDefault(rand))
	if err != nil {
		return nil, err
	}
	return &ClientKey{m: m, pub: pub, finish: finish}, nil
}

// ClientKey is a client's ephemeral key made before the key exchange
// begins, for one method. A client knows the method it prefers as it
// sends its KEXINIT, and making the key while the server's KEXINIT is on
// its way takes that work off the exchange's critical path.
type ClientKey struct {
	m      *oneRound
	pub    []byte
	finish func(peer []byte) ([]byte, error)
	used   bool
}

// PrepareClient makes the client's ephemeral key for m ahead of the
// exchange: for the methods of the ECDH message shape (curve25519,
// mlkem768x25519, NIST curves). It returns nil for the finite-field
// methods.
func PrepareClient(m Method, rand io.Reader) (*ClientKey, error) {
	o, ok := m.(*oneRound)
	if !ok {
		return nil, nil
	}
	return o.prepare(rand)
}

// Method returns the name of the method the key is for.
func (k *ClientKey) Method() string { return k.m.name }

// Client runs the client's side of the exchange with the prepared key.
// A key serves one exchange.
func (k *ClientKey) Client(c PacketConn, magics *Magics) (*Result, error) {
	m := k.m
	if magics == nil {
		return nil, errNilMagics
	}
	if k.used {
		return nil, errKeyUsed
	}
	k.used = true
	pub := k.pub
	msg := make([]byte, 0, 1+4+len(pub))
	msg = wire.AppendString(append(msg, wire.MsgKexECDHInit), pub)
	if err := c.WritePacket(msg); err != nil {
		return nil, err
	}

	r, err := readMsg(c, wire.MsgKexECDHReply)
	if err != nil {
		return nil, err
	}
	var hostKey, peer, sig []byte
	if !r.ReadString(&hostKey) || !r.ReadString(&peer) || !r.ReadString(&sig) || !r.Empty() {
		return nil, errMalformed(m.name + " reply")
	}
	k2, err := k.finish(peer)
	if err != nil {
		return nil, err
	}
	t := newTranscript(m.hash, magics)
	t.string(hostKey)
	t.string(pub)
	t.string(peer)
	t.raw(k2)
	return &Result{
		H:         t.sum(),
		K:         k2,
		Hash:      m.hash,
		HostKey:   clone(hostKey),
		Signature: clone(sig),
	}, nil
}

func (m *oneRound) Server(c PacketConn, rand io.Reader, magics *Magics, hostKey []byte, sign Signer) (*Result, error) {
	if magics == nil {
		return nil, errNilMagics
	}
	// The key is made before the client's value is read: the client is
	// making its own meanwhile, so the two run at once, and a handshake
	// takes one key generation less from start to end.
	answer, err := m.kem.serverKey(randOrDefault(rand))
	if err != nil {
		return nil, err
	}
	r, err := readMsg(c, wire.MsgKexECDHInit)
	if err != nil {
		return nil, err
	}
	var peer []byte
	if !r.ReadString(&peer) || !r.Empty() {
		return nil, errMalformed(m.name + " init")
	}
	pub, k, err := answer(peer)
	if err != nil {
		return nil, err
	}
	t := newTranscript(m.hash, magics)
	t.string(hostKey)
	t.string(peer)
	t.string(pub)
	t.raw(k)
	h := t.sum()
	sig, err := sign(h)
	if err != nil {
		return nil, err
	}

	msg := make([]byte, 0, 1+4+len(hostKey)+4+len(pub)+4+len(sig))
	msg = append(msg, wire.MsgKexECDHReply)
	msg = wire.AppendString(msg, hostKey)
	msg = wire.AppendString(msg, pub)
	msg = wire.AppendString(msg, sig)
	if err := c.WritePacket(msg); err != nil {
		return nil, err
	}
	return &Result{H: h, K: k, Hash: m.hash, HostKey: hostKey, Signature: sig}, nil
}

// nistKEM is ECDH on a NIST curve (RFC 5656 §4). Public values are
// uncompressed points (SEC 1 §2.3.3, RFC 5656 §3.1) and K is the mpint of
// the shared point's x-coordinate.
type nistKEM struct {
	curve ecdh.Curve
	size  int // bytes of a field element
}

var errNISTPoint = errors.New("kex: peer's ECDH public key is not a point on the curve")

func (n nistKEM) pointLen() int { return 1 + 2*n.size }

func (n nistKEM) clientKey(rand io.Reader) ([]byte, func([]byte) ([]byte, error), error) {
	priv, err := n.newKey(rand)
	if err != nil {
		return nil, nil, err
	}
	return priv.PublicKey().Bytes(), func(peer []byte) ([]byte, error) { return n.shared(priv, peer) }, nil
}

func (n nistKEM) serverKey(rand io.Reader) (func([]byte) ([]byte, []byte, error), error) {
	priv, err := n.newKey(rand)
	if err != nil {
		return nil, err
	}
	return func(peer []byte) ([]byte, []byte, error) {
		k, err := n.shared(priv, peer)
		if err != nil {
			return nil, nil, err
		}
		return priv.PublicKey().Bytes(), k, nil
	}, nil
}

// publicKey decodes and validates a peer's point. RFC 5656 §4: "All
// elliptic curve public keys MUST be validated after they are received.
// [...] If a key fails validation, the key exchange MUST fail."
// crypto/ecdh checks that the coordinates are below p and the point is on
// the curve; a point of another length or form, including the point at
// infinity, does not decode at all.
func (n nistKEM) publicKey(peer []byte) (*ecdh.PublicKey, error) {
	if len(peer) != n.pointLen() || peer[0] != 4 {
		return nil, errMalformed("ECDH public key")
	}
	pk, err := n.curve.NewPublicKey(peer)
	if err != nil {
		return nil, errNISTPoint
	}
	return pk, nil
}

func (n nistKEM) shared(priv *ecdh.PrivateKey, peer []byte) ([]byte, error) {
	pk, err := n.publicKey(peer)
	if err != nil {
		return nil, err
	}
	return n.agree(priv, pk)
}

func (n nistKEM) agree(priv *ecdh.PrivateKey, pk *ecdh.PublicKey) ([]byte, error) {
	x, err := priv.ECDH(pk)
	if err != nil {
		return nil, err
	}
	k := wire.AppendMpint(nil, x)
	clear(x)
	return k, nil
}

// newKey draws a private scalar from rand: a field-sized string with the
// bits above the order's length cleared, retried until crypto/ecdh accepts
// it as a non-zero value below the order (SEC 1 §3.2.1). Reading from
// rand, rather than leaving crypto/ecdh to its own source, keeps a run
// with a fixed rand reproducible.
func (n nistKEM) newKey(rand io.Reader) (*ecdh.PrivateKey, error) {
	b := make([]byte, n.size)
	defer clear(b)
	for range 64 {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, err
		}
		if n.size == 66 {
			b[0] &= 1 // P-521: 521 bits in 66 bytes
		}
		if k, err := n.curve.NewPrivateKey(b); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("kex: could not draw an ECDH private key")
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
