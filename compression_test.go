package zerossh

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/flate"

	"github.com/zerossh/zerossh/compression"
	"github.com/zerossh/zerossh/wire"
)

// countingConn counts the bytes written to a connection.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// compressedPair connects a client and a server that both offer only the
// given compression methods, over TCP, counting what each side writes.
func compressedPair(t testing.TB, methods ...string) (c, s *Conn, cw, sw *countingConn) {
	t.Helper()
	nc1, nc2 := tcpPair(t)
	cw, sw = &countingConn{Conn: nc1}, &countingConn{Conn: nc2}
	cc, sc := &ClientConfig{}, &ServerConfig{}
	cc.Compressions, sc.Compressions = methods, methods
	c, s = pair(t, cw, sw, cc, sc)
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	return c, s, cw, sw
}

// authenticate plays the end of user authentication: the server writes
// USERAUTH_SUCCESS, the client reads it.
func authenticate(t testing.TB, c, s *Conn) {
	t.Helper()
	if err := s.WritePacket([]byte{wire.MsgUserauthSuccess}); err != nil {
		t.Fatal(err)
	}
	s.SetAuthenticated()
	p, err := c.ReadPacket()
	if err != nil || p[0] != wire.MsgUserauthSuccess {
		t.Fatalf("client read %x, %v; want USERAUTH_SUCCESS", p, err)
	}
	c.SetAuthenticated()
}

