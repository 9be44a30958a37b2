package kex

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/zerossh/zerossh/wire"
)

// The group sizes, in bits, a client asks for by default.
//
// GEXMin and GEXMax are the values RFC 8270 §3 recommends for min and max.
// GEXPreferred asks for a 3072-bit group, the smallest with 128-bit
// security (NIST SP 800-57 Part 1, Table 2), which matches the methods
// preferred before this one (X25519, P-256) and costs a third of a 4096-bit
// group's exponentiations. OpenSSH asks for 8192 bits whenever the
// negotiated cipher has a 256-bit key; a caller that wants that sets
// Preferred.
const (
	GEXMin       = 2048
	GEXPreferred = 3072
	GEXMax       = 8192
)

// DHGroupExchange is diffie-hellman-group-exchange-sha256 (RFC 4419, with
// the sizes of RFC 8270). The client asks for a group of Min to Max bits,
// Preferred if possible:
//
//	byte   SSH_MSG_KEX_DH_GEX_REQUEST (34)
//	uint32 min, n, max
//
//	byte   SSH_MSG_KEX_DH_GEX_GROUP (31)
//	mpint  p, g
//
//	byte   SSH_MSG_KEX_DH_GEX_INIT (32)
//	mpint  e
//
//	byte   SSH_MSG_KEX_DH_GEX_REPLY (33)
//	string K_S
//	mpint  f
//	string the signature on the exchange hash
//
// with H = SHA256(V_C || V_S || I_C || I_S || K_S || min || n || max || p
// || g || e || f || K). The server ignores the fields and offers, from the
// RFC 3526 groups 14 to 18 (2048 to 8192 bits), the one closest to the
// client's n within [min, max]. SSH_MSG_KEX_DH_GEX_REQUEST_OLD (30) is not
// supported.
type DHGroupExchange struct {
	Min, Preferred, Max uint32
}

var _ Method = DHGroupExchange{}

// Name returns "diffie-hellman-group-exchange-sha256".
func (DHGroupExchange) Name() string { return DHGroupExchangeSHA256 }

const gexHash = crypto.SHA256

var (
	errGEXNoGroup = errors.New("kex: no Diffie-Hellman group within the client's [min, max]")
	errGEXRequest = errors.New("kex: group exchange request with min <= n <= max violated")
)

type gexRequest struct{ min, n, max uint32 }

func (q gexRequest) exchangeHash(magics *Magics, gr *dhGroup, ex *dhExchange) []byte {
	t := newTranscript(gexHash, magics)
	t.string(ex.hostKey)
	t.uint32(q.min)
	t.uint32(q.n)
	t.uint32(q.max)
	t.mpint(gr.p.Bytes())
	t.mpint(gr.g.Bytes())
	t.mpint(ex.e)
	t.mpint(ex.f)
	t.raw(ex.k)
	return t.sum()
}

// Client runs the client's side. It refuses a Min below 2048, since RFC
// 8270 §3 says a group SHOULD have at least 2048 bits, and a request
// without Min <= Preferred <= Max.
func (m DHGroupExchange) Client(c PacketConn, rand io.Reader, magics *Magics) (*Result, error) {
	if magics == nil {
		return nil, errNilMagics
	}
	q := gexRequest{min: m.Min, n: m.Preferred, max: m.Max}
	if q.min < GEXMin || q.min > q.n || q.n > q.max {
		return nil, fmt.Errorf("kex: group exchange request (%d, %d, %d) is not 2048 <= min <= n <= max",
			q.min, q.n, q.max)
	}
	msg := make([]byte, 0, 1+12)
	msg = append(msg, wire.MsgKexDHGexRequest)
	msg = wire.AppendUint32(msg, q.min)
	msg = wire.AppendUint32(msg, q.n)
	msg = wire.AppendUint32(msg, q.max)
	if err := c.WritePacket(msg); err != nil {
		return nil, err
	}

	r, err := readMsg(c, wire.MsgKexDHGexGroup)
	if err != nil {
		return nil, err
	}
	var pb, gb []byte
	if !r.ReadMpint(&pb) || !r.ReadMpint(&gb) || !r.Empty() {
		return nil, errMalformed("group exchange group")
	}
	gr, err := q.checkGroup(pb, gb)
	if err != nil {
		return nil, err
	}

	ex, err := dhClient(c, rand, gr, wire.MsgKexDHGexInit, wire.MsgKexDHGexReply, DHGroupExchangeSHA256)
	if err != nil {
		return nil, err
	}
	return &Result{
		H:         q.exchangeHash(magics, gr, ex),
		K:         ex.k,
		Hash:      gexHash,
		HostKey:   ex.hostKey,
		Signature: ex.sig,
	}, nil
}

