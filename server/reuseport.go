package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
)

// ListenReusePort opens n TCP listeners on address that share one port
// through SO_REUSEPORT, for ServeListeners to run an accept loop on each;
// the kernel spreads incoming connections over them. n <= 0 means
// runtime.GOMAXPROCS(0). network is "tcp", "tcp4" or "tcp6". With port 0
// the first listener picks a free port and the others bind the same one.
//
// It is available on Linux, DragonFly BSD and FreeBSD (SO_REUSEPORT_LB),
// where the kernel balances connections across the group; elsewhere it
// returns an error that matches errors.ErrUnsupported, so that a caller
// can fall back to net.Listen and Serve.
//
// Any socket of the same user that sets SO_REUSEPORT can join the group
// and receive a share of the connections. On Linux a connection waiting in
// one listener's queue is reset when that listener closes.
func ListenReusePort(ctx context.Context, network, address string, n int) ([]net.Listener, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("ssh: ListenReusePort: network %q is not TCP", network)
	}
	if reusePortControl == nil {
		return nil, fmt.Errorf("ssh: ListenReusePort on %s: %w", runtime.GOOS, errors.ErrUnsupported)
	}
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: reusePortControl}
	ls := make([]net.Listener, 0, n)
	for range n {
		l, err := lc.Listen(ctx, network, address)
		if err != nil {
			closeListeners(ls)
			return nil, err
		}
		if len(ls) == 0 {
			// Port 0 picked a port: the others bind that one.
			port := l.Addr().(*net.TCPAddr).Port
			address = net.JoinHostPort(host, strconv.Itoa(port))
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func closeListeners(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}
