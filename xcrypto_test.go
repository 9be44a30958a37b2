package zerossh

// Live interop tests with golang.org/x/crypto/ssh as the peer, over TCP
// loopback. The user authentication service (RFC 4252) and the global
// requests of the connection protocol (RFC 4254 §4) are played by the
// tests themselves, straight on ReadPacket and WritePacket.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/wire"
)

// xcTimeout bounds every step that waits on the peer, and each subtest
// as a whole.
const xcTimeout = 10 * time.Second

const (
	xcUser     = "alice"
	xcPassword = "correct horse battery staple"
)

// xcKexes are the key exchange methods both implementations know, by the
// names x/crypto/ssh v0.59.0 registers in kexAlgoMap.
var xcKexes = []string{
	kex.MLKEM768X25519SHA256,
	kex.Curve25519SHA256,
	kex.Curve25519SHA256LibSSH,
	kex.ECDHSHA2NISTP256,
	kex.ECDHSHA2NISTP384,
	kex.ECDHSHA2NISTP521,
	kex.DHGroup14SHA256,
	kex.DHGroup16SHA512,
	kex.DHGroupExchangeSHA256,
}

var (
	xcAEADs   = []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"}
	xcCTRs    = []string{"aes128-ctr", "aes192-ctr", "aes256-ctr"}
	xcMACs    = []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512"}
	xcHostKey = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
)

// xcCase pins one algorithm of each kind on the x/crypto/ssh side. Our
// side offers its defaults, so negotiation has to find the pinned one.
type xcCase struct {
	name    string
	kex     string
	cipher  string
	mac     string // "" for AEAD ciphers
	hostKey string // host key algorithm
}

// xcBase is the case every axis of the matrix varies from.
var xcBase = xcCase{kex: kex.Curve25519SHA256, cipher: "aes128-gcm@openssh.com", hostKey: ssh.KeyAlgoED25519}

// xcMatrix lists each key exchange with one cipher, each cipher and MAC
// with one key exchange, and each host key algorithm with one key
// exchange: crossing everything would spend most of the time in the
// finite field groups.
func xcMatrix() []xcCase {
	var cases []xcCase
	for _, k := range xcKexes {
		c := xcBase
		c.name, c.kex = "kex="+k, k
		cases = append(cases, c)
	}
	for _, ci := range xcAEADs {
		c := xcBase
		c.name, c.cipher = "cipher="+ci, ci
		cases = append(cases, c)
	}
	for _, ci := range xcCTRs {
		for _, m := range xcMACs {
			c := xcBase
			c.name, c.cipher, c.mac = "cipher="+ci+",mac="+m, ci, m
			cases = append(cases, c)
		}
	}
	for _, h := range xcHostKey {
		c := xcBase
		c.name, c.hostKey = "hostkey="+h, h
		cases = append(cases, c)
	}
	return cases
}

// peerConfig is the x/crypto/ssh configuration that offers only what tc
// pins.
func (tc xcCase) peerConfig() ssh.Config {
	cfg := ssh.Config{KeyExchanges: []string{tc.kex}, Ciphers: []string{tc.cipher}}
	if tc.mac != "" {
		cfg.MACs = []string{tc.mac}
	}
	return cfg
}

// want is what our side must report from Algorithms.
func (tc xcCase) want() Algorithms {
	d := DirectionAlgorithms{Cipher: tc.cipher, MAC: tc.mac, Compression: "none"}
	return Algorithms{Kex: tc.kex, HostKey: tc.hostKey, Read: d, Write: d}
}

