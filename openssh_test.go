package zerossh

// Live interop tests with OpenSSH 9.2 as the peer: our client against
// sshd, and ssh against our server, over TCP loopback. The parts of user
// authentication (RFC 4252) and the connection protocol (RFC 4254) these
// tests need are played by the tests themselves, straight on ReadPacket
// and WritePacket.
//
// OpenSSH never rekeys before user authentication ("client can't cope
// with rekeying pre-auth", packet.c), and its client treats a KEXINIT
// during user authentication as fatal; the rekey tests therefore
// authenticate first.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/internal/peertest"
	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/wire"
)

// Bounds of the OpenSSH tests. DH group 18 under the race detector on a
// small machine takes about a second; nothing else comes close.
const (
	osshHandshakeTimeout = 20 * time.Second
	osshConnTimeout      = 30 * time.Second
	osshWaitTimeout      = 5 * time.Second
)

// The algorithms zerossh and OpenSSH 9.2 both implement. OpenSSH 9.2 has
// no mlkem768x25519-sha256.
var (
	osshKexes = []string{
		"curve25519-sha256", "curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
		"diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
		"diffie-hellman-group-exchange-sha256",
	}
	osshAEADs = []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"}
	osshCTRs  = []string{"aes128-ctr", "aes192-ctr", "aes256-ctr"}
	osshMACs  = []string{
		"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
		"hmac-sha2-256", "hmac-sha2-512",
		"hmac-sha1", "hmac-sha1-etm@openssh.com",
	}
	osshHostKeyAlgs = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
)

// osshCase is one pinned choice of algorithms; mac is empty for an AEAD
// cipher.
type osshCase struct {
	kex, hostKey, cipher, mac string
}

const (
	osshKex0     = "curve25519-sha256"
	osshHostKey0 = ssh.KeyAlgoED25519
	osshCipher0  = "aes128-gcm@openssh.com"
)

func (oc osshCase) name() string {
	switch {
	case oc.hostKey != osshHostKey0:
		return "HostKey-" + oc.hostKey
	case oc.cipher != osshCipher0 && oc.mac != "":
		return "Cipher-" + oc.cipher + "-MAC-" + oc.mac
	case oc.cipher != osshCipher0:
		return "Cipher-" + oc.cipher
	}
	return "Kex-" + oc.kex
}

// algorithms is what either side's Algorithms must report for oc.
func (oc osshCase) algorithms() Algorithms {
	d := DirectionAlgorithms{Cipher: oc.cipher, MAC: oc.mac, Compression: "none"}
	return Algorithms{Kex: oc.kex, HostKey: oc.hostKey, Read: d, Write: d}
}

// sshOptions pins ssh to the algorithms of oc.
func (oc osshCase) sshOptions() []string {
	opts := []string{"KexAlgorithms=" + oc.kex, "HostKeyAlgorithms=" + oc.hostKey, "Ciphers=" + oc.cipher}
	if oc.mac != "" {
		opts = append(opts, "MACs="+oc.mac)
	}
	return opts
}

// osshMatrix lists every key exchange method with aes128-gcm, every
// cipher (with every MAC for CTR) with curve25519-sha256, and every host
// key algorithm with curve25519-sha256; ssh-ed25519 unless the host key
// is what varies.
func osshMatrix() []osshCase {
	var out []osshCase
	for _, k := range osshKexes {
		out = append(out, osshCase{kex: k, hostKey: osshHostKey0, cipher: osshCipher0})
	}
	for _, c := range osshAEADs {
		if c != osshCipher0 {
			out = append(out, osshCase{kex: osshKex0, hostKey: osshHostKey0, cipher: c})
		}
	}
	for _, c := range osshCTRs {
		for _, m := range osshMACs {
			out = append(out, osshCase{kex: osshKex0, hostKey: osshHostKey0, cipher: c, mac: m})
		}
	}
	for _, h := range osshHostKeyAlgs {
		if h != osshHostKey0 {
			out = append(out, osshCase{kex: osshKex0, hostKey: h, cipher: osshCipher0})
		}
	}
	return out
}

