package sftp

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
)

// logBuffer collects JSON log lines from the server.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// transfers returns the "sftp transfer" records logged so far.
func (b *logBuffer) transfers(t testing.TB) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "sftp transfer" {
			out = append(out, m)
		}
	}
	return out
}

// session is one Serve running over an in-memory pipe.
type session struct {
	conn net.Conn // the client's end
	done chan error
	log  *logBuffer
}

// startSession runs Serve on one end of a net.Pipe and returns the other end.
// Cleanup closes the pipe and waits for Serve to return.
func startSession(t testing.TB, opts ServerOptions) *session {
	t.Helper()
	cli, srv := net.Pipe()
	s := &session{conn: cli, done: make(chan error, 1), log: &logBuffer{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(s.log, nil))
	}
	go func() { s.done <- Serve(srv, &opts) }()
	t.Cleanup(func() {
		cli.Close()
		s.wait(t)
	})
	return s
}

// wait waits for Serve to return and returns its error.
func (s *session) wait(t testing.TB) error {
	t.Helper()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
			s.done = make(chan error, 1)
			s.done <- err
			return err
		}
		return nil
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// newClient starts a session on root and connects a Client to it.
func newClient(t testing.TB, opts ServerOptions, copts ...sftp.ClientOption) (*Client, *session) {
	t.Helper()
	s := startSession(t, opts)
	c, err := NewClient(s.conn, copts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, s
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

func sum(b []byte) [32]byte { return sha256.Sum256(b) }

func fileSum(t testing.TB, name string) [32]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// dirNames lists a directory on disk, sorted.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

var testTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

var transferSizes = []struct {
	name string
	size int
}{
	{"0B", 0},
	{"1B", 1},
	{"1MiB", 1 << 20},
	{"64MiB", 64 << 20},
}

// TestServerTransfer moves files of several sizes with pkg/sftp's client calls:
// Create and File.ReadFrom up, Open and File.WriteTo down.
func TestServerTransfer(t *testing.T) {
	root := t.TempDir()
	c, s := newClient(t, ServerOptions{Root: root, User: "alice", RemoteAddr: "pipe"})
	for i, tc := range transferSizes {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.size > 1<<20 {
				t.Skip("large file in -short mode")
			}
			data := randomBytes(tc.size, uint64(i))
			name := "/raw-" + tc.name

			f, err := c.Create(name)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if n, err := f.ReadFrom(bytes.NewReader(data)); err != nil || n != int64(len(data)) {
				t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, len(data))
			}
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got, want := fileSum(t, filepath.Join(root, name)), sum(data); got != want {
				t.Fatalf("file on disk: sha256 %x; want %x", got, want)
			}

			f, err = c.Open(name)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			h := sha256.New()
			if n, err := f.WriteTo(h); err != nil || n != int64(len(data)) {
				t.Fatalf("WriteTo = %d, %v; want %d, nil", n, err, len(data))
			}
			f.Close()
			if got, want := [32]byte(h.Sum(nil)), sum(data); got != want {
				t.Fatalf("download: sha256 %x; want %x", got, want)
			}
		})
	}
	c.Close()
	if err := s.wait(t); err != nil {
		t.Fatalf("Serve = %v; want nil after a clean close", err)
	}
	// Two transfers per size, each logged once, with the bytes it moved.
	logs := s.log.transfers(t)
	want := 0
	for _, tc := range transferSizes {
		if !testing.Short() || tc.size <= 1<<20 {
			want += 2
		}
	}
	if len(logs) != want {
		t.Fatalf("%d transfer log lines; want %d", len(logs), want)
	}
	for _, m := range logs {
		if m["outcome"] != "ok" || m["user"] != "alice" || m["remote_addr"] != "pipe" {
			t.Errorf("log line %v: want outcome ok, user alice, remote_addr pipe", m)
		}
		if d := m["direction"]; d != "upload" && d != "download" {
			t.Errorf("log line %v: direction %v", m, d)
		}
		if _, ok := m["duration"]; !ok {
			t.Errorf("log line %v has no duration", m)
		}
	}
	if !testing.Short() {
		last, size := logs[len(logs)-1], float64(64<<20)
		if last["direction"] != "download" || last["bytes"] != size || last["path"] != "/raw-64MiB" {
			t.Errorf("last log line %v; want the 64 MiB download", last)
		}
	}
}

