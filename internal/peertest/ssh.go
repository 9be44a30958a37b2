package peertest

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// DefaultClientTimeout bounds RunSSH, RunSFTP and SSHCommand when their context has no
// deadline.
const DefaultClientTimeout = 60 * time.Second

// clientWaitDelay bounds how long a client's Wait waits for its output pipes once the
// process has exited or was killed.
const clientWaitDelay = 2 * time.Second

// SSHClientOptions configures an OpenSSH client (ssh or sftp) connecting to 127.0.0.1.
type SSHClientOptions struct {
	// Port is the server's port on 127.0.0.1.
	Port int
	// User is the user to log in as; default CurrentUser.
	User string
	// IdentityFile is the private key to authenticate with, typically from GenerateKey.
	// Without it the client offers no key at all.
	IdentityFile string
	// KnownHostsFile, when set, is the only known_hosts file and the server's host key must
	// be in it (StrictHostKeyChecking=yes), for instance SSHD.KnownHostsPath. When empty the
	// client accepts any host key and remembers none.
	KnownHostsFile string
	// Options are -o values, such as "Ciphers=aes128-gcm@openssh.com",
	// "KexAlgorithms=curve25519-sha256", "MACs=hmac-sha2-256-etm@openssh.com" or
	// "RekeyLimit=1M". ssh keeps the first value it reads for a keyword, and these come
	// before the ones RunSSH sets, so they win.
	Options []string
	// Command is the remote command for ssh; without it ssh asks for a shell. sftp ignores it.
	Command []string
	// Stdin is the client's standard input; default empty.
	Stdin io.Reader
	// Verbose turns on ssh -vvv, which logs to stderr what the client negotiated (see
	// NegotiatedFromLog). Without it the client logs only errors (LogLevel=ERROR), so that
	// stderr holds the remote command's stderr and nothing else.
	Verbose bool
}

// clientArgs returns the options shared by ssh and sftp, up to but excluding the
// destination. portFlag is -p for ssh and -P for sftp.
func clientArgs(o SSHClientOptions, portFlag string) []string {
	args := []string{"-F", "/dev/null", portFlag, strconv.Itoa(o.Port)}
	for _, opt := range o.Options {
		args = append(args, "-o", opt)
	}
	if o.Verbose {
		args = append(args, "-vvv")
	} else {
		args = append(args, "-o", "LogLevel=ERROR")
	}
	args = append(args,
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "UpdateHostKeys=no",
	)
	if o.IdentityFile != "" {
		args = append(args, "-o", "IdentityFile="+o.IdentityFile)
	} else {
		args = append(args, "-o", "IdentityFile=none")
	}
	if o.KnownHostsFile != "" {
		args = append(args, "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+o.KnownHostsFile)
	} else {
		args = append(args, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null")
	}
	return args
}

// destination returns user@127.0.0.1.
func destination(t testing.TB, o SSHClientOptions) string {
	t.Helper()
	u := o.User
	if u == "" {
		u = CurrentUser(t)
	}
	return u + "@127.0.0.1"
}

// SSHArgs returns the arguments RunSSH passes to ssh for o: -F /dev/null, -p, the options
// (BatchMode=yes, ConnectTimeout=10, IdentitiesOnly=yes, host key checking as
// o.KnownHostsFile says), user@127.0.0.1 and the command.
func SSHArgs(t testing.TB, o SSHClientOptions) []string {
	t.Helper()
	args := append(clientArgs(o, "-p"), destination(t, o))
	if len(o.Command) > 0 {
		args = append(args, "--")
		args = append(args, o.Command...)
	}
	return args
}

// SSHCommand returns an unstarted ssh command for o, for a test that needs to read the
// output while ssh runs: the test sets Stdout and Stderr (or calls StdoutPipe) and starts it.
// Stdin is o.Stdin. The command is killed when ctx is done (after DefaultClientTimeout if ctx
// has no deadline) and, if still running, by a t.Cleanup; the test must Wait for it.
func SSHCommand(t testing.TB, ctx context.Context, o SSHClientOptions) *exec.Cmd {
	t.Helper()
	RequireOpenSSH(t, SSHName)
	return clientCommand(t, ctx, SSHName, SSHArgs(t, o), o.Stdin)
}

// clientCommand builds a bounded client command that a t.Cleanup kills.
func clientCommand(t testing.TB, ctx context.Context, name string, args []string, stdin io.Reader) *exec.Cmd {
	t.Helper()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultClientTimeout)
		t.Cleanup(cancel)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	cmd.WaitDelay = clientWaitDelay
	t.Cleanup(func() {
		if cmd.Process != nil {
			cmd.Process.Kill() // harmless once the process was waited for
		}
	})
	return cmd
}

// run runs cmd to completion and returns what it wrote.
func run(cmd *exec.Cmd) (stdout, stderr []byte, err error) {
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	err = cmd.Run()
	return outBuf.Bytes(), errBuf.Bytes(), err
}

// RunSSH runs ssh (found in PATH) with SSHArgs(t, o) to completion and returns its stdout and
// stderr. err is an *exec.ExitError when ssh exits with a non-zero status: the remote
// command's status, or 255 when ssh itself failed (see stderr; set o.Verbose for the
// details). ssh is killed when ctx is done, after DefaultClientTimeout if ctx has no deadline.
func RunSSH(t testing.TB, ctx context.Context, o SSHClientOptions) (stdout, stderr []byte, err error) {
	t.Helper()
	return run(SSHCommand(t, ctx, o))
}

// RunSFTP runs sftp in batch mode (sftp -b -) with the commands in batch, one per line, such
// as "put /tmp/x x" or "ls -l", and returns its stdout and stderr. sftp stops at the first
// failing command and exits with status 1. o.Command and o.Stdin are not used.
func RunSFTP(t testing.TB, ctx context.Context, o SSHClientOptions, batch string) (stdout, stderr []byte, err error) {
	t.Helper()
	RequireOpenSSH(t, SFTPName)
	args := append([]string{"-b", "-"}, clientArgs(o, "-P")...)
	args = append(args, destination(t, o))
	return run(clientCommand(t, ctx, SFTPName, args, bytes.NewBufferString(batch)))
}
