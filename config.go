package zerossh

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/compression"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/mac"
)

// Config holds what client and server configure alike. The zero value
// is usable: every empty field takes the default its comment gives.
type Config struct {
	// Rand is the source of randomness; crypto/rand by default.
	Rand io.Reader

	// KeyExchanges, Ciphers, MACs and Compressions are the algorithms
	// offered, most preferred first. Defaults: kex.Default,
	// cipher.Default(), mac.Default, and "none" (as OpenSSH, which
	// compresses only when asked to); compression.All asks for
	// compression, as ssh -C does.
	KeyExchanges []string
	Ciphers      []string
	MACs         []string
	Compressions []string
	// CompressionLevel is the deflate level of compressed payloads, 1
	// (fastest) to 9 (smallest); compression.DefaultLevel by default.
	CompressionLevel int

	// SoftwareVersion and Comment form the version line
	// "SSH-2.0-<SoftwareVersion>[ <Comment>]". SoftwareVersion defaults
	// to "zerossh_1.0".
	SoftwareVersion string
	Comment         string

	// MaxPacketSize bounds packet_length of received packets; at least
	// 35000 (RFC 4253 §6.1), 256 KiB by default.
	MaxPacketSize uint32

	// RekeyBytes starts a new key exchange after this many bytes in
	// either direction. The default depends on the cipher's block size,
	// as in OpenSSH: 2^32 blocks for 16-byte blocks, 1 GiB otherwise; a
	// smaller value set here wins.
	RekeyBytes uint64
	// RekeyPackets starts a new key exchange after this many packets in
	// either direction; 2^31 by default.
	RekeyPackets uint64
	// RekeyInterval, when positive, starts a new key exchange after this
	// much time under the same keys.
	RekeyInterval time.Duration

	// HandshakeTimeout bounds the version exchange and the first key
	// exchange; one minute by default, negative for none.
	HandshakeTimeout time.Duration

	// MaxHeldBackBytes bounds the messages held back while a key exchange
	// runs; a writer waits while the queue is full. 1 MiB by default.
	MaxHeldBackBytes int

	// DisableStrictKex leaves out kex-strict-*-v00@openssh.com, the
	// countermeasure to the Terrapin attack. Only tests should set it.
	DisableStrictKex bool
	// DisableExtInfo leaves out ext-info-c/ext-info-s (RFC 8308).
	DisableExtInfo bool

	// OnDebug receives DEBUG messages (RFC 4253 §11.3).
	OnDebug func(alwaysDisplay bool, message, language string)
	// OnUnimplemented receives the sequence numbers of UNIMPLEMENTED
	// messages (RFC 4253 §11.4).
	OnUnimplemented func(seq uint32)

	// traceInflate, for tests, sees every compressed payload received
	// and what it decompressed to, on the goroutine that reads.
	traceInflate func(compressed, payload []byte)
}

// ClientConfig configures the client side of a Conn.
type ClientConfig struct {
	Config

	// HostKeyCallback checks the server's host key after its signature
	// over the exchange hash has verified; required. knownhosts.New
	// returns one.
	HostKeyCallback ssh.HostKeyCallback
	// HostKeyAlgorithms are the host key algorithms accepted, most
	// preferred first. Default: DefaultHostKeyAlgorithms.
	HostKeyAlgorithms []string
}

// ServerConfig configures the server side of a Conn.
type ServerConfig struct {
	Config

	// HostKeys are the server's host keys; at least one is required.
	// RSA keys are offered as rsa-sha2-512 and rsa-sha2-256 and must
	// implement ssh.AlgorithmSigner; certificates (ssh.NewCertSigner)
	// are offered under their -cert-v01@openssh.com names.
	HostKeys []ssh.Signer
	// Services are the service names a client may request (RFC 4253
	// §10), typically "ssh-userauth". Other requests end the connection
	// with reason service not available.
	Services []string
	// ServerSigAlgs is the value of the server-sig-algs extension (RFC
	// 8308 §3.1): the public key algorithms accepted for user
	// authentication. Default: DefaultServerSigAlgs.
	ServerSigAlgs []string
}

