package zerossh

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/mac"
	"github.com/zerossh/zerossh/pool"
	"github.com/zerossh/zerossh/wire"
)

// directionKeys are the staged keys of one direction, installed when
// NEWKEYS passes.
type directionKeys struct {
	sealer      cipher.Sealer
	opener      cipher.Opener
	limit       uint64 // rekey after this many bytes
	resetSeq    bool   // strict kex: the sequence number restarts at zero
	compression string // the method; its stream restarts with the keys
}

// queueKexInitLocked queues our KEXINIT unless one is queued for the
// running exchange already. c.mu is held.
func (c *Conn) queueKexInitLocked() {
	if c.kexQueued || c.err != nil {
		return
	}
	first := c.sessionID == nil
	var m wire.KexInit
	c.cfg.Rand.Read(m.Cookie[:])
	kexAlgos := c.cfg.KeyExchanges
	if first {
		// The markers go in the first KEXINIT only (RFC 8308 §2.1 for the
		// client's ext-info-c; OpenSSH PROTOCOL §1.10 for strict kex).
		kexAlgos = append([]string(nil), kexAlgos...)
		if !c.cfg.DisableExtInfo {
			kexAlgos = append(kexAlgos, pick(c.isClient, extInfoClient, extInfoServer))
		}
		if !c.cfg.DisableStrictKex {
			kexAlgos = append(kexAlgos, pick(c.isClient, strictKexClient, strictKexServer))
		}
	}
	m.KexAlgos = wire.NameList(strings.Join(kexAlgos, ","))
	m.ServerHostKeyAlgos = wire.NameList(strings.Join(c.hostKeyAlgorithms(), ","))
	ciphers := wire.NameList(strings.Join(c.cfg.Ciphers, ","))
	macs := wire.NameList(strings.Join(c.cfg.MACs, ","))
	comp := wire.NameList(strings.Join(c.cfg.Compressions, ","))
	m.CiphersClientServer, m.CiphersServerClient = ciphers, ciphers
	m.MACsClientServer, m.MACsServerClient = macs, macs
	m.CompressionClientServer, m.CompressionServerClient = comp, comp
	buf := encode(&m)
	c.ourKexInit = append([]byte(nil), buf.B...)
	c.kexQueued = true
	c.queueLocked(outMsg{buf: buf})
}

func pick(isClient bool, client, server string) string {
	if isClient {
		return client
	}
	return server
}

func (c *Conn) hostKeyAlgorithms() []string {
	if c.isClient {
		if len(c.client.HostKeyAlgorithms) > 0 {
			return c.client.HostKeyAlgorithms
		}
		return DefaultHostKeyAlgorithms
	}
	types := make([]string, 0, len(c.server.HostKeys))
	for _, k := range c.server.HostKeys {
		types = append(types, k.PublicKey().Type())
	}
	return hostKeyAlgorithms(types)
}

