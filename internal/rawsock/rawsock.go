// Package rawsock reads and writes a TCP socket with raw system calls, for
// the small messages that make up most of SMB's traffic, on both sides:
// the server's connections (package smb) and the bench client
// (internal/smbwire).
//
// Why: each system call through the Go runtime's entersyscall wakes its
// monitor thread (sysmon) when every P was idle, and a wake from a system
// call sets it polling every 20 µs until the process is idle again
// (runtime/proc.go; golang/go#18236). A connection that answers one
// request at a time goes idle between requests, so each request paid a
// futex wake and a few 20 µs polls on another core. The socket is
// non-blocking (the netpoller's), so a raw read or writev returns at once,
// with data or EAGAIN, and never holds its P for long; on EAGAIN the
// socket's syscall.RawConn waits on the netpoller, under the connection's
// deadlines, as net.Conn does. Reads and writes larger than Max go through
// the net.Conn: their copy is long enough that the runtime should see it.
//
// A nil *Conn (any net.Conn that is not TCP, or a system other than
// Linux) declines every call, and the caller uses its net.Conn.
package rawsock

// Max bounds the bytes of a raw read or write.
const Max = 64 << 10

// MaxVecs bounds the parts of a message written with one raw writev.
const MaxVecs = 8
