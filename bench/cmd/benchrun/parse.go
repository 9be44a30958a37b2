package main

import (
	"regexp"
	"strconv"
	"strings"
)

// line is one benchmark result line.
type line struct {
	raw     string
	name    string             // without the -GOMAXPROCS suffix
	n       int                // iterations
	metrics map[string]float64 // by unit: "ns/op", "MB/s", "allocs/op", ...
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseOutput returns the result lines of go test -bench output: a name,
// an iteration count, then value and unit pairs.
func parseOutput(out string) []line {
	var lines []line
	for _, raw := range strings.Split(out, "\n") {
		f := strings.Fields(raw)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		l := line{raw: raw, name: procsSuffix.ReplaceAllString(f[0], ""), n: n, metrics: make(map[string]float64)}
		ok := true
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				ok = false
				break
			}
			l.metrics[f[i+1]] = v
		}
		if ok {
			lines = append(lines, l)
		}
	}
	return lines
}

// results collects every value of every metric by benchmark name.
type results struct {
	values map[string]map[string][]float64 // name -> unit -> one value per run
}

func newResults() *results { return &results{values: make(map[string]map[string][]float64)} }

func (r *results) add(l line) {
	m := r.values[l.name]
	if m == nil {
		m = make(map[string][]float64)
		r.values[l.name] = m
	}
	for unit, v := range l.metrics {
		m[unit] = append(m[unit], v)
	}
}

// get returns every value of unit measured for name.
func (r *results) get(name, unit string) []float64 { return r.values[name][unit] }

// median returns the median of get(name, unit).
func (r *results) median(name, unit string) (float64, bool) { return median(r.get(name, unit)) }
