package zerossh

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/wire"
)

// rawTimeout bounds every blocking step of the hand-driven peers below, so
// that a transport that stops answering fails a test instead of hanging it.
const rawTimeout = 10 * time.Second

// rawMaxPacket bounds the packets the hand-driven peers read.
const rawMaxPacket = 1 << 20

// rawPeer speaks one end of an SSH connection by hand: version lines and
// clear-text binary packets (RFC 4253 §4.2 and §6), for tests that send
// what a Conn never would.
//
// What the other end sends is read into an unbounded queue as it arrives,
// as a socket's receive buffer would hold it, so that a peer writing its
// DISCONNECT never waits for the test, even on a net.Pipe.
type rawPeer struct {
	nc    net.Conn
	r     *bufio.Reader
	in    chan []byte
	inErr error // why reading stopped; set before in is closed
	stop  chan struct{}
	rest  []byte // the unread part of the chunk taken from in
	// unimplemented are the sequence numbers of the UNIMPLEMENTED
	// messages rawPacketConn passed over.
	unimplemented []uint32
}

func newRawPeer(t testing.TB, nc net.Conn) *rawPeer {
	p := &rawPeer{nc: nc, in: make(chan []byte, 64), stop: make(chan struct{})}
	p.r = bufio.NewReader(rawInbox{p})
	nc.SetWriteDeadline(time.Now().Add(rawTimeout))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			b := make([]byte, 32<<10)
			n, err := nc.Read(b)
			if n > 0 {
				select {
				case p.in <- b[:n]:
				case <-p.stop:
					return
				}
			}
			if err != nil {
				p.inErr = err
				close(p.in)
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(p.stop)
		nc.Close()
		<-done
	})
	return p
}

// rawInbox reads what the other end sent, waiting at most rawTimeout for
// each piece.
type rawInbox struct{ p *rawPeer }

func (b rawInbox) Read(dst []byte) (int, error) {
	p := b.p
	if len(p.rest) == 0 {
		select {
		case chunk, ok := <-p.in:
			if !ok {
				return 0, p.inErr
			}
			p.rest = chunk
		case <-time.After(rawTimeout):
			return 0, os.ErrDeadlineExceeded
		}
	}
	n := copy(dst, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

func (p *rawPeer) write(b []byte) error {
	_, err := p.nc.Write(b)
	return err
}

// writeVersion sends line and CR LF.
func (p *rawPeer) writeVersion(line string) error { return p.write([]byte(line + "\r\n")) }

// readVersion skips lines up to the other end's SSH- line and returns it
// without its line ending.
func (p *rawPeer) readVersion() (string, error) {
	for range maxPreVersionLines + 1 {
		line, err := p.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if strings.HasPrefix(line, "SSH-") {
			return line, nil
		}
	}
	return "", errors.New("raw peer: no version line")
}

// writePacket sends payload as a clear-text binary packet.
func (p *rawPeer) writePacket(payload []byte) error { return p.write(clearPacket(payload)) }

// disconnectOr returns the DISCONNECT the other end sent before the
// connection failed under a write as a remote *DisconnectError, or err if
// there was none.
func (p *rawPeer) disconnectOr(err error) error {
	if err == nil {
		return nil
	}
	d, derr := p.readDisconnect()
	if derr != nil {
		return err
	}
	return &DisconnectError{Reason: d.Reason, Message: string(d.Description), Remote: true}
}

// readPacket reads a clear-text binary packet and returns its payload.
func (p *rawPeer) readPacket() ([]byte, error) {
	_, payload, err := readClearPacket(p.r)
	return payload, err
}

// readDisconnect reads packets up to a DISCONNECT, skipping any other
// (such as the KEXINIT a transport sends at once), and returns it.
func (p *rawPeer) readDisconnect() (*wire.Disconnect, error) {
	for {
		payload, err := p.readPacket()
		if err != nil {
			return nil, err
		}
		if payload[0] != wire.MsgDisconnect {
			continue
		}
		var m wire.Disconnect
		if err := m.Parse(payload); err != nil {
			return nil, err
		}
		return &m, nil
	}
}

// clearPadding is the padding of a clear-text packet with an n-byte
// payload: RFC 4253 §6 asks for at least four bytes, up to a multiple of
// eight with packet_length included.
func clearPadding(n int) int {
	pad := clearBlockSize - (4+1+n)%clearBlockSize
	if pad < minPadding {
		pad += clearBlockSize
	}
	return pad
}

// appendClearPacket appends payload framed as a clear-text binary packet
// with padLen zero bytes of padding, whether or not that is valid.
func appendClearPacket(dst, payload []byte, padLen int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(1+len(payload)+padLen))
	dst = append(dst, byte(padLen))
	dst = append(dst, payload...)
	return append(dst, make([]byte, padLen)...)
}

// clearPacket frames payload as a valid clear-text binary packet.
func clearPacket(payload []byte) []byte {
	return appendClearPacket(nil, payload, clearPadding(len(payload)))
}

// readClearPacket reads one clear-text binary packet from r and returns
// it whole and its payload, which aliases it.
func readClearPacket(r io.Reader) (pkt, payload []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1+minPadding || n > rawMaxPacket {
		return nil, nil, fmt.Errorf("raw peer: packet length %d", n)
	}
	pkt = make([]byte, 4+n)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, nil, err
	}
	pad := uint32(pkt[4])
	if pad+1 >= n {
		return nil, nil, fmt.Errorf("raw peer: padding %d in a packet of %d", pad, n)
	}
	return pkt, pkt[5 : 4+n-pad], nil
}