// osshNegotiated puts a side's Algorithms in the form OpenSSH logs them
// (an AEAD cipher's MAC is "<implicit>").
func osshNegotiated(a Algorithms, isClient bool) peertest.Negotiated {
	cs, sc := a.Write, a.Read
	if !isClient {
		cs, sc = sc, cs
	}
	mac := func(d DirectionAlgorithms) string {
		if d.MAC == "" {
			return "<implicit>"
		}
		return d.MAC
	}
	return peertest.Negotiated{
		Kex: a.Kex, HostKey: a.HostKey,
		CipherCS: cs.Cipher, CipherSC: sc.Cipher,
		MACCS: mac(cs), MACSC: mac(sc),
		CompressionCS: cs.Compression, CompressionSC: sc.Compression,
	}
}

// osshKexCount returns how many key exchanges c completed.
func osshKexCount(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kexDone
}

// osshLogHasLine reports whether a line of log ends with suffix. ssh ends
// its log lines with CR LF.
func osshLogHasLine(log, suffix string) bool {
	for line := range strings.Lines(log) {
		if strings.HasSuffix(strings.TrimRight(line, "\r\n"), suffix) {
			return true
		}
	}
	return false
}

// --- Our client against sshd ---

// sshdHostKey parses sshd's public host key for a host key algorithm.
func sshdHostKey(t *testing.T, sshd *peertest.SSHD, alg string) ssh.PublicKey {
	t.Helper()
	typ := peertest.KeyRSA
	switch alg {
	case ssh.KeyAlgoED25519:
		typ = peertest.KeyEd25519
	case ssh.KeyAlgoECDSA256:
		typ = peertest.KeyECDSA
	}
	line, ok := sshd.HostPublicKeys[typ]
	if !ok {
		t.Fatalf("sshd has no host key for %s", alg)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		t.Fatalf("parse sshd host key %q: %v", line, err)
	}
	return pub
}

