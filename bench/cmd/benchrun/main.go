// Command benchrun runs the end-to-end benchmarks of package bench the way
// their numbers are meant to be read: the implementations interleaved run
// by run (zerossh, golang.org/x/crypto/ssh and, when installed, OpenSSH's
// ssh and sftp against sshd), each run a fresh process, and one table of
// medians with the ratios zerossh/x-crypto-ssh and zerossh/OpenSSH, the
// raw cipher ceiling and the targets of the performance budget.
//
// Run it from the module root:
//
//	go run ./bench/cmd/benchrun [-rounds 5] [-results bench/RESULTS.md] [-chart bench/throughput.png]
//
// It builds the benchmark binary with go test -c, so it needs the source
// tree and the go command.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	rounds      int
	idleRounds  int
	benchtime   string
	sftpFiles   int
	filter      *regexp.Regexp
	pkg         string
	results     string
	chart       string
	verbose     bool
	noOpenSSH   bool
	timeout     time.Duration
	quietWait   time.Duration
	quietBudget time.Duration
	saveRaw     string
	from        string
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.rounds, "rounds", 5, "runs of every benchmark, interleaved across implementations; the table shows medians")
	fs.IntVar(&o.idleRounds, "idle-rounds", 2, "runs of the idle-connection benchmarks (each sets up 1,000 connections twice)")
	fs.StringVar(&o.benchtime, "benchtime", "1s", "-test.benchtime of transfers, handshakes and the cipher ceiling")
	fs.IntVar(&o.sftpFiles, "sftp-files", 2, "64 MiB files moved per SFTP run")
	run := fs.String("run", "", "regexp: only the rows whose name matches, such as 'Transfer' or 'SFTP/upload'")
	fs.StringVar(&o.pkg, "pkg", "./bench", "the package holding the benchmarks")
	fs.StringVar(&o.results, "results", "", "write the table to this Markdown file (bench/RESULTS.md)")
	fs.StringVar(&o.chart, "chart", "", "draw transfer throughput to this .png or .svg file")
	fs.BoolVar(&o.verbose, "v", false, "print every benchmark line")
	fs.BoolVar(&o.noOpenSSH, "no-openssh", false, "leave OpenSSH out even when it is installed")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound on one benchmark process")
	fs.DurationVar(&o.quietWait, "quiet-wait", 20*time.Second, "before each run, wait up to this long for other processes to leave the CPUs idle (0: no wait)")
	fs.DurationVar(&o.quietBudget, "quiet-budget", 90*time.Second, "bound on all the waiting for idle CPUs, so that a busy machine does not stretch the run")
	fs.StringVar(&o.saveRaw, "save-raw", "", "also write every benchmark result line to this file")
	fs.StringVar(&o.from, "from", "", "make the table and chart from a -save-raw file instead of running anything")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.filter, err = regexp.Compile(*run); err != nil {
		return err
	}
	if o.rounds < 1 || o.idleRounds < 0 || o.sftpFiles < 1 {
		return fmt.Errorf("-rounds and -sftp-files must be at least 1, -idle-rounds at least 0")
	}

	start := time.Now()
	machine := describeMachine()
	impls := []string{zerossh, xcrypto}
	if missing := openSSHMissing(); missing != "" || o.noOpenSSH {
		if !o.noOpenSSH {
			fmt.Fprintf(stderr, "benchrun: OpenSSH left out: %s not found\n", missing)
		}
	} else {
		impls = append(impls, openssh)
	}
	res := newResults()
	busy, runs := 0, 0
	if o.from != "" {
		b, err := os.ReadFile(o.from)
		if err != nil {
			return err
		}
		for _, l := range parseOutput(string(b)) {
			res.add(l)
			if strings.HasPrefix(l.name, "BenchmarkTransfer/"+openssh+"/") && !slices.Contains(impls, openssh) {
				impls = append(impls, openssh)
			}
		}
	} else {
		var raw []string
		busy, runs, raw, err = runAll(o, impls, res, stderr, start)
		if err != nil {
			return err
		}
		if o.saveRaw != "" {
			if err := os.WriteFile(o.saveRaw, []byte(strings.Join(raw, "\n")+"\n"), 0o644); err != nil {
				return err
			}
		}
	}

	rep := &report{
		machine: machine,
		command: commandLine(),
		rounds:  o.rounds, idleRounds: o.idleRounds, benchtime: o.benchtime, sftpFiles: o.sftpFiles,
		impls: impls,
		res:   res,
		busy:  busy, runs: runs,
		elapsed: time.Since(start),
	}
	rep.build(o.filter)
	fmt.Fprint(stdout, rep.text())
	if o.chart != "" {
		if err := rep.drawChart(o.chart); err != nil {
			return fmt.Errorf("chart: %v", err)
		}
		rep.chartPath = o.chart
	}
	if o.results != "" {
		if err := os.WriteFile(o.results, []byte(rep.markdown(o.results)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "benchrun: wrote %s\n", o.results)
	}
	return nil
}

