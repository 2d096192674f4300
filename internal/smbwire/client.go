// Package smbwire is a small SMB 3 client (3.0.2 or 3.1.1, NTLMv2, signed)
// that builds and parses its messages itself, for the repo's own tools:
// the soak tool sends what the client libraries in go.mod cannot
// (blocking byte-range LOCK, CHANGE_NOTIFY), and the metadata bench
// (cmd/smbbench) needs a client that costs less CPU per operation than
// the servers it compares.
//
// A Client is one connection with one session and one tree connect. It
// runs in one of two modes:
//
//   - Inline (Options.Inline): no reader goroutine; each request reads its
//     own answer, one request at a time, so a Client must be used by one
//     goroutine at a time. Requests are built in a buffer the Client
//     reuses and answers are read into another: the steady state does
//     not allocate, and the bytes a method returns (Reply.Msg, the
//     output of QueryDirectory, Read) are valid until the next request.
//   - Concurrent (the default): a reader goroutine hands each final
//     answer to the request with its MessageID and skips interim
//     STATUS_PENDING answers (MS-SMB2 3.3.4.2), so several requests may be
//     in flight (a Notify, a blocking Lock) and the Client may be used by
//     several goroutines. Each answer has its own buffer.
//
// Requests after the session setup are signed (AES-CMAC, MS-SMB2 3.1.4.1);
// answers are not verified: the peers are servers under test on loopback.
// Decoders never trust a length or an offset from the server.
package smbwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/cifsd/cifsd/internal/rawsock"
	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb2"
)

// maxFrame bounds the frames the client accepts from a server.
const maxFrame = 16 << 20

// creditTarget is the balance of credits the client asks the server to
// keep it at (go-smb2 keeps 128 too).
const creditTarget = 128

// Options are the settings of Dial.
type Options struct {
	// Dialer dials the TCP connection; nil: a zero net.Dialer.
	Dialer *net.Dialer
	// Inline makes a client without a reader goroutine, for one request
	// at a time (see the package documentation).
	Inline bool
	// Dialect is the one dialect the client offers: smb2.Dialect302 (the
	// default when zero) or smb2.Dialect311, which adds the negotiate
	// contexts and the pre-authentication integrity hash.
	Dialect uint16
}

// Client is one SMB connection with one session and one tree connect.
type Client struct {
	c       net.Conn
	raw     *rawsock.Conn // c's raw reads and writes (internal/rawsock), or nil
	inline  bool
	dialect uint16
	// maxTransact is the server's MaxTransactSize, capped at 1 MiB, or
	// 64 KiB when it did not grant SMB2_GLOBAL_CAP_LARGE_MTU.
	maxTransact uint32

	wmu  sync.Mutex // guards wbuf and wvec; one frame at a time on c
	wbuf []byte     // the frame being sent: length prefix, header, body
	wvec [1][]byte  // wbuf, for a raw writev

	mu      sync.Mutex // guards the fields below
	mid     uint64
	credits int // granted and not yet used (as far as the client knows)
	sid     uint64
	tid     uint32
	signer  *smbcrypto.Signer
	preauth *smbcrypto.PreauthHash // 3.1.1, during login: requests sent are hashed
	wait    map[uint64]*Call
	err     error
	done    chan struct{}

	// Inline mode: the bytes read and not yet consumed are rbuf[rpos:rend].
	rbuf       []byte
	rpos, rend int
}

// Reply is a server's final answer to one request.
type Reply struct {
	Header smb2.Header
	// Msg is the whole message from its SMB2 header on. In inline mode
	// it is valid until the client's next request.
	Msg []byte
}

// StatusError is an answer whose status is not one the request expected.
type StatusError struct {
	Command smb2.Command
	Status  smb2.Status
}

func (e StatusError) Error() string { return fmt.Sprintf("%v: %v", e.Command, e.Status) }

// IsStatus reports whether err is (or wraps) a StatusError with status st.
func IsStatus(err error, st smb2.Status) bool {
	var se StatusError
	return errors.As(err, &se) && se.Status == st
}

// Call is a request sent on a concurrent client and waiting for its
// answer.
type Call struct {
	cmd     smb2.Command
	final   chan Reply    // the final answer; closed if the connection is lost
	interim chan struct{} // closed at an interim STATUS_PENDING or the final answer
	pending bool          // interim closed
}

// Interim is closed when the server has answered STATUS_PENDING (or the
// final answer arrived, or the connection was lost).
func (cl *Call) Interim() <-chan struct{} { return cl.interim }

// Wait waits for the final answer and checks that its status is one of ok
// (STATUS_SUCCESS when none is given).
func (cl *Call) Wait(ctx context.Context, ok ...smb2.Status) (Reply, error) {
	r, err := cl.wait(ctx)
	if err != nil {
		return r, err
	}
	return r, checkStatus(cl.cmd, r, ok)
}

