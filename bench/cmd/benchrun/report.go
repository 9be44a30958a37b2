package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// implTitle is how the table heads each implementation.
var implTitle = map[string]string{zerossh: "zerossh", xcrypto: "x/crypto/ssh", openssh: "OpenSSH"}

// row is one line of the main table: one measurement, every
// implementation's median.
type row struct {
	group       string // as benchRun.group
	label, unit string
	lowerBetter bool
	med         map[string]float64 // impl -> median
	runs        map[string][]float64
	allocs      map[string]float64 // impl -> median mallocs/op (or allocs/op)
	ceiling     float64            // raw cipher seal MB/s, 0 if none
}

// ratio returns med[a]/med[b] and whether both exist.
func (r *row) ratio(a, b string) (float64, bool) {
	x, ok1 := r.med[a]
	y, ok2 := r.med[b]
	if !ok1 || !ok2 || y == 0 {
		return 0, false
	}
	return x / y, true
}

// overhead is the transport's CPU cost beside the raw cipher's, per cipher.
type overhead struct {
	cipher         string
	sealNs, openNs float64 // raw cipher, one 32 KiB packet
	sealMBs        float64 // raw seal throughput
	// packetNs and rawPacketNs are BenchmarkPacket's zerossh and raw
	// seal + open of one 32 KiB packet, measured in one loop each.
	packetNs, rawPacketNs float64
	cpuNs                 map[string]float64 // impl -> process CPU per 32 KiB write
	sysNs                 map[string]float64 // impl -> its system (kernel) part
	mbs                   map[string]float64 // impl -> transfer MB/s
}

// cpuOverhead is how much more CPU impl spends per byte than seal and open
// alone.
func (o *overhead) cpuOverhead(impl string) (float64, bool) {
	c, ok := o.cpuNs[impl]
	if !ok || o.sealNs+o.openNs == 0 || c == 0 {
		return 0, false
	}
	return c/(o.sealNs+o.openNs) - 1, true
}

// userOverhead is cpuOverhead without the system time: the kernel's
// loopback TCP, which any transport pays for the same bytes.
func (o *overhead) userOverhead(impl string) (float64, bool) {
	c, ok := o.cpuNs[impl]
	s, ok2 := o.sysNs[impl]
	if !ok || !ok2 || o.sealNs+o.openNs == 0 || c == 0 {
		return 0, false
	}
	return (c-s)/(o.sealNs+o.openNs) - 1, true
}

// target is one goal of the performance budget and how this run did.
type target struct {
	goal, value string
	met         bool
	known       bool
}

type report struct {
	machine                       machine
	command                       string
	rounds, idleRounds, sftpFiles int
	benchtime                     string
	busy, runs                    int // runs started on a busy machine, of all runs
	impls                         []string
	res                           *results
	elapsed                       time.Duration
	rows                          []*row
	overheads                     []*overhead
	targets                       []target
	chartPath                     string
	date                          string
	filter                        *regexp.Regexp
	transferRows                  []*row
}

