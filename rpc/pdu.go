// Package rpc is DCE/RPC over SMB named pipes (MS-RPCE, C706) and the
// services a Windows file server answers on IPC$.
//
// One machinery serves every interface: pdu.go decodes PDUs, binds
// presentation contexts, reassembles and fragments, and answers faults;
// dispatch.go routes a request to its interface's operation table; ndr.go
// is the bounds-checked NDR reader and writer every operation uses. The
// interfaces are srvsvc (MS-SRVS: shares, sessions, open files, server
// information), wkssvc (MS-WKST), lsarpc (MS-LSAT, MS-LSAD: SID and name
// translation), samr (MS-SAMR, read-only: the account directory) and
// winreg (MS-RRP, read-only: a small synthetic registry).
//
// The package knows nothing of SMB: the server's accounts and its live
// state come in through the Directory and State interfaces, which package
// smb implements.
package rpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

var le = binary.LittleEndian

// PDU types (C706 12.6.4).
const (
	ptypeRequest          = 0
	ptypeResponse         = 2
	ptypeFault            = 3
	ptypeBind             = 11
	ptypeBindAck          = 12
	ptypeBindNak          = 13
	ptypeAlterContext     = 14
	ptypeAlterContextResp = 15
)

// pfc_flags.
const (
	pfcFirstFrag  = 0x01
	pfcLastFrag   = 0x02
	pfcObjectUUID = 0x80
)

// Fault status codes (C706 appendix E, MS-RPCE 2.2.2.11).
const (
	ncaOpRangeError = 0x1c010002
	ncaUnkIf        = 0x1c010003
	ncaProtoError   = 0x1c01000b
)

const (
	headerSize = 16
	// maxRequest bounds a reassembled request.
	maxRequest = 1 << 20
	// maxOutput bounds the responses queued on one pipe.
	maxOutput = 4 << 20
)

// interface identifiers.
type syntaxID struct {
	uuid    [16]byte
	version uint32 // major in the low 16 bits, minor in the high
}

// mustUUID encodes a UUID's string form as it is on the wire (C706
// appendix A: the first three fields little-endian).
func mustUUID(s string) [16]byte {
	h := strings.ReplaceAll(s, "-", "")
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != 16 {
		panic("bad uuid " + s)
	}
	var u [16]byte
	u[0], u[1], u[2], u[3] = raw[3], raw[2], raw[1], raw[0]
	u[4], u[5] = raw[5], raw[4]
	u[6], u[7] = raw[7], raw[6]
	copy(u[8:], raw[8:])
	return u
}

var (
	ndrSyntax    = syntaxID{mustUUID("8a885d04-1ceb-11c9-9fe8-08002b104860"), 2}
	bindTimeFeat = mustUUID("6cb71c2c-9812-4540-0000-000000000000")
)

// ErrNoSuchPipe is returned by Open for a pipe that is not served.
var ErrNoSuchPipe = errors.New("rpc: no such pipe")

// ErrPipeEmpty is returned by Read when no response is pending.
var ErrPipeEmpty = errors.New("rpc: pipe empty")

// Pipe is one open of a named pipe: message-mode, the presentation
// contexts bound on it, its context handles, and the responses waiting to
// be read.
type Pipe struct {
	s      *Server
	name   string
	ifaces []*Interface // what the pipe's endpoint serves
	caller *Caller

	// callMu serializes the client's writes: the PDU and reassembly
	// buffers, the contexts and handles, and the operation running. It is
	// not mu, so that an operation that closes this very pipe (a
	// NetrSessionDel of the caller's own session) does not deadlock.
	callMu   sync.Mutex
	in       []byte // bytes of a PDU not yet complete
	req      []byte // stub of a fragmented request being reassembled
	contexts map[uint16]*Interface
	handles  handleTable
	maxFrag  int

	mu     sync.Mutex
	out    [][]byte      // pending response PDUs (messages)
	ready  chan struct{} // closed when out grows or the pipe closes
	closed bool
}

// Write consumes PDU bytes from the client; complete PDUs are processed and
// their responses queued for Read.
func (p *Pipe) Write(ctx context.Context, b []byte) error {
	p.callMu.Lock()
	defer p.callMu.Unlock()
	return p.write(ctx, b)
}

func (p *Pipe) write(ctx context.Context, b []byte) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrNoSuchPipe
	}
	if len(p.in)+len(b) > maxRequest+headerSize {
		p.in = nil
		return fmt.Errorf("rpc: PDU too large")
	}
	p.in = append(p.in, b...)
	for len(p.in) >= headerSize {
		n := int(le.Uint16(p.in[8:]))
		if n < headerSize {
			p.in = nil
			return fmt.Errorf("rpc: bad fragment length %d", n)
		}
		if len(p.in) < n {
			return nil
		}
		pdu := p.in[:n]
		p.handle(ctx, pdu)
		p.in = p.in[n:]
	}
	if len(p.in) == 0 {
		p.in = nil
	}
	return nil
}

