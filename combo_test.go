package zerossh

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/wire"
)

// hostKeys holds one signer per host key algorithm, made once: RSA key
// generation is slow.
var hostKeys = sync.OnceValue(func() map[string]ssh.Signer {
	m := map[string]ssh.Signer{}
	add := func(algs []string, key any) {
		s, err := ssh.NewSignerFromKey(key)
		if err != nil {
			panic(err)
		}
		for _, a := range algs {
			m[a] = s
		}
	}
	ed := testutil.Ed25519Signer(&testing.T{})
	m[ssh.KeyAlgoED25519] = ed
	for _, c := range []struct {
		alg   string
		curve elliptic.Curve
	}{{ssh.KeyAlgoECDSA256, elliptic.P256()}, {ssh.KeyAlgoECDSA384, elliptic.P384()}, {ssh.KeyAlgoECDSA521, elliptic.P521()}} {
		k, err := ecdsa.GenerateKey(c.curve, rand.Reader)
		if err != nil {
			panic(err)
		}
		add([]string{c.alg}, k)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	add([]string{ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512}, rk)

	// Certificates of each plain key, signed by an ed25519 CA.
	ca := testutil.Ed25519Signer(&testing.T{})
	for alg, certAlg := range map[string]string{
		ssh.KeyAlgoED25519:   ssh.CertAlgoED25519v01,
		ssh.KeyAlgoECDSA256:  ssh.CertAlgoECDSA256v01,
		ssh.KeyAlgoRSASHA512: ssh.CertAlgoRSASHA512v01,
		ssh.KeyAlgoRSASHA256: ssh.CertAlgoRSASHA256v01,
	} {
		signer := m[alg]
		cert := &ssh.Certificate{
			Key: signer.PublicKey(), CertType: ssh.HostCert, KeyId: "host",
			ValidPrincipals: []string{"pipe"}, ValidBefore: ssh.CertTimeInfinity,
		}
		if err := cert.SignCert(rand.Reader, ca); err != nil {
			panic(err)
		}
		cs, err := ssh.NewCertSigner(cert, signer)
		if err != nil {
			panic(err)
		}
		m[certAlg] = cs
	}
	m["ca"] = ca
	return m
})

// cipherMACs lists every cipher with, for non-AEAD ones, every MAC.
func cipherMACs() [][2]string {
	var out [][2]string
	for _, c := range cipher.All {
		alg, _ := cipher.Lookup(c)
		if alg.AEAD {
			out = append(out, [2]string{c, ""})
			continue
		}
		for _, m := range []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha1-etm@openssh.com"} {
			out = append(out, [2]string{c, m})
		}
	}
	return out
}

// exchange runs one handshake pinned to the given algorithms, checks
// what was negotiated, and passes packets both ways across a rekey.
func exchange(t *testing.T, nc1, nc2 net.Conn, kexAlg, hostKeyAlg, cipherAlg, macAlg string) {
	keys := hostKeys()
	ca := keys["ca"]
	cc := &ClientConfig{HostKeyAlgorithms: []string{hostKeyAlg}}
	cc.KeyExchanges = []string{kexAlg}
	cc.Ciphers = []string{cipherAlg}
	if macAlg != "" {
		cc.MACs = []string{macAlg}
	}
	checker := &ssh.CertChecker{IsHostAuthority: func(k ssh.PublicKey, _ string) bool {
		return bytes.Equal(k.Marshal(), ca.PublicKey().Marshal())
	}}
	cc.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
		if _, ok := key.(*ssh.Certificate); ok {
			return checker.CheckHostKey(host, remote, key)
		}
		if !bytes.Equal(key.Marshal(), keys[hostKeyAlg].PublicKey().Marshal()) {
			return fmt.Errorf("unexpected host key %s", key.Type())
		}
		return nil
	}
	sc := &ServerConfig{HostKeys: []ssh.Signer{keys[hostKeyAlg]}}
	sc.KeyExchanges = kex.All
	sc.Ciphers = cipher.All
	sc.MACs = []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha1-etm@openssh.com"}
	c, s := pair(t, nc1, nc2, cc, sc)
	want := DirectionAlgorithms{Cipher: cipherAlg, MAC: macAlg, Compression: "none"}
	for _, a := range []Algorithms{c.Algorithms(), s.Algorithms()} {
		if a.Kex != kexAlg || a.HostKey != hostKeyAlg || a.Read != want || a.Write != want {
			t.Fatalf("negotiated %+v; want %s %s %+v", a, kexAlg, hostKeyAlg, want)
		}
	}
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, s, 3)
	if err := c.Rekey(); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, s, 3)
}

