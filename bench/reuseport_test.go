package bench

import (
	"context"
	"errors"
	"testing"

	"github.com/zerossh/zerossh/server"
)

// BenchmarkHandshakeReusePort measures a zerossh server's accept path with
// handshakeClients clients at once, as BenchmarkHandshakeParallel does
// (curve25519-sha256, TCP dial to an opened session channel), in two
// ways:
//
//	single     one listener, one accept loop (Server.Serve)
//	reuseport  GOMAXPROCS listeners on one port with SO_REUSEPORT, one
//	           accept loop each (server.ListenReusePort, ServeListeners)
//
// handshakes/s is b.N over the elapsed time. Where ListenReusePort is
// unsupported, reuseport is skipped.
func BenchmarkHandshakeReusePort(b *testing.B) {
	algs := Algorithms{Kex: Curve25519, Cipher: "aes128-gcm@openssh.com"}
	for _, mode := range []string{"single", "reuseport"} {
		b.Run(mode, func(b *testing.B) {
			s, err := startZeroServer(algs, "")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			addr := s.Addr()
			if mode == "reuseport" {
				addr = serveReusePort(b, s)
			}
			parallelHandshakes(b, ZeroSSH, addr, algs)
		})
	}
}

// serveReusePort has s's server also accept on a group of GOMAXPROCS
// SO_REUSEPORT listeners, one loop each, and returns their address; the
// server's own listener stays idle, and s.Close shuts the group down with
// it. The configuration is startZeroServer's, the same as single's.
func serveReusePort(b *testing.B, s *zeroServer) string {
	b.Helper()
	ls, err := server.ListenReusePort(context.Background(), "tcp", "127.0.0.1:0", 0)
	if errors.Is(err, errors.ErrUnsupported) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	go s.srv.ServeListeners(ls)
	return ls[0].Addr().String()
}
