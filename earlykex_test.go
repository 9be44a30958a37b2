package zerossh

import (
	"testing"

	"github.com/zerossh/zerossh/kex"
)

// TestEarlyClientKey: the client makes its key for its first method
// before the server's KEXINIT; the exchange uses it when that method is
// chosen and drops it when the server picks another, and either way the
// handshake completes and rekeys work.
func TestEarlyClientKey(t *testing.T) {
	prefer := []string{kex.MLKEM768X25519SHA256, kex.Curve25519SHA256}
	for _, server := range []string{kex.MLKEM768X25519SHA256, kex.Curve25519SHA256} {
		t.Run(server, func(t *testing.T) {
			nc1, nc2 := tcpPair(t)
			cc := &ClientConfig{Config: Config{KeyExchanges: prefer}}
			sc := &ServerConfig{Config: Config{KeyExchanges: []string{server}}}
			c, s := pair(t, nc1, nc2, cc, sc)
			if got := c.Algorithms().Kex; got != server {
				t.Fatalf("negotiated %s; want %s", got, server)
			}
			if c.earlyKex != nil {
				t.Fatal("the early key outlived the first exchange")
			}
			if err := c.RequestService("ssh-userauth"); err != nil {
				t.Fatal(err)
			}
			if err := c.Rekey(); err != nil {
				t.Fatalf("rekey: %v", err)
			}
			roundTrip(t, c, s, 3)
		})
	}
}
