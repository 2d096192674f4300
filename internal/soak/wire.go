package soak

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
)

// wire is a small SMB 3.0.2 client for what the client libraries in go.mod
// cannot send: byte-range LOCK (blocking ones too) and CHANGE_NOTIFY. It
// keeps several requests in flight on one connection: a reader goroutine
// hands each final response to the request with its MessageID and skips
// interim STATUS_PENDING answers (MS-SMB2 3.3.4.2).
type wire struct {
	c      net.Conn
	wmu    sync.Mutex // one frame at a time on c
	mu     sync.Mutex // guards mid, waiting, err
	mid    uint64
	sid    uint64
	tid    uint32
	signer *smbcrypto.Signer
	wait   map[uint64]*call
	err    error
	done   chan struct{}
	// inline: no reader goroutine; call reads its own answer (one request
	// at a time). The idle-connection scale run holds thousands of these.
	inline bool
}

// call is one request waiting for its answer.
type call struct {
	final   chan reply    // the final answer; closed if the connection is lost
	interim chan struct{} // closed at an interim STATUS_PENDING or the final answer
	pending bool          // interim closed
}

type reply struct {
	h   smb2.Header
	msg []byte // whole message from the SMB2 header
}

// errStatus is a response status other than the one expected.
type errStatus struct {
	cmd smb2.Command
	st  smb2.Status
}

func (e errStatus) Error() string { return fmt.Sprintf("%v: %v", e.cmd, e.st) }

func dialWire(ctx context.Context, addr, share, user, password string) (*wire, error) {
	return dialWireWith(ctx, &net.Dialer{}, false, addr, share, user, password)
}

