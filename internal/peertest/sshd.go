package peertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bounds of StartSSHD.
const (
	// SSHDStartTimeout bounds the wait for a started sshd to listen.
	SSHDStartTimeout = 10 * time.Second
	// sshdPoll is the interval at which StartSSHD and WaitLog look again.
	sshdPoll = 20 * time.Millisecond
	// sshdBindAttempts is how many ports StartSSHD tries when another process takes the
	// port FreePort chose before sshd binds it.
	sshdBindAttempts = 3
	// sshdStopTimeout bounds the wait for a killed sshd to be reaped.
	sshdStopTimeout = 10 * time.Second
	// failureLogLines is how much of the log a failed test prints.
	failureLogLines = 200
)

// privsepDir is the directory a root sshd chroots its pre-authentication child into.
const privsepDir = "/run/sshd"

// SSHDOptions configures StartSSHD. The zero value starts an sshd with one ed25519 host key
// that lets nobody in.
type SSHDOptions struct {
	// HostKeyTypes lists the host key types (KeyEd25519, KeyECDSA, KeyRSA); default
	// KeyEd25519 alone.
	HostKeyTypes []string
	// FreshHostKeys generates new host keys for this sshd instead of using the keys generated
	// once per test process (an RSA key costs ssh-keygen a few hundred milliseconds).
	FreshHostKeys bool
	// AuthorizedKeys are the lines of the authorized_keys file, typically the pub result of
	// GenerateKey.
	AuthorizedKeys [][]byte
	// Extra are sshd_config lines such as "Ciphers aes128-ctr", "RekeyLimit 1M" or
	// "KexAlgorithms curve25519-sha256". sshd keeps the first value it reads for a keyword,
	// so Extra lines are written before the defaults and a default is left out when Extra
	// sets its keyword (Subsystem: its keyword and name); HostKey lines add to the generated
	// keys. Lines from the first "Match" on are written last. Port and ListenAddress are
	// chosen by StartSSHD and may not be set. A LogLevel of ERROR or quieter hides the line
	// StartSSHD waits for, so it probes the port by connecting instead, which leaves one
	// empty connection in the log.
	Extra []string
}

// SSHD is an OpenSSH server started by StartSSHD, listening on 127.0.0.1. Its fields must not
// be modified.
type SSHD struct {
	// Addr is "127.0.0.1:<Port>", ready to dial.
	Addr string
	// Port is the TCP port sshd listens on.
	Port int
	// Dir is the directory (from t.TempDir) holding every file below.
	Dir string
	// ConfigPath is the sshd_config file.
	ConfigPath string
	// LogPath is the log file sshd writes (sshd -E), at LogLevel DEBUG3 unless Extra says
	// otherwise. See Log and WaitLog.
	LogPath string
	// HostKeys maps each host key type to the path of its private key.
	HostKeys map[string]string
	// HostPublicKeys maps each host key type to its public key, an authorized_keys line
	// ("ssh-ed25519 AAAA... comment").
	HostPublicKeys map[string][]byte
	// KnownHostsPath is a known_hosts file listing every host key for "[127.0.0.1]:<Port>",
	// for SSHClientOptions.KnownHostsFile.
	KnownHostsPath string
	// AuthorizedKeysPath is the authorized_keys file; a test may rewrite it while sshd runs,
	// sshd reads it at every authentication attempt.
	AuthorizedKeysPath string

	stderrPath string
	proc       *sshdProc
	stopOnce   sync.Once
}

// sshdProc is one started sshd process.
type sshdProc struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd.Wait returns
	waitErr error         // valid once done is closed
}

// errPortBusy reports that sshd could not bind its port.
var errPortBusy = errors.New("peertest: sshd could not bind its port")

// StartSSHD starts /usr/sbin/sshd in the foreground (-D) on 127.0.0.1 with a configuration,
// host keys and an authorized_keys file in a new t.TempDir, waits until it listens, and
// registers a t.Cleanup that kills it together with every process it started for
// connections. The test is skipped when OpenSSH is missing (see RequireOpenSSH).
//
// The configuration holds, after opts.Extra: HostKey lines, ListenAddress 127.0.0.1, Port,
// PidFile none, UsePAM no, StrictModes no, AuthorizedKeysFile, PasswordAuthentication no,
// KbdInteractiveAuthentication no, LogLevel DEBUG3 and Subsystem sftp internal-sftp.
//
// Run as root, sshd separates privileges and lets any local user in with a key
// from opts.AuthorizedKeys; StartSSHD then creates /run/sshd if it is missing. Run as another
// user, sshd works unprivileged and can only log in that same user (CurrentUser).
//
// sshd logs to the file LogPath, not to its stderr: with -e a session's child process logs
// its last debug lines to its stderr after that became the channel's stderr, and they would
// reach the client as extended data.
//
// If the test fails, the cleanup prints the end of sshd's log.
func StartSSHD(t testing.TB, opts SSHDOptions) *SSHD {
	t.Helper()
	return startSSHD(t, opts, FreePort)
}

