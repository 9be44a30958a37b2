// Package mac implements the message authentication codes of the SSH
// binary packet protocol: hmac-sha2-256 and hmac-sha2-512 (RFC 6668),
// hmac-sha1 (RFC 4253 §6.4), and their encrypt-then-MAC forms
// hmac-sha2-256-etm@openssh.com, hmac-sha2-512-etm@openssh.com and
// hmac-sha1-etm@openssh.com (OpenSSH PROTOCOL §1.5).
//
// A MAC here only computes HMAC(key, uint32(seq) || data); which bytes
// data covers (the plaintext packet, or packet_length and the ciphertext
// for -etm@openssh.com) is for package cipher to decide.
package mac

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"

	"github.com/zerossh/zerossh/cipher"
)

// Default lists the MAC algorithms offered by default, most preferred
// first. Encrypt-then-MAC comes first because it authenticates the
// ciphertext before anything is decrypted. hmac-sha1 is left out: SHA-1
// is only kept for peers that offer nothing else.
var Default = []string{
	"hmac-sha2-256-etm@openssh.com",
	"hmac-sha2-512-etm@openssh.com",
	"hmac-sha2-256",
	"hmac-sha2-512",
}

// All lists every MAC algorithm this package implements, in the order of
// Default followed by the ones that are off by default.
var All = []string{
	"hmac-sha2-256-etm@openssh.com",
	"hmac-sha2-512-etm@openssh.com",
	"hmac-sha2-256",
	"hmac-sha2-512",
	"hmac-sha1-etm@openssh.com",
	"hmac-sha1",
}

// algorithms maps names to algorithms. The key length equals the hash
// output size: RFC 4253 §6.4 gives hmac-sha1 "key length = 20", and RFC
// 6668 §2 gives 32 and 64 for hmac-sha2-256 and hmac-sha2-512.
var algorithms = map[string]*algorithm{
	"hmac-sha2-256-etm@openssh.com": {"hmac-sha2-256-etm@openssh.com", true, sha256.Size, sha256.New},
	"hmac-sha2-512-etm@openssh.com": {"hmac-sha2-512-etm@openssh.com", true, sha512.Size, sha512.New},
	"hmac-sha2-256":                 {"hmac-sha2-256", false, sha256.Size, sha256.New},
	"hmac-sha2-512":                 {"hmac-sha2-512", false, sha512.Size, sha512.New},
	"hmac-sha1-etm@openssh.com":     {"hmac-sha1-etm@openssh.com", true, sha1.Size, sha1.New},
	"hmac-sha1":                     {"hmac-sha1", false, sha1.Size, sha1.New},
}

// Lookup returns the MAC algorithm called name, as negotiated in KEXINIT.
func Lookup(name string) (cipher.MAC, bool) {
	a, ok := algorithms[name]
	if !ok {
		return nil, false
	}
	return a, true
}

// algorithm is one HMAC-based MAC algorithm.
type algorithm struct {
	name    string
	etm     bool
	size    int
	newHash func() hash.Hash
}

var _ cipher.MAC = (*algorithm)(nil)

func (a *algorithm) Name() string { return a.name }
func (a *algorithm) ETM() bool    { return a.etm }
func (a *algorithm) Size() int    { return a.size }
func (a *algorithm) KeyLen() int  { return a.size }

// New returns a keyed state. It calls Reset once so that crypto/hmac
// saves the hash states after the inner and outer pads now, not on the
// first packet: Sum then never allocates.
func (a *algorithm) New(key []byte) cipher.MACState {
	s := &state{h: hmac.New(a.newHash, key)}
	s.h.Reset()
	return s
}

// state is a keyed HMAC reused packet after packet.
type state struct {
	h   hash.Hash
	seq [4]byte
}

var _ cipher.MACState = (*state)(nil)

// Sum returns HMAC(key, uint32(seq) || data) written to dst[:0]. RFC 4253
// §6.4: "mac = MAC(key, sequence_number || unencrypted_packet)", where
// the sequence number is an uint32.
func (s *state) Sum(dst []byte, seq uint32, data []byte) []byte {
	binary.BigEndian.PutUint32(s.seq[:], seq)
	s.h.Reset()
	s.h.Write(s.seq[:])
	s.h.Write(data)
	return s.h.Sum(dst[:0])
}
