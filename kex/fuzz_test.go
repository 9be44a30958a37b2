package kex

import (
	"bytes"
	"testing"

	"github.com/zerossh/zerossh/wire"
)

// The methods the one-message fuzz targets drive. group18 is left out:
// it runs the same code as group14 and group16, and an 8192-bit
// exponentiation per input would slow the fuzzer a hundredfold.
var fuzzMethods = []string{
	MLKEM768X25519SHA256,
	Curve25519SHA256,
	ECDHSHA2NISTP256,
	ECDHSHA2NISTP384,
	ECDHSHA2NISTP521,
	DHGroup14SHA256,
	DHGroup16SHA512,
}

func checkResult(t *testing.T, res *Result) {
	t.Helper()
	if len(res.H) != res.Hash.Size() || len(res.K) < 5 {
		t.Fatalf("result with %d-byte H, %d-byte K", len(res.H), len(res.K))
	}
}

// FuzzClientReply feeds arbitrary bytes to a client as the server's reply.
// The client must never panic, and the recorded reply must complete with
// the recorded H and K.
func FuzzClientReply(f *testing.F) {
	for i, name := range fuzzMethods {
		v := validExchange(f, name)
		reply := v.client.received[0]
		f.Add(uint8(i), reply)
		f.Add(uint8(i), reply[:len(reply)/2])
		f.Add(uint8(i), []byte{wire.MsgKexECDHReply})
	}
	f.Fuzz(func(t *testing.T, method uint8, reply []byte) {
		name := fuzzMethods[int(method)%len(fuzzMethods)]
		v := validExchange(t, name)
		res, err := v.m.Client(&scriptConn{reads: [][]byte{reply}}, newTestRand(v.seed), testMagics)
		if bytes.Equal(reply, v.client.received[0]) {
			if err != nil {
				t.Fatalf("%s: recorded reply failed: %v", name, err)
			}
			if !bytes.Equal(res.H, v.h) || !bytes.Equal(res.K, v.k) {
				t.Fatalf("%s: recorded reply gave another H or K", name)
			}
		}
		if err == nil {
			checkResult(t, res)
		}
	})
}

// FuzzServerInit feeds arbitrary bytes to a server as the client's first
// message. The server must never panic, must reply only when it succeeds,
// and must complete on the recorded message.
func FuzzServerInit(f *testing.F) {
	for i, name := range fuzzMethods {
		v := validExchange(f, name)
		init := v.client.sent[0]
		f.Add(uint8(i), init)
		f.Add(uint8(i), init[:len(init)-1])
		f.Add(uint8(i), []byte{wire.MsgKexECDHInit, 0, 0, 0, 0})
	}
	f.Fuzz(func(t *testing.T, method uint8, init []byte) {
		name := fuzzMethods[int(method)%len(fuzzMethods)]
		v := validExchange(t, name)
		s := &scriptConn{reads: [][]byte{init}}
		res, err := v.m.Server(s, newTestRand(1), testMagics, testHostPub, (&testSigner{}).sign)
		if bytes.Equal(init, v.client.sent[0]) && err != nil {
			t.Fatalf("%s: recorded init failed: %v", name, err)
		}
		if err != nil {
			if len(s.writes) != 0 {
				t.Fatalf("%s: replied and failed: %v", name, err)
			}
			return
		}
		checkResult(t, res)
		if len(s.writes) != 1 || s.writes[0][0] != wire.MsgKexECDHReply {
			t.Fatalf("%s: %d packets written", name, len(s.writes))
		}
	})
}

// FuzzGEXClient feeds arbitrary bytes to a group exchange client as the
// server's group and reply.
func FuzzGEXClient(f *testing.F) {
	v := validExchange(f, DHGroupExchangeSHA256)
	group, reply := v.client.received[0], v.client.received[1]
	f.Add(group, reply)
	f.Add(group, reply[:len(reply)-1])
	f.Add(group[:len(group)-1], reply)
	f.Add(gexGroup(group15.p, group15.g), reply)
	f.Fuzz(func(t *testing.T, group, reply []byte) {
		v := validExchange(t, DHGroupExchangeSHA256)
		c := &scriptConn{reads: [][]byte{group, reply}}
		res, err := v.m.Client(c, newTestRand(v.seed), testMagics)
		if bytes.Equal(group, v.client.received[0]) && bytes.Equal(reply, v.client.received[1]) {
			if err != nil {
				t.Fatalf("recorded messages failed: %v", err)
			}
			if !bytes.Equal(res.H, v.h) || !bytes.Equal(res.K, v.k) {
				t.Fatal("recorded messages gave another H or K")
			}
		}
		if err == nil {
			checkResult(t, res)
		}
	})
}

// FuzzGEXServer feeds arbitrary bytes to a group exchange server as the
// client's request and init.
func FuzzGEXServer(f *testing.F) {
	v := validExchange(f, DHGroupExchangeSHA256)
	req, init := v.client.sent[0], v.client.sent[1]
	f.Add(req, init)
	f.Add(req[:len(req)-1], init)
	f.Add(req, init[:len(init)-1])
	f.Add(wire.AppendUint32(wire.AppendUint32(wire.AppendUint32([]byte{wire.MsgKexDHGexRequest}, 1024), 1024), 1024), init)
	f.Fuzz(func(t *testing.T, req, init []byte) {
		v := validExchange(t, DHGroupExchangeSHA256)
		s := &scriptConn{reads: [][]byte{req, init}}
		res, err := v.m.Server(s, newTestRand(1), testMagics, testHostPub, (&testSigner{}).sign)
		if bytes.Equal(req, v.client.sent[0]) && bytes.Equal(init, v.client.sent[1]) && err != nil {
			t.Fatalf("recorded messages failed: %v", err)
		}
		if err == nil {
			checkResult(t, res)
			if len(s.writes) != 2 {
				t.Fatalf("%d packets written", len(s.writes))
			}
		}
	})
}
