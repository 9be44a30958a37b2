package main

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/zerossh/zerossh/internal/peertest"
)

// TestOpenSSHSFTPServe runs OpenSSH's sftp and scp against "zerossh serve" started with
// nothing but -listen, -root and -state and an empty HOME, with exactly the options of the
// printed connect line: put, ls, chmod, rename, get, rm and rmdir on files of 0 B, 1 B,
// 1 MiB and 256 MiB, compared by SHA-256 on the server's disk and after the way back.
func TestOpenSSHSFTPServe(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName, "scp")
	files := testFiles(t)
	srv := startServe(t, serveOptions{})
	checkPrinted(t, srv)
	d := srv.dest()

	t.Run("sftp", func(t *testing.T) {
		var batch strings.Builder
		batch.WriteString("mkdir dir\n")
		for _, f := range files {
			fmt.Fprintf(&batch, "put %s dir/%s\n", f.path, f.name)
		}
		mustSFTP(t, d, batch.String())
		for _, f := range files {
			checkSame(t, "put", filepath.Join(srv.Root, "dir", f.name), f)
		}

		r := mustSFTP(t, d, "ls -1 dir\n")
		var listed []string
		for _, l := range readLines(r.stdout) {
			if !strings.HasPrefix(l, "sftp>") {
				listed = append(listed, path.Base(l))
			}
		}
		slices.Sort(listed)
		var want []string
		for _, f := range files {
			want = append(want, f.name)
		}
		slices.Sort(want)
		if !slices.Equal(listed, want) {
			t.Errorf("ls -1 dir listed %q; want %q\n%v", listed, want, r)
		}

		back := t.TempDir()
		batch.Reset()
		for _, f := range files {
			fmt.Fprintf(&batch, "chmod 600 dir/%s\n", f.name)
			fmt.Fprintf(&batch, "rename dir/%s dir/%s.renamed\n", f.name, f.name)
			fmt.Fprintf(&batch, "get dir/%s.renamed %s\n", f.name, filepath.Join(back, f.name))
		}
		mustSFTP(t, d, batch.String())
		for _, f := range files {
			onDisk := filepath.Join(srv.Root, "dir", f.name+".renamed")
			checkSame(t, "renamed on the server", onDisk, f)
			checkSame(t, "get", filepath.Join(back, f.name), f)
			if st, err := os.Stat(onDisk); err == nil && st.Mode().Perm() != 0o600 {
				t.Errorf("after chmod 600, %s has mode %v; want -rw-------", onDisk, st.Mode().Perm())
			}
			if _, err := os.Lstat(filepath.Join(srv.Root, "dir", f.name)); !os.IsNotExist(err) {
				t.Errorf("after rename, the old name %s: %v; want it gone", f.name, err)
			}
		}

		batch.Reset()
		for _, f := range files {
			fmt.Fprintf(&batch, "rm dir/%s.renamed\n", f.name)
		}
		batch.WriteString("rmdir dir\n")
		mustSFTP(t, d, batch.String())
		if names := dirNames(t, srv.Root); len(names) != 0 {
			t.Errorf("after rm and rmdir the root holds %q; want nothing", names)
		}
	})

	t.Run("scp", func(t *testing.T) {
		back := t.TempDir()
		for _, f := range files {
			if r := runSCP(t, d, f.path, d.remote("scp-"+f.name)); r.code != 0 {
				t.Fatalf("scp %s to the server: %v", f.name, r)
			}
			checkSame(t, "scp upload", filepath.Join(srv.Root, "scp-"+f.name), f)
			local := filepath.Join(back, f.name)
			if r := runSCP(t, d, d.remote("scp-"+f.name), local); r.code != 0 {
				t.Fatalf("scp %s from the server: %v", f.name, r)
			}
			checkSame(t, "scp download", local, f)
			os.Remove(filepath.Join(srv.Root, "scp-"+f.name))
			os.Remove(local)
		}
	})
}

