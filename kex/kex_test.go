package kex

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zerossh/zerossh/wire"
)

// pipeConn is one end of an in-memory PacketConn pair. Every packet
// written is copied, so neither side can see the other's buffers change;
// the log, when set, records what went each way.
type pipeConn struct {
	in   <-chan []byte
	out  chan<- []byte
	done <-chan struct{}
	log  *packetLog
}

type packetLog struct {
	sent, received [][]byte
}

var errPipeClosed = errors.New("pipe closed")

func (c *pipeConn) WritePacket(p []byte) error {
	p = bytes.Clone(p)
	if c.log != nil {
		c.log.sent = append(c.log.sent, p)
	}
	select {
	case c.out <- p:
		return nil
	case <-c.done:
		return errPipeClosed
	}
}

func (c *pipeConn) ReadPacket() ([]byte, error) {
	select {
	case p := <-c.in:
		if c.log != nil {
			c.log.received = append(c.log.received, p)
		}
		return bytes.Clone(p), nil
	case <-c.done:
		return nil, errPipeClosed
	}
}

// newPipe returns the two ends of a pair and a function that closes both.
func newPipe() (client, server *pipeConn, stop func()) {
	c2s := make(chan []byte, 4)
	s2c := make(chan []byte, 4)
	done := make(chan struct{})
	var once sync.Once
	stop = func() { once.Do(func() { close(done) }) }
	return &pipeConn{in: s2c, out: c2s, done: done}, &pipeConn{in: c2s, out: s2c, done: done}, stop
}

// scriptConn replays fixed packets to the method and records what it
// writes; past the script, ReadPacket returns io.EOF.
type scriptConn struct {
	reads  [][]byte
	writes [][]byte
}

func (c *scriptConn) WritePacket(p []byte) error {
	c.writes = append(c.writes, bytes.Clone(p))
	return nil
}

func (c *scriptConn) ReadPacket() ([]byte, error) {
	if len(c.reads) == 0 {
		return nil, io.EOF
	}
	p := c.reads[0]
	c.reads = c.reads[1:]
	return p, nil
}

var (
	testHostPub, testHostPriv, _ = ed25519.GenerateKey(newTestRand(1))

	testMagics = &Magics{
		ClientVersion: []byte("SSH-2.0-zerossh_test client"),
		ServerVersion: []byte("SSH-2.0-zerossh_test server"),
		ClientKexInit: []byte("\x14client kexinit payload"),
		ServerKexInit: []byte("\x14server kexinit payload"),
	}
)

// newTestRand returns a deterministic random stream.
func newTestRand(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// testSigner signs H with the test host key and remembers the signature.
type testSigner struct {
	mu  sync.Mutex
	sig []byte
}

func (s *testSigner) sign(h []byte) ([]byte, error) {
	sig := ed25519.Sign(testHostPriv, h)
	s.mu.Lock()
	s.sig = sig
	s.mu.Unlock()
	return sig, nil
}

// exchange is the outcome of a client against a server.
type exchange struct {
	client, server       *Result
	clientErr, serverErr error
	log                  packetLog // as seen by the client
	sig                  []byte    // what the signer returned
}

// runPair runs m's client and server against each other through an
// in-memory pair. A nil rand means crypto/rand.
func runPair(m Method, clientRand, serverRand io.Reader) *exchange {
	cc, sc, stop := newPipe()
	defer stop()
	x := &exchange{}
	cc.log = &x.log
	var signer testSigner
	var wg sync.WaitGroup
	wg.Go(func() {
		x.server, x.serverErr = m.Server(sc, serverRand, testMagics, testHostPub, signer.sign)
		if x.serverErr != nil {
			stop()
		}
	})
	x.client, x.clientErr = m.Client(cc, clientRand, testMagics)
	if x.clientErr != nil {
		stop()
	}
	wg.Wait()
	x.sig = signer.sig
	return x
}

func TestRegistry(t *testing.T) {
	if !slices.Equal(Default, All) {
		t.Errorf("Default = %v; want the same names as All %v", Default, All)
	}
	if len(methods) != len(All) {
		t.Errorf("%d methods registered; All has %d", len(methods), len(All))
	}
	for _, name := range All {
		m, ok := Lookup(name)
		if !ok {
			t.Errorf("Lookup(%q) failed", name)
			continue
		}
		if m.Name() != name {
			t.Errorf("Lookup(%q).Name() = %q", name, m.Name())
		}
	}
	if _, ok := Lookup("diffie-hellman-group1-sha1"); ok {
		t.Error("Lookup found diffie-hellman-group1-sha1")
	}
	if m, _ := Lookup(DHGroupExchangeSHA256); m != (DHGroupExchange{Min: 2048, Preferred: 3072, Max: 8192}) {
		t.Errorf("Lookup(%q) = %+v", DHGroupExchangeSHA256, m)
	}
}

// TestClientServer runs every method's client against its server and
// checks that both sides agree, that the client got the host key and
// signature the server sent, and that H matches an independent
// computation from the messages exchanged.
func TestClientServer(t *testing.T) {
	for _, name := range All {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, _ := Lookup(name)
			x := runPair(m, nil, nil)
			if x.clientErr != nil || x.serverErr != nil {
				t.Fatalf("client: %v; server: %v", x.clientErr, x.serverErr)
			}
			checkExchange(t, name, x)
		})
	}
}

