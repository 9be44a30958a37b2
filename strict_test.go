package zerossh

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/wire"
)

// TestStrictKexNegotiated checks that strict key exchange (OpenSSH
// PROTOCOL §1.10) is on when both sides offer it, which they do by
// default, and off when either leaves it out.
func TestStrictKexNegotiated(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		clientDisables, serverDisables bool
		want                           bool
	}{
		{"default", false, false, true},
		{"client disables", true, false, false},
		{"server disables", false, true, false},
		{"both disable", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, sc := &ClientConfig{}, &ServerConfig{}
			cc.DisableStrictKex, sc.DisableStrictKex = tc.clientDisables, tc.serverDisables
			nc1, nc2 := net.Pipe()
			c, s := pair(t, nc1, nc2, cc, sc)
			if c.StrictKex() != tc.want || s.StrictKex() != tc.want {
				t.Errorf("StrictKex: client %v, server %v; want %v", c.StrictKex(), s.StrictKex(), tc.want)
			}
		})
	}
}

// injectBefore returns a clear-text hook that sends IGNORE ahead of the
// first packet in direction d whose message number is msg.
func injectBefore(d proxyDir, msg byte) func(proxyDir, []byte) ([][]byte, bool) {
	done := false
	ignore := (&wire.Ignore{Data: []byte("injected")}).Append(nil)
	return func(dir proxyDir, payload []byte) ([][]byte, bool) {
		if dir != d || done || payload[0] != msg {
			return nil, true
		}
		done = true
		return [][]byte{ignore, payload}, false
	}
}

// checkStrictViolation checks that err is a local protocol error that
// names strict key exchange as its cause.
func checkStrictViolation(t *testing.T, who string, err error) {
	t.Helper()
	var de *DisconnectError
	if !errors.As(err, &de) || de.Remote || de.Reason != ProtocolError || !strings.Contains(strings.ToLower(de.Message), "strict") {
		t.Errorf("%s: %v; want a local protocol error naming strict kex", who, err)
	}
}

// checkSessionWorks checks that a connection carries a service request
// and upper-layer packets both ways.
func checkSessionWorks(t *testing.T, c, s *Conn) {
	t.Helper()
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatalf("RequestService: %v", err)
	}
	checkSessionWorksAfterService(t, c, s)
}

// TestStrictKexInjectedIgnore injects an IGNORE into the clear-text part
// of the first key exchange, the first step of the Terrapin attack
// (CVE-2023-48795). OpenSSH PROTOCOL §1.10: under strict kex "any
// unexpected or out-of-sequence packet" during the initial exchange
// ends the connection, and the initial KEXINIT must be the first packet.
// Without strict kex the IGNORE is taken; the cipher is AES-GCM, whose
// nonce does not depend on the sequence number the IGNORE shifted, so the
// session then works.
func TestStrictKexInjectedIgnore(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  proxyDir
		msg  byte
	}{
		{"before server NEWKEYS", toClient, wire.MsgNewKeys},
		{"before server KEXINIT", toClient, wire.MsgKexInit},
		{"before server ECDH_REPLY", toClient, wire.MsgKexECDHReply},
		{"before client KEXINIT", toServer, wire.MsgKexInit},
		{"before client NEWKEYS", toServer, wire.MsgNewKeys},
		{"before client ECDH_INIT", toServer, wire.MsgKexECDHInit},
	} {
		t.Run(tc.name+"/strict", func(t *testing.T) {
			m := &mitmProxy{clear: injectBefore(tc.dir, tc.msg)}
			cc, sc := &ClientConfig{}, &ServerConfig{}
			cc.Ciphers = []string{"aes128-gcm@openssh.com"}
			_, cerr, _, serr := proxiedHandshake(t, m, cc, sc)
			if tc.dir == toClient {
				checkStrictViolation(t, "Client", cerr)
			} else {
				checkStrictViolation(t, "Server", serr)
				var de *DisconnectError
				if !errors.As(cerr, &de) || !de.Remote || de.Reason != ProtocolError {
					// The client may have finished its side first; then the
					// DISCONNECT reaches the read loop instead.
					if cerr != nil {
						t.Errorf("Client: %v; want nil or the server's DISCONNECT", cerr)
					}
				}
			}
		})
		t.Run(tc.name+"/not strict", func(t *testing.T) {
			m := &mitmProxy{clear: injectBefore(tc.dir, tc.msg)}
			cc, sc := &ClientConfig{}, &ServerConfig{}
			cc.Ciphers = []string{"aes128-gcm@openssh.com"}
			if tc.dir == toClient {
				cc.DisableStrictKex = true
			} else {
				sc.DisableStrictKex = true
			}
			c, cerr, s, serr := proxiedHandshake(t, m, cc, sc)
			if cerr != nil || serr != nil {
				t.Fatalf("handshake: client %v, server %v", cerr, serr)
			}
			if c.StrictKex() || s.StrictKex() {
				t.Fatal("strict kex negotiated with one side not offering it")
			}
			checkSessionWorks(t, c, s)
		})
	}
}

