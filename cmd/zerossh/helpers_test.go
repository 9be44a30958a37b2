package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/internal/peertest"
)

// Bounds of the end-to-end tests.
const (
	// buildTimeout bounds go build of the command.
	buildTimeout = 3 * time.Minute
	// serveStartTimeout bounds the wait for zerossh serve to print its connect line.
	serveStartTimeout = 20 * time.Second
	// serveStopTimeout bounds the wait for a killed or signalled server to exit.
	serveStopTimeout = 10 * time.Second
	// clientTimeout bounds one client process (zerossh get/put, sftp, scp) that moves at most
	// 256 MiB.
	clientTimeout = 2 * time.Minute
	// logWait bounds the wait for a log line the server writes once a connection ends.
	logWait = 5 * time.Second
	// poll is the interval at which the tests look again.
	poll = 10 * time.Millisecond
)

// Sizes of the transferred files.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// bigEnv turns on the 1 GiB transfers when set to "1".
const bigEnv = "ZEROSSH_BIG"

// Directories made by TestMain and shared by every test of the process.
var (
	binDir  string // holds the built command
	dataDir string // holds the generated files, read-only for the tests
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "zerossh-e2e-bin-*"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if dataDir, err = os.MkdirTemp("", "zerossh-e2e-data-*"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.RemoveAll(dataDir)
	os.Exit(code)
}

// buildZerossh builds this command once per test process.
var buildZerossh = sync.OnceValues(func() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(binDir, "zerossh")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	// The test runs in the package directory: "." is this command.
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, ".")
	cmd.WaitDelay = time.Second
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/zerossh: %v\n%s", err, msg)
	}
	return out, nil
})

// zerosshBin returns the path of the built command, failing the test if it does not build.
func zerosshBin(t testing.TB) string {
	t.Helper()
	bin, err := buildZerossh()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// cleanEnv returns the environment of the test process without what would let a client or
// server find keys, an agent or a password of the machine's user, with HOME set to home.
func cleanEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "SSH_AUTH_SOCK", "SSH_AGENT_PID", passwordEnv, "XDG_CONFIG_HOME":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home)
	return append(env, extra...)
}

// testFile is a generated file with its size and SHA-256.
type testFile struct {
	name string
	size int64
	path string
	sum  [sha256.Size]byte
}

// makeTestFile writes size bytes from a ChaCha8 stream seeded by seed to dir/name.
func makeTestFile(dir, name string, size int64, seed byte) (testFile, error) {
	f := testFile{name: name, size: size, path: filepath.Join(dir, name)}
	out, err := os.Create(f.path)
	if err != nil {
		return f, err
	}
	var key [32]byte
	key[0] = seed
	src := mrand.NewChaCha8(key)
	h := sha256.New()
	buf := make([]byte, MiB)
	for left := size; left > 0; {
		n := int(min(left, int64(len(buf))))
		src.Read(buf[:n])
		h.Write(buf[:n])
		if _, err := out.Write(buf[:n]); err != nil {
			out.Close()
			return f, err
		}
		left -= int64(n)
	}
	if err := out.Close(); err != nil {
		return f, err
	}
	h.Sum(f.sum[:0])
	return f, os.Chmod(f.path, 0o644)
}

