//go:build !linux

package rawsock

import "net"

// Conn is Linux's; elsewhere every read and write goes through the
// net.Conn.
type Conn struct{}

// New returns nil: raw system calls are Linux's.
func New(net.Conn) *Conn { return nil }

// Read declines: ok is false.
func (*Conn) Read([]byte) (n int, ok bool, err error) { return 0, false, nil }

// Writev declines: ok is false.
func (*Conn) Writev([][]byte) (ok bool, err error) { return false, nil }
