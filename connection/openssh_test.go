package connection

// Live interop with OpenSSH: its ssh client against our server stack,
// our client stack against its sshd.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/internal/peertest"
	"github.com/zerossh/zerossh/userauth"
)

// writeKnownHosts writes a known_hosts file naming our server's host key
// for [127.0.0.1]:port.
func writeKnownHosts(t testing.TB, srv *serverStack) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", srv.Port, ssh.MarshalAuthorizedKey(srv.HostKey.PublicKey()))
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func parsePublicKey(t testing.TB, line []byte) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keyAuth accepts the keys given, for testUser.
func keyAuth(keys ...ssh.PublicKey) *userauth.ServerConfig {
	return &userauth.ServerConfig{PublicKeyCallback: func(m ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		for _, k := range keys {
			if m.User() == testUser && bytes.Equal(k.Marshal(), key.Marshal()) {
				return nil, nil
			}
		}
		return nil, errors.New("unknown key")
	}}
}

// runEchoSSH runs ssh with o against our echo server and checks what the
// echo handler promises: stdout equals stdin, "err" on stderr, exit
// status 3. It returns ssh's stderr.
func runEchoSSH(t *testing.T, o peertest.SSHClientOptions, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	const input = "hello from OpenSSH\n"
	o.Stdin = strings.NewReader(input)
	o.User = testUser
	o.Command = []string{"echo"}
	cmd := peertest.SSHCommand(t, ctx, o)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("ssh: %v; want exit status 3\nstderr:\n%s", err, stderr.String())
	}
	if stdout.String() != input {
		t.Errorf("stdout %q; want %q", stdout.String(), input)
	}
	if !strings.Contains(stderr.String(), "err\n") {
		t.Errorf("stderr %q; want it to contain %q", stderr.String(), "err\n")
	}
	return stderr.String()
}

func TestOpenSSHClientPublicKey(t *testing.T) {
	peertest.RequireOpenSSH(t)
	dir := t.TempDir()
	keys := map[string]string{}
	var pubs []ssh.PublicKey
	for _, typ := range []string{peertest.KeyEd25519, peertest.KeyECDSA, peertest.KeyRSA} {
		priv, pub := peertest.GenerateKey(t, dir, typ)
		keys[typ] = priv
		pubs = append(pubs, parsePublicKey(t, pub))
	}
	srv := startServerStack(t, keyAuth(pubs...), &ServerOptions{Exec: echoHandler})
	known := writeKnownHosts(t, srv)
	for _, typ := range []string{peertest.KeyEd25519, peertest.KeyECDSA, peertest.KeyRSA} {
		t.Run(typ, func(t *testing.T) {
			o := peertest.SSHClientOptions{Port: srv.Port, IdentityFile: keys[typ], KnownHostsFile: known, Verbose: typ == peertest.KeyRSA}
			log := runEchoSSH(t, o, nil)
			if typ == peertest.KeyRSA && !strings.Contains(log, "signing using rsa-sha2-512") {
				t.Errorf("ssh did not sign with rsa-sha2-512:\n%s", log)
			}
		})
	}
	if n := len(srv.Results()); n != 3 {
		t.Errorf("%d authentications; want 3 (errors: %v)", n, srv.Errors())
	}
}

func TestOpenSSHClientCertificate(t *testing.T) {
	peertest.RequireOpenSSH(t)
	dir := t.TempDir()
	caPriv, caPub := peertest.GenerateKey(t, dir, peertest.KeyEd25519)
	userPriv, _ := peertest.GenerateKey(t, dir, peertest.KeyEd25519)
	out, err := exec.Command(peertest.KeygenName, "-q", "-s", caPriv, "-I", "zerossh-test", "-n", testUser, "-V", "-5m:+1h", userPriv+".pub").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -s: %v\n%s", err, out)
	}
	ca := parsePublicKey(t, caPub)
	var certSeen string
	checker := &ssh.CertChecker{IsUserAuthority: func(auth ssh.PublicKey) bool { return bytes.Equal(auth.Marshal(), ca.Marshal()) }}
	auth := &userauth.ServerConfig{PublicKeyCallback: func(m ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if cert, ok := key.(*ssh.Certificate); ok {
			certSeen = cert.KeyId
		}
		return checker.Authenticate(m, key)
	}}
	srv := startServerStack(t, auth, &ServerOptions{Exec: echoHandler})
	runEchoSSH(t, peertest.SSHClientOptions{Port: srv.Port, IdentityFile: userPriv, KnownHostsFile: writeKnownHosts(t, srv)}, nil)
	if certSeen != "zerossh-test" {
		t.Errorf("certificate key ID %q; want %q", certSeen, "zerossh-test")
	}
}

