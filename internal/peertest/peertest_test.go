package peertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testTimeout bounds each live test.
const testTimeout = 30 * time.Second

// startWithKey starts an sshd that lets the current user in with a new ed25519 key, and
// returns it with client options using that key.
func startWithKey(t *testing.T, opts SSHDOptions) (*SSHD, SSHClientOptions) {
	t.Helper()
	RequireOpenSSH(t)
	priv, pub := GenerateKey(t, t.TempDir(), KeyEd25519)
	opts.AuthorizedKeys = append(opts.AuthorizedKeys, pub)
	s := StartSSHD(t, opts)
	return s, SSHClientOptions{Port: s.Port, IdentityFile: priv}
}

// testContext returns a context that ends after testTimeout or with the test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestOpenSSHExec(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s, o := startWithKey(t, SSHDOptions{})
	t.Logf("key and sshd ready in %v", time.Since(start))

	o.Command = []string{"echo", "hello"}
	start = time.Now()
	stdout, stderr, err := RunSSH(t, testContext(t), o)
	t.Logf("ssh echo hello took %v", time.Since(start))
	if err != nil {
		t.Fatalf("ssh: %v\nstderr: %s", err, stderr)
	}
	if got, want := string(stdout), "hello\n"; got != want {
		t.Errorf("stdout: got %q; want %q", got, want)
	}
	// sshd logs to a file, not to a stderr that sessions inherit, and ssh logs only errors:
	// nothing but the remote command's stderr may reach ours.
	if len(stderr) != 0 {
		t.Errorf("stderr: got %q; want nothing", stderr)
	}
	if !s.WaitLog(t, "Accepted publickey for "+CurrentUser(t), 5*time.Second) {
		t.Errorf("sshd log lacks the accepted key:\n%s", s.Log())
	}
}

func TestOpenSSHExecStdinAndStatus(t *testing.T) {
	t.Parallel()
	_, o := startWithKey(t, SSHDOptions{})
	o.Command = []string{"tr a-z A-Z; echo oops >&2; exit 3"}
	o.Stdin = strings.NewReader("hello")
	stdout, stderr, err := RunSSH(t, testContext(t), o)
	if got, want := string(stdout), "HELLO"; got != want {
		t.Errorf("stdout: got %q; want %q", got, want)
	}
	if got, want := string(stderr), "oops\n"; got != want {
		t.Errorf("stderr: got %q; want %q", got, want)
	}
	if code := exitCode(err); code != 3 {
		t.Errorf("exit status: got %d (%v); want 3", code, err)
	}
}

// exitCode returns the exit status in err, 0 for nil and -1 for any other error.
func exitCode(err error) int {
	var e *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e.ExitCode()
	}
	return -1
}