// dialSSHD connects our client to sshd and checks that the
// HostKeyCallback was given sshd's host key for the negotiated algorithm.
// Every read and write on the connection is bounded by osshConnTimeout.
func dialSSHD(t *testing.T, sshd *peertest.SSHD, cfg *ClientConfig) *Conn {
	t.Helper()
	hostKeyAlg := osshHostKey0
	if len(cfg.HostKeyAlgorithms) > 0 {
		hostKeyAlg = cfg.HostKeyAlgorithms[0]
	}
	want := sshdHostKey(t, sshd, hostKeyAlg)
	fixed := ssh.FixedHostKey(want)
	var got ssh.PublicKey
	var gotHost string
	cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
		got, gotHost = key, host
		return fixed(host, remote, key)
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = osshHandshakeTimeout
	}
	nc, err := net.DialTimeout("tcp", sshd.Addr, osshWaitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Client(nc, sshd.Addr, cfg)
	if err != nil {
		t.Fatalf("handshake with sshd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	nc.SetDeadline(time.Now().Add(osshConnTimeout))
	if got == nil || !bytes.Equal(got.Marshal(), want.Marshal()) || gotHost != sshd.Addr {
		t.Fatalf("HostKeyCallback got %v for %q; want sshd's %s key for %q", got, gotHost, want.Type(), sshd.Addr)
	}
	return c
}

// sshdReadAuthReply reads sshd's answer to a USERAUTH_REQUEST, skipping
// USERAUTH_BANNER.
func sshdReadAuthReply(t *testing.T, c *Conn) []byte {
	t.Helper()
	for {
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatalf("read answer to USERAUTH_REQUEST: %v", err)
		}
		if p[0] != wire.MsgUserauthBanner {
			return p
		}
	}
}

// sshdAuthNone sends USERAUTH_REQUEST for method "none" (RFC 4252 §5.2)
// and returns the methods of the USERAUTH_FAILURE that answers it.
func sshdAuthNone(t *testing.T, c *Conn, user string) string {
	t.Helper()
	req := []byte{wire.MsgUserauthRequest}
	req = wire.AppendStringS(req, user)
	req = wire.AppendStringS(req, "ssh-connection")
	req = wire.AppendStringS(req, "none")
	if err := c.WritePacket(req); err != nil {
		t.Fatalf("write USERAUTH_REQUEST: %v", err)
	}
	p := sshdReadAuthReply(t, c)
	if p[0] != wire.MsgUserauthFailure {
		t.Fatalf("got message %d; want USERAUTH_FAILURE", p[0])
	}
	r := wire.Reader(p[1:])
	var methods wire.NameList
	var partial bool
	if !r.ReadNameList(&methods) || !r.ReadBool(&partial) || !r.Empty() {
		t.Fatalf("malformed USERAUTH_FAILURE %x", p)
	}
	if partial {
		t.Errorf("USERAUTH_FAILURE for none claims partial success")
	}
	return string(methods)
}

// sshdAuthPublicKey logs in with signer (RFC 4252 §7) and expects
// USERAUTH_SUCCESS.
func sshdAuthPublicKey(t *testing.T, c *Conn, user string, signer ssh.Signer) {
	t.Helper()
	pub := signer.PublicKey()
	req := []byte{wire.MsgUserauthRequest}
	req = wire.AppendStringS(req, user)
	req = wire.AppendStringS(req, "ssh-connection")
	req = wire.AppendStringS(req, "publickey")
	req = wire.AppendBool(req, true)
	req = wire.AppendStringS(req, pub.Type())
	req = wire.AppendString(req, pub.Marshal())
	// The signature covers the session identifier and the request so far.
	signed := append(wire.AppendString(nil, c.SessionID()), req...)
	sig, err := signer.Sign(rand.Reader, signed)
	if err != nil {
		t.Fatal(err)
	}
	req = wire.AppendString(req, ssh.Marshal(sig))
	if err := c.WritePacket(req); err != nil {
		t.Fatalf("write USERAUTH_REQUEST: %v", err)
	}
	if p := sshdReadAuthReply(t, c); p[0] != wire.MsgUserauthSuccess {
		t.Fatalf("publickey authentication: got message %d (%x); want USERAUTH_SUCCESS", p[0], p)
	}
	c.SetAuthenticated()
}

// sshdPing sends a GLOBAL_REQUEST that sshd does not know, with
// want_reply set, and waits for its REQUEST_FAILURE (RFC 4254 §4),
// skipping sshd's own global requests. It shows that the connection
// still carries packets both ways.
func sshdPing(t *testing.T, c *Conn) {
	t.Helper()
	req := wire.AppendStringS([]byte{wire.MsgGlobalRequest}, "keepalive@openssh.com")
	req = wire.AppendBool(req, true)
	if err := c.WritePacket(req); err != nil {
		t.Fatalf("write GLOBAL_REQUEST: %v", err)
	}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatalf("read answer to GLOBAL_REQUEST: %v", err)
		}
		switch p[0] {
		case wire.MsgGlobalRequest:
			continue
		case wire.MsgRequestFailure, wire.MsgRequestSuccess:
			return
		}
		t.Fatalf("got message %d; want REQUEST_FAILURE", p[0])
	}
}