// askpass writes a script that prints the password, for SSH_ASKPASS, and
// returns the environment that makes ssh use it.
func askpass(t testing.TB) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "askpass.sh")
	script := fmt.Sprintf("#!/bin/sh\necho '%s'\n", testPassword)
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return []string{"SSH_ASKPASS=" + path, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0"}
}

func TestOpenSSHClientPassword(t *testing.T) {
	peertest.RequireOpenSSH(t)
	srv := startServerStack(t, passwordAuth(), &ServerOptions{Exec: echoHandler})
	runEchoSSH(t, peertest.SSHClientOptions{
		Port:           srv.Port,
		KnownHostsFile: writeKnownHosts(t, srv),
		Options:        []string{"BatchMode=no", "PreferredAuthentications=password", "PubkeyAuthentication=no", "NumberOfPasswordPrompts=1"},
	}, askpass(t))
	if r := srv.Results(); len(r) != 1 || r[0].Method != "password" {
		t.Errorf("authentications %+v; want one by password", r)
	}
}

func TestOpenSSHClientKeyboardInteractive(t *testing.T) {
	peertest.RequireOpenSSH(t)
	auth := &userauth.ServerConfig{KeyboardInteractiveCallback: func(m ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
		answers, err := client(m.User(), "zerossh test", []string{"Password: "}, []bool{false})
		if err != nil {
			return nil, err
		}
		if m.User() != testUser || len(answers) != 1 || answers[0] != testPassword {
			return nil, errors.New("wrong answer")
		}
		return nil, nil
	}}
	srv := startServerStack(t, auth, &ServerOptions{Exec: echoHandler})
	runEchoSSH(t, peertest.SSHClientOptions{
		Port:           srv.Port,
		KnownHostsFile: writeKnownHosts(t, srv),
		Options:        []string{"BatchMode=no", "PreferredAuthentications=keyboard-interactive", "KbdInteractiveAuthentication=yes", "PubkeyAuthentication=no", "NumberOfPasswordPrompts=1"},
	}, askpass(t))
	if r := srv.Results(); len(r) != 1 || r[0].Method != "keyboard-interactive" {
		t.Errorf("authentications %+v; want one by keyboard-interactive", r)
	}
}

func TestOpenSSHClientEcho64MiB(t *testing.T) {
	peertest.RequireOpenSSH(t)
	priv, pub := peertest.GenerateKey(t, t.TempDir(), peertest.KeyEd25519)
	srv := startServerStack(t, keyAuth(parsePublicKey(t, pub)), &ServerOptions{Exec: echoHandler})
	known := writeKnownHosts(t, srv)
	// ssh prefers chacha20-poly1305, we prefer AES-GCM: measure both.
	for _, cipher := range []string{"aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"} {
		t.Run(cipher, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			sent, got := sha256.New(), sha256.New()
			counted := &countingWriter{w: got}
			var stderr bytes.Buffer
			cmd := peertest.SSHCommand(t, ctx, peertest.SSHClientOptions{
				Port: srv.Port, User: testUser, IdentityFile: priv, KnownHostsFile: known,
				Options: []string{"Ciphers=" + cipher},
				Stdin:   &patternReader{n: transferSize, sum: sent}, Command: []string{"echo"},
			})
			cmd.Stdout, cmd.Stderr = counted, &stderr
			start := time.Now()
			err := cmd.Run()
			elapsed := time.Since(start)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("ssh: %v; want exit status 3\nstderr:\n%s", err, stderr.String())
			}
			if srv.Cipher() != cipher {
				t.Errorf("negotiated %s; want %s", srv.Cipher(), cipher)
			}
			logThroughput(t, "OpenSSH client, zerossh server, exec echo, "+cipher, transferSize, elapsed)
			if counted.n != transferSize || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
				t.Fatalf("echoed %d bytes, hashes equal %v; want %d equal bytes", counted.n, bytes.Equal(got.Sum(nil), sent.Sum(nil)), transferSize)
			}
		})
	}
}

