package smb

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSocket reads and writes a TCP connection's socket with raw system
// calls for the small messages that make up most of SMB's traffic.
//
// Why: each system call through the runtime's entersyscall wakes Go's
// monitor thread (sysmon) when every P was idle, and a wake from a system
// call sets it polling every 20 µs until the process is idle again
// (runtime/proc.go, golang/go#18236). A server answering one request at a
// time goes idle between requests, so each request paid a futex wake and
// a few 20 µs polls on the other core: about 15% of the server's CPU per
// stat or delete, measured with perf. The socket is non-blocking (the
// netpoller's), so read and writev return at once, with data or EAGAIN,
// and a raw call never holds its P for long; on EAGAIN the RawConn waits
// on the netpoller, under the connection's deadlines, as net.Conn does.
// Reads and writes larger than rawSocketMax go the usual way, through
// net.Conn: their copy is long enough that the runtime should see it.
type rawSocket struct {
	rc syscall.RawConn

	// The read side (one reader at a time, the idleReader). readFn is
	// the method value doRead, made once so that a read allocates no
	// closure.
	rbuf   []byte
	rn     int
	rerr   syscall.Errno
	readFn func(fd uintptr) bool

	// The write side (one writer at a time, directTCP.writeMessage).
	iov     [rawSocketVecs]unix.Iovec
	iovs    []unix.Iovec
	werr    syscall.Errno
	writeFn func(fd uintptr) bool
}

// rawSocketMax bounds the reads and writes a rawSocket makes itself.
const rawSocketMax = 64 << 10

// rawSocketVecs bounds the parts of a message written with one raw writev.
const rawSocketVecs = 8

// newRawSocket returns nc's rawSocket, or nil when nc is not a TCP socket
// of this process (any other net.Conn is served through its methods).
func newRawSocket(nc net.Conn) *rawSocket {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &rawSocket{rc: rc}
	s.readFn = s.doRead
	s.writeFn = s.doWrite
	return s
}

// read reads into p as net.Conn.Read does; ok is false when p is too
// large for a raw read (or s is nil) and the caller is to read through
// the net.Conn.
func (s *rawSocket) read(p []byte) (n int, ok bool, err error) {
	if s == nil || len(p) == 0 || len(p) > rawSocketMax {
		return 0, false, nil
	}
	s.rbuf, s.rn, s.rerr = p, 0, 0
	err = s.rc.Read(s.readFn)
	n = s.rn
	s.rbuf = nil
	switch {
	case err != nil: // the deadline passed, or the connection closed
		return 0, true, err
	case s.rerr != 0:
		return 0, true, os.NewSyscallError("read", s.rerr)
	case n == 0:
		return 0, true, io.EOF
	}
	return n, true, nil
}

func (s *rawSocket) doRead(fd uintptr) bool {
	for {
		r, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&s.rbuf[0])), uintptr(len(s.rbuf)))
		switch errno {
		case 0:
			s.rn = int(r)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait for the netpoller
		}
		s.rerr = errno
		return true
	}
}

// writev writes bufs, whole, as one writev where the kernel takes them
// at once; ok is false when they are too many or too large for a raw
// write (or s is nil) and the caller is to write them through the
// net.Conn.
func (s *rawSocket) writev(bufs net.Buffers) (ok bool, err error) {
	if s == nil || len(bufs) > rawSocketVecs {
		return false, nil
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if total > rawSocketMax {
		return false, nil
	}
	s.iovs = s.iov[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			s.iovs = append(s.iovs, v)
		}
	}
	s.werr = 0
	err = s.rc.Write(s.writeFn)
	clear(s.iov[:]) // drop the references to the message
	s.iovs = nil
	switch {
	case err != nil:
		return true, err
	case s.werr != 0:
		return true, os.NewSyscallError("writev", s.werr)
	}
	return true, nil
}

func (s *rawSocket) doWrite(fd uintptr) bool {
	for len(s.iovs) > 0 {
		r, _, errno := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&s.iovs[0])), uintptr(len(s.iovs)))
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // the socket's buffer is full: wait for the netpoller
		default:
			s.werr = errno
			return true
		}
		if r == 0 {
			return false // nothing taken: wait until the socket is writable
		}
		s.advance(int(r))
	}
	return true
}

// advance drops the n bytes a writev took from the front of s.iovs.
func (s *rawSocket) advance(n int) {
	for n > 0 && len(s.iovs) > 0 {
		v := &s.iovs[0]
		if uint64(n) < v.Len {
			v.Base = (*byte)(unsafe.Add(unsafe.Pointer(v.Base), n))
			v.SetLen(int(v.Len) - n)
			return
		}
		n -= int(v.Len)
		s.iovs = s.iovs[1:]
	}
}
