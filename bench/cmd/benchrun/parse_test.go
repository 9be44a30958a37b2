package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestParseOutput(t *testing.T) {
	out := `goos: linux
BenchmarkTransfer/zerossh/aes128-gcm@openssh.com-2         	   60704	     28195 ns/op	1162.19 MB/s	     41751 cpu-ns/op	         0.0003954 mallocs/op	       1 B/op	       0 allocs/op
BenchmarkIdleConns/x-crypto-ssh/client-2   1	1561121305 ns/op	     32023 B/conn
--- SKIP: BenchmarkSFTP/openssh
PASS
`
	lines := parseOutput(out)
	if len(lines) != 2 {
		t.Fatalf("got %d lines; want 2", len(lines))
	}
	l := lines[0]
	if l.name != "BenchmarkTransfer/zerossh/aes128-gcm@openssh.com" || l.n != 60704 {
		t.Errorf("got name %q, n %d", l.name, l.n)
	}
	for unit, want := range map[string]float64{"MB/s": 1162.19, "mallocs/op": 0.0003954, "allocs/op": 0, "cpu-ns/op": 41751} {
		if got := l.metrics[unit]; got != want {
			t.Errorf("%s = %v; want %v", unit, got, want)
		}
	}
	if got := lines[1].metrics["B/conn"]; got != 32023 {
		t.Errorf("B/conn = %v; want 32023", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got, _ := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
	if _, ok := median(nil); ok {
		t.Error("median(nil) is ok")
	}
}

// TestPlanRuns checks that every row's implementations run back to back and
// that the order rotates from round to round.
func TestPlanRuns(t *testing.T) {
	o := options{rounds: 2, idleRounds: 1, benchtime: "1s", sftpFiles: 1, filter: regexp.MustCompile("Transfer/aes128-gcm")}
	plan := planRuns(o, []string{zerossh, xcrypto, openssh})
	var got []string
	for _, r := range plan {
		got = append(got, r.group+" "+r.impl)
	}
	want := []string{
		"AEAD ", "Transfer/aes128-gcm@openssh.com zerossh", "Transfer/aes128-gcm@openssh.com x-crypto-ssh", "Transfer/aes128-gcm@openssh.com openssh",
		"AEAD ", "Transfer/aes128-gcm@openssh.com x-crypto-ssh", "Transfer/aes128-gcm@openssh.com openssh", "Transfer/aes128-gcm@openssh.com zerossh",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p := plan[1].pattern; p != `^BenchmarkTransfer$/^zerossh$/^aes128-gcm@openssh\.com$` {
		t.Errorf("pattern %s", p)
	}
}