// rawPacketConn carries a key exchange method's messages over a rawPeer. A
// DISCONNECT read turns into a remote *DisconnectError; IGNORE, DEBUG and
// UNIMPLEMENTED are passed over, the sequence numbers UNIMPLEMENTED
// carries kept in the rawPeer.
type rawPacketConn struct{ p *rawPeer }

var _ kex.PacketConn = rawPacketConn{}

func (c rawPacketConn) WritePacket(payload []byte) error {
	return c.p.disconnectOr(c.p.writePacket(payload))
}

func (c rawPacketConn) ReadPacket() ([]byte, error) {
	for {
		payload, err := c.p.readPacket()
		if err != nil {
			return nil, err
		}
		switch payload[0] {
		case wire.MsgDisconnect:
			var m wire.Disconnect
			if err := m.Parse(payload); err != nil {
				return nil, err
			}
			return nil, &DisconnectError{Reason: m.Reason, Message: string(m.Description), Remote: true}
		case wire.MsgUnimplemented:
			var m wire.Unimplemented
			if err := m.Parse(payload); err != nil {
				return nil, err
			}
			c.p.unimplemented = append(c.p.unimplemented, m.Seq)
		case wire.MsgIgnore, wire.MsgDebug:
		default:
			return payload, nil
		}
	}
}

// clientKexInit is the payload of a client KEXINIT with the given lists;
// the MAC and compression lists are ones every test server takes.
func clientKexInit(kexAlgos, hostKeyAlgos, ciphers string, follows bool) []byte {
	m := wire.KexInit{
		KexAlgos:                wire.NameList(kexAlgos),
		ServerHostKeyAlgos:      wire.NameList(hostKeyAlgos),
		CiphersClientServer:     wire.NameList(ciphers),
		CiphersServerClient:     wire.NameList(ciphers),
		MACsClientServer:        wire.NameList("hmac-sha2-256-etm@openssh.com"),
		MACsServerClient:        wire.NameList("hmac-sha2-256-etm@openssh.com"),
		CompressionClientServer: wire.NameList("none"),
		CompressionServerClient: wire.NameList("none"),
		FirstKexFollows:         follows,
	}
	copy(m.Cookie[:], "raw peer cookie!")
	return m.Append(nil)
}

// rawClientKex is a client handshake driven by hand against a real
// server: the version exchange, then one curve25519-sha256 key exchange
// (RFC 8731) in clear-text packets, up to both NEWKEYS. Empty fields take
// the defaults their comments give.
type rawClientKex struct {
	// hello is sent as the version exchange, line ending included;
	// "SSH-2.0-rawpeer\r\n".
	hello string
	// kexAlgos is the KEXINIT's kex_algorithms;
	// "curve25519-sha256,kex-strict-c-v00@openssh.com".
	kexAlgos string
	// hostKeyAlgos is the KEXINIT's server_host_key_algorithms; "ssh-ed25519".
	hostKeyAlgos string
	// follows is the KEXINIT's first_kex_packet_follows.
	follows bool
	// before are payloads sent ahead of KEXINIT, after payloads right
	// after it (such as a first_kex_packet_follows guess).
	before, after [][]byte
}

