package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/term"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/client"
	"github.com/zerossh/zerossh/sftp"
	"github.com/zerossh/zerossh/userauth"
)

func transferCmd(op string, args []string, stderr io.Writer) error {
	synopsis := "get [flags] [user@]host:remote [local]"
	if op == "put" {
		synopsis = "put [flags] local [user@]host:remote"
	}
	fs := newFlagSet(op, synopsis, stderr)
	port := fs.Int("P", 22, "server port")
	var identities multiFlag
	fs.Var(&identities, "i", "private key file (repeatable; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa, and the ssh-agent)")
	home, _ := os.UserHomeDir()
	knownHostsFile := fs.String("known-hosts", filepath.Join(home, ".ssh", "known_hosts"), "known_hosts file to check the host key against")
	quiet := fs.Bool("q", false, "no progress bar")
	var algs algFlags
	algs.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var remoteSpec, local string
	switch {
	case op == "get" && (fs.NArg() == 1 || fs.NArg() == 2):
		remoteSpec = fs.Arg(0)
		if fs.NArg() == 2 {
			local = fs.Arg(1)
		}
	case op == "put" && fs.NArg() == 2:
		local, remoteSpec = fs.Arg(0), fs.Arg(1)
	default:
		fs.Usage()
		return withCode(exitUsage, fmt.Errorf("%s: wrong number of arguments", op))
	}
	user, host, remote, err := parseRemote(remoteSpec)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if op == "get" && local == "" {
		local = path.Base(remote)
	}

	cfg := &client.Config{}
	if err := algs.apply(&cfg.Transport.Config); err != nil {
		return err
	}
	hostKeys, err := knownhosts.New(*knownHostsFile)
	if err != nil {
		return withCode(exitHostKey, fmt.Errorf("reading known hosts: %w", err))
	}
	cfg.Transport.HostKeyCallback = hostKeys
	methods, closeAgent := authMethods(identities, home)
	defer closeAgent()
	cfg.Auth = userauth.ClientConfig{User: user, Methods: methods}

	addr := net.JoinHostPort(host, strconv.Itoa(*port))
	ctx := context.Background()
	conn, err := client.Dial(ctx, addr, cfg)
	if err != nil {
		return classifyDialError(addr, err)
	}
	defer conn.Close()
	c, err := sftp.Open(conn)
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("starting sftp: %w", err))
	}
	defer c.Close()

	var size int64 = -1
	if op == "get" {
		if st, err := c.Stat(remote); err == nil {
			size = st.Size()
		}
	} else if st, err := os.Stat(local); err == nil {
		size = st.Size()
	}
	progress := newProgress(*quiet, size, op, stderr)
	if op == "get" {
		if err = c.Get(ctx, remote, local, progress); err != nil {
			err = fmt.Errorf("get %s:%s to %s: %w", host, remote, local, err)
		}
	} else if err = c.Put(ctx, local, remote, progress); err != nil {
		err = fmt.Errorf("put %s to %s:%s: %w", local, host, remote, err)
	}
	return withCode(exitFailure, err)
}

// parseRemote splits [user@]host:path.
func parseRemote(s string) (user, host, p string, err error) {
	user = currentUser()
	if at := strings.LastIndex(s, "@"); at >= 0 {
		user, s = s[:at], s[at+1:]
	}
	if strings.HasPrefix(s, "[") { // [ipv6]:path
		end := strings.Index(s, "]:")
		if end < 0 {
			return "", "", "", fmt.Errorf("%q: want [host]:path", s)
		}
		return user, s[1:end], s[end+2:], nil
	}
	host, p, ok := strings.Cut(s, ":")
	if !ok || host == "" || p == "" {
		return "", "", "", fmt.Errorf("%q: want [user@]host:path", s)
	}
	return user, host, p, nil
}

// authMethods offers the agent's keys, then the key files, then a
// password from the environment or the terminal.
func authMethods(identities []string, home string) ([]userauth.Method, func()) {
	var methods []userauth.Method
	closeAgent := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if ac, err := net.Dial("unix", sock); err == nil {
			methods = append(methods, userauth.PublicKeysCallback(agent.NewClient(ac).Signers))
			closeAgent = func() { ac.Close() }
		}
	}
	if len(identities) == 0 {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			identities = append(identities, filepath.Join(home, ".ssh", n))
		}
	}
	var signers []ssh.Signer
	for _, f := range identities {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if s, err := ssh.ParsePrivateKey(data); err == nil {
			signers = append(signers, s)
		}
	}
	if len(signers) > 0 {
		methods = append(methods, userauth.PublicKeys(signers...))
	}
	methods = append(methods, userauth.PasswordCallback(func() (string, error) {
		if pw, ok := os.LookupEnv(passwordEnv); ok {
			return pw, nil
		}
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return "", errors.New("no password: stdin is not a terminal and $" + passwordEnv + " is not set")
		}
		fmt.Fprint(os.Stderr, "Password: ")
		pw, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		return string(pw), err
	}))
	return methods, closeAgent
}

// classifyDialError gives a failed connection its exit code and a
// message a person can act on.
func classifyDialError(addr string, err error) error {
	var ke *knownhosts.KeyError
	var he *zerossh.HostKeyError
	var ae *userauth.AuthError
	switch {
	case errors.As(err, &ke) && len(ke.Want) > 0:
		return withCode(exitHostKey, fmt.Errorf("HOST KEY FOR %s HAS CHANGED: someone may be intercepting the connection, or the key was replaced; check it, then update the known_hosts file (%v)", addr, err))
	case errors.As(err, &ke):
		return withCode(exitHostKey, fmt.Errorf("host key for %s is not in the known_hosts file; check its fingerprint and add it (ssh-keyscan prints it)", addr))
	case errors.As(err, &he):
		return withCode(exitHostKey, err)
	case errors.As(err, &ae):
		return withCode(exitAuth, fmt.Errorf("authentication refused by %s: %w", addr, err))
	}
	var de *zerossh.DisconnectError
	if errors.As(err, &de) && de.Reason == zerossh.NoMoreAuthMethodsAvailable {
		return withCode(exitAuth, fmt.Errorf("authentication refused by %s: %w", addr, err))
	}
	return withCode(exitUnreachable, fmt.Errorf("connecting to %s: %w", addr, err))
}

// newProgress returns a progress callback drawing a bar on stderr, or
// nil when quiet or stderr is not a terminal.
func newProgress(quiet bool, size int64, op string, stderr io.Writer) func(int64) {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(op),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
	)
	return func(done int64) { bar.Set64(done) }
}
