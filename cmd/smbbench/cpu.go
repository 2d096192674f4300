package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100
// on every Linux architecture the bench runs on (proc(5)).
const clockTicks = 100

// treeCPU returns the CPU time, in clock ticks, that process root and its
// live descendants have used (user + system, with each process's reaped
// children's): a server's CPU whether it serves every connection itself
// (cifsd) or forks a process per connection (smbd). It returns -1 when
// root is not a running process (no /proc, or it has ended).
func treeCPU(root int) int64 {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	parent := make(map[int]int)
	ticks := make(map[int]int64)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		ppid, t, ok := parseStat(string(b))
		if !ok {
			continue
		}
		parent[pid], ticks[pid] = ppid, t
	}
	if _, ok := ticks[root]; !ok {
		return -1
	}
	var sum int64
	for pid, t := range ticks {
		// Walk up to init; parent maps a process whose parent is gone
		// (reparented to 1, or not listed) to 0.
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				sum += t
				break
			}
		}
	}
	return sum
}

// parseStat returns the parent and the CPU ticks (utime + stime + cutime +
// cstime, fields 14-17) of one /proc/PID/stat line (proc(5)). The command
// name, field 2, is in parentheses and may hold spaces: fields are counted
// from its closing parenthesis.
func parseStat(s string) (ppid int, ticks int64, ok bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 15 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, false
	}
	for _, n := range []int{14, 15, 16, 17} {
		v, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += v
	}
	return ppid, ticks, true
}

// cpuPerOp is a phase's server CPU in milliseconds per operation, "-" when
// not measured.
func (r result) cpuPerOp() string {
	if r.cpu < 0 || r.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f", float64(r.cpu)*1000/clockTicks/float64(r.n))
}