// sshdLogFrom waits until sshd's log from byte off on contains substr,
// and returns that part of the log.
func sshdLogFrom(t *testing.T, sshd *peertest.SSHD, off int, substr string) string {
	t.Helper()
	deadline := time.Now().Add(osshWaitTimeout)
	for {
		if log := sshd.Log(); len(log) >= off && strings.Contains(log[off:], substr) {
			return log[off:]
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not log %q within %v", substr, osshWaitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sshdWaitKexes waits until sshd's log shows at least n complete key
// exchanges, and returns them all.
func sshdWaitKexes(t *testing.T, sshd *peertest.SSHD, n int) []peertest.Negotiated {
	t.Helper()
	deadline := time.Now().Add(osshWaitTimeout)
	for {
		all := peertest.Negotiations(sshd.Log())
		// The direction lines come last; until both are in, the key
		// exchange is still running.
		if len(all) >= n && all[n-1].CipherCS != "" && all[n-1].CipherSC != "" {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd logged %d key exchanges within %v; want at least %d", len(all), osshWaitTimeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sshdWithUserKey starts sshd letting the current user in with a new
// ed25519 key, and returns it with the key.
func sshdWithUserKey(t *testing.T, extra ...string) (*peertest.SSHD, ssh.Signer) {
	t.Helper()
	signer := testutil.Ed25519Signer(t)
	sshd := peertest.StartSSHD(t, peertest.SSHDOptions{
		AuthorizedKeys: [][]byte{ssh.MarshalAuthorizedKey(signer.PublicKey())},
		Extra:          extra,
	})
	return sshd, signer
}

// TestOpenSSHServerHandshake connects our client to sshd with every
// algorithm both implement, up to the USERAUTH_FAILURE for "none", and
// checks that both sides agree on what was negotiated.
func TestOpenSSHServerHandshake(t *testing.T) {
	peertest.RequireOpenSSH(t)
	sshd := peertest.StartSSHD(t, peertest.SSHDOptions{
		HostKeyTypes: []string{peertest.KeyEd25519, peertest.KeyECDSA, peertest.KeyRSA},
	})
	for i, oc := range osshMatrix() {
		t.Run(oc.name(), func(t *testing.T) {
			off := len(sshd.Log())
			// A user name per connection finds its lines in the shared log.
			user := fmt.Sprintf("zerossh%d", i)
			cfg := &ClientConfig{HostKeyAlgorithms: []string{oc.hostKey}}
			cfg.KeyExchanges = []string{oc.kex}
			cfg.Ciphers = []string{oc.cipher}
			if oc.mac != "" {
				cfg.MACs = []string{oc.mac}
			}
			c := dialSSHD(t, sshd, cfg)
			if got, want := c.Algorithms(), oc.algorithms(); got != want {
				t.Errorf("negotiated %+v; want %+v", got, want)
			}
			if !c.StrictKex() {
				t.Errorf("strict kex not negotiated with sshd")
			}
			if err := c.RequestService("ssh-userauth"); err != nil {
				t.Fatalf("RequestService: %v", err)
			}
			if _, ok := c.Extensions()["server-sig-algs"]; !ok {
				t.Errorf("no server-sig-algs in EXT_INFO; got %q", c.Extensions())
			}
			if methods := sshdAuthNone(t, c, user); !wire.NameList(methods).Contains("publickey") {
				t.Errorf("sshd offers methods %q; want publickey among them", methods)
			}
			log := sshdLogFrom(t, sshd, off, "userauth-request for user "+user+" ")
			kexes := peertest.Negotiations(log)
			if len(kexes) != 1 {
				t.Fatalf("sshd logged %d key exchanges; want 1: %+v", len(kexes), kexes)
			}
			if got, want := osshNegotiated(c.Algorithms(), true), kexes[0]; got != want {
				t.Errorf("we negotiated %+v; sshd logged %+v", got, want)
			}
		})
	}
}

// --- ssh against our server ---

// osshServer is our server on 127.0.0.1 with a stand-in for user
// authentication and the connection protocol: USERAUTH_REQUEST gets
// USERAUTH_FAILURE offering publickey (or USERAUTH_SUCCESS with
// acceptNone), CHANNEL_OPEN gets CHANNEL_OPEN_FAILURE, and a
// GLOBAL_REQUEST that wants a reply gets REQUEST_FAILURE.
type osshServer struct {
	l          *net.TCPListener
	cfg        *ServerConfig
	acceptNone bool
	// onChannelOpen, when set, runs before CHANNEL_OPEN is refused.
	onChannelOpen func(c *Conn) error
}

// osshResult is how one connection to an osshServer went.
type osshResult struct {
	algs          Algorithms
	strict        bool
	authRequests  int
	channelOpens  int
	kexes         int   // key exchanges completed, the first included
	err           error // why the connection ended
	onChannelOpen error
}

// osshServerConfig offers every algorithm OpenSSH also implements, with
// ed25519, ECDSA P-256 and RSA host keys.
func osshServerConfig() *ServerConfig {
	keys := hostKeys()
	cfg := &ServerConfig{HostKeys: []ssh.Signer{
		keys[ssh.KeyAlgoED25519], keys[ssh.KeyAlgoECDSA256], keys[ssh.KeyAlgoRSASHA512],
	}}
	cfg.KeyExchanges = osshKexes
	cfg.Ciphers = append(slices.Clone(osshAEADs), osshCTRs...)
	cfg.MACs = osshMACs
	cfg.HandshakeTimeout = osshHandshakeTimeout
	cfg.Services = []string{"ssh-userauth"}
	return cfg
}

func startOSSHServer(t *testing.T, cfg *ServerConfig) *osshServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &osshServer{l: l.(*net.TCPListener), cfg: cfg}
}

func (s *osshServer) port() int { return s.l.Addr().(*net.TCPAddr).Port }

// serveOne accepts one connection and serves it until it ends; the
// result arrives on the channel.
func (s *osshServer) serveOne() <-chan osshResult {
	ch := make(chan osshResult, 1)
	go func() {
		var res osshResult
		defer func() { ch <- res }()
		s.l.SetDeadline(time.Now().Add(osshConnTimeout))
		nc, err := s.l.Accept()
		if err != nil {
			res.err = err
			return
		}
		c, err := Server(nc, s.cfg)
		if err != nil {
			res.err = fmt.Errorf("handshake: %w", err)
			return
		}
		defer c.Close()
		nc.SetDeadline(time.Now().Add(osshConnTimeout))
		res.algs, res.strict = c.Algorithms(), c.StrictKex()
		res.err = s.serve(c, &res)
		res.kexes = osshKexCount(c)
	}()
	return ch
}

func (s *osshServer) serve(c *Conn, res *osshResult) error {
	authReply := []byte{wire.MsgUserauthSuccess}
	if !s.acceptNone {
		authReply = wire.AppendNameList([]byte{wire.MsgUserauthFailure}, []string{"publickey"})
		authReply = wire.AppendBool(authReply, false)
	}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return err
		}
		var reply []byte
		r := wire.Reader(p[1:])
		switch p[0] {
		case wire.MsgUserauthRequest:
			res.authRequests++
			reply = authReply
		case wire.MsgGlobalRequest:
			var name []byte
			var wantReply bool
			if r.ReadString(&name) && r.ReadBool(&wantReply) && wantReply {
				reply = []byte{wire.MsgRequestFailure}
			}
		case wire.MsgChannelOpen:
			res.channelOpens++
			var typ []byte
			var sender uint32
			if !r.ReadString(&typ) || !r.ReadUint32(&sender) {
				return fmt.Errorf("malformed CHANNEL_OPEN %x", p)
			}
			if s.onChannelOpen != nil {
				if res.onChannelOpen = s.onChannelOpen(c); res.onChannelOpen != nil {
					return res.onChannelOpen
				}
			}
			// Reason 1: administratively prohibited (RFC 4254 §5.1).
			reply = wire.AppendUint32([]byte{wire.MsgChannelOpenFailure}, sender)
			reply = wire.AppendUint32(reply, 1)
			reply = wire.AppendStringS(reply, "zerossh test server")
			reply = wire.AppendStringS(reply, "")
		}
		if reply != nil {
			if err := c.WritePacket(reply); err != nil {
				return err
			}
			if reply[0] == wire.MsgUserauthSuccess {
				c.SetAuthenticated()
			}
		}
	}
}

// wait returns the result of the connection that ssh has left.
func (s *osshServer) wait(t *testing.T, ch <-chan osshResult) osshResult {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(osshConnTimeout + osshWaitTimeout):
		t.Fatal("our server did not see the connection end")
	}
	return osshResult{}
}

// checkEndedByPeer fails the test when our server ended the connection
// over a fault it found, rather than because ssh went away.
func (res osshResult) checkEndedByPeer(t *testing.T) {
	t.Helper()
	var de *DisconnectError
	if errors.As(res.err, &de) && !de.Remote {
		t.Errorf("our server ended the connection: %v", res.err)
	}
	if res.authRequests == 0 {
		t.Errorf("our server got no USERAUTH_REQUEST; the connection ended with %v", res.err)
	}
}

// runSSH runs ssh -vvv against port with the given -o options and returns
// its stderr. ssh never gets a session from our server, so it must exit
// with status 255.
func runSSH(t *testing.T, port int, opts ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), osshConnTimeout)
	defer cancel()
	_, stderr, err := peertest.RunSSH(t, ctx, peertest.SSHClientOptions{
		Port:    port,
		User:    "zerossh",
		Options: opts,
		Command: []string{"true"},
		Verbose: true,
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ssh -vvv (%v):\n%s", err, stderr)
		}
	})
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 255 {
		t.Errorf("ssh ended with %v; want exit status 255", err)
	}
	return string(stderr)
}

