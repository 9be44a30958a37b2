package kex

import (
	"bytes"
	"crypto/ecdh"
	"errors"
	"testing"

	"github.com/zerossh/zerossh/wire"
)

var nistMethods = []struct {
	name  string
	curve ecdh.Curve
	size  int
}{
	{ECDHSHA2NISTP256, ecdh.P256(), 32},
	{ECDHSHA2NISTP384, ecdh.P384(), 48},
	{ECDHSHA2NISTP521, ecdh.P521(), 66},
}

// TestNISTInit checks that the client sends an uncompressed point (RFC
// 5656 §3.1: 0x04 || x || y) of its curve.
func TestNISTInit(t *testing.T) {
	for _, v := range nistMethods {
		m, _ := Lookup(v.name)
		c := &scriptConn{}
		m.Client(c, nil, testMagics)
		r := wire.Reader(c.writes[0][1:])
		var q []byte
		if c.writes[0][0] != wire.MsgKexECDHInit || !r.ReadString(&q) || !r.Empty() {
			t.Fatalf("%s: init %x", v.name, c.writes[0])
		}
		if _, err := v.curve.NewPublicKey(q); err != nil || len(q) != 1+2*v.size || q[0] != 4 {
			t.Errorf("%s: Q_C %x (%v) is not an uncompressed point", v.name, q, err)
		}
	}
}

// TestNISTK checks that K is the mpint of the x-coordinate of the shared
// point (RFC 5656 §4), as crypto/ecdh computes it from the client's key.
func TestNISTK(t *testing.T) {
	for _, v := range nistMethods {
		m, _ := Lookup(v.name)
		peer, _ := v.curve.GenerateKey(nil)
		res, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(peer.PublicKey().Bytes())}}, newTestRand(5), testMagics)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		// The client's key is the first draw from its rand (a draw is
		// rejected with probability below 2^-32).
		b := make([]byte, v.size)
		newTestRand(5).Read(b)
		if v.size == 66 {
			b[0] &= 1
		}
		priv, err := v.curve.NewPrivateKey(b)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := priv.ECDH(peer.PublicKey())
		if want := wire.AppendMpint(nil, x); !bytes.Equal(res.K, want) {
			t.Errorf("%s: K %x; want %x", v.name, res.K, want)
		}
	}
}

func TestNISTBadPoints(t *testing.T) {
	for _, v := range nistMethods {
		m, _ := Lookup(v.name)
		good, _ := v.curve.GenerateKey(nil)
		q := good.PublicKey().Bytes()
		compressed := append([]byte{2 + q[len(q)-1]&1}, q[1:1+v.size]...)
		hybrid := append([]byte{6}, q[1:]...)
		offCurve := append([]byte{4}, bytes.Repeat([]byte{1}, 2*v.size)...)
		outOfField := append([]byte{4}, bytes.Repeat([]byte{0xff}, 2*v.size)...)
		for _, c := range []struct {
			what      string
			q         []byte
			malformed bool
		}{
			{"empty", nil, true},
			{"infinity", []byte{0}, true},
			{"compressed", compressed, true},
			{"hybrid form", hybrid, true},
			{"short", q[:len(q)-1], true},
			{"long", append(bytes.Clone(q), 0), true},
			{"off the curve", offCurve, false},
			{"coordinates beyond p", outOfField, false},
		} {
			check := func(side string, err error) {
				t.Helper()
				if c.malformed && !errors.Is(err, wire.ErrMalformed) {
					t.Errorf("%s %s, %s point: %v; want ErrMalformed", v.name, side, c.what, err)
				}
				if !c.malformed && !isPlainFailure(err) {
					t.Errorf("%s %s, %s point: %v; want a key exchange failure", v.name, side, c.what, err)
				}
			}
			_, err := m.Client(&scriptConn{reads: [][]byte{ecdhReply(c.q)}}, nil, testMagics)
			check("client", err)
			_, err = m.Server(&scriptConn{reads: [][]byte{ecdhInit(c.q)}}, nil, testMagics, testHostPub, (&testSigner{}).sign)
			check("server", err)
		}
	}
}