// runKex runs one key exchange, from the peer's KEXINIT (received with
// sequence number seq) to its NEWKEYS, on the goroutine that reads the
// connection. Every failure is a *DisconnectError or an I/O error.
func (c *Conn) runKex(peerKexInit []byte, seq uint32) error {
	c.mu.Lock()
	c.queueKexInitLocked()
	ours := c.ourKexInit
	first := c.sessionID == nil
	ending := c.err
	c.mu.Unlock()
	if ours == nil {
		// The connection is ending (Close, or a failed write), so no
		// KEXINIT of ours was queued: end the read side with that error.
		return ending
	}
	c.kick()

	theirs := append([]byte(nil), peerKexInit...)
	var our, peer wire.KexInit
	if err := peer.Parse(theirs); err != nil {
		return &DisconnectError{Reason: ProtocolError, Message: "malformed KEXINIT", Err: err}
	}
	if err := our.Parse(ours); err != nil {
		panic("zerossh: our own KEXINIT does not parse: " + err.Error())
	}
	clientInit, serverInit := &our, &peer
	magics := kex.Magics{ClientVersion: c.localVersion, ServerVersion: c.remoteVersion, ClientKexInit: ours, ServerKexInit: theirs}
	if !c.isClient {
		clientInit, serverInit = serverInit, clientInit
		magics = kex.Magics{ClientVersion: c.remoteVersion, ServerVersion: c.localVersion, ClientKexInit: theirs, ServerKexInit: ours}
	}
	algs, err := negotiate(clientInit, serverInit, c.isClient)
	if err != nil {
		return &DisconnectError{Reason: KeyExchangeFailed, Message: err.Error(), Err: err}
	}
	strict := c.strict
	if first {
		strict = clientInit.KexAlgos.Contains(strictKexClient) && serverInit.KexAlgos.Contains(strictKexServer)
		// OpenSSH PROTOCOL §1.10: with strict kex "it is an error for
		// the initial KEXINIT to not be the first packet".
		if strict && seq != 0 {
			return &DisconnectError{Reason: ProtocolError, Message: "strict KEX violation: KEXINIT was not the first packet"}
		}
		peerMarker := pick(c.isClient, extInfoServer, extInfoClient)
		c.mu.Lock()
		c.strict = strict
		c.peerExt = !c.cfg.DisableExtInfo && peer.KexAlgos.Contains(peerMarker)
		c.mu.Unlock()
	}
	kc := &kexConn{c: c, strict: strict && first, skipNext: peer.FirstKexFollows && guessWrong(clientInit, serverInit)}
	defer kc.release()

	method, ok := kex.Lookup(algs.Kex)
	if !ok {
		return &DisconnectError{Reason: KeyExchangeFailed, Message: "unsupported key exchange " + algs.Kex}
	}
	var res *kex.Result
	if c.isClient {
		if early := c.earlyKex; early != nil && early.Method() == algs.Kex {
			res, err = early.Client(kc, &magics)
		} else {
			res, err = method.Client(kc, c.cfg.Rand, &magics)
		}
		c.earlyKex = nil
		if err == nil {
			err = c.verifyHostKey(algs.HostKey, res)
		}
	} else {
		var hostKey []byte
		var sign kex.Signer
		hostKey, sign, err = c.hostKeySigner(algs.HostKey)
		if err == nil {
			res, err = method.Server(kc, c.cfg.Rand, &magics, hostKey, sign)
		}
	}
	if err != nil {
		return kc.classify(err)
	}

	sessionID := c.sessionID
	if first {
		sessionID = res.H
	}
	writeKeys, readKeys, err := c.deriveKeys(algs, res, sessionID, strict)
	if err != nil {
		return &DisconnectError{Reason: KeyExchangeFailed, Message: err.Error()}
	}
	c.mu.Lock()
	sendExt := first && !c.isClient && c.peerExt
	c.queueLocked(outMsg{buf: encode(&wire.NewKeys{}), newKeys: writeKeys, releasesHeld: !sendExt})
	if sendExt {
		c.queueLocked(outMsg{buf: encode(c.serverExtInfo()), releasesHeld: true})
	}
	c.mu.Unlock()
	c.kick()

	payload, err := kc.ReadPacket()
	if err != nil {
		return kc.classify(err)
	}
	if len(payload) != 1 || payload[0] != wire.MsgNewKeys {
		return &DisconnectError{Reason: ProtocolError, Message: fmt.Sprintf("message %d where NEWKEYS was expected", payload[0])}
	}
	c.recv.opener = readKeys.opener
	c.recv.decompress.set(readKeys.compression)
	c.recv.bytes, c.recv.packets = 0, 0
	c.recv.limit = readKeys.limit
	if strict {
		c.recv.seq = 0
	}

	c.mu.Lock()
	if first {
		c.sessionID = sessionID
		c.hostKey = res.HostKey
	}
	c.algs = algs
	c.kexQueued = false
	c.ourKexInit = nil
	c.kexDone++
	c.readKeyed = true
	c.cond.Broadcast()
	if c.cfg.RekeyInterval > 0 && !c.closed {
		if c.rekeyTimer == nil {
			c.rekeyTimer = time.AfterFunc(c.cfg.RekeyInterval, c.autoKex)
		} else {
			c.rekeyTimer.Reset(c.cfg.RekeyInterval)
		}
	}
	c.mu.Unlock()
	return nil
}

