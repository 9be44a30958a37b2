package zerossh

import (
	"testing"

	"github.com/zerossh/zerossh/wire"
)

// TestPacketAllocs checks that a packet written by one side and read by
// the other costs no allocation in steady state, for every cipher.
func TestPacketAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, cm := range [][2]string{
		{"aes128-gcm@openssh.com", ""}, {"aes256-gcm@openssh.com", ""}, {"chacha20-poly1305@openssh.com", ""},
		{"aes128-ctr", "hmac-sha2-256-etm@openssh.com"}, {"aes256-ctr", "hmac-sha2-512"},
	} {
		t.Run(cm[0]+"/"+cm[1], func(t *testing.T) {
			cc := &ClientConfig{}
			cc.Ciphers = []string{cm[0]}
			if cm[1] != "" {
				cc.MACs = []string{cm[1]}
			}
			nc1, nc2 := tcpPair(t)
			c, s := pair(t, nc1, nc2, cc, &ServerConfig{})
			if err := c.RequestService("ssh-userauth"); err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{64, 32 << 10} {
				p := make([]byte, size)
				p[0] = wire.MsgChannelData
				step := func() {
					if err := c.WritePacket(p); err != nil {
						t.Fatal(err)
					}
					if _, err := s.ReadPacket(); err != nil {
						t.Fatal(err)
					}
				}
				for range 100 {
					step() // warm the pools
				}
				if n := testing.AllocsPerRun(500, step); n != 0 {
					t.Errorf("%d-byte packet: %v allocations per write and read; want 0", size, n)
				}
			}
		})
	}
}

// BenchmarkPacket measures one direction of a loopback TCP connection:
// WritePacket on one side, ReadPacket on the other.
func BenchmarkPacket(b *testing.B) {
	for _, cm := range [][2]string{
		{"aes128-gcm@openssh.com", ""}, {"aes256-gcm@openssh.com", ""}, {"chacha20-poly1305@openssh.com", ""},
		{"aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
	} {
		b.Run(cm[0]+"/32KiB", func(b *testing.B) {
			cc := &ClientConfig{}
			cc.Ciphers = []string{cm[0]}
			if cm[1] != "" {
				cc.MACs = []string{cm[1]}
			}
			nc1, nc2 := tcpPair(b)
			c, s := pair(b, nc1, nc2, cc, &ServerConfig{})
			if err := c.RequestService("ssh-userauth"); err != nil {
				b.Fatal(err)
			}
			p := make([]byte, 32<<10)
			p[0] = wire.MsgChannelData
			done := make(chan error, 1)
			go func() {
				for {
					q, err := s.ReadPacket()
					if err != nil {
						done <- err
						return
					}
					if q[0] == wire.MsgChannelEOF {
						done <- nil
						return
					}
				}
			}()
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WritePacket(p); err != nil {
					b.Fatal(err)
				}
			}
			if err := c.WritePacket([]byte{wire.MsgChannelEOF}); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
