package sftp

import (
	"bytes"
	"encoding/binary"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// SFTP packet types (draft-ietf-secsh-filexfer-02, Section 3).
const (
	fxpInit     = 1
	fxpOpen     = 3
	fxpClose    = 4
	fxpRead     = 5
	fxpWrite    = 6
	fxpLstat    = 7
	fxpFsetstat = 10
	fxpOpendir  = 11
	fxpReaddir  = 12
	fxpRemove   = 13
	fxpMkdir    = 14
	fxpRealpath = 16
	fxpStat     = 17
	fxpRename   = 18
	fxpReadlink = 19
	fxpSymlink  = 20
	fxpExtended = 200
)

// sftpPacket appends one length-prefixed SFTP packet, as its own element, to
// dst. Fields are uint32 (or int), uint64, and string (uint32-prefixed) values.
func sftpPacket(dst [][]byte, typ byte, fields ...any) [][]byte {
	body := []byte{typ}
	for _, f := range fields {
		switch v := f.(type) {
		case uint32:
			body = binary.BigEndian.AppendUint32(body, v)
		case int:
			body = binary.BigEndian.AppendUint32(body, uint32(v))
		case uint64:
			body = binary.BigEndian.AppendUint64(body, v)
		case string:
			body = binary.BigEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
		default:
			panic("sftpPacket: unsupported field type")
		}
	}
	pkt := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	return append(dst, append(pkt, body...))
}

// seedSessions are valid sessions, packet by packet: an upload, a listing,
// renames and links, and attempts to leave the root.
func seedSessions() [][][]byte {
	const write, creat, trunc, read, excl = 2, 8, 16, 1, 32
	var upload [][]byte
	upload = sftpPacket(upload, fxpInit, 3)
	upload = sftpPacket(upload, fxpOpen, 1, "/up", write|creat|trunc, 0)
	upload = sftpPacket(upload, fxpWrite, 2, "1", uint64(0), "hello")
	upload = sftpPacket(upload, fxpWrite, 3, "1", uint64(5), " world")
	upload = sftpPacket(upload, fxpFsetstat, 4, "1", 4, 0o600)
	upload = sftpPacket(upload, fxpClose, 5, "1")
	upload = sftpPacket(upload, fxpOpen, 6, "/up", read, 0)
	upload = sftpPacket(upload, fxpRead, 7, "2", uint64(0), 32768)
	upload = sftpPacket(upload, fxpStat, 8, "/up")

	var dirs [][]byte
	dirs = sftpPacket(dirs, fxpInit, 3)
	dirs = sftpPacket(dirs, fxpMkdir, 1, "/d", 0)
	dirs = sftpPacket(dirs, fxpOpen, 2, "/d/f", write|creat|excl, 0)
	dirs = sftpPacket(dirs, fxpOpendir, 3, "/d")
	dirs = sftpPacket(dirs, fxpReaddir, 4, "2")
	dirs = sftpPacket(dirs, fxpReaddir, 5, "2")
	dirs = sftpPacket(dirs, fxpRename, 6, "/d", "/e")
	dirs = sftpPacket(dirs, fxpSymlink, 7, "e", "/l")
	dirs = sftpPacket(dirs, fxpReadlink, 8, "/l")
	dirs = sftpPacket(dirs, fxpExtended, 9, "posix-rename@openssh.com", "/l", "/m")
	dirs = sftpPacket(dirs, fxpExtended, 10, "hardlink@openssh.com", "/m", "/n")
	dirs = sftpPacket(dirs, fxpExtended, 11, "statvfs@openssh.com", "/")
	dirs = sftpPacket(dirs, fxpRemove, 12, "/n")
	dirs = sftpPacket(dirs, fxpRealpath, 13, "..")

	var escape [][]byte
	escape = sftpPacket(escape, fxpInit, 3)
	escape = sftpPacket(escape, fxpOpen, 1, "../../etc/passwd", read, 0)
	escape = sftpPacket(escape, fxpLstat, 2, "/../..")
	escape = sftpPacket(escape, fxpSymlink, 3, "../../../etc", "/x")
	escape = sftpPacket(escape, fxpOpen, 4, "/../outside", write|creat, 0)
	escape = sftpPacket(escape, fxpRename, 5, "/../outside", "/../../y")

	return [][][]byte{upload, dirs, escape}
}

// FuzzServe feeds arbitrary bytes as the client's side of a session. Serve must
// return once the input ends, without panicking, leave nothing outside its root
// and no temporary upload behind.
func FuzzServe(f *testing.F) {
	for _, session := range seedSessions() {
		seed := bytes.Join(session, nil)
		f.Add(seed)
		f.Add(seed[:len(seed)-3])
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		base := t.TempDir()
		root := filepath.Join(base, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			done <- Serve(&scriptedConn{r: bytes.NewReader(in)}, &ServerOptions{Root: root, Logger: discardLogger})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return after the input ended")
		}
		if got := dirNames(t, base); !slices.Equal(got, []string{"root"}) {
			t.Fatalf("outside the root: %v", got)
		}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".zerossh-upload-") {
				t.Errorf("temporary upload left behind: %s", p)
			}
			return nil
		})
	})
}

