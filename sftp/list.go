package sftp

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/pkg/sftp"
)

// Filelist answers SSH_FXP_OPENDIR (Method "List") and SSH_FXP_STAT and
// SSH_FXP_FSTAT (Method "Stat").
func (s *server) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	name := rootName(r.Filepath)
	switch r.Method {
	case "List":
		if err := s.acquireHandle(); err != nil {
			return nil, s.fail("opendir", r.Filepath, err)
		}
		d, err := s.openDir(name)
		if err != nil {
			s.releaseHandle()
			return nil, s.fail("opendir", r.Filepath, err)
		}
		return &dirLister{s: s, f: d, path: r.Filepath}, nil
	case "Stat":
		if u := s.pendingUpload(r.Filepath); u != nil {
			fi, err := u.f.Stat()
			if err != nil {
				return nil, s.fail("stat", r.Filepath, err)
			}
			return statLister{renamedInfo{fi, path.Base(r.Filepath)}}, nil
		}
		fi, err := s.root.Stat(name)
		if err != nil {
			return nil, s.fail("stat", r.Filepath, err)
		}
		return statLister{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat answers SSH_FXP_LSTAT.
func (s *server) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := s.root.Lstat(rootName(r.Filepath))
	if err != nil {
		return nil, s.fail("lstat", r.Filepath, err)
	}
	return statLister{fi}, nil
}

// Readlink answers SSH_FXP_READLINK. A link's target is shown as stored when it
// is relative and stays in the root, as a client path when it is absolute and
// inside the root, and refused otherwise.
func (s *server) Readlink(p string) (string, error) {
	name := rootName(p)
	target, err := s.root.Readlink(name)
	if err != nil {
		return "", s.fail("readlink", p, err)
	}
	if filepath.IsAbs(target) {
		for _, base := range []string{s.rootPath, s.realRoot} {
			if rel, err := filepath.Rel(base, target); err == nil && !climbs(filepath.ToSlash(rel)) {
				return path.Clean("/" + filepath.ToSlash(rel)), nil
			}
		}
		return "", s.fail("readlink", p, errEscapes)
	}
	if climbs(path.Join(path.Dir(name), filepath.ToSlash(target))) {
		return "", s.fail("readlink", p, errEscapes)
	}
	return target, nil
}

func (s *server) openDir(name string) (*os.File, error) {
	f, err := s.root.OpenFile(name, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.IsDir() {
		err = errNotDirectory
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// dirLister streams a directory's entries, as lstat(2) sees them, to
// SSH_FXP_READDIR, one batch per request.
type dirLister struct {
	s    *server
	f    *os.File
	path string
	once sync.Once
}

var (
	_ sftp.ListerAt = (*dirLister)(nil)
	_ io.Closer     = (*dirLister)(nil)
)

// ListAt fills ls with the next entries. The request server asks for
// consecutive offsets, which the directory's own read position follows.
func (d *dirLister) ListAt(ls []os.FileInfo, _ int64) (int, error) {
	entries, err := d.f.Readdir(len(ls))
	n := copy(ls, entries)
	if err == io.EOF {
		if n > 0 {
			return n, nil
		}
		return 0, io.EOF
	}
	if err != nil && n == 0 {
		return 0, d.s.fail("readdir", d.path, err)
	}
	return n, nil
}

// Close releases the directory handle.
func (d *dirLister) Close() error {
	d.once.Do(func() {
		d.f.Close()
		d.s.releaseHandle()
	})
	return nil
}

// statLister answers a stat request with one entry.
type statLister [1]fs.FileInfo

func (l statLister) ListAt(ls []os.FileInfo, off int64) (int, error) {
	if off > 0 {
		return 0, io.EOF
	}
	return copy(ls, l[:]), io.EOF
}

// renamedInfo reports a pending upload's temporary file under its final name.
type renamedInfo struct {
	fs.FileInfo
	name string
}

func (fi renamedInfo) Name() string { return fi.name }
