package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerossh/zerossh/internal/peertest"
)

// compressionSize is the size of the files the compression tests move.
const compressionSize = 64 * MiB

// rekeyLimit makes the side that sets it rekey several times during a
// transfer, so that the compression streams restart mid-file.
const rekeyLimit = "4M"

// compressionFiles makes a file of compressible text and one of random
// bytes, once per process.
var compressionFiles = sync.OnceValues(func() ([]testFile, error) {
	random, err := makeTestFile(dataDir, "random64.bin", compressionSize, 64)
	if err != nil {
		return nil, err
	}
	text, err := makeTextFile(dataDir, "text64.txt", compressionSize)
	return []testFile{text, random}, err
})

// makeTextFile writes size bytes of numbered lines of words from a seeded
// generator: text that deflate shrinks about 3:1, like logs.
func makeTextFile(dir, name string, size int64) (testFile, error) {
	f := testFile{name: name, size: size, path: filepath.Join(dir, name)}
	out, err := os.Create(f.path)
	if err != nil {
		return f, err
	}
	words := strings.Fields("the of and to in is was that for on with as by at from his her they " +
		"packet channel window stream server client transfer compression session key exchange")
	rng := mrand.New(mrand.NewPCG(64, 0))
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(out, h), 1<<20)
	line := make([]byte, 0, 256)
	for n, i := int64(0), 0; n < size; i++ {
		line = strconv.AppendInt(line[:0], int64(i), 10)
		for range 6 + rng.IntN(8) {
			line = append(line, ' ')
			line = append(line, words[rng.IntN(len(words))]...)
		}
		line = append(line, '\n')
		line = line[:min(int64(len(line)), size-n)]
		w.Write(line)
		n += int64(len(line))
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return f, err
	}
	h.Sum(f.sum[:0])
	if err := out.Close(); err != nil {
		return f, err
	}
	return f, os.Chmod(f.path, 0o644)
}

// countingProxy forwards TCP connections to a server and counts the bytes
// each way, so that what compression saves on the wire can be read for
// any pair of client and server.
type countingProxy struct {
	l        net.Listener
	target   string
	up, down atomic.Int64 // client to server, server to client
	active   sync.WaitGroup
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{l: l, target: target}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.active.Add(2)
			go p.copy(s, c, &p.up)
			go p.copy(c, s, &p.down)
		}
	}()
	return p
}