func checkExchange(t *testing.T, name string, x *exchange) {
	t.Helper()
	c, s := x.client, x.server
	if c.Hash != s.Hash || len(c.H) != c.Hash.Size() {
		t.Errorf("hash %v (H %d bytes), server %v", c.Hash, len(c.H), s.Hash)
	}
	if !bytes.Equal(c.H, s.H) {
		t.Errorf("client H %x; server H %x", c.H, s.H)
	}
	if !bytes.Equal(c.K, s.K) {
		t.Errorf("client K %x; server K %x", c.K, s.K)
	}
	if !bytes.Equal(c.HostKey, testHostPub) || !bytes.Equal(s.HostKey, testHostPub) {
		t.Errorf("host key %x / %x; want %x", c.HostKey, s.HostKey, []byte(testHostPub))
	}
	if !bytes.Equal(c.Signature, x.sig) || !bytes.Equal(s.Signature, x.sig) {
		t.Errorf("signature %x / %x; signer returned %x", c.Signature, s.Signature, x.sig)
	}
	if !ed25519.Verify(ed25519.PublicKey(c.HostKey), c.H, c.Signature) {
		t.Error("signature does not verify over the client's H")
	}
	checkKEncoding(t, name, c.K)
	if want := refExchangeHash(t, name, c.Hash, x.log, c.K); !bytes.Equal(c.H, want) {
		t.Errorf("H %x; independent computation %x", c.H, want)
	}
}

// checkKEncoding checks that K is one well-formed mpint, or for the hybrid
// method a 32-byte string.
func checkKEncoding(t *testing.T, name string, k []byte) {
	t.Helper()
	r := wire.Reader(k)
	var v []byte
	if name == MLKEM768X25519SHA256 {
		if !r.ReadString(&v) || !r.Empty() || len(v) != 32 {
			t.Errorf("K %x is not a 32-byte string", k)
		}
		return
	}
	if !r.ReadMpint(&v) || !r.Empty() || len(v) == 0 {
		t.Errorf("K %x is not a positive mpint", k)
	}
}

// refExchangeHash recomputes H from the messages the client sent and
// received, straight from the field lists of RFC 4253 §8, RFC 4419 §3,
// RFC 5656 §4, RFC 8731 §3 and the hybrid draft, with its own encoder.
func refExchangeHash(t *testing.T, name string, hash crypto.Hash, log packetLog, k []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	str := func(b []byte) {
		buf.Write([]byte{byte(len(b) >> 24), byte(len(b) >> 16), byte(len(b) >> 8), byte(len(b))})
		buf.Write(b)
	}
	for _, b := range [][]byte{testMagics.ClientVersion, testMagics.ServerVersion, testMagics.ClientKexInit, testMagics.ServerKexInit} {
		str(b)
	}
	// Fields are copied as they appear on the wire (an mpint is a string
	// of its two's-complement bytes), so a parse is a split into strings.
	split := func(p []byte) [][]byte {
		var out [][]byte
		p = p[1:]
		for len(p) > 0 {
			n := int(p[0])<<24 | int(p[1])<<16 | int(p[2])<<8 | int(p[3])
			out = append(out, p[4:4+n])
			p = p[4+n:]
		}
		return out
	}
	switch name {
	case DHGroupExchangeSHA256:
		req := log.sent[0][1:] // min, n, max
		grp := split(log.received[0])
		e := split(log.sent[1])
		reply := split(log.received[1])
		str(reply[0])
		buf.Write(req)
		str(grp[0])
		str(grp[1])
		str(e[0])
		str(reply[1])
	default:
		init := split(log.sent[0])
		reply := split(log.received[0])
		str(reply[0])
		str(init[0])
		str(reply[1])
	}
	buf.Write(k)
	h := hash.New()
	h.Write(buf.Bytes())
	return h.Sum(nil)
}