// checkSSHLogged checks that ssh's -vvv log has lines ending with each of
// want.
func checkSSHLogged(t *testing.T, log string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !osshLogHasLine(log, w) {
			t.Errorf("ssh did not log %q", w)
		}
	}
}

// TestOpenSSHClientHandshake connects ssh to our server with every
// algorithm both implement, up to our USERAUTH_FAILURE, and checks that
// both sides agree on what was negotiated.
func TestOpenSSHClientHandshake(t *testing.T) {
	peertest.RequireOpenSSH(t)
	srv := startOSSHServer(t, osshServerConfig())
	for _, oc := range osshMatrix() {
		t.Run(oc.name(), func(t *testing.T) {
			ch := srv.serveOne()
			log := runSSH(t, srv.port(), oc.sshOptions()...)
			res := srv.wait(t, ch)
			res.checkEndedByPeer(t)
			kexes := peertest.Negotiations(log)
			if len(kexes) != 1 {
				t.Fatalf("ssh logged %d key exchanges; want 1: %+v", len(kexes), kexes)
			}
			if got, want := kexes[0], osshNegotiated(oc.algorithms(), true); got != want {
				t.Errorf("ssh negotiated %+v; want %+v", got, want)
			}
			if got, want := res.algs, oc.algorithms(); got != want {
				t.Errorf("our server negotiated %+v; want %+v", got, want)
			}
			if !res.strict {
				t.Errorf("our server did not negotiate strict kex")
			}
			checkSSHLogged(t, log,
				"kex_choose_conf: will use strict KEX ordering",
				"SSH2_MSG_SERVICE_ACCEPT received",
				"Authentications that can continue: publickey")
		})
	}
}