// wait waits for the final answer, whatever its status.
func (cl *Call) wait(ctx context.Context) (Reply, error) {
	select {
	case r, open := <-cl.final:
		if !open {
			return Reply{}, fmt.Errorf("%v: connection lost", cl.cmd)
		}
		return r, nil
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("%v: %w", cl.cmd, ctx.Err())
	}
}

func checkStatus(cmd smb2.Command, r Reply, ok []smb2.Status) error {
	st := smb2.Status(r.Header.Status)
	if len(ok) == 0 && st == smb2.StatusSuccess {
		return nil
	}
	for _, s := range ok {
		if st == s {
			return nil
		}
	}
	return StatusError{cmd, st}
}

// Dial connects to addr, negotiates, logs on as user with password (NTLMv2)
// and connects to share.
func Dial(ctx context.Context, addr, share, user, password string, opt Options) (*Client, error) {
	d := opt.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	dialect := opt.Dialect
	if dialect == 0 {
		dialect = smb2.Dialect302
	}
	if dialect != smb2.Dialect302 && dialect != smb2.Dialect311 {
		return nil, fmt.Errorf("smbwire: dialect %#04x: only 3.0.2 and 3.1.1", dialect)
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &Client{c: conn, raw: rawsock.New(conn), inline: opt.Inline, dialect: dialect, credits: 1, done: make(chan struct{})}
	if c.inline {
		close(c.done)
	} else {
		c.wait = map[uint64]*Call{}
		go c.readLoop()
	}
	if err := c.login(ctx, user, password); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.treeConnect(ctx, `\\127.0.0.1\`+share); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close hangs up; requests still waiting fail.
func (c *Client) Close() error {
	err := c.c.Close()
	<-c.done
	return err
}

// MaxTransact is the largest output buffer a request may ask for: the
// server's MaxTransactSize capped at 1 MiB, 64 KiB without multi-credit
// requests (as go-smb2 caps it).
func (c *Client) MaxTransact() uint32 { return c.maxTransact }

// start locks the send buffer and returns a zeroed request body of n bytes
// in it. The caller fills it and calls finish (or exchange), which unlocks.
func (c *Client) start(n int) []byte {
	c.wmu.Lock()
	need := 4 + smb2.HeaderSize + n
	if cap(c.wbuf) < need {
		c.wbuf = make([]byte, need, max(need, 512))
	}
	c.wbuf = c.wbuf[:need]
	clear(c.wbuf)
	return c.wbuf[4+smb2.HeaderSize:]
}

// finish writes the request in the send buffer as cmd, charged charge
// credits, and unlocks the buffer. It returns the request's MessageID and,
// on a concurrent client, where its answer will arrive.
func (c *Client) finish(cmd smb2.Command, charge uint16) (uint64, *Call, error) {
	defer c.wmu.Unlock()
	charge = max(charge, 1)
	var cl *Call
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, nil, err
	}
	mid := c.mid
	c.mid += uint64(charge)
	want := int(charge)
	if c.credits < creditTarget {
		want = min(want+creditTarget-c.credits, 4*creditTarget)
	}
	c.credits -= int(charge)
	if !c.inline {
		cl = &Call{cmd: cmd, final: make(chan Reply, 1), interim: make(chan struct{})}
		c.wait[mid] = cl
	}
	h := smb2.Header{Command: cmd, Credits: uint16(want), CreditCharge: charge, MessageID: mid, SessionID: c.sid, TreeID: c.tid}
	signer, preauth := c.signer, c.preauth
	c.mu.Unlock()

	binary.BigEndian.PutUint32(c.wbuf, uint32(len(c.wbuf)-4))
	msg := c.wbuf[4:]
	h.Encode(msg)
	if preauth != nil && (cmd == smb2.Negotiate || cmd == smb2.SessionSetup) {
		preauth.Update(msg)
	}
	if signer != nil {
		if err := signer.Sign(msg); err != nil {
			c.forget(mid)
			return 0, nil, err
		}
	}
	if err := c.write(); err != nil {
		c.forget(mid)
		return 0, nil, fmt.Errorf("send %v: %w", cmd, err)
	}
	return mid, cl, nil
}

// write sends wbuf: one raw writev on Linux (internal/rawsock: no wake of
// the runtime's monitor thread per request, a cost that is the client's and
// not the server's), else through the net.Conn. The caller holds wmu.
func (c *Client) write() error {
	c.wvec[0] = c.wbuf
	ok, err := c.raw.Writev(c.wvec[:])
	c.wvec[0] = nil
	if !ok {
		_, err = c.c.Write(c.wbuf)
	}
	return err
}

// read reads into p, raw where it can (as write).
func (c *Client) read(p []byte) (int, error) {
	if n, ok, err := c.raw.Read(p[:min(len(p), rawsock.Max)]); ok {
		return n, err
	}
	return c.c.Read(p)
}

func (c *Client) forget(mid uint64) {
	if c.inline {
		return
	}
	c.mu.Lock()
	delete(c.wait, mid)
	c.mu.Unlock()
}

// exchange sends the request in the send buffer (see start) and waits for
// its final answer, whose status must be one of ok (success when none).
func (c *Client) exchange(ctx context.Context, cmd smb2.Command, charge uint16, ok ...smb2.Status) (Reply, error) {
	r, err := c.exchangeAny(ctx, cmd, charge)
	if err != nil {
		return r, err
	}
	return r, checkStatus(cmd, r, ok)
}

// exchangeAny is exchange accepting any status: the caller checks
// r.Header.Status.
func (c *Client) exchangeAny(ctx context.Context, cmd smb2.Command, charge uint16) (Reply, error) {
	mid, cl, err := c.finish(cmd, charge)
	if err != nil {
		return Reply{}, err
	}
	if !c.inline {
		return cl.wait(ctx)
	}
	r, err := c.readInline(ctx, mid)
	if err != nil {
		return Reply{}, fmt.Errorf("%v: %w", cmd, err)
	}
	return r, nil
}

// gotCredits adds the credits an answer grants.
func (c *Client) gotCredits(h *smb2.Header) {
	c.mu.Lock()
	c.credits += int(h.Credits)
	c.mu.Unlock()
}

func (c *Client) readLoop() {
	defer close(c.done)
	var hdr [4]byte
	fail := func(err error) {
		c.mu.Lock()
		c.err = err
		for mid, cl := range c.wait {
			close(cl.final)
			if !cl.pending {
				close(cl.interim)
			}
			delete(c.wait, mid)
		}
		c.mu.Unlock()
	}
	for {
		if _, err := io.ReadFull(c.c, hdr[:]); err != nil {
			fail(err)
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxFrame {
			fail(fmt.Errorf("frame of %d bytes", n))
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c.c, msg); err != nil {
			fail(err)
			return
		}
		var h smb2.Header
		if err := h.Decode(msg); err != nil {
			fail(fmt.Errorf("response header: %w", err))
			return
		}
		interim := h.IsAsync() && smb2.Status(h.Status) == smb2.StatusPending
		c.mu.Lock()
		c.credits += int(h.Credits)
		cl := c.wait[h.MessageID]
		if cl != nil {
			if !cl.pending {
				cl.pending = true
				close(cl.interim)
			}
			if !interim { // an interim answer: the final one follows
				delete(c.wait, h.MessageID)
				cl.final <- Reply{Header: h, Msg: msg}
			}
		}
		c.mu.Unlock()
	}
}

// readInline reads frames, for a client without a reader goroutine, until
// the final answer to request mid arrives; interim answers and answers to
// other ids (an oplock break) are skipped. Only a deadline of ctx is
// honoured.
func (c *Client) readInline(ctx context.Context, mid uint64) (Reply, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.c.SetReadDeadline(dl)
		defer c.c.SetReadDeadline(time.Time{})
	}
	for {
		msg, err := c.readFrame()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return Reply{}, err
		}
		var h smb2.Header
		if err := h.Decode(msg); err != nil {
			return Reply{}, fmt.Errorf("response header: %w", err)
		}
		c.gotCredits(&h)
		if h.MessageID != mid || h.IsAsync() && smb2.Status(h.Status) == smb2.StatusPending {
			continue
		}
		return Reply{Header: h, Msg: msg}, nil
	}
}

// readFrame returns the next frame's message, in rbuf: valid until the
// next readFrame. It reads as much as the buffer holds at once, so a
// frame usually costs one read.
func (c *Client) readFrame() ([]byte, error) {
	for {
		avail := c.rend - c.rpos
		need := 4
		if avail >= 4 {
			n := binary.BigEndian.Uint32(c.rbuf[c.rpos:])
			if n > maxFrame {
				return nil, fmt.Errorf("frame of %d bytes", n)
			}
			need = 4 + int(n)
			if avail >= need {
				msg := c.rbuf[c.rpos+4 : c.rpos+need]
				c.rpos += need
				return msg, nil
			}
		}
		if c.rpos > 0 { // move what is left to the front
			copy(c.rbuf, c.rbuf[c.rpos:c.rend])
			c.rpos, c.rend = 0, avail
		}
		if need > len(c.rbuf) {
			nb := make([]byte, max(need, 2*len(c.rbuf), 1024))
			copy(nb, c.rbuf[:c.rend])
			c.rbuf = nb
		}
		n, err := c.read(c.rbuf[c.rend:])
		c.rend += n
		if err != nil && c.rend-c.rpos < need {
			if err == io.EOF && c.rend > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// charge is the credits a request moving n bytes costs (MS-SMB2
// 3.1.5.2: one per 64 KiB).
func charge(n uint32) uint16 { return uint16((uint64(n) + 65535) / 65536) }

func le16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func le32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func le64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

func putFID(b []byte, f smb2.FileID) {
	le64(b, f.Persistent)
	le64(b[8:], f.Volatile)
}
