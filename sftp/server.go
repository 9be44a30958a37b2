package sftp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pkg/sftp"
)

// maxHandles bounds the file and directory handles one session may hold open,
// so that a client cannot exhaust the server's file descriptors.
const maxHandles = 1024

// maxDataLength is the largest SSH_FXP_DATA payload the server sends: OpenSSH
// and pkg/sftp refuse SFTP packets longer than 256 KiB, and the header of
// SSH_FXP_DATA takes 13 bytes of that.
const maxDataLength = 256*1024 - 1024

// ServerOptions configures [Serve].
type ServerOptions struct {
	// Root is the directory served as "/". It is required and made absolute
	// with filepath.Abs.
	Root string
	// ReadOnly refuses every request that would change the tree.
	ReadOnly bool
	// Logger receives one line per transfer; nil means slog.Default().
	Logger *slog.Logger
	// User names the authenticated user in log lines.
	User string
	// RemoteAddr names the client's address in log lines.
	RemoteAddr string
}

// Serve answers SFTP requests read from rwc until the client goes away, and
// closes rwc. It returns nil when the client closed the stream cleanly,
// io.ErrUnexpectedEOF when it went away with files still open (uploads on those
// handles are discarded), and any other error that ended the session.
func Serve(rwc io.ReadWriteCloser, opts *ServerOptions) error {
	defer rwc.Close()
	if opts == nil || opts.Root == "" {
		return errors.New("sftp: ServerOptions.Root is required")
	}
	s, err := newServer(opts)
	if err != nil {
		return err
	}
	defer s.root.Close()

	h := sftp.Handlers{FileGet: s, FilePut: s, FileCmd: s, FileList: s}
	rs := sftp.NewRequestServer(newRequestGate(joinWrites(rwc)), h, sftp.WithRSMaxTxPacket(maxDataLength))
	err = rs.Serve()
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// server implements pkg/sftp's handlers for one session over an os.Root.
type server struct {
	root     *os.Root
	rootPath string // the root as given, made absolute
	realRoot string // the root with its symbolic links resolved
	escape   error  // the error os.Root gives for a path leaving the root
	readOnly bool
	log      *slog.Logger

	handles atomic.Int32

	mu      sync.Mutex
	pending map[string]*uploadFile // uploads written to a temporary name, by client path
}

var (
	_ sftp.FileReader           = (*server)(nil)
	_ sftp.OpenFileWriter       = (*server)(nil)
	_ sftp.PosixRenameFileCmder = (*server)(nil)
	_ sftp.StatVFSFileCmder     = (*server)(nil)
	_ sftp.LstatFileLister      = (*server)(nil)
	_ sftp.ReadlinkFileLister   = (*server)(nil)
)

func newServer(opts *ServerOptions) (*server, error) {
	abs, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	realRoot, err := filepath.EvalSymlinks(abs)
	if err != nil {
		realRoot = abs
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	s := &server{
		root:     root,
		rootPath: abs,
		realRoot: realRoot,
		readOnly: opts.ReadOnly,
		log:      logger.With(slog.String("user", opts.User), slog.String("remote_addr", opts.RemoteAddr)),
		pending:  make(map[string]*uploadFile),
	}
	// os.Root does not export the error it returns for an escaping name; take it
	// from a name that always escapes, so that it can be told apart with errors.Is.
	if _, err := root.Lstat(".."); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			s.escape = pe.Err
		}
	}
	return s, nil
}

// rootName maps a client path, which the request server has already made
// absolute and cleaned, to a name relative to the root. ".." cannot climb above
// "/", so the result never starts with "..".
func rootName(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// climbs reports whether a cleaned relative name leaves its starting directory.
func climbs(name string) bool {
	return name == ".." || strings.HasPrefix(name, "../")
}

func (s *server) acquireHandle() error {
	if s.handles.Add(1) > maxHandles {
		s.handles.Add(-1)
		return errTooManyHandles
	}
	return nil
}

func (s *server) releaseHandle() { s.handles.Add(-1) }

// pendingUpload returns the upload being written to a temporary name for the
// client path p in this session, if any.
func (s *server) pendingUpload(p string) *uploadFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending[p]
}

func (s *server) setPending(u *uploadFile) {
	s.mu.Lock()
	s.pending[u.path] = u
	s.mu.Unlock()
}

func (s *server) clearPending(u *uploadFile) {
	s.mu.Lock()
	if s.pending[u.path] == u {
		delete(s.pending, u.path)
	}
	s.mu.Unlock()
}

// tempName returns a fresh name for an upload to base, for the same directory.
func tempName(base string) string {
	if len(base) > 128 {
		base = base[:128]
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	return "." + base + ".zerossh-upload-" + hex.EncodeToString(rnd[:])
}
