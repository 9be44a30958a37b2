//go:build !linux && !dragonfly && !freebsd

package server

import "syscall"

// reusePortControl is nil: SO_REUSEPORT is missing here, or (macOS,
// OpenBSD, NetBSD) lets listeners share a port without balancing the
// connections over them.
var reusePortControl func(network, address string, c syscall.RawConn) error