// --- Rekeying ---

// TestOpenSSHRekey rekeys with OpenSSH on both sides, started by either
// one: on demand, by a byte budget, and by OpenSSH's RekeyLimit.
func TestOpenSSHRekey(t *testing.T) {
	peertest.RequireOpenSSH(t)
	t.Run("Client-RekeyLimit", func(t *testing.T) {
		// sshd starts a key exchange once it has read 64 KiB.
		sshd, key := sshdWithUserKey(t, "RekeyLimit 64K")
		cfg := &ClientConfig{}
		cfg.KeyExchanges = []string{osshKex0}
		c := dialSSHD(t, sshd, cfg)
		sid := c.SessionID()
		if err := c.RequestService("ssh-userauth"); err != nil {
			t.Fatal(err)
		}
		sshdAuthPublicKey(t, c, peertest.CurrentUser(t), key)
		sshdPing(t, c)
		data := make([]byte, 16<<10)
		for range 16 {
			if err := c.SendIgnore(data); err != nil {
				t.Fatalf("SendIgnore: %v", err)
			}
		}
		sshdPing(t, c)
		kexes := sshdWaitKexes(t, sshd, 2)
		for i, k := range kexes[1:] {
			if k != kexes[0] {
				t.Errorf("rekey %d negotiated %+v; the first key exchange %+v", i+1, k, kexes[0])
			}
		}
		if !osshLogHasLine(sshd.Log(), "rekex triggered") {
			t.Errorf("sshd did not start the rekey itself")
		}
		if n := osshKexCount(c); n < 2 {
			t.Errorf("our client completed %d key exchanges; want at least 2", n)
		}
		sshdPing(t, c)
		if !bytes.Equal(c.SessionID(), sid) {
			t.Errorf("session ID changed across rekeys")
		}
	})
	t.Run("Client-Rekey", func(t *testing.T) {
		sshd, key := sshdWithUserKey(t)
		cfg := &ClientConfig{}
		cfg.KeyExchanges = []string{osshKex0}
		c := dialSSHD(t, sshd, cfg)
		if err := c.RequestService("ssh-userauth"); err != nil {
			t.Fatal(err)
		}
		sshdAuthPublicKey(t, c, peertest.CurrentUser(t), key)
		for i := range 3 {
			if err := c.Rekey(); err != nil {
				t.Fatalf("Rekey %d: %v", i+1, err)
			}
			sshdWaitKexes(t, sshd, i+2)
			sshdPing(t, c)
		}
		if got, want := osshNegotiated(c.Algorithms(), true), peertest.Negotiations(sshd.Log())[3]; got != want {
			t.Errorf("last rekey: we negotiated %+v; sshd logged %+v", got, want)
		}
	})
	t.Run("Client-RekeyBeforeAuth", func(t *testing.T) {
		// sshd answers a KEXINIT before user authentication with
		// UNIMPLEMENTED; no key exchange can follow, and Rekey must not
		// wait for one forever.
		sshd := peertest.StartSSHD(t, peertest.SSHDOptions{})
		cfg := &ClientConfig{}
		cfg.KeyExchanges = []string{osshKex0}
		unimplemented := make(chan uint32, 8)
		cfg.OnUnimplemented = func(seq uint32) {
			select {
			case unimplemented <- seq:
			default:
			}
		}
		c := dialSSHD(t, sshd, cfg)
		if err := c.RequestService("ssh-userauth"); err != nil {
			t.Fatal(err)
		}
		sshdAuthNone(t, c, "zerossh")
		done := make(chan error, 1)
		go func() { done <- c.Rekey() }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("Rekey returned nil, but sshd refused the key exchange")
			}
		case <-time.After(osshWaitTimeout):
			sshdLogFrom(t, sshd, 0, "dispatch_protocol_error: type 20")
			c.Close()
			<-done
			t.Errorf("Rekey still waits %v after sshd answered our KEXINIT with UNIMPLEMENTED "+
				"(sshd logged \"dispatch_protocol_error: type 20\"; %d UNIMPLEMENTED reached OnUnimplemented)",
				osshWaitTimeout, len(unimplemented))
		}
	})
	t.Run("Server-Rekey", func(t *testing.T) {
		cfg := osshServerConfig()
		cfg.RekeyBytes = 100 << 10 // more than the IGNOREs below, so ssh's limit acts first
		srv := startOSSHServer(t, cfg)
		srv.acceptNone = true
		srv.onChannelOpen = func(c *Conn) error {
			// On demand.
			n := osshKexCount(c)
			if err := c.Rekey(); err != nil {
				return fmt.Errorf("Rekey: %w", err)
			}
			if got := osshKexCount(c); got != n+1 {
				return fmt.Errorf("%d key exchanges after Rekey; want %d", got, n+1)
			}
			// Started by ssh: 80 KiB is more than its RekeyLimit.
			data := make([]byte, 16<<10)
			for range 5 {
				if err := c.SendIgnore(data); err != nil {
					return err
				}
			}
			deadline := time.Now().Add(osshWaitTimeout)
			for osshKexCount(c) < n+2 {
				if time.Now().After(deadline) {
					return fmt.Errorf("no rekey from ssh within %v", osshWaitTimeout)
				}
				time.Sleep(5 * time.Millisecond)
			}
			// By a byte budget: 120 KiB of upper-layer packets is more than
			// RekeyBytes (and ssh's RekeyLimit, so either side may start it). ssh ignores global requests it does not
			// know that want no reply. The CHANNEL_OPEN_FAILURE after them
			// is held back until the key exchange they start is over.
			pad := wire.AppendStringS([]byte{wire.MsgGlobalRequest}, "padding@zerossh")
			pad = wire.AppendBool(pad, false)
			pad = append(pad, make([]byte, 20<<10)...)
			for range 6 {
				if err := c.WritePacket(pad); err != nil {
					return err
				}
			}
			return nil
		}
		ch := srv.serveOne()
		log := runSSH(t, srv.port(), "RekeyLimit=64K", "KexAlgorithms="+osshKex0)
		res := srv.wait(t, ch)
		res.checkEndedByPeer(t)
		if res.onChannelOpen != nil {
			t.Errorf("our server: %v", res.onChannelOpen)
		}
		checkSSHLogged(t, log,
			`using "none".`,
			"ssh_packet_check_rekey: rekex triggered",
			"channel 0: open failed: administratively prohibited: zerossh test server")
		kexes := peertest.Negotiations(log)
		if len(kexes) < 4 || res.kexes != len(kexes) {
			t.Errorf("ssh logged %d key exchanges, our server completed %d; want at least 4 each "+
				"(the first, on demand, by ssh's RekeyLimit, by a byte budget)", len(kexes), res.kexes)
		}
		for i, k := range kexes {
			if want := osshNegotiated(res.algs, false); k != want {
				t.Errorf("ssh key exchange %d: %+v; want %+v", i+1, k, want)
			}
		}
	})
}