// maxReadWait bounds how long a Read waits for a response: a client may
// send its READ before the server has processed the WRITE it follows
// (requests on one handle run concurrently), as Samba's async calls do;
// that response comes within milliseconds. A READ with nothing coming
// holds its handle (a CLOSE waits for it), so the wait is short.
const maxReadWait = 5 * time.Second

// Read returns pending response bytes, waiting for a response being
// computed (until ctx ends or maxReadWait). When the current message does
// not fit in b, more is true and the rest is returned by the next Read
// (SMB answers STATUS_BUFFER_OVERFLOW).
func (p *Pipe) Read(ctx context.Context, b []byte) (n int, more bool, err error) {
	var timer *time.Timer
	for {
		p.mu.Lock()
		if len(p.out) > 0 || p.closed {
			n, more, err = p.readLocked(b)
			p.mu.Unlock()
			return n, more, err
		}
		if p.ready == nil {
			p.ready = make(chan struct{})
		}
		ready := p.ready
		p.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(maxReadWait)
			defer timer.Stop()
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return 0, false, ErrPipeEmpty
		case <-timer.C:
			return 0, false, ErrPipeEmpty
		}
	}
}

func (p *Pipe) readLocked(b []byte) (n int, more bool, err error) {
	if len(p.out) == 0 {
		return 0, false, ErrPipeEmpty
	}
	m := p.out[0]
	n = copy(b, m)
	if n < len(m) {
		p.out[0] = m[n:]
		return n, true, nil
	}
	p.out = p.out[1:]
	return n, false, nil
}

