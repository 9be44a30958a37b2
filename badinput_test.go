package zerossh

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"encoding/binary"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/wire"
)

// rawServerSession starts a Server on one end of tr, runs the version
// exchange from the other end by hand and reads the server's KEXINIT, so
// that the test can send what it likes next.
func rawServerSession(t *testing.T, tr rawTransport, sc *ServerConfig) (*rawPeer, *pendingServer) {
	t.Helper()
	nc1, nc2 := tr.conns(t)
	ps := startServer(t, nc2, sc)
	p := newRawPeer(t, nc1)
	if err := p.writeVersion("SSH-2.0-rawpeer"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.readVersion(); err != nil {
		t.Fatalf("reading the server's version: %v", err)
	}
	payload, err := p.readPacket()
	if err != nil || payload[0] != wire.MsgKexInit {
		t.Fatalf("server's first packet: %x, %v; want KEXINIT", payload, err)
	}
	return p, ps
}

// checkServerDisconnects checks that the server ended the connection with
// a local *DisconnectError of the given reason whose Err matches wantErr
// (unless nil), and that the raw peer read a DISCONNECT with that reason.
func checkServerDisconnects(t *testing.T, p *rawPeer, ps *pendingServer, reason DisconnectReason, wantErr error) *DisconnectError {
	t.Helper()
	d, derr := p.readDisconnect()
	_, err := ps.wait(t)
	var de *DisconnectError
	if !errors.As(err, &de) || de.Remote || de.Reason != reason {
		t.Fatalf("Server: %v; want a local DisconnectError with reason %v", err, reason)
	}
	if wantErr != nil && !errors.Is(err, wantErr) {
		t.Errorf("Server: %v; want errors.Is %v", err, wantErr)
	}
	if derr != nil {
		t.Fatalf("reading DISCONNECT: %v", derr)
	}
	if d.Reason != reason {
		t.Errorf("DISCONNECT reason %v (%q); want %v", d.Reason, d.Description, reason)
	}
	return de
}

func uint32Bytes(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// TestBadInputPacket checks the binary packet faults of RFC 4253 §6 in
// the first packet after the version exchange: each ends the connection
// with DISCONNECT reason protocol error ("Packet corrupt", as OpenSSH
// says) and the precise cause, or, when the peer's bytes stop short, with
// an unexpected EOF.
func TestBadInputPacket(t *testing.T) {
	ignore := append([]byte{wire.MsgIgnore}, uint32Bytes(4)...)
	ignore = append(ignore, "abcd"...) // 9 bytes
	for _, tc := range []struct {
		name    string
		send    []byte
		eof     bool  // close the connection after send
		wantErr error // the cause: errors.Is on what Server returns
	}{
		{name: "length 0", send: uint32Bytes(0), wantErr: ErrBadPacketLength},
		{name: "length 3", send: uint32Bytes(3), wantErr: ErrBadPacketLength},
		{name: "length 4", send: uint32Bytes(4), wantErr: ErrBadPacketLength},
		{name: "length 0x7fffffff", send: uint32Bytes(0x7fffffff), wantErr: ErrBadPacketLength},
		{name: "length 0xffffffff", send: uint32Bytes(0xffffffff), wantErr: ErrBadPacketLength},
		{name: "length MaxPacketSize+4", send: uint32Bytes(defaultMaxPacket + 4), wantErr: ErrBadPacketLength},
		{name: "length not block aligned", send: append(uint32Bytes(16), make([]byte, 16)...), wantErr: ErrBadPacketLength},
		{name: "padding 2", send: appendClearPacket(nil, ignore, 2), wantErr: ErrBadPadding},
		{name: "padding 3", send: appendClearPacket(nil, append(ignore, 0, 0, 0, 0, 0, 0, 0), 3), wantErr: ErrBadPadding},
		{name: "padding leaves no payload", send: append(uint32Bytes(12), append([]byte{11}, make([]byte, 11)...)...), wantErr: ErrBadPadding},
		{name: "padding longer than packet", send: append(uint32Bytes(12), append([]byte{200}, make([]byte, 11)...)...), wantErr: ErrBadPadding},
		{name: "truncated length then EOF", send: []byte{0, 0}, eof: true, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated packet then EOF", send: append(uint32Bytes(12), 4, wire.MsgIgnore, 0, 0), eof: true, wantErr: io.ErrUnexpectedEOF},
	} {
		for _, tr := range rawTransports {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				p, ps := rawServerSession(t, tr, &ServerConfig{})
				start := time.Now()
				if err := p.write(tc.send); err != nil {
					t.Fatal(err)
				}
				if tc.eof {
					p.nc.Close()
					_, err := ps.wait(t)
					if !errors.Is(err, tc.wantErr) {
						t.Errorf("Server: %v; want %v", err, tc.wantErr)
					}
					var de *DisconnectError
					if errors.As(err, &de) {
						t.Errorf("Server: %v; want no DisconnectError for a connection that is gone", err)
					}
					return
				}
				de := checkServerDisconnects(t, p, ps, ProtocolError, tc.wantErr)
				if de.Message != "Packet corrupt" {
					t.Errorf("message %q; want %q", de.Message, "Packet corrupt")
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %v to refuse the packet", d)
				}
			})
		}
	}
}

// TestBadInputMaxPacketSizeBoundary checks that MaxPacketSize bounds
// packet_length exactly: a packet of that length passes, one a block
// longer is refused. 35008 is a multiple of eight, so 35004 is aligned.
func TestBadInputMaxPacketSizeBoundary(t *testing.T) {
	const max = 35004
	ignoreOfLength := func(length int) []byte {
		payload := make([]byte, length-1-4) // minus padding_length and 4 bytes of padding
		payload[0] = wire.MsgIgnore
		binary.BigEndian.PutUint32(payload[1:], uint32(len(payload)-5))
		return payload
	}
	t.Run("at limit", func(t *testing.T) {
		sc := &ServerConfig{}
		sc.MaxPacketSize = max
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, sc)
		p := newRawPeer(t, nc1)
		// No strict kex: it would refuse the IGNORE itself.
		k := rawClientKex{kexAlgos: kex.Curve25519SHA256, before: [][]byte{ignoreOfLength(max)}}
		if err := k.run(p); err != nil {
			t.Fatalf("raw client: %v", err)
		}
		if _, err := ps.wait(t); err != nil {
			t.Fatalf("Server: %v", err)
		}
	})
	t.Run("over limit", func(t *testing.T) {
		sc := &ServerConfig{}
		sc.MaxPacketSize = max
		p, ps := rawServerSession(t, rawTransports[0], sc)
		if err := p.writePacket(ignoreOfLength(max + 8)); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			t.Fatal(err)
		}
		checkServerDisconnects(t, p, ps, ProtocolError, ErrBadPacketLength)
	})
}

