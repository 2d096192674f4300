package rawsock

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn makes the raw reads and writes of one TCP socket: one reader and
// one writer at a time, each its own side.
type Conn struct {
	rc syscall.RawConn

	// The read side. readFn is the method value doRead, made once so
	// that a read allocates no closure.
	rbuf   []byte
	rn     int
	rerr   syscall.Errno
	readFn func(fd uintptr) bool

	// The write side.
	iov     [MaxVecs]unix.Iovec
	iovs    []unix.Iovec
	werr    syscall.Errno
	writeFn func(fd uintptr) bool
}

// New returns nc's Conn, or nil when nc is not a TCP socket (any other
// net.Conn is read and written through its methods).
func New(nc net.Conn) *Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &Conn{rc: rc}
	s.readFn = s.doRead
	s.writeFn = s.doWrite
	return s
}

// Read reads into p as net.Conn.Read does; ok is false when p is too
// large for a raw read (or s is nil) and the caller is to read through
// the net.Conn.
func (s *Conn) Read(p []byte) (n int, ok bool, err error) {
	if s == nil || len(p) == 0 || len(p) > Max {
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

func (s *Conn) doRead(fd uintptr) bool {
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

// Writev writes bufs, whole, as one writev where the kernel takes them
// at once; ok is false when they are too many or too large for a raw
// write (or s is nil) and the caller is to write them through the
// net.Conn.
func (s *Conn) Writev(bufs [][]byte) (ok bool, err error) {
	if s == nil || len(bufs) > MaxVecs {
		return false, nil
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if total > Max {
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

func (s *Conn) doWrite(fd uintptr) bool {
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
func (s *Conn) advance(n int) {
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
