//go:build !unix

package sftp

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
