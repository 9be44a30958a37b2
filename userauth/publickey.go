package userauth

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/wire"
)

// Extension names of RFC 8308 §3.1 and OpenSSH's PROTOCOL.
const (
	extServerSigAlgs      = "server-sig-algs"
	extPublicKeyHostbound = "publickey-hostbound@openssh.com"
)

// keyAlgorithm is what a public key algorithm name in a request implies.
type keyAlgorithm struct {
	// keyFormat is the type of the key blob, ssh.PublicKey.Type().
	keyFormat string
	// sigFormat is the format the signature must have, which is also the
	// name server-sig-algs lists (RFC 8308 §3.1).
	sigFormat string
}

// keyAlgorithms are the public key algorithms this package verifies and
// signs with, by the name a request carries. For RSA the name chooses
// the hash (RFC 8332 §3); certificates (OpenSSH PROTOCOL.certkeys) sign
// as the key they certify.
var keyAlgorithms = map[string]keyAlgorithm{
	ssh.KeyAlgoED25519:    {ssh.KeyAlgoED25519, ssh.KeyAlgoED25519},
	ssh.KeyAlgoSKED25519:  {ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKED25519},
	ssh.KeyAlgoECDSA256:   {ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA256},
	ssh.KeyAlgoECDSA384:   {ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA384},
	ssh.KeyAlgoECDSA521:   {ssh.KeyAlgoECDSA521, ssh.KeyAlgoECDSA521},
	ssh.KeyAlgoSKECDSA256: {ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoSKECDSA256},
	ssh.KeyAlgoRSASHA512:  {ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA512},
	ssh.KeyAlgoRSASHA256:  {ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA256},
	ssh.KeyAlgoRSA:        {ssh.KeyAlgoRSA, ssh.KeyAlgoRSA},

	ssh.CertAlgoED25519v01:    {ssh.CertAlgoED25519v01, ssh.KeyAlgoED25519},
	ssh.CertAlgoSKED25519v01:  {ssh.CertAlgoSKED25519v01, ssh.KeyAlgoSKED25519},
	ssh.CertAlgoECDSA256v01:   {ssh.CertAlgoECDSA256v01, ssh.KeyAlgoECDSA256},
	ssh.CertAlgoECDSA384v01:   {ssh.CertAlgoECDSA384v01, ssh.KeyAlgoECDSA384},
	ssh.CertAlgoECDSA521v01:   {ssh.CertAlgoECDSA521v01, ssh.KeyAlgoECDSA521},
	ssh.CertAlgoSKECDSA256v01: {ssh.CertAlgoSKECDSA256v01, ssh.KeyAlgoSKECDSA256},
	ssh.CertAlgoRSASHA512v01:  {ssh.CertAlgoRSAv01, ssh.KeyAlgoRSASHA512},
	ssh.CertAlgoRSASHA256v01:  {ssh.CertAlgoRSAv01, ssh.KeyAlgoRSASHA256},
	ssh.CertAlgoRSAv01:        {ssh.CertAlgoRSAv01, ssh.KeyAlgoRSA},
}

// rsaCertAlgorithms names the certificate algorithm of each RSA signature
// algorithm.
var rsaCertAlgorithms = map[string]string{
	ssh.KeyAlgoRSASHA512: ssh.CertAlgoRSASHA512v01,
	ssh.KeyAlgoRSASHA256: ssh.CertAlgoRSASHA256v01,
}

// appendSignedData appends what a publickey signature covers. RFC 4252
// §7: "string session identifier, byte SSH_MSG_USERAUTH_REQUEST, string
// user name, string service name, string "publickey", boolean TRUE,
// string public key algorithm name, string public key to be used for
// authentication"; publickey-hostbound-v00@openssh.com adds "string
// server host key" (OpenSSH PROTOCOL) and puts its own name in place of
// "publickey". The session identifier ties the signature to this
// connection.
func appendSignedData(dst, sessionID []byte, req *Request, pk *PublicKeyRequest) []byte {
	dst = wire.AppendString(dst, sessionID)
	dst = append(dst, wire.MsgUserauthRequest)
	dst = wire.AppendString(dst, req.User)
	dst = wire.AppendString(dst, req.Service)
	dst = wire.AppendString(dst, req.Method)
	dst = wire.AppendBool(dst, true)
	dst = wire.AppendString(dst, pk.Algorithm)
	dst = wire.AppendString(dst, pk.PublicKey)
	if pk.Hostbound {
		dst = wire.AppendString(dst, pk.HostKey)
	}
	return dst
}