// run drives the handshake over p. It checks the server's signature over
// the exchange hash, so a nil error means both sides hashed the same
// transcript.
func (k rawClientKex) run(p *rawPeer) error {
	hello := cmp.Or(k.hello, "SSH-2.0-rawpeer\r\n")
	if err := p.write([]byte(hello)); err != nil {
		return err
	}
	serverVersion, err := p.readVersion()
	if err != nil {
		return err
	}
	pc := rawPacketConn{p}
	serverKexInit, err := pc.ReadPacket()
	if err != nil {
		return err
	}
	if serverKexInit[0] != wire.MsgKexInit {
		return fmt.Errorf("raw client: first server packet is message %d; want KEXINIT", serverKexInit[0])
	}
	ours := clientKexInit(cmp.Or(k.kexAlgos, kex.Curve25519SHA256+","+strictKexClient),
		cmp.Or(k.hostKeyAlgos, ssh.KeyAlgoED25519), "aes128-gcm@openssh.com", k.follows)
	for _, b := range slices.Concat(k.before, [][]byte{ours}, k.after) {
		if err := pc.WritePacket(b); err != nil {
			return err
		}
	}
	method, _ := kex.Lookup(kex.Curve25519SHA256)
	clientVersion := strings.TrimSuffix(strings.TrimSuffix(hello, "\n"), "\r")
	res, err := method.Client(pc, rand.Reader, &kex.Magics{
		ClientVersion: []byte(clientVersion), ServerVersion: []byte(serverVersion),
		ClientKexInit: ours, ServerKexInit: serverKexInit,
	})
	if err != nil {
		return err
	}
	if err := verifyKexSignature(res); err != nil {
		return err
	}
	newKeys, err := pc.ReadPacket()
	if err != nil {
		return err
	}
	if len(newKeys) != 1 || newKeys[0] != wire.MsgNewKeys {
		return fmt.Errorf("raw client: message %d where NEWKEYS was expected", newKeys[0])
	}
	return pc.WritePacket([]byte{wire.MsgNewKeys})
}

// rawServerKex is a server handshake driven by hand against a real
// client: the version exchange, then one curve25519-sha256 key exchange
// signed with hostKey, in clear-text packets, up to both NEWKEYS.
type rawServerKex struct {
	hostKey ssh.Signer
	// kexAlgos is the KEXINIT's kex_algorithms;
	// "curve25519-sha256,kex-strict-s-v00@openssh.com".
	kexAlgos string
	// follows is the KEXINIT's first_kex_packet_follows.
	follows bool
	// after are payloads sent right after KEXINIT (such as a
	// first_kex_packet_follows guess).
	after [][]byte
}

func (k rawServerKex) run(p *rawPeer) error {
	const version = "SSH-2.0-rawserver"
	if err := p.writeVersion(version); err != nil {
		return err
	}
	clientVersion, err := p.readVersion()
	if err != nil {
		return err
	}
	m := wire.KexInit{
		KexAlgos:                wire.NameList(cmp.Or(k.kexAlgos, kex.Curve25519SHA256+","+strictKexServer)),
		ServerHostKeyAlgos:      wire.NameList(k.hostKey.PublicKey().Type()),
		CiphersClientServer:     wire.NameList("aes128-gcm@openssh.com"),
		CiphersServerClient:     wire.NameList("aes128-gcm@openssh.com"),
		MACsClientServer:        wire.NameList("hmac-sha2-256-etm@openssh.com"),
		MACsServerClient:        wire.NameList("hmac-sha2-256-etm@openssh.com"),
		CompressionClientServer: wire.NameList("none"),
		CompressionServerClient: wire.NameList("none"),
		FirstKexFollows:         k.follows,
	}
	ours := m.Append(nil)
	pc := rawPacketConn{p}
	for _, b := range slices.Concat([][]byte{ours}, k.after) {
		if err := pc.WritePacket(b); err != nil {
			return err
		}
	}
	clientKexInit, err := pc.ReadPacket()
	if err != nil {
		return err
	}
	if clientKexInit[0] != wire.MsgKexInit {
		return fmt.Errorf("raw server: first client packet is message %d; want KEXINIT", clientKexInit[0])
	}
	clientKexInit = bytes.Clone(clientKexInit)
	method, _ := kex.Lookup(kex.Curve25519SHA256)
	sign := func(h []byte) ([]byte, error) {
		sig, err := k.hostKey.Sign(rand.Reader, h)
		if err != nil {
			return nil, err
		}
		return wire.AppendString(wire.AppendStringS(nil, sig.Format), sig.Blob), nil
	}
	_, err = method.Server(pc, rand.Reader, &kex.Magics{
		ClientVersion: []byte(clientVersion), ServerVersion: []byte(version),
		ClientKexInit: clientKexInit, ServerKexInit: ours,
	}, k.hostKey.PublicKey().Marshal(), sign)
	if err != nil {
		return err
	}
	if err := pc.WritePacket([]byte{wire.MsgNewKeys}); err != nil {
		return err
	}
	newKeys, err := pc.ReadPacket()
	if err != nil {
		return err
	}
	if len(newKeys) != 1 || newKeys[0] != wire.MsgNewKeys {
		return fmt.Errorf("raw server: message %d where NEWKEYS was expected", newKeys[0])
	}
	return nil
}

