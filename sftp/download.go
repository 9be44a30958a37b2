package sftp

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
)

// Fileread opens a file for SSH_FXP_OPEN with SSH_FXF_READ only.
func (s *server) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	if err := s.acquireHandle(); err != nil {
		return nil, s.fail("open", r.Filepath, err)
	}
	f, err := s.openRegular(rootName(r.Filepath), os.O_RDONLY)
	if err != nil {
		s.releaseHandle()
		return nil, s.fail("open", r.Filepath, err)
	}
	return &downloadFile{s: s, f: f, path: r.Filepath, start: time.Now()}, nil
}

// openRegular opens name with flag and refuses anything but a regular file.
// O_NONBLOCK keeps a FIFO from blocking the open; it has no effect on regular files.
func (s *server) openRegular(name string, flag int) (*os.File, error) {
	f, err := s.root.OpenFile(name, flag|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
		if fi.IsDir() {
			err = errIsDirectory
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// downloadFile is the handle of a file opened for reading.
type downloadFile struct {
	s     *server
	f     *os.File
	path  string
	start time.Time

	n       atomic.Int64
	failed  atomic.Bool
	aborted atomic.Bool

	once sync.Once
}

var (
	_ io.ReaderAt        = (*downloadFile)(nil)
	_ io.Closer          = (*downloadFile)(nil)
	_ sftp.TransferError = (*downloadFile)(nil)
)

// ReadAt answers SSH_FXP_READ.
func (d *downloadFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := d.f.ReadAt(p, off)
	d.n.Add(int64(n))
	if err != nil && err != io.EOF {
		d.failed.Store(true)
		return n, d.s.fail("read", d.path, err)
	}
	return n, err
}

// TransferError records that the session ended with the handle open.
func (d *downloadFile) TransferError(error) { d.aborted.Store(true) }

// Close answers SSH_FXP_CLOSE, or ends the handle with the session.
func (d *downloadFile) Close() error {
	d.once.Do(func() {
		d.f.Close()
		d.s.releaseHandle()
		outcome := outcomeOK
		switch {
		case d.aborted.Load():
			outcome = outcomeAborted
		case d.failed.Load():
			outcome = outcomeFailed
		}
		d.s.logTransfer(d.path, "download", d.n.Load(), time.Since(d.start), outcome, nil)
	})
	return nil
}

const (
	outcomeOK      = "ok"
	outcomeFailed  = "failed"
	outcomeAborted = "aborted"
)

func (s *server) logTransfer(p, direction string, n int64, d time.Duration, outcome string, err error) {
	attrs := []slog.Attr{
		slog.String("path", p),
		slog.String("direction", direction),
		slog.Int64("bytes", n),
		slog.Duration("duration", d),
		slog.String("outcome", outcome),
	}
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		level = slog.LevelWarn
	}
	s.log.LogAttrs(context.Background(), level, "sftp transfer", attrs...)
}