// checkPrinted checks what serve printed against its state directory.
func checkPrinted(t *testing.T, srv *zerosshServer) {
	t.Helper()
	if srv.ServedRoot != srv.Root {
		t.Errorf("serving %q; want %q", srv.ServedRoot, srv.Root)
	}
	if want := fmt.Sprintf("127.0.0.1:%d", srv.Port); srv.Addr != want || srv.Host != "127.0.0.1" {
		t.Errorf("serving on %q, connect to %q port %d; want %q", srv.Addr, srv.Host, srv.Port, want)
	}
	if want := filepath.Join(srv.State, "id_ed25519"); srv.Key != want {
		t.Errorf("connect line key %q; want %q", srv.Key, want)
	}
	if want := filepath.Join(srv.State, "known_hosts"); srv.KnownHosts != want {
		t.Errorf("connect line known_hosts %q; want %q", srv.KnownHosts, want)
	}
	pemBytes, err := os.ReadFile(filepath.Join(srv.State, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatalf("host key: %v", err)
	}
	hostKey, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatalf("host key: %v", err)
	}
	if fp := ssh.FingerprintSHA256(hostKey.PublicKey()); srv.Fingerprint != fp {
		t.Errorf("printed host key %q; the key file has %q", srv.Fingerprint, fp)
	}
	// The tests run sftp with the connect line's arguments, after the batch options.
	if args := sftpArgs(srv.dest()); !slices.Equal(args[len(args)-len(srv.ConnectArgs):], srv.ConnectArgs) {
		t.Errorf("sftp runs with %q; the connect line says %q", args, srv.ConnectArgs)
	}
	if st, err := os.Stat(srv.Key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("client key %s: %v, %v; want a file of mode 0600", srv.Key, err, st)
	}
}

