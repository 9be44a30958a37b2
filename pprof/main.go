// Command pprof runs one workload of package bench (both ends in this
// process, over TCP on 127.0.0.1) for a given time and writes CPU,
// allocation, block and mutex profiles of its steady state. README.md
// beside it says how to read them.
//
//	go run ./pprof -workload transfer -cipher aes128-gcm@openssh.com -duration 10s -out pprof/out
//
// Workloads: transfer (32 KiB channel writes into a sink, as
// BenchmarkTransfer), handshake (connection set-ups, as BenchmarkHandshake,
// -clients at once), sftp-upload and sftp-download (64 MiB files, as
// BenchmarkSFTP), and idle (-conns authenticated idle connections held for
// the duration, as BenchmarkIdleConns but with both ends here: its
// heap.pprof and goroutine.pprof say what each connection keeps).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerossh/zerossh/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pprof:", err)
		os.Exit(1)
	}
}

type options struct {
	workload  string
	impl      bench.Impl
	algs      bench.Algorithms
	duration  time.Duration
	out       string
	clients   int
	conns     int
	memRate   int
	blockRate int
	mutexFrac int
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pprof", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.workload, "workload", "transfer", "transfer, handshake, sftp-upload or sftp-download")
	impl := fs.String("impl", string(bench.ZeroSSH), "zerossh or x-crypto-ssh")
	cipher := fs.String("cipher", "aes128-gcm@openssh.com", "cipher of a transfer, as BenchmarkTransfer names it (aes128-ctr takes hmac-sha2-256-etm@openssh.com)")
	kex := fs.String("kex", bench.Curve25519, "key exchange of a handshake")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long the profiled steady state lasts")
	fs.StringVar(&o.out, "out", "pprof/out", "directory for the profiles")
	fs.IntVar(&o.clients, "clients", 1, "handshakes at once")
	fs.IntVar(&o.conns, "conns", 1000, "connections the idle workload holds")
	fs.IntVar(&o.memRate, "memrate", 4096, "runtime.MemProfileRate: one sample per this many bytes allocated")
	fs.IntVar(&o.blockRate, "blockrate", 10000, "runtime.SetBlockProfileRate: one sample per this many nanoseconds blocked")
	fs.IntVar(&o.mutexFrac, "mutexfraction", 10, "runtime.SetMutexProfileFraction: one in this many contention events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	runtime.MemProfileRate = o.memRate
	o.impl = bench.Impl(*impl)
	switch o.workload {
	case "transfer":
		algs, err := bench.CipherByName(*cipher)
		if err != nil {
			return err
		}
		o.algs = algs
	case "handshake":
		o.algs = bench.Algorithms{Kex: *kex, Cipher: "aes128-gcm@openssh.com"}
	case "sftp-upload", "sftp-download", "idle":
		o.algs = bench.SFTPAlgorithms
	default:
		return fmt.Errorf("unknown workload %q", o.workload)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	w, err := setUp(o)
	if err != nil {
		return err
	}
	defer w.close()

	p, err := startProfiles(o)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := w.run(start.Add(o.duration))
	elapsed := time.Since(start)
	if perr := p.stop(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s %s: %s in %s: %s\n", o.workload, o.impl, o.algs.Name(), w.describe(n), elapsed.Round(time.Millisecond), w.rate(n, elapsed))
	fmt.Fprintf(stdout, "profiles in %s: cpu.pprof allocs.pprof (allocs-base.pprof: at the start) block.pprof mutex.pprof heap.pprof goroutine.pprof\n", o.out)
	fmt.Fprintf(stdout, "  go tool pprof -top %s\n", filepath.Join(o.out, "cpu.pprof"))
	fmt.Fprintf(stdout, "  go tool pprof -top -sample_index=alloc_space -base %s %s\n", filepath.Join(o.out, "allocs-base.pprof"), filepath.Join(o.out, "allocs.pprof"))
	return nil
}

// workload is a set-up workload: run repeats its op until the deadline and
// returns how many it did.
type workload struct {
	run      func(deadline time.Time) (int64, error)
	describe func(n int64) string
	rate     func(n int64, d time.Duration) string
	close    func()
}

func setUp(o options) (*workload, error) {
	bytesRate := func(size int64) func(n int64, d time.Duration) string {
		return func(n int64, d time.Duration) string {
			return fmt.Sprintf("%.1f MB/s", float64(n*size)/d.Seconds()/1e6)
		}
	}
	switch o.workload {
	case "transfer":
		p, err := bench.NewPair(o.impl, o.algs, "")
		if err != nil {
			return nil, err
		}
		sink, err := p.Client.Sink()
		if err != nil {
			p.Close()
			return nil, err
		}
		chunk := bench.Payload(bench.ChunkSize)
		for range 1024 { // 32 MiB: pools filled, windows grown
			if _, err := sink.Write(chunk); err != nil {
				p.Close()
				return nil, err
			}
		}
		return &workload{
			run: func(deadline time.Time) (int64, error) {
				var n int64
				for time.Now().Before(deadline) {
					for range 256 {
						if _, err := sink.Write(chunk); err != nil {
							return n, err
						}
					}
					n += 256
				}
				return n, sink.Close()
			},
			describe: func(n int64) string { return fmt.Sprintf("%d MiB", n*bench.ChunkSize>>20) },
			rate:     bytesRate(bench.ChunkSize),
			close:    p.Close,
		}, nil

	case "handshake":
		s, err := bench.StartServer(o.impl, o.algs, "")
		if err != nil {
			return nil, err
		}
		if err := bench.Handshake(o.impl, s.Addr(), o.algs); err != nil {
			s.Close()
			return nil, err
		}
		return &workload{
			run: func(deadline time.Time) (int64, error) {
				var (
					n    atomic.Int64
					wg   sync.WaitGroup
					mu   sync.Mutex
					errs []error
				)
				for range max(1, o.clients) {
					wg.Go(func() {
						for time.Now().Before(deadline) {
							if err := bench.Handshake(o.impl, s.Addr(), o.algs); err != nil {
								mu.Lock()
								errs = append(errs, err)
								mu.Unlock()
								return
							}
							n.Add(1)
						}
					})
				}
				wg.Wait()
				return n.Load(), errors.Join(errs...)
			},
			describe: func(n int64) string { return fmt.Sprintf("%d handshakes", n) },
			rate: func(n int64, d time.Duration) string {
				return fmt.Sprintf("%.0f handshakes/s", float64(n)/d.Seconds())
			},
			close: func() { s.Close() },
		}, nil

	case "idle":
		s, err := bench.StartServer(o.impl, o.algs, "")
		if err != nil {
			return nil, err
		}
		cs, err := bench.DialMany(o.impl, s.Addr(), o.algs, o.conns)
		if err != nil {
			s.Close()
			return nil, err
		}
		if err := bench.WaitAuthenticated(s, int64(o.conns), 10*time.Second); err != nil {
			bench.CloseAll(cs)
			s.Close()
			return nil, err
		}
		return &workload{
			run: func(deadline time.Time) (int64, error) {
				time.Sleep(time.Until(deadline))
				return int64(o.conns), nil
			},
			describe: func(n int64) string { return fmt.Sprintf("%d idle connections", n) },
			rate: func(n int64, _ time.Duration) string {
				m := bench.ReadMemory()
				return fmt.Sprintf("%.0f bytes of heap and %.0f of stacks per connection, both ends (the process's total)",
					float64(m.Heap)/float64(n), float64(m.Stack)/float64(n))
			},
			close: func() {
				bench.CloseAll(cs)
				s.Close()
			},
		}, nil

	default: // sftp-upload, sftp-download
		root, err := bench.TempDir()
		if err != nil {
			return nil, err
		}
		data := bench.Payload(bench.SFTPSize)
		if err := bench.WriteFile(root, "down", data); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
		p, err := bench.NewPair(o.impl, o.algs, root)
		if err != nil {
			os.RemoveAll(root)
			return nil, err
		}
		c, err := p.Client.SFTP()
		if err != nil {
			p.Close()
			os.RemoveAll(root)
			return nil, err
		}
		op := func() error { return bench.Upload(c, "/up", data) }
		if o.workload == "sftp-download" {
			op = func() error { return bench.Download(c, "/down", bench.SFTPSize) }
		}
		return &workload{
			run: func(deadline time.Time) (int64, error) {
				var n int64
				for time.Now().Before(deadline) {
					if err := op(); err != nil {
						return n, err
					}
					n++
				}
				return n, nil
			},
			describe: func(n int64) string { return fmt.Sprintf("%d files of 64 MiB", n) },
			rate:     bytesRate(bench.SFTPSize),
			close: func() {
				c.Close()
				p.Close()
				os.RemoveAll(root)
			},
		}, nil
	}
}

// profiles are the profiles being recorded.
type profiles struct {
	dir string
	cpu *os.File
}

// startProfiles writes allocs-base.pprof (allocations of the set-up, to
// subtract), then starts the CPU profile and the block and mutex
// sampling, so that those see the steady state alone.
func startProfiles(o options) (*profiles, error) {
	p := &profiles{dir: o.out}
	if err := p.write("allocs", "allocs-base.pprof"); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(o.out, "cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	p.cpu = f
	runtime.SetBlockProfileRate(o.blockRate)
	runtime.SetMutexProfileFraction(o.mutexFrac)
	return p, nil
}

// stop ends the CPU profile and writes the others.
func (p *profiles) stop() error {
	pprof.StopCPUProfile()
	err := p.cpu.Close()
	runtime.GC()
	for _, name := range []string{"allocs", "block", "mutex", "heap", "goroutine"} {
		err = errors.Join(err, p.write(name, name+".pprof"))
	}
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(0)
	return err
}

func (p *profiles) write(name, file string) error {
	f, err := os.Create(filepath.Join(p.dir, file))
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