// standardFiles makes the files every transfer test moves, once per process.
var standardFiles = sync.OnceValues(func() ([]testFile, error) {
	var files []testFile
	for i, s := range []struct {
		name string
		size int64
	}{
		{"empty.bin", 0},
		{"one.bin", 1},
		{"mib.bin", MiB},
		{"big256.bin", 256 * MiB},
	} {
		f, err := makeTestFile(dataDir, s.name, s.size, byte(i+1))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
})

// testFiles returns the files of 0 B, 1 B, 1 MiB and 256 MiB.
func testFiles(t testing.TB) []testFile {
	t.Helper()
	files, err := standardFiles()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fileBySize returns the generated file of the given size.
func fileBySize(t testing.TB, size int64) testFile {
	t.Helper()
	for _, f := range testFiles(t) {
		if f.size == size {
			return f
		}
	}
	t.Fatalf("no test file of %d bytes", size)
	return testFile{}
}

// bigFile makes the 1 GiB file, once per process; it skips the test unless bigEnv is 1.
var bigFileOnce = sync.OnceValues(func() (testFile, error) {
	return makeTestFile(dataDir, "big1g.bin", GiB, 99)
})

func bigFile(t testing.TB) testFile {
	t.Helper()
	if os.Getenv(bigEnv) != "1" {
		t.Skipf("the 1 GiB transfers run only with %s=1", bigEnv)
	}
	f, err := bigFileOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sumFile returns the SHA-256 of the file at path.
func sumFile(t testing.TB, path string) [sha256.Size]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("hashing: %v", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("hashing %s: %v", path, err)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// checkSame fails the test unless the file at path has f's size and SHA-256.
func checkSame(t testing.TB, what, path string, f testFile) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if st.Size() != f.size {
		t.Errorf("%s: %s has %d bytes; want %d", what, path, st.Size(), f.size)
		return
	}
	if got := sumFile(t, path); got != f.sum {
		t.Errorf("%s: SHA-256 of %s = %x; want %x", what, path, got, f.sum)
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// zerosshServer is a running "zerossh serve" and what it printed.
type zerosshServer struct {
	Root, State string
	Home        string // the server's empty HOME
	// From the printed lines.
	ServedRoot  string // "serving ROOT"
	Addr        string // "on ADDR"
	Fingerprint string // "host key: SHA256:..."
	Port        int
	Key         string   // the client key of the connect line
	KnownHosts  string   // the known_hosts file of the connect line
	User, Host  string   // USER@IP of the connect line
	ConnectArgs []string // the sftp arguments of the connect line, after "sftp"

	cmd     *exec.Cmd
	stdout  *lockedBuffer
	stderr  *lockedBuffer
	done    chan struct{}
	waitErr error // valid once done is closed
}

// serveOptions configures startServe.
type serveOptions struct {
	Root  string   // default a new t.TempDir
	State string   // default a new directory "state" in a t.TempDir
	Args  []string // more flags after -listen, -root and -state
	Env   []string // more environment variables
}

var connectRE = regexp.MustCompile(`^connect:  sftp -P (\d+) -i (\S+) -o UserKnownHostsFile=(\S+) (\S+)@(\S+)$`)

// startServe starts "zerossh serve -listen 127.0.0.1:0 -root ROOT -state STATE" with an empty
// HOME, waits for its connect line and registers a t.Cleanup that kills it.
func startServe(t testing.TB, o serveOptions) *zerosshServer {
	t.Helper()
	bin := zerosshBin(t)
	s := &zerosshServer{Root: o.Root, State: o.State, Home: t.TempDir(),
		stdout: new(lockedBuffer), stderr: new(lockedBuffer), done: make(chan struct{})}
	if s.Root == "" {
		s.Root = t.TempDir()
	}
	if s.State == "" {
		s.State = filepath.Join(t.TempDir(), "state")
	}
	args := []string{"serve", "-listen", "127.0.0.1:0", "-root", s.Root, "-state", s.State}
	args = append(args, o.Args...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = cleanEnv(s.Home, o.Env...)
	s.cmd.Dir = s.Home
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	s.cmd.WaitDelay = 2 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start zerossh serve: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("zerossh serve stdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
		}
	})

	deadline := time.Now().Add(serveStartTimeout)
	for !s.parse() {
		select {
		case <-s.done:
			t.Fatalf("zerossh serve exited before printing its connect line: %v\nstdout:\n%s\nstderr:\n%s", s.waitErr, s.stdout, s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("zerossh serve printed no connect line within %v\nstdout:\n%s\nstderr:\n%s", serveStartTimeout, s.stdout, s.stderr)
		}
		time.Sleep(poll)
	}
	return s
}

// parse reads the printed lines and reports whether all three were there.
func (s *zerosshServer) parse() bool {
	var serving, hostKey, connect bool
	for line := range strings.Lines(s.stdout.String()) {
		line = strings.TrimRight(line, "\n")
		if rest, ok := strings.CutPrefix(line, "zerossh: serving "); ok {
			root, addr, ok := strings.Cut(rest, " over SFTP on ")
			if ok {
				s.ServedRoot, s.Addr, serving = root, addr, true
			}
		}
		if fp, ok := strings.CutPrefix(line, "host key: "); ok {
			s.Fingerprint, hostKey = fp, true
		}
		if m := connectRE.FindStringSubmatch(line); m != nil {
			s.Port, _ = strconv.Atoi(m[1])
			s.Key, s.KnownHosts, s.User, s.Host = m[2], m[3], m[4], m[5]
			s.ConnectArgs = strings.Fields(strings.TrimPrefix(line, "connect:  sftp "))
			connect = true
		}
	}
	return serving && hostKey && connect
}

// Log returns what the server wrote to stderr so far.
func (s *zerosshServer) Log() string { return s.stderr.String() }

// waitLog waits until the log holds a line for which match is true, and returns it.
func (s *zerosshServer) waitLog(t testing.TB, timeout time.Duration, match func(logRecord) bool) (logRecord, bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, r := range parseLog(s.Log()) {
			if match(r) {
				return r, true
			}
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		time.Sleep(poll)
	}
}

// signal sends sig to the server.
func (s *zerosshServer) signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits up to timeout for the server to exit and returns its exit code, or -1 and false
// if it is still running.
func (s *zerosshServer) wait(timeout time.Duration) (code int, exited bool) {
	select {
	case <-s.done:
	case <-time.After(timeout):
		return -1, false
	}
	return s.cmd.ProcessState.ExitCode(), true
}

// kill kills the server if it still runs and waits, bounded, for it to exit.
func (s *zerosshServer) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(serveStopTimeout):
	}
}

// clientDest is how a zerossh or OpenSSH client reaches a server: port, key, known_hosts
// file and user on 127.0.0.1.
type clientDest struct {
	Port       int
	Key        string
	KnownHosts string
	User       string
}

// dest returns how to reach s with the key and known_hosts file it printed.
func (s *zerosshServer) dest() clientDest {
	return clientDest{Port: s.Port, Key: s.Key, KnownHosts: s.KnownHosts, User: s.User}
}

// sshdDest returns how to reach sshd with the key at key.
func sshdDest(t testing.TB, sshd *peertest.SSHD, key string) clientDest {
	return clientDest{Port: sshd.Port, Key: key, KnownHosts: sshd.KnownHostsPath, User: peertest.CurrentUser(t)}
}

// remote returns "user@127.0.0.1:p".
func (d clientDest) remote(p string) string { return d.User + "@127.0.0.1:" + p }

// result is what a finished client process did.
type result struct {
	stdout, stderr string
	code           int // exit code; -1 if killed
	elapsed        time.Duration
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (%v)\nstdout:\n%s\nstderr:\n%s", r.code, r.err, r.stdout, r.stderr)
}

// runOptions configures runCmd.
type runOptions struct {
	Dir     string        // working directory; default a new t.TempDir
	Env     []string      // more environment variables
	Stdin   io.Reader     // default /dev/null
	Timeout time.Duration // default clientTimeout
}

// runCmd runs a client process to completion with an empty HOME and a bound on its run time,
// killing it at cleanup if it still runs.
func runCmd(t testing.TB, o runOptions, name string, args ...string) result {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = clientTimeout
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = cleanEnv(t.TempDir(), o.Env...)
	cmd.Dir = o.Dir
	cmd.Stdin = o.Stdin
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t.Cleanup(func() {
		if cmd.Process != nil {
			cmd.Process.Kill() // harmless once waited for
		}
	})
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start), err: err, code: exitCode(err)}
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not finish within %v\n%v", name, args, o.Timeout, r)
	}
	return r
}