// --- EXT_INFO ---

// TestOpenSSHExtInfo checks EXT_INFO (RFC 8308) both ways: sshd's
// server-sig-algs reaches our client, ours reaches ssh.
func TestOpenSSHExtInfo(t *testing.T) {
	peertest.RequireOpenSSH(t)
	t.Run("Client", func(t *testing.T) {
		sshd := peertest.StartSSHD(t, peertest.SSHDOptions{})
		c := dialSSHD(t, sshd, &ClientConfig{})
		if err := c.RequestService("ssh-userauth"); err != nil {
			t.Fatal(err)
		}
		algs, ok := c.Extensions()["server-sig-algs"]
		if !ok {
			t.Fatalf("no server-sig-algs; got %q", c.Extensions())
		}
		if !wire.NameList(algs).Contains(ssh.KeyAlgoRSASHA512) {
			t.Errorf("server-sig-algs %q lacks rsa-sha2-512", algs)
		}
	})
	t.Run("Server", func(t *testing.T) {
		srv := startOSSHServer(t, osshServerConfig())
		ch := srv.serveOne()
		log := runSSH(t, srv.port())
		res := srv.wait(t, ch)
		res.checkEndedByPeer(t)
		checkSSHLogged(t, log,
			"kex_input_ext_info: server-sig-algs=<"+strings.Join(DefaultServerSigAlgs, ",")+">",
			"Authentications that can continue: publickey")
	})
}
