package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/internal/peertest"
	"github.com/zerossh/zerossh/kex"
)

// cliTimeout bounds a command that must fail or print help at once.
const cliTimeout = 20 * time.Second

// TestCLIHelp checks that -help, --help and -h print the usage and exit 0 for the command and
// every subcommand.
func TestCLIHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // in stdout and stderr together
	}{
		{[]string{"--help"}, []string{"Usage:", "zerossh serve", "zerossh get", "zerossh put", "Exit codes"}},
		{[]string{"-help"}, []string{"Usage:"}},
		{[]string{"-h"}, []string{"Usage:"}},
		{[]string{"help"}, []string{"Usage:"}},
		{[]string{"serve", "-help"}, []string{"Usage: zerossh serve", "-listen", "-reuseport", "-root", "-state", "-authorized-keys", "-read-only", "-grace", "-ciphers", "-kex", "-macs", "-compression", passwordEnv}},
		{[]string{"serve", "--help"}, []string{"Usage: zerossh serve"}},
		{[]string{"serve", "-h"}, []string{"Usage: zerossh serve"}},
		{[]string{"sftpd", "-help"}, []string{"Usage: zerossh serve", "-listen"}},
		{[]string{"sftpd", "--help"}, []string{"Usage: zerossh serve"}},
		{[]string{"get", "-help"}, []string{"Usage: zerossh get", "-P", "-i", "-known-hosts", "-q", "-ciphers"}},
		{[]string{"get", "--help"}, []string{"Usage: zerossh get"}},
		{[]string{"get", "-h"}, []string{"Usage: zerossh get"}},
		{[]string{"put", "-help"}, []string{"Usage: zerossh put", "-P", "-i", "-known-hosts", "-q", "-ciphers"}},
		{[]string{"put", "--help"}, []string{"Usage: zerossh put"}},
		{[]string{"put", "-h"}, []string{"Usage: zerossh put"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runZerossh(t, runOptions{Timeout: cliTimeout}, tc.args...)
			if r.code != 0 {
				t.Errorf("exit code %d; want 0\n%v", r.code, r)
			}
			out := r.stdout + r.stderr
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCLIBadCommandLine checks that a bad command line exits 2 with a message that names the
// problem.
func TestCLIBadCommandLine(t *testing.T) {
	state := t.TempDir()
	serve := func(args ...string) []string {
		return append([]string{"serve", "-listen", "127.0.0.1:0", "-state", state, "-root", t.TempDir()}, args...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr, case-insensitive
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"serve bad flag", []string{"serve", "-nope"}, "flag provided but not defined: -nope"},
		{"sftpd bad flag", []string{"sftpd", "--nope"}, "flag provided but not defined: -nope"},
		{"get bad flag", []string{"get", "-nope", "host:x"}, "flag provided but not defined: -nope"},
		{"put bad flag", []string{"put", "-nope", "a", "host:x"}, "flag provided but not defined: -nope"},
		{"get bad port", []string{"get", "-P", "ssh", "host:x"}, `invalid value "ssh" for flag -P`},
		{"serve bad grace", []string{"serve", "-grace", "soon"}, `invalid value "soon" for flag -grace`},
		{"get no arguments", []string{"get"}, "wrong number of arguments"},
		{"get three arguments", []string{"get", "host:a", "b", "c"}, "wrong number of arguments"},
		{"put one argument", []string{"put", "local"}, "wrong number of arguments"},
		{"get no path", []string{"get", "host"}, "want [user@]host:path"},
		{"get empty path", []string{"get", "user@host:"}, "want [user@]host:path"},
		{"put no host", []string{"put", "a", ":x"}, "want [user@]host:path"},
		{"get bad cipher", []string{"get", "-ciphers", "rot13", "host:x"}, `unsupported algorithm "rot13"`},
		{"put bad kex", []string{"put", "-kex", "+rot13", "a", "host:x"}, `unsupported algorithm "rot13"`},
		{"get removes every mac", []string{"get", "-macs", "-*", "host:x"}, "removes every algorithm"},
		{"get bad compression", []string{"get", "-compression", "lz4", "host:x"}, `unsupported algorithm "lz4"`},
		{"serve argument", serve("extra"), "serve takes no arguments"},
		{"serve missing root", serve("-root", "/nonexistent/zerossh-root"), "is not a directory"},
		{"serve bad cipher", serve("-ciphers", "rot13"), `unsupported algorithm "rot13"`},
		{"serve bad mac", serve("-macs", "^hmac-md5"), `unsupported algorithm "hmac-md5"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runZerossh(t, runOptions{Timeout: cliTimeout}, tc.args...)
			if r.code != exitUsage {
				t.Errorf("exit code %d; want %d\n%v", r.code, exitUsage, r)
			}
			if !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(tc.want)) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("stderr holds a panic:\n%s", r.stderr)
			}
		})
	}
}

// TestCLIExitCodes checks the exit code and message of each way get and put fail against a
// running zerossh serve.
func TestCLIExitCodes(t *testing.T) {
	srv := startServe(t, serveOptions{})
	d := srv.dest()
	f := fileBySize(t, MiB)
	if err := os.WriteFile(filepath.Join(srv.Root, "present.bin"), []byte("present\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := strconv.Itoa(srv.Port)

	otherKey := func() ssh.PublicKey {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	changed := filepath.Join(dir, "known_hosts_changed")
	addr := net.JoinHostPort("127.0.0.1", port)
	if err := os.WriteFile(changed, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, otherKey())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "known_hosts_empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	otherHost := filepath.Join(dir, "known_hosts_other_port")
	if err := os.WriteFile(otherHost, []byte(knownhosts.Line([]string{"[127.0.0.1]:1"}, otherKey())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refusedKey, _ := writeClientKey(t, dir, "id_refused")
	closedPort := strconv.Itoa(peertest.FreePort(t))

	get := func(p, key, knownHosts, remote, local string) []string {
		args := []string{"get", "-P", p}
		if key != "" {
			args = append(args, "-i", key)
		}
		return append(args, "-known-hosts", knownHosts, d.remote(remote), local)
	}
	put := func(p, key, knownHosts, local, remote string) []string {
		args := []string{"put", "-P", p}
		if key != "" {
			args = append(args, "-i", key)
		}
		return append(args, "-known-hosts", knownHosts, local, d.remote(remote))
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr, case-insensitive; alternatives separated by |
	}{
		{"get ok", get(port, d.Key, d.KnownHosts, "present.bin", filepath.Join(dir, "ok")), exitOK, ""},
		{"put ok", put(port, d.Key, d.KnownHosts, f.path, "put-ok.bin"), exitOK, ""},
		{"unreachable", get(closedPort, d.Key, d.KnownHosts, "present.bin", filepath.Join(dir, "x1")), exitUnreachable, "connection refused"},
		{"put unreachable", put(closedPort, d.Key, d.KnownHosts, f.path, "x"), exitUnreachable, "connection refused"},
		{"host key changed", get(port, d.Key, changed, "present.bin", filepath.Join(dir, "x2")), exitHostKey, "changed"},
		{"put host key changed", put(port, d.Key, changed, f.path, "x"), exitHostKey, "changed"},
		{"host unknown", get(port, d.Key, empty, "present.bin", filepath.Join(dir, "x3")), exitHostKey, "known_hosts"},
		{"host unknown, other port known", get(port, d.Key, otherHost, "present.bin", filepath.Join(dir, "x4")), exitHostKey, "known_hosts"},
		{"known_hosts missing", get(port, d.Key, filepath.Join(dir, "nonexistent"), "present.bin", filepath.Join(dir, "x5")), exitHostKey, "known"},
		{"key refused", get(port, refusedKey, d.KnownHosts, "present.bin", filepath.Join(dir, "x6")), exitAuth, "authentication refused"},
		{"put key refused", put(port, refusedKey, d.KnownHosts, f.path, "x"), exitAuth, "authentication refused"},
		{"no key", get(port, "", d.KnownHosts, "present.bin", filepath.Join(dir, "x7")), exitAuth, "authentication refused"},
		{"remote missing", get(port, d.Key, d.KnownHosts, "missing.bin", filepath.Join(dir, "x8")), exitFailure, "missing.bin|not exist|no such file"},
		{"local missing", put(port, d.Key, d.KnownHosts, filepath.Join(dir, "nonexistent"), "x"), exitFailure, "nonexistent"},
		{"remote dir missing", put(port, d.Key, d.KnownHosts, f.path, "no/such/dir/x"), exitFailure, ""},
		{"local dir missing", get(port, d.Key, d.KnownHosts, "present.bin", filepath.Join(dir, "no", "such", "x")), exitFailure, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runZerossh(t, runOptions{Timeout: cliTimeout}, tc.args...)
			t.Logf("exit %d: %s", r.code, strings.TrimSpace(r.stderr))
			if r.code != tc.code {
				t.Errorf("exit code %d; want %d\n%v", r.code, tc.code, r)
			}
			if !containsAny(strings.ToLower(r.stderr), strings.Split(strings.ToLower(tc.want), "|")) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("stderr holds a panic:\n%s", r.stderr)
			}
		})
	}
	checkSame(t, "put ok", filepath.Join(srv.Root, "put-ok.bin"), f)
	if got, err := os.ReadFile(filepath.Join(dir, "ok")); err != nil || string(got) != "present\n" {
		t.Errorf("get ok wrote %q, %v; want %q", got, err, "present\n")
	}
	for _, n := range []string{"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8"} {
		if _, err := os.Lstat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("a failed get left the local file %s (%v)", n, err)
		}
	}
	if names := dirNames(t, srv.Root); !slices.Equal(names, []string{"present.bin", "put-ok.bin"}) {
		t.Errorf("after the failed puts the root holds %q; want only present.bin and put-ok.bin", names)
	}
}

// TestCLIProgressQuiet checks that get and put draw no progress bar when stderr is not a
// terminal, even without -q: stderr of the command is a pipe here.
func TestCLIProgressQuiet(t *testing.T) {
	srv := startServe(t, serveOptions{})
	d := srv.dest()
	f := fileBySize(t, MiB)
	common := []string{"-P", strconv.Itoa(d.Port), "-i", d.Key, "-known-hosts", d.KnownHosts}
	local := filepath.Join(t.TempDir(), "back.bin")
	for _, args := range [][]string{
		append(append([]string{"put"}, common...), f.path, d.remote("p.bin")),
		append(append([]string{"get"}, common...), d.remote("p.bin"), local),
	} {
		r := runZerossh(t, runOptions{}, args...)
		if r.code != 0 {
			t.Fatalf("%s: %v", args[0], r)
		}
		if strings.ContainsAny(r.stderr, "\r\x1b█▏▎▍▌▋▊▉|") || strings.Contains(r.stderr, "%") || strings.Contains(r.stderr, "MB/s") {
			t.Errorf("%s drew a progress bar on a pipe: %q", args[0], r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%s wrote to stdout: %q", args[0], r.stdout)
		}
	}
	checkSame(t, "get", local, f)
}

// TestGetPutServe runs zerossh put and get against zerossh serve with the files of 0 B, 1 B,
// 1 MiB and 256 MiB.
func TestGetPutServe(t *testing.T) {
	files := testFiles(t)
	srv := startServe(t, serveOptions{})
	d := srv.dest()
	if err := os.Mkdir(filepath.Join(srv.Root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	back := t.TempDir()
	for _, f := range files {
		if r := zerosshPut(t, d, f.path, "sub/"+f.name); r.code != 0 {
			t.Fatalf("zerossh put %s: %v", f.name, r)
		}
		onDisk := filepath.Join(srv.Root, "sub", f.name)
		checkSame(t, "zerossh put", onDisk, f)
		local := filepath.Join(back, f.name)
		if r := zerosshGet(t, d, "/sub/"+f.name, local); r.code != 0 {
			t.Fatalf("zerossh get %s: %v", f.name, r)
		}
		checkSame(t, "zerossh get", local, f)
		if temps := uploadTemps(t, filepath.Join(srv.Root, "sub")); len(temps) > 0 {
			t.Errorf("temporary files left after put: %q", temps)
		}
		os.Remove(onDisk)
		os.Remove(local)
	}

	// Without a local name, get writes the remote file's base name into the working directory.
	f := fileBySize(t, 1)
	if r := zerosshPut(t, d, f.path, "sub/plain.bin"); r.code != 0 {
		t.Fatalf("zerossh put: %v", r)
	}
	cwd := t.TempDir()
	r := runZerossh(t, runOptions{Dir: cwd}, "get", "-q", "-P", strconv.Itoa(d.Port), "-i", d.Key, "-known-hosts", d.KnownHosts, d.remote("sub/plain.bin"))
	if r.code != 0 {
		t.Fatalf("zerossh get without a local name: %v", r)
	}
	checkSame(t, "get without a local name", filepath.Join(cwd, "plain.bin"), f)

	// put over an existing file replaces it.
	g := fileBySize(t, MiB)
	if r := zerosshPut(t, d, g.path, "sub/plain.bin"); r.code != 0 {
		t.Fatalf("zerossh put over an existing file: %v", r)
	}
	checkSame(t, "put over an existing file", filepath.Join(srv.Root, "sub", "plain.bin"), g)
}

// TestGetPutServePassword checks password authentication: offered only when the server has
// $ZEROSSH_PASSWORD, taken by the client from the same variable.
func TestGetPutServePassword(t *testing.T) {
	f := fileBySize(t, 1)
	withPassword := startServe(t, serveOptions{Env: []string{passwordEnv + "=s3cret pass"}})
	withoutPassword := startServe(t, serveOptions{})
	for _, tc := range []struct {
		name     string
		srv      *zerosshServer
		password string
		code     int
	}{
		{"right password", withPassword, "s3cret pass", exitOK},
		{"wrong password", withPassword, "guess", exitAuth},
		{"no password on the server", withoutPassword, "s3cret pass", exitAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.srv.dest()
			name := strings.ReplaceAll(tc.name, " ", "-") + ".bin"
			r := runZerossh(t, runOptions{Timeout: cliTimeout, Env: []string{passwordEnv + "=" + tc.password}},
				"put", "-q", "-P", strconv.Itoa(d.Port), "-known-hosts", d.KnownHosts, f.path, d.remote(name))
			if r.code != tc.code {
				t.Errorf("exit code %d; want %d\n%v", r.code, tc.code, r)
			}
			_, err := os.Stat(filepath.Join(tc.srv.Root, name))
			if (err == nil) != (tc.code == exitOK) {
				t.Errorf("uploaded file: %v; want it there only on success", err)
			}
		})
	}
}

// TestServeReadOnly checks that -read-only refuses uploads and changes and still serves
// downloads.
func TestServeReadOnly(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "ro.txt"), []byte("read only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, serveOptions{Root: root, Args: []string{"-read-only"}})
	d := srv.dest()
	f := fileBySize(t, MiB)
	if r := zerosshPut(t, d, f.path, "new.bin"); r.code != exitFailure {
		t.Errorf("put to a read-only server: exit %d; want %d\n%v", r.code, exitFailure, r)
	}
	if r := zerosshPut(t, d, f.path, "ro.txt"); r.code != exitFailure {
		t.Errorf("put over a file of a read-only server: exit %d; want %d\n%v", r.code, exitFailure, r)
	}
	local := filepath.Join(t.TempDir(), "ro.txt")
	if r := zerosshGet(t, d, "ro.txt", local); r.code != 0 {
		t.Errorf("get from a read-only server: %v", r)
	}
	if got, err := os.ReadFile(filepath.Join(root, "ro.txt")); err != nil || string(got) != "read only\n" {
		t.Errorf("ro.txt on a read-only server changed: %q, %v", got, err)
	}
	if names := dirNames(t, root); !slices.Equal(names, []string{"ro.txt"}) {
		t.Errorf("a read-only root holds %q; want only ro.txt", names)
	}
}

// TestServeAlgorithms checks that the algorithm flags of serve and get reach the handshake: a
// server restricted to aes128-ctr and hmac-sha2-512 negotiates them, and a client that offers
// only what the server refuses fails with exit code 3.
func TestServeAlgorithms(t *testing.T) {
	srv := startServe(t, serveOptions{Args: []string{"-ciphers", "aes128-ctr", "-macs", "hmac-sha2-512", "-kex", "curve25519-sha256"}})
	d := srv.dest()
	if err := os.WriteFile(filepath.Join(srv.Root, "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := zerosshGet(t, d, "a.txt", filepath.Join(t.TempDir(), "a.txt")); r.code != 0 {
		t.Fatalf("get: %v", r)
	}
	rec, ok := srv.waitLog(t, logWait, isConnLine)
	if !ok {
		t.Fatalf("no connection line in the log:\n%s", srv.Log())
	}
	if rec["cipher"] != "aes128-ctr" || rec["mac"] != "hmac-sha2-512" || rec["kex"] != "curve25519-sha256" {
		t.Errorf("negotiated kex=%s cipher=%s mac=%s; want curve25519-sha256, aes128-ctr, hmac-sha2-512", rec["kex"], rec["cipher"], rec["mac"])
	}
	r := runZerossh(t, runOptions{Timeout: cliTimeout}, "get", "-q", "-ciphers", "chacha20-poly1305@openssh.com", "-P", strconv.Itoa(d.Port),
		"-i", d.Key, "-known-hosts", d.KnownHosts, d.remote("a.txt"), filepath.Join(t.TempDir(), "b.txt"))
	if r.code != exitUnreachable {
		t.Errorf("get with no cipher in common: exit %d; want %d\n%v", r.code, exitUnreachable, r)
	}
}

// TestServeState checks the state directory: the host key and the client key are made on the
// first start with mode 0600, kept on the next start, and the known_hosts file names the
// listening address.
func TestServeState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	first := startServe(t, serveOptions{State: state})
	for _, n := range []string{"ssh_host_ed25519_key", "id_ed25519"} {
		st, err := os.Stat(filepath.Join(state, n))
		if err != nil {
			t.Fatalf("state file %s: %v", n, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v; want -rw-------", n, st.Mode().Perm())
		}
	}
	kh, err := os.ReadFile(first.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", first.Port); !strings.HasPrefix(string(kh), want) {
		t.Errorf("known_hosts = %q; want a line starting %q", kh, want)
	}
	clientKey, err := os.ReadFile(first.Key)
	if err != nil {
		t.Fatal(err)
	}
	first.kill()

	second := startServe(t, serveOptions{State: state})
	if second.Fingerprint != first.Fingerprint {
		t.Errorf("host key changed across restarts: %s, then %s", first.Fingerprint, second.Fingerprint)
	}
	if again, err := os.ReadFile(second.Key); err != nil || string(again) != string(clientKey) {
		t.Errorf("client key changed across restarts (%v)", err)
	}
	// The key printed by the first start still logs in.
	f := fileBySize(t, 1)
	if r := zerosshPut(t, second.dest(), f.path, "x.bin"); r.code != 0 {
		t.Errorf("put after a restart: %v", r)
	}
}

// TestServeLog checks the structured log lines: one per connection with remote, user, kex,
// cipher, duration and outcome, one per transfer with path, bytes, duration and outcome.
func TestServeLog(t *testing.T) {
	srv := startServe(t, serveOptions{})
	d := srv.dest()
	d.User = "logtester"
	f := fileBySize(t, MiB)
	if r := zerosshPut(t, d, f.path, "logged.bin"); r.code != 0 {
		t.Fatalf("put: %v", r)
	}
	if r := zerosshGet(t, d, "logged.bin", filepath.Join(t.TempDir(), "logged.bin")); r.code != 0 {
		t.Fatalf("get: %v", r)
	}
	refusedKey, _ := writeClientKey(t, t.TempDir(), "id_refused")
	runZerossh(t, runOptions{Timeout: cliTimeout}, "get", "-q", "-P", strconv.Itoa(d.Port), "-i", refusedKey,
		"-known-hosts", d.KnownHosts, d.remote("logged.bin"), filepath.Join(t.TempDir(), "x"))

	count := func(match func(logRecord) bool) int {
		n := 0
		for _, r := range parseLog(srv.Log()) {
			if match(r) {
				n++
			}
		}
		return n
	}
	authOK := func(r logRecord) bool { return isConnLine(r) && r["user"] == "logtester" }
	if !waitFor(logWait, func() bool { return count(authOK) >= 2 && count(isTransferLine) >= 2 }) {
		t.Fatalf("want 2 connection lines for user logtester and 2 transfer lines; log:\n%s", srv.Log())
	}
	for _, r := range parseLog(srv.Log()) {
		switch {
		case authOK(r):
			host, _, err := net.SplitHostPort(r["remote"])
			if err != nil || host != "127.0.0.1" {
				t.Errorf("connection line remote=%q; want 127.0.0.1:port", r["remote"])
			}
			if !slices.Contains(kex.All, r["kex"]) {
				t.Errorf("connection line kex=%q; want one of %q", r["kex"], kex.All)
			}
			if !slices.Contains(cipher.All, r["cipher"]) {
				t.Errorf("connection line cipher=%q; want one of %q", r["cipher"], cipher.All)
			}
			checkDuration(t, "connection", r)
			if r["outcome"] == "" {
				t.Errorf("connection line without outcome: %v", r)
			}
		case isTransferLine(r):
			// zerossh put uploads to a temporary name of its own and renames it: the
			// upload's line names that temporary file.
			if !strings.Contains(r["path"], "logged.bin") {
				t.Errorf("transfer line path=%q; want a path naming logged.bin", r["path"])
			}
			if n, err := strconv.ParseInt(r["bytes"], 10, 64); err != nil || n != f.size {
				t.Errorf("transfer line bytes=%q; want %d", r["bytes"], f.size)
			}
			checkDuration(t, "transfer", r)
			if r["outcome"] == "" {
				t.Errorf("transfer line without outcome: %v", r)
			}
		}
	}
	if _, ok := srv.waitLog(t, logWait, func(r logRecord) bool {
		return r["remote"] != "" && r["user"] == "" && r["outcome"] != "" && r["outcome"] != "closed"
	}); !ok {
		t.Errorf("no line for the connection whose key was refused; log:\n%s", srv.Log())
	}
	for line := range strings.Lines(srv.Log()) {
		if _, ok := parseLogLine(strings.TrimRight(line, "\n")); !ok {
			t.Errorf("log line not in log/slog's text format: %q", line)
		}
	}
}

// checkDuration fails the test unless r has a duration that time.ParseDuration reads.
func checkDuration(t *testing.T, what string, r logRecord) {
	t.Helper()
	if dur, err := time.ParseDuration(r["duration"]); err != nil || dur < 0 {
		t.Errorf("%s line duration=%q: %v", what, r["duration"], err)
	}
}

// TestServeShutdown sends SIGTERM or SIGINT to an idle server: it must exit 0 at once, well
// within the grace period, and stop listening.
func TestServeShutdown(t *testing.T) {
	const grace = 5 * time.Second
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			srv := startServe(t, serveOptions{Args: []string{"-grace", grace.String()}})
			// One finished transfer first, so that the server is idle rather than new.
			f := fileBySize(t, 1)
			if r := zerosshPut(t, srv.dest(), f.path, "x.bin"); r.code != 0 {
				t.Fatalf("put: %v", r)
			}
			if _, ok := srv.waitLog(t, logWait, isConnLine); !ok {
				t.Fatalf("no connection line:\n%s", srv.Log())
			}
			start := time.Now()
			srv.signal(t, sig)
			code, exited := srv.wait(grace)
			if !exited {
				t.Fatalf("idle server still running %v after %v", grace, sig)
			}
			if code != 0 {
				t.Errorf("exit code %d after %v; want 0\n%s", code, sig, srv.Log())
			}
			t.Logf("idle server exited %v after %v", time.Since(start).Round(time.Millisecond), sig)
			if _, ok := srv.waitLog(t, 0, func(r logRecord) bool { return r["msg"] == "shutting down" && r["grace"] == grace.String() }); !ok {
				t.Errorf("no shutting-down line with grace=%v:\n%s", grace, srv.Log())
			}
			if c, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after the server exited", srv.Addr)
			}
		})
	}
}

// TestServeShutdownStalledHandshake sends SIGTERM to a server holding a TCP connection that
// never sends its version line: the grace period bounds the shutdown, whatever the clients do.
func TestServeShutdownStalledHandshake(t *testing.T) {
	const grace = time.Second
	srv := startServe(t, serveOptions{Args: []string{"-grace", grace.String()}})
	c, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Wait for the server's version line, if it sends it first: the connection is then
	// accepted and in the handshake.
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	c.Read(make([]byte, 64))
	start := time.Now()
	srv.signal(t, syscall.SIGTERM)
	code, exited := srv.wait(grace + 5*time.Second)
	if !exited {
		t.Fatalf("server still running %v after SIGTERM with -grace %v, held by a connection in its handshake", time.Since(start).Round(time.Millisecond), grace)
	}
	if code != 0 {
		t.Errorf("exit code %d; want 0", code)
	}
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestServeReusePort runs serve with -reuseport: puts and gets over several
// connections, which the kernel spreads over the listeners (server's
// TestServeListeners checks that every listener serves).
func TestServeReusePort(t *testing.T) {
	srv := startServe(t, serveOptions{Args: []string{"-reuseport"}})
	d := srv.dest()
	f := fileBySize(t, MiB)
	common := []string{"-q", "-P", strconv.Itoa(d.Port), "-i", d.Key, "-known-hosts", d.KnownHosts}
	for i := range 4 {
		name := "r" + strconv.Itoa(i) + ".bin"
		if r := runZerossh(t, runOptions{}, append(append([]string{"put"}, common...), f.path, d.remote(name))...); r.code != 0 {
			t.Fatalf("put %d: %v", i, r)
		}
		local := filepath.Join(t.TempDir(), name)
		if r := runZerossh(t, runOptions{}, append(append([]string{"get"}, common...), d.remote(name), local)...); r.code != 0 {
			t.Fatalf("get %d: %v", i, r)
		}
		checkSame(t, "get", local, f)
	}
}