// TestOpenSSHSFTPServeEscape tries to leave the served root with OpenSSH's sftp: relative and
// absolute paths, a symlink on disk pointing outside, and symlinks and hard links made over
// SFTP. Nothing outside the root may be read, written, listed or renamed into.
func TestOpenSSHSFTPServeEscape(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName)
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outDir := filepath.Join(base, "outside-dir")
	secret := []byte("outside secret: must not leave the machine\n")
	for _, dir := range []string{root, outDir} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(base, "outside-secret.txt"), secret)
	write(filepath.Join(outDir, "secret-in-dir.txt"), secret)
	write(filepath.Join(root, "inside.txt"), []byte("inside\n"))
	if err := os.Symlink(outDir, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	localSrc := filepath.Join(t.TempDir(), "x")
	write(localSrc, []byte("uploaded\n"))

	srv := startServe(t, serveOptions{Root: root})
	d := srv.dest()
	local := t.TempDir()

	// notLeaked fails the test if the local file holds the secret or /etc/passwd.
	notLeaked := func(what, p string) {
		t.Helper()
		got, err := os.ReadFile(p)
		if err != nil {
			return
		}
		if bytes.Contains(got, secret) {
			t.Errorf("%s: got the content of a file outside the root:\n%s", what, got)
		}
		if len(passwd) > 0 && bytes.Equal(got, passwd) {
			t.Errorf("%s: got the machine's /etc/passwd", what)
		}
	}
	// refused fails the test if the sftp batch succeeded.
	refused := func(what string, r result) {
		t.Helper()
		if r.code == 0 {
			t.Errorf("%s succeeded; want it refused\n%v", what, r)
		}
	}
	// outsideUnchanged fails the test if anything appeared next to the root.
	wantOutside := []string{"outside-dir", "outside-secret.txt", "root"}
	outsideUnchanged := func(what string) {
		t.Helper()
		if got := dirNames(t, base); !slices.Equal(got, wantOutside) {
			t.Errorf("after %s the root's parent holds %q; want %q", what, got, wantOutside)
		}
		if got := dirNames(t, outDir); !slices.Equal(got, []string{"secret-in-dir.txt"}) {
			t.Errorf("after %s the outside directory holds %q; want only secret-in-dir.txt", what, got)
		}
	}

	t.Run("get ../outside", func(t *testing.T) {
		p := filepath.Join(local, "get-parent")
		refused("get ../outside-secret.txt", runSFTP(t, d, "get ../outside-secret.txt "+p+"\n"))
		notLeaked("get ../outside-secret.txt", p)
		p2 := filepath.Join(local, "get-parent-deep")
		refused("get ../../../.. path", runSFTP(t, d, "get ../../../../../.."+filepath.Join(base, "outside-secret.txt")+" "+p2+"\n"))
		notLeaked("get ../../../.. path", p2)
	})
	t.Run("get /etc/passwd", func(t *testing.T) {
		p := filepath.Join(local, "passwd")
		r := runSFTP(t, d, "get /etc/passwd "+p+"\n")
		notLeaked("get /etc/passwd", p)
		t.Logf("get /etc/passwd: exit %d", r.code)
		p2 := filepath.Join(local, "abs-secret")
		runSFTP(t, d, "get "+filepath.Join(base, "outside-secret.txt")+" "+p2+"\n")
		notLeaked("get of the secret's absolute path", p2)
	})
	t.Run("put ../x", func(t *testing.T) {
		runSFTP(t, d, "put "+localSrc+" ../x\n")
		outsideUnchanged("put ../x")
		runSFTP(t, d, "put "+localSrc+" ../../../../../.."+filepath.Join(base, "y")+"\n")
		outsideUnchanged("put ../../y")
		runSFTP(t, d, "put "+localSrc+" link/x\n")
		outsideUnchanged("put link/x")
		runSFTP(t, d, "mkdir ../made-outside\n")
		outsideUnchanged("mkdir ../made-outside")
	})
	t.Run("rename ../f", func(t *testing.T) {
		runSFTP(t, d, "rename inside.txt ../inside.txt\n")
		outsideUnchanged("rename inside.txt ../inside.txt")
		runSFTP(t, d, "rename inside.txt link/inside.txt\n")
		outsideUnchanged("rename inside.txt link/inside.txt")
		runSFTP(t, d, "rename ../outside-secret.txt stolen.txt\n")
		outsideUnchanged("rename ../outside-secret.txt stolen.txt")
	})
	t.Run("ls /..", func(t *testing.T) {
		r := runSFTP(t, d, "ls -1a /..\n")
		if strings.Contains(r.stdout, "outside-") {
			t.Errorf("ls /.. lists the root's parent:\n%s", r.stdout)
		}
	})
	t.Run("symlink on disk", func(t *testing.T) {
		r := runSFTP(t, d, "ls -1 link/\n")
		if strings.Contains(r.stdout, "secret-in-dir") {
			t.Errorf("ls link/ lists a directory outside the root:\n%v", r)
		}
		p := filepath.Join(local, "via-link")
		refused("get link/secret-in-dir.txt", runSFTP(t, d, "get link/secret-in-dir.txt "+p+"\n"))
		notLeaked("get link/secret-in-dir.txt", p)
	})
	t.Run("ln -s", func(t *testing.T) {
		for i, target := range []string{
			"/etc/passwd",
			"../outside-secret.txt",
			"../../../../../../../../etc/passwd",
			filepath.Join(base, "outside-secret.txt"),
			outDir,
		} {
			name := fmt.Sprintf("made-link-%d", i)
			r := runSFTP(t, d, "ln -s "+target+" "+name+"\n")
			if link, err := os.Readlink(filepath.Join(root, name)); err == nil {
				// A link that reads as a path outside the root on disk would mislead any
				// other program serving or backing up the directory.
				resolved := link
				if !filepath.IsAbs(link) {
					resolved = filepath.Join(root, link)
				}
				if rel, err := filepath.Rel(root, filepath.Clean(resolved)); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
					t.Errorf("ln -s %s %s made a link to %q on disk, outside the root", target, name, link)
				}
				t.Logf("ln -s %s %s: exit %d, on disk -> %s", target, name, r.code, link)
			} else {
				t.Logf("ln -s %s %s: exit %d, no link on disk", target, name, r.code)
			}
			p := filepath.Join(local, name)
			runSFTP(t, d, "get "+name+" "+p+"\n")
			notLeaked("get of a symlink to "+target, p)
			p2 := filepath.Join(local, name+"-in")
			runSFTP(t, d, "get "+name+"/secret-in-dir.txt "+p2+"\n")
			notLeaked("get through a symlink to "+target, p2)
			runSFTP(t, d, "put "+localSrc+" "+name+"/planted\n")
			outsideUnchanged("put through a symlink to " + target)
			if strings.HasPrefix(target, base) || strings.HasPrefix(target, "../outside") {
				// Only links into the test's own directory are written through: a server
				// that follows them must not be able to damage the machine.
				runSFTP(t, d, "put "+localSrc+" "+name+"\n")
				outsideUnchanged("put onto a symlink to " + target)
			}
		}
	})
	t.Run("ln", func(t *testing.T) {
		runSFTP(t, d, "ln ../outside-secret.txt hard\n")
		p := filepath.Join(local, "hard")
		runSFTP(t, d, "get hard "+p+"\n")
		notLeaked("get of a hard link to ../outside-secret.txt", p)
		if data, err := os.ReadFile(filepath.Join(root, "hard")); err == nil && bytes.Contains(data, secret) {
			t.Errorf("ln ../outside-secret.txt hard made a hard link to a file outside the root")
		}
	})
	if got, err := os.ReadFile(filepath.Join(base, "outside-secret.txt")); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("the file outside the root changed: %q, %v", got, err)
	}
}