var discardLogger = slog.New(slog.DiscardHandler)

// scriptedConn reads a fixed input and discards what is written.
type scriptedConn struct {
	r *bytes.Reader
}

func (c *scriptedConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *scriptedConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *scriptedConn) Close() error                { return nil }

// TestServeSeeds plays the upload seed as a client would, one request per
// response, and checks its effect, so the fuzzer starts from inputs that reach
// the handlers.
func TestServeSeeds(t *testing.T) {
	root := t.TempDir()
	conn := newLockstepConn(seedSessions()[0])
	// The session ends with its download handle open.
	if err := Serve(conn, &ServerOptions{Root: root, Logger: discardLogger}); err != io.ErrUnexpectedEOF {
		t.Fatalf("Serve = %v; want io.ErrUnexpectedEOF", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "up")); string(got) != "hello world" {
		t.Fatalf("up = %q; want hello world", got)
	}
	if fi, _ := os.Stat(filepath.Join(root, "up")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("up mode = %v; want 0600 from FSETSTAT", fi.Mode())
	}
	// VERSION, HANDLE, STATUS x4, HANDLE, DATA, ATTRS.
	if want := []byte{2, 102, 101, 101, 101, 101, 102, 103, 105}; !bytes.Equal(conn.types, want) {
		t.Fatalf("response types %v; want %v", conn.types, want)
	}
}

// TestServeMalformedAttrs answers SSH_FXP_SETSTAT with attributes cut short
// with SSH_FX_BAD_MESSAGE, for a path and for a pending upload.
func TestServeMalformedAttrs(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), nil, 0o644)
	var packets [][]byte
	packets = sftpPacket(packets, fxpInit, 3)
	packets = sftpPacket(packets, 9, 1, "/f", 4) // SSH_FXP_SETSTAT, permissions flag, no permissions
	packets = sftpPacket(packets, fxpOpen, 2, "/g", 2|8|16, 0)
	packets = sftpPacket(packets, fxpFsetstat, 3, "1", 1|4, uint32(0)) // size flag, size cut short
	packets = sftpPacket(packets, fxpClose, 4, "1")
	conn := newLockstepConn(packets)
	if err := Serve(conn, &ServerOptions{Root: root, Logger: discardLogger}); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	for _, i := range []int{1, 3} {
		a := conn.answers[i]
		if a[0] != 101 || binary.BigEndian.Uint32(a[5:]) != 5 {
			t.Errorf("answer %d = %x; want SSH_FXP_STATUS with SSH_FX_BAD_MESSAGE", i, a)
		}
	}
}

// lockstepConn sends one packet, then waits for its response before the next.
type lockstepConn struct {
	mu      sync.Mutex
	cond    sync.Cond
	packets [][]byte
	next    int
	pending []byte
	out     []byte   // response bytes not yet split into packets
	types   []byte   // types of the responses
	answers [][]byte // the responses, without their length
}

func newLockstepConn(packets [][]byte) *lockstepConn {
	c := &lockstepConn{packets: packets}
	c.cond.L = &c.mu
	return c
}

func (c *lockstepConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		for len(c.types) < c.next {
			c.cond.Wait()
		}
		if c.next == len(c.packets) {
			return 0, io.EOF
		}
		c.pending = c.packets[c.next]
		c.next++
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *lockstepConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, p...)
	for len(c.out) >= 5 {
		n := int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < 4+n {
			break
		}
		c.types = append(c.types, c.out[4])
		c.answers = append(c.answers, slices.Clone(c.out[4:4+n]))
		c.out = c.out[4+n:]
	}
	c.cond.Broadcast()
	return len(p), nil
}

func (c *lockstepConn) Close() error { return nil }

// recordingConn reads a fixed input and records what is written.
type recordingConn struct {
	r *bytes.Reader
	w *bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *recordingConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *recordingConn) Close() error                { return nil }