// parseSignature decodes a signature blob (RFC 4253 §6.6: string format,
// string blob). Security key signatures carry flags and a counter after
// the blob (OpenSSH PROTOCOL.u2f), which go to Rest; any other signature
// must end with its blob. The result aliases b.
func parseSignature(b []byte) (*ssh.Signature, bool) {
	r := wire.Reader(b)
	var format, blob []byte
	if !r.ReadString(&format) || !r.ReadString(&blob) {
		return nil, false
	}
	sig := &ssh.Signature{Format: string(format), Blob: blob}
	switch sig.Format {
	case ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256:
		sig.Rest = []byte(r)
	default:
		if !r.Empty() {
			return nil, false
		}
	}
	return sig, true
}

// appendSignature encodes sig as parseSignature reads it.
func appendSignature(dst []byte, sig *ssh.Signature) []byte {
	dst = wire.AppendStringS(dst, sig.Format)
	dst = wire.AppendString(dst, sig.Blob)
	return append(dst, sig.Rest...)
}

// publicKey handles a "publickey" or publickey-hostbound-v00@openssh.com
// request on the server (RFC 4252 §7).
func (s *server) publicKey(req *Request, hostbound bool) (outcome, error) {
	var m PublicKeyRequest
	if m.Parse(req.MethodData, hostbound) != nil {
		return outcome{}, s.disconnect(zerossh.ProtocolError, "malformed publickey request")
	}
	if s.cb.PublicKeyCallback == nil {
		return outcome{err: errRefused}, nil
	}
	// A host-bound signature is meant for the server that proved
	// possession of this host key in the key exchange.
	if hostbound && !bytes.Equal(m.HostKey, s.hostKey) {
		return outcome{err: errors.New("ssh: host-bound request for another host key")}, nil
	}
	alg, ok := keyAlgorithms[string(m.Algorithm)]
	if !ok || !slices.Contains(s.cfg.PublicKeyAlgorithms, alg.sigFormat) {
		return outcome{err: fmt.Errorf("ssh: public key algorithm %q not accepted", m.Algorithm)}, nil
	}
	// The callback may keep the key, which must not alias the read
	// buffer.
	key, err := ssh.ParsePublicKey(bytes.Clone(m.PublicKey))
	if err != nil {
		return outcome{err: err}, nil
	}
	if key.Type() != alg.keyFormat {
		return outcome{err: fmt.Errorf("ssh: %s key sent as %q", key.Type(), m.Algorithm)}, nil
	}
	if !m.HasSignature {
		// RFC 4252 §7: "The server MUST respond to this message with
		// either SSH_MSG_USERAUTH_FAILURE or with ...
		// SSH_MSG_USERAUTH_PK_OK".
		perms, err := s.cb.PublicKeyCallback(s.meta, key)
		var partial *ssh.PartialSuccessError
		if err == nil || errors.As(err, &partial) {
			err = checkSourceAddress(s.meta.remote, perms)
		}
		if err != nil {
			return outcome{err: err}, nil
		}
		ok := PKOK{Algorithm: m.Algorithm, PublicKey: m.PublicKey}
		return outcome{answered: true}, s.t.WritePacket(ok.Append(nil))
	}
	sig, ok := parseSignature(m.Signature)
	if !ok {
		return outcome{err: errors.New("ssh: malformed signature")}, nil
	}
	// RFC 8332 §3.2: "If the client includes the signature field, the
	// client MUST encode the same algorithm name in the signature as in
	// SSH_MSG_USERAUTH_REQUEST". The same holds for every algorithm:
	// otherwise a request named rsa-sha2-512 could carry a SHA-1
	// signature.
	if sig.Format != alg.sigFormat {
		return outcome{err: fmt.Errorf("ssh: %q signature in a %q request", sig.Format, m.Algorithm)}, nil
	}
	// RFC 4252 §7: "When the server receives this message, it MUST check
	// whether the supplied key is acceptable for authentication, and if
	// so, it MUST check whether the signature is correct." The signature
	// is checked first, so that the callback only ever accepts keys whose
	// possession has been proved.
	data := appendSignedData(nil, s.sessionID, req, &m)
	if err := key.Verify(data, sig); err != nil {
		return outcome{err: err}, nil
	}
	perms, err := s.cb.PublicKeyCallback(s.meta, key)
	return outcome{perms: perms, err: err}, nil
}