// TestOpenSSHSFTPServeUploadCut cuts the TCP connection of an OpenSSH sftp in the middle of a
// 256 MiB upload: the final name must never appear, the temporary file must go, and the
// server must go on serving.
func TestOpenSSHSFTPServeUploadCut(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName)
	big := fileBySize(t, 256*MiB)
	srv := startServe(t, serveOptions{})
	d := srv.dest()

	// -l 80000 (Kbit/s, 10 MB/s) keeps the upload going for about 25 s, long enough to cut it.
	bg := startBackground(t, strings.NewReader("put "+big.path+" cut.bin\n"),
		peertest.SFTPName, sftpArgs(d, "-l", "80000")...)
	var temps []string
	if !waitFor(20*time.Second, func() bool {
		temps = uploadTemps(t, srv.Root)
		return len(temps) > 0
	}) {
		t.Fatalf("no temporary upload file (a name starting with \".\" holding \"upload\") appeared in the root within 20 s; root holds %q\nsftp: %s", dirNames(t, srv.Root), bg.out)
	}
	time.Sleep(300 * time.Millisecond) // let some data arrive
	select {
	case <-bg.done:
		t.Fatalf("sftp ended before the cut: %v\n%s", bg.err, bg.out)
	default:
	}
	// Kill sftp and its ssh: the kernel closes the TCP connection under the upload.
	killGroup(bg.cmd)
	select {
	case <-bg.done:
	case <-time.After(serveStopTimeout):
		t.Fatal("sftp did not die")
	}

	time.Sleep(500 * time.Millisecond)
	final := filepath.Join(srv.Root, "cut.bin")
	if rec, ok := srv.waitLog(t, logWait, func(r logRecord) bool { return isTransferLine(r) && strings.Contains(r["path"], "cut.bin") }); !ok {
		t.Errorf("no transfer line for the cut upload:\n%s", srv.Log())
	} else if rec["outcome"] == "ok" {
		t.Errorf("the cut upload is logged with outcome=ok: %v", rec)
	}
	if _, err := os.Lstat(final); !os.IsNotExist(err) {
		t.Errorf("after a cut upload the final name exists (%v); want no file under it", err)
	}
	if !waitFor(5*time.Second, func() bool { return len(uploadTemps(t, srv.Root)) == 0 }) {
		t.Errorf("5 s after the cut the root still holds temporary files %q (first seen %q)", uploadTemps(t, srv.Root), temps)
	}
	if _, err := os.Lstat(final); !os.IsNotExist(err) {
		t.Errorf("after the server noticed the cut the final name exists (%v)", err)
	}

	f := fileBySize(t, MiB)
	back := filepath.Join(t.TempDir(), "back")
	mustSFTP(t, d, fmt.Sprintf("put %s after.bin\nls\nget after.bin %s\n", f.path, back))
	checkSame(t, "upload after the cut", filepath.Join(srv.Root, "after.bin"), f)
	checkSame(t, "download after the cut", back, f)
	if _, err := os.Lstat(final); !os.IsNotExist(err) {
		t.Errorf("the final name of the cut upload exists (%v)", err)
	}
	if names := dirNames(t, srv.Root); !slices.Equal(names, []string{"after.bin"}) {
		t.Errorf("root holds %q; want only after.bin", names)
	}
}