// startSSHD is StartSSHD with the choice of port replaceable by a test.
func startSSHD(t testing.TB, opts SSHDOptions, port func(testing.TB) int) *SSHD {
	t.Helper()
	RequireOpenSSH(t, SSHDPath, KeygenName)
	for _, line := range opts.Extra {
		switch k, _ := configKeyword(line); k {
		case "port", "listenaddress":
			t.Fatalf("peertest: SSHDOptions.Extra may not set %s: %q", k, line)
		}
	}
	if os.Geteuid() == 0 {
		if err := os.MkdirAll(privsepDir, 0o755); err != nil {
			t.Fatalf("peertest: sshd needs %s: %v", privsepDir, err)
		}
	}

	dir := t.TempDir()
	s := &SSHD{
		Dir:                dir,
		ConfigPath:         filepath.Join(dir, "sshd_config"),
		LogPath:            filepath.Join(dir, "sshd.log"),
		HostKeys:           make(map[string]string),
		HostPublicKeys:     make(map[string][]byte),
		KnownHostsPath:     filepath.Join(dir, "known_hosts"),
		AuthorizedKeysPath: filepath.Join(dir, "authorized_keys"),
		stderrPath:         filepath.Join(dir, "sshd.stderr"),
	}
	var types []string
	for _, typ := range opts.HostKeyTypes {
		if !slices.Contains(types, typ) {
			types = append(types, typ)
		}
	}
	if len(types) == 0 {
		types = []string{KeyEd25519}
	}
	for _, typ := range types {
		path, pub, err := writeHostKey(dir, typ, opts.FreshHostKeys)
		if err != nil {
			t.Fatal(err)
		}
		s.HostKeys[typ] = path
		s.HostPublicKeys[typ] = pub
	}
	var ak []byte
	for _, line := range opts.AuthorizedKeys {
		ak = append(ak, bytes.TrimRight(line, "\r\n")...)
		ak = append(ak, '\n')
	}
	if err := os.WriteFile(s.AuthorizedKeysPath, ak, 0o600); err != nil {
		t.Fatal(err)
	}

	var err error
	for attempt := 1; attempt <= sshdBindAttempts; attempt++ {
		s.Port = port(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		if err = os.WriteFile(s.ConfigPath, s.config(types, opts.Extra), 0o644); err != nil {
			t.Fatal(err)
		}
		if err = s.start(dialReadiness(opts.Extra)); !errors.Is(err, errPortBusy) {
			break
		}
	}
	if err != nil {
		t.Fatalf("%v\nsshd log:\n%s", err, s.Log())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("peertest: end of sshd log %s:\n%s", s.LogPath, lastLines(s.Log(), failureLogLines))
		}
	})

	var kh []byte
	for _, typ := range types {
		kh = fmt.Appendf(kh, "[127.0.0.1]:%d %s\n", s.Port, s.HostPublicKeys[typ])
	}
	if err := os.WriteFile(s.KnownHostsPath, kh, 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// config returns the sshd_config text.
func (s *SSHD) config(types, extra []string) []byte {
	// Split Extra at its first Match line: everything after a Match belongs to it.
	global, match := extra, []string(nil)
	for i, line := range extra {
		if k, _ := configKeyword(line); k == "match" {
			global, match = extra[:i], extra[i:]
			break
		}
	}
	set := make(map[string]bool)
	for _, line := range global {
		set[configKey(line)] = true
	}

	var b bytes.Buffer
	b.WriteString("# Written by peertest.StartSSHD.\n")
	for _, line := range global {
		b.WriteString(line + "\n")
	}
	for _, typ := range types {
		fmt.Fprintf(&b, "HostKey %s\n", s.HostKeys[typ])
	}
	defaults := []string{
		"ListenAddress 127.0.0.1",
		"Port " + strconv.Itoa(s.Port),
		"PidFile none",
		"UsePAM no",
		"StrictModes no",
		"AuthorizedKeysFile " + s.AuthorizedKeysPath,
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"LogLevel DEBUG3",
		"Subsystem sftp internal-sftp",
	}
	for _, line := range defaults {
		if !set[configKey(line)] {
			b.WriteString(line + "\n")
		}
	}
	for _, line := range match {
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// configKeyword returns the lower-cased keyword of an sshd_config line and its arguments.
// sshd accepts "Keyword value" and "Keyword=value".
func configKeyword(line string) (keyword, args string) {
	line = strings.TrimSpace(line)
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return strings.ToLower(line), ""
	}
	keyword, args = line[:i], strings.TrimLeft(line[i:], " \t")
	args = strings.TrimLeft(strings.TrimPrefix(args, "="), " \t")
	return strings.ToLower(keyword), args
}

// configKey identifies what a config line sets: its keyword, and for Subsystem also the
// subsystem's name.
func configKey(line string) string {
	k, args := configKeyword(line)
	if k == "subsystem" {
		name, _, _ := strings.Cut(args, " ")
		return k + " " + name
	}
	return k
}

// dialReadiness reports whether Extra sets a LogLevel quiet enough to hide the "Server
// listening" line, so that readiness must be probed by connecting.
func dialReadiness(extra []string) bool {
	for _, line := range extra {
		switch k, args := configKeyword(line); k {
		case "match":
			return false
		case "loglevel":
			switch strings.ToUpper(args) {
			case "QUIET", "FATAL", "ERROR":
				return true
			}
			return false
		}
	}
	return false
}

// start runs sshd with the current configuration and waits until it listens on s.Port.
func (s *SSHD) start(dial bool) error {
	os.Remove(s.LogPath)
	stderr, err := os.Create(s.stderrPath)
	if err != nil {
		return err
	}
	defer stderr.Close() // sshd holds its own copy
	cmd := exec.Command(SSHDPath, "-D", "-E", s.LogPath, "-f", s.ConfigPath)
	// An *os.File, not a buffer: sshd's children inherit stderr, and Wait would otherwise
	// wait for the last of them to close a pipe.
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("peertest: start sshd: %v", err)
	}
	p := &sshdProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()

	want := fmt.Sprintf("Server listening on 127.0.0.1 port %d.", s.Port)
	deadline := time.Now().Add(SSHDStartTimeout)
	for {
		select {
		case <-p.done:
			log := s.Log()
			if strings.Contains(log, "Address already in use") {
				return errPortBusy
			}
			return fmt.Errorf("peertest: sshd exited before listening on port %d: %v", s.Port, p.waitErr)
		default:
		}
		if dial {
			if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
				c.Close()
				s.proc = p
				return nil
			}
		} else if log, _ := os.ReadFile(s.LogPath); bytes.Contains(log, []byte(want)) {
			s.proc = p
			return nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("peertest: sshd not listening on port %d after %v", s.Port, SSHDStartTimeout)
		}
		time.Sleep(sshdPoll)
	}
}