// TestBadInputBeforeKex checks messages a client may not send before its
// KEXINIT and KEXINITs that cannot start a key exchange: each ends the
// connection with the DISCONNECT reason RFC 4253 gives it.
func TestBadInputBeforeKex(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	garbage := make([]byte, 64)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	good := clientKexInit(kex.Curve25519SHA256, "ssh-ed25519", "aes128-gcm@openssh.com", false)
	var negErr *NegotiationError
	for _, tc := range []struct {
		name    string
		send    [][]byte
		reason  DisconnectReason
		wantErr error // errors.Is on Server's error, unless nil
		wantAs  any   // errors.As target, unless nil
	}{
		{name: "KEXINIT of random bytes", send: [][]byte{append([]byte{wire.MsgKexInit}, garbage...)}, reason: ProtocolError, wantErr: wire.ErrMalformed},
		{name: "KEXINIT without reserved field", send: [][]byte{good[:len(good)-4]}, reason: ProtocolError, wantErr: wire.ErrMalformed},
		{name: "KEXINIT with trailing byte", send: [][]byte{append(bytes.Clone(good), 0)}, reason: ProtocolError, wantErr: wire.ErrMalformed},
		{name: "KEXINIT with empty name", send: [][]byte{clientKexInit("curve25519-sha256,,x", "ssh-ed25519", "aes128-gcm@openssh.com", false)}, reason: ProtocolError, wantErr: wire.ErrMalformed},
		{name: "no common cipher", send: [][]byte{clientKexInit(kex.Curve25519SHA256, "ssh-ed25519", "3des-cbc,aes128-cbc", false)}, reason: KeyExchangeFailed, wantAs: &negErr},
		{name: "no common kex", send: [][]byte{clientKexInit("diffie-hellman-group1-sha1", "ssh-ed25519", "aes128-gcm@openssh.com", false)}, reason: KeyExchangeFailed, wantAs: &negErr},
		{name: "only markers as kex", send: [][]byte{clientKexInit("ext-info-c,kex-strict-c-v00@openssh.com", "ssh-ed25519", "aes128-gcm@openssh.com", false)}, reason: KeyExchangeFailed, wantAs: &negErr},
		{name: "no common host key", send: [][]byte{clientKexInit(kex.Curve25519SHA256, "ssh-dss", "aes128-gcm@openssh.com", false)}, reason: KeyExchangeFailed, wantAs: &negErr},
		{name: "ECDH_INIT before KEXINIT", send: [][]byte{{wire.MsgKexECDHInit, 0, 0, 0, 0}}, reason: ProtocolError},
		{name: "NEWKEYS before KEXINIT", send: [][]byte{{wire.MsgNewKeys}}, reason: ProtocolError},
		{name: "SERVICE_REQUEST before KEXINIT", send: [][]byte{(&wire.ServiceRequest{Service: []byte("ssh-userauth")}).Append(nil)}, reason: ProtocolError},
		{name: "USERAUTH_REQUEST before KEXINIT", send: [][]byte{{wire.MsgUserauthRequest}}, reason: ProtocolError},
		{name: "NEWKEYS before ECDH_INIT", send: [][]byte{good, {wire.MsgNewKeys}}, reason: ProtocolError},
		{name: "second KEXINIT", send: [][]byte{good, good}, reason: ProtocolError},
		{name: "short ECDH_INIT", send: [][]byte{good, append([]byte{wire.MsgKexECDHInit}, wire.AppendString(nil, make([]byte, 31))...)}, reason: ProtocolError, wantErr: wire.ErrMalformed},
		// RFC 7748 §6.1: the all-zero output of a low-order point is refused.
		{name: "low-order ECDH_INIT", send: [][]byte{good, append([]byte{wire.MsgKexECDHInit}, wire.AppendString(nil, make([]byte, 32))...)}, reason: KeyExchangeFailed},
	} {
		for _, tr := range rawTransports {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				p, ps := rawServerSession(t, tr, &ServerConfig{})
				for _, b := range tc.send {
					// The server may have stopped reading already.
					if err := p.writePacket(b); err != nil {
						break
					}
				}
				de := checkServerDisconnects(t, p, ps, tc.reason, tc.wantErr)
				if tc.wantAs != nil && !errors.As(de, tc.wantAs) {
					t.Errorf("Server: %v; want errors.As %T", de, tc.wantAs)
				}
			})
		}
	}
}

