package server

import "golang.org/x/sys/unix"

// reusePortOption: FreeBSD's SO_REUSEPORT lets sockets share a port but
// hands every connection to one of them; SO_REUSEPORT_LB balances.
const reusePortOption = unix.SO_REUSEPORT_LB
