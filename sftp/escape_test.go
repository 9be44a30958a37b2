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

// escapeFixture lays out base/outside (with a secret) and base/root (served),
// with symbolic links inside the root that point outside it.
func escapeFixture(t *testing.T) (base, root string) {
	t.Helper()
	base = t.TempDir()
	root = filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	must(os.WriteFile(filepath.Join(root, "file"), []byte("inside"), 0o644))
	must(os.Symlink(outside, filepath.Join(root, "outdir")))                           // absolute, to a directory
	must(os.Symlink("../outside", filepath.Join(root, "outrel")))                      // relative, to a directory
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "outfile"))) // absolute, to a file
	must(os.Symlink("../../outside/secret", filepath.Join(root, "sub", "up")))         // relative, through ".."
	must(os.Symlink("/etc/passwd", filepath.Join(root, "passwd")))                     // absolute, to the system
	return base, root
}

// checkOutside fails if anything outside the root changed.
func checkOutside(t *testing.T, base string) {
	t.Helper()
	if got := dirNames(t, base); !slices.Equal(got, []string{"outside", "root"}) {
		t.Errorf("base directory holds %v; want [outside root]", got)
	}
	if got := dirNames(t, filepath.Join(base, "outside")); !slices.Equal(got, []string{"secret"}) {
		t.Errorf("outside directory holds %v; want [secret]", got)
	}
	if b, err := os.ReadFile(filepath.Join(base, "outside", "secret")); err != nil || string(b) != "secret" {
		t.Errorf("outside/secret = %q, %v; want it untouched", b, err)
	}
	fi, err := os.Stat(filepath.Join(base, "outside", "secret"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("outside/secret mode = %v, %v; want it untouched", fi, err)
	}
}

// TestServerEscapeSymlinks refuses every operation through a symbolic link that
// leaves the root, with SSH_FX_PERMISSION_DENIED.
func TestServerEscapeSymlinks(t *testing.T) {
	base, root := escapeFixture(t)
	c, _ := newClient(t, ServerOptions{Root: root})
	ctx := context.Background()
	local := filepath.Join(t.TempDir(), "local")
	os.WriteFile(local, []byte("payload"), 0o644)

	ops := map[string]func(p string) error{
		"Open":        func(p string) error { _, err := c.Open(p); return err },
		"Create":      func(p string) error { _, err := c.Create(p); return err },
		"OpenAppend":  func(p string) error { _, err := c.OpenFile(p, os.O_WRONLY|os.O_APPEND); return err },
		"Stat":        func(p string) error { _, err := c.Stat(p); return err },
		"ReadDir":     func(p string) error { _, err := c.ReadDir(p); return err },
		"ReadLink":    func(p string) error { _, err := c.ReadLink(p); return err },
		"Chmod":       func(p string) error { return c.Chmod(p, 0o600) },
		"Truncate":    func(p string) error { return c.Truncate(p, 0) },
		"Chtimes":     func(p string) error { return c.Chtimes(p, testTime, testTime) },
		"Get":         func(p string) error { return c.Get(ctx, p, filepath.Join(t.TempDir(), "x"), nil) },
		"Put":         func(p string) error { return c.Put(ctx, local, p, nil) },
		"RenameFrom":  func(p string) error { return c.Rename(p, "/stolen") },
		"PosixRename": func(p string) error { return c.PosixRename(p, "/stolen") },
		"Link":        func(p string) error { return c.Link(p, "/stolen") },
	}
	paths := []string{"/outfile", "outdir/secret", "/outrel/secret", "/sub/up", "/passwd"}
	for name, op := range ops {
		for _, p := range paths {
			if name == "ReadLink" && strings.Contains(p, "secret") {
				continue // a link's target can be read when the link's own path stays inside
			}
			if name == "RenameFrom" || name == "PosixRename" || name == "Link" {
				if !strings.Contains(p, "/secret") {
					continue // renaming or linking the link itself is allowed; going through it is not
				}
			}
			if err := op(p); !errors.Is(err, os.ErrPermission) {
				t.Errorf("%s(%s) = %v; want os.ErrPermission", name, p, err)
			}
		}
	}

	// Writes and renames into a directory through an escaping link.
	into := map[string]func() error{
		"Mkdir":        func() error { return c.Mkdir("/outdir/new") },
		"Create":       func() error { _, err := c.Create("/outrel/new"); return err },
		"Rename into":  func() error { return c.Rename("/file", "/outdir/file") },
		"Posix into":   func() error { return c.PosixRename("/file", "/outrel/file") },
		"Remove":       func() error { return c.Remove("/outdir/secret") },
		"Symlink into": func() error { return c.Symlink("x", "/outdir/l") },
		"ReadDir":      func() error { _, err := c.ReadDir("/outrel"); return err },
		"Stat dir":     func() error { _, err := c.Stat("/outdir"); return err },
	}
	for name, fn := range into {
		if err := fn(); !errors.Is(err, os.ErrPermission) {
			t.Errorf("%s = %v; want os.ErrPermission", name, err)
		}
	}

	// New symbolic links may not point outside.
	for _, target := range []string{"..", "../outside/secret", "sub/../../outside", "../../../../etc/passwd"} {
		if err := c.Symlink(target, "/newlink"); !errors.Is(err, os.ErrPermission) {
			t.Errorf("Symlink(%q) = %v; want os.ErrPermission", target, err)
		}
	}
	// An absolute target is a client path: it stays in the root.
	if err := c.Symlink("/../../etc/passwd", "/sub/abs"); err != nil {
		t.Fatalf("Symlink to an absolute client path: %v", err)
	}
	if got, _ := os.Readlink(filepath.Join(root, "sub", "abs")); got != "../etc/passwd" {
		t.Fatalf("stored target %q; want ../etc/passwd (Root/etc/passwd)", got)
	}
	if _, err := c.Open("/sub/abs"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open through the new link = %v; want os.ErrNotExist (Root/etc/passwd)", err)
	}

	// The links themselves are visible.
	if fi, err := c.Lstat("/outfile"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Lstat(/outfile) = %v, %v; want the link", fi, err)
	}
	entries, err := c.ReadDir("/")
	if err != nil || len(entries) != 6 {
		t.Errorf("ReadDir(/) = %d entries, %v; want 6", len(entries), err)
	}
	checkOutside(t, base)
}

// TestServerEscapeDotDot keeps "..", absolute and odd paths inside the root.
func TestServerEscapeDotDot(t *testing.T) {
	base, root := escapeFixture(t)
	os.Mkdir(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root's own passwd"), 0o644)
	c, _ := newClient(t, ServerOptions{Root: root})

	for _, p := range []string{"/../../etc/passwd", "../etc/passwd", "/etc/passwd", "etc/../../../etc/passwd", "//etc//passwd", "./../etc/./passwd"} {
		f, err := c.Open(p)
		if err != nil {
			t.Errorf("Open(%q): %v", p, err)
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "root's own passwd" {
			t.Errorf("Open(%q) read %q; want Root/etc/passwd", p, b)
		}
	}
	for _, p := range []string{"../outside/secret", "/../outside/secret", "/../../../outside/secret"} {
		if _, err := c.Open(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open(%q) = %v; want os.ErrNotExist (Root/outside/secret)", p, err)
		}
	}

	// Writes with ".." land inside.
	for _, p := range []string{"../x", "/../../y"} {
		f, err := c.Create(p)
		if err != nil {
			t.Fatalf("Create(%q): %v", p, err)
		}
		f.Write([]byte("z"))
		if err := f.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := c.Mkdir("../../newdir"); err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	// A rename to "../outside" is a rename to Root/outside.
	if err := c.Rename("/file", "../outside"); err != nil {
		t.Fatalf("Rename to ../outside: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "outside")); err != nil || !bytes.Equal(b, []byte("inside")) {
		t.Fatalf("Root/outside = %q, %v; want the renamed file", b, err)
	}
	// Root/outside is a file now, so this fails; either way nothing outside changes.
	c.PosixRename("/x", "/../../../outside/secret")
	for _, name := range []string{"x", "y", "newdir"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("Root/%s: %v", name, err)
		}
	}
	checkOutside(t, base)
}
