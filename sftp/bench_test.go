package sftp

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
)

// benchRoot returns a served directory in memory when the system has /dev/shm,
// so that the benchmark measures SFTP and not the disk (uploads end with fsync).
func benchRoot(b *testing.B) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "zerossh-sftp-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return b.TempDir()
}

// BenchmarkSFTPPipe moves 64 MiB through pkg/sftp's client and Serve over an
// in-memory pipe, with SSH_FXP_READ and SSH_FXP_WRITE payloads of 32 KiB (what
// every server accepts) up to 255 KiB (within OpenSSH's 256 KiB packet limit),
// 64 requests in flight.
func BenchmarkSFTPPipe(b *testing.B) {
	const size = 64 << 20
	data := randomBytes(size, 42)
	packets := []int{32 << 10, 64 << 10, 128 << 10, 255 << 10}

	b.Run("upload", func(b *testing.B) {
		for _, packet := range packets {
			b.Run(fmt.Sprintf("%dKiB", packet>>10), func(b *testing.B) {
				c, _ := newClient(b, ServerOptions{Root: benchRoot(b), Logger: discardLogger}, sftp.MaxPacketUnchecked(packet))
				b.ReportAllocs()
				b.SetBytes(size)
				for b.Loop() {
					f, err := c.Create("/up")
					if err != nil {
						b.Fatal(err)
					}
					if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
						b.Fatal(err)
					}
					if err := f.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})

	b.Run("download", func(b *testing.B) {
		for _, packet := range packets {
			b.Run(fmt.Sprintf("%dKiB", packet>>10), func(b *testing.B) {
				root := benchRoot(b)
				if err := os.WriteFile(filepath.Join(root, "down"), data, 0o644); err != nil {
					b.Fatal(err)
				}
				c, _ := newClient(b, ServerOptions{Root: root, Logger: discardLogger}, sftp.MaxPacketUnchecked(packet))
				b.ReportAllocs()
				b.SetBytes(size)
				for b.Loop() {
					f, err := c.Open("/down")
					if err != nil {
						b.Fatal(err)
					}
					n, err := f.WriteTo(io.Discard)
					if err != nil || n != size {
						b.Fatalf("WriteTo = %d, %v", n, err)
					}
					f.Close()
				}
			})
		}
	})
}