func TestUnexpectedMessage(t *testing.T) {
	for _, name := range All {
		t.Run(name, func(t *testing.T) {
			m, _ := Lookup(name)
			want := byte(wire.MsgKexECDHReply)
			if name == DHGroupExchangeSHA256 {
				want = wire.MsgKexDHGexGroup
			}
			c := &scriptConn{reads: [][]byte{{wire.MsgKexInit, 1, 2, 3}}}
			_, err := m.Client(c, nil, testMagics)
			var ue *UnexpectedMessageError
			if !errors.As(err, &ue) || ue.Got != wire.MsgKexInit || ue.Want != want {
				t.Errorf("client: %v; want UnexpectedMessageError{20, %d}", err, want)
			}

			want = wire.MsgKexECDHInit
			if name == DHGroupExchangeSHA256 {
				want = wire.MsgKexDHGexRequest
			}
			s := &scriptConn{reads: [][]byte{{wire.MsgKexDHGexReply, 0, 0, 0, 0}}}
			_, err = m.Server(s, nil, testMagics, testHostPub, (&testSigner{}).sign)
			if !errors.As(err, &ue) || ue.Got != wire.MsgKexDHGexReply || ue.Want != want {
				t.Errorf("server: %v; want UnexpectedMessageError{33, %d}", err, want)
			}
			if len(s.writes) != 0 {
				t.Errorf("server wrote %d packets", len(s.writes))
			}
		})
	}
	if got := (&UnexpectedMessageError{Got: 20, Want: 31}).Error(); got != "kex: unexpected message 20, want 31" {
		t.Errorf("Error() = %q", got)
	}
}

func TestEmptyPacket(t *testing.T) {
	for _, name := range All {
		m, _ := Lookup(name)
		_, err := m.Client(&scriptConn{reads: [][]byte{{}}}, nil, testMagics)
		if !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s client: %v; want ErrMalformed", name, err)
		}
		_, err = m.Server(&scriptConn{reads: [][]byte{nil}}, nil, testMagics, testHostPub, (&testSigner{}).sign)
		if !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s server: %v; want ErrMalformed", name, err)
		}
	}
}

func TestNilMagics(t *testing.T) {
	for _, name := range All {
		m, _ := Lookup(name)
		if _, err := m.Client(&scriptConn{}, nil, nil); err == nil {
			t.Errorf("%s client accepted nil Magics", name)
		}
		if _, err := m.Server(&scriptConn{}, nil, nil, testHostPub, (&testSigner{}).sign); err == nil {
			t.Errorf("%s server accepted nil Magics", name)
		}
	}
}

// TestSignError checks that a failing signer fails the server and that no
// reply goes out.
func TestSignError(t *testing.T) {
	errSign := errors.New("no signature today")
	for _, name := range []string{Curve25519SHA256, DHGroup14SHA256} {
		v := validExchange(t, name)
		m := v.m
		s := &scriptConn{reads: v.client.sent}
		_, err := m.Server(s, nil, testMagics, testHostPub, func([]byte) ([]byte, error) { return nil, errSign })
		if !errors.Is(err, errSign) || len(s.writes) != 0 {
			t.Errorf("%s: %v, %d packets written; want the signer's error and none", name, err, len(s.writes))
		}
	}
}

// TestMalformed checks that no proper prefix of a valid message, and no
// valid message with a byte appended, is accepted, on either side.
func TestMalformed(t *testing.T) {
	for _, name := range All {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := validExchange(t, name)
			m := v.m
			// The client's side: each message it reads, cut or extended.
			for i, msg := range v.client.received {
				for _, n := range prefixLengths(name, len(msg)) {
					reads := append(slices.Clone(v.client.received[:i]), msg[:n])
					_, err := m.Client(&scriptConn{reads: reads}, newTestRand(v.seed), testMagics)
					if !errors.Is(err, wire.ErrMalformed) {
						t.Fatalf("client, message %d cut to %d of %d bytes: %v; want ErrMalformed", i, n, len(msg), err)
					}
				}
				reads := append(slices.Clone(v.client.received[:i]), append(slices.Clone(msg), 0))
				if _, err := m.Client(&scriptConn{reads: reads}, newTestRand(v.seed), testMagics); !errors.Is(err, wire.ErrMalformed) {
					t.Errorf("client, message %d with a trailing byte: %v; want ErrMalformed", i, err)
				}
			}

			// The server's side: each message it reads, cut or extended.
			for i, msg := range v.client.sent {
				for _, n := range prefixLengths(name, len(msg)) {
					reads := append(slices.Clone(v.client.sent[:i]), msg[:n])
					_, err := m.Server(&scriptConn{reads: reads}, nil, testMagics, testHostPub, (&testSigner{}).sign)
					if !errors.Is(err, wire.ErrMalformed) {
						t.Fatalf("server, message %d cut to %d of %d bytes: %v; want ErrMalformed", i, n, len(msg), err)
					}
				}
				reads := append(slices.Clone(v.client.sent[:i]), append(slices.Clone(msg), 0))
				_, err := m.Server(&scriptConn{reads: reads}, nil, testMagics, testHostPub, (&testSigner{}).sign)
				if !errors.Is(err, wire.ErrMalformed) {
					t.Errorf("server, message %d with a trailing byte: %v; want ErrMalformed", i, err)
				}
			}
		})
	}
}

