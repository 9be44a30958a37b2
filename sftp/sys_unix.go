//go:build unix

package sftp

import (
	"io/fs"
	"syscall"
)

// openNonblock keeps open(2) of a FIFO from blocking until a peer opens it.
const openNonblock = syscall.O_NONBLOCK

// fileOwner returns the numeric owner and group of fi.
func fileOwner(fi fs.FileInfo) (uid, gid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint32(st.Uid), uint32(st.Gid), true
}
