// Command zerossh serves and fetches files over SSH.
//
//	zerossh serve [flags]                      an SFTP server on embedded defaults (alias: sftpd)
//	zerossh get [flags] [user@]host:remote [local]
//	zerossh put [flags] local [user@]host:remote
//
// Exit codes: 0 success, 1 a failed operation, 2 a bad command line,
// 3 the server could not be reached or the SSH handshake failed, 4 the
// host key is unknown or changed, 5 authentication was refused.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes that scripts can rely on.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitHostKey     = 4
	exitAuth        = 5
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code, err}
}

const usage = `zerossh serves and fetches files over SSH.

Usage:
  zerossh serve [flags]                         SFTP server on 127.0.0.1:2022 (alias: sftpd)
  zerossh get [flags] [user@]host:remote [local] copy a file from a server
  zerossh put [flags] local [user@]host:remote   copy a file to a server

Run "zerossh <command> -help" for a command's flags.

Exit codes: 0 success, 1 a failed operation, 2 a bad command line,
3 server unreachable or handshake failed, 4 host key unknown or changed,
5 authentication refused.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve", "sftpd":
		err = serveCmd(args[1:], stdout, stderr)
	case "get":
		err = transferCmd("get", args[1:], stderr)
	case "put":
		err = transferCmd("put", args[1:], stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "zerossh: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprintf(stderr, "zerossh: %v\n", ee.err)
		return ee.code
	}
	fmt.Fprintf(stderr, "zerossh: %v\n", err)
	return exitFailure
}

// newFlagSet returns a flag set whose errors are usage errors.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: zerossh %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning a bad flag into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return withCode(exitUsage, err)
	}
	return nil
}