// prefixLengths lists the proper prefix lengths to try: every one for a
// message up to 512 bytes; for longer ones (the hybrid method's, the large
// groups'), where the client spends a key generation per try, the first
// and last 64 and every 17th in between.
func prefixLengths(name string, n int) []int {
	var out []int
	if name == DHGroup16SHA512 || name == DHGroup18SHA512 {
		// An exponentiation per try: the ends and a coarse sample.
		for i := 0; i < n; i += 97 {
			out = append(out, i)
		}
		for i := max(0, n-8); i < n; i++ {
			out = append(out, i)
		}
		return append(out, 1, 2, 3, 4, 5)
	}
	for i := 0; i < n; i++ {
		if n <= 512 || i < 64 || i >= n-64 || i%17 == 0 {
			out = append(out, i)
		}
	}
	return out
}

// validRun is a recorded exchange: what the client sent and received when
// its rand was newTestRand(seed).
type validRun struct {
	m      Method
	seed   uint64
	client packetLog
	h, k   []byte
}

var (
	validMu   sync.Mutex
	validRuns = map[string]*validRun{}
)

// validExchange records one exchange for name with a fixed client rand,
// so that a client given newTestRand(seed) again sends the same messages
// and can complete against the recorded replies.
func validExchange(tb testing.TB, name string) *validRun {
	tb.Helper()
	validMu.Lock()
	defer validMu.Unlock()
	if v, ok := validRuns[name]; ok {
		return v
	}
	m, _ := Lookup(name)
	if name == DHGroupExchangeSHA256 {
		// The smallest group keeps replays cheap.
		m = DHGroupExchange{Min: 2048, Preferred: 2048, Max: 2048}
	}
	const seed = 7
	x := runPair(m, newTestRand(seed), newTestRand(seed+1))
	if x.clientErr != nil || x.serverErr != nil {
		tb.Fatalf("%s: client: %v; server: %v", name, x.clientErr, x.serverErr)
	}
	v := &validRun{m: m, seed: seed, client: x.log, h: x.client.H, k: x.client.K}
	validRuns[name] = v
	return v
}

func BenchmarkKex(b *testing.B) {
	for _, name := range All {
		b.Run(name, func(b *testing.B) {
			m, _ := Lookup(name)
			b.ReportAllocs()
			for b.Loop() {
				x := runPair(m, nil, nil)
				if x.clientErr != nil || x.serverErr != nil {
					b.Fatalf("client: %v; server: %v", x.clientErr, x.serverErr)
				}
			}
		})
	}
}

// TestPrepareClient: a key made ahead runs the exchange with a server,
// both ends agreeing, for every method that has one; it serves one
// exchange; the finite-field methods have none.
func TestPrepareClient(t *testing.T) {
	for _, name := range All {
		m, _ := Lookup(name)
		key, err := PrepareClient(m, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The finite-field groups run through dh.go, not the ECDH shape,
		// and have no key made ahead.
		if ecdhShaped := !strings.HasPrefix(name, "diffie-hellman-"); (key != nil) != ecdhShaped {
			t.Fatalf("%s: key made ahead %v; want %v", name, key != nil, ecdhShaped)
		}
		if key == nil {
			continue
		}
		if key.Method() != name {
			t.Errorf("%s: key for %s", name, key.Method())
		}
		cc, sc, stop := newPipe()
		var got *Result
		var clientErr error
		done := make(chan struct{})
		go func() {
			got, clientErr = key.Client(cc, testMagics)
			close(done)
		}()
		server, serverErr := m.Server(sc, nil, testMagics, testHostPub, (&testSigner{}).sign)
		<-done
		stop()
		if clientErr != nil || serverErr != nil {
			t.Fatalf("%s: client %v, server %v", name, clientErr, serverErr)
		}
		if !bytes.Equal(got.H, server.H) || !bytes.Equal(got.K, server.K) {
			t.Errorf("%s: client and server disagree", name)
		}
		cc, sc, stop = newPipe()
		go m.Server(sc, nil, testMagics, testHostPub, (&testSigner{}).sign)
		if _, err := key.Client(cc, testMagics); err == nil {
			t.Errorf("%s: a prepared key served a second exchange", name)
		}
		stop()
	}
}