// build computes the rows, the overheads and the targets.
func (rep *report) build(filter *regexp.Regexp) {
	rep.filter = filter
	rep.date = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	res := rep.res
	add := func(group, label, bench, unit string, lower bool, impls []string, ceiling float64) *row {
		if !filter.MatchString(group) {
			return nil
		}
		r := &row{group: group, label: label, unit: unit, lowerBetter: lower, ceiling: ceiling,
			med: map[string]float64{}, runs: map[string][]float64{}, allocs: map[string]float64{}}
		for _, impl := range impls {
			name := strings.Replace(bench, "IMPL", impl, 1)
			if v, ok := res.median(name, unit); ok {
				r.med[impl] = v
				r.runs[impl] = res.get(name, unit)
			}
			if v, ok := res.median(name, "mallocs/op"); ok {
				r.allocs[impl] = v
			} else if v, ok := res.median(name, "allocs/op"); ok {
				r.allocs[impl] = v
			}
		}
		rep.rows = append(rep.rows, r)
		return r
	}
	for _, c := range ciphers {
		seal, _ := res.median("BenchmarkAEAD/"+c+"/seal", "MB/s")
		if r := add("Transfer/"+c, "Transfer "+c, "BenchmarkTransfer/IMPL/"+c, "MB/s", false, rep.impls, seal); r != nil {
			rep.transferRows = append(rep.transferRows, r)
		}
	}
	for _, dir := range []string{"upload", "download"} {
		add("SFTP/"+dir, "SFTP "+dir+" 64 MiB", "BenchmarkSFTP/IMPL/"+dir, "MB/s", false, rep.impls, 0)
	}
	inProcess := []string{zerossh, xcrypto}
	for _, k := range kexes {
		add("Handshake/"+k, "Handshake "+k, "BenchmarkHandshake/IMPL/"+k, "handshakes/s", false, inProcess, 0)
	}
	add("HandshakeParallel/"+kexes[0], "Handshake "+kexes[0]+", 8 clients at once", "BenchmarkHandshakeParallel/IMPL/"+kexes[0], "handshakes/s", false, inProcess, 0)
	for _, end := range []string{"server", "client"} {
		add("IdleConns/"+end, "Idle connection, "+end+" end", "BenchmarkIdleConns/IMPL/"+end, "B/conn", true, inProcess, 0)
	}

	for _, c := range ciphers {
		if !filter.MatchString("Transfer/" + c) {
			continue
		}
		o := &overhead{cipher: c, cpuNs: map[string]float64{}, sysNs: map[string]float64{}, mbs: map[string]float64{}}
		o.sealNs, _ = res.median("BenchmarkAEAD/"+c+"/seal", "ns/op")
		o.openNs, _ = res.median("BenchmarkAEAD/"+c+"/open", "ns/op")
		o.sealMBs, _ = res.median("BenchmarkAEAD/"+c+"/seal", "MB/s")
		o.packetNs, _ = res.median("BenchmarkPacket/"+c+"/zerossh", "ns/op")
		o.rawPacketNs, _ = res.median("BenchmarkPacket/"+c+"/raw", "ns/op")
		for _, impl := range inProcess {
			if v, ok := res.median("BenchmarkTransfer/"+impl+"/"+c, "cpu-ns/op"); ok {
				o.cpuNs[impl] = v
			}
			if v, ok := res.median("BenchmarkTransfer/"+impl+"/"+c, "sys-ns/op"); ok {
				o.sysNs[impl] = v
			}
			if v, ok := res.median("BenchmarkTransfer/"+impl+"/"+c, "MB/s"); ok {
				o.mbs[impl] = v
			}
		}
		rep.overheads = append(rep.overheads, o)
	}
	rep.buildTargets()
}

func (rep *report) row(group string) *row {
	for _, r := range rep.rows {
		if r.group == group {
			return r
		}
	}
	return nil
}

