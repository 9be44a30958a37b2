package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// HelperEnv names the environment variable that turns a benchmark binary
// into a helper process (see Helper), so that BenchmarkIdleConns measures
// one end of 1,000 connections with the other end in another process.
const HelperEnv = "ZEROSSH_BENCH_HELPER"

// Helper runs the helper process that spec describes, one of
//
//	server IMPL           start a server and print its address
//	clients IMPL ADDR N   connect N clients to ADDR and print "ready"
//
// and keeps what it made until stdin reaches EOF.
func Helper(spec string, stdin io.Reader, stdout io.Writer) error {
	f := strings.Fields(spec)
	if len(f) < 2 {
		return fmt.Errorf("bench: bad helper spec %q", spec)
	}
	impl := Impl(f[1])
	switch {
	case f[0] == "server" && len(f) == 2:
		s, err := StartServer(impl, SFTPAlgorithms, "")
		if err != nil {
			return err
		}
		defer s.Close()
		fmt.Fprintln(stdout, s.Addr())
	case f[0] == "clients" && len(f) == 4:
		n, err := strconv.Atoi(f[3])
		if err != nil {
			return err
		}
		cs, err := DialMany(impl, f[2], SFTPAlgorithms, n)
		if err != nil {
			return err
		}
		defer CloseAll(cs)
		fmt.Fprintln(stdout, "ready")
	default:
		return fmt.Errorf("bench: bad helper spec %q", spec)
	}
	_, err := io.Copy(io.Discard, stdin)
	return err
}

// RunHelper runs Helper if HelperEnv is set and exits; a TestMain calls it
// first.
func RunHelper() {
	spec := os.Getenv(HelperEnv)
	if spec == "" {
		return
	}
	if err := Helper(spec, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// StartHelper starts exe (a binary that calls RunHelper) as the helper
// spec describes, and returns the first line it prints, a function that
// ends it (closing its stdin and waiting), and an error.
func StartHelper(exe, spec string) (line string, stop func() error, err error) {
	cmd := execHelper(exe, spec)
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() error {
		in.Close()
		return cmd.Wait()
	}
	line, err = bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("bench: helper %q: %v", spec, err)
	}
	return strings.TrimSpace(line), stop, nil
}

func execHelper(exe, spec string) *exec.Cmd {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), HelperEnv+"="+spec)
	cmd.Stderr = os.Stderr
	return cmd
}