// runAll builds the benchmark binary and runs the plan, adding every
// result to res; it returns how many runs started on a busy machine, how
// many runs there were, and every result line.
func runAll(o options, impls []string, res *results, stderr io.Writer, start time.Time) (busy, runs int, raw []string, err error) {
	tmp, err := os.MkdirTemp("", "benchrun-")
	if err != nil {
		return 0, 0, nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	fmt.Fprintf(stderr, "benchrun: building %s\n", o.pkg)
	build := exec.Command("go", "test", "-c", "-o", bin, o.pkg)
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return 0, 0, nil, fmt.Errorf("go test -c %s: %v", o.pkg, err)
	}

	plan := planRuns(o, impls)
	waited := time.Duration(0)
	for i, r := range plan {
		wait := min(o.quietWait, o.quietBudget-waited)
		t0 := time.Now()
		quiet := wait <= 0 || waitQuiet(wait)
		waited += time.Since(t0)
		if !quiet {
			busy++
			fmt.Fprintf(stderr, "benchrun: other processes keep the CPUs busy; running %s anyway\n", r.pattern)
		}
		lines, err := runBench(bin, tmp, r, o.timeout)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("%s: %v", r.pattern, err)
		}
		for _, l := range lines {
			res.add(l)
			raw = append(raw, l.raw)
			if o.verbose {
				fmt.Fprintln(stderr, l.raw)
			}
		}
		fmt.Fprintf(stderr, "benchrun: [%d/%d %s] %s\n", i+1, len(plan), time.Since(start).Round(time.Second), r.summary(lines))
	}
	return busy, len(plan), raw, nil
}

// Implementation names as the benchmarks spell them.
const (
	zerossh = "zerossh"
	xcrypto = "x-crypto-ssh"
	openssh = "openssh"
)

// Rows of the table, in order, with the implementations that have them.
var (
	ciphers = []string{
		"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
		"aes128-ctr+hmac-sha2-256-etm@openssh.com",
	}
	kexes = []string{"curve25519-sha256", "mlkem768x25519-sha256"}
)

// aeadBenchtime is the -test.benchtime of the cipher ceilings and of the
// packet protection beside them: each is a tight loop, steady well
// before a second.
const aeadBenchtime = "300ms"

// benchRun is one process: one benchmark pattern with its flags.
type benchRun struct {
	group   string // the row, e.g. Transfer/aes128-gcm@openssh.com
	impl    string
	pattern string
	flags   []string
}

func (r benchRun) summary(lines []line) string {
	var parts []string
	for _, l := range lines {
		for _, unit := range []string{"MB/s", "handshakes/s", "B/conn"} {
			if v, ok := l.metrics[unit]; ok {
				parts = append(parts, fmt.Sprintf("%s %.4g %s", l.name, v, unit))
				break
			}
		}
	}
	if len(parts) == 0 {
		return r.pattern + ": no result"
	}
	return strings.Join(parts, "; ")
}