// TestOpenSSHGetPutSSHD runs zerossh put and get against OpenSSH's sshd (internal-sftp) with
// the files of 0 B, 1 B, 1 MiB and 256 MiB, with the known_hosts file peertest writes.
func TestOpenSSHGetPutSSHD(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SSHDPath, peertest.KeygenName)
	files := testFiles(t)
	key, pub := peertest.GenerateKey(t, t.TempDir(), peertest.KeyEd25519)
	sshd := peertest.StartSSHD(t, peertest.SSHDOptions{AuthorizedKeys: [][]byte{pub}, Extra: []string{"LogLevel INFO"}})

	// The known_hosts file peertest writes ("[127.0.0.1]:PORT ssh-ed25519 ...") must be one
	// that knownhosts.New accepts for the address the command dials.
	hk, err := knownhosts.New(sshd.KnownHostsPath)
	if err != nil {
		t.Fatalf("knownhosts.New(%s): %v", sshd.KnownHostsPath, err)
	}
	hostPub, _, _, _, err := ssh.ParseAuthorizedKey(sshd.HostPublicKeys[peertest.KeyEd25519])
	if err != nil {
		t.Fatal(err)
	}
	if err := hk(sshd.Addr, &netAddr{sshd.Addr}, hostPub); err != nil {
		t.Fatalf("known_hosts from peertest does not match sshd's key for %s: %v", sshd.Addr, err)
	}

	d := sshdDest(t, sshd, key)
	remoteDir := t.TempDir()
	back := t.TempDir()
	for _, f := range files {
		remote := filepath.Join(remoteDir, f.name)
		if r := zerosshPut(t, d, f.path, remote); r.code != 0 {
			t.Fatalf("zerossh put %s to sshd: %v", f.name, r)
		}
		checkSame(t, "zerossh put to sshd", remote, f)
		local := filepath.Join(back, f.name)
		if r := zerosshGet(t, d, remote, local); r.code != 0 {
			t.Fatalf("zerossh get %s from sshd: %v", f.name, r)
		}
		checkSame(t, "zerossh get from sshd", local, f)
		os.Remove(remote)
		os.Remove(local)
	}
}

// netAddr is a net.Addr for a knownhosts callback.
type netAddr struct{ s string }

func (a *netAddr) Network() string { return "tcp" }
func (a *netAddr) String() string  { return a.s }

// TestOpenSSHSFTPRate measures OpenSSH's sftp uploading and downloading the 256 MiB file to
// and from zerossh serve and OpenSSH's sshd (internal-sftp) on this machine, in one run. The
// time of each transfer is that of a whole sftp process: connection, authentication and the
// one put or get.
func TestOpenSSHSFTPRate(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName, peertest.SSHDPath, peertest.KeygenName)
	measureRates(t, fileBySize(t, 256*MiB))
}

// TestOpenSSHSFTPRate1GiB is TestOpenSSHSFTPRate with a 1 GiB file, when ZEROSSH_BIG=1.
func TestOpenSSHSFTPRate1GiB(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName, peertest.SSHDPath, peertest.KeygenName)
	measureRates(t, bigFile(t))
}

func measureRates(t *testing.T, f testFile) {
	srv := startServe(t, serveOptions{})
	key, pub := peertest.GenerateKey(t, t.TempDir(), peertest.KeyEd25519)
	sshd := peertest.StartSSHD(t, peertest.SSHDOptions{AuthorizedKeys: [][]byte{pub}, Extra: []string{"LogLevel INFO"}})
	sshdDir := t.TempDir()

	for _, peer := range []struct {
		name   string
		d      clientDest
		remote string
		onDisk string
	}{
		{"zerossh serve", srv.dest(), f.name, filepath.Join(srv.Root, f.name)},
		{"OpenSSH sshd", sshdDest(t, sshd, key), filepath.Join(sshdDir, f.name), filepath.Join(sshdDir, f.name)},
	} {
		setup := runSFTP(t, peer.d, "pwd\n")
		if setup.code != 0 {
			t.Fatalf("%s: sftp pwd: %v", peer.name, setup)
		}
		up := runSFTP(t, peer.d, fmt.Sprintf("put %s %s\n", f.path, peer.remote), "-v")
		if up.code != 0 {
			t.Fatalf("%s: sftp put: %v", peer.name, up)
		}
		checkSame(t, peer.name+" upload", peer.onDisk, f)
		local := filepath.Join(t.TempDir(), f.name)
		down := runSFTP(t, peer.d, fmt.Sprintf("get %s %s\n", peer.remote, local), "-v")
		if down.code != 0 {
			t.Fatalf("%s: sftp get: %v", peer.name, down)
		}
		checkSame(t, peer.name+" download", local, f)
		_, _, cs, sc, _, _ := peertest.NegotiatedFromLog(up.stderr)
		t.Logf("sftp %d MiB against %s: upload %.1f MB/s (%v), download %.1f MB/s (%v), session without transfer %v, cipher %s / %s",
			f.size/MiB, peer.name, mbps(f.size, up.elapsed), up.elapsed.Round(time.Millisecond),
			mbps(f.size, down.elapsed), down.elapsed.Round(time.Millisecond), setup.elapsed.Round(time.Millisecond), cs, sc)
		os.Remove(peer.onDisk)
		os.Remove(local)
	}
}

