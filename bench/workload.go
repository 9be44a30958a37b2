package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/zerossh/zerossh/sftp"
)

// ChunkSize is what one channel Write of BenchmarkTransfer carries: one
// full packet on every implementation (x/crypto/ssh's largest channel
// packet is 32 KiB).
const ChunkSize = 32 << 10

// SFTPSize is the size of the files BenchmarkSFTP moves.
const SFTPSize = 64 << 20

// Pair is a server and one client connected to it.
type Pair struct {
	Server Server
	Client Client
}

// NewPair starts a server of impl and connects a client of impl to it.
func NewPair(impl Impl, algs Algorithms, root string) (*Pair, error) {
	s, err := StartServer(impl, algs, root)
	if err != nil {
		return nil, err
	}
	c, err := Dial(impl, s.Addr(), algs)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &Pair{s, c}, nil
}

// Close closes the client, then the server.
func (p *Pair) Close() {
	p.Client.Close()
	p.Server.Close()
}

// Handshake is one connection set-up as BenchmarkHandshake counts it:
// TCP dial, key exchange, user authentication, a session channel opened
// and closed, and the connection closed.
func Handshake(impl Impl, addr string, algs Algorithms) error {
	c, err := Dial(impl, addr, algs)
	if err != nil {
		return err
	}
	err = c.Session()
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

// Payload returns n bytes that do not compress, the same on every call.
func Payload(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'z', 'e', 'r', 'o', 's', 's', 'h'})
	r.Read(b)
	return b
}

// Upload writes data to name over c, as pkg/sftp pipelines it.
func Upload(c *sftp.Client, name string, data []byte) error {
	f, err := c.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Download reads name over c into io.Discard and checks its size.
func Download(c *sftp.Client, name string, size int64) error {
	f, err := c.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := f.WriteTo(io.Discard)
	if err == nil && n != size {
		err = fmt.Errorf("bench: downloaded %d bytes of %d", n, size)
	}
	return err
}

// TempDir makes a directory for SFTP files in memory (/dev/shm) where
// there is one, so that the benchmarks measure SFTP and not the disk.
func TempDir() (string, error) {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "zerossh-bench-"); err == nil {
			return dir, nil
		}
	}
	return os.MkdirTemp("", "zerossh-bench-")
}

// WriteFile writes data to a file name in dir.
func WriteFile(dir, name string, data []byte) error {
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}

// DialMany connects n clients of impl to addr, a few at a time; on error
// it closes those it made.
func DialMany(impl Impl, addr string, algs Algorithms, n int) ([]Client, error) {
	cs := make([]Client, n)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				c, err := Dial(impl, addr, algs)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				cs[i] = c
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		CloseAll(cs)
		return nil, err
	}
	return cs, nil
}

// WaitAuthenticated waits until s has authenticated n connections: a
// server counts one a moment after its client has returned from Dial.
func WaitAuthenticated(s Server, n int64, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); s.Authenticated() < n; {
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %d of %d connections authenticated", s.Authenticated(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// CloseAll closes every client in cs.
func CloseAll(cs []Client) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

// Memory is a snapshot of what the process holds, after garbage
// collection.
type Memory struct {
	Heap, Stack uint64 // bytes of live heap objects and of goroutine stacks
	Goroutines  int
}

// ReadMemory collects garbage (twice, so that sync.Pool's victim cache
// is dropped too) and reads what is left.
func ReadMemory() Memory {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Memory{Heap: ms.HeapAlloc, Stack: ms.StackInuse, Goroutines: runtime.NumGoroutine()}
}
