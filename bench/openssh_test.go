package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerossh/zerossh/internal/peertest"
)

// OpenSSH is measured as a person runs it: ssh or sftp against sshd, three
// processes or more, with the same algorithms and sizes as the in-process
// implementations. Process start-up, the handshake and authentication stay
// out of the timing: the benchmark waits until the remote side answers,
// then starts the timer.

// openSSHReady is how long the benchmarks wait for ssh or sftp to be
// connected.
const openSSHReady = 30 * time.Second

// openSSH starts sshd (logging errors only: its usual DEBUG3 would cost it
// time per packet) and returns the options ssh and sftp take to log in
// with algs pinned, up to and including the destination.
func openSSH(b *testing.B, algs Algorithms) []string {
	b.Helper()
	peertest.RequireOpenSSH(b, peertest.SSHDPath, peertest.SSHName, peertest.SFTPName, peertest.KeygenName)
	dir := b.TempDir()
	key, pub := peertest.GenerateKey(b, dir, peertest.KeyEd25519)
	d := peertest.StartSSHD(b, peertest.SSHDOptions{
		AuthorizedKeys: [][]byte{pub},
		Extra:          []string{"LogLevel ERROR"},
	})
	opts := []string{
		"Port=" + strconv.Itoa(d.Port),
		"KexAlgorithms=" + algs.Kex,
		"Ciphers=" + algs.Cipher,
		"Compression=no",
		"LogLevel=ERROR",
		"BatchMode=yes",
		"IdentitiesOnly=yes",
		"IdentityAgent=none",
		"IdentityFile=" + key,
		"StrictHostKeyChecking=yes",
		"UserKnownHostsFile=" + d.KnownHostsPath,
		"GlobalKnownHostsFile=/dev/null",
	}
	if algs.MAC != "" {
		opts = append(opts, "MACs="+algs.MAC)
	}
	args := []string{"-F", "/dev/null"}
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	return append(args, peertest.CurrentUser(b)+"@127.0.0.1")
}

// openSSHProc is a started ssh or sftp with pipes to its stdin and stdout.
type openSSHProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
}

// startOpenSSH starts name with args, its stdin the file stdin or, when
// nil, a pipe.
func startOpenSSH(b *testing.B, stdin *os.File, name string, args ...string) *openSSHProc {
	b.Helper()
	p := &openSSHProc{cmd: exec.Command(name, args...)}
	p.cmd.Stderr = &p.stderr
	var err error
	if stdin != nil {
		p.cmd.Stdin = stdin
	} else if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	return p
}

// waitLine reads lines until one starts with prefix.
func (p *openSSHProc) waitLine(b *testing.B, prefix string) {
	timer := time.AfterFunc(openSSHReady, func() { p.cmd.Process.Kill() })
	defer timer.Stop()
	for {
		line, err := p.stdout.ReadString('\n')
		if strings.HasPrefix(line, prefix) {
			return
		}
		if err != nil {
			b.Fatalf("%s: waiting for %q: %v\n%s", p.cmd.Path, prefix, err, p.stderr.String())
		}
	}
}

// benchmarkOpenSSHTransfer times ssh sending its stdin to "cat >
// /dev/null" on sshd, as "ssh host 'cat > /dev/null' < file" does. The file
// is sparse, in /dev/shm where there is one, which reads like a file in the
// page cache (with compression off, what the bytes are does not matter).
// Its first 32 MiB warm the connection up as the in-process benchmarks'
// do: the remote shell reads them, then says "go" and starts cat, and the
// timer runs from that line to ssh's exit over the b.N times 32 KiB that
// follow. Up to one channel window (2 MiB) may pass before the line
// arrives, under 0.5% of a run of a second.
func benchmarkOpenSSHTransfer(b *testing.B, algs Algorithms) {
	args := openSSH(b, algs)
	f, err := os.Create(filepath.Join(tempDir(b), "stdin"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(warmBytes + int64(b.N)*ChunkSize); err != nil {
		b.Fatal(err)
	}
	script := fmt.Sprintf("head -c %d >/dev/null; echo go; exec cat >/dev/null", warmBytes)
	p := startOpenSSH(b, f, peertest.SSHName, append(args, "--", script)...)
	b.SetBytes(ChunkSize)
	b.ReportAllocs()
	p.waitLine(b, "go")
	b.ResetTimer()
	if err := p.cmd.Wait(); err != nil {
		b.Fatalf("ssh: %v\n%s", err, p.stderr.String())
	}
	b.StopTimer()
}

// benchmarkOpenSSHSFTP times sftp's put or get of a 64 MiB file against
// sshd's internal-sftp, the file in /dev/shm, a download written to
// /dev/null, after one untimed file. sftp reads its commands from a pipe
// (sftp -b -); each is followed by "pwd", whose answer says the transfer
// is over.
func benchmarkOpenSSHSFTP(b *testing.B, dir string, data []byte) {
	root := tempDir(b)
	src := filepath.Join(root, "src")
	if err := WriteFile(root, "src", data); err != nil {
		b.Fatal(err)
	}
	args := openSSH(b, SFTPAlgorithms)
	p := startOpenSSH(b, nil, peertest.SFTPName, append([]string{"-b", "-"}, args...)...)
	const done = "Remote working directory"
	io.WriteString(p.stdin, "pwd\n")
	p.waitLine(b, done)
	cmd := "put " + src + " " + filepath.Join(root, "up") + "\npwd\n"
	if dir == "download" {
		cmd = "get " + src + " /dev/null\npwd\n"
	}
	op := func() {
		if _, err := io.WriteString(p.stdin, cmd); err != nil {
			b.Fatal(err)
		}
		p.waitLine(b, done)
	}
	op() // warm up, as the other implementations do
	b.SetBytes(SFTPSize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		op()
	}
	b.StopTimer()
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		b.Fatalf("sftp: %v\n%s", err, p.stderr.String())
	}
}
