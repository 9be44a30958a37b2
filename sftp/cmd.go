package sftp

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/pkg/sftp"
)

// Filecmd answers SSH_FXP_SETSTAT, SSH_FXP_FSETSTAT, SSH_FXP_RENAME,
// SSH_FXP_RMDIR, SSH_FXP_MKDIR, SSH_FXP_REMOVE, SSH_FXP_SYMLINK and
// hardlink@openssh.com.
func (s *server) Filecmd(r *sftp.Request) error {
	op := methodOp(r.Method)
	if s.readOnly {
		return s.fail(op, r.Filepath, errReadOnly)
	}
	var err error
	switch r.Method {
	case "Setstat":
		err = s.setstat(r)
	case "Rename":
		err = s.rename(r.Filepath, r.Target)
	case "Rmdir":
		err = s.rmdir(rootName(r.Filepath))
	case "Mkdir":
		err = s.root.Mkdir(rootName(r.Filepath), 0o755)
	case "Remove":
		err = s.remove(rootName(r.Filepath))
	case "Link":
		err = s.root.Link(rootName(r.Filepath), rootName(r.Target))
	case "Symlink":
		// For SSH_FXP_SYMLINK the request server puts the link's target,
		// uncleaned, in Filepath, and the link's own path in Target.
		return s.fail(op, r.Target, s.symlink(r.Filepath, r.Target))
	default:
		return sftp.ErrSSHFxOpUnsupported
	}
	return s.fail(op, r.Filepath, err)
}

// PosixRename answers posix-rename@openssh.com: rename(2), replacing newpath.
func (s *server) PosixRename(r *sftp.Request) error {
	if s.readOnly {
		return s.fail("rename", r.Filepath, errReadOnly)
	}
	oldname, newname := rootName(r.Filepath), rootName(r.Target)
	if oldname == "." || newname == "." {
		return s.fail("rename", r.Filepath, fs.ErrPermission)
	}
	return s.fail("rename", r.Filepath, s.root.Rename(oldname, newname))
}

// StatVFS answers statvfs@openssh.com.
func (s *server) StatVFS(r *sftp.Request) (*sftp.StatVFS, error) {
	f, err := s.root.OpenFile(rootName(r.Filepath), os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, s.fail("statvfs", r.Filepath, err)
	}
	defer f.Close()
	st, err := statVFS(f)
	return st, s.fail("statvfs", r.Filepath, err)
}

func methodOp(method string) string {
	switch method {
	case "Setstat":
		return "setstat"
	case "Rename":
		return "rename"
	case "Rmdir":
		return "rmdir"
	case "Mkdir":
		return "mkdir"
	case "Remove":
		return "remove"
	case "Link":
		return "link"
	case "Symlink":
		return "symlink"
	}
	return method
}

// rename answers SSH_FXP_RENAME, which must not replace an existing newpath
// (draft-ietf-secsh-filexfer-02, Section 6.5: "It is an error if there already
// exists a file with the name specified by newpath"). Like OpenSSH, a regular
// file is moved with link(2) and unlink(2), so the check cannot race.
func (s *server) rename(oldpath, newpath string) error {
	oldname, newname := rootName(oldpath), rootName(newpath)
	if oldname == "." || newname == "." {
		return fs.ErrPermission
	}
	fi, err := s.root.Lstat(oldname)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		err := s.root.Link(oldname, newname)
		if err == nil {
			return s.root.Remove(oldname)
		}
		if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, s.escape) {
			return err
		}
		// No hard links here: fall back to a check and rename(2).
	}
	if _, err := s.root.Lstat(newname); err == nil {
		return fs.ErrExist
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return s.root.Rename(oldname, newname)
}

// remove answers SSH_FXP_REMOVE, which removes files, not directories.
func (s *server) remove(name string) error {
	if name == "." {
		return fs.ErrPermission
	}
	fi, err := s.root.Lstat(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errIsDirectory
	}
	return s.root.Remove(name)
}

// rmdir answers SSH_FXP_RMDIR, which removes empty directories only.
func (s *server) rmdir(name string) error {
	if name == "." {
		return fs.ErrPermission
	}
	fi, err := s.root.Lstat(name)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errNotDirectory
	}
	return s.root.Remove(name)
}

// symlink creates linkpath pointing at target if the target stays in the root.
// Absolute targets are client paths, stored relative to the link's directory.
func (s *server) symlink(target, linkpath string) error {
	linkname := rootName(linkpath)
	if linkname == "." || target == "" {
		return fs.ErrInvalid
	}
	dir := path.Dir(linkname)
	var stored string
	if path.IsAbs(target) {
		rel, err := filepath.Rel("/"+dir, path.Clean(target))
		if err != nil {
			return errEscapes
		}
		stored = filepath.ToSlash(rel)
	} else {
		if climbs(path.Join(dir, target)) {
			return errEscapes
		}
		stored = path.Clean(target)
	}
	return s.root.Symlink(stored, linkname)
}

// setstat answers SSH_FXP_SETSTAT and SSH_FXP_FSETSTAT. The request server turns
// FSETSTAT into a SETSTAT of the handle's path, which for a pending upload is the
// final name: such requests reach the temporary file instead.
func (s *server) setstat(r *sftp.Request) error {
	fl, attrs := r.AttrFlags(), r.Attributes()
	if attrs == nil {
		return errBadAttrs
	}
	if u := s.pendingUpload(r.Filepath); u != nil {
		return u.setstat(fl, attrs)
	}
	name := rootName(r.Filepath)
	if fl.UidGid {
		fi, err := s.root.Stat(name)
		if err != nil {
			return err
		}
		if err := checkOwner(fi, attrs); err != nil {
			return err
		}
	}
	if fl.Size {
		f, err := s.openRegular(name, os.O_WRONLY)
		if err != nil {
			return err
		}
		err = f.Truncate(int64(attrs.Size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if fl.Permissions {
		if err := s.root.Chmod(name, fs.FileMode(attrs.Mode&0o777)); err != nil {
			return err
		}
	}
	if fl.Acmodtime {
		if err := s.root.Chtimes(name, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0)); err != nil {
			return err
		}
	}
	return nil
}

// setstat applies SETSTAT attributes to the temporary file of an upload.
func (u *uploadFile) setstat(fl sftp.FileAttrFlags, attrs *sftp.FileStat) error {
	if fl.UidGid {
		fi, err := u.f.Stat()
		if err != nil {
			return err
		}
		if err := checkOwner(fi, attrs); err != nil {
			return err
		}
	}
	if fl.Size {
		if err := u.f.Truncate(int64(attrs.Size)); err != nil {
			return err
		}
	}
	if fl.Permissions {
		if err := u.f.Chmod(fs.FileMode(attrs.Mode & 0o777)); err != nil {
			return err
		}
	}
	if fl.Acmodtime {
		return u.dir.Chtimes(u.tmp, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0))
	}
	return nil
}

// checkOwner refuses a change of owner or group: files belong to the server
// process, and a client naming other ids could hand files to other accounts.
func checkOwner(fi fs.FileInfo, attrs *sftp.FileStat) error {
	uid, gid, ok := fileOwner(fi)
	if !ok || uid != attrs.UID || gid != attrs.GID {
		return errOwner
	}
	return nil
}
