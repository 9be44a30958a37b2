package peertest

import (
	"net"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"testing"
)

// Paths and names of the OpenSSH programs. sshd must be started by its absolute path: it
// re-executes itself for every connection and refuses a relative path.
const (
	SSHDPath   = "/usr/sbin/sshd"
	SSHName    = "ssh"
	SFTPName   = "sftp"
	KeygenName = "ssh-keygen"
)

// InteropEnv is the environment variable that turns a missing peer from a skip into a failure
// when set to "1".
const InteropEnv = "ZEROSSH_INTEROP"

// InteropRequired reports whether InteropEnv is set to "1": interop tests must then run, and a
// missing peer is a failure rather than a skip.
func InteropRequired() bool { return os.Getenv(InteropEnv) == "1" }

// skipOrFatal skips the test, or fails it when InteropRequired.
func skipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	if InteropRequired() {
		t.Fatalf(format+" ("+InteropEnv+"=1)", args...)
		return
	}
	t.Skipf(format+" (set "+InteropEnv+"=1 to make this a failure)", args...)
}

// RequireOpenSSH skips the test unless every program in bins can be found, or fails it when
// InteropRequired. A name with a slash is checked as a path, any other name is looked up in
// PATH. Without bins it checks SSHDPath, SSHName and KeygenName.
func RequireOpenSSH(t testing.TB, bins ...string) {
	t.Helper()
	if len(bins) == 0 {
		bins = []string{SSHDPath, SSHName, KeygenName}
	}
	var missing []string
	for _, b := range bins {
		// A name with a slash is checked as a path (it must exist and be executable).
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		skipOrFatal(t, "peertest: OpenSSH not available, missing %s; install it with "+
			"`apt-get install openssh-server openssh-client`", strings.Join(missing, ", "))
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago: it listens on port 0,
// takes the port the kernel chose and closes the listener. Another process may take the port
// before the caller binds it; StartSSHD retries in that case.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("peertest: listen on 127.0.0.1:0: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("peertest: close listener: %v", err)
	}
	return port
}

// CurrentUser returns the name of the user the test runs as, the only user a test sshd can
// log in when the test does not run as root, and the default user of RunSSH.
func CurrentUser(t testing.TB) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("peertest: current user: %v", err)
	}
	return u.Username
}
