package zerossh

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/internal/testutil"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/mac"
	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// FuzzReadVersion feeds bytes to readVersion as a peer's side of the
// version exchange (RFC 4253 §4.2), as a client and as a server, and
// checks what it accepts: an SSH-2.0- or SSH-1.99- line with a software
// version, printable US-ASCII only, at most 255 bytes with its line
// ending, nothing read past that ending, and before it no line at all on
// a server and at most 1024 lines not starting with "SSH-" on a client.
func FuzzReadVersion(f *testing.F) {
	for _, s := range []string{
		"SSH-2.0-OpenSSH_9.6\r\n",
		"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\nrest",
		"SSH-1.99-Cisco-1.25\r\n",
		"SSH-2.0-bare\n",
		"SSH-1.5-old\r\n",
		"SSH-3.0-new\r\n",
		"SSH-2.0-\r\n",
		"banner\r\nanother\r\nSSH-2.0-x\r\n",
		"SSH-2.0-x\x00\r\n",
		"SSH-2.0-abc",
		versionLineOf(255, "\r\n"),
		versionLineOf(256, "\r\n"),
		versionLineOf(255, "\n"),
		strings.Repeat("b\r\n", maxPreVersionLines) + "SSH-2.0-x\r\n",
		strings.Repeat("b\r\n", maxPreVersionLines+1) + "SSH-2.0-x\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, isClient := range []bool{false, true} {
			src := bytes.NewReader(data)
			br := bufio.NewReader(src)
			line, err := readVersion(br, isClient)
			consumed := len(data) - src.Len() - br.Buffered()
			if err != nil {
				var de *DisconnectError
				if errors.As(err, &de) && de.Reason != ProtocolVersionNotSupported {
					t.Fatalf("client %v: DisconnectError with reason %v", isClient, de.Reason)
				}
				continue
			}
			checkVersionLine(t, isClient, data[:consumed], line)
		}
	})
}

// checkVersionLine checks a line readVersion returned after reading read.
func checkVersionLine(t *testing.T, isClient bool, read, line []byte) {
	t.Helper()
	rest, ok := bytes.CutPrefix(line, []byte("SSH-2.0-"))
	if !ok {
		rest, ok = bytes.CutPrefix(line, []byte("SSH-1.99-"))
	}
	if !ok {
		t.Fatalf("client %v: accepted %q", isClient, line)
	}
	if sw, _, _ := bytes.Cut(rest, []byte(" ")); len(sw) == 0 {
		t.Fatalf("client %v: accepted %q without a software version", isClient, line)
	}
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("client %v: accepted %q with byte %#x", isClient, line, c)
		}
	}
	var ending int
	switch {
	case bytes.HasSuffix(read, append(bytes.Clone(line), '\r', '\n')):
		ending = 2
		if len(line) > 253 {
			t.Fatalf("client %v: accepted a %d-byte line before CR LF", isClient, len(line))
		}
	case bytes.HasSuffix(read, append(bytes.Clone(line), '\n')):
		ending = 1
	default:
		t.Fatalf("client %v: read %q, which does not end in the line %q and its ending", isClient, read, line)
	}
	if len(line)+ending > maxVersionLine {
		t.Fatalf("client %v: accepted a line of %d bytes with its ending", isClient, len(line)+ending)
	}
	before := read[:len(read)-len(line)-ending]
	if !isClient && len(before) > 0 {
		t.Fatalf("server: accepted %q after %q", line, before)
	}
	if len(before) == 0 {
		return
	}
	lines := bytes.SplitAfter(before, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > maxPreVersionLines {
		t.Fatalf("client: accepted %d lines before the version line", len(lines))
	}
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("SSH-")) || bytes.IndexByte(l, 0) >= 0 || !bytes.HasSuffix(l, []byte("\n")) {
			t.Fatalf("client: skipped the line %q", l)
		}
	}
}

