package bench

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	RunHelper()
	os.Exit(m.Run())
}

// The end-to-end benchmarks use b.N loops rather than b.Loop: what is timed
// must include draining the data still in flight when the last Write
// returns (up to a channel window), and b.Loop stops the timer before the
// code after the loop runs.

// warmBytes is what a transfer sends before the timer starts: enough for
// the pools to fill and the receive window to grow to its largest.
const warmBytes = 32 << 20

// BenchmarkTransfer pushes data one way, client to server, over one session
// channel, in 32 KiB channel writes; one op is one write. cpu-ns/op is the
// CPU time (user and system) of the whole process per op, both ends
// included, to set beside BenchmarkAEAD; mallocs/op counts the heap
// allocations of both ends.
func BenchmarkTransfer(b *testing.B) {
	for _, impl := range Impls {
		b.Run(string(impl), func(b *testing.B) {
			for _, algs := range Ciphers {
				b.Run(algs.Name(), func(b *testing.B) { benchmarkTransfer(b, impl, algs) })
			}
		})
	}
	b.Run(string(OpenSSH), func(b *testing.B) {
		for _, algs := range Ciphers {
			b.Run(algs.Name(), func(b *testing.B) { benchmarkOpenSSHTransfer(b, algs) })
		}
	})
}

func benchmarkTransfer(b *testing.B, impl Impl, algs Algorithms) {
	p := newPair(b, impl, algs, "")
	w, err := p.Client.Sink()
	if err != nil {
		b.Fatal(err)
	}
	chunk := Payload(ChunkSize)
	for range warmBytes / ChunkSize {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(ChunkSize)
	b.ReportAllocs()
	m := startMeter()
	b.ResetTimer()
	for range b.N {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	m.report(b)
}

// BenchmarkHandshake measures connection set-up as Handshake does it, one
// connection after another: handshakes/s is b.N over the elapsed time.
func BenchmarkHandshake(b *testing.B) {
	for _, impl := range Impls {
		b.Run(string(impl), func(b *testing.B) {
			for _, kex := range Kexes {
				b.Run(kex, func(b *testing.B) {
					algs := Algorithms{Kex: kex, Cipher: "aes128-gcm@openssh.com"}
					s := startServer(b, impl, algs, "")
					if err := Handshake(impl, s.Addr(), algs); err != nil { // warm up
						b.Fatal(err)
					}
					b.ReportAllocs()
					m := startMeter()
					b.ResetTimer()
					for range b.N {
						if err := Handshake(impl, s.Addr(), algs); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
					m.report(b)
				})
			}
		})
	}
}

// handshakeClients is how many clients BenchmarkHandshakeParallel runs at
// once: a server's accept path under load, as a single accept loop and
// one per CPU (SO_REUSEPORT) would be compared.
const handshakeClients = 8

// BenchmarkHandshakeParallel is BenchmarkHandshake with handshakeClients
// clients at once against one server.
func BenchmarkHandshakeParallel(b *testing.B) {
	for _, impl := range Impls {
		b.Run(string(impl), func(b *testing.B) {
			for _, kex := range Kexes {
				b.Run(kex, func(b *testing.B) {
					algs := Algorithms{Kex: kex, Cipher: "aes128-gcm@openssh.com"}
					s := startServer(b, impl, algs, "")
					parallelHandshakes(b, impl, s.Addr(), algs)
				})
			}
		})
	}
}

// parallelHandshakes runs b.N handshakes against addr from
// handshakeClients clients at once and reports handshakes/s.
func parallelHandshakes(b *testing.B, impl Impl, addr string, algs Algorithms) {
	if err := Handshake(impl, addr, algs); err != nil { // warm up
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(max(1, handshakeClients/runtime.GOMAXPROCS(0)))
	m := startMeter()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := Handshake(impl, addr, algs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	m.report(b)
}

// BenchmarkSFTP moves 64 MiB files with this module's SFTP client and
// server (pkg/sftp underneath) over each implementation, and with OpenSSH's
// sftp against sshd's internal-sftp; one op is one file, after one untimed
// file that warms the connection up. Files live in /dev/shm where it
// exists; downloads go to io.Discard (OpenSSH's to /dev/null).
func BenchmarkSFTP(b *testing.B) {
	data := Payload(SFTPSize)
	for _, impl := range Impls {
		b.Run(string(impl), func(b *testing.B) {
			for _, dir := range []string{"upload", "download"} {
				b.Run(dir, func(b *testing.B) {
					root := tempDir(b)
					if err := WriteFile(root, "down", data); err != nil {
						b.Fatal(err)
					}
					p := newPair(b, impl, SFTPAlgorithms, root)
					c, err := p.Client.SFTP()
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					op := func() error { return Upload(c, "/up", data) }
					if dir == "download" {
						op = func() error { return Download(c, "/down", SFTPSize) }
					}
					if err := op(); err != nil { // warm up, as the transfers do
						b.Fatal(err)
					}
					b.SetBytes(SFTPSize)
					b.ReportAllocs()
					b.ResetTimer()
					for range b.N {
						if err := op(); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
				})
			}
		})
	}
	b.Run(string(OpenSSH), func(b *testing.B) {
		for _, dir := range []string{"upload", "download"} {
			b.Run(dir, func(b *testing.B) { benchmarkOpenSSHSFTP(b, dir, data) })
		}
	})
}

// idleConns is how many connections BenchmarkIdleConns holds.
const idleConns = 1000

// BenchmarkIdleConns holds 1,000 authenticated idle connections and reports
// what each costs one end: live heap, goroutine stacks and goroutines, after
// garbage collection. The other end runs in a helper process (this binary
// again), so the numbers are one end's alone: server, then client.
func BenchmarkIdleConns(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range Impls {
		b.Run(string(impl), func(b *testing.B) {
			b.Run("server", func(b *testing.B) {
				for range b.N {
					s := startServer(b, impl, SFTPAlgorithms, "")
					before := ReadMemory()
					_, stop, err := StartHelper(exe, "clients "+string(impl)+" "+s.Addr()+" "+strconv.Itoa(idleConns))
					if err != nil {
						b.Fatal(err)
					}
					if err := WaitAuthenticated(s, idleConns, 10*time.Second); err != nil {
						b.Fatal(err)
					}
					reportMemory(b, before, ReadMemory())
					stop()
				}
			})
			b.Run("client", func(b *testing.B) {
				for range b.N {
					addr, stop, err := StartHelper(exe, "server "+string(impl))
					if err != nil {
						b.Fatal(err)
					}
					before := ReadMemory()
					cs, err := DialMany(impl, addr, SFTPAlgorithms, idleConns)
					if err != nil {
						b.Fatal(err)
					}
					reportMemory(b, before, ReadMemory())
					CloseAll(cs)
					stop()
				}
			})
		})
	}
}

// reportMemory reports what idleConns connections added between before and
// after; over several iterations the last one's numbers stand.
func reportMemory(b *testing.B, before, after Memory) {
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / idleConns }
	b.ReportMetric(per(after.Heap, before.Heap), "heap-B/conn")
	b.ReportMetric(per(after.Stack, before.Stack), "stack-B/conn")
	b.ReportMetric(per(after.Heap+after.Stack, before.Heap+before.Stack), "B/conn")
	b.ReportMetric(float64(after.Goroutines-before.Goroutines)/idleConns, "goroutines/conn")
}

func newPair(tb testing.TB, impl Impl, algs Algorithms, root string) *Pair {
	tb.Helper()
	p, err := NewPair(impl, algs, root)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

func startServer(tb testing.TB, impl Impl, algs Algorithms, root string) Server {
	tb.Helper()
	s, err := StartServer(impl, algs, root)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func tempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := TempDir()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// meter measures the CPU time of the process and its heap allocations.
type meter struct {
	user, sys time.Duration
	mallocs   uint64
}

func startMeter() meter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	user, sys := cpuTime()
	return meter{user, sys, ms.Mallocs}
}

// report reports per op the CPU time since start as cpu-ns/op (user and
// system) and sys-ns/op (system alone: the kernel's side of the sockets),
// and the heap allocations as mallocs/op, which unlike allocs/op keeps its
// fraction.
func (m meter) report(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	user, sys := cpuTime()
	n := float64(b.N)
	b.ReportMetric(float64(user-m.user+sys-m.sys)/n, "cpu-ns/op")
	b.ReportMetric(float64(sys-m.sys)/n, "sys-ns/op")
	b.ReportMetric(float64(ms.Mallocs-m.mallocs)/float64(b.N), "mallocs/op")
}