func (p *countingProxy) copy(dst, src net.Conn, n *atomic.Int64) {
	defer p.active.Done()
	buf := make([]byte, 256<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			n.Add(int64(k))
			if _, werr := dst.Write(buf[:k]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

func (p *countingProxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

// counts waits for the connections to end and returns the bytes counted
// since the last call.
func (p *countingProxy) counts(t *testing.T) (up, down int64) {
	t.Helper()
	done := make(chan struct{})
	go func() { p.active.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(logWait):
		t.Fatalf("proxied connections still open %v after the client exited", logWait)
	}
	return p.up.Swap(0), p.down.Swap(0)
}

// compressionRun is one measured transfer.
type compressionRun struct {
	pair, file, op string
	elapsed        time.Duration
	wire           int64 // bytes on the wire in the direction of the data
	kexes          int   // key exchanges the log shows, the first included
}

func (r compressionRun) String() string {
	return fmt.Sprintf("%-34s %-12s %-8s %7.1f MB/s  ratio %5.2f  (%v, %d key exchanges)",
		r.pair, r.file, r.op, mbps(compressionSize, r.elapsed), float64(compressionSize)/float64(r.wire),
		r.elapsed.Round(time.Millisecond), r.kexes)
}

// TestOpenSSHCompression moves 64 MiB of text and 64 MiB of random bytes
// each way with compression on, SHA-256 compared, while one side rekeys
// every 4 MiB so that the streams restart mid-file:
//   - OpenSSH's sftp -C (ssh -C underneath) against zerossh serve -C;
//   - zerossh get and put -C against OpenSSH's sshd (Compression yes);
//   - OpenSSH's sftp -C against sshd, for comparison.
//
// Each transfer runs through a proxy that counts the bytes on the wire;
// the log ends with a table of throughput (a whole client process:
// connection, authentication, one get or put) and compression ratio.
func TestOpenSSHCompression(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName, peertest.SSHDPath, peertest.KeygenName)
	files, err := compressionFiles()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, serveOptions{Args: []string{"-C"}})
	key, pub := peertest.GenerateKey(t, t.TempDir(), peertest.KeyEd25519)
	sshd := peertest.StartSSHD(t, peertest.SSHDOptions{AuthorizedKeys: [][]byte{pub},
		Extra: []string{"LogLevel DEBUG1", "Compression yes", "RekeyLimit " + rekeyLimit}})
	var runs []compressionRun

	// OpenSSH's sftp against a server behind a proxy: HostKeyAlias finds
	// the server's key under its own port.
	sftpVia := func(pair string, p *countingProxy, d clientDest, realPort int, remoteDir, onDisk string) {
		d.Port = p.port()
		alias := fmt.Sprintf("HostKeyAlias=[127.0.0.1]:%d", realPort)
		for _, f := range files {
			remote := filepath.Join(remoteDir, f.name)
			back := filepath.Join(t.TempDir(), f.name)
			for _, op := range []string{"put", "get"} {
				batch := fmt.Sprintf("put %s %s\n", f.path, remote)
				if op == "get" {
					batch = fmt.Sprintf("get %s %s\n", remote, back)
				}
				r := runSFTP(t, d, batch, "-C", "-v", "-o", alias, "-o", "RekeyLimit="+rekeyLimit)
				up, down := p.counts(t)
				if r.code != 0 {
					t.Fatalf("%s: sftp -C %s %s: %v", pair, op, f.name, r)
				}
				kexes := peertest.Negotiations(r.stderr)
				if len(kexes) < 2 {
					t.Errorf("%s: sftp %s %s: ssh logged %d key exchanges; want a rekey", pair, op, f.name, len(kexes))
				}
				for _, k := range kexes {
					if k.CompressionCS != "zlib@openssh.com" || k.CompressionSC != "zlib@openssh.com" {
						t.Errorf("%s: negotiated compression %s / %s; want zlib@openssh.com", pair, k.CompressionCS, k.CompressionSC)
					}
				}
				wire := up
				if op == "get" {
					wire = down
					checkSame(t, pair+" get", back, f)
				} else {
					checkSame(t, pair+" put", filepath.Join(onDisk, f.name), f)
				}
				runs = append(runs, compressionRun{pair: pair, file: f.name, op: op, elapsed: r.elapsed, wire: wire, kexes: len(kexes)})
			}
			os.Remove(filepath.Join(onDisk, f.name))
			os.Remove(back)
		}
	}

	sftpVia("OpenSSH sftp -C -> zerossh serve -C", startCountingProxy(t, srv.Addr), srv.dest(), srv.Port, ".", srv.Root)
	sshdDir := t.TempDir()
	sftpVia("OpenSSH sftp -C -> OpenSSH sshd", startCountingProxy(t, sshd.Addr), sshdDest(t, sshd, key), sshd.Port, sshdDir, sshdDir)

	// zerossh get and put against sshd behind a proxy: a known_hosts file
	// names sshd's key at the proxy's address.
	pair := "zerossh -C -> OpenSSH sshd"
	p := startCountingProxy(t, sshd.Addr)
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", p.port(), sshd.HostPublicKeys[peertest.KeyEd25519])
	if err := os.WriteFile(knownHosts, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	d := clientDest{Port: p.port(), Key: key, KnownHosts: knownHosts, User: peertest.CurrentUser(t)}
	for _, f := range files {
		remote := filepath.Join(sshdDir, f.name)
		back := filepath.Join(t.TempDir(), f.name)
		for _, op := range []string{"put", "get"} {
			before := len(peertest.Negotiations(sshd.Log()))
			args := []string{op, "-C", "-q", "-P", strconv.Itoa(d.Port), "-i", d.Key, "-known-hosts", d.KnownHosts}
			if op == "put" {
				args = append(args, f.path, d.remote(remote))
			} else {
				args = append(args, d.remote(remote), back)
			}
			r := runZerossh(t, runOptions{}, args...)
			up, down := p.counts(t)
			if r.code != 0 {
				t.Fatalf("%s: zerossh %s %s: %v", pair, op, f.name, r)
			}
			var kexes []peertest.Negotiated
			waitFor(logWait, func() bool {
				kexes = peertest.Negotiations(sshd.Log())[before:]
				return len(kexes) >= 2
			})
			if len(kexes) < 2 {
				t.Errorf("%s: %s %s: sshd logged %d key exchanges; want a rekey", pair, op, f.name, len(kexes))
			}
			for _, k := range kexes {
				if k.CompressionCS != "zlib@openssh.com" || k.CompressionSC != "zlib@openssh.com" {
					t.Errorf("%s: negotiated compression %s / %s; want zlib@openssh.com", pair, k.CompressionCS, k.CompressionSC)
				}
			}
			wire := up
			if op == "get" {
				wire = down
				checkSame(t, pair+" get", back, f)
			} else {
				checkSame(t, pair+" put", remote, f)
			}
			runs = append(runs, compressionRun{pair: pair, file: f.name, op: op, elapsed: r.elapsed, wire: wire, kexes: len(kexes)})
		}
		os.Remove(remote)
		os.Remove(back)
	}

	var table strings.Builder
	for _, r := range runs {
		fmt.Fprintln(&table, r)
	}
	t.Logf("64 MiB each, compression on, rekey every %s; ratio = file size / bytes on the wire:\n%s", rekeyLimit, table.String())
}