// dialWireWith dials through d; inline makes a client without a reader
// goroutine, for one request at a time.
func dialWireWith(ctx context.Context, d *net.Dialer, inline bool, addr, share, user, password string) (*wire, error) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	w := &wire{c: c, wait: map[uint64]*call{}, done: make(chan struct{}), inline: inline}
	if inline {
		close(w.done)
	} else {
		go w.readLoop()
	}
	if err := w.login(ctx, user, password); err != nil {
		w.Close()
		return nil, err
	}
	path := utf16le.Encode(`\\127.0.0.1\` + share)
	b := make([]byte, 8+len(path))
	le16(b, 9)
	le16(b[4:], smb2.HeaderSize+8)
	le16(b[6:], uint16(len(path)))
	copy(b[8:], path)
	r, err := w.call(ctx, smb2.TreeConnect, b)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.tid = r.h.TreeID
	return w, nil
}

// Close hangs up; requests still waiting fail.
func (w *wire) Close() error {
	err := w.c.Close()
	<-w.done
	return err
}

func (w *wire) readLoop() {
	defer close(w.done)
	var hdr [4]byte
	fail := func(err error) {
		w.mu.Lock()
		w.err = err
		for mid, cl := range w.wait {
			close(cl.final)
			if !cl.pending {
				close(cl.interim)
			}
			delete(w.wait, mid)
		}
		w.mu.Unlock()
	}
	for {
		if _, err := io.ReadFull(w.c, hdr[:]); err != nil {
			fail(err)
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 16<<20 {
			fail(fmt.Errorf("frame of %d bytes", n))
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(w.c, msg); err != nil {
			fail(err)
			return
		}
		var h smb2.Header
		if err := h.Decode(msg); err != nil {
			fail(fmt.Errorf("response header: %w", err))
			return
		}
		interim := h.IsAsync() && smb2.Status(h.Status) == smb2.StatusPending
		w.mu.Lock()
		cl := w.wait[h.MessageID]
		if cl != nil {
			if !cl.pending {
				cl.pending = true
				close(cl.interim)
			}
			if !interim { // an interim answer: the final one follows
				delete(w.wait, h.MessageID)
				cl.final <- reply{h: h, msg: msg}
			}
		}
		w.mu.Unlock()
	}
}

// send writes one request and returns where its answer will arrive.
func (w *wire) send(cmd smb2.Command, body []byte) (*call, error) {
	msg := make([]byte, smb2.HeaderSize+len(body))
	ch := &call{final: make(chan reply, 1), interim: make(chan struct{})}
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return nil, w.err
	}
	mid := w.mid
	w.mid++
	w.wait[mid] = ch
	w.mu.Unlock()
	h := smb2.Header{Command: cmd, Credits: 16, CreditCharge: 1, MessageID: mid, SessionID: w.sid, TreeID: w.tid}
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	if w.signer != nil {
		if err := w.signer.Sign(msg); err != nil {
			return nil, err
		}
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
	frame = append(frame, msg...)
	w.wmu.Lock()
	_, err := w.c.Write(frame)
	w.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("send %v: %w", cmd, err)
	}
	return ch, nil
}

// await waits for the answer on ch and checks its status is one of ok
// (success when none is given).
func await(ctx context.Context, cmd smb2.Command, ch <-chan reply, ok ...smb2.Status) (reply, error) {
	select {
	case r, open := <-ch:
		if !open {
			return reply{}, fmt.Errorf("%v: connection lost", cmd)
		}
		st := smb2.Status(r.h.Status)
		if len(ok) == 0 && st == smb2.StatusSuccess {
			return r, nil
		}
		for _, s := range ok {
			if st == s {
				return r, nil
			}
		}
		return r, errStatus{cmd, st}
	case <-ctx.Done():
		return reply{}, fmt.Errorf("%v: %w", cmd, ctx.Err())
	}
}

func (w *wire) call(ctx context.Context, cmd smb2.Command, body []byte, ok ...smb2.Status) (reply, error) {
	cl, err := w.send(cmd, body)
	if err != nil {
		return reply{}, err
	}
	if w.inline {
		if err := w.readInline(ctx); err != nil {
			return reply{}, fmt.Errorf("%v: %w", cmd, err)
		}
	}
	return await(ctx, cmd, cl.final, ok...)
}

// readInline reads frames, for a client without a reader goroutine, until
// the final answer of the one request waiting arrives.
func (w *wire) readInline(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		w.c.SetReadDeadline(dl)
		defer w.c.SetReadDeadline(time.Time{})
	}
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(w.c, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 16<<20 {
			return fmt.Errorf("frame of %d bytes", n)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(w.c, msg); err != nil {
			return err
		}
		var h smb2.Header
		if err := h.Decode(msg); err != nil {
			return fmt.Errorf("response header: %w", err)
		}
		if h.IsAsync() && smb2.Status(h.Status) == smb2.StatusPending {
			continue
		}
		w.mu.Lock()
		cl := w.wait[h.MessageID]
		delete(w.wait, h.MessageID)
		w.mu.Unlock()
		if cl != nil {
			cl.final <- reply{h: h, msg: msg}
			return nil
		}
	}
}

// login negotiates 3.0.2 and authenticates with NTLMv2 (MS-NLMP 3.3.2);
// requests that follow are signed.
func (w *wire) login(ctx context.Context, user, password string) error {
	neg := make([]byte, 36+2)
	le16(neg, 36)
	le16(neg[2:], 1)
	le16(neg[4:], smb2.NegotiateSigningEnabled)
	rand.Read(neg[12:28])
	le16(neg[36:], smb2.Dialect302)
	if _, err := w.call(ctx, smb2.Negotiate, neg); err != nil {
		return err
	}
	setup := func(tok []byte, ok ...smb2.Status) (smb2.Header, []byte, error) {
		b := make([]byte, 24+len(tok))
		le16(b, 25)
		le16(b[12:], smb2.HeaderSize+24)
		le16(b[14:], uint16(len(tok)))
		copy(b[24:], tok)
		r, err := w.call(ctx, smb2.SessionSetup, b, ok...)
		if err != nil {
			return r.h, nil, err
		}
		m := r.msg
		if len(m) < smb2.HeaderSize+8 {
			return r.h, nil, errors.New("short SESSION_SETUP response")
		}
		off := int(binary.LittleEndian.Uint16(m[smb2.HeaderSize+4:]))
		n := int(binary.LittleEndian.Uint16(m[smb2.HeaderSize+6:]))
		if off+n > len(m) {
			return r.h, nil, errors.New("SESSION_SETUP token out of bounds")
		}
		return r.h, m[off : off+n], nil
	}
	const flags = 0x00000001 | 0x00000200 | 0x00000010 | 0x00080000 | 0x20000000 | 0x00800000
	nm := append([]byte("NTLMSSP\x00\x01\x00\x00\x00"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(nm[12:], flags)
	h, chal, err := setup(append(nm, make([]byte, 16)...), smb2.StatusMoreProcessingRequired)
	if err != nil {
		return err
	}
	w.sid = h.SessionID
	if len(chal) < 48 {
		return errors.New("short NTLM challenge")
	}
	tiOff, tiLen := int(binary.LittleEndian.Uint32(chal[44:])), int(binary.LittleEndian.Uint16(chal[40:]))
	if tiOff+tiLen > len(chal) {
		return errors.New("NTLM target info out of bounds")
	}
	ti := chal[tiOff : tiOff+tiLen]
	hm := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(md5.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	owf := hm(ntlm.NTHash(password), utf16le.Encode(strings.ToUpper(user)))
	blob := []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	cc := make([]byte, 8)
	rand.Read(cc)
	blob = append(append(append(blob, cc...), 0, 0, 0, 0), ti...)
	blob = append(blob, 0, 0, 0, 0)
	proof := hm(owf, chal[24:32], blob)
	sessionKey := hm(owf, proof)
	fields := [][]byte{make([]byte, 24), append(proof, blob...), nil, utf16le.Encode(user), nil, nil}
	am := make([]byte, 88)
	copy(am, "NTLMSSP\x00\x03")
	for i, f := range fields {
		le16(am[12+8*i:], uint16(len(f)))
		le16(am[14+8*i:], uint16(len(f)))
		le32(am[16+8*i:], uint32(len(am)))
		am = append(am, f...)
	}
	le32(am[60:], flags)
	if _, _, err := setup(am); err != nil {
		return err
	}
	keys := smbcrypto.DeriveKeys(smb2.Dialect302, sessionKey, nil, smbcrypto.AES128CCM)
	w.signer, err = smbcrypto.NewSigner(smbcrypto.SigningAESCMAC, keys.SigningKey)
	return err
}

// create opens name with the given access, disposition and options,
// sharing everything.
func (w *wire) create(ctx context.Context, name string, access, disp, options uint32) (smb2.FileID, error) {
	n := utf16le.Encode(name)
	b := make([]byte, 56+len(n))
	le16(b, 57)
	le32(b[4:], smb2.ImpersonationImpersonation)
	le32(b[24:], access)
	le32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	le32(b[36:], disp)
	le32(b[40:], options)
	le16(b[44:], smb2.HeaderSize+56)
	le16(b[46:], uint16(len(n)))
	copy(b[56:], n)
	if len(n) == 0 {
		b = append(b, 0) // the buffer is never empty (MS-SMB2 2.2.13)
	}
	r, err := w.call(ctx, smb2.Create, b)
	if err != nil {
		return smb2.FileID{}, fmt.Errorf("create %q: %w", name, err)
	}
	if len(r.msg) < smb2.HeaderSize+80 {
		return smb2.FileID{}, errors.New("short CREATE response")
	}
	p := r.msg[smb2.HeaderSize+64:]
	return smb2.FileID{Persistent: binary.LittleEndian.Uint64(p), Volatile: binary.LittleEndian.Uint64(p[8:])}, nil
}

func (w *wire) close(ctx context.Context, f smb2.FileID) error {
	b := make([]byte, 24)
	le16(b, 24)
	putFID(b[8:], f)
	_, err := w.call(ctx, smb2.Close, b)
	return err
}

func (w *wire) write(ctx context.Context, f smb2.FileID, off uint64, data []byte) error {
	b := make([]byte, 48+len(data))
	le16(b, 49)
	le16(b[2:], smb2.HeaderSize+48)
	le32(b[4:], uint32(len(data)))
	le64(b[8:], off)
	putFID(b[16:], f)
	copy(b[48:], data)
	r, err := w.call(ctx, smb2.Write, b)
	if err != nil {
		return err
	}
	if len(r.msg) < smb2.HeaderSize+8 {
		return errors.New("short WRITE response")
	}
	if n := binary.LittleEndian.Uint32(r.msg[smb2.HeaderSize+4:]); int(n) != len(data) {
		return fmt.Errorf("WRITE wrote %d of %d bytes", n, len(data))
	}
	return nil
}

func (w *wire) read(ctx context.Context, f smb2.FileID, off uint64, n uint32) ([]byte, error) {
	b := make([]byte, 49)
	le16(b, 49)
	le32(b[4:], n)
	le64(b[8:], off)
	putFID(b[16:], f)
	r, err := w.call(ctx, smb2.Read, b)
	if err != nil {
		return nil, err
	}
	m := r.msg
	if len(m) < smb2.HeaderSize+16 {
		return nil, errors.New("short READ response")
	}
	doff, dlen := int(m[smb2.HeaderSize+2]), int(binary.LittleEndian.Uint32(m[smb2.HeaderSize+4:]))
	if doff+dlen > len(m) {
		return nil, errors.New("READ data out of bounds")
	}
	return m[doff : doff+dlen], nil
}

// lock sends one LOCK request with one element and waits for its answer
// (a blocking lock waits for the range to be free); waited reports that
// the server answered STATUS_PENDING first, the lock being held by another.
func (w *wire) lock(ctx context.Context, f smb2.FileID, off, n uint64, flags uint32) (waited bool, err error) {
	b := make([]byte, 48)
	le16(b, 48)
	le16(b[2:], 1)
	putFID(b[8:], f)
	le64(b[24:], off)
	le64(b[32:], n)
	le32(b[40:], flags)
	cl, err := w.send(smb2.Lock, b)
	if err != nil {
		return false, err
	}
	r, err := await(ctx, smb2.Lock, cl.final)
	return err == nil && r.h.IsAsync(), err
}

// notifyCall sends CHANGE_NOTIFY on dir and returns the request waiting
// for its answer.
func (w *wire) notifyCall(dir smb2.FileID, filter uint32) (*call, error) {
	b := make([]byte, 32)
	le16(b, 32)
	le32(b[4:], 4096)
	putFID(b[8:], dir)
	le32(b[24:], filter)
	return w.send(smb2.ChangeNotify, b)
}

// notifyNames decodes FILE_NOTIFY_INFORMATION entries (MS-FSCC 2.7.1) of
// a CHANGE_NOTIFY response.
func notifyNames(msg []byte) ([]string, error) {
	if len(msg) < smb2.HeaderSize+8 {
		return nil, errors.New("short CHANGE_NOTIFY response")
	}
	off := int(binary.LittleEndian.Uint16(msg[smb2.HeaderSize+2:]))
	n := int(binary.LittleEndian.Uint32(msg[smb2.HeaderSize+4:]))
	if off+n > len(msg) {
		return nil, errors.New("CHANGE_NOTIFY buffer out of bounds")
	}
	buf := msg[off : off+n]
	var names []string
	for len(buf) >= 12 {
		next := int(binary.LittleEndian.Uint32(buf))
		ln := int(binary.LittleEndian.Uint32(buf[8:]))
		if 12+ln > len(buf) {
			return nil, errors.New("FILE_NOTIFY_INFORMATION name out of bounds")
		}
		names = append(names, utf16le.Decode(buf[12:12+ln]))
		if next == 0 || next > len(buf) {
			break
		}
		buf = buf[next:]
	}
	return names, nil
}

func le16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func le32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func le64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

func putFID(b []byte, f smb2.FileID) {
	le64(b, f.Persistent)
	le64(b[8:], f.Volatile)
}