func (c *Conn) serverExtInfo() *wire.ExtInfo {
	algs := c.server.ServerSigAlgs
	if len(algs) == 0 {
		algs = DefaultServerSigAlgs
	}
	return &wire.ExtInfo{Extensions: []wire.Extension{
		{Name: "server-sig-algs", Value: []byte(strings.Join(algs, ","))},
		{Name: "ping@openssh.com", Value: []byte("0")},
		// The userauth service binds publickey signatures to this host
		// key (OpenSSH PROTOCOL §3.3).
		{Name: "publickey-hostbound@openssh.com", Value: []byte("0")},
	}}
}

// deriveKeys derives both directions' keys (RFC 4253 §7.2).
func (c *Conn) deriveKeys(algs Algorithms, res *kex.Result, sessionID []byte, strict bool) (write, read *directionKeys, err error) {
	derive := func(letter byte, n int) []byte {
		return kex.DeriveKey(res.Hash, res.K, res.H, sessionID, letter, n)
	}
	// Client to server: IV 'A', key 'C', MAC 'E'; server to client: 'B', 'D', 'F'.
	wl, rl := [3]byte{'A', 'C', 'E'}, [3]byte{'B', 'D', 'F'}
	if !c.isClient {
		wl, rl = rl, wl
	}
	wk, err := newKeyMaterial(algs.Write, wl, derive)
	if err != nil {
		return nil, nil, err
	}
	rk, err := newKeyMaterial(algs.Read, rl, derive)
	if err != nil {
		return nil, nil, err
	}
	write = &directionKeys{resetSeq: strict, compression: algs.Write.Compression}
	if write.sealer, err = wk.alg.NewSealer(wk.key, wk.iv, wk.mac, wk.macKey); err != nil {
		return nil, nil, err
	}
	write.limit = c.rekeyLimit(write.sealer.BlockSize())
	read = &directionKeys{resetSeq: strict, compression: algs.Read.Compression}
	if read.opener, err = rk.alg.NewOpener(rk.key, rk.iv, rk.mac, rk.macKey); err != nil {
		return nil, nil, err
	}
	read.limit = c.rekeyLimit(read.opener.BlockSize())
	return write, read, nil
}

// keyMaterial is one direction's algorithms and derived keys.
type keyMaterial struct {
	alg             *cipher.Algorithm
	mac             cipher.MAC
	key, iv, macKey []byte
}

func newKeyMaterial(d DirectionAlgorithms, letters [3]byte, derive func(byte, int) []byte) (keyMaterial, error) {
	var k keyMaterial
	var ok bool
	if k.alg, ok = cipher.Lookup(d.Cipher); !ok {
		return k, fmt.Errorf("ssh: unsupported cipher %q", d.Cipher)
	}
	if !k.alg.AEAD {
		if k.mac, ok = mac.Lookup(d.MAC); !ok {
			return k, fmt.Errorf("ssh: unsupported MAC %q", d.MAC)
		}
		k.macKey = derive(letters[2], k.mac.KeyLen())
	}
	k.iv = derive(letters[0], k.alg.IVLen)
	k.key = derive(letters[1], k.alg.KeyLen)
	return k, nil
}

// rekeyLimit is the byte budget of one key for a cipher of block size bs,
// as OpenSSH sets it: 2^(2*bs) blocks for bs >= 16, else 1 GiB; a smaller
// Config.RekeyBytes wins.
func (c *Conn) rekeyLimit(bs int) uint64 {
	limit := uint64(1) << 30
	if bs >= 16 {
		limit = uint64(bs) << 32
	}
	if c.cfg.RekeyBytes > 0 {
		limit = min(limit, c.cfg.RekeyBytes)
	}
	return limit
}

