//go:build !race

package smbwire

const raceEnabled = false
