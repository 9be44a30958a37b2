package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// busyThreshold is the share of the machine's CPU time, used by other
// processes while the runner waits, above which a benchmark waits.
const busyThreshold = 0.25

// waitQuiet waits, up to max, until the machine's CPUs are mostly idle:
// on a shared machine another process's burst would be measured as
// ours. It reports whether the machine was quiet when it returned.
func waitQuiet(max time.Duration) bool {
	deadline := time.Now().Add(max)
	for {
		busy, ok := busyShare(250 * time.Millisecond)
		if !ok || busy < busyThreshold {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(750 * time.Millisecond)
	}
}

// busyShare returns the share of CPU time not idle over d, from
// /proc/stat; ok is false where there is none.
func busyShare(d time.Duration) (float64, bool) {
	idle0, total0, ok := cpuTimes()
	if !ok {
		return 0, false
	}
	time.Sleep(d)
	idle1, total1, ok := cpuTimes()
	if !ok || total1 <= total0 {
		return 0, false
	}
	return 1 - float64(idle1-idle0)/float64(total1-total0), true
}

// cpuTimes reads the idle (idle and iowait) and total jiffies of all CPUs.
func cpuTimes() (idle, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return idle, total, true
}
