//go:build linux || dragonfly || freebsd

package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortControl sets reusePortOption on a socket before it binds.
var reusePortControl = func(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, reusePortOption, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