// xcHostKeys holds one signer per host key algorithm, made once: RSA key
// generation is slow.
var xcHostKeys = sync.OnceValue(func() map[string]ssh.Signer {
	m := map[string]ssh.Signer{}
	add := func(key any, algs ...string) {
		s, err := ssh.NewSignerFromKey(key)
		if err != nil {
			panic(err)
		}
		for _, a := range algs {
			m[a] = s
		}
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	add(ed, ssh.KeyAlgoED25519)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	add(ec, ssh.KeyAlgoECDSA256)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	add(rk, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
	return m
})

// xcWatchdog closes both sockets once xcTimeout has passed, so that every
// read and write blocked on the peer returns, and fails the test if that
// happened. The sockets are closed at cleanup in any case.
func xcWatchdog(t *testing.T, ncs ...net.Conn) {
	var fired atomic.Bool
	timer := time.AfterFunc(xcTimeout, func() {
		fired.Store(true)
		for _, nc := range ncs {
			nc.Close()
		}
	})
	t.Cleanup(func() {
		timer.Stop()
		for _, nc := range ncs {
			nc.Close()
		}
		if fired.Load() {
			t.Errorf("timed out after %v", xcTimeout)
		}
	})
}

// xcWait receives from ch, failing the test after xcTimeout.
func xcWait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(xcTimeout):
		t.Fatalf("%s: timed out after %v", what, xcTimeout)
		panic("unreachable")
	}
}

// xcPeerAlgorithms returns what x/crypto/ssh negotiated, mirrored to our
// side's point of view.
func xcPeerAlgorithms(t *testing.T, conn ssh.Conn) Algorithms {
	t.Helper()
	am, ok := conn.(ssh.AlgorithmsConnMetadata)
	if !ok {
		t.Fatalf("%T does not report its algorithms", conn)
	}
	a := am.Algorithms()
	return Algorithms{
		Kex:     a.KeyExchange,
		HostKey: a.HostKey,
		Read:    DirectionAlgorithms{Cipher: a.Write.Cipher, MAC: a.Write.MAC, Compression: "none"},
		Write:   DirectionAlgorithms{Cipher: a.Read.Cipher, MAC: a.Read.MAC, Compression: "none"},
	}
}

// xcCheckSession compares our connection's negotiated state with what tc
// pinned and with what the x/crypto/ssh peer saw.
func xcCheckSession(t *testing.T, c *Conn, peer ssh.Conn, tc xcCase) {
	t.Helper()
	if got, want := c.Algorithms(), tc.want(); got != want {
		t.Errorf("Algorithms() = %+v; want %+v", got, want)
	}
	if got, want := c.Algorithms(), xcPeerAlgorithms(t, peer); got != want {
		t.Errorf("Algorithms() = %+v; x/crypto/ssh negotiated %+v", got, want)
	}
	if got, want := c.SessionID(), peer.SessionID(); len(got) == 0 || !bytes.Equal(got, want) {
		t.Errorf("SessionID() = %x; x/crypto/ssh has %x", got, want)
	}
	if !c.StrictKex() {
		t.Errorf("strict kex not negotiated with x/crypto/ssh")
	}
	if !c.IsEncrypted(Both) {
		t.Errorf("IsEncrypted(Both) = false after the handshake")
	}
	ours, theirs := peer.ClientVersion(), peer.ServerVersion()
	if !c.IsClient() {
		ours, theirs = theirs, ours
	}
	if c.LocalVersion() != string(ours) || c.RemoteVersion() != string(theirs) {
		t.Errorf("versions: local %q remote %q; x/crypto/ssh saw %q and %q", c.LocalVersion(), c.RemoteVersion(), ours, theirs)
	}
}

