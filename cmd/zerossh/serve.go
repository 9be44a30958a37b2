package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/server"
	"github.com/zerossh/zerossh/sftp"
	"github.com/zerossh/zerossh/userauth"
)

// passwordEnv names the variable that enables password authentication.
const passwordEnv = "ZEROSSH_PASSWORD"

func serveCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", stderr)
	listen := fs.String("listen", "127.0.0.1:2022", "address to listen on")
	reusePort := fs.Bool("reuseport", false, "one listener and accept loop per CPU on -listen, sharing the port with SO_REUSEPORT (Linux, FreeBSD, DragonFly)")
	root := fs.String("root", ".", "directory to serve")
	state := fs.String("state", defaultStateDir(), "directory for the host key and known_hosts")
	var authKeys multiFlag
	fs.Var(&authKeys, "authorized-keys", "authorized_keys file (repeatable; default ~/.ssh/authorized_keys and ~/.ssh/id_*.pub)")
	readOnly := fs.Bool("read-only", false, "refuse uploads and changes")
	grace := fs.Duration("grace", 30*time.Second, "on SIGINT or SIGTERM, how long transfers may take to finish")
	var algs algFlags
	algs.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: zerossh serve [flags]

Serves a directory over SFTP. Public keys from ~/.ssh/authorized_keys and
~/.ssh/id_*.pub are accepted, and the key id_ed25519 that the state
directory holds (made on first start, for the printed sftp line); a
password only if $%s is set.

Flags:
`, passwordEnv)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return withCode(exitUsage, fmt.Errorf("serve takes no arguments, got %q", fs.Args()))
	}
	absRoot, err := filepath.Abs(*root)
	if err != nil {
		return err
	}
	// The printed sftp line names files in the state directory; it must
	// work from any directory.
	if *state, err = filepath.Abs(*state); err != nil {
		return err
	}
	if st, err := os.Stat(absRoot); err != nil || !st.IsDir() {
		return withCode(exitUsage, fmt.Errorf("-root %s is not a directory", *root))
	}
	hostKey, err := loadOrCreateKey(filepath.Join(*state, "ssh_host_ed25519_key"), "zerossh host key")
	if err != nil {
		return err
	}
	// A client key of its own makes the printed sftp line work on a
	// machine with no SSH keys at all.
	clientKeyPath := filepath.Join(*state, "id_ed25519")
	clientKey, err := loadOrCreateKey(clientKeyPath, "zerossh client key")
	if err != nil {
		return err
	}
	keys, cas, err := loadAuthorizedKeys(authKeys)
	if err != nil {
		return err
	}
	keys = append(keys, clientKey.PublicKey())
	password := os.Getenv(passwordEnv)
	log := slog.New(slog.NewTextHandler(stderr, nil))

	srv := &server.Server{Logger: log}
	srv.Transport.HostKeys = []ssh.Signer{hostKey}
	if err := algs.apply(&srv.Transport.Config); err != nil {
		return err
	}
	srv.Auth.PublicKeyCallback = publicKeyCallback(keys, cas)
	if password != "" {
		srv.Auth.PasswordCallback = func(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if subtle.ConstantTimeCompare(pw, []byte(password)) == 1 {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	srv.Handler = func(c *connection.Conn, auth *userauth.Result) {
		remote := c.Transport().RemoteAddr().String()
		connection.Serve(c, &connection.ServerOptions{
			Subsystems: map[string]connection.SessionHandler{
				"sftp": func(s *connection.ServerSession) int {
					err := sftp.Serve(sftp.SessionConn(s), &sftp.ServerOptions{
						Root: absRoot, ReadOnly: *readOnly, Logger: log, User: auth.User, RemoteAddr: remote,
					})
					if err != nil {
						return 1
					}
					return 0
				},
			},
		})
	}

	var ls []net.Listener
	if *reusePort {
		ls, err = server.ListenReusePort(context.Background(), "tcp", *listen, 0)
	} else {
		var l net.Listener
		l, err = net.Listen("tcp", *listen)
		ls = []net.Listener{l}
	}
	if err != nil {
		return withCode(exitFailure, err)
	}
	addr := ls[0].Addr().(*net.TCPAddr)
	knownHosts, err := writeKnownHosts(*state, addr, hostKey.PublicKey())
	if err != nil {
		return err
	}
	user := currentUser()
	fmt.Fprintf(stdout, "zerossh: serving %s over SFTP on %s\n", absRoot, addr)
	fmt.Fprintf(stdout, "host key: %s\n", ssh.FingerprintSHA256(hostKey.PublicKey()))
	fmt.Fprintf(stdout, "connect:  sftp -P %d -i %s -o UserKnownHostsFile=%s %s@%s\n", addr.Port, clientKeyPath, knownHosts, user, addr.IP)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.ServeListeners(ls) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", *grace)
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Info("grace period over; connections closed")
	}
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func defaultStateDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ".zerossh"
	}
	return filepath.Join(dir, "zerossh")
}

func currentUser() string {
	for _, v := range []string{"USER", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	return "user"
}

// loadOrCreateKey reads an ed25519 private key in OpenSSH's format,
// making it (and its .pub) on first start.
func loadOrCreateKey(path, comment string) (ssh.Signer, error) {
	if pemBytes, err := os.ReadFile(path); err == nil {
		return ssh.ParsePrivateKey(pemBytes)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	return signer, os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644)
}

// writeKnownHosts writes a known_hosts file naming the host key at addr,
// for the ready-to-paste sftp line.
func writeKnownHosts(state string, addr *net.TCPAddr, key ssh.PublicKey) (string, error) {
	path := filepath.Join(state, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr.String())}, key)
	return path, os.WriteFile(path, []byte(line+"\n"), 0o644)
}

// loadAuthorizedKeys reads authorized_keys files (the given ones, or the
// user's defaults). Lines with the cert-authority option name CAs for
// user certificates.
func loadAuthorizedKeys(files []string) (keys, cas []ssh.PublicKey, err error) {
	if len(files) == 0 {
		home, herr := os.UserHomeDir()
		if herr != nil {
			return nil, nil, nil
		}
		files = append(files, filepath.Join(home, ".ssh", "authorized_keys"))
		pubs, _ := filepath.Glob(filepath.Join(home, ".ssh", "id_*.pub"))
		files = append(files, pubs...)
		var present []string
		for _, f := range files {
			if _, err := os.Stat(f); err == nil {
				present = append(present, f)
			}
		}
		files = present
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		for len(bytes.TrimSpace(data)) > 0 {
			key, _, options, rest, err := ssh.ParseAuthorizedKey(data)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f, err)
			}
			isCA := false
			for _, o := range options {
				if o == "cert-authority" {
					isCA = true
				}
			}
			if isCA {
				cas = append(cas, key)
			} else {
				keys = append(keys, key)
			}
			data = rest
		}
	}
	return keys, cas, nil
}

// publicKeyCallback accepts the listed keys, and certificates signed by
// the listed CAs.
func publicKeyCallback(keys, cas []ssh.PublicKey) func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
	checker := &ssh.CertChecker{
		IsUserAuthority: func(auth ssh.PublicKey) bool {
			for _, ca := range cas {
				if bytes.Equal(ca.Marshal(), auth.Marshal()) {
					return true
				}
			}
			return false
		},
		UserKeyFallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range keys {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
	}
	return checker.Authenticate
}