// publicKeysMethod is the client side of "publickey".
type publicKeysMethod struct {
	signers func() ([]ssh.Signer, error)
	// query asks whether the server takes a key before signing with it.
	query bool
}

// PublicKeys returns a Method that tries each signer in turn, sending a
// signed request straight away: keys in memory sign at little cost, and
// a round trip is saved. RSA keys sign with rsa-sha2-512 or rsa-sha2-256
// (RFC 8332), never with SHA-1, and must implement ssh.AlgorithmSigner.
func PublicKeys(signers ...ssh.Signer) Method {
	signers = slices.Clone(signers)
	return &publicKeysMethod{signers: func() ([]ssh.Signer, error) { return signers, nil }}
}

// PublicKeysCallback is PublicKeys with the signers obtained when the
// method runs, such as agent.NewClient(conn).Signers. It asks whether
// the server would accept each key and signs only after USERAUTH_PK_OK,
// as OpenSSH does, so that an agent is not asked to sign (and perhaps
// its user to confirm) for keys the server refuses. An error from
// getSigners ends the authentication.
func PublicKeysCallback(getSigners func() ([]ssh.Signer, error)) Method {
	return &publicKeysMethod{signers: getSigners, query: true}
}

func (m *publicKeysMethod) name() string { return MethodPublicKey }

