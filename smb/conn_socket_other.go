//go:build !linux

package smb

import "net"

// rawSocket is Linux's (conn_socket_linux.go); elsewhere every read and
// write goes through the net.Conn.
type rawSocket struct{}

func newRawSocket(net.Conn) *rawSocket { return nil }

func (*rawSocket) read([]byte) (int, bool, error) { return 0, false, nil }

func (*rawSocket) writev(net.Buffers) (bool, error) { return false, nil }
