package sftp

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"syscall"

	"github.com/pkg/sftp"
)

var (
	errTooManyHandles = errors.New("too many open handles")
	errNotRegular     = errors.New("not a regular file")
	errIsDirectory    = errors.New("is a directory")
	errNotDirectory   = errors.New("not a directory")
	errReadOnly       = errors.New("read-only server")
	errOwner          = errors.New("changing the owner is not permitted")
	errEscapes        = errors.New("path leaves the served directory")
	errUploadFailed   = errors.New("a write to this upload failed")
	errBadAttrs       = errors.New("malformed attributes")
)

// statusError is what handlers return to the request server: its message names
// the client's path only, and it unwraps to one of pkg/sftp's status codes,
// which the request server sends as the SSH_FXP_STATUS code.
type statusError struct {
	op, path string
	code     error // sftp.ErrSSHFx*
	err      error
}

func (e *statusError) Error() string {
	return e.op + " " + e.path + ": " + e.err.Error()
}

// Unwrap returns the status code, so that pkg/sftp's statusFromError, which
// tries errors.As with its code type after the errno mappings it knows, picks it.
func (e *statusError) Unwrap() error { return e.code }

// fail turns an error from the file system into a statusError for the client
// path p. Errors of the os package carry server paths, so only their cause is kept.
func (s *server) fail(op, p string, err error) error {
	if err == nil {
		return nil
	}
	var se *statusError
	if errors.As(err, &se) {
		return err
	}
	cause := err
	var pe *fs.PathError
	var le *os.LinkError
	var sce *os.SyscallError
	switch {
	case errors.As(err, &pe):
		cause = pe.Err
	case errors.As(err, &le):
		cause = le.Err
	case errors.As(err, &sce):
		cause = sce.Err
	}
	code := sftp.ErrSSHFxFailure
	switch {
	case s.escape != nil && errors.Is(cause, s.escape), cause == errEscapes:
		s.log.Warn("sftp path refused", slog.String("op", op), slog.String("path", p))
		cause, code = errEscapes, sftp.ErrSSHFxPermissionDenied
	case errors.Is(cause, fs.ErrNotExist):
		code = sftp.ErrSSHFxNoSuchFile
	case errors.Is(cause, fs.ErrPermission), cause == errReadOnly, cause == errOwner:
		code = sftp.ErrSSHFxPermissionDenied
	case cause == errBadAttrs:
		code = sftp.ErrSSHFxBadMessage
	case errors.Is(cause, syscall.ENOSYS), errors.Is(cause, errors.ErrUnsupported):
		code = sftp.ErrSSHFxOpUnsupported
	}
	return &statusError{op: op, path: p, code: code, err: cause}
}