// TestOpenSSHServeShutdownOpenSession sends SIGTERM to a server with an idle SFTP session
// open: the server must close it when the grace period ends and exit 0.
func TestOpenSSHServeShutdownOpenSession(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName)
	const grace = 2 * time.Second
	srv := startServe(t, serveOptions{Args: []string{"-grace", grace.String()}})
	d := srv.dest()
	// sftp reads its batch from a pipe that stays open: the session idles after "pwd".
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdinW.Close(); stdinR.Close() })
	stdinW.WriteString("pwd\n")
	bg := startBackground(t, stdinR, peertest.SFTPName, sftpArgs(d)...)
	stdinR.Close()
	if !waitFor(10*time.Second, func() bool { return strings.Contains(bg.out.String(), "Remote working directory") }) {
		t.Fatalf("sftp session did not start:\n%s", bg.out)
	}
	start := time.Now()
	srv.signal(t, syscall.SIGTERM)
	code, exited := srv.wait(grace + 5*time.Second)
	if !exited {
		t.Fatalf("server still running %v after SIGTERM with -grace %v and an idle session", time.Since(start).Round(time.Millisecond), grace)
	}
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM; want 0\n%s", code, srv.Log())
	}
	t.Logf("exited %v after SIGTERM with an idle session and -grace %v", time.Since(start).Round(time.Millisecond), grace)
	stdinW.Close()
	select {
	case <-bg.done:
	case <-time.After(10 * time.Second):
		t.Errorf("sftp still running 10 s after the server exited")
	}
}

// TestOpenSSHServeShutdownDuringUpload sends SIGTERM while OpenSSH's sftp uploads: an upload
// that ends within the grace period completes and is published, one that does not is cut
// when the period ends and leaves neither the final name nor a temporary file.
func TestOpenSSHServeShutdownDuringUpload(t *testing.T) {
	peertest.RequireOpenSSH(t, peertest.SFTPName, peertest.SSHName)
	for _, tc := range []struct {
		name     string
		f        testFile
		limit    string // sftp -l, Kbit/s
		grace    time.Duration
		finishes bool
	}{
		// 1 MiB at 4000 Kbit/s: about 2 s, within a 10 s grace period.
		{"within grace", fileBySize(t, MiB), "4000", 10 * time.Second, true},
		// 256 MiB at 80000 Kbit/s: about 27 s, far beyond a 1 s grace period.
		{"beyond grace", fileBySize(t, 256*MiB), "80000", time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServe(t, serveOptions{Args: []string{"-grace", tc.grace.String()}})
			bg := startBackground(t, strings.NewReader("put "+tc.f.path+" up.bin\n"),
				peertest.SFTPName, sftpArgs(srv.dest(), "-l", tc.limit)...)
			if !waitFor(20*time.Second, func() bool { return len(uploadTemps(t, srv.Root)) > 0 }) {
				t.Fatalf("no temporary upload file appeared; root holds %q\nsftp: %s", dirNames(t, srv.Root), bg.out)
			}
			start := time.Now()
			srv.signal(t, syscall.SIGTERM)
			code, exited := srv.wait(tc.grace + 5*time.Second)
			if !exited {
				t.Fatalf("server still running %v after SIGTERM with -grace %v", time.Since(start).Round(time.Millisecond), tc.grace)
			}
			t.Logf("server exited %v after SIGTERM, exit code %d", time.Since(start).Round(time.Millisecond), code)
			if code != 0 {
				t.Errorf("exit code %d; want 0", code)
			}
			select {
			case <-bg.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("sftp still running 10 s after the server exited:\n%s", bg.out)
			}
			final := filepath.Join(srv.Root, "up.bin")
			if tc.finishes {
				if bg.err != nil {
					t.Errorf("sftp put during the grace period: %v\n%s", bg.err, bg.out)
				}
				checkSame(t, "upload finished during the grace period", final, tc.f)
			} else if _, err := os.Lstat(final); !os.IsNotExist(err) {
				t.Errorf("an upload cut at the end of the grace period exists under its final name (%v)", err)
			}
			if temps := uploadTemps(t, srv.Root); len(temps) > 0 {
				t.Errorf("temporary files left after the server exited: %q", temps)
			}
		})
	}
}