func (m *publicKeysMethod) run(c *client) (bool, error) {
	signers, err := m.signers()
	if err != nil {
		return false, c.cancel(err)
	}
	for _, signer := range signers {
		// After a partial success the server may want another method.
		if !c.allowed(MethodPublicKey) {
			return false, nil
		}
		if signer == nil {
			continue
		}
		if ok, err := c.tryKey(signer, m.query); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// tryKey authenticates with a signature by signer's key, first asking
// whether the server accepts the key if query is set.
func (c *client) tryKey(signer ssh.Signer, query bool) (bool, error) {
	pub := signer.PublicKey()
	alg, sigAlg, err := c.pickAlgorithm(signer, pub)
	if err != nil {
		c.errs = append(c.errs, err)
		return false, nil
	}
	blob := pub.Marshal()
	if query {
		if ok, err := c.queryKey(alg, blob); !ok || err != nil {
			return false, err
		}
	}
	return c.signedRequest(signer, pub, alg, sigAlg, blob)
}

// queryKey asks whether the server would accept a key (RFC 4252 §7).
func (c *client) queryKey(alg string, blob []byte) (bool, error) {
	query := PublicKeyRequest{Algorithm: []byte(alg), PublicKey: blob}
	if err := c.send(MethodPublicKey, query.Append(nil), false); err != nil {
		return false, err
	}
	p, err := c.reply()
	if err != nil {
		return false, err
	}
	switch p[0] {
	case wire.MsgUserauthFailure:
		return false, nil
	case MsgUserauthPKOK:
		var ok PKOK
		if ok.Parse(p) != nil || string(ok.Algorithm) != alg || !bytes.Equal(ok.PublicKey, blob) {
			return false, c.protocolError("USERAUTH_PK_OK does not match the query")
		}
	default:
		// RFC 4252 §7: the answer to a query is FAILURE or PK_OK.
		return false, c.protocolError(fmt.Sprintf("message %d in answer to a public key query", p[0]))
	}
	return true, nil
}

// signedRequest authenticates with a signature over the session.
func (c *client) signedRequest(signer ssh.Signer, pub ssh.PublicKey, alg, sigAlg string, blob []byte) (bool, error) {
	method := MethodPublicKey
	signed := PublicKeyRequest{HasSignature: true, Algorithm: []byte(alg), PublicKey: blob}
	if c.hostbound() {
		method = MethodPublicKeyHostbound
		signed.Hostbound, signed.HostKey = true, c.hostKey
	}
	req := Request{User: []byte(c.cfg.User), Service: []byte(c.service), Method: []byte(method)}
	sig, err := signWith(signer, sigAlg, appendSignedData(nil, c.sessionID, &req, &signed))
	if err == nil && sig.Format != sigAlg {
		err = fmt.Errorf("ssh: signer returned a %q signature; want %q", sig.Format, sigAlg)
	}
	if err != nil {
		// The server waits for a signed request, but the next request of
		// any kind ends that wait (RFC 4252 §5.1).
		c.errs = append(c.errs, fmt.Errorf("ssh: signing with %s key: %w", pub.Type(), err))
		return false, nil
	}
	signed.Signature = appendSignature(nil, sig)
	if err := c.send(method, signed.Append(nil), false); err != nil {
		return false, err
	}
	p, err := c.reply()
	if err != nil {
		return false, err
	}
	switch p[0] {
	case wire.MsgUserauthSuccess:
		return true, nil
	case wire.MsgUserauthFailure:
		return false, nil
	}
	return false, c.protocolError(fmt.Sprintf("message %d in answer to a signed public key request", p[0]))
}

// hostbound reports whether the server takes
// publickey-hostbound-v00@openssh.com: it announces
// publickey-hostbound@openssh.com, version "0", in EXT_INFO (OpenSSH
// PROTOCOL).
func (c *client) hostbound() bool {
	v, ok := c.ext[extPublicKeyHostbound]
	return ok && string(v) == "0" && len(c.hostKey) > 0
}

// pickAlgorithm returns the algorithm to name in the request for pub,
// and the signature algorithm that goes with it.
//
// An RSA key signs with rsa-sha2-512 or rsa-sha2-256, the first the
// server lists in server-sig-algs (RFC 8308 §3.1). Without server-sig-algs
// it uses rsa-sha2-512: RFC 8332 §3.3 lets clients "default to one of the
// new algorithms" once "ssh-rsa" is disabled, as it is here. (OpenSSH 8.8
// and later do not offer the key at all then, ssh-rsa being out of their
// default PubkeyAcceptedAlgorithms.) SHA-1 is never used. Other keys have
// a single algorithm, offered whatever server-sig-algs lists, as OpenSSH
// does: the query costs little if the server refuses it.
func (c *client) pickAlgorithm(signer ssh.Signer, pub ssh.PublicKey) (alg, sigAlg string, err error) {
	format := pub.Type()
	if format != ssh.KeyAlgoRSA && format != ssh.CertAlgoRSAv01 {
		a, ok := keyAlgorithms[format]
		if !ok || a.keyFormat != format {
			return "", "", fmt.Errorf("ssh: %s keys are not supported", format)
		}
		return format, a.sigFormat, nil
	}
	if _, ok := signer.(ssh.AlgorithmSigner); !ok {
		return "", "", fmt.Errorf("ssh: RSA signer %T cannot choose rsa-sha2-256 or rsa-sha2-512", signer)
	}
	candidates := []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	if ms, ok := signer.(ssh.MultiAlgorithmSigner); ok {
		candidates = slices.DeleteFunc(candidates, func(a string) bool { return !slices.Contains(ms.Algorithms(), a) })
	}
	serverAlgs, announced := c.ext[extServerSigAlgs]
	for _, a := range candidates {
		if announced && !wire.NameList(serverAlgs).Contains(a) {
			continue
		}
		if format == ssh.CertAlgoRSAv01 {
			return rsaCertAlgorithms[a], a, nil
		}
		return a, a, nil
	}
	if announced {
		return "", "", fmt.Errorf("ssh: server-sig-algs %q has no RSA signature with SHA-2 for the %s key", serverAlgs, format)
	}
	return "", "", fmt.Errorf("ssh: RSA signer allows neither %s nor %s", ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
}

// signWith signs data with the algorithm asked for when signer can
// choose one.
func signWith(signer ssh.Signer, alg string, data []byte) (*ssh.Signature, error) {
	if as, ok := signer.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(rand.Reader, data, alg)
	}
	return signer.Sign(rand.Reader, data)
}