// verifyKexSignature checks the server's signature over the exchange hash
// (RFC 4253 §8).
func verifyKexSignature(res *kex.Result) error {
	key, err := ssh.ParsePublicKey(res.HostKey)
	if err != nil {
		return err
	}
	var format, blob []byte
	r := wire.Reader(res.Signature)
	if !r.ReadString(&format) || !r.ReadString(&blob) || !r.Empty() {
		return errors.New("raw client: malformed signature")
	}
	return key.Verify(res.H, &ssh.Signature{Format: string(format), Blob: blob})
}

// pendingServer is a Server handshake running on its own goroutine.
type pendingServer struct {
	done chan struct{}
	s    *Conn
	err  error
}

// startServer runs Server over nc with test defaults for the empty fields
// of sc: a fresh ed25519 host key, the ssh-userauth service and a 10 s
// handshake timeout. The server is closed when the test ends.
func startServer(t testing.TB, nc net.Conn, sc *ServerConfig) *pendingServer {
	t.Helper()
	if sc.HostKeys == nil {
		sc.HostKeys = []ssh.Signer{testutil.Ed25519Signer(t)}
	}
	if sc.Services == nil {
		sc.Services = []string{"ssh-userauth"}
	}
	if sc.HandshakeTimeout == 0 {
		sc.HandshakeTimeout = rawTimeout
	}
	ps := &pendingServer{done: make(chan struct{})}
	go func() {
		defer close(ps.done)
		ps.s, ps.err = Server(nc, sc)
	}()
	t.Cleanup(func() {
		nc.Close()
		select {
		case <-ps.done:
			if ps.s != nil {
				ps.s.Close()
			}
		case <-time.After(2 * rawTimeout):
		}
	})
	return ps
}

// wait returns the outcome of Server, failing the test if it takes too long.
func (ps *pendingServer) wait(t testing.TB) (*Conn, error) {
	t.Helper()
	select {
	case <-ps.done:
		return ps.s, ps.err
	case <-time.After(2 * rawTimeout):
		t.Fatal("Server did not return")
		return nil, nil
	}
}

// rawTransport makes the two ends of a connection.
type rawTransport struct {
	name  string
	conns func(testing.TB) (net.Conn, net.Conn)
}

var rawTransports = []rawTransport{
	{"pipe", func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() }},
	{"tcp", tcpPair},
}

// proxyDir is a direction through a mitmProxy.
type proxyDir int

const (
	toServer proxyDir = iota // from the client to the server
	toClient                 // from the server to the client
)

func (d proxyDir) String() string {
	if d == toServer {
		return "client to server"
	}
	return "server to client"
}

// mitmProxy relays one SSH connection between a client and a server at
// the byte level and lets a test change what passes: the version lines,
// the clear-text packets up to NEWKEYS, and protected packets after it
// when their packet_length travels in clear (AES-GCM, RFC 5647 §7.3, and
// the -etm@openssh.com MACs). Hooks run on the goroutine relaying their
// direction.
type mitmProxy struct {
	// version, if set, returns the bytes sent in place of a version line,
	// which it is given with its line ending.
	version func(d proxyDir, line []byte) []byte
	// clear, if set, is given each clear-text payload, NEWKEYS included,
	// and returns the payloads to send in its place, or keep to forward
	// the packet as it came.
	clear func(d proxyDir, payload []byte) (out [][]byte, keep bool)
	// sealed, if set, is given the nth protected packet of its direction
	// (n from 0), packet_length to tag, and may change it in place. It
	// needs tagLen.
	sealed func(d proxyDir, n int, pkt []byte)
	// tagLen is the length of the tag after each protected packet: 16 for
	// AES-GCM, the MAC's size for an -etm@openssh.com MAC. Zero copies
	// the protected bytes without framing them.
	tagLen int
}