// TestStrictKexRawIgnoreBeforeKexInit checks the same rule against a
// client driven by hand: an IGNORE ahead of a KEXINIT that offers
// kex-strict-c-v00@openssh.com is refused with a DISCONNECT; without the
// marker it is taken and the handshake completes.
func TestStrictKexRawIgnoreBeforeKexInit(t *testing.T) {
	ignore := (&wire.Ignore{Data: []byte("early")}).Append(nil)
	t.Run("strict", func(t *testing.T) {
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, &ServerConfig{})
		p := newRawPeer(t, nc1)
		err := rawClientKex{before: [][]byte{ignore}}.run(p)
		var de *DisconnectError
		if !errors.As(err, &de) || !de.Remote || de.Reason != ProtocolError {
			t.Errorf("raw client: %v; want the server's DISCONNECT with reason %v", err, ProtocolError)
		}
		_, serr := ps.wait(t)
		checkStrictViolation(t, "Server", serr)
	})
	t.Run("not strict", func(t *testing.T) {
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, &ServerConfig{})
		p := newRawPeer(t, nc1)
		if err := (rawClientKex{kexAlgos: kex.Curve25519SHA256, before: [][]byte{ignore}}).run(p); err != nil {
			t.Fatalf("raw client: %v", err)
		}
		s, err := ps.wait(t)
		if err != nil {
			t.Fatalf("Server: %v", err)
		}
		if s.StrictKex() {
			t.Error("strict kex negotiated without the client's marker")
		}
	})
}