// checkGroup accepts the server's group only if p has between min and max
// bits, as the client asked (RFC 4419 §3), and is odd, and 1 < g < p-1.
// It does not test p for primality: that costs more than the exchange,
// and a server that picks a bad group can give away the key anyway.
func (q gexRequest) checkGroup(pb, gb []byte) (*dhGroup, error) {
	p := new(big.Int).SetBytes(pb)
	if bits := uint32(p.BitLen()); bits < q.min || bits > q.max {
		return nil, fmt.Errorf("kex: server's group has %d bits, asked for %d to %d", bits, q.min, q.max)
	}
	if p.Bit(0) == 0 {
		return nil, errors.New("kex: server's group modulus is even")
	}
	gr := &dhGroup{p: p, pMinus1: new(big.Int).Sub(p, bigOne), g: new(big.Int).SetBytes(gb)}
	if gr.g.Cmp(bigOne) <= 0 || gr.g.Cmp(gr.pMinus1) >= 0 {
		return nil, errors.New("kex: server's group generator out of range (1, p-1)")
	}
	return gr, nil
}

// Server runs the server's side.
func (m DHGroupExchange) Server(c PacketConn, rand io.Reader, magics *Magics, hostKey []byte, sign Signer) (*Result, error) {
	if magics == nil {
		return nil, errNilMagics
	}
	r, err := readMsg(c, wire.MsgKexDHGexRequest)
	if err != nil {
		return nil, err
	}
	var q gexRequest
	if !r.ReadUint32(&q.min) || !r.ReadUint32(&q.n) || !r.ReadUint32(&q.max) || !r.Empty() {
		return nil, errMalformed("group exchange request")
	}
	gr, err := chooseGroup(q)
	if err != nil {
		return nil, err
	}
	pb, gb := gr.p.Bytes(), gr.g.Bytes()
	msg := make([]byte, 0, 1+4+1+len(pb)+4+1+len(gb))
	msg = append(msg, wire.MsgKexDHGexGroup)
	msg = wire.AppendMpint(msg, pb)
	msg = wire.AppendMpint(msg, gb)
	if err := c.WritePacket(msg); err != nil {
		return nil, err
	}

	ex, h, err := dhServer(c, rand, gr, wire.MsgKexDHGexInit, wire.MsgKexDHGexReply, DHGroupExchangeSHA256,
		hostKey, sign, func(ex *dhExchange) []byte { return q.exchangeHash(magics, gr, ex) })
	if err != nil {
		return nil, err
	}
	return &Result{H: h, K: ex.k, Hash: gexHash, HostKey: hostKey, Signature: ex.sig}, nil
}

// chooseGroup picks the group closest in size to n among those within
// [min, max], the larger on a tie (RFC 4419 §3 has the server pick the
// group that best matches the request). A request it cannot meet fails
// the exchange.
func chooseGroup(q gexRequest) (*dhGroup, error) {
	if q.min > q.n || q.n > q.max {
		return nil, errGEXRequest
	}
	var best *dhGroup
	var bestDist uint32
	for _, gr := range modpGroups {
		bits := uint32(gr.p.BitLen())
		if bits < q.min || bits > q.max {
			continue
		}
		dist := max(bits, q.n) - min(bits, q.n)
		if best == nil || dist <= bestDist {
			best, bestDist = gr, dist
		}
	}
	if best == nil {
		return nil, errGEXNoGroup
	}
	return best, nil
}
