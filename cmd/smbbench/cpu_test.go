package main

import (
	"os"
	"testing"
)

// A stat line whose command name holds spaces and a parenthesis parses
// from the last parenthesis on.
func TestParseStat(t *testing.T) {
	line := "4242 (smbd: a) b) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 3 20 0 1 0 100 1000 10\n"
	ppid, ticks, ok := parseStat(line)
	if !ok || ppid != 17 || ticks != 250+30+7+3 {
		t.Errorf("parseStat = %d, %d, %v; want 17, 290, true", ppid, ticks, ok)
	}
	if _, _, ok := parseStat("4242 (x) S 1"); ok {
		t.Error("a short line parsed")
	}
}

// The tree rooted at this process includes this process: its CPU time
// grows as it works.
func TestTreeCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before := treeCPU(os.Getpid())
	if before < 0 {
		t.Fatal("treeCPU of this process: not found")
	}
	x := 0
	for i := 0; treeCPU(os.Getpid()) == before && i < 1e6; i++ {
		for j := 0; j < 1e5; j++ {
			x += j
		}
	}
	if treeCPU(os.Getpid()) <= before {
		t.Errorf("CPU time did not grow (%d)", x)
	}
	if treeCPU(1<<30) != -1 {
		t.Error("a process that does not exist has a CPU time")
	}
}