// xcServeUserauth is the server's side of RFC 4252 over s: "none" and a
// wrong password fail listing publickey and password (§5.1), the right
// password succeeds (§8). It returns the methods tried, in order.
func xcServeUserauth(s *Conn) ([]string, error) {
	var methods []string
	for {
		p, err := s.ReadPacket()
		if err != nil {
			return methods, err
		}
		if p[0] != wire.MsgUserauthRequest {
			return methods, fmt.Errorf("got message %d; want USERAUTH_REQUEST", p[0])
		}
		r := wire.Reader(p[1:])
		var user, service, method []byte
		if !r.ReadString(&user) || !r.ReadString(&service) || !r.ReadString(&method) {
			return methods, errors.New("malformed USERAUTH_REQUEST")
		}
		methods = append(methods, string(method))
		if string(user) != xcUser || string(service) != "ssh-connection" {
			return methods, fmt.Errorf("USERAUTH_REQUEST for user %q, service %q; want %q, ssh-connection", user, service, xcUser)
		}
		ok := false
		if string(method) == "password" {
			var change bool
			var password []byte
			if !r.ReadBool(&change) || !r.ReadString(&password) || !r.Empty() {
				return methods, errors.New("malformed password USERAUTH_REQUEST")
			}
			if change || string(password) != xcPassword {
				return methods, fmt.Errorf("password request: change %v, password %q; want false, %q", change, password, xcPassword)
			}
			ok = true
		}
		if ok {
			return methods, s.WritePacket([]byte{wire.MsgUserauthSuccess})
		}
		fail := wire.AppendStringS([]byte{wire.MsgUserauthFailure}, "publickey,password")
		if err := s.WritePacket(wire.AppendBool(fail, false)); err != nil {
			return methods, err
		}
	}
}

// xcAuthenticate is the client's side of RFC 4252 over c: "none" first,
// which must fail and list password, then the password, which must
// succeed.
func xcAuthenticate(c *Conn) error {
	req := func(method string) []byte {
		b := wire.AppendStringS([]byte{wire.MsgUserauthRequest}, xcUser)
		b = wire.AppendStringS(b, "ssh-connection")
		return wire.AppendStringS(b, method)
	}
	if err := c.WritePacket(req("none")); err != nil {
		return err
	}
	p, err := c.ReadPacket()
	if err != nil {
		return fmt.Errorf("reply to none: %w", err)
	}
	if p[0] != wire.MsgUserauthFailure {
		return fmt.Errorf("reply to none: message %d; want USERAUTH_FAILURE", p[0])
	}
	r := wire.Reader(p[1:])
	var methods wire.NameList
	var partial bool
	if !r.ReadNameList(&methods) || !r.ReadBool(&partial) || !r.Empty() {
		return errors.New("malformed USERAUTH_FAILURE")
	}
	if !methods.Contains("password") || partial {
		return fmt.Errorf("USERAUTH_FAILURE lists %q, partial success %v; want password, false", methods, partial)
	}
	pw := wire.AppendBool(req("password"), false)
	if err := c.WritePacket(wire.AppendStringS(pw, xcPassword)); err != nil {
		return err
	}
	if p, err = c.ReadPacket(); err != nil {
		return fmt.Errorf("reply to password: %w", err)
	}
	if len(p) != 1 || p[0] != wire.MsgUserauthSuccess {
		return fmt.Errorf("reply to password: %x; want USERAUTH_SUCCESS", p)
	}
	return nil
}

// xcGlobalRequest encodes SSH_MSG_GLOBAL_REQUEST (RFC 4254 §4).
func xcGlobalRequest(name string, wantReply bool, data []byte) []byte {
	b := wire.AppendStringS([]byte{wire.MsgGlobalRequest}, name)
	return append(wire.AppendBool(b, wantReply), data...)
}

// xcParseGlobalRequest decodes SSH_MSG_GLOBAL_REQUEST; data aliases p.
func xcParseGlobalRequest(p []byte) (name string, wantReply bool, data []byte, err error) {
	if p[0] != wire.MsgGlobalRequest {
		return "", false, nil, fmt.Errorf("got message %d; want GLOBAL_REQUEST", p[0])
	}
	r := wire.Reader(p[1:])
	var n []byte
	if !r.ReadString(&n) || !r.ReadBool(&wantReply) {
		return "", false, nil, errors.New("malformed GLOBAL_REQUEST")
	}
	return string(n), wantReply, r, nil
}