// TestBadInputReadPacketAllocs checks that refusing a packet costs no
// allocation: above all a huge packet_length is refused before any
// buffer is sized by it.
func TestBadInputReadPacketAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"length 0x7fffffff", uint32Bytes(0x7fffffff), ErrBadPacketLength},
		{"length 0", uint32Bytes(0), ErrBadPacketLength},
		{"not block aligned", uint32Bytes(16), ErrBadPacketLength},
		{"padding 2", appendClearPacket(nil, []byte{wire.MsgIgnore, 0, 0, 0, 4, 'a', 'b', 'c', 'd'}, 2), ErrBadPadding},
	} {
		src := bytes.NewReader(nil)
		r := receiver{r: bufio.NewReaderSize(src, readBufferSize), maxPacket: defaultMaxPacket, limit: ^uint64(0)}
		var err error
		read := func() {
			src.Reset(tc.in)
			r.r.Reset(src)
			_, _, _, err = r.readPacket()
		}
		read() // warm the pool
		if n := testing.AllocsPerRun(100, read); n != 0 {
			t.Errorf("%s: %v allocations per refused packet; want 0", tc.name, n)
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v; want %v", tc.name, err, tc.want)
		}
	}
}

// TestBadInputValidECDHInitAnswered checks that the server's answer to a
// valid ECDH_INIT is ECDH_REPLY, as a baseline for the refusals above.
func TestBadInputValidECDHInitAnswered(t *testing.T) {
	p, ps := rawServerSession(t, rawTransports[0], &ServerConfig{})
	good := clientKexInit(kex.Curve25519SHA256, "ssh-ed25519", "aes128-gcm@openssh.com", false)
	priv, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.writePacket(good); err != nil {
		t.Fatal(err)
	}
	if err := p.writePacket(append([]byte{wire.MsgKexECDHInit}, wire.AppendString(nil, priv.PublicKey().Bytes())...)); err != nil {
		t.Fatal(err)
	}
	reply, err := p.readPacket()
	if err != nil || reply[0] != wire.MsgKexECDHReply {
		t.Fatalf("server answered %x, %v; want ECDH_REPLY", reply, err)
	}
	p.nc.Close()
	ps.wait(t)
}