// DefaultHostKeyAlgorithms is the client's default host key preference.
var DefaultHostKeyAlgorithms = []string{
	ssh.CertAlgoED25519v01,
	ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
	ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01,
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

// DefaultServerSigAlgs is the default value of server-sig-algs.
var DefaultServerSigAlgs = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

const (
	defaultMaxPacket     = 256 << 10
	minMaxPacket         = 35000
	defaultRekeyPackets  = 1 << 31
	defaultHeldBackBytes = 1 << 20
	defaultHandshake     = time.Minute
)

// withDefaults returns a copy of c with every empty field set.
func (c Config) withDefaults() Config {
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if len(c.KeyExchanges) == 0 {
		c.KeyExchanges = kex.Default
	}
	if len(c.Ciphers) == 0 {
		c.Ciphers = cipher.Default()
	}
	if len(c.MACs) == 0 {
		c.MACs = mac.Default
	}
	if len(c.Compressions) == 0 {
		c.Compressions = []string{"none"}
	}
	if c.SoftwareVersion == "" {
		c.SoftwareVersion = "zerossh_1.0"
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = defaultMaxPacket
	}
	c.MaxPacketSize = max(c.MaxPacketSize, minMaxPacket)
	if c.RekeyPackets == 0 {
		c.RekeyPackets = defaultRekeyPackets
	}
	if c.MaxHeldBackBytes <= 0 {
		c.MaxHeldBackBytes = defaultHeldBackBytes
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = defaultHandshake
	}
	return c
}

// validate refuses algorithm names this package does not implement, so
// that a typo fails at once rather than as a failed negotiation later.
func (c *Config) validate() error {
	check := func(what string, names []string, known func(string) bool) error {
		for _, n := range names {
			if !known(n) {
				return fmt.Errorf("ssh: unsupported %s %q", what, n)
			}
		}
		return nil
	}
	return errors.Join(
		c.validateVersion(),
		check("key exchange", c.KeyExchanges, func(n string) bool { _, ok := kex.Lookup(n); return ok }),
		check("cipher", c.Ciphers, func(n string) bool { _, ok := cipher.Lookup(n); return ok }),
		check("MAC", c.MACs, func(n string) bool { _, ok := mac.Lookup(n); return ok }),
		check("compression", c.Compressions, compression.Known),
		c.validateCompressionLevel(),
	)
}

func (c *Config) validateCompressionLevel() error {
	if c.CompressionLevel != 0 && (c.CompressionLevel < compression.MinLevel || c.CompressionLevel > compression.MaxLevel) {
		return fmt.Errorf("ssh: compression level %d out of range [%d, %d]", c.CompressionLevel, compression.MinLevel, compression.MaxLevel)
	}
	return nil
}

// validateVersion applies RFC 4253 §4.2 to our version line: the
// software version is printable US-ASCII without spaces or minus signs,
// and the line with CR LF is at most 255 bytes.
func (c *Config) validateVersion() error {
	if strings.ContainsAny(c.SoftwareVersion, " -") {
		return fmt.Errorf("ssh: software version %q has a space or minus sign", c.SoftwareVersion)
	}
	line := c.versionLine()
	for _, b := range line {
		if b < 0x20 || b > 0x7e {
			return fmt.Errorf("ssh: version line %q is not printable US-ASCII", line)
		}
	}
	if len(line)+2 > maxVersionLine {
		return fmt.Errorf("ssh: version line longer than %d bytes", maxVersionLine)
	}
	return nil
}

// validHostKeyAlgorithm reports whether alg is a host key algorithm a
// client can verify.
func validHostKeyAlgorithm(alg string) bool {
	return slices.Contains(DefaultHostKeyAlgorithms, alg)
}