// xcServeGlobalRequests answers n global requests on s: each must want a
// reply, and gets REQUEST_SUCCESS carrying the SHA-256 of its data, or
// REQUEST_FAILURE if refuse is set.
func xcServeGlobalRequests(s *Conn, n int, wantName string, refuse bool) error {
	for i := range n {
		p, err := s.ReadPacket()
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		name, wantReply, data, err := xcParseGlobalRequest(p)
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		if name != wantName || !wantReply {
			return fmt.Errorf("request %d: %q, want reply %v; want %q, true", i, name, wantReply, wantName)
		}
		reply := []byte{wire.MsgRequestFailure}
		if !refuse {
			sum := sha256.Sum256(data)
			reply = append([]byte{wire.MsgRequestSuccess}, sum[:]...)
		}
		if err := s.WritePacket(reply); err != nil {
			return fmt.Errorf("reply %d: %w", i, err)
		}
	}
	return nil
}

// xcAnswerRequests answers x/crypto/ssh's incoming global requests with
// success and the SHA-256 of their data.
func xcAnswerRequests(reqs <-chan *ssh.Request) {
	for req := range reqs {
		sum := sha256.Sum256(req.Payload)
		if req.WantReply {
			req.Reply(true, sum[:])
		}
	}
}

// xcRejectChannels refuses every channel x/crypto/ssh hands over.
func xcRejectChannels(chans <-chan ssh.NewChannel) {
	for ch := range chans {
		ch.Reject(ssh.Prohibited, "no channels here")
	}
}

// xcPayload is the data of request i: its number, then bytes that differ
// from one request to the next.
func xcPayload(i, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(i))
	for j := 4; j < n; j++ {
		b[j] = byte(i*31 + j*7)
	}
	return b
}

// xcServerSession runs our Server against an x/crypto/ssh client pinned
// to tc, plays user authentication, and returns both ends, authenticated.
func xcServerSession(t *testing.T, tc xcCase, rekeyThreshold uint64) (*Conn, ssh.Conn) {
	t.Helper()
	nc1, nc2 := tcpPair(t)
	xcWatchdog(t, nc1, nc2)
	signer := xcHostKeys()[tc.hostKey]

	sc := &ServerConfig{HostKeys: []ssh.Signer{signer}, Services: []string{"ssh-userauth"}}
	sc.HandshakeTimeout = xcTimeout
	cc := &ssh.ClientConfig{
		Config:            tc.peerConfig(),
		User:              xcUser,
		Auth:              []ssh.AuthMethod{ssh.Password(xcPassword)},
		HostKeyCallback:   ssh.FixedHostKey(signer.PublicKey()),
		HostKeyAlgorithms: []string{tc.hostKey},
	}
	cc.RekeyThreshold = rekeyThreshold

	type serverResult struct {
		s   *Conn
		err error
	}
	srvCh := make(chan serverResult, 1)
	go func() {
		s, err := Server(nc2, sc)
		srvCh <- serverResult{s, err}
	}()
	type clientResult struct {
		conn  ssh.Conn
		chans <-chan ssh.NewChannel
		reqs  <-chan *ssh.Request
		err   error
	}
	cliCh := make(chan clientResult, 1)
	go func() {
		conn, chans, reqs, err := ssh.NewClientConn(nc1, "xcrypto", cc)
		cliCh <- clientResult{conn, chans, reqs, err}
	}()

	sr := xcWait(t, srvCh, "Server")
	if sr.err != nil {
		t.Fatalf("Server: %v", sr.err)
	}
	s := sr.s
	t.Cleanup(func() { s.Close() })
	methods, authErr := xcServeUserauth(s)
	if authErr != nil {
		s.Close() // so that the peer stops waiting for a reply
	}
	cr := xcWait(t, cliCh, "ssh.NewClientConn")
	if authErr != nil || cr.err != nil {
		t.Fatalf("user authentication: ours %v (methods %q), x/crypto/ssh NewClientConn %v", authErr, methods, cr.err)
	}
	t.Cleanup(func() { cr.conn.Close() })
	go ssh.DiscardRequests(cr.reqs)
	go xcRejectChannels(cr.chans)
	if want := []string{"none", "password"}; !slices.Equal(methods, want) {
		t.Errorf("methods tried %q; want %q", methods, want)
	}
	if got := s.Service(); got != "ssh-userauth" {
		t.Errorf("Service() = %q; want ssh-userauth", got)
	}
	return s, cr.conn
}