// corruptSession runs a handshake through a proxy that flips one bit of
// the nth protected packet in direction d, at offset off from the end of
// packet_length (negative: from the end of the tag).
func corruptSession(t *testing.T, cipherName, macName string, tagLen int, d proxyDir, n, off int) (c, s *Conn) {
	t.Helper()
	m := &mitmProxy{tagLen: tagLen, sealed: func(dir proxyDir, i int, pkt []byte) {
		if dir != d || i != n {
			return
		}
		at := 4 + off
		if off < 0 {
			at = len(pkt) + off
		}
		pkt[at] ^= 0x10
	}}
	cc, sc := &ClientConfig{}, &ServerConfig{}
	cc.Ciphers, sc.Ciphers = []string{cipherName}, []string{cipherName}
	if macName != "" {
		cc.MACs, sc.MACs = []string{macName}, []string{macName}
	}
	c, cerr, s, serr := proxiedHandshake(t, m, cc, sc)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	return c, s
}

// corruptCiphers are the ciphers whose packet_length travels in clear, so
// that the proxy can find one packet in the protected stream.
var corruptCiphers = []struct {
	name, cipher, mac string
	tagLen            int
}{
	{"aes128-gcm@openssh.com", "aes128-gcm@openssh.com", "", 16},
	{"aes128-ctr/hmac-sha2-256-etm@openssh.com", "aes128-ctr", "hmac-sha2-256-etm@openssh.com", 32},
}

// readErr returns what ReadPacket ends with, failing the test if it
// returns a packet instead or takes too long.
func readErr(t *testing.T, c *Conn) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() {
		for {
			if _, err := c.ReadPacket(); err != nil {
				ch <- err
				return
			}
		}
	}()
	select {
	case err := <-ch:
		return err
	case <-time.After(2 * rawTimeout):
		t.Fatal("ReadPacket did not end")
		return nil
	}
}

// checkMACFailure checks the two ends of a connection whose receiver got
// a packet that does not verify: it ends with a local protocol error
// whose cause is ErrMAC, and the sender hears of it by DISCONNECT.
func checkMACFailure(t *testing.T, receiverErr, senderErr error) {
	t.Helper()
	var de *DisconnectError
	if !errors.As(receiverErr, &de) || de.Remote || de.Reason != ProtocolError || !errors.Is(receiverErr, ErrMAC) {
		t.Errorf("receiver: %v; want a local protocol error wrapping ErrMAC", receiverErr)
	}
	if !errors.As(senderErr, &de) || !de.Remote || de.Reason != ProtocolError {
		t.Errorf("sender: %v; want a DisconnectError from the peer with reason %v", senderErr, ProtocolError)
	}
}

// TestCorruptMACClientToServer flips a bit of the client's first
// protected packet, its SERVICE_REQUEST, in the ciphertext or in the tag.
func TestCorruptMACClientToServer(t *testing.T) {
	for _, cm := range corruptCiphers {
		for _, where := range []struct {
			name string
			off  int
		}{{"ciphertext", 3}, {"tag", -1}} {
			t.Run(cm.name+"/"+where.name, func(t *testing.T) {
				c, s := corruptSession(t, cm.cipher, cm.mac, cm.tagLen, toServer, 0, where.off)
				cerr := c.RequestService("ssh-userauth")
				checkMACFailure(t, readErr(t, s), cerr)
			})
		}
	}
}

// TestCorruptMACServerToClient flips a bit of the server's first
// protected packet, its EXT_INFO (RFC 8308 §2.4), which the client reads
// after Client has returned.
func TestCorruptMACServerToClient(t *testing.T) {
	for _, cm := range corruptCiphers {
		t.Run(cm.name, func(t *testing.T) {
			c, s := corruptSession(t, cm.cipher, cm.mac, cm.tagLen, toClient, 0, 5)
			checkMACFailure(t, readErr(t, c), readErr(t, s))
		})
	}
}