// start relays between a, the client's peer, and b, the server's, until
// both directions end. Each direction closes the end it writes to once
// the one it reads from ends.
func (m *mitmProxy) start(t testing.TB, a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); m.relay(toServer, a, b) }()
	go func() { defer wg.Done(); m.relay(toClient, b, a) }()
	t.Cleanup(func() {
		a.Close()
		b.Close()
		wg.Wait()
	})
}

func (m *mitmProxy) relay(d proxyDir, src, dst net.Conn) {
	defer dst.Close()
	r := bufio.NewReader(src)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			dst.Write(line)
			return
		}
		isVersion := bytes.HasPrefix(line, []byte("SSH-"))
		if isVersion && m.version != nil {
			line = m.version(d, line)
		}
		if _, err := dst.Write(line); err != nil {
			return
		}
		if isVersion {
			break
		}
	}
	for {
		pkt, payload, err := readClearPacket(r)
		if err != nil {
			return
		}
		out, keep := [][]byte(nil), true
		if m.clear != nil {
			out, keep = m.clear(d, payload)
		}
		if keep {
			out = nil
			if _, err := dst.Write(pkt); err != nil {
				return
			}
		}
		for _, o := range out {
			if _, err := dst.Write(clearPacket(o)); err != nil {
				return
			}
		}
		if payload[0] == wire.MsgNewKeys {
			break
		}
	}
	if m.tagLen == 0 || m.sealed == nil {
		io.Copy(dst, r)
		return
	}
	for n := 0; ; n++ {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		length := binary.BigEndian.Uint32(hdr[:])
		if length > rawMaxPacket {
			dst.Write(hdr[:])
			io.Copy(dst, r)
			return
		}
		pkt := make([]byte, 4+int(length)+m.tagLen)
		copy(pkt, hdr[:])
		if _, err := io.ReadFull(r, pkt[4:]); err != nil {
			return
		}
		m.sealed(d, n, pkt)
		if _, err := dst.Write(pkt); err != nil {
			return
		}
	}
}

// proxiedHandshake runs Client and Server through m over two pipes and
// returns both outcomes; unlike pair it leaves judging a failed handshake
// to the test. Empty fields of the configurations take test defaults
// (startServer's, an insecure host key callback, a 10 s handshake
// timeout). Both Conns are closed when the test ends.
func proxiedHandshake(t testing.TB, m *mitmProxy, cc *ClientConfig, sc *ServerConfig) (c *Conn, cerr error, s *Conn, serr error) {
	t.Helper()
	if cc.HostKeyCallback == nil {
		cc.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	}
	if cc.HandshakeTimeout == 0 {
		cc.HandshakeTimeout = rawTimeout
	}
	clientEnd, proxyA := net.Pipe()
	proxyB, serverEnd := net.Pipe()
	m.start(t, proxyA, proxyB)
	ps := startServer(t, serverEnd, sc)
	c, cerr = Client(clientEnd, "proxy", cc)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	s, serr = ps.wait(t)
	return c, cerr, s, serr
}

// TestMITMProxyTransparent checks that the proxy, with every hook set but
// changing nothing, relays a whole session: handshake, service request,
// upper-layer packets both ways and a rekey.
func TestMITMProxyTransparent(t *testing.T) {
	m := &mitmProxy{
		version: func(_ proxyDir, line []byte) []byte { return line },
		clear:   func(proxyDir, []byte) ([][]byte, bool) { return nil, true },
		sealed:  func(proxyDir, int, []byte) {},
		tagLen:  16,
	}
	cc, sc := &ClientConfig{}, &ServerConfig{}
	cc.Ciphers = []string{"aes128-gcm@openssh.com"}
	c, cerr, s, serr := proxiedHandshake(t, m, cc, sc)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	msg := []byte{wire.MsgUserauthRequest, 1, 2, 3}
	if err := c.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadPacket(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("server read %x, %v; want %x", got, err, msg)
	}
	if err := c.Rekey(); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadPacket(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("client read %x, %v; want %x", got, err, msg)
	}
}