// installWriteKeys switches the write direction to new keys right after
// our NEWKEYS was written; wmu is held.
func (c *Conn) installWriteKeys(k *directionKeys) {
	c.send.sealer = k.sealer
	c.send.compress.set(k.compression)
	c.send.bytes, c.send.packets = 0, 0
	c.send.limit = k.limit
	if k.resetSeq {
		c.send.seq = 0
	}
	c.mu.Lock()
	c.writeKeyed = true
	c.mu.Unlock()
}

// verifyHostKey checks the server's signature over the exchange hash and
// then asks the HostKeyCallback about the key (RFC 4253 §8: "The client
// MUST verify that the host key is really the host key for the server").
func (c *Conn) verifyHostKey(alg string, res *kex.Result) error {
	fail := func(msg string, err error) error {
		return &DisconnectError{Reason: HostKeyNotVerifiable, Message: msg, Err: &HostKeyError{Err: err}}
	}
	key, err := ssh.ParsePublicKey(res.HostKey)
	if err != nil {
		return fail("malformed host key", err)
	}
	keyType, sigFormat := keyTypeFor(alg)
	if key.Type() != keyType {
		return fail("host key type does not match the negotiated algorithm",
			fmt.Errorf("got %s for %s", key.Type(), alg))
	}
	var format, blob []byte
	r := wire.Reader(res.Signature)
	if !r.ReadString(&format) || !r.ReadString(&blob) || !r.Empty() {
		return fail("malformed host key signature", wire.ErrMalformed)
	}
	if string(format) != sigFormat {
		return fail("host key signature of the wrong algorithm", fmt.Errorf("got %q for %s", format, alg))
	}
	if err := key.Verify(res.H, &ssh.Signature{Format: string(format), Blob: blob}); err != nil {
		return fail("host key signature does not verify", err)
	}
	if err := c.client.HostKeyCallback(c.addr, c.nc.RemoteAddr(), key); err != nil {
		return fail("host key refused", err)
	}
	return nil
}

// hostKeySigner returns K_S and the signing function for the negotiated
// host key algorithm.
func (c *Conn) hostKeySigner(alg string) ([]byte, kex.Signer, error) {
	keyType, sigFormat := keyTypeFor(alg)
	for _, s := range c.server.HostKeys {
		if s.PublicKey().Type() != keyType {
			continue
		}
		sign := func(h []byte) ([]byte, error) {
			var sig *ssh.Signature
			var err error
			if strings.HasPrefix(sigFormat, "rsa-sha2-") {
				as, ok := s.(ssh.AlgorithmSigner)
				if !ok {
					return nil, fmt.Errorf("ssh: host key signer cannot sign with %s", sigFormat)
				}
				sig, err = as.SignWithAlgorithm(c.cfg.Rand, h, sigFormat)
			} else {
				sig, err = s.Sign(c.cfg.Rand, h)
			}
			if err != nil {
				return nil, err
			}
			out := wire.AppendStringS(nil, sig.Format)
			return wire.AppendString(out, sig.Blob), nil
		}
		return s.PublicKey().Marshal(), sign, nil
	}
	return nil, nil, &DisconnectError{Reason: KeyExchangeFailed, Message: "no host key for " + alg}
}

// kexConn carries a key exchange method's messages. Writes go through the
// out queue; reads come straight from the connection, handling the
// generic messages RFC 4253 §7.1 lets through.
type kexConn struct {
	c        *Conn
	buf      *pool.Buffer // behind the last payload returned
	strict   bool         // initial exchange under strict kex: nothing else may pass
	skipNext bool         // the peer guessed its first kex packet wrong
	ioErr    error        // the last read failure, which the method wraps or returns
}

func (k *kexConn) WritePacket(payload []byte) error {
	buf := pool.Get(len(payload))
	buf.B = append(buf.B, payload...)
	k.c.mu.Lock()
	k.c.queueLocked(outMsg{buf: buf})
	k.c.mu.Unlock()
	k.c.kick()
	return nil
}

