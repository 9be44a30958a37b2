package kex

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/zerossh/zerossh/wire"
)

func TestChooseGroup(t *testing.T) {
	for _, c := range []struct {
		min, n, max uint32
		bits        int
		err         error
	}{
		{2048, 2048, 2048, 2048, nil},
		{2048, 3072, 8192, 3072, nil},
		{2048, 4096, 8192, 4096, nil},
		{2048, 5000, 8192, 4096, nil},
		{2048, 5120, 8192, 6144, nil}, // a tie goes to the larger group
		{2048, 8192, 8192, 8192, nil},
		{1024, 2000, 4000, 2048, nil},
		{3000, 3000, 3500, 3072, nil},
		{2048, 16384, 16384, 8192, nil},
		{1024, 1024, 1024, 0, errGEXNoGroup},
		{1024, 1536, 2047, 0, errGEXNoGroup},
		{8193, 9000, 16384, 0, errGEXNoGroup},
		{0, 0, 0, 0, errGEXNoGroup},
		{3073, 3500, 4095, 0, errGEXNoGroup},
		{4096, 2048, 8192, 0, errGEXRequest},
		{2048, 8192, 4096, 0, errGEXRequest},
		{8192, 4096, 2048, 0, errGEXRequest},
	} {
		gr, err := chooseGroup(gexRequest{c.min, c.n, c.max})
		if err != c.err || (err == nil && gr.p.BitLen() != c.bits) {
			t.Errorf("chooseGroup(%d, %d, %d) = %v, %v; want %d bits, %v", c.min, c.n, c.max, gr, err, c.bits, c.err)
		}
	}
}

// TestGEXSizes runs the exchange for each preferred size and checks the
// group the server chose.
func TestGEXSizes(t *testing.T) {
	for _, n := range []uint32{2048, 3072, 4096, 6144, 8192} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			x := runPair(DHGroupExchange{Min: 2048, Preferred: n, Max: 8192}, nil, nil)
			if x.clientErr != nil || x.serverErr != nil {
				t.Fatalf("client: %v; server: %v", x.clientErr, x.serverErr)
			}
			checkExchange(t, DHGroupExchangeSHA256, x)
			r := wire.Reader(x.log.received[0][1:])
			var p []byte
			if !r.ReadMpint(&p) || new(big.Int).SetBytes(p).BitLen() != int(n) {
				t.Errorf("server sent a %d-bit group; want %d", new(big.Int).SetBytes(p).BitLen(), n)
			}
		})
	}
}

func TestGEXRequest(t *testing.T) {
	c := &scriptConn{}
	DHGroupExchange{Min: 2048, Preferred: 3072, Max: 8192}.Client(c, nil, testMagics)
	want := "22" + "00000800" + "00000c00" + "00002000"
	if len(c.writes) != 1 || fmt.Sprintf("%x", c.writes[0]) != want {
		t.Errorf("request %x; want %s", c.writes, want)
	}
	for _, m := range []DHGroupExchange{
		{Min: 1024, Preferred: 2048, Max: 8192}, // below RFC 8270's 2048
		{Min: 4096, Preferred: 3072, Max: 8192},
		{Min: 2048, Preferred: 8192, Max: 4096},
		{},
	} {
		c := &scriptConn{}
		if _, err := m.Client(c, nil, testMagics); err == nil || len(c.writes) != 0 {
			t.Errorf("%+v: %v, %d packets sent; want a refusal before sending", m, err, len(c.writes))
		}
	}
}

// gexGroup builds SSH_MSG_KEX_DH_GEX_GROUP (RFC 4419 §3).
func gexGroup(p, g *big.Int) []byte {
	m := wire.AppendMpint([]byte{wire.MsgKexDHGexGroup}, p.Bytes())
	return wire.AppendMpint(m, g.Bytes())
}

// oakley1024 is the 1024-bit Oakley group 2 prime (RFC 2409 §6.2),
// 2^1024 - 2^960 - 1 + 2^64 * ([2^894 pi] + 129093).
func oakley1024() *big.Int {
	p := new(big.Int).Lsh(bigOne, 1024)
	p.Sub(p, new(big.Int).Lsh(bigOne, 960))
	p.Sub(p, bigOne)
	mid := piBits(894)
	mid.Add(mid, big.NewInt(129093))
	return p.Add(p, mid.Lsh(mid, 64))
}

func TestGEXClientChecksGroup(t *testing.T) {
	p := group14.p
	two := big.NewInt(2)
	m := DHGroupExchange{Min: 2048, Preferred: 3072, Max: 4096}
	for _, c := range []struct {
		what string
		msg  []byte
	}{
		{"1024-bit group", gexGroup(oakley1024(), two)},
		{"8192-bit group above max", gexGroup(group18.p, two)},
		{"even modulus", gexGroup(new(big.Int).Add(p, bigOne), two)},
		{"g = 0", gexGroup(p, new(big.Int))},
		{"g = 1", gexGroup(p, bigOne)},
		{"g = p-1", gexGroup(p, group14.pMinus1)},
		{"g = p", gexGroup(p, p)},
	} {
		c2 := &scriptConn{reads: [][]byte{c.msg}}
		_, err := m.Client(c2, nil, testMagics)
		if !isPlainFailure(err) || len(c2.writes) != 1 {
			t.Errorf("%s: %v (%d packets sent); want a key exchange failure after the request", c.what, err, len(c2.writes))
		}
	}
	if oakley1024().BitLen() != 1024 || !oakley1024().ProbablyPrime(10) {
		t.Error("the 1024-bit test group is not a 1024-bit prime")
	}
	// A group exchange reply with f out of range.
	for _, f := range []*big.Int{new(big.Int), bigOne, group14.pMinus1, p} {
		reads := [][]byte{gexGroup(p, two), dhReply(wire.MsgKexDHGexReply, wire.AppendMpint(nil, f.Bytes())[4:])}
		_, err := m.Client(&scriptConn{reads: reads}, nil, testMagics)
		if !isPlainFailure(err) {
			t.Errorf("f = %v...: %v; want a key exchange failure", f.Text(16)[:min(8, len(f.Text(16)))], err)
		}
	}
}

func TestGEXServerRefuses(t *testing.T) {
	m, _ := Lookup(DHGroupExchangeSHA256)
	for _, q := range [][3]uint32{{1024, 1024, 1024}, {9000, 9000, 9000}, {4096, 2048, 8192}} {
		req := []byte{wire.MsgKexDHGexRequest}
		for _, v := range q {
			req = wire.AppendUint32(req, v)
		}
		s := &scriptConn{reads: [][]byte{req}}
		_, err := m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign)
		if !isPlainFailure(err) || len(s.writes) != 0 {
			t.Errorf("request %v: %v (%d written); want a key exchange failure", q, err, len(s.writes))
		}
	}
	// SSH_MSG_KEX_DH_GEX_REQUEST_OLD is not understood.
	s := &scriptConn{reads: [][]byte{wire.AppendUint32([]byte{30}, 2048)}}
	_, err := m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign)
	var ue *UnexpectedMessageError
	if !errors.As(err, &ue) || ue.Got != 30 || ue.Want != wire.MsgKexDHGexRequest {
		t.Errorf("REQUEST_OLD: %v; want UnexpectedMessageError{30, 34}", err)
	}
}