// TestServiceNotAvailable checks RFC 4253 §10: a request for a service the
// server does not offer ends the connection with reason service not
// available, which the client's RequestService returns.
func TestServiceNotAvailable(t *testing.T) {
	nc1, nc2 := net.Pipe()
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{Services: []string{"ssh-userauth"}})
	err := c.RequestService("ssh-connection")
	var de *DisconnectError
	if !errors.As(err, &de) || !de.Remote || de.Reason != ServiceNotAvailable {
		t.Errorf("RequestService: %v; want a DisconnectError from the peer with reason %v", err, ServiceNotAvailable)
	}
	serr := readErr(t, s)
	if !errors.As(serr, &de) || de.Remote || de.Reason != ServiceNotAvailable || !strings.Contains(de.Message, "ssh-connection") {
		t.Errorf("server: %v; want a local DisconnectError with reason %v naming the service", serr, ServiceNotAvailable)
	}
}

// TestServiceMessageBeforeServiceAccepted checks RFC 4253 §10: messages
// for the layers above the transport (50 and up) come only after a
// service was accepted; before, the server ends the connection with a
// protocol error, which the client reads as the server's DISCONNECT.
func TestServiceMessageBeforeServiceAccepted(t *testing.T) {
	nc1, nc2 := net.Pipe()
	c, s := pair(t, nc1, nc2, &ClientConfig{}, &ServerConfig{})
	if err := c.WritePacket([]byte{wire.MsgUserauthRequest, 1}); err != nil {
		t.Fatal(err)
	}
	var de *DisconnectError
	if err := readErr(t, s); !errors.As(err, &de) || de.Remote || de.Reason != ProtocolError {
		t.Errorf("server: %v; want a local protocol error", err)
	}
	if err := readErr(t, c); !errors.As(err, &de) || !de.Remote || de.Reason != ProtocolError {
		t.Errorf("client: %v; want the server's DISCONNECT with reason %v", err, ProtocolError)
	}
}

// unimplementedSeqs returns a Config.OnUnimplemented that passes on the
// sequence numbers it gets.
func unimplementedSeqs() (func(uint32), <-chan uint32) {
	ch := make(chan uint32, 16)
	return func(seq uint32) { ch <- seq }, ch
}

// waitSeq returns the next sequence number from ch, failing the test if
// none comes or c ends first.
func waitSeq(t *testing.T, c *Conn, ch <-chan uint32) uint32 {
	t.Helper()
	select {
	case seq := <-ch:
		return seq
	case <-c.done:
		t.Fatalf("connection ended before UNIMPLEMENTED arrived: %v", c.readErr)
	case <-time.After(rawTimeout):
		t.Fatal("no UNIMPLEMENTED arrived")
	}
	return 0
}