func (k *kexConn) ReadPacket() ([]byte, error) {
	k.release()
	for {
		buf, payload, seq, err := k.c.recv.readPacket()
		if err != nil {
			k.ioErr = packetError(err)
			return nil, k.ioErr
		}
		msg := payload[0]
		switch {
		case msg == wire.MsgNewKeys || (msg >= 30 && msg <= 49):
			if k.skipNext && msg != wire.MsgNewKeys {
				// RFC 4253 §7.1: a wrong guess "MUST be ignored".
				k.skipNext = false
				pool.Put(buf)
				continue
			}
			k.buf = buf
			return payload, nil
		case msg == wire.MsgDisconnect || !k.strict && (msg == wire.MsgIgnore || msg == wire.MsgDebug || msg == wire.MsgUnimplemented):
			err = k.c.handleGeneric(payload, seq, true)
		case k.strict:
			// OpenSSH PROTOCOL §1.10: during the initial strict exchange any
			// unexpected message ends the connection.
			err = &DisconnectError{Reason: ProtocolError, Message: fmt.Sprintf("strict KEX violation: unexpected message %d during initial key exchange", msg)}
		case msg >= 8 && msg <= 19 || msg >= 22 && msg <= 29:
			// Numbers RFC 4253 §7.1 lets through that we do not know: §11.4
			// asks for UNIMPLEMENTED, as for any unrecognized message.
			k.c.sendUnimplemented(seq)
			k.c.kick()
		default:
			err = &DisconnectError{Reason: ProtocolError, Message: fmt.Sprintf("unexpected message %d during key exchange", msg)}
		}
		pool.Put(buf)
		if err != nil {
			k.ioErr = err
			return nil, err
		}
	}
}

func (k *kexConn) release() {
	if k.buf != nil {
		pool.Put(k.buf)
		k.buf = nil
	}
}

// classify turns a key exchange method's error into what ends the
// connection: a failure to read is itself; a malformed or unexpected
// message is a protocol error; anything else failed the key exchange.
func (k *kexConn) classify(err error) error {
	if k.ioErr != nil {
		return k.ioErr
	}
	var de *DisconnectError
	var ue *kex.UnexpectedMessageError
	switch {
	case errors.As(err, &de):
		return err
	case errors.As(err, &ue), errors.Is(err, wire.ErrMalformed):
		return &DisconnectError{Reason: ProtocolError, Message: err.Error(), Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return err
	}
	return &DisconnectError{Reason: KeyExchangeFailed, Message: err.Error(), Err: err}
}

// packetError turns a fault of the binary packet protocol into the
// DISCONNECT it ends with; other errors pass unchanged.
func packetError(err error) error {
	switch {
	case errors.Is(err, ErrBadPacketLength), errors.Is(err, ErrBadPadding):
		return &DisconnectError{Reason: ProtocolError, Message: "Packet corrupt", Err: err}
	case errors.Is(err, ErrMAC):
		return &DisconnectError{Reason: ProtocolError, Message: "Corrupted MAC on input", Err: err}
	case errors.Is(err, ErrSeqWrap):
		return &DisconnectError{Reason: ProtocolError, Message: "sequence number wraps", Err: err}
	case errors.Is(err, ErrCompression):
		return &DisconnectError{Reason: CompressionError, Message: err.Error(), Err: err}
	}
	return err
}

// prepareKex makes the client's ephemeral key for its preferred key
// exchange method before the server's KEXINIT arrives: the server's
// reply takes about as long to come, so the first exchange starts with
// its key ready. If the server picks another method, the key is dropped.
func (c *Conn) prepareKex() {
	method, ok := kex.Lookup(c.cfg.KeyExchanges[0])
	if !ok {
		return
	}
	if key, err := kex.PrepareClient(method, c.cfg.Rand); err == nil {
		c.earlyKex = key
	}
}
