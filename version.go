package zerossh

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// RFC 4253 §4.2: "The maximum length of the string is 255 characters,
// including the Carriage Return and Line Feed."
const maxVersionLine = 255

// maxPreVersionLines bounds the lines a server may send before its
// version line (RFC 4253 §4.2 allows them, without a limit); OpenSSH's
// client stops after 1024 as well.
const maxPreVersionLines = 1024

var (
	errVersionTooLong   = errors.New("ssh: version line longer than 255 bytes")
	errVersionNUL       = errors.New("ssh: NUL byte in version exchange")
	errTooManyPreLines  = errors.New("ssh: too many lines before the version line")
	errNotSSH           = errors.New("ssh: peer did not send an SSH version line")
	errVersionMalformed = errors.New("ssh: malformed version line")
)

// versionLine returns the local identification string without CR LF.
func (c *Config) versionLine() []byte {
	v := "SSH-2.0-" + c.SoftwareVersion
	if c.Comment != "" {
		v += " " + c.Comment
	}
	return []byte(v)
}

// readVersion reads the peer's identification string (RFC 4253 §4.2) and
// returns it without its line ending. A client skips up to
// maxPreVersionLines other lines first; a server accepts none. The
// returned error for an SSH version other than 2.0 (or 1.99, which means
// 2.0 as well, RFC 4253 §5.1) is a *DisconnectError with reason protocol
// version not supported, for the caller to send.
func readVersion(r *bufio.Reader, isClient bool) ([]byte, error) {
	for range maxPreVersionLines + 1 {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(line, []byte("SSH-")) {
			if !isClient {
				return nil, errNotSSH
			}
			continue
		}
		return checkVersion(line)
	}
	return nil, errTooManyPreLines
}

func checkVersion(line []byte) ([]byte, error) {
	// SSH-protoversion-softwareversion SP comments; softwareversion is
	// printable US-ASCII without spaces or minus signs, and must be there.
	rest, ok := bytes.CutPrefix(line, []byte("SSH-2.0-"))
	if !ok {
		rest, ok = bytes.CutPrefix(line, []byte("SSH-1.99-"))
	}
	if !ok {
		if proto, _, found := bytes.Cut(line[4:], []byte("-")); !found || len(proto) == 0 {
			return nil, errVersionMalformed
		}
		return nil, &DisconnectError{
			Reason:  ProtocolVersionNotSupported,
			Message: "unsupported protocol version " + string(bytes.SplitN(line, []byte("-"), 3)[1]),
		}
	}
	software, _, _ := bytes.Cut(rest, []byte(" "))
	if len(software) == 0 {
		return nil, errVersionMalformed
	}
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			return nil, errVersionMalformed
		}
	}
	return line, nil
}

// readLine reads one line ending in LF (CR LF per the RFC; a bare LF is
// accepted, as OpenSSH does) and returns it without the ending. It reads
// byte by byte from the buffered reader, so nothing after the line is
// consumed.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch b {
		case 0:
			return nil, errVersionNUL
		case '\n':
			return bytes.TrimSuffix(line, []byte("\r")), nil
		}
		if len(line)+2 > maxVersionLine { // room for CR LF
			return nil, errVersionTooLong
		}
		line = append(line, b)
	}
}