// Transceive writes one request and reads its response
// (FSCTL_PIPE_TRANSCEIVE), as one step: concurrent transceives each get
// their own response.
func (p *Pipe) Transceive(ctx context.Context, in, out []byte) (int, bool, error) {
	p.callMu.Lock()
	defer p.callMu.Unlock()
	if err := p.write(ctx, in); err != nil {
		return 0, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readLocked(out)
}

// Close closes the pipe; its context handles go with it.
func (p *Pipe) Close() error {
	p.mu.Lock()
	p.closed = true
	p.out = nil
	p.wakeLocked()
	p.mu.Unlock()
	return nil
}

// wakeLocked wakes the Reads waiting for output.
func (p *Pipe) wakeLocked() {
	if p.ready != nil {
		close(p.ready)
		p.ready = nil
	}
}

func (p *Pipe) queue(pdu []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	size := 0
	for _, o := range p.out {
		size += len(o)
	}
	if size+len(pdu) > maxOutput {
		return // the client does not read its answers: drop
	}
	p.out = append(p.out, pdu)
	p.wakeLocked()
}

// header writes a PDU header.
func header(b []byte, ptype, flags byte, callID uint32) {
	b[0], b[1], b[2], b[3] = 5, 0, ptype, flags
	b[4], b[5], b[6], b[7] = 0x10, 0, 0, 0 // little-endian, ASCII, IEEE float
	le.PutUint16(b[8:], uint16(len(b)))
	le.PutUint16(b[10:], 0)
	le.PutUint32(b[12:], callID)
}

func (p *Pipe) handle(ctx context.Context, pdu []byte) {
	if pdu[0] != 5 || pdu[1] != 0 {
		return
	}
	callID := le.Uint32(pdu[12:])
	if pdu[4]&0xF0 != 0x10 {
		p.fault(callID, 0, ncaProtoError) // big-endian data representation
		return
	}
	switch pdu[2] {
	case ptypeBind, ptypeAlterContext:
		p.bind(pdu, callID)
	case ptypeRequest:
		p.request(ctx, pdu, callID)
	default:
		p.fault(callID, 0, ncaProtoError)
	}
}

func (p *Pipe) fault(callID uint32, ctxID uint16, status uint32) {
	b := make([]byte, headerSize+16)
	header(b, ptypeFault, pfcFirstFrag|pfcLastFrag, callID)
	le.PutUint16(b[20:], ctxID)
	le.PutUint32(b[24:], status)
	p.queue(b)
}

// bind answers BIND and ALTER_CONTEXT (C706 12.6.4.3, MS-RPCE 3.3.1.5.6).
func (p *Pipe) bind(pdu []byte, callID uint32) {
	alter := pdu[2] == ptypeAlterContext
	if len(pdu) < headerSize+12 {
		p.fault(callID, 0, ncaProtoError)
		return
	}
	maxRecv := int(le.Uint16(pdu[18:]))
	if maxRecv < 1024 {
		maxRecv = 1024
	}
	p.maxFrag = min(maxRecv, 4280)
	assoc := le.Uint32(pdu[20:])
	if assoc == 0 {
		assoc = 0x12345
	}
	n := int(pdu[24])
	pos := headerSize + 12
	var results bytes.Buffer
	for i := 0; i < n; i++ {
		if pos+4+20 > len(pdu) {
			p.fault(callID, 0, ncaProtoError)
			return
		}
		ctxID := le.Uint16(pdu[pos:])
		nts := int(pdu[pos+2])
		abs := pdu[pos+4 : pos+24]
		pos += 24
		if pos+20*nts > len(pdu) {
			p.fault(callID, 0, ncaProtoError)
			return
		}
		var r [24]byte
		result, reason := uint16(2), uint16(2) // provider rejection: proposed transfer syntaxes not supported
		var chosen []byte
		iface := p.lookupInterface([16]byte(abs[:16]), le.Uint16(abs[16:]), le.Uint16(abs[18:]))
		absOK := iface != nil
		for t := 0; t < nts; t++ {
			ts := pdu[pos+20*t : pos+20*t+20]
			switch {
			case bytes.Equal(ts[:8], bindTimeFeat[:8]):
				// Bind time feature negotiation (MS-RPCE 3.3.1.5.3):
				// acknowledge with no features.
				if chosen == nil {
					result, reason = 3, 0 // negotiate_ack
				}
			case [16]byte(ts[:16]) == ndrSyntax.uuid && le.Uint32(ts[16:]) == ndrSyntax.version && absOK:
				result, reason, chosen = 0, 0, ts
			}
		}
		if !absOK && result != 3 {
			result, reason = 2, 1 // abstract syntax not supported
		}
		if result == 0 {
			if len(p.contexts) >= maxContexts {
				result, reason = 2, 0 // provider rejection, reason not specified
			} else {
				p.contexts[ctxID] = iface
			}
		}
		le.PutUint16(r[0:], result)
		le.PutUint16(r[2:], reason)
		if chosen != nil {
			copy(r[4:], chosen)
		}
		results.Write(r[:])
		pos += 20 * nts
	}
	secAddr := `\PIPE\` + p.name + "\x00"
	if alter {
		secAddr = ""
	}
	body := make([]byte, 0, 64)
	var fix [8]byte
	le.PutUint16(fix[0:], uint16(p.maxFrag))
	le.PutUint16(fix[2:], uint16(p.maxFrag))
	le.PutUint32(fix[4:], assoc)
	body = append(body, fix[:]...)
	var sl [2]byte
	le.PutUint16(sl[:], uint16(len(secAddr)))
	body = append(body, sl[:]...)
	body = append(body, secAddr...)
	for (headerSize+len(body))%4 != 0 {
		body = append(body, 0)
	}
	body = append(body, byte(n), 0, 0, 0)
	body = append(body, results.Bytes()...)
	b := make([]byte, headerSize+len(body))
	ptype := byte(ptypeBindAck)
	if alter {
		ptype = ptypeAlterContextResp
	}
	header(b, ptype, pfcFirstFrag|pfcLastFrag, callID)
	copy(b[headerSize:], body)
	p.queue(b)
}

func (p *Pipe) request(ctx context.Context, pdu []byte, callID uint32) {
	if len(pdu) < headerSize+8 {
		p.fault(callID, 0, ncaProtoError)
		return
	}
	flags := pdu[3]
	ctxID := le.Uint16(pdu[20:])
	opnum := le.Uint16(pdu[22:])
	stub := pdu[headerSize+8:]
	if flags&pfcObjectUUID != 0 {
		if len(stub) < 16 {
			p.fault(callID, ctxID, ncaProtoError)
			return
		}
		stub = stub[16:]
	}
	if authLen := int(le.Uint16(pdu[10:])); authLen > 0 {
		if authLen+8 > len(stub) {
			p.fault(callID, ctxID, ncaProtoError)
			return
		}
		stub = stub[:len(stub)-authLen-8]
	}
	if flags&pfcFirstFrag != 0 {
		p.req = p.req[:0]
	}
	if len(p.req)+len(stub) > maxRequest {
		p.req = nil
		p.fault(callID, ctxID, ncaProtoError)
		return
	}
	p.req = append(p.req, stub...)
	if flags&pfcLastFrag == 0 {
		return
	}
	stub, p.req = p.req, nil
	iface := p.contexts[ctxID]
	if iface == nil {
		p.fault(callID, ctxID, ncaUnkIf)
		return
	}
	out, fault := p.dispatch(ctx, iface, opnum, stub)
	if fault != 0 {
		p.fault(callID, ctxID, fault)
		return
	}
	p.respond(out, callID, ctxID)
}

// respond queues the response stub, fragmented to the client's maximum.
func (p *Pipe) respond(stub []byte, callID uint32, ctxID uint16) {
	maxStub := max(p.maxFrag, 1024) - headerSize - 8
	first := true
	for {
		n := min(len(stub), maxStub)
		var flags byte
		if first {
			flags |= pfcFirstFrag
		}
		if n == len(stub) {
			flags |= pfcLastFrag
		}
		b := make([]byte, headerSize+8+n)
		header(b, ptypeResponse, flags, callID)
		le.PutUint32(b[16:], uint32(len(stub)))
		le.PutUint16(b[20:], ctxID)
		copy(b[24:], stub[:n])
		p.queue(b)
		stub = stub[n:]
		first = false
		if len(stub) == 0 {
			return
		}
	}
}
