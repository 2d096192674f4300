//go:build !linux

package main

import (
	"errors"
	"os"
)

// readNoEcho is only implemented on Linux; elsewhere use -stdin.
func readNoEcho(tty *os.File) (string, error) {
	return "", errors.New("reading a password from the terminal is only supported on Linux; use -stdin")
}