// TestServerOperations runs the directory and attribute requests.
func TestServerOperations(t *testing.T) {
	root := t.TempDir()
	c, _ := newClient(t, ServerOptions{Root: root})

	if err := c.Mkdir("/d"); err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	if err := c.Mkdir("/d"); err == nil {
		t.Fatal("Mkdir of an existing directory succeeded")
	}
	for _, name := range []string{"d/a", "d/b", "d/c"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Enough entries for several SSH_FXP_READDIR batches.
	os.Mkdir(filepath.Join(root, "d", "many"), 0o755)
	for i := range 250 {
		if err := os.WriteFile(filepath.Join(root, "d", "many", fmt.Sprintf("f%03d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	infos, err := c.ReadDir("/d")
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	sort.Strings(names)
	if want := []string{"a", "b", "c", "many"}; !slices.Equal(names, want) {
		t.Fatalf("ReadDir = %v; want %v", names, want)
	}
	many, err := c.ReadDir("d/many")
	if err != nil || len(many) != 250 {
		t.Fatalf("ReadDir of 250 entries = %d, %v", len(many), err)
	}

	fi, err := c.Stat("/d/a")
	if err != nil || fi.Size() != 3 || !fi.Mode().IsRegular() {
		t.Fatalf("Stat = %v, %v; want a 3-byte regular file", fi, err)
	}
	if fi, err := c.Stat("/"); err != nil || !fi.IsDir() {
		t.Fatalf("Stat(/) = %v, %v; want a directory", fi, err)
	}

	// SSH_FXP_RENAME does not replace; posix-rename@openssh.com does.
	if err := c.Rename("/d/a", "/d/b"); err == nil {
		t.Fatal("Rename over an existing file succeeded")
	}
	if err := c.Rename("/d/a", "/d/a2"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "d/a")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old name still there after Rename: %v", err)
	}
	if err := c.PosixRename("/d/a2", "/d/b"); err != nil {
		t.Fatalf("PosixRename: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "d/b")); string(b) != "d/a" {
		t.Fatalf("d/b = %q after PosixRename; want %q", b, "d/a")
	}
	if err := c.Rename("/d/many", "/e"); err != nil {
		t.Fatalf("Rename of a directory: %v", err)
	}

	// Attributes.
	if err := c.Chmod("/d/b", 0o600|os.ModeSetuid); err != nil {
		t.Fatalf("Chmod: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(root, "d/b")); fi.Mode() != 0o600 {
		t.Fatalf("mode after Chmod = %v; want -rw------- (setuid dropped)", fi.Mode())
	}
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := c.Chtimes("/d/b", mtime, mtime); err != nil {
		t.Fatalf("Chtimes: %v", err)
	}
	if fi, _ := c.Stat("/d/b"); !fi.ModTime().Equal(mtime) {
		t.Fatalf("mtime = %v; want %v", fi.ModTime(), mtime)
	}
	if err := c.Truncate("/d/b", 1); err != nil {
		t.Fatalf("Truncate: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "d/b")); string(b) != "d" {
		t.Fatalf("after Truncate: %q", b)
	}
	fi, _ = os.Stat(filepath.Join(root, "d/b"))
	uid, gid, _ := fileOwner(fi)
	if err := c.Chown("/d/b", int(uid), int(gid)); err != nil {
		t.Fatalf("Chown to the current owner: %v", err)
	}
	if err := c.Chown("/d/b", int(uid)+1, int(gid)); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("Chown to another owner = %v; want permission denied", err)
	}

	// Links.
	if err := c.Symlink("b", "/d/lb"); err != nil {
		t.Fatalf("Symlink: %v", err)
	}
	if err := c.Symlink("/d/c", "/d/lc"); err != nil {
		t.Fatalf("Symlink to an absolute client path: %v", err)
	}
	if target, _ := os.Readlink(filepath.Join(root, "d/lc")); target != "c" {
		t.Fatalf("absolute symlink stored as %q; want %q", target, "c")
	}
	if got, err := c.ReadLink("/d/lb"); err != nil || got != "b" {
		t.Fatalf("ReadLink = %q, %v; want b", got, err)
	}
	os.Symlink(filepath.Join(root, "d", "c"), filepath.Join(root, "abs-inside"))
	if got, err := c.ReadLink("/abs-inside"); err != nil || got != "/d/c" {
		t.Fatalf("ReadLink of an absolute link inside the root = %q, %v; want /d/c", got, err)
	}
	if fi, err := c.Lstat("/d/lb"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("Lstat = %v, %v; want a symlink", fi, err)
	}
	if fi, err := c.Stat("/d/lc"); err != nil || fi.Size() != 3 {
		t.Fatalf("Stat through a symlink = %v, %v", fi, err)
	}
	if err := c.Link("/d/c", "/d/hc"); err != nil {
		t.Fatalf("Link: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "d/hc")); string(b) != "d/c" {
		t.Fatalf("hard link reads %q", b)
	}

	// Removal.
	if err := c.RemoveDirectory("/d"); err == nil {
		t.Fatal("RemoveDirectory of a non-empty directory succeeded")
	}
	if err := c.RemoveDirectory("/d/c"); err == nil {
		t.Fatal("RemoveDirectory of a file succeeded")
	}
	for _, name := range []string{"/d/b", "/d/c", "/d/hc", "/d/lb", "/d/lc"} {
		if err := c.Remove(name); err != nil {
			t.Fatalf("Remove(%s): %v", name, err)
		}
	}
	if err := c.RemoveDirectory("/d"); err != nil {
		t.Fatalf("RemoveDirectory: %v", err)
	}
	if err := c.RemoveDirectory("/"); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("RemoveDirectory(/) = %v; want permission denied", err)
	}

	st, err := c.StatVFS("/")
	if err != nil || st.Bsize == 0 || st.Blocks == 0 {
		t.Fatalf("StatVFS = %+v, %v", st, err)
	}
	if wd, err := c.RealPath("."); err != nil || wd != "/" {
		t.Fatalf("RealPath(.) = %q, %v; want /", wd, err)
	}
}

// TestServerStatusCodes checks the SSH_FXP_STATUS codes a client sees.
func TestServerStatusCodes(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(root, "dir"), 0o755)
	os.WriteFile(filepath.Join(root, "dir", "g"), nil, 0o644)
	c, _ := newClient(t, ServerOptions{Root: root})

	notExist := map[string]func() error{
		"Open":     func() error { _, err := c.Open("/missing"); return err },
		"Stat":     func() error { _, err := c.Stat("/missing"); return err },
		"Lstat":    func() error { _, err := c.Lstat("/missing"); return err },
		"ReadDir":  func() error { _, err := c.ReadDir("/missing"); return err },
		"Remove":   func() error { return c.Remove("/missing") },
		"Rename":   func() error { return c.Rename("/missing", "/x") },
		"Chmod":    func() error { return c.Chmod("/missing", 0o644) },
		"ReadLink": func() error { _, err := c.ReadLink("/missing"); return err },
		"Create":   func() error { _, err := c.Create("/missing-dir/f"); return err },
		"Write":    func() error { _, err := c.OpenFile("/missing", os.O_WRONLY); return err },
	}
	for name, fn := range notExist {
		if err := fn(); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s of a missing file = %v; want os.ErrNotExist", name, err)
		}
	}

	failure := map[string]func() error{
		"Mkdir existing":    func() error { return c.Mkdir("/dir") },
		"Open directory":    func() error { _, err := c.Open("/dir"); return err },
		"Create directory":  func() error { _, err := c.Create("/dir"); return err },
		"Excl existing":     func() error { _, err := c.OpenFile("/f", os.O_WRONLY|os.O_CREATE|os.O_EXCL); return err },
		"Rename existing":   func() error { return c.Rename("/f", "/dir") },
		"Remove directory":  func() error { return c.Remove("/dir") }, // not empty
		"ReadDir of a file": func() error { _, err := c.ReadDir("/f"); return err },
	}
	for name, fn := range failure {
		err := fn()
		var se *sftp.StatusError
		if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxFailure {
			t.Errorf("%s = %v; want SSH_FX_FAILURE", name, err)
		}
		if err != nil && strings.Contains(err.Error(), root) {
			t.Errorf("%s: message %q shows the server's directory", name, err)
		}
	}

	if os.Geteuid() != 0 {
		os.WriteFile(filepath.Join(root, "private"), nil, 0)
		if _, err := c.Open("/private"); !errors.Is(err, os.ErrPermission) {
			t.Errorf("Open of a mode 0 file = %v; want os.ErrPermission", err)
		}
	}
}

// TestServerReadOnly refuses every change with SSH_FX_PERMISSION_DENIED.
func TestServerReadOnly(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), []byte("data"), 0o644)
	os.Mkdir(filepath.Join(root, "dir"), 0o755)
	c, _ := newClient(t, ServerOptions{Root: root, ReadOnly: true})

	refused := map[string]func() error{
		"Create":      func() error { _, err := c.Create("/new"); return err },
		"OpenFile":    func() error { _, err := c.OpenFile("/f", os.O_WRONLY|os.O_APPEND); return err },
		"Mkdir":       func() error { return c.Mkdir("/d") },
		"Remove":      func() error { return c.Remove("/f") },
		"Rmdir":       func() error { return c.RemoveDirectory("/dir") },
		"Rename":      func() error { return c.Rename("/f", "/g") },
		"PosixRename": func() error { return c.PosixRename("/f", "/g") },
		"Chmod":       func() error { return c.Chmod("/f", 0o777) },
		"Symlink":     func() error { return c.Symlink("f", "/l") },
		"Link":        func() error { return c.Link("/f", "/l") },
	}
	for name, fn := range refused {
		if err := fn(); !errors.Is(err, os.ErrPermission) {
			t.Errorf("%s on a read-only server = %v; want os.ErrPermission", name, err)
		}
	}
	if got := dirNames(t, root); !slices.Equal(got, []string{"dir", "f"}) {
		t.Fatalf("root holds %v after refused changes", got)
	}
	f, err := c.Open("/f")
	if err != nil {
		t.Fatalf("Open on a read-only server: %v", err)
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "data" {
		t.Fatalf("read %q, %v", b, err)
	}
	f.Close()
}

// TestServerSpecialFiles refuses FIFOs without blocking the session.
func TestServerSpecialFiles(t *testing.T) {
	root := t.TempDir()
	if err := mkfifo(filepath.Join(root, "fifo")); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	c, _ := newClient(t, ServerOptions{Root: root})
	if _, err := c.Open("/fifo"); err == nil {
		t.Fatal("Open of a FIFO succeeded")
	}
	if _, err := c.OpenFile("/fifo", os.O_WRONLY); err == nil {
		t.Fatal("OpenFile of a FIFO for writing succeeded")
	}
	if _, err := c.Create("/fifo"); err == nil {
		t.Fatal("Create over a FIFO succeeded")
	}
	if fi, err := c.Lstat("/fifo"); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("Lstat(/fifo) = %v, %v", fi, err)
	}
}