// textData returns n bytes of compressible text: numbered lines of words.
func textData(seed uint64, n int) []byte {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"}
	rng := rand.New(rand.NewPCG(seed, 0))
	var b bytes.Buffer
	for line := 0; b.Len() < n; line++ {
		fmt.Fprintf(&b, "%d:", line)
		for range 8 {
			b.WriteString(" " + words[rng.IntN(len(words))])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// channelData is a CHANNEL_DATA-numbered packet carrying data.
func channelData(data []byte) []byte {
	return append([]byte{wire.MsgChannelData}, data...)
}

// sendOneWay writes packets from w and reads them on r, comparing, and
// returns the bytes w wrote to the socket meanwhile.
func sendOneWay(t testing.TB, w, r *Conn, wc *countingConn, packets [][]byte) int64 {
	t.Helper()
	before := wc.n.Load()
	errc := make(chan error, 1)
	go func() {
		for _, p := range packets {
			if err := w.WritePacket(p); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i, want := range packets {
		got, err := r.ReadPacket()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("packet %d: got %d bytes; want %d", i, len(got), len(want))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return wc.n.Load() - before
}

// TestCompressionStart checks when each method starts compressing, in
// both directions: zlib from the first NEWKEYS, zlib@openssh.com from
// USERAUTH_SUCCESS (OpenSSH PROTOCOL §1.3), none never.
func TestCompressionStart(t *testing.T) {
	text := [][]byte{channelData(textData(1, 32<<10)), channelData(textData(2, 32<<10))}
	const size = 2 * 32 << 10
	for _, tc := range []struct {
		methods         []string
		want            string
		before, after   bool // compressed before and after authentication
		clientOffersNot bool
	}{
		{methods: compression.All, want: compression.ZlibOpenSSH, after: true},
		{methods: []string{compression.Zlib}, want: compression.Zlib, before: true, after: true},
		{methods: []string{compression.None}, want: compression.None},
	} {
		t.Run(tc.want, func(t *testing.T) {
			c, s, cw, sw := compressedPair(t, tc.methods...)
			for _, side := range []*Conn{c, s} {
				if a := side.Algorithms(); a.Read.Compression != tc.want || a.Write.Compression != tc.want {
					t.Fatalf("negotiated %+v; want %s both ways", a, tc.want)
				}
			}
			check := func(when string, compressed bool) {
				t.Helper()
				for _, dir := range []struct {
					name string
					w, r *Conn
					wc   *countingConn
				}{{"client to server", c, s, cw}, {"server to client", s, c, sw}} {
					n := sendOneWay(t, dir.w, dir.r, dir.wc, text)
					if got := n < size/2; got != compressed {
						t.Errorf("%s, %s: %d bytes on the wire for %d of text; compressed %v, want %v", when, dir.name, n, size, got, compressed)
					}
				}
			}
			check("before authentication", tc.before)
			authenticate(t, c, s)
			check("after authentication", tc.after)
		})
	}
}

// TestCompressionRekey moves text both ways while both sides rekey: the
// streams restart at every NEWKEYS (the receiver starts over, expecting a
// zlib header), and no packet is lost or damaged on the way.
func TestCompressionRekey(t *testing.T) {
	for _, method := range []string{compression.ZlibOpenSSH, compression.Zlib} {
		t.Run(method, func(t *testing.T) {
			c, s, _, _ := compressedPair(t, method, compression.None)
			authenticate(t, c, s)
			var packets [][]byte
			for i := range 300 {
				packets = append(packets, channelData(textData(uint64(i), 1+i*97%(32<<10))))
			}
			for _, dir := range []struct{ w, r, rekeyer *Conn }{{c, s, c}, {c, s, s}, {s, c, c}, {s, c, s}} {
				errc := make(chan error, 1)
				go func() {
					for i, p := range packets {
						if i%100 == 50 {
							if err := dir.rekeyer.Rekey(); err != nil {
								errc <- err
								return
							}
						}
						if err := dir.w.WritePacket(p); err != nil {
							errc <- err
							return
						}
					}
					errc <- nil
				}()
				for i, want := range packets {
					got, err := dir.r.ReadPacket()
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("packet %d: %d bytes, %v; want %d bytes", i, len(got), err, len(want))
					}
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			}
			if n := osshKexCount(c); n < 5 {
				t.Errorf("%d key exchanges; want 5", n)
			}
		})
	}
}

// sendRawCompressed writes payload as a packet whose payload is already
// compressed, past the client's own compressor, as a hostile peer would.
func sendRawCompressed(c *Conn, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	saved := c.send.compress.c
	c.send.compress.c = nil
	defer func() { c.send.compress.c = saved }()
	return c.send.writePacket(len(payload), 0, func(dst []byte) { copy(dst, payload) })
}

// TestCompressionBadPayload sends payloads that a server must refuse with
// DISCONNECT reason compression error (6): a bomb, a small packet that
// inflates past MaxPacketSize (its memory must stay near one packet
// buffer), and a corrupt stream.
func TestCompressionBadPayload(t *testing.T) {
	// 64 MiB of zeros deflate to about 64 KiB: a continuation of the
	// client's stream, which ended its last packet on a block boundary.
	var bomb bytes.Buffer
	fw, _ := flate.NewWriter(&bomb, 9)
	fw.Write(make([]byte, 64<<20))
	fw.Flush()
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"bomb", bomb.Bytes()},
		{"corrupt", []byte{0xff, 0xff, 0xff, 0xff}},
		{"empty", []byte{0x00, 0x00, 0x00, 0xff, 0xff}}, // an empty stored block: no payload at all
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s, _, _ := compressedPair(t, compression.Zlib)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if err := sendRawCompressed(c, tc.payload); err != nil {
				t.Fatal(err)
			}
			_, serr := s.ReadPacket()
			runtime.ReadMemStats(&after)
			var de *DisconnectError
			if !errors.As(serr, &de) || de.Reason != CompressionError || de.Remote || !errors.Is(serr, ErrCompression) {
				t.Fatalf("server ended with %v; want a local DISCONNECT with reason compression error", serr)
			}
			_, cerr := c.ReadPacket()
			if !errors.As(cerr, &de) || de.Reason != CompressionError || !de.Remote {
				t.Fatalf("client ended with %v; want the server's DISCONNECT with reason compression error", cerr)
			}
			// One payload buffer of MaxPacketSize and what growing to it
			// took, not the 64 MiB the bomb holds.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 2<<20 {
				t.Errorf("%d bytes allocated while refusing the packet; want under 2 MiB", grew)
			}
		})
	}
}

// TestPacketAllocsCompressed is TestPacketAllocs with compression on: a
// compressed packet written and read costs no allocation either.
func TestPacketAllocsCompressed(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, method := range []string{compression.ZlibOpenSSH, compression.Zlib} {
		t.Run(method, func(t *testing.T) {
			c, s, _, _ := compressedPair(t, method)
			authenticate(t, c, s)
			for _, size := range []int{64, 32 << 10} {
				packets := make([][]byte, 8)
				for i := range packets {
					packets[i] = channelData(textData(uint64(i), size))
				}
				i := 0
				step := func() {
					if err := c.WritePacket(packets[i%len(packets)]); err != nil {
						t.Fatal(err)
					}
					if _, err := s.ReadPacket(); err != nil {
						t.Fatal(err)
					}
					i++
				}
				for range 100 {
					step()
				}
				if n := testing.AllocsPerRun(500, step); n != 0 {
					t.Errorf("%d-byte packet: %v allocations per write and read; want 0", size, n)
				}
			}
		})
	}
}

// BenchmarkPacketCompressed is BenchmarkPacket for 32 KiB packets of text
// with zlib@openssh.com at the default level.
func BenchmarkPacketCompressed(b *testing.B) {
	c, s, cw, _ := compressedPair(b, compression.ZlibOpenSSH)
	authenticate(b, c, s)
	p := channelData(textData(1, 32<<10-1))
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
	start := cw.n.Load()
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WritePacket(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(int64(b.N)*int64(len(p)))/float64(cw.n.Load()-start), "ratio")
	if err := c.WritePacket([]byte{wire.MsgChannelEOF}); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