// Stop kills sshd and every process it started for connections, and waits for sshd to exit.
// The cleanup registered by StartSSHD calls it; a test may call it earlier, for instance to
// see how a client handles a server that went away. It is safe to call more than once.
func (s *SSHD) Stop() {
	s.stopOnce.Do(func() {
		if s.proc != nil {
			s.proc.kill()
		}
	})
}

// kill sends SIGKILL to the process and all its descendants and waits, bounded, for the
// process to exit. The descendants are collected first: sshd's per-connection processes
// start new sessions (setsid), so a process group signal would miss them, and once sshd is
// gone they no longer descend from it.
func (p *sshdProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	desc := descendants(p.cmd.Process.Pid)
	p.cmd.Process.Kill()
	for _, pid := range desc {
		if proc, err := os.FindProcess(pid); err == nil {
			proc.Kill()
		}
	}
	select {
	case <-p.done:
	case <-time.After(sshdStopTimeout):
	}
}

// descendants returns the pids of all processes below pid, read from /proc; none where
// /proc is not available.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := make(map[int][]int)
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], child)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// Log returns sshd's log so far, followed by anything sshd wrote to its stderr (normally
// nothing). It is safe to call from any goroutine while sshd runs.
func (s *SSHD) Log() string {
	log, _ := os.ReadFile(s.LogPath)
	if extra, _ := os.ReadFile(s.stderrPath); len(extra) > 0 {
		log = append(log, extra...)
	}
	return string(log)
}

// WaitLog waits until sshd's log contains substr and reports whether it did within timeout,
// for instance "kex: algorithm: curve25519-sha256" or the lines of a rekey. It looks every
// 20 ms and reads only what was appended since its last look.
func (s *SSHD) WaitLog(t testing.TB, substr string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	want := []byte(substr)
	var data []byte
	for {
		if f, err := os.Open(s.LogPath); err == nil {
			from := max(len(data)-len(want)+1, 0)
			if _, err := f.Seek(int64(len(data)), io.SeekStart); err == nil {
				more, _ := io.ReadAll(f)
				data = append(data, more...)
			}
			f.Close()
			if bytes.Contains(data[from:], want) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(sshdPoll)
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		i = strings.LastIndexByte(s[:i], '\n')
		if i < 0 {
			return s
		}
	}
	return s[i+1:]
}