// packetFuzzMode is one way FuzzReadPacket opens packets: in clear text,
// as before the first NEWKEYS, or under fixed keys.
type packetFuzzMode struct {
	cipher, mac string // "" for clear text
}

var packetFuzzModes = []packetFuzzMode{
	{"", ""},
	{"aes128-gcm@openssh.com", ""},
	{"aes128-ctr", "hmac-sha2-256"},
}

// fixedKey is n bytes of key material derived from a label, the same on
// every call.
func fixedKey(label byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = label + byte(i)
	}
	return b
}

// keys returns a fresh Sealer and Opener of the mode under fixed keys,
// both nil for clear text.
func (m packetFuzzMode) keys(t testing.TB) (cipher.Sealer, cipher.Opener) {
	t.Helper()
	if m.cipher == "" {
		return nil, nil
	}
	alg, ok := cipher.Lookup(m.cipher)
	if !ok {
		t.Fatalf("no cipher %s", m.cipher)
	}
	var macAlg cipher.MAC
	var macKey []byte
	if m.mac != "" {
		if macAlg, ok = mac.Lookup(m.mac); !ok {
			t.Fatalf("no MAC %s", m.mac)
		}
		macKey = fixedKey(0x80, macAlg.KeyLen())
	}
	key, iv := fixedKey(0x10, alg.KeyLen), fixedKey(0x40, alg.IVLen)
	s, err := alg.NewSealer(key, iv, macAlg, macKey)
	if err != nil {
		t.Fatal(err)
	}
	o, err := alg.NewOpener(key, iv, macAlg, macKey)
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

// sealedStream frames the payloads as binary packets (RFC 4253 §6) and
// seals them under the mode's fixed keys, with sequence numbers from 0.
func (m packetFuzzMode) sealedStream(t testing.TB, payloads ...[]byte) []byte {
	sealer, _ := m.keys(t)
	var out []byte
	for seq, payload := range payloads {
		if sealer == nil {
			out = append(out, clearPacket(payload)...)
			continue
		}
		bs, unpadded := sealer.BlockSize(), 1+len(payload)
		if sealer.LengthInBlocks() {
			unpadded += 4
		}
		pad := bs - unpadded%bs
		if pad < minPadding {
			pad += bs
		}
		p := appendClearPacket(make([]byte, 0, 5+len(payload)+pad+sealer.Overhead()), payload, pad)
		out = append(out, sealer.Seal(uint32(seq), p)...)
	}
	return out
}

// readFuzzPackets reads packets from data until an error and returns the
// offset at which each packet ended and a copy of each payload.
func readFuzzPackets(t *testing.T, m packetFuzzMode, data []byte) (ends []int, payloads [][]byte, err error) {
	t.Helper()
	_, opener := m.keys(t)
	src := bytes.NewReader(data)
	r := receiver{r: bufio.NewReaderSize(src, readBufferSize), opener: opener, maxPacket: defaultMaxPacket, limit: ^uint64(0)}
	start := 0
	for {
		buf, payload, seq, err := r.readPacket()
		if err != nil {
			return ends, payloads, err
		}
		end := len(data) - src.Len() - r.r.Buffered()
		if seq != uint32(len(ends)) {
			t.Fatalf("packet %d has sequence number %d", len(ends), seq)
		}
		if len(payload) == 0 || len(payload) > defaultMaxPacket-1-minPadding {
			t.Fatalf("payload of %d bytes", len(payload))
		}
		// Opened in place: the payload sits at its offset in the pooled
		// buffer, which is no larger than the pool's largest class.
		if cap(buf.B) > pool.MaxSize || cap(buf.B) < 5+len(payload) || &buf.B[:5+len(payload)][5] != &payload[0] {
			t.Fatalf("payload does not alias a pooled buffer (cap %d)", cap(buf.B))
		}
		if m.cipher == "" && !bytes.Equal(payload, data[start+5:start+5+len(payload)]) {
			t.Fatalf("clear-text payload %x is not the bytes sent", payload)
		}
		payloads = append(payloads, bytes.Clone(payload))
		pool.Put(buf)
		ends = append(ends, end)
		start = end
	}
}

// FuzzReadPacket feeds bytes to receiver.readPacket in clear text and
// under AES-GCM and AES-CTR with HMAC-SHA2-256 with fixed keys. Nothing
// may panic; every packet returned must have a payload within bounds,
// opened in place in a pooled buffer; the reading must end with one of the
// packet faults or an EOF; and cutting the input one byte short of the
// end of the last packet returned must lose exactly that packet, with
// io.ErrUnexpectedEOF.
func FuzzReadPacket(f *testing.F) {
	payloads := fuzzPacketPayloads()
	for i, m := range packetFuzzModes {
		f.Add(uint8(i), m.sealedStream(f, payloads...))
		f.Add(uint8(i), m.sealedStream(f, payloads[1]))
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), uint32Bytes(0x7fffffff))
	}
	f.Add(uint8(0), appendClearPacket(nil, []byte{wire.MsgIgnore, 0, 0, 0, 4, 'a', 'b', 'c', 'd'}, 2))
	f.Fuzz(func(t *testing.T, mode uint8, data []byte) {
		m := packetFuzzModes[int(mode)%len(packetFuzzModes)]
		ends, _, err := readFuzzPackets(t, m, data)
		switch {
		case err == io.EOF:
			if len(ends) > 0 && ends[len(ends)-1] != len(data) {
				t.Fatalf("EOF after %d of %d bytes", ends[len(ends)-1], len(data))
			}
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrBadPacketLength), errors.Is(err, ErrBadPadding):
		case errors.Is(err, ErrMAC) && m.cipher != "":
		default:
			t.Fatalf("reading ended with %v", err)
		}
		if len(ends) == 0 {
			return
		}
		last := ends[len(ends)-1]
		short, _, err := readFuzzPackets(t, m, data[:last-1])
		if len(short) != len(ends)-1 || err != io.ErrUnexpectedEOF {
			t.Fatalf("input cut before the end of packet %d: read %d packets, then %v; want %d, then %v",
				len(ends)-1, len(short), err, len(ends)-1, io.ErrUnexpectedEOF)
		}
	})
}

