package sftp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pkg/sftp"
)

// TestClientGetPut round-trips files of several sizes through Client.Put and
// Client.Get.
func TestClientGetPut(t *testing.T) {
	root, local := t.TempDir(), t.TempDir()
	c, _ := newClient(t, ServerOptions{Root: root})
	ctx := context.Background()
	for i, tc := range transferSizes {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.size > 1<<20 {
				t.Skip("large file in -short mode")
			}
			data := randomBytes(tc.size, uint64(100+i))
			src := filepath.Join(local, "src-"+tc.name)
			if err := os.WriteFile(src, data, 0o644); err != nil {
				t.Fatal(err)
			}
			want := sum(data)

			var last int64
			progress := func(n int64) {
				if n < last {
					t.Errorf("progress went back from %d to %d", last, n)
				}
				last = n
			}
			remote := "/put-" + tc.name
			if err := c.Put(ctx, src, remote, progress); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if last != int64(tc.size) {
				t.Errorf("Put progress ended at %d; want %d", last, tc.size)
			}
			if got := fileSum(t, filepath.Join(root, remote)); got != want {
				t.Fatalf("uploaded file: sha256 %x; want %x", got, want)
			}

			last = 0
			dst := filepath.Join(local, "dst-"+tc.name)
			if err := c.Get(ctx, remote, dst, progress); err != nil {
				t.Fatalf("Get: %v", err)
			}
			if last != int64(tc.size) {
				t.Errorf("Get progress ended at %d; want %d", last, tc.size)
			}
			if got := fileSum(t, dst); got != want {
				t.Fatalf("downloaded file: sha256 %x; want %x", got, want)
			}
		})
	}
	// No temporary names are left on either side.
	for _, dir := range []string{root, local} {
		for _, name := range dirNames(t, dir) {
			if name[0] == '.' {
				t.Errorf("%s holds %s", dir, name)
			}
		}
	}
}

// TestClientGetCancel stops a download when its context ends and leaves no
// local file.
func TestClientGetCancel(t *testing.T) {
	root, local := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(root, "big"), randomBytes(8<<20, 7), 0o644)
	c, _ := newClient(t, ServerOptions{Root: root})

	ctx, cancel := context.WithCancel(context.Background())
	err := c.Get(ctx, "/big", filepath.Join(local, "big"), func(int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v; want context.Canceled", err)
	}
	if got := dirNames(t, local); len(got) != 0 {
		t.Fatalf("local directory holds %v after a cancelled Get", got)
	}
	if err := c.Get(context.Background(), "/missing", filepath.Join(local, "m"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get of a missing file = %v; want os.ErrNotExist", err)
	}
	if got := dirNames(t, local); len(got) != 0 {
		t.Fatalf("local directory holds %v after a failed Get", got)
	}
	// The session is still usable.
	if err := c.Get(context.Background(), "/big", filepath.Join(local, "big"), nil); err != nil {
		t.Fatalf("Get after a cancelled Get: %v", err)
	}
}

// TestClientPutCancel stops an upload when its context ends: the remote name
// keeps its previous content and no temporary name is left.
func TestClientPutCancel(t *testing.T) {
	root, local := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(root, "big"), []byte("previous"), 0o644)
	src := filepath.Join(local, "big")
	os.WriteFile(src, randomBytes(8<<20, 8), 0o644)
	c, s := newClient(t, ServerOptions{Root: root})

	ctx, cancel := context.WithCancel(context.Background())
	err := c.Put(ctx, src, "/big", func(int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v; want context.Canceled", err)
	}
	if got := dirNames(t, root); !slices.Equal(got, []string{"big"}) {
		t.Fatalf("root holds %v after a cancelled Put; want [big]", got)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "big")); string(got) != "previous" {
		t.Fatalf("big = %q after a cancelled Put; want previous", got)
	}
	if err := c.Put(context.Background(), filepath.Join(local, "missing"), "/x", nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Put of a missing local file = %v; want os.ErrNotExist", err)
	}
	if err := c.Put(context.Background(), src, "/big", nil); err != nil {
		t.Fatalf("Put after a cancelled Put: %v", err)
	}
	if got, want := fileSum(t, filepath.Join(root, "big")), fileSum(t, src); got != want {
		t.Fatal("big differs from the local file after Put")
	}
	c.Close()
	s.wait(t)
}

// TestClientPutWithoutPosixRename writes the final name directly on a server
// that does not offer posix-rename@openssh.com.
func TestClientPutWithoutPosixRename(t *testing.T) {
	if err := sftp.SetSFTPExtensions("hardlink@openssh.com", "statvfs@openssh.com"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sftp.SetSFTPExtensions("hardlink@openssh.com", "posix-rename@openssh.com", "statvfs@openssh.com")
	})
	root, local := t.TempDir(), t.TempDir()
	c, _ := newClient(t, ServerOptions{Root: root})
	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
		t.Fatal("server still offers posix-rename@openssh.com")
	}
	data := randomBytes(100000, 9)
	src := filepath.Join(local, "f")
	os.WriteFile(src, data, 0o644)
	if err := c.Put(context.Background(), src, "/f", nil); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got := fileSum(t, filepath.Join(root, "f")); got != sum(data) {
		t.Fatal("uploaded file differs")
	}
}
