package sftp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/pkg/sftp"
)

// DefaultMaxPacket is the SSH_FXP_READ and SSH_FXP_WRITE payload [NewClient]
// uses. Every SFTP server accepts 32 KiB (OpenSSH's sftp client uses it too);
// BenchmarkSFTPPipe compares it with larger payloads up to OpenSSH's 256 KiB
// packet limit.
const DefaultMaxPacket = 32 * 1024

// DefaultConcurrency is the number of SSH_FXP_READ or SSH_FXP_WRITE requests
// [NewClient] keeps in flight per file.
const DefaultConcurrency = 64

// Client is an SFTP client: pkg/sftp's client with whole-file transfers.
type Client struct {
	*sftp.Client
}

// NewClient starts an SFTP session over rwc, a channel carrying the "sftp"
// subsystem. Pipelined reads and writes are on, with [DefaultConcurrency]
// requests of [DefaultMaxPacket] bytes in flight per file; opts are applied
// after these defaults and may override them. Close closes rwc.
func NewClient(rwc io.ReadWriteCloser, opts ...sftp.ClientOption) (*Client, error) {
	all := append([]sftp.ClientOption{
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(DefaultConcurrency),
		sftp.MaxPacketChecked(DefaultMaxPacket),
	}, opts...)
	c, err := sftp.NewClientPipe(rwc, joinWrites(rwc), all...)
	if err != nil {
		return nil, err
	}
	return &Client{c}, nil
}

// Get copies the remote file to the local path. It writes a temporary file in
// local's directory (mode 0666 less the umask), flushes it with fsync and renames
// it over local once the whole file arrived; on any error, including ctx's end,
// it removes the temporary file and leaves local untouched. progress, if not nil,
// is called with the bytes written so far.
//
// Cancellation is noticed between data packets. A server that stops answering
// holds Get until the connection is closed.
func (c *Client) Get(ctx context.Context, remote, local string, progress func(n int64)) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	src, err := c.Open(remote)
	if err != nil {
		return err
	}
	defer src.Close()

	dst, tmp, err := createTemp(local)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()

	if _, err = src.WriteTo(&progressWriter{ctx: ctx, w: dst, progress: progress}); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	if err = dst.Sync(); err != nil {
		return err
	}
	if err = dst.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, local)
}

// Put copies the local file to the remote path.
//
// When the server offers posix-rename@openssh.com, Put writes a temporary name
// in remote's directory (".NAME.zerossh-put-RANDOM"), gives it the mode of the
// file it replaces, and renames it over remote once the whole file is written; on
// any error, including ctx's end, it removes the temporary name and remote is
// untouched. Without that extension, or when remote is a symbolic link (which is
// written through, not replaced), Put writes remote directly and a failed
// transfer leaves a partial file there, as OpenSSH's sftp does. ([Serve]
// publishes uploads atomically by itself; the temporary name keeps that promise
// with other servers, and lets a failed transfer be discarded instead of
// published by the SSH_FXP_CLOSE that releases its handle.)
//
// progress, if not nil, is called with the bytes read from local so far, which
// runs up to a window of pipelined requests ahead of what the server confirmed.
// Cancellation is noticed between data packets.
func (c *Client) Put(ctx context.Context, local, remote string, progress func(n int64)) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	src, err := os.Open(local)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}

	// A symbolic link is written through, as OpenSSH's sftp does, not replaced.
	old, err := c.Lstat(remote)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	_, atomic := c.HasExtension("posix-rename@openssh.com")
	if old != nil && old.Mode()&os.ModeSymlink != 0 {
		atomic = false
	}
	target := remote
	if atomic {
		target = remoteTempName(remote)
	}
	dst, err := c.Create(target)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			dst.Close()
		}
		if err != nil && atomic {
			c.Remove(target)
		}
	}()

	r := &progressReader{ctx: ctx, r: src, size: fi.Size(), progress: progress}
	if _, err = dst.ReadFrom(r); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	if atomic && old != nil && old.Mode().IsRegular() {
		if err = dst.Chmod(old.Mode().Perm()); err != nil {
			return err
		}
	}
	closed = true
	if err = dst.Close(); err != nil {
		return err
	}
	if atomic {
		return c.PosixRename(target, remote)
	}
	return nil
}

// createTemp creates a fresh file beside name.
func createTemp(name string) (*os.File, string, error) {
	dir, base := filepath.Split(name)
	for range 16 {
		tmp := filepath.Join(dir, "."+base+".zerossh-get-"+randomSuffix())
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, os.ErrExist) {
			return f, tmp, err
		}
	}
	return nil, "", os.ErrExist
}

func remoteTempName(name string) string {
	dir, base := path.Split(name)
	return dir + "." + base + ".zerossh-put-" + randomSuffix()
}

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// progressWriter counts bytes for Get and stops the transfer when ctx ends.
// pkg/sftp's File.WriteTo writes from one goroutine, in order.
type progressWriter struct {
	ctx      context.Context
	w        io.Writer
	n        int64
	progress func(int64)
}

func (w *progressWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	if w.progress != nil && n > 0 {
		w.progress(w.n)
	}
	return n, err
}

// progressReader counts bytes for Put and stops the transfer when ctx ends.
// Size lets pkg/sftp's File.ReadFrom choose how many writes to pipeline.
type progressReader struct {
	ctx      context.Context
	r        io.Reader
	size     int64
	n        int64
	progress func(int64)
}

func (r *progressReader) Size() int64 { return r.size }

func (r *progressReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	if r.progress != nil && n > 0 {
		r.progress(r.n)
	}
	return n, err
}