// fuzzPacketPayloads are the payloads of FuzzReadPacket's valid seeds.
func fuzzPacketPayloads() [][]byte {
	return [][]byte{
		clientKexInit(kex.Curve25519SHA256, "ssh-ed25519", "aes128-gcm@openssh.com", false),
		{wire.MsgNewKeys},
		(&wire.Ignore{Data: []byte("ignore me")}).Append(nil),
		append([]byte{wire.MsgChannelData}, bytes.Repeat([]byte{0xa5}, 600)...),
	}
}

// TestFuzzPacketSeedsRoundTrip checks that FuzzReadPacket's valid seeds
// are valid indeed: every mode reads back each payload, in order, and
// then a clean EOF.
func TestFuzzPacketSeedsRoundTrip(t *testing.T) {
	want := fuzzPacketPayloads()
	for _, m := range packetFuzzModes {
		ends, got, err := readFuzzPackets(t, m, m.sealedStream(t, want...))
		if err != io.EOF || len(got) != len(want) {
			t.Fatalf("%s %s: read %d packets, then %v; want %d, then EOF", m.cipher, m.mac, len(got), err, len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s %s: packet %d (ending at %d) is %x; want %x", m.cipher, m.mac, i, ends[i], got[i], want[i])
			}
		}
	}
}

