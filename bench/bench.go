package bench

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/sftp"
)

// Impl names an SSH implementation as the benchmarks name it.
type Impl string

// The implementations measured in-process.
const (
	ZeroSSH Impl = "zerossh"
	XCrypto Impl = "x-crypto-ssh"
	// OpenSSH is ssh, sftp and sshd as processes; only the benchmarks
	// start them (see openssh_test.go).
	OpenSSH Impl = "openssh"
)

// Impls are the implementations that run in-process, in table order.
var Impls = []Impl{ZeroSSH, XCrypto}

// User is the user name the in-process clients log in as.
const User = "bench"

// Algorithms pins what a connection negotiates; an empty field leaves the
// implementation's default.
type Algorithms struct {
	Kex    string
	Cipher string
	MAC    string // only for ciphers without integrity of their own
}

// Name is how a benchmark names the cipher: the cipher, and "+MAC" when
// there is one.
func (a Algorithms) Name() string {
	if a.MAC == "" {
		return a.Cipher
	}
	return a.Cipher + "+" + a.MAC
}

// Key exchange methods measured by BenchmarkHandshake.
const (
	Curve25519 = "curve25519-sha256"
	MLKEM768   = "mlkem768x25519-sha256"
)

// Kexes are the key exchange methods measured, in table order.
var Kexes = []string{Curve25519, MLKEM768}

// Ciphers are the ciphers measured by BenchmarkTransfer, in table order,
// each with curve25519-sha256 as its key exchange.
var Ciphers = []Algorithms{
	{Kex: Curve25519, Cipher: "aes128-gcm@openssh.com"},
	{Kex: Curve25519, Cipher: "aes256-gcm@openssh.com"},
	{Kex: Curve25519, Cipher: "chacha20-poly1305@openssh.com"},
	{Kex: Curve25519, Cipher: "aes128-ctr", MAC: "hmac-sha2-256-etm@openssh.com"},
}

// SFTPAlgorithms are what the SFTP benchmarks negotiate: the implementations'
// defaults differ (OpenSSH prefers chacha20-poly1305), so they are pinned.
var SFTPAlgorithms = Algorithms{Kex: Curve25519, Cipher: "aes128-gcm@openssh.com"}

// CipherByName returns the entry of Ciphers whose Name is name.
func CipherByName(name string) (Algorithms, error) {
	for _, a := range Ciphers {
		if a.Name() == name || a.Cipher == name {
			return a, nil
		}
	}
	return Algorithms{}, fmt.Errorf("bench: unknown cipher %q", name)
}

// Keys are the host and user keys every connection uses.
type Keys struct {
	Host, User ssh.Signer
}

// TheKeys returns the ed25519 keys, made from fixed seeds so that a helper
// process (see Helper) has the same ones.
var TheKeys = sync.OnceValue(func() Keys {
	mk := func(seed string) ssh.Signer {
		h := sha256.Sum256([]byte(seed))
		s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(h[:]))
		if err != nil {
			panic(err)
		}
		return s
	}
	return Keys{Host: mk("zerossh bench host key"), User: mk("zerossh bench user key")}
})

// Server is an SSH server of one implementation listening on 127.0.0.1.
type Server interface {
	// Addr is the address to dial.
	Addr() string
	// Authenticated counts the connections that have authenticated so far.
	Authenticated() int64
	// Close stops listening and closes every connection.
	Close() error
}

// Client is an authenticated client connection.
type Client interface {
	// Sink starts "exec" on a new session: what is written is sent to the
	// server, which discards it. Close sends EOF and waits for the exit
	// status, which the server sends once it has read everything.
	Sink() (io.WriteCloser, error)
	// Session opens a session channel and closes it.
	Session() error
	// SFTP starts the "sftp" subsystem on a new session.
	SFTP() (*sftp.Client, error)
	// Close closes the connection.
	Close() error
}

// StartServer starts a server of impl; root is the directory its SFTP
// subsystem serves ("" refuses the subsystem).
func StartServer(impl Impl, algs Algorithms, root string) (Server, error) {
	switch impl {
	case ZeroSSH:
		return startZeroServer(algs, root)
	case XCrypto:
		return startXServer(algs, root)
	}
	return nil, fmt.Errorf("bench: no in-process server for %q", impl)
}

// Dial connects a client of impl to addr and authenticates.
func Dial(impl Impl, addr string, algs Algorithms) (Client, error) {
	switch impl {
	case ZeroSSH:
		return dialZero(addr, algs)
	case XCrypto:
		return dialX(addr, algs)
	}
	return nil, fmt.Errorf("bench: no in-process client for %q", impl)
}

// discard logs nothing: a server logs a line per connection and per SFTP
// transfer, which the handshake benchmark would otherwise measure.
var discard = slog.New(slog.DiscardHandler)

// sinkBufSize is the server's read size, the same for both
// implementations.
const sinkBufSize = 32 << 10

// drain reads r until an error; it returns nil at io.EOF.
func drain(r io.Reader) error {
	buf := make([]byte, sinkBufSize)
	for {
		if _, err := r.Read(buf); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// sftpOptions configures the SFTP server of both implementations.
func sftpOptions(root string) *sftp.ServerOptions {
	return &sftp.ServerOptions{Root: root, Logger: discard, User: User}
}

// session is what both implementations' client sessions offer (zerossh's
// mirrors x/crypto/ssh's), so the workloads drive them with one code.
type session interface {
	StdinPipe() (io.WriteCloser, error)
	StdoutPipe() (io.Reader, error)
	Start(cmd string) error
	RequestSubsystem(name string) error
	Wait() error
	Close() error
}

// startSink runs the server's "sink" command on s and returns its stdin;
// closing it waits for the command to end.
func startSink(s session) (io.WriteCloser, error) {
	w, err := s.StdinPipe()
	if err == nil {
		err = s.Start("sink")
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return &sink{s, w}, nil
}

type sink struct {
	s session
	io.WriteCloser
}

func (k *sink) Close() error {
	err := k.WriteCloser.Close()
	if werr := k.s.Wait(); err == nil {
		err = werr
	}
	k.s.Close()
	return err
}

// startSFTP starts the sftp subsystem on s and returns a client on it.
func startSFTP(s session) (*sftp.Client, error) {
	w, err := s.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := s.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.RequestSubsystem("sftp"); err != nil {
		return nil, err
	}
	return sftp.NewClient(pipeRWC{r, w})
}

// pipeRWC joins a session's stdout and stdin into one stream.
type pipeRWC struct {
	io.Reader
	io.WriteCloser
}
