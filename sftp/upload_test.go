package sftp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestServerUploadCut cuts a connection in the middle of two uploads: neither
// final name changes, the temporary files go away, and other sessions, running
// and new, are served throughout.
func TestServerUploadCut(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "old"), []byte("previous"), 0o644)

	a, sa := newClient(t, ServerOptions{Root: root})
	b, _ := newClient(t, ServerOptions{Root: root})

	data := randomBytes(1<<20, 1)
	fnew, err := a.Create("/new")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := fnew.Write(data[:len(data)/2]); err != nil {
		t.Fatalf("Write: %v", err)
	}
	fold, err := a.OpenFile("/old", os.O_WRONLY|os.O_TRUNC)
	if err != nil {
		t.Fatalf("OpenFile(O_TRUNC): %v", err)
	}
	if _, err := fold.Write(data[:1000]); err != nil {
		t.Fatalf("Write: %v", err)
	}

	// While the uploads run, other sessions see nothing under the final names.
	if _, err := b.Stat("/new"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stat(/new) from another session = %v; want os.ErrNotExist", err)
	}
	if got := readRemote(t, b, "/old"); got != "previous" {
		t.Fatalf("/old from another session = %q; want previous", got)
	}
	// The uploading session sees its uploads through its handles.
	if fi, err := fnew.Stat(); err != nil || fi.Size() != int64(len(data)/2) {
		t.Fatalf("Fstat of the pending upload = %v, %v; want size %d", fi, err, len(data)/2)
	}

	// The data sits under temporary names until SSH_FXP_CLOSE.
	names := dirNames(t, root)
	if len(names) != 3 || !strings.HasPrefix(names[0], ".new.zerossh-upload-") || !strings.HasPrefix(names[1], ".old.zerossh-upload-") {
		t.Fatalf("root holds %v during the uploads; want two temporary files and old", names)
	}

	sa.conn.Close() // the connection drops; no SSH_FXP_CLOSE is sent
	if err := sa.wait(t); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Serve after a cut with open handles = %v; want io.ErrUnexpectedEOF", err)
	}

	if got := dirNames(t, root); !slices.Equal(got, []string{"old"}) {
		t.Fatalf("root holds %v after the cut; want [old]", got)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "old")); string(got) != "previous" {
		t.Fatalf("old = %q after the cut; want previous", got)
	}
	logs := sa.log.transfers(t)
	if len(logs) != 2 {
		t.Fatalf("%d transfer log lines; want 2", len(logs))
	}
	for _, m := range logs {
		if m["outcome"] != "aborted" || m["direction"] != "upload" || m["bytes"].(float64) == 0 {
			t.Errorf("log line %v; want an aborted upload with its bytes", m)
		}
	}

	// The other session goes on, and a new one starts.
	c, _ := newClient(t, ServerOptions{Root: root})
	for i, cl := range []*Client{b, c} {
		name := "/after" + string(rune('0'+i))
		putBytes(t, cl, name, data)
		if got := readRemote(t, cl, name); got != string(data) {
			t.Fatalf("session %d: read back %d bytes; want %d", i, len(got), len(data))
		}
	}
}

// TestServerUploadClose publishes an upload on SSH_FXP_CLOSE, with attributes
// set through the handle while it was pending.
func TestServerUploadClose(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), []byte("previous"), 0o640)
	c, _ := newClient(t, ServerOptions{Root: root})

	f, err := c.Create("/f")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new content"))
	if fi, err := os.Stat(filepath.Join(root, "f")); err != nil || fi.Size() != 8 {
		t.Fatalf("final name before close: %v, %v; want the previous file", fi, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "f")); string(got) != "new content" {
		t.Fatalf("f = %q; want new content", got)
	}
	if fi, _ := os.Stat(filepath.Join(root, "f")); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode = %v; want the replaced file's 0640", fi.Mode())
	}

	g, err := c.Create("/g")
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("0123456789"))
	if err := g.Chmod(0o600); err != nil {
		t.Fatalf("Chmod of a pending upload: %v", err)
	}
	if err := g.Truncate(4); err != nil {
		t.Fatalf("Truncate of a pending upload: %v", err)
	}
	if err := c.Chtimes("/g", testTime, testTime); err != nil {
		t.Fatalf("Chtimes of a pending upload: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	fi, err := os.Stat(filepath.Join(root, "g"))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 4 || !fi.ModTime().Equal(testTime) {
		t.Fatalf("g = %v, %v; want mode 0600, size 4, mtime %v", fi, err, testTime)
	}
	if got := dirNames(t, root); !slices.Equal(got, []string{"f", "g"}) {
		t.Fatalf("root holds %v; want [f g]", got)
	}
}

