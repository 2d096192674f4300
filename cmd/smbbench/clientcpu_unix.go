//go:build unix

package main

import (
	"syscall"
	"time"
)

// selfCPU returns the CPU time (user + system) this process has used so
// far, or -1 when it cannot tell.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
