//go:build !race

package smbcrypto

const raceEnabled = false