func TestOpenSSHNegotiated(t *testing.T) {
	t.Parallel()
	s, base := startWithKey(t, SSHDOptions{})
	for _, tc := range []struct {
		kex, cipher, mac, wantMAC string
	}{
		{"curve25519-sha256", "aes128-ctr", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-256-etm@openssh.com"},
		{"ecdh-sha2-nistp256", "aes256-ctr", "hmac-sha2-512", "hmac-sha2-512"},
		{"sntrup761x25519-sha512@openssh.com", "aes128-gcm@openssh.com", "hmac-sha2-256", "<implicit>"},
		{"diffie-hellman-group14-sha256", "chacha20-poly1305@openssh.com", "hmac-sha2-256", "<implicit>"},
	} {
		t.Run(tc.kex+"/"+tc.cipher, func(t *testing.T) {
			o := base
			o.Verbose = true
			o.Command = []string{"true"}
			o.Options = []string{"KexAlgorithms=" + tc.kex, "Ciphers=" + tc.cipher, "MACs=" + tc.mac}
			_, stderr, err := RunSSH(t, testContext(t), o)
			if err != nil {
				t.Fatalf("ssh: %v\nstderr: %s", err, stderr)
			}
			want := [...]string{tc.kex, "ssh-ed25519", tc.cipher, tc.cipher, tc.wantMAC, tc.wantMAC}
			kex, hostKey, cipherCS, cipherSC, macCS, macSC := NegotiatedFromLog(string(stderr))
			if got := [...]string{kex, hostKey, cipherCS, cipherSC, macCS, macSC}; got != want {
				t.Errorf("ssh -vvv: got %q; want %q", got, want)
			}
			// The sshd log holds every connection so far; the last key exchange is ours.
			if !s.WaitLog(t, "kex: server->client cipher: "+tc.cipher+" MAC: "+tc.wantMAC, 5*time.Second) {
				t.Fatalf("sshd log lacks the negotiated cipher:\n%s", s.Log())
			}
			all := Negotiations(s.Log())
			last := all[len(all)-1]
			got := [...]string{last.Kex, last.HostKey, last.CipherCS, last.CipherSC, last.MACCS, last.MACSC}
			if got != want {
				t.Errorf("sshd log: got %q; want %q", got, want)
			}
		})
	}
}

func TestOpenSSHHostKeyTypes(t *testing.T) {
	t.Parallel()
	s, base := startWithKey(t, SSHDOptions{HostKeyTypes: []string{KeyEd25519, KeyECDSA, KeyRSA}})
	for _, alg := range []string{"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "rsa-sha2-512"} {
		t.Run(alg, func(t *testing.T) {
			o := base
			o.Verbose = true
			o.KnownHostsFile = s.KnownHostsPath
			o.Options = []string{"HostKeyAlgorithms=" + alg}
			o.Command = []string{"true"}
			_, stderr, err := RunSSH(t, testContext(t), o)
			if err != nil {
				t.Fatalf("ssh: %v\nstderr: %s", err, stderr)
			}
			if _, hostKey, _, _, _, _ := NegotiatedFromLog(string(stderr)); hostKey != alg {
				t.Errorf("host key algorithm: got %q; want %q", hostKey, alg)
			}
		})
	}

	t.Run("unknown", func(t *testing.T) {
		other := StartSSHD(t, SSHDOptions{FreshHostKeys: true})
		o := base
		o.KnownHostsFile = other.KnownHostsPath
		o.Command = []string{"true"}
		_, stderr, err := RunSSH(t, testContext(t), o)
		if err == nil || !bytes.Contains(stderr, []byte("Host key verification failed")) {
			t.Errorf("got %v, stderr %q; want a host key verification failure", err, stderr)
		}
	})
}

func TestOpenSSHRekey(t *testing.T) {
	t.Parallel()
	const size = 256 << 10
	s, o := startWithKey(t, SSHDOptions{Extra: []string{"RekeyLimit 64K"}})
	o.Verbose = true
	o.Options = []string{"RekeyLimit=64K", "KexAlgorithms=curve25519-sha256"}
	o.Command = []string{"wc -c"}
	o.Stdin = bytes.NewReader(make([]byte, size))
	stdout, stderr, err := RunSSH(t, testContext(t), o)
	if err != nil {
		t.Fatalf("ssh: %v\nstderr: %s", err, lastLines(string(stderr), 50))
	}
	if got, want := strings.TrimSpace(string(stdout)), strconv.Itoa(size); got != want {
		t.Errorf("remote wc -c: got %q; want %q", got, want)
	}
	if n := len(Negotiations(string(stderr))); n < 2 {
		t.Errorf("ssh logged %d key exchanges; want at least 2", n)
	}
	if !s.WaitLog(t, "SSH2_MSG_NEWKEYS received", 5*time.Second) {
		t.Fatal("no NEWKEYS in the sshd log")
	}
	if n := len(Negotiations(s.Log())); n < 2 {
		t.Errorf("sshd logged %d key exchanges; want at least 2", n)
	}
}

func TestOpenSSHSFTP(t *testing.T) {
	t.Parallel()
	s, o := startWithKey(t, SSHDOptions{})
	src := filepath.Join(t.TempDir(), "src")
	data := bytes.Repeat([]byte("zerossh "), 1<<14)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(s.Dir, "dst")
	stdout, stderr, err := RunSFTP(t, testContext(t), o, fmt.Sprintf("put %s %s\nls -l %s\n", src, dst, dst))
	if err != nil {
		t.Fatalf("sftp: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("uploaded %d bytes; got %d back", len(data), len(got))
	}
}

func TestOpenSSHStartSSHDBusyPort(t *testing.T) {
	t.Parallel()
	RequireOpenSSH(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	calls := 0
	port := func(t testing.TB) int {
		calls++
		if calls == 1 {
			return busy
		}
		return FreePort(t)
	}
	s := startSSHD(t, SSHDOptions{}, port)
	if calls != 2 || s.Port == busy {
		t.Errorf("got port %d after %d tries; want a port other than %d after 2", s.Port, calls, busy)
	}
	c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	banner := make([]byte, 8)
	if _, err := c.Read(banner); err != nil || string(banner) != "SSH-2.0-" {
		t.Errorf("banner: got %q, %v; want SSH-2.0-", banner, err)
	}
}

func TestOpenSSHStop(t *testing.T) {
	t.Parallel()
	s, o := startWithKey(t, SSHDOptions{})
	o.Command = []string{"sleep", "60"}
	cmd := SSHCommand(t, testContext(t), o)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !s.WaitLog(t, "Starting session: command", 10*time.Second) {
		t.Fatalf("session did not start:\n%s", s.Log())
	}
	// The listener, the connection's privileged and unprivileged processes, and sleep.
	procs := append(descendants(s.proc.cmd.Process.Pid), s.proc.cmd.Process.Pid)
	if len(procs) < 3 {
		t.Fatalf("got processes %v; want sshd with a connection below it", procs)
	}
	start := time.Now()
	s.Stop()
	s.Stop()
	t.Logf("Stop took %v", time.Since(start))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("ssh succeeded after sshd was stopped")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ssh still running 10 s after Stop")
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		alive := running(procs)
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes still running after Stop: %v", alive)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running returns the pids that name a process that is neither gone nor a zombie.
func running(pids []int) []int {
	var out []int
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

func TestSSHDConfig(t *testing.T) {
	s := &SSHD{
		Port:               2222,
		AuthorizedKeysPath: "/d/authorized_keys",
		HostKeys:           map[string]string{KeyEd25519: "/d/ssh_host_ed25519_key"},
	}
	got := string(s.config([]string{KeyEd25519}, []string{
		"Ciphers aes128-ctr",
		"LogLevel=VERBOSE",
		"subsystem sftp /usr/lib/openssh/sftp-server",
		"Subsystem other /bin/true",
		"Match User nobody",
		"\tForceCommand /bin/false",
	}))
	want := `# Written by peertest.StartSSHD.
Ciphers aes128-ctr
LogLevel=VERBOSE
subsystem sftp /usr/lib/openssh/sftp-server
Subsystem other /bin/true
HostKey /d/ssh_host_ed25519_key
ListenAddress 127.0.0.1
Port 2222
PidFile none
UsePAM no
StrictModes no
AuthorizedKeysFile /d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
Match User nobody
	ForceCommand /bin/false
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDialReadiness(t *testing.T) {
	for _, tc := range []struct {
		extra []string
		want  bool
	}{
		{nil, false},
		{[]string{"LogLevel INFO"}, false},
		{[]string{"LogLevel=error"}, true},
		{[]string{"loglevel QUIET"}, true},
		{[]string{"Match User x", "LogLevel QUIET"}, false},
	} {
		if got := dialReadiness(tc.extra); got != tc.want {
			t.Errorf("dialReadiness(%q): got %v; want %v", tc.extra, got, tc.want)
		}
	}
}

// recordTB records what RequireOpenSSH asks of a test instead of stopping it.
type recordTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordTB) Helper()                          {}
func (r *recordTB) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }
func (r *recordTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestRequireOpenSSHMissing(t *testing.T) {
	const missing = "/nonexistent/sshd"
	for _, tc := range []struct {
		env          string
		skip, failed bool
	}{
		{"", true, false},
		{"0", true, false},
		{"1", false, true},
	} {
		t.Run("ZEROSSH_INTEROP="+tc.env, func(t *testing.T) {
			t.Setenv(InteropEnv, tc.env)
			r := &recordTB{TB: t}
			RequireOpenSSH(r, missing, "sh")
			if (r.skipped != "") != tc.skip || (r.failed != "") != tc.failed {
				t.Fatalf("skipped %q, failed %q; want skip %v, fail %v", r.skipped, r.failed, tc.skip, tc.failed)
			}
			msg := r.skipped + r.failed
			if !strings.Contains(msg, missing) || strings.Contains(msg, "sh,") {
				t.Errorf("message %q does not name exactly the missing program", msg)
			}
			if tc.skip && !strings.Contains(msg, "apt-get install openssh-server openssh-client") {
				t.Errorf("message %q does not say how to install OpenSSH", msg)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	RequireOpenSSH(t, KeygenName)
	dir := t.TempDir()
	for _, typ := range []string{KeyEd25519, KeyECDSA, KeyRSA, KeyEd25519} {
		priv, pub := GenerateKey(t, dir, typ)
		if _, err := os.Stat(priv); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		prefix := map[string]string{KeyEd25519: "ssh-ed25519 ", KeyECDSA: "ecdsa-sha2-nistp256 ", KeyRSA: "ssh-rsa "}[typ]
		if !bytes.HasPrefix(pub, []byte(prefix)) || bytes.ContainsAny(pub, "\r\n") {
			t.Errorf("%s: public key %q; want one line starting with %q", typ, pub, prefix)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "id_ed25519_2")); err != nil {
		t.Errorf("second ed25519 key: %v", err)
	}
}

// BenchmarkStartSSHD measures StartSSHD with host keys from the per-process cache.
func BenchmarkStartSSHD(b *testing.B) {
	for _, types := range [][]string{{KeyEd25519}, {KeyEd25519, KeyECDSA, KeyRSA}} {
		b.Run(strings.Join(types, "+"), func(b *testing.B) {
			RequireOpenSSH(b)
			for b.Loop() {
				s := StartSSHD(b, SSHDOptions{HostKeyTypes: types})
				s.Stop()
			}
		})
	}
}