// planRuns lists the processes to run: round after round, each row's
// implementations back to back, their order rotated every round so that
// none is always first.
func planRuns(o options, impls []string) []benchRun {
	q := regexp.QuoteMeta
	pat := func(parts ...string) string {
		for i, p := range parts {
			parts[i] = "^" + q(p) + "$"
		}
		return strings.Join(parts, "/")
	}
	bt := []string{"-test.benchtime", o.benchtime}
	inProcess := []string{zerossh, xcrypto}
	var plan []benchRun
	rotate := func(s []string, k int) []string {
		k %= len(s)
		return append(slices.Clone(s[k:]), s[:k]...)
	}
	for round := range max(o.rounds, o.idleRounds) {
		if round < o.rounds {
			plan = append(plan, benchRun{group: "AEAD", pattern: "^(BenchmarkAEAD|BenchmarkPacket)$", flags: []string{"-test.benchtime", aeadBenchtime}})
			for _, c := range ciphers {
				g := "Transfer/" + c
				for _, impl := range rotate(impls, round) {
					plan = append(plan, benchRun{group: g, impl: impl, pattern: pat("BenchmarkTransfer", impl, c), flags: bt})
				}
			}
			for _, dir := range []string{"upload", "download"} {
				g := "SFTP/" + dir
				for _, impl := range rotate(impls, round) {
					plan = append(plan, benchRun{group: g, impl: impl, pattern: pat("BenchmarkSFTP", impl, dir),
						flags: []string{"-test.benchtime", fmt.Sprintf("%dx", o.sftpFiles)}})
				}
			}
			for _, k := range kexes {
				g := "Handshake/" + k
				for _, impl := range rotate(inProcess, round) {
					plan = append(plan, benchRun{group: g, impl: impl, pattern: pat("BenchmarkHandshake", impl, k), flags: bt})
				}
			}
			g := "HandshakeParallel/" + kexes[0]
			for _, impl := range rotate(inProcess, round) {
				plan = append(plan, benchRun{group: g, impl: impl, pattern: pat("BenchmarkHandshakeParallel", impl, kexes[0]), flags: bt})
			}
		}
		if round < o.idleRounds {
			for _, end := range []string{"server", "client"} {
				g := "IdleConns/" + end
				for _, impl := range rotate(inProcess, round) {
					plan = append(plan, benchRun{group: g, impl: impl, pattern: pat("BenchmarkIdleConns", impl, end),
						flags: []string{"-test.benchtime", "1x"}})
				}
			}
		}
	}
	return slices.DeleteFunc(plan, func(r benchRun) bool {
		return r.group != "AEAD" && !o.filter.MatchString(r.group)
	})
}

// runBench runs one benchmark process and returns its result lines.
func runBench(bin, dir string, r benchRun, timeout time.Duration) ([]line, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"-test.run", "^$", "-test.bench", r.pattern, "-test.benchmem", "-test.count", "1"}, r.flags...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out)
	}
	lines := parseOutput(string(out))
	if len(lines) == 0 && !strings.Contains(string(out), "SKIP") {
		return nil, fmt.Errorf("no benchmark result\n%s", out)
	}
	return lines, nil
}

// openSSHMissing names the first OpenSSH program that is missing, or "".
func openSSHMissing() string {
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		return "/usr/sbin/sshd"
	}
	for _, p := range []string{"ssh", "sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			return p
		}
	}
	return ""
}

// commandLine is how this run was started, as a person would retype it.
func commandLine() string {
	if c := os.Getenv("BENCHRUN_COMMAND"); c != "" {
		return c
	}
	return strings.Join(append([]string{"go run ./bench/cmd/benchrun"}, os.Args[1:]...), " ")
}

// median returns the median of vs, and whether there was any.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.SortFunc(s, cmp.Compare)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}
