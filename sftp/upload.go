package sftp

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
)

// Filewrite opens a file for SSH_FXP_OPEN with any of SSH_FXF_WRITE,
// SSH_FXF_APPEND, SSH_FXF_CREAT or SSH_FXF_TRUNC, without SSH_FXF_READ.
func (s *server) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	u, err := s.openUpload(r, false)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// OpenFile opens a file for SSH_FXP_OPEN with SSH_FXF_READ and a writing flag.
func (s *server) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	u, err := s.openUpload(r, true)
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (s *server) openUpload(r *sftp.Request, read bool) (*uploadFile, error) {
	if s.readOnly {
		return nil, s.fail("open", r.Filepath, errReadOnly)
	}
	name := rootName(r.Filepath)
	if name == "." {
		return nil, s.fail("open", r.Filepath, errIsDirectory)
	}
	if err := s.acquireHandle(); err != nil {
		return nil, s.fail("open", r.Filepath, err)
	}
	u, err := s.createUpload(name, r.Filepath, r.Pflags(), read)
	if err != nil {
		s.releaseHandle()
		return nil, s.fail("open", r.Filepath, err)
	}
	return u, nil
}

// createUpload opens name for writing: a temporary file that replaces name on
// close when the open creates or truncates it, name itself otherwise.
func (s *server) createUpload(name, p string, fl sftp.FileOpenFlags, read bool) (*uploadFile, error) {
	fi, err := s.root.Lstat(name)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	symlink := exists && fi.Mode()&fs.ModeSymlink != 0
	switch {
	case exists && fl.Creat && fl.Excl:
		return nil, fs.ErrExist
	case !exists && !fl.Creat:
		return nil, fs.ErrNotExist
	case exists && fi.IsDir():
		return nil, errIsDirectory
	case exists && !symlink && !fi.Mode().IsRegular():
		return nil, errNotRegular
	}
	u := &uploadFile{s: s, path: p, start: time.Now()}

	if exists && (!fl.Trunc || symlink) {
		// Appends, resumes and updates need the real file, and a symbolic link
		// is written through rather than replaced: write in place.
		flag := os.O_WRONLY
		if read {
			flag = os.O_RDWR
		}
		if fl.Trunc {
			flag |= os.O_TRUNC
		}
		f, err := s.openRegular(name, flag)
		if err != nil {
			return nil, err
		}
		u.f = f
		return u, nil
	}

	perm := fs.FileMode(0o644)
	if exists {
		perm = fi.Mode().Perm()
	}
	// The temporary file is reached through its directory's descriptor, so a
	// rename of the directory while the upload runs moves the upload with it.
	dirName, base := path.Split(name)
	if dirName == "" {
		dirName = "."
	}
	dir, err := s.root.OpenRoot(dirName)
	if err != nil {
		return nil, err
	}
	tmp := tempName(base)
	f, err := dir.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		dir.Close()
		return nil, err
	}
	if exists {
		// Keep the replaced file's mode exactly, whatever the umask.
		f.Chmod(perm)
	}
	u.f, u.dir, u.tmp, u.base, u.excl = f, dir, tmp, base, fl.Excl
	s.setPending(u)
	return u, nil
}

// uploadFile is the handle of a file opened for writing. When tmp is set, the
// data goes to the temporary file tmp, which replaces name on a proper close.
type uploadFile struct {
	s     *server
	f     *os.File
	path  string   // client path
	dir   *os.Root // the file's directory, or nil when writing in place
	tmp   string   // temporary name in dir
	base  string   // final name in dir
	excl  bool     // publish without replacing an existing file
	start time.Time

	n       atomic.Int64
	failed  atomic.Bool
	aborted atomic.Bool

	once     sync.Once
	closeErr error
}

var (
	_ sftp.WriterAtReaderAt = (*uploadFile)(nil)
	_ io.Closer             = (*uploadFile)(nil)
	_ sftp.TransferError    = (*uploadFile)(nil)
)

// WriteAt answers SSH_FXP_WRITE at the client's offset, also for SSH_FXF_APPEND
// opens (which a client such as OpenSSH's sftp uses to resume at a known offset).
func (u *uploadFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := u.f.WriteAt(p, off)
	u.n.Add(int64(n))
	if err != nil {
		u.failed.Store(true)
		return n, u.s.fail("write", u.path, err)
	}
	return n, nil
}

// ReadAt answers SSH_FXP_READ on a handle opened for reading and writing.
func (u *uploadFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := u.f.ReadAt(p, off)
	if err != nil && err != io.EOF {
		return n, u.s.fail("read", u.path, err)
	}
	return n, err
}

// TransferError records that the session ended with the handle open: the
// upload is then discarded on Close.
func (u *uploadFile) TransferError(error) { u.aborted.Store(true) }

// Close answers SSH_FXP_CLOSE, publishing the upload, or ends the handle with
// the session, discarding it.
func (u *uploadFile) Close() error {
	u.once.Do(func() { u.closeErr = u.finish() })
	return u.closeErr
}

func (u *uploadFile) finish() error {
	defer u.s.releaseHandle()
	aborted, failed := u.aborted.Load(), u.failed.Load()
	var err error
	if u.dir == nil {
		err = u.f.Close()
	} else {
		u.s.clearPending(u)
		switch {
		case aborted:
		case failed:
			err = errUploadFailed
		default:
			err = u.f.Sync()
		}
		if cerr := u.f.Close(); err == nil {
			err = cerr
		}
		if err == nil && !aborted {
			err = u.commit()
		}
		if err != nil || aborted {
			u.dir.Remove(u.tmp)
		}
		u.dir.Close()
	}
	err = u.s.fail("close", u.path, err)
	outcome := outcomeOK
	switch {
	case aborted:
		outcome = outcomeAborted
	case failed || err != nil:
		outcome = outcomeFailed
	}
	u.s.logTransfer(u.path, "upload", u.n.Load(), time.Since(u.start), outcome, err)
	return err
}

// commit moves the temporary file to the final name.
func (u *uploadFile) commit() error {
	if !u.excl {
		return u.dir.Rename(u.tmp, u.base)
	}
	// SSH_FXF_EXCL: link(2) publishes the file only if the name is still free.
	err := u.dir.Link(u.tmp, u.base)
	if err == nil {
		u.dir.Remove(u.tmp)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	// The file system has no hard links: check, then rename.
	if _, err := u.dir.Lstat(u.base); err == nil {
		return fs.ErrExist
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return u.dir.Rename(u.tmp, u.base)
}