// rekeyTransferSize is what goes each way while both sides rekey every
// MiB: enough for a few dozen key exchanges.
const rekeyTransferSize = 16 << 20

// dialSSHD starts sshd with a fresh ed25519 user key authorized and
// connects our client stack to it.
func dialSSHD(t *testing.T, extra []string, tcfg zerossh.Config, cfg *Config) (*Conn, *peertest.SSHD) {
	t.Helper()
	peertest.RequireOpenSSH(t)
	priv, pub := peertest.GenerateKey(t, t.TempDir(), peertest.KeyEd25519)
	sshd := peertest.StartSSHD(t, peertest.SSHDOptions{AuthorizedKeys: [][]byte{pub}, Extra: extra})
	pem, err := os.ReadFile(priv)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	hostKey := parsePublicKey(t, sshd.HostPublicKeys[peertest.KeyEd25519])
	c := dialStack(t, sshd.Addr,
		&zerossh.ClientConfig{Config: tcfg, HostKeyCallback: ssh.FixedHostKey(hostKey)},
		&userauth.ClientConfig{User: peertest.CurrentUser(t), Methods: []userauth.Method{userauth.PublicKeys(signer)}}, cfg)
	return c, sshd
}

// catThrough runs cat on sshd over a session and checks that
// transferSize bytes come back unchanged.
func catThrough(t *testing.T, c *Conn, what string) { catThroughN(t, c, what, transferSize) }

func catThroughN(t *testing.T, c *Conn, what string, size int) {
	t.Helper()
	s := newSession(t, c)
	sent, got := sha256.New(), sha256.New()
	counted := &countingWriter{w: got}
	var stderr bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = &patternReader{n: size, sum: sent}, counted, &stderr
	start := time.Now()
	if err := s.Run("cat"); err != nil {
		t.Fatalf("cat: %v\nstderr: %s", err, stderr.String())
	}
	logThroughput(t, what+", "+c.Transport().Algorithms().Write.Cipher, size, time.Since(start))
	if counted.n != size || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("cat returned %d bytes, hashes equal %v; want %d equal bytes", counted.n, bytes.Equal(got.Sum(nil), sent.Sum(nil)), size)
	}
}

func TestOpenSSHServerExec(t *testing.T) {
	c, _ := dialSSHD(t, nil, zerossh.Config{}, nil)
	s := newSession(t, c)
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	wantExit(t, s.Run("sh -c 'echo out; echo err >&2; exit 3'"), 3, "")
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q; want %q, %q", stdout.String(), stderr.String(), "out\n", "err\n")
	}

	s = newSession(t, c)
	if err := s.Setenv("ZEROSSH_TEST", "1"); err == nil {
		t.Error("sshd accepted an env request it was not configured for")
	}
	out, err := s.Output("echo $0 $ZEROSSH_TEST")
	if err != nil || len(out) == 0 {
		t.Errorf("Output = %q, %v", out, err)
	}

	s = newSession(t, c)
	if err := s.Start("kill -TERM $$"); err != nil {
		t.Fatal(err)
	}
	wantExit(t, s.Wait(), 128+15, "TERM")

	catThrough(t, c, "zerossh client, OpenSSH server, exec cat")
}

func TestOpenSSHServerRekey(t *testing.T) {
	// sshd checks its budget against the blocks sent so far plus the
	// next packet's length in bytes (OpenSSH packet.c,
	// ssh_packet_need_rekeying), so with a 1M limit, 64 KiB packets make
	// it rekey every few of them. 32 KiB packets, what OpenSSH itself
	// asks for, keep the key exchanges about a MiB apart.
	c, sshd := dialSSHD(t, []string{"RekeyLimit 1M"}, zerossh.Config{RekeyBytes: 1 << 20}, &Config{MaxPacket: 32 << 10})
	catThroughN(t, c, "zerossh client, OpenSSH server, exec cat, rekey every 1 MiB", rekeyTransferSize)
	// The session's process has logged its key exchanges by the time
	// the channel closed; the log is read as it is.
	kexes := peertest.Negotiations(sshd.Log())
	if len(kexes) < 2 {
		t.Fatalf("sshd logged %d key exchanges; want more than one", len(kexes))
	}
	t.Logf("sshd logged %d key exchanges", len(kexes))
}