// runZerossh runs the built command with args.
func runZerossh(t testing.TB, o runOptions, args ...string) result {
	t.Helper()
	return runCmd(t, o, zerosshBin(t), args...)
}

// zerosshGet runs "zerossh get -q -P PORT -i KEY -known-hosts FILE user@127.0.0.1:remote local".
func zerosshGet(t testing.TB, d clientDest, remote, local string) result {
	t.Helper()
	return runZerossh(t, runOptions{}, "get", "-q", "-P", strconv.Itoa(d.Port), "-i", d.Key, "-known-hosts", d.KnownHosts, d.remote(remote), local)
}

// zerosshPut runs "zerossh put -q -P PORT -i KEY -known-hosts FILE local user@127.0.0.1:remote".
func zerosshPut(t testing.TB, d clientDest, local, remote string) result {
	t.Helper()
	return runZerossh(t, runOptions{}, "put", "-q", "-P", strconv.Itoa(d.Port), "-i", d.Key, "-known-hosts", d.KnownHosts, local, d.remote(remote))
}

// sftpArgs returns the arguments of OpenSSH's sftp for d in batch mode reading commands from
// stdin: what the connect line of zerossh serve prints, plus BatchMode=yes; extra are more
// options.
func sftpArgs(d clientDest, extra ...string) []string {
	args := []string{"-b", "-", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"}
	args = append(args, extra...)
	return append(args, "-P", strconv.Itoa(d.Port), "-i", d.Key, "-o", "UserKnownHostsFile="+d.KnownHosts, d.User+"@127.0.0.1")
}

// runSFTP runs OpenSSH's sftp in batch mode with the commands in batch against d; extra are
// more options before the destination.
func runSFTP(t testing.TB, d clientDest, batch string, extra ...string) result {
	t.Helper()
	return runCmd(t, runOptions{Stdin: strings.NewReader(batch)}, peertest.SFTPName, sftpArgs(d, extra...)...)
}

// mustSFTP runs sftp and fails the test unless every command succeeded.
func mustSFTP(t testing.TB, d clientDest, batch string) result {
	t.Helper()
	r := runSFTP(t, d, batch)
	if r.code != 0 {
		t.Fatalf("sftp batch:\n%s\n%v", batch, r)
	}
	return r
}

// runSCP runs OpenSSH's scp (which speaks SFTP by default since OpenSSH 9.0) from src to dst,
// one of them "user@127.0.0.1:path" on d.
func runSCP(t testing.TB, d clientDest, src, dst string) result {
	t.Helper()
	return runCmd(t, runOptions{}, "scp", "-q", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
		"-P", strconv.Itoa(d.Port), "-i", d.Key, "-o", "UserKnownHostsFile="+d.KnownHosts, src, dst)
}

// logRecord is one line of log/slog's text format, by key.
type logRecord map[string]string

// parseLog parses the log/slog text lines in s (key=value, values quoted with Go's syntax when
// they hold spaces or special characters); lines of another format are skipped.
func parseLog(s string) []logRecord {
	var out []logRecord
	for line := range strings.Lines(s) {
		if r, ok := parseLogLine(strings.TrimRight(line, "\r\n")); ok {
			out = append(out, r)
		}
	}
	return out
}

func parseLogLine(line string) (logRecord, bool) {
	r := logRecord{}
	for line != "" {
		eq := strings.IndexByte(line, '=')
		if eq <= 0 || strings.ContainsAny(line[:eq], " \"") {
			return nil, false
		}
		key := line[:eq]
		line = line[eq+1:]
		var val string
		if strings.HasPrefix(line, `"`) {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, false
			}
			if val, err = strconv.Unquote(q); err != nil {
				return nil, false
			}
			line = line[len(q):]
		} else {
			val, line, _ = strings.Cut(line, " ")
			line = " " + line
		}
		r[key] = val
		if line != "" && line[0] != ' ' {
			return nil, false
		}
		line = strings.TrimLeft(line, " ")
	}
	_, hasTime := r["time"]
	_, hasMsg := r["msg"]
	return r, hasTime && hasMsg
}