// xcClientSession runs our Client against an x/crypto/ssh server pinned
// to tc, requests ssh-userauth, authenticates, and returns both ends.
// The server answers global requests with the SHA-256 of their data.
func xcClientSession(t *testing.T, tc xcCase, rekeyThreshold uint64) (*Conn, *ssh.ServerConn) {
	t.Helper()
	nc1, nc2 := tcpPair(t)
	xcWatchdog(t, nc1, nc2)
	signer := xcHostKeys()[tc.hostKey]

	sc := &ssh.ServerConfig{
		Config: tc.peerConfig(),
		PasswordCallback: func(m ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			if m.User() != xcUser || string(password) != xcPassword {
				return nil, errors.New("wrong user or password")
			}
			return nil, nil
		},
	}
	sc.RekeyThreshold = rekeyThreshold
	sc.AddHostKey(signer)
	type serverResult struct {
		conn *ssh.ServerConn
		err  error
	}
	srvCh := make(chan serverResult, 1)
	go func() {
		conn, chans, reqs, err := ssh.NewServerConn(nc2, sc)
		if err == nil {
			go xcAnswerRequests(reqs)
			go xcRejectChannels(chans)
		}
		srvCh <- serverResult{conn, err}
	}()

	cc := &ClientConfig{
		HostKeyCallback:   ssh.FixedHostKey(signer.PublicKey()),
		HostKeyAlgorithms: []string{tc.hostKey},
	}
	cc.HandshakeTimeout = xcTimeout
	c, err := Client(nc1, "xcrypto", cc)
	if err != nil {
		sr := xcWait(t, srvCh, "ssh.NewServerConn")
		t.Fatalf("Client: %v (x/crypto/ssh NewServerConn: %v)", err, sr.err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatalf("RequestService: %v", err)
	}
	if got := c.Service(); got != "ssh-userauth" {
		t.Errorf("Service() = %q; want ssh-userauth", got)
	}
	if _, ok := c.Extensions()["server-sig-algs"]; !ok {
		t.Errorf("no server-sig-algs from x/crypto/ssh: %q", c.Extensions())
	}
	authErr := xcAuthenticate(c)
	if authErr != nil {
		c.Close() // so that the peer stops waiting for a request
	}
	sr := xcWait(t, srvCh, "ssh.NewServerConn")
	if authErr != nil || sr.err != nil {
		t.Fatalf("user authentication: ours %v, x/crypto/ssh NewServerConn %v", authErr, sr.err)
	}
	t.Cleanup(func() { sr.conn.Close() })
	if got := sr.conn.User(); got != xcUser {
		t.Errorf("x/crypto/ssh authenticated %q; want %q", got, xcUser)
	}
	return c, sr.conn
}

func TestXCryptoSSHClientHandshake(t *testing.T) {
	for _, tc := range xcMatrix() {
		t.Run(tc.name, func(t *testing.T) {
			s, xc := xcServerSession(t, tc, 0)
			xcCheckSession(t, s, xc, tc)

			// The first message of the connection protocol crosses too.
			type reply struct {
				ok  bool
				err error
			}
			replies := make(chan reply, 1)
			go func() {
				ok, _, err := xc.SendRequest("keepalive@openssh.com", true, nil)
				replies <- reply{ok, err}
			}()
			if err := xcServeGlobalRequests(s, 1, "keepalive@openssh.com", true); err != nil {
				t.Fatal(err)
			}
			if r := xcWait(t, replies, "SendRequest"); r.err != nil || r.ok {
				t.Fatalf("SendRequest = %v, %v; want false, nil", r.ok, r.err)
			}
		})
	}
}

func TestXCryptoSSHServerHandshake(t *testing.T) {
	for _, tc := range xcMatrix() {
		t.Run(tc.name, func(t *testing.T) {
			c, xs := xcClientSession(t, tc, 0)
			xcCheckSession(t, c, xs.Conn, tc)

			data := []byte("zerossh")
			if err := c.WritePacket(xcGlobalRequest("check@zerossh", true, data)); err != nil {
				t.Fatal(err)
			}
			p, err := c.ReadPacket()
			sum := sha256.Sum256(data)
			if want := append([]byte{wire.MsgRequestSuccess}, sum[:]...); err != nil || !bytes.Equal(p, want) {
				t.Fatalf("reply to GLOBAL_REQUEST: %x, %v; want %x", p, err, want)
			}
		})
	}
}

// Rekey traffic: xcRequests requests of xcRequestSize bytes each. In the
// first half only the peer rekeys, every xcRekeyThreshold bytes, one
// request in flight at a time; in the second half our side also calls
// Rekey every xcRekeyEvery requests, while requests are in flight.
const (
	xcRequests       = 64
	xcRequestSize    = 32 << 10
	xcRekeyThreshold = 256 << 10
	xcRekeyEvery     = 4
)

// xcRekeyCases pins a stream cipher with a MAC and an AEAD, since the two
// rekey differently (keys for the MAC, sequence numbers in the nonce).
var xcRekeyCases = []xcCase{
	{name: "cipher=chacha20-poly1305@openssh.com", kex: kex.Curve25519SHA256, cipher: "chacha20-poly1305@openssh.com", hostKey: ssh.KeyAlgoED25519},
	{name: "cipher=aes128-ctr,mac=hmac-sha2-256-etm@openssh.com", kex: kex.ECDHSHA2NISTP256, cipher: "aes128-ctr", mac: "hmac-sha2-256-etm@openssh.com", hostKey: ssh.KeyAlgoECDSA256},
}

// xcRekeys runs c.Rekey on its own goroutine and counts the calls, so
// that their results can be collected at the end.
type xcRekeys struct {
	c       *Conn
	results chan error
	started int
}

func newXCRekeys(c *Conn) *xcRekeys {
	return &xcRekeys{c: c, results: make(chan error, xcRequests)}
}

func (r *xcRekeys) start() {
	r.started++
	go func() { r.results <- r.c.Rekey() }()
}

func (r *xcRekeys) wait(t *testing.T) {
	t.Helper()
	for range r.started {
		if err := xcWait(t, r.results, "Rekey"); err != nil {
			t.Fatalf("Rekey: %v", err)
		}
	}
}

func TestXCryptoSSHRekey(t *testing.T) {
	for _, tc := range xcRekeyCases {
		t.Run("peer=client/"+tc.name, func(t *testing.T) {
			s, xc := xcServerSession(t, tc, xcRekeyThreshold)
			sessionID := s.SessionID()

			served := make(chan error, 1)
			go func() { served <- xcServeGlobalRequests(s, xcRequests, "echo@zerossh", false) }()
			rekeys := newXCRekeys(s)
			for i := range xcRequests {
				if i >= xcRequests/2 && i%xcRekeyEvery == 0 {
					rekeys.start()
				}
				data := xcPayload(i, xcRequestSize)
				ok, reply, err := xc.SendRequest("echo@zerossh", true, data)
				sum := sha256.Sum256(data)
				if err != nil || !ok || !bytes.Equal(reply, sum[:]) {
					t.Fatalf("request %d: %v, %x, %v; want true, %x", i, ok, reply, err, sum)
				}
			}
			if err := xcWait(t, served, "serving requests"); err != nil {
				t.Fatal(err)
			}
			rekeys.wait(t)
			if got := s.SessionID(); !bytes.Equal(got, sessionID) {
				t.Errorf("SessionID() changed across rekeys: %x, was %x", got, sessionID)
			}
			xcCheckSession(t, s, xc, tc)
		})
		t.Run("peer=server/"+tc.name, func(t *testing.T) {
			c, xs := xcClientSession(t, tc, xcRekeyThreshold)
			sessionID := c.SessionID()
			checkReply := func(i int) {
				t.Helper()
				p, err := c.ReadPacket()
				sum := sha256.Sum256(xcPayload(i, xcRequestSize))
				if want := append([]byte{wire.MsgRequestSuccess}, sum[:]...); err != nil || !bytes.Equal(p, want) {
					t.Fatalf("reply %d: %x, %v; want %x", i, p, err, want)
				}
			}
			request := func(i int) error {
				return c.WritePacket(xcGlobalRequest("echo@zerossh", true, xcPayload(i, xcRequestSize)))
			}

			for i := range xcRequests / 2 {
				if err := request(i); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				checkReply(i)
			}

			// Requests go out ahead of their replies, so that some wait
			// in the held-back queue while a key exchange runs.
			written := make(chan error, 1)
			go func() {
				for i := xcRequests / 2; i < xcRequests; i++ {
					if err := request(i); err != nil {
						written <- fmt.Errorf("request %d: %w", i, err)
						return
					}
				}
				written <- nil
			}()
			rekeys := newXCRekeys(c)
			for i := xcRequests / 2; i < xcRequests; i++ {
				if i%xcRekeyEvery == 0 {
					rekeys.start()
				}
				checkReply(i)
			}
			if err := xcWait(t, written, "writing requests"); err != nil {
				t.Fatal(err)
			}
			rekeys.wait(t)
			if got := c.SessionID(); !bytes.Equal(got, sessionID) {
				t.Errorf("SessionID() changed across rekeys: %x, was %x", got, sessionID)
			}
			xcCheckSession(t, c, xs.Conn, tc)
		})
	}
}

// errXCRefused is what the refusing HostKeyCallback returns.
var errXCRefused = errors.New("host key refused by test")

func TestXCryptoSSHHostKeyMismatch(t *testing.T) {
	other := testutil.Ed25519Signer(t)
	for _, tc := range []struct {
		name     string
		callback ssh.HostKeyCallback
		wantErr  error // reachable with errors.Is, when not nil
	}{
		{"callback=refuse", func(string, net.Addr, ssh.PublicKey) error { return errXCRefused }, errXCRefused},
		{"callback=FixedHostKey(other)", ssh.FixedHostKey(other.PublicKey()), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc1, nc2 := tcpPair(t)
			xcWatchdog(t, nc1, nc2)
			sc := &ssh.ServerConfig{NoClientAuth: true}
			sc.AddHostKey(xcHostKeys()[ssh.KeyAlgoED25519])
			peerErr := make(chan error, 1)
			go func() {
				conn, _, _, err := ssh.NewServerConn(nc2, sc)
				if conn != nil {
					conn.Close()
				}
				peerErr <- err
			}()

			cc := &ClientConfig{HostKeyCallback: tc.callback}
			cc.HandshakeTimeout = xcTimeout
			c, err := Client(nc1, "xcrypto", cc)
			if err == nil {
				c.Close()
				t.Fatal("Client accepted a refused host key")
			}
			var hke *HostKeyError
			if !errors.As(err, &hke) {
				t.Fatalf("Client: %v (%T); want a *HostKeyError", err, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Client: %v; errors.Is(err, %v) = false", err, tc.wantErr)
			}
			var de *DisconnectError
			if !errors.As(err, &de) || de.Remote || de.Reason != HostKeyNotVerifiable {
				t.Errorf("Client: %v; want a local DisconnectError with reason %v", err, HostKeyNotVerifiable)
			}
			if err := xcWait(t, peerErr, "ssh.NewServerConn"); err == nil {
				t.Errorf("x/crypto/ssh NewServerConn succeeded after the client refused its host key")
			}
		})
	}
}