// trafficUnderRekeys sends n numbered packets each way while each side
// asks for rounds key exchanges, and checks that every packet arrives
// once and in order. Sealing under one sequence number and opening under
// another fails the MAC of every cipher but AES-GCM.
func trafficUnderRekeys(t *testing.T, c, s *Conn, n, rounds int) {
	t.Helper()
	errs := make(chan error, 4)
	write := func(conn *Conn, who string) {
		for i := range n {
			p := make([]byte, 5+i%200)
			p[0] = wire.MsgChannelData
			binary.BigEndian.PutUint32(p[1:], uint32(i))
			if err := conn.WritePacket(p); err != nil {
				errs <- fmt.Errorf("%s write %d: %w", who, i, err)
				return
			}
		}
		errs <- nil
	}
	read := func(conn *Conn, who string) {
		for i := range n {
			p, err := conn.ReadPacket()
			if err != nil {
				errs <- fmt.Errorf("%s read %d: %w", who, i, err)
				return
			}
			if len(p) != 5+i%200 || p[0] != wire.MsgChannelData || binary.BigEndian.Uint32(p[1:]) != uint32(i) {
				errs <- fmt.Errorf("%s read packet %d: got %d bytes, number %x", who, i, len(p), p[:min(5, len(p))])
				return
			}
		}
		errs <- nil
	}
	go write(c, "client")
	go write(s, "server")
	go read(c, "client")
	go read(s, "server")
	rekeys := make(chan error, 1)
	go func() {
		for range rounds {
			if err := c.Rekey(); err != nil {
				rekeys <- fmt.Errorf("client Rekey: %w", err)
				return
			}
			if err := s.Rekey(); err != nil {
				rekeys <- fmt.Errorf("server Rekey: %w", err)
				return
			}
		}
		rekeys <- nil
	}()
	timeout := time.After(6 * rawTimeout)
	for range 5 {
		var err error
		select {
		case err = <-errs:
		case err = <-rekeys:
		case <-timeout:
			t.Fatal("traffic under rekeys did not finish")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestStrictKexSequenceNumbersAcrossRekeys checks the sequence numbers
// through key exchanges. Under strict kex they restart at zero after every
// NEWKEYS (OpenSSH PROTOCOL §1.10), without it they run on (RFC 4253
// §6.4); either way both sides must agree, which traffic under rekeys in
// both directions shows for ciphers whose MAC or nonce covers the
// sequence number. After a final exchange with no traffic in flight the
// first packet each way must have sequence number zero exactly when
// strict kex is on.
func TestStrictKexSequenceNumbersAcrossRekeys(t *testing.T) {
	ciphers := [][2]string{
		{"chacha20-poly1305@openssh.com", ""},
		{"aes128-ctr", "hmac-sha2-256"},
		{"aes256-ctr", "hmac-sha2-512-etm@openssh.com"},
		{"aes128-gcm@openssh.com", ""},
	}
	for _, strict := range []struct {
		name                           string
		clientDisables, serverDisables bool
	}{{"strict", false, false}, {"client not strict", true, false}, {"server not strict", false, true}} {
		for _, cm := range ciphers {
			name := strict.name + "/" + cm[0]
			if cm[1] != "" {
				name += "+" + cm[1]
			}
			t.Run(name, func(t *testing.T) {
				cc, sc := &ClientConfig{}, &ServerConfig{}
				cc.Ciphers = []string{cm[0]}
				if cm[1] != "" {
					cc.MACs = []string{cm[1]}
				}
				cc.DisableStrictKex, sc.DisableStrictKex = strict.clientDisables, strict.serverDisables
				wantStrict := !strict.clientDisables && !strict.serverDisables
				nc1, nc2 := tcpPair(t)
				c, s := pair(t, nc1, nc2, cc, sc)
				if c.StrictKex() != wantStrict {
					t.Fatalf("StrictKex %v; want %v", c.StrictKex(), wantStrict)
				}
				if err := c.RequestService("ssh-userauth"); err != nil {
					t.Fatal(err)
				}
				trafficUnderRekeys(t, c, s, 300, 4)

				msg := []byte{wire.MsgChannelData, 'z'}
				for _, dir := range []struct {
					who      string
					rekeyer  *Conn
					from, to *Conn
				}{{"client to server", c, c, s}, {"server to client", s, s, c}, {"client to server after server rekey", s, c, s}} {
					if err := dir.rekeyer.Rekey(); err != nil {
						t.Fatal(err)
					}
					if err := dir.from.WritePacket(msg); err != nil {
						t.Fatal(err)
					}
					if got, err := dir.to.ReadPacket(); err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("%s: read %x, %v; want %x", dir.who, got, err, msg)
					}
					if seq := dir.to.lastSeq; (seq == 0) != wantStrict {
						t.Errorf("%s: first packet after NEWKEYS has sequence number %d (strict %v)", dir.who, seq, wantStrict)
					}
				}
			})
		}
	}
}

// guessKexInitECDH is a first_kex_packet_follows guess for a method the
// server does not pick: an ECDH_INIT-numbered packet whose body is not
// even a valid X25519 key, so that using it would fail the exchange.
var guessKexInitECDH = append([]byte{wire.MsgKexECDHInit}, wire.AppendString(nil, []byte("not a key for the negotiated method"))...)

// ecdsaHostKey is a fresh ecdsa-sha2-nistp256 host key.
func ecdsaHostKey(t testing.TB) ssh.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStrictKexWrongGuessIgnored checks RFC 4253 §7.1 on
// first_kex_packet_follows against a client driven by hand: "If the other
// party's guess was wrong, and this field was TRUE, the next packet MUST
// be silently ignored". The guess "is considered wrong if: the key
// exchange algorithm and/or the host key algorithm is guessed wrong
// (server and client have different preferred algorithm)", that is when
// the first entries of the two sides' lists differ, as OpenSSH's
// proposals_match and x/crypto/ssh decide; this holds even when the
// client's first entry is what gets negotiated. A right guess is the
// exchange's real first packet and must be used. Strict kex stays on: the
// ignored packet is a kex message, which it allows.
func TestStrictKexWrongGuessIgnored(t *testing.T) {
	strictMarker := "," + strictKexClient
	for _, tc := range []struct {
		name         string
		server       func(t *testing.T) *ServerConfig
		kexAlgos     string
		hostKeyAlgos string
		guess        [][]byte
	}{
		{
			name:     "client first kex unknown to server",
			server:   func(*testing.T) *ServerConfig { return &ServerConfig{} },
			kexAlgos: "sntrup761x25519-sha512@openssh.com," + kex.Curve25519SHA256 + strictMarker,
			guess:    [][]byte{guessKexInitECDH},
		},
		{
			name:         "client first host key unknown to server",
			server:       func(*testing.T) *ServerConfig { return &ServerConfig{} },
			hostKeyAlgos: ssh.KeyAlgoRSASHA512 + "," + ssh.KeyAlgoED25519,
			guess:        [][]byte{guessKexInitECDH},
		},
		{
			// The client's first kex is negotiated, but the server
			// prefers mlkem768x25519-sha256 (kex.Default).
			name:     "server prefers another kex",
			server:   func(*testing.T) *ServerConfig { return &ServerConfig{} },
			kexAlgos: kex.Curve25519SHA256 + strictMarker,
			guess:    [][]byte{guessKexInitECDH},
		},
		{
			// The client's first host key algorithm is negotiated, but the
			// server lists its ECDSA key first.
			name: "server prefers another host key",
			server: func(t *testing.T) *ServerConfig {
				sc := &ServerConfig{HostKeys: []ssh.Signer{ecdsaHostKey(t), testutil.Ed25519Signer(t)}}
				sc.KeyExchanges = []string{kex.Curve25519SHA256}
				return sc
			},
			kexAlgos: kex.Curve25519SHA256 + strictMarker,
			guess:    [][]byte{guessKexInitECDH},
		},
		{
			name: "right guess",
			server: func(*testing.T) *ServerConfig {
				sc := &ServerConfig{}
				sc.KeyExchanges = []string{kex.Curve25519SHA256, kex.ECDHSHA2NISTP256}
				return sc
			},
			kexAlgos: kex.Curve25519SHA256 + strictMarker,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc1, nc2 := net.Pipe()
			ps := startServer(t, nc2, tc.server(t))
			p := newRawPeer(t, nc1)
			k := rawClientKex{kexAlgos: tc.kexAlgos, hostKeyAlgos: tc.hostKeyAlgos, follows: true, after: tc.guess}
			if err := k.run(p); err != nil {
				t.Fatalf("raw client: %v", err)
			}
			s, err := ps.wait(t)
			if err != nil {
				t.Fatalf("Server: %v", err)
			}
			if a := s.Algorithms(); a.Kex != kex.Curve25519SHA256 || a.HostKey != ssh.KeyAlgoED25519 {
				t.Errorf("negotiated %s with %s; want %s with %s", a.Kex, a.HostKey, kex.Curve25519SHA256, ssh.KeyAlgoED25519)
			}
			if !s.StrictKex() {
				t.Error("strict kex not negotiated")
			}
		})
	}
}

// TestStrictKexWrongGuessOnlyOnePacketIgnored checks that a wrong guess
// makes the server ignore one packet, not more: a client that sends two
// guessed packets has its second one taken as the real ECDH_INIT, which
// fails the exchange.
func TestStrictKexWrongGuessOnlyOnePacketIgnored(t *testing.T) {
	nc1, nc2 := net.Pipe()
	ps := startServer(t, nc2, &ServerConfig{})
	p := newRawPeer(t, nc1)
	k := rawClientKex{
		kexAlgos: "sntrup761x25519-sha512@openssh.com," + kex.Curve25519SHA256 + "," + strictKexClient,
		follows:  true,
		after:    [][]byte{guessKexInitECDH, guessKexInitECDH},
	}
	err := k.run(p)
	var de *DisconnectError
	if !errors.As(err, &de) || !de.Remote || de.Reason != ProtocolError {
		t.Errorf("raw client: %v; want the server's DISCONNECT with reason %v", err, ProtocolError)
	}
	_, serr := ps.wait(t)
	if !errors.As(serr, &de) || de.Remote || de.Reason != ProtocolError || !errors.Is(serr, wire.ErrMalformed) {
		t.Errorf("Server: %v; want a local protocol error for a malformed ECDH_INIT", serr)
	}
}

// guessKexReply is a first_kex_packet_follows guess from a server: a
// packet numbered as ECDH_REPLY whose body is no reply at all.
var guessKexReply = append([]byte{wire.MsgKexECDHReply}, wire.AppendString(nil, []byte("not a reply"))...)

// TestStrictKexWrongServerGuessIgnored is TestStrictKexWrongGuessIgnored
// from the client's side: a server driven by hand sets
// first_kex_packet_follows and sends a bogus guessed packet, and its
// first kex differs from the client's (mlkem768x25519-sha256, from
// kex.Default), so the client must ignore that packet, whether or not the
// server's first kex is the one negotiated. (A right guess from a server
// makes no sense for curve25519-sha256, whose first packet is the
// client's.)
func TestStrictKexWrongServerGuessIgnored(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kexAlgos string
	}{
		{"server first kex unknown to client", "sntrup761x25519-sha512@openssh.com," + kex.Curve25519SHA256 + "," + strictKexServer},
		{"client prefers another kex", kex.Curve25519SHA256 + "," + strictKexServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostKey := testutil.Ed25519Signer(t)
			nc1, nc2 := net.Pipe()
			p := newRawPeer(t, nc2)
			serverErr := make(chan error, 1)
			go func() {
				serverErr <- rawServerKex{hostKey: hostKey, kexAlgos: tc.kexAlgos, follows: true, after: [][]byte{guessKexReply}}.run(p)
			}()
			cc := &ClientConfig{HostKeyCallback: ssh.FixedHostKey(hostKey.PublicKey())}
			cc.HandshakeTimeout = rawTimeout
			c, err := Client(nc1, "raw", cc)
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			t.Cleanup(func() { c.Close() })
			select {
			case err := <-serverErr:
				if err != nil {
					t.Fatalf("raw server: %v", err)
				}
			case <-time.After(2 * rawTimeout):
				t.Fatal("raw server did not finish")
			}
			if a := c.Algorithms(); a.Kex != kex.Curve25519SHA256 {
				t.Errorf("negotiated %s; want %s", a.Kex, kex.Curve25519SHA256)
			}
			if !c.StrictKex() {
				t.Error("strict kex not negotiated")
			}
		})
	}
}