// isConnLine reports whether r is the server's line about a finished connection.
func isConnLine(r logRecord) bool {
	_, ok := r["kex"]
	return ok && r["remote"] != ""
}

// isTransferLine reports whether r is a line about one transfer.
func isTransferLine(r logRecord) bool {
	_, ok := r["path"]
	_, okb := r["bytes"]
	return ok && okb
}

// writeClientKey writes a new ed25519 private key in OpenSSH's format to dir/name and returns
// its path and public key.
func writeClientKey(t testing.TB, dir, name string) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "zerossh test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return path, signer.PublicKey()
}

// waitFor polls cond until it is true or timeout passes, and reports whether it became true.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(poll)
	}
}

// uploadTemps returns the names in dir that look like temporary upload files: a leading dot
// and "upload" in the name.
func uploadTemps(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(strings.ToLower(e.Name()), "upload") {
			out = append(out, e.Name())
		}
	}
	return out
}

// dirNames returns the names in dir, sorted.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// background is a client process started by startBackground.
type background struct {
	cmd  *exec.Cmd
	out  *lockedBuffer // stdout and stderr
	done chan struct{} // closed when the process was waited for
	err  error         // valid once done is closed
}

// startBackground starts a client process in its own process group, so that killing the group
// also kills the ssh that sftp starts; a t.Cleanup kills the group.
func startBackground(t testing.TB, stdin io.Reader, name string, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(name, args...), out: new(lockedBuffer), done: make(chan struct{})}
	b.cmd.Env = cleanEnv(t.TempDir())
	b.cmd.Stdin = stdin
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.cmd.WaitDelay = 2 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		killGroup(b.cmd)
		select {
		case <-b.done:
		case <-time.After(serveStopTimeout):
		}
	})
	return b
}

// killGroup sends SIGKILL to the process group of cmd.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// readLines returns the non-empty lines of s.
func readLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// exitCode returns the exit code of a finished command from its Wait error.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// mbps returns the rate of moving n bytes in d, in MB/s (10^6 bytes per second).
func mbps(n int64, d time.Duration) float64 {
	return float64(n) / d.Seconds() / 1e6
}
