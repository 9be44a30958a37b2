// Package sftp serves and consumes the SFTP subsystem (draft-ietf-secsh-filexfer-02,
// protocol version 3, with OpenSSH's extensions) on top of github.com/pkg/sftp.
//
// # Server
//
// [Serve] runs pkg/sftp's request server over any io.ReadWriteCloser carrying the
// "sftp" subsystem (an SSH session channel) and answers every request from a
// directory tree opened with [os.OpenRoot]:
//
//   - Client paths are cleaned relative to "/" ("/../../etc/passwd" is
//     Root/etc/passwd), then resolved through os.Root, which follows symbolic
//     links component by component and refuses any that leave the root, as well
//     as absolute symbolic links. A refused path answers SSH_FX_PERMISSION_DENIED.
//
//   - Symbolic links may be created (SSH_FXP_SYMLINK) only when their target stays
//     inside the root. An absolute target is read in the client's view ("/" is the
//     root) and stored as a relative link; a relative target that climbs above the
//     root is refused. SSH_FXP_READLINK shows absolute links that point inside the
//     root as client paths and refuses links that point outside it.
//
//   - An upload that creates or truncates a file is written to a temporary name in
//     the same directory (".NAME.zerossh-upload-RANDOM"), flushed with fsync and
//     renamed over NAME when the client closes the handle (SSH_FXP_CLOSE). A
//     connection that ends with the handle still open, or an upload during which
//     a write failed, removes the temporary file and leaves NAME untouched. Opens
//     of an existing file that neither truncate it nor replace it (append, resume,
//     read-write updates without SSH_FXF_TRUNC) and opens through a symbolic link
//     write the real file in place. Writes go to the offsets the client sends,
//     also with SSH_FXF_APPEND (as in pkg/sftp's own server): the request server
//     runs writes on several goroutines, so appending at the end of the file
//     would reorder pipelined data, and OpenSSH's sftp sends the end offsets when
//     it resumes. SSH_FXF_EXCL uploads are published with link(2), so they never
//     replace a file created meanwhile.
//
//   - Files are created by the server process, mode 0644 less its umask; a
//     truncating upload over an existing file keeps that file's permission bits.
//     pkg/sftp does not pass the attributes of SSH_FXP_OPEN to handlers, so a
//     client sets modes with (F)SETSTAT, which reaches the pending upload when it
//     names a file being uploaded in the same session. SETSTAT supports size,
//     permissions (the nine rwx bits; setuid, setgid and sticky are dropped) and
//     times. Ownership follows the server process: a SETSTAT that would change the
//     owner or group is refused with SSH_FX_PERMISSION_DENIED, whoever the server
//     runs as, and one that restates the current owner is accepted.
//
//   - Only regular files may be opened for reading or writing; FIFOs and device
//     files are refused without blocking.
//
//   - Errors answer SSH_FX_NO_SUCH_FILE for a missing file, SSH_FX_PERMISSION_DENIED
//     for EACCES, EPERM, a path escaping the root or a write to a read-only server,
//     and SSH_FX_FAILURE otherwise (an existing target, a non-empty directory, ...).
//     Messages name client paths only, never the server's directory layout.
//
//   - SSH_FXP_RENAME refuses to replace an existing target (as OpenSSH does, with
//     link(2) and unlink(2) for regular files); posix-rename@openssh.com replaces
//     it. hardlink@openssh.com and statvfs@openssh.com are served as well.
//
//   - A session holds at most 1024 open file and directory handles.
//
//   - SSH_FXP_READ and SSH_FXP_WRITE wait while an SSH_FXP_OPEN before them is
//     unanswered, as pkg/sftp would otherwise run them against a handle that is
//     still being set up (see requestGate).
//
// Each transfer (a file handle opened for reading or writing) is logged as one
// structured line when it ends, with the path, direction, bytes, duration and
// outcome ("ok", "failed" or "aborted").
//
// # Client
//
// [NewClient] wraps pkg/sftp's client with pipelined reads and writes (64 requests
// in flight per file) and [Client.Get] and [Client.Put] transfer whole files with
// progress reports and context cancellation. Get writes a temporary local file and
// renames it on success; Put uploads to a temporary remote name and renames it
// with posix-rename@openssh.com when the server offers it, so the final name never
// holds a partial file on any server offering that extension.
package sftp
