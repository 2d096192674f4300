//go:build !unix

package main

import "time"

// selfCPU returns -1: this process's CPU time is not measured here.
func selfCPU() time.Duration { return -1 }
