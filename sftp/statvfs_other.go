//go:build !linux

package sftp

import (
	"errors"
	"os"

	"github.com/pkg/sftp"
)

// statVFS is not implemented on this system.
func statVFS(*os.File) (*sftp.StatVFS, error) { return nil, errors.ErrUnsupported }