// roundTrip sends n numbered packets each way and checks them.
func roundTrip(t *testing.T, c, s *Conn, n int) {
	t.Helper()
	for _, dir := range [][2]*Conn{{c, s}, {s, c}} {
		errc := make(chan error, 1)
		go func() {
			for i := range n {
				p := binary.BigEndian.AppendUint32([]byte{wire.MsgChannelData}, uint32(i))
				if err := dir[0].WritePacket(p); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		for i := range n {
			p, err := dir[1].ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			want := binary.BigEndian.AppendUint32([]byte{wire.MsgChannelData}, uint32(i))
			if !bytes.Equal(p, want) {
				t.Fatalf("packet %d: got %x; want %x", i, p, want)
			}
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func hostKeyAlgs() []string {
	return []string{
		ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
		ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01,
	}
}

// TestAllAlgorithms runs our client against our server for every key
// exchange x host key pair and every host key x cipher x MAC triple, over
// net.Pipe and TCP.
func TestAllAlgorithms(t *testing.T) {
	transports := map[string]func(t testing.TB) (net.Conn, net.Conn){
		"pipe": func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() },
		"tcp":  tcpPair,
	}
	for tname, mk := range transports {
		for _, k := range kex.All {
			for _, h := range hostKeyAlgs() {
				t.Run(fmt.Sprintf("%s/kex=%s/hostkey=%s", tname, k, h), func(t *testing.T) {
					if testing.Short() && k != "curve25519-sha256" {
						t.Skip("-short: one key exchange only")
					}
					nc1, nc2 := mk(t)
					exchange(t, nc1, nc2, k, h, "aes128-gcm@openssh.com", "")
				})
			}
		}
		for _, h := range hostKeyAlgs() {
			for _, cm := range cipherMACs() {
				t.Run(fmt.Sprintf("%s/hostkey=%s/cipher=%s/mac=%s", tname, h, cm[0], cm[1]), func(t *testing.T) {
					nc1, nc2 := mk(t)
					exchange(t, nc1, nc2, "curve25519-sha256", h, cm[0], cm[1])
				})
			}
		}
	}
}

// TestStreamWithRekey moves 64 MiB of numbered, checksummed packets in
// each direction at once over TCP while both sides rekey, on demand and
// by a small byte budget.
func TestStreamWithRekey(t *testing.T) {
	for _, cm := range [][2]string{
		{"aes128-gcm@openssh.com", ""}, {"chacha20-poly1305@openssh.com", ""},
		{"aes256-ctr", "hmac-sha2-256-etm@openssh.com"}, {"aes128-ctr", "hmac-sha2-512"},
	} {
		t.Run(cm[0]+"/"+cm[1], func(t *testing.T) {
			const total = 64 << 20
			const chunk = 32 << 10
			cc := &ClientConfig{}
			cc.Ciphers = []string{cm[0]}
			if cm[1] != "" {
				cc.MACs = []string{cm[1]}
			}
			cc.RekeyBytes = 8 << 20
			sc := &ServerConfig{}
			sc.RekeyBytes = 11 << 20
			nc1, nc2 := tcpPair(t)
			c, s := pair(t, nc1, nc2, cc, sc)
			if err := c.RequestService("ssh-userauth"); err != nil {
				t.Fatal(err)
			}
			c.SetAuthenticated()
			s.SetAuthenticated()
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for _, d := range [][2]*Conn{{c, s}, {s, c}} {
				w, r := d[0], d[1]
				wg.Go(func() { errs <- streamWrite(w, total, chunk) })
				wg.Go(func() { errs <- streamRead(r, total) })
			}
			wg.Go(func() {
				for range 3 {
					if err := s.Rekey(); err != nil {
						errs <- err
						return
					}
				}
			})
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(c.SessionID(), s.SessionID()) {
				t.Fatal("session ID changed or differs")
			}
		})
	}
}

// streamWrite sends total bytes in packets of chunk bytes: a message
// number, a sequence number, and data derived from it; a final packet
// carries the SHA-256 of all data.
func streamWrite(c *Conn, total, chunk int) error {
	h := sha256.New()
	buf := make([]byte, 5+chunk)
	buf[0] = wire.MsgChannelData
	for i := 0; i*chunk < total; i++ {
		binary.BigEndian.PutUint32(buf[1:], uint32(i))
		fillData(buf[5:], i)
		h.Write(buf[5:])
		if err := c.WritePacket(buf); err != nil {
			return err
		}
	}
	return c.WritePacket(h.Sum([]byte{wire.MsgChannelEOF}))
}

func streamRead(c *Conn, total int) error {
	h := sha256.New()
	n, next := 0, uint32(0)
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return err
		}
		if p[0] == wire.MsgChannelEOF {
			if !bytes.Equal(p[1:], h.Sum(nil)) || n != total {
				return fmt.Errorf("stream of %d bytes: checksum mismatch (want %d bytes)", n, total)
			}
			return nil
		}
		if got := binary.BigEndian.Uint32(p[1:]); got != next {
			return fmt.Errorf("packet %d arrived as %d", got, next)
		}
		next++
		h.Write(p[5:])
		n += len(p) - 5
	}
}

func fillData(b []byte, i int) {
	for j := range b {
		b[j] = byte(i*7 + j)
	}
}