// TestServerUploadExcl publishes an SSH_FXF_EXCL upload only if the name is free
// when it closes.
func TestServerUploadExcl(t *testing.T) {
	root := t.TempDir()
	c, _ := newClient(t, ServerOptions{Root: root})

	f, err := c.OpenFile("/x", os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("mine"))
	os.WriteFile(filepath.Join(root, "x"), []byte("theirs"), 0o644)
	if err := f.Close(); err == nil {
		t.Fatal("Close of an exclusive upload over a new file succeeded")
	}
	if got, _ := os.ReadFile(filepath.Join(root, "x")); string(got) != "theirs" {
		t.Fatalf("x = %q; want theirs", got)
	}
	if got := dirNames(t, root); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("root holds %v; want [x]", got)
	}

	f, err = c.OpenFile("/y", os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("mine"))
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "y")); string(got) != "mine" {
		t.Fatalf("y = %q; want mine", got)
	}
}

// TestServerUploadDirRenamed follows an upload's directory when it is renamed
// while the upload runs, both when the upload completes and when it is cut.
func TestServerUploadDirRenamed(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "d"), 0o755)
	c, s := newClient(t, ServerOptions{Root: root})

	done, err := c.Create("/d/done")
	if err != nil {
		t.Fatal(err)
	}
	cut, err := c.Create("/d/cut")
	if err != nil {
		t.Fatal(err)
	}
	done.Write([]byte("done"))
	cut.Write([]byte("cut"))
	if err := c.Rename("/d", "/e"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if err := done.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s.conn.Close()
	s.wait(t)
	if got := dirNames(t, filepath.Join(root, "e")); !slices.Equal(got, []string{"done"}) {
		t.Fatalf("e holds %v; want [done]", got)
	}
	if got := dirNames(t, root); !slices.Equal(got, []string{"e"}) {
		t.Fatalf("root holds %v; want [e]", got)
	}
}

// TestServerUploadResume writes an existing file in place when the open does not
// truncate it, so a cut keeps what arrived.
func TestServerUploadResume(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "part"), []byte("abc"), 0o644)
	c, s := newClient(t, ServerOptions{Root: root})

	f, err := c.OpenFile("/part", os.O_WRONLY|os.O_APPEND)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		t.Fatalf("Seek: %v", err)
	}
	if _, err := f.Write([]byte("def")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "part")); string(got) != "abcdef" {
		t.Fatalf("part = %q before close; want abcdef, written in place", got)
	}
	// Read-write opens without truncation update the file in place too.
	rw, err := c.OpenFile("/part", os.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	rw.WriteAt([]byte("X"), 1)
	buf := make([]byte, 6)
	if _, err := rw.ReadAt(buf, 0); err != nil || string(buf) != "aXcdef" {
		t.Fatalf("ReadAt = %q, %v; want aXcdef", buf, err)
	}

	s.conn.Close()
	s.wait(t)
	if got, _ := os.ReadFile(filepath.Join(root, "part")); string(got) != "aXcdef" {
		t.Fatalf("part = %q after the cut; want aXcdef", got)
	}
	if got := dirNames(t, root); !slices.Equal(got, []string{"part"}) {
		t.Fatalf("root holds %v; want [part]", got)
	}
}

// TestServerUploadThroughSymlink writes through a symbolic link inside the root
// instead of replacing it.
func TestServerUploadThroughSymlink(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "releases"), 0o755)
	os.WriteFile(filepath.Join(root, "releases", "v1"), []byte("one"), 0o644)
	os.Symlink("releases/v1", filepath.Join(root, "current"))
	c, _ := newClient(t, ServerOptions{Root: root})

	local := filepath.Join(t.TempDir(), "v2")
	os.WriteFile(local, []byte("two"), 0o644)
	if err := c.Put(context.Background(), local, "/current", nil); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(root, "current")); err != nil || target != "releases/v1" {
		t.Fatalf("current = %q, %v; want the link kept", target, err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "releases", "v1")); string(got) != "two" {
		t.Fatalf("releases/v1 = %q; want two", got)
	}
}

// TestServerHandleLimit refuses handles past maxHandles and frees them on close.
func TestServerHandleLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("opens many files")
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), nil, 0o644)
	c, _ := newClient(t, ServerOptions{Root: root})
	var files []io.Closer
	for range maxHandles {
		f, err := c.Open("/f")
		if err != nil {
			t.Fatalf("Open #%d: %v", len(files), err)
		}
		files = append(files, f)
	}
	if _, err := c.Open("/f"); err == nil || !strings.Contains(err.Error(), "too many open handles") {
		t.Fatalf("Open past the limit = %v; want too many open handles", err)
	}
	if _, err := c.ReadDir("/"); err == nil {
		t.Fatal("ReadDir past the limit succeeded")
	}
	for _, f := range files {
		f.Close()
	}
	if _, err := c.ReadDir("/"); err != nil {
		t.Fatalf("ReadDir after closing: %v", err)
	}
}

func readRemote(t testing.TB, c *Client, name string) string {
	t.Helper()
	f, err := c.Open(name)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo(%s): %v", name, err)
	}
	return buf.String()
}

func putBytes(t testing.TB, c *Client, name string, data []byte) {
	t.Helper()
	f, err := c.Create(name)
	if err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		t.Fatalf("ReadFrom(%s): %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close(%s): %v", name, err)
	}
}
