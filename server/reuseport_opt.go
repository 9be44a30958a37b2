//go:build linux || dragonfly

package server

import "golang.org/x/sys/unix"

// reusePortOption balances connections over the group on these systems.
const reusePortOption = unix.SO_REUSEPORT