// fuzzClientFlight is a client's whole clear-text side of a handshake
// after its version line: KEXINIT, ECDH_INIT with a fixed X25519 key, and
// NEWKEYS. A server takes it without error, since nothing in it depends on
// what the server sends.
func fuzzClientFlight(t testing.TB, kexAlgos string) []byte {
	priv, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	b = append(b, clearPacket(clientKexInit(kexAlgos, "ssh-ed25519", "aes128-gcm@openssh.com", false))...)
	b = append(b, clearPacket(append([]byte{wire.MsgKexECDHInit}, wire.AppendString(nil, priv.PublicKey().Bytes())...))...)
	return append(b, clearPacket([]byte{wire.MsgNewKeys})...)
}

// FuzzServerHandshake feeds bytes after a valid version line to Server
// over a net.Pipe, then closes the connection. Server must return, with
// an error or, for a valid client flight, a Conn, and never panic or hang.
func FuzzServerHandshake(f *testing.F) {
	hostKey := testutil.Ed25519Signer(f)
	strictFlight := fuzzClientFlight(f, kex.Curve25519SHA256+","+strictKexClient)
	f.Add(strictFlight)
	f.Add(fuzzClientFlight(f, kex.Curve25519SHA256))
	f.Add(append(clearPacket((&wire.Ignore{}).Append(nil)), strictFlight...))
	f.Add(strictFlight[:len(strictFlight)-16])
	f.Add(clearPacket(clientKexInit(kex.Curve25519SHA256, "ssh-ed25519", "3des-cbc", false)))
	f.Add(uint32Bytes(0x7fffffff))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) { serverHandshakeOnce(t, hostKey, data) })
}

// serverHandshakeOnce is one run of FuzzServerHandshake: the client's
// version line, the server's (read before going on, so that the server's
// own write never meets a closed pipe), data, then EOF, with what the
// server sends after its version line drained.
func serverHandshakeOnce(t *testing.T, hostKey ssh.Signer, data []byte) {
	nc1, nc2 := net.Pipe()
	defer nc1.Close()
	sc := &ServerConfig{HostKeys: []ssh.Signer{hostKey}, Services: []string{"ssh-userauth"}}
	sc.HandshakeTimeout = 500 * time.Millisecond
	type outcome struct {
		s   *Conn
		err error
	}
	res := make(chan outcome, 1)
	go func() {
		s, err := Server(nc2, sc)
		res <- outcome{s, err}
	}()
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		if _, err := nc1.Write([]byte("SSH-2.0-fuzz\r\n")); err != nil {
			return
		}
		br := bufio.NewReader(nc1)
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
		drained := make(chan struct{})
		go func() {
			io.Copy(io.Discard, br)
			close(drained)
		}()
		nc1.Write(data)
		nc1.Close()
		<-drained
	}()
	select {
	case r := <-res:
		if r.err == nil {
			r.s.Close()
		} else if r.s != nil {
			t.Fatalf("Server returned a Conn and the error %v", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Server did not return")
	}
	nc1.Close()
	select {
	case <-clientDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the client side did not finish")
	}
}

// TestFuzzClientFlightAccepted checks that FuzzServerHandshake's first
// seeds take a server through the whole handshake, with and without
// strict kex, so that the fuzzer starts from the end of the happy path.
func TestFuzzClientFlightAccepted(t *testing.T) {
	for _, kexAlgos := range []string{kex.Curve25519SHA256 + "," + strictKexClient, kex.Curve25519SHA256} {
		nc1, nc2 := net.Pipe()
		ps := startServer(t, nc2, &ServerConfig{})
		p := newRawPeer(t, nc1)
		if err := p.writeVersion("SSH-2.0-fuzz"); err != nil {
			t.Fatal(err)
		}
		if err := p.write(fuzzClientFlight(t, kexAlgos)); err != nil {
			t.Fatal(err)
		}
		s, err := ps.wait(t)
		if err != nil {
			t.Fatalf("%s: Server: %v", kexAlgos, err)
		}
		if want := strings.Contains(kexAlgos, strictKexClient); s.StrictKex() != want {
			t.Errorf("%s: StrictKex %v; want %v", kexAlgos, s.StrictKex(), want)
		}
	}
}