func (rep *report) buildTargets() {
	var ts []target
	// 0 allocations per channel write, both ends.
	{
		var vals []string
		met, known := true, false
		for _, c := range ciphers {
			r := rep.row("Transfer/" + c)
			if r == nil {
				continue
			}
			if a, ok := r.allocs[zerossh]; ok {
				known = true
				vals = append(vals, fmt.Sprintf("%s %.3g", short(c), a))
				// Allocations amortised to under one in a hundred writes
				// (connection set-up and EOF) count as none.
				if a >= 0.01 {
					met = false
				}
			}
		}
		ts = append(ts, target{goal: "0 allocs per 32 KiB channel write and read in steady state (both ends), every cipher",
			value: strings.Join(vals, ", ") + " mallocs/op", met: met, known: known})
	}
	ratioTarget := func(goal, group, other string, min float64) {
		r := rep.row(group)
		if r == nil {
			return
		}
		v, ok := r.ratio(zerossh, other)
		t := target{goal: goal, known: ok}
		if ok {
			t.value = fmt.Sprintf("%.2fx (%s vs %s %s)", v, num(r.med[zerossh]), num(r.med[other]), r.unit)
			t.met = v >= min
		}
		ts = append(ts, t)
	}
	for _, c := range ciphers {
		ratioTarget("transfer >= 2x x/crypto/ssh, "+c, "Transfer/"+c, xcrypto, 2)
	}
	ratioTarget("transfer >= 1.5x OpenSSH, aes128-gcm@openssh.com", "Transfer/aes128-gcm@openssh.com", openssh, 1.5)
	ratioTarget("transfer >= 2x OpenSSH, chacha20-poly1305@openssh.com", "Transfer/chacha20-poly1305@openssh.com", openssh, 2)
	for _, o := range rep.overheads {
		ok := o.packetNs > 0 && o.rawPacketNs > 0
		t := target{goal: "transport overhead over the raw cipher < 15% (BenchmarkPacket: seal + open of a 32 KiB packet), " + o.cipher, known: ok}
		if ok {
			v := o.packetNs/o.rawPacketNs - 1
			t.value = fmt.Sprintf("%+.0f%% (%s ns vs %s ns)", 100*v, num(o.packetNs), num(o.rawPacketNs))
			t.met = v < 0.15
		}
		ts = append(ts, t)
	}
	for _, k := range kexes {
		ratioTarget("handshakes/s >= 1.5x x/crypto/ssh, "+k, "Handshake/"+k, xcrypto, 1.5)
	}
	for _, end := range []string{"server", "client"} {
		r := rep.row("IdleConns/" + end)
		if r == nil {
			continue
		}
		v, ok := r.ratio(zerossh, xcrypto)
		t := target{goal: "memory per idle authenticated connection <= 0.5x x/crypto/ssh, " + end + " end", known: ok}
		if ok {
			t.value = fmt.Sprintf("%.2fx (%s vs %s bytes)", v, num(r.med[zerossh]), num(r.med[xcrypto]))
			t.met = v <= 0.5
		}
		ts = append(ts, t)
	}
	rep.targets = ts
}

// short abbreviates a cipher name for the targets' value column.
func short(c string) string {
	c = strings.TrimSuffix(c, "@openssh.com")
	c, _, _ = strings.Cut(c, "+")
	return c
}

// num formats a measurement with three significant digits or as an
// integer when larger.
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// columns returns the main table's header and cells.
func (rep *report) columns() (head []string, cells [][]string) {
	head = []string{"benchmark", "unit"}
	for _, impl := range rep.impls {
		head = append(head, implTitle[impl])
	}
	head = append(head, "zerossh/x-crypto")
	hasOpenSSH := slices.Contains(rep.impls, openssh)
	if hasOpenSSH {
		head = append(head, "zerossh/OpenSSH")
	}
	head = append(head, "raw cipher (seal)", "zerossh allocs/op", "x/crypto allocs/op")
	for _, r := range rep.rows {
		unit := r.unit
		if r.lowerBetter {
			unit += " (lower is better)"
		}
		c := []string{r.label, unit}
		for _, impl := range rep.impls {
			if v, ok := r.med[impl]; ok {
				c = append(c, num(v))
			} else {
				c = append(c, "-")
			}
		}
		for _, other := range []string{xcrypto, openssh} {
			if other == openssh && !hasOpenSSH {
				continue
			}
			if v, ok := r.ratio(zerossh, other); ok {
				c = append(c, fmt.Sprintf("%.2fx", v))
			} else {
				c = append(c, "-")
			}
		}
		if r.ceiling > 0 {
			c = append(c, num(r.ceiling)+" MB/s")
		} else {
			c = append(c, "-")
		}
		for _, impl := range []string{zerossh, xcrypto} {
			if v, ok := r.allocs[impl]; ok && r.unit != "B/conn" {
				c = append(c, allocText(v))
			} else {
				c = append(c, "-")
			}
		}
		cells = append(cells, c)
	}
	return head, cells
}