// TestUnimplementedServiceMessage checks RFC 4253 §11.4 for a message the
// service above the transport does not know: the client answers the
// packet ReadPacket returned with Unimplemented, and the server's
// OnUnimplemented gets the sequence number the server sent it under.
func TestUnimplementedServiceMessage(t *testing.T) {
	for _, strict := range []bool{true, false} {
		t.Run(map[bool]string{true: "strict", false: "not strict"}[strict], func(t *testing.T) {
			onUnimpl, seqs := unimplementedSeqs()
			sc := &ServerConfig{}
			sc.OnUnimplemented = onUnimpl
			sc.DisableStrictKex = !strict
			nc1, nc2 := net.Pipe()
			c, s := pair(t, nc1, nc2, &ClientConfig{}, sc)
			if err := c.RequestService("ssh-userauth"); err != nil {
				t.Fatal(err)
			}
			msg := []byte{199, 1, 2, 3}
			var sent uint32
			err := s.WritePacketFunc(len(msg), func(dst []byte) {
				copy(dst, msg)
				sent = s.send.seq // the packet's own: fill runs under wmu, before the increment
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ReadPacket()
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("client read %x, %v; want %x", got, err, msg)
			}
			if c.lastSeq != sent {
				t.Errorf("client received the packet as sequence number %d; the server sent it as %d", c.lastSeq, sent)
			}
			if err := c.Unimplemented(); err != nil {
				t.Fatal(err)
			}
			if seq := waitSeq(t, s, seqs); seq != sent {
				t.Errorf("OnUnimplemented(%d); want %d", seq, sent)
			}
		})
	}
}

// transportMsg is a transport message of any number, for sending what
// the transport itself never would.
type transportMsg []byte

func (m transportMsg) Len() int                 { return len(m) }
func (m transportMsg) Append(dst []byte) []byte { return append(dst, m...) }

// TestUnimplementedTransportMessage checks RFC 4253 §11.4 in the
// transport itself: an unknown message number in the transport's own
// range (15) is answered with UNIMPLEMENTED carrying its sequence number.
func TestUnimplementedTransportMessage(t *testing.T) {
	onUnimpl, seqs := unimplementedSeqs()
	cc := &ClientConfig{}
	cc.OnUnimplemented = onUnimpl
	nc1, nc2 := net.Pipe()
	c, s := pair(t, nc1, nc2, cc, &ServerConfig{})
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	c.wmu.Lock()
	sent := c.send.seq
	c.queueMsg(transportMsg{15, 'x'})
	err := c.drainLocked()
	c.unlockWrite()
	if err != nil {
		t.Fatal(err)
	}
	if seq := waitSeq(t, c, seqs); seq != sent {
		t.Errorf("OnUnimplemented(%d); want %d", seq, sent)
	}
	// The connection goes on.
	msg := []byte{wire.MsgUserauthRequest, 9}
	if err := c.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadPacket(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("server read %x, %v; want %x", got, err, msg)
	}
}

// TestUnimplementedDuringKex checks RFC 4253 §11.4, "An implementation
// MUST respond to all unrecognized messages with an SSH_MSG_UNIMPLEMENTED
// message", for a message number in the transport's generic range (15),
// which §7.1 lets a party send during a key exchange. Outside the initial
// exchange under strict kex (OpenSSH PROTOCOL §1.10, tested in
// TestStrictKexInjectedIgnore) it is answered and the exchange goes on,
// as OpenSSH's kex_protocol_error does.
func TestUnimplementedDuringKex(t *testing.T) {
	t.Run("initial not strict", func(t *testing.T) {
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, &ServerConfig{})
		p := newRawPeer(t, nc1)
		k := rawClientKex{kexAlgos: kex.Curve25519SHA256, after: [][]byte{{15, 'x'}}}
		if err := k.run(p); err != nil {
			t.Fatalf("raw client: %v", err)
		}
		if _, err := ps.wait(t); err != nil {
			t.Fatalf("Server: %v", err)
		}
		// KEXINIT went out as sequence number 0, message 15 as 1.
		if len(p.unimplemented) != 1 || p.unimplemented[0] != 1 {
			t.Errorf("UNIMPLEMENTED for sequence numbers %v; want [1]", p.unimplemented)
		}
	})
	t.Run("initial strict", func(t *testing.T) {
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, &ServerConfig{})
		p := newRawPeer(t, nc1)
		err := rawClientKex{after: [][]byte{{15, 'x'}}}.run(p)
		var de *DisconnectError
		if !errors.As(err, &de) || !de.Remote || de.Reason != ProtocolError {
			t.Errorf("raw client: %v; want the server's DISCONNECT with reason %v", err, ProtocolError)
		}
		_, serr := ps.wait(t)
		checkStrictViolation(t, "Server", serr)
	})
	t.Run("rekey", func(t *testing.T) {
		onUnimpl, seqs := unimplementedSeqs()
		cc := &ClientConfig{}
		cc.OnUnimplemented = onUnimpl
		nc1, nc2 := net.Pipe()
		c, s := pair(t, nc1, nc2, cc, &ServerConfig{})
		if err := c.RequestService("ssh-userauth"); err != nil {
			t.Fatal(err)
		}
		// KEXINIT, then message 15 while our side of the exchange runs.
		c.wmu.Lock()
		c.mu.Lock()
		c.queueKexInitLocked()
		c.queueLocked(outMsg{buf: encode(transportMsg{15, 'x'})})
		c.mu.Unlock()
		sent := c.send.seq + 1
		err := c.drainLocked()
		c.unlockWrite()
		if err != nil {
			t.Fatalf("sending KEXINIT and message 15: %v", err)
		}
		if seq := waitSeq(t, c, seqs); seq != sent {
			t.Errorf("OnUnimplemented(%d); want %d", seq, sent)
		}
		if err := c.Rekey(); err != nil {
			t.Fatalf("Rekey: %v", err)
		}
		checkSessionWorksAfterService(t, c, s)
	})
}

// checkSessionWorksAfterService checks that a connection whose service
// was accepted carries upper-layer packets both ways.
func checkSessionWorksAfterService(t *testing.T, c, s *Conn) {
	t.Helper()
	msg := []byte{wire.MsgUserauthRequest, 4, 5, 6}
	if err := c.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadPacket(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("server read %x, %v; want %x", got, err, msg)
	}
	if err := s.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadPacket(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("client read %x, %v; want %x", got, err, msg)
	}
}