func allocText(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func (rep *report) overheadColumns() (head []string, cells [][]string) {
	head = []string{"cipher", "raw seal + open ns"}
	for _, impl := range []string{zerossh, xcrypto} {
		t := implTitle[impl]
		head = append(head, t+" CPU ns (kernel part)", t+" overhead", t+" overhead without kernel")
	}
	head = append(head, "zerossh MB/s / raw seal MB/s")
	for _, o := range rep.overheads {
		c := []string{o.cipher, num(o.sealNs) + " + " + num(o.openNs)}
		for _, impl := range []string{zerossh, xcrypto} {
			v, ok := o.cpuOverhead(impl)
			u, _ := o.userOverhead(impl)
			if !ok {
				c = append(c, "-", "-", "-")
				continue
			}
			c = append(c, fmt.Sprintf("%s (%s)", num(o.cpuNs[impl]), num(o.sysNs[impl])), fmt.Sprintf("%+.0f%%", 100*v), fmt.Sprintf("%+.0f%%", 100*u))
		}
		if m, ok := o.mbs[zerossh]; ok && o.sealMBs > 0 {
			c = append(c, fmt.Sprintf("%.0f%%", 100*m/o.sealMBs))
		} else {
			c = append(c, "-")
		}
		cells = append(cells, c)
	}
	return head, cells
}

func (rep *report) targetColumns() (head []string, cells [][]string) {
	head = []string{"target", "this run", "met"}
	for _, t := range rep.targets {
		met := "no"
		switch {
		case !t.known:
			met, t.value = "not measured", "-"
		case t.met:
			met = "yes"
		}
		cells = append(cells, []string{t.goal, t.value, met})
	}
	return head, cells
}

// text renders the tables for a terminal.
func (rep *report) text() string {
	var b strings.Builder
	tab := func(head []string, cells [][]string) {
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, strings.Join(head, "\t"))
		for _, c := range cells {
			fmt.Fprintln(w, strings.Join(c, "\t"))
		}
		w.Flush()
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%s\n\n", rep.summaryLine())
	tab(rep.columns())
	if len(rep.overheads) > 0 {
		b.WriteString("CPU per 32 KiB channel write, both ends, against the raw cipher's seal + open:\n\n")
		tab(rep.overheadColumns())
	}
	b.WriteString("Targets:\n\n")
	tab(rep.targetColumns())
	return b.String()
}

func (rep *report) summaryLine() string {
	s := fmt.Sprintf("%s, %d cores, %s, %s; medians of %d runs (idle connections: %d), %s in all",
		rep.machine.cpu, rep.machine.cores, rep.machine.goVersion, rep.machine.openSSH,
		rep.rounds, rep.idleRounds, rep.elapsed.Round(time.Second))
	if rep.busy > 0 {
		s += fmt.Sprintf("; %d of %d runs started on a busy machine", rep.busy, rep.runs)
	}
	return s
}

// markdown renders RESULTS.md; path is where it goes, for the chart's
// relative link.
func (rep *report) markdown(path string) string {
	var b strings.Builder
	tab := func(head []string, cells [][]string) {
		b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
		for range head {
			b.WriteString(" --- |")
		}
		b.WriteString("\n")
		for _, c := range cells {
			b.WriteString("| " + strings.Join(c, " | ") + " |\n")
		}
		b.WriteString("\n")
	}
	m := rep.machine
	fmt.Fprintf(&b, "# Benchmark results\n\nThe last table `make bench` printed, written by `bench/cmd/benchrun`; do not edit by hand.\n\n")
	fmt.Fprintf(&b, "- Machine: %s, %d cores (%s), %s GiB of memory, Linux %s\n", m.cpu, m.cores, m.coresNote, m.memGiB, m.kernel)
	fmt.Fprintf(&b, "- Go: %s; OpenSSH: %s\n", m.goVersion, m.openSSH)
	fmt.Fprintf(&b, "- Command: `%s` (%s in all), %s\n", rep.command, rep.elapsed.Round(time.Second), rep.date)
	if rep.busy > 0 {
		fmt.Fprintf(&b, "- %d of %d runs started while other processes kept the CPUs busy (see -quiet-wait).\n", rep.busy, rep.runs)
	}
	fmt.Fprintf(&b, "- Each number is the median of %d runs (idle connections: %d), each run a fresh process, the implementations interleaved run by run; transfers and handshakes run for %s per run, SFTP moves %d files of 64 MiB per run.\n\n",
		rep.rounds, rep.idleRounds, rep.benchtime, rep.sftpFiles)
	if rep.chartPath != "" {
		rel, err := filepath.Rel(filepath.Dir(path), rep.chartPath)
		if err != nil {
			rel = rep.chartPath
		}
		fmt.Fprintf(&b, "![Transfer throughput by cipher and implementation](%s)\n\n", filepath.ToSlash(rel))
	}
	tab(rep.columns())
	b.WriteString(`What the rows measure (see bench/doc.go and the benchmarks' comments):

- Transfer: one session channel, client to server, 32 KiB channel writes into a server that reads and
  discards; both ends in one process on loopback TCP. OpenSSH: ` + "`ssh -c CIPHER host 'cat > /dev/null' < file`" + `
  against sshd, timed from the remote shell's first output to ssh's exit. The raw cipher column is
  the library primitive's seal of one 32 KiB packet on one core (BenchmarkAEAD).
- SFTP: this module's SFTP client and server (pkg/sftp) over each transport, 32 KiB requests, 64 in
  flight, aes128-gcm@openssh.com, files in /dev/shm; downloads go to io.Discard. OpenSSH: sftp's put
  and get (to /dev/null) against sshd's internal-sftp.
- Handshake: TCP dial, key exchange, ed25519 host key, ed25519 user key, a session channel opened and
  closed, connection closed; one after another.
- Idle connection: heap and goroutine stacks one end holds per authenticated idle connection, after
  garbage collection, with 1,000 connections and the other end in another process.
- allocs/op: heap allocations per op of both ends together, from runtime.MemStats (fractional).
- Transport overhead (targets): BenchmarkPacket seals and opens one packet with a 32 KiB payload as
  the transport does (package cipher, in place), and the raw primitives the same bytes, each in a
  loop of its own; for chacha20-poly1305@openssh.com the raw primitive is x/crypto's RFC 8439 AEAD,
  whose assembly interleaves ChaCha20 and Poly1305 in one pass, which OpenSSH's construction (its
  tag covers other bytes) cannot use.

`)
	if len(rep.overheads) > 0 {
		b.WriteString("CPU per 32 KiB channel write end to end (user + system time of the process, both ends, including the kernel's loopback TCP), against the raw cipher's seal + open of the same bytes; the kernel's part is about as large as the cipher's whatever the transport does:\n\n")
		tab(rep.overheadColumns())
	}
	b.WriteString("## Targets\n\n")
	tab(rep.targetColumns())
	b.WriteString("<details><summary>Every run</summary>\n\n")
	var head = []string{"benchmark", "implementation", "runs"}
	var cells [][]string
	for _, r := range rep.rows {
		for _, impl := range rep.impls {
			if vs := r.runs[impl]; len(vs) > 0 {
				var s []string
				for _, v := range vs {
					s = append(s, num(v))
				}
				cells = append(cells, []string{r.label + " (" + r.unit + ")", implTitle[impl], strings.Join(s, ", ")})
			}
		}
	}
	tab(head, cells)
	b.WriteString("</details>\n")
	return b.String()
}

// machine describes where the benchmarks ran.
type machine struct {
	cpu, coresNote, memGiB, kernel, goVersion, openSSH string
	cores                                              int
}

func describeMachine() machine {
	m := machine{cpu: "unknown CPU", cores: runtime.NumCPU(), goVersion: runtime.Version(), openSSH: "not installed", memGiB: "?", kernel: runtime.GOOS}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	m.coresNote = fmt.Sprintf("GOMAXPROCS %d", runtime.GOMAXPROCS(0))
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.memGiB = fmt.Sprintf("%.0f", float64(kb)/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("ssh", "-V").CombinedOutput(); err == nil {
		m.openSSH = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	}
	return m
}
