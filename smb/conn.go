package smb

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/internal/rawsock"
	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb1"
	"github.com/cifsd/cifsd/smb2"
)

// conn is one client connection: a goroutine that reads its frames and
// hands each to a worker, or serves a lone quick one itself (see serve and
// conn_order.go), and a writer goroutine, while answers wait to be
// written, that owns the socket's write side (send).
type conn struct {
	srv        *Server
	nc         net.Conn  // deadlines, close, addresses
	tr         transport // the messages (conn_transport.go)
	remoteAddr string
	log        *slog.Logger
	ctx        context.Context
	cancel     context.CancelFunc

	// The send queue (send, writeLoop): a writer goroutine runs only
	// while frames wait, so an idle connection holds no writer and no
	// queue.
	outMu       sync.Mutex
	outCond     sync.Cond  // signalled when the queue shrinks or the writer stops; L is &outMu
	outQ        []outFrame // frames waiting for the writer, in order
	writing     bool       // a writer goroutine runs
	writeFailed bool       // a write failed: later frames are dropped
	outClosed   bool

	done      chan struct{}
	endServe  func()      // runs when the connection has ended (serve)
	rd        *idleReader // the reading side of tr (conn_transport.go)
	hsTimer   *time.Timer // the handshake timeout, until authenticated (conn_limits.go)
	closeOnce sync.Once
	reqs      sync.WaitGroup
	sem       chan struct{}
	seq       sequencer // the order requests keep (conn_order.go)

	inline      inlineWatch // a frame the reading goroutine serves itself (conn_order.go)
	readerGrown bool        // the reading goroutine has served a frame (its stack grew)

	credits       creditWindow
	inBytes       byteBudget  // frames being served (conn_credits.go)
	draining      atomic.Bool // Shutdown: finish requests in progress before closing
	authenticated atomic.Bool // a session was established: full-size frames allowed

	// Negotiated state, set once by NEGOTIATE (under negMu) and read
	// without locks afterwards through dialect() and the atomics.
	negMu     sync.Mutex
	dialectV  atomic.Uint32 // 0 until NEGOTIATE completes
	neg       negotiateState
	preauthMu sync.Mutex
	preauth   smbcrypto.PreauthHash // connection's hash (3.1.1), MS-SMB2 3.3.5.4

	goneMu sync.Mutex
	gone   []*Session // sessions recently logged off, newest last

	binds bindTable // session bindings in progress (session_bind.go)

	inflightMu sync.Mutex
	inflight   map[uint64]context.CancelFunc // sync requests by MessageId, for CANCEL
	asyncOps   map[uint64]*asyncOp           // async operations by AsyncId
}

// negotiateState is what NEGOTIATE settled (MS-SMB2 3.3.1.7 Connection).
type negotiateState struct {
	clientGUID     [16]byte
	clientCaps     uint32
	clientSecMode  uint16
	clientDialects []uint16
	serverCaps     uint32
	serverSecMode  uint16
	cipher         uint16 // 3.1.1 ENCRYPTION_CAPABILITIES choice (0: none)
	signingAlg     uint16 // 3.1.1 SIGNING_CAPABILITIES choice
	signingNeg     bool   // signingAlg came from SIGNING_CAPABILITIES
	signingReq     bool   // the server requires signing
}

type outFrame struct {
	bufs    net.Buffers
	release func()
}

func newConn(base context.Context, s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(base)
	c := &conn{
		srv:        s,
		nc:         nc,
		tr:         &directTCP{r: nc, w: nc},
		remoteAddr: nc.RemoteAddr().String(),
		cancel:     cancel,
		done:       make(chan struct{}),
		sem:        make(chan struct{}, maxInFlight),
		inflight:   make(map[uint64]context.CancelFunc),
		asyncOps:   make(map[uint64]*asyncOp),
	}
	// The connection is found from its requests' contexts
	// (readingMayWait).
	c.ctx = context.WithValue(ctx, connKey{}, c)
	c.outCond.L = &c.outMu
	c.log = s.logger().With("remote", c.remoteAddr)
	c.credits.init()
	c.inBytes.limit = s.inFlightLimit() // conn_limits.go
	return c
}

func (c *conn) dialect() uint16 { return uint16(c.dialectV.Load()) }

// serve reads and serves the connection's frames on the calling
// goroutine; end runs when the connection has ended, after the
// connection's own cleanup, and c.done is closed just before.
//
// No goroutine waits for the connection while it is idle but the one
// reading it: it reads a frame, gives it its ticket and hands it to a
// worker (conn_order.go), then reads the next. The workers, whose
// stacks have grown, serve the frames of every connection. Only when the
// frame is a lone quick request and nothing else of the connection is in
// progress does the reader serve it itself, saving a wake-up of a worker
// per round trip (serveInline).
func (c *conn) serve(end func()) {
	c.endServe = end
	c.log.Debug("connection open")
	c.srv.setState(c.nc, StateNew)
	idle := c.srv.IdleTimeout
	if idle == 0 {
		idle = 15 * time.Minute
	}
	// Direct TCP reads through the idle- and frame-timeout reader
	// (conn_transport.go); on Linux, small reads and writes of a TCP
	// socket are raw system calls (internal/rawsock).
	raw := rawsock.New(c.nc)
	c.rd = &idleReader{c: c, raw: raw, idle: idle, frame: c.srv.frameTimeout()}
	c.tr = &directTCP{r: c.rd, w: c.nc, raw: raw, started: c.rd.frameStarted}
	c.readFrames(true)
}

// readFrames reads the connection's frames until it has ended, or until
// this goroutine has handed the reading on while it served a frame
// itself (conn_order.go).
func (c *conn) readFrames(first bool) {
	c.readerGrown = false
	for {
		more, handedOff := c.readNext(first)
		if !more || handedOff {
			return
		}
		first = false
	}
}

// readNext reads the next frame and has it served (see serve); more is
// false once the connection has ended, handedOff true when the calling
// goroutine served the frame itself and another goroutine reads now. Its
// frame and those of what it calls while it waits stay small.
func (c *conn) readNext(first bool) (more, handedOff bool) {
	if c.draining.Load() {
		// Shutdown: no new request starts, not even one whose bytes the
		// last read took with its predecessor's (conn_transport.go).
		c.finish()
		return false, false
	}
	rd := c.rd
	rd.parking = false
	switch {
	case rd.resume:
		// A fresh goroutine goes on waiting where a parked one stopped
		// (errReaderParked): the idle period runs from the last frame.
		rd.resume = false
		if rd.idle > 0 {
			c.nc.SetReadDeadline(rd.idleSince.Add(rd.idle))
		} else {
			c.nc.SetReadDeadline(time.Time{})
		}
	case rd.idle > 0 || c.readerGrown:
		rd.idleSince = time.Now()
		wait := rd.idle
		if park := time.Duration(readerParkAfter.Load()); c.readerGrown && (wait <= 0 || park < wait) {
			wait, rd.parking = park, true
		}
		c.nc.SetReadDeadline(rd.idleSince.Add(wait))
	case rd.started && !c.draining.Load():
		c.nc.SetReadDeadline(time.Time{}) // the last frame's timeout
	}
	limit := preAuthFrameSize
	if c.authenticated.Load() {
		limit = maxFrameSize
		c.stopHandshakeTimer() // conn_limits.go
	}
	rd.newFrame()
	frame, release, err := c.tr.readMessage(limit)
	if errors.Is(err, errReaderParked) {
		// The goroutine's stack grew serving frames itself: the
		// connection idles on a new one (conn_order.go).
		rd.resume = true
		go c.readFrames(false)
		return true, true
	}
	if err != nil {
		c.readFailed(err)
		c.finish()
		return false, false
	}
	run, inline, ok := c.dispatch(frame, release, first)
	if !ok {
		c.finish()
		return false, false
	}
	switch {
	case run == nil:
	case inline:
		return true, !c.serveInline(run)
	default:
		requestWorkers.run(run)
	}
	return true, false
}

// readFailed logs why reading ended, unless the client hung up or the
// connection was closed.
func (c *conn) readFailed(err error) {
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && c.ctx.Err() == nil {
		c.log.Debug("read", "err", err)
	}
}

// finish ends the connection once reading has ended: requests in progress
// end (or, on Shutdown, finish and are answered), queued answers are
// written, and the socket closes.
func (c *conn) finish() {
	if c.draining.Load() {
		// Shutdown: requests in progress finish and are answered.
		c.reqs.Wait()
	}
	c.cancel()
	c.wakeSenders() // a request waiting for room in the queue gives up
	c.reqs.Wait()
	c.cancelAsync()
	c.closeOut()
	c.nc.Close()
	c.srv.sessions.dropConn(c)
	c.log.Debug("connection closed")
	c.srv.setState(c.nc, StateClosed)
	close(c.done)
	if c.endServe != nil {
		c.endServe()
	}
}

// dispatch admits one frame read by readNext, which owns it until
// release, and returns what serves it (nil: nothing more to do) and
// whether the reading goroutine should serve it itself (mayServeInline);
// false ends the connection.
func (c *conn) dispatch(frame []byte, release func(), first bool) (run func(), inline, ok bool) {
	if first && len(frame) >= 4 && [4]byte(frame[:4]) == smb1.ProtocolID {
		ok := c.upgradeSMB1(frame)
		release()
		return nil, false, ok
	}
	// The reading goroutine handles a lone CANCEL itself, and gives
	// every other frame its ticket before it reads the next one
	// (conn_order.go).
	h, msg, peeked, peekBuf := c.peekFrame(frame)
	defer putPeekBuf(peekBuf)
	if peeked && isLoneCancel(&h, len(frame)) {
		c.cancelRequest(&h)
		release()
		return nil, false, true
	}
	size := len(frame)
	c.inBytes.acquire(size)
	select {
	case c.sem <- struct{}{}:
	case <-c.ctx.Done():
		c.inBytes.release(size)
		release()
		return nil, false, false
	}
	c.reqs.Add(1)
	t := c.seq.admit(c)
	if peeked {
		c.classify(t, msg)
		inline = servedInline(msg) && c.mayServeInline()
	}
	return func() {
		defer func() {
			if r := recover(); r != nil {
				c.log.Error("panic serving request", "panic", r, "stack", stack())
				if panicHook != nil {
					panicHook(r)
				}
				c.close()
			}
			t.finish()
			release()
			c.inBytes.release(size)
			<-c.sem
			c.reqs.Done()
		}()
		c.handleFrame(frame, t, peeked)
	}, inline, true
}

// maxQueuedFrames bounds the frames waiting to be written: past it a
// sender waits for the writer (a client that does not read its answers
// stops the requests that make them).
const maxQueuedFrames = 64

// writeLoop writes the queued frames, in order, until the queue is empty,
// and ends. A write error closes the connection; later frames are dropped.
func (c *conn) writeLoop() {
	c.outMu.Lock()
	for len(c.outQ) > 0 {
		batch := c.outQ
		c.outQ = nil
		failed := c.writeFailed
		c.outCond.Broadcast() // senders waiting for room
		c.outMu.Unlock()
		for i := range batch {
			f := &batch[i]
			if !failed {
				if err := c.tr.writeMessage(f.bufs); err != nil {
					failed = true
					c.close()
				}
			}
			if f.release != nil {
				f.release()
			}
			*f = outFrame{}
		}
		c.outMu.Lock()
		c.writeFailed = c.writeFailed || failed
	}
	c.writing = false
	c.outCond.Broadcast() // closeOut waiting for the writer
	c.outMu.Unlock()
}

// send queues one message made of bufs (framed by the transport), starting
// a writer if none runs. With inline, when no writer runs (so nothing is
// queued) the caller writes the message itself instead: a request's own
// goroutine answering it saves a goroutine start and a handoff per
// response. What others queue meanwhile goes to a writer started then;
// senders that must not wait for this connection's socket (breaks and
// async completions sent from other connections' goroutines, interim
// responses under an operation's send lock) pass false.
func (c *conn) send(bufs net.Buffers, release func(), inline bool) {
	// Async completions may race with the end of the connection: the
	// queue is closed under outMu.
	c.outMu.Lock()
	for len(c.outQ) >= maxQueuedFrames && !c.outClosed && c.ctx.Err() == nil {
		c.outCond.Wait()
	}
	if c.outClosed || c.ctx.Err() != nil {
		c.outMu.Unlock()
		if release != nil {
			release()
		}
		return
	}
	if inline && !c.writing {
		c.writing = true
		failed := c.writeFailed
		c.outMu.Unlock()
		if !failed {
			if err := c.tr.writeMessage(bufs); err != nil {
				failed = true
				c.close()
			}
		}
		if release != nil {
			release()
		}
		c.outMu.Lock()
		c.writeFailed = c.writeFailed || failed
		if len(c.outQ) > 0 {
			c.outMu.Unlock()
			go c.writeLoop() // c.writing stays set
			return
		}
		c.writing = false
		c.outCond.Broadcast() // closeOut waiting for the writer
		c.outMu.Unlock()
		return
	}
	c.outQ = append(c.outQ, outFrame{bufs: bufs, release: release})
	start := !c.writing
	c.writing = true
	c.outMu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// wakeSenders wakes the senders waiting for room, to see the connection
// is cancelled.
func (c *conn) wakeSenders() {
	c.outMu.Lock()
	c.outCond.Broadcast()
	c.outMu.Unlock()
}

// closeOut closes the send queue once the connection is done and waits
// for the writer to write (or drop) what was queued.
func (c *conn) closeOut() {
	c.outMu.Lock()
	c.outClosed = true
	c.outCond.Broadcast() // senders waiting for room give up
	for c.writing {
		c.outCond.Wait()
	}
	c.outMu.Unlock()
}

// panicHook, set by tests, sees every recovered panic.
var panicHook func(any)

// goSafe runs f on its own goroutine; a panic there ends the connection,
// never the server.
func (c *conn) goSafe(f func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.log.Error("panic in background work", "panic", r, "stack", stack())
				c.close()
			}
		}()
		f()
	}()
}

// close tears the connection down at once.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.nc.Close()
	})
}

// shutdown closes the read side so no new request starts; requests in
// progress finish and their responses are written before the socket closes.
func (c *conn) shutdown() {
	c.draining.Store(true)
	if cr, ok := c.nc.(interface{ CloseRead() error }); ok {
		cr.CloseRead()
		return
	}
	c.nc.SetReadDeadline(time.Now())
}

// maxCancelFrame is the largest frame that can hold a lone CANCEL: its
// 64-byte header, 4-byte body and a transform header.
const maxCancelFrame = smb2.HeaderSize + 4 + smbcrypto.TransformHeaderSize

// isLoneCancel reports whether a frame of frameLen bytes whose (first)
// header is h is one CANCEL. The reading goroutine handles it itself,
// before any later frame starts, so the cancelled operation's final
// response precedes the responses to what the client sent next (frames
// are otherwise served concurrently).
func isLoneCancel(h *smb2.Header, frameLen int) bool {
	return frameLen <= maxCancelFrame && h.Command == smb2.Cancel && h.NextCommand == 0
}

// maxPeekFrame bounds the encrypted frames peekFrame decrypts a copy of: a
// CANCEL, a CHANGE_NOTIFY, a CLOSE, a READ, QUERY_INFO or QUERY_DIRECTORY
// request, not a WRITE's data (classified by its own goroutine).
const maxPeekFrame = 512

// peekBufs hold the copies peekFrame decrypts, so that a connection holds
// none between frames.
var peekBufs = sync.Pool{New: func() any { return new([maxPeekFrame]byte) }}

// putPeekBuf returns a buffer peekFrame took (nil: none).
func putPeekBuf(b *[maxPeekFrame]byte) {
	if b != nil {
		peekBufs.Put(b)
	}
}

// peekFrame returns the (first) request header and message of a frame, for
// the reading goroutine to decide how it is served. An encrypted frame of
// at most maxPeekFrame bytes is decrypted into a copy in a pooled buffer,
// returned for putPeekBuf once msg is no longer used (decryption works in
// place; handleFrame decrypts the frame itself again, which is cheap for a
// frame this small); false for a larger encrypted frame, one that does not
// decrypt, or one that holds no request.
func (c *conn) peekFrame(frame []byte) (h smb2.Header, msg []byte, ok bool, buf *[maxPeekFrame]byte) {
	msg = frame
	if len(frame) >= 4 && [4]byte(frame[:4]) == smbcrypto.TransformProtocolID {
		if len(frame) > maxPeekFrame {
			return h, nil, false, nil
		}
		buf = peekBufs.Get().(*[maxPeekFrame]byte)
		_, plain, err := c.decrypt(buf[:copy(buf[:], frame)])
		if err != nil {
			return h, nil, false, buf
		}
		msg = plain
	}
	if h.Decode(msg) != nil || h.IsResponse() {
		return h, nil, false, buf
	}
	return h, msg, true, buf
}

// handleFrame decrypts and serves one frame, classifying its ticket t first
// unless the reading goroutine did (conn_order.go).
func (c *conn) handleFrame(frame []byte, t *ticket, classified bool) {
	encrypted := false
	var encSess *Session
	if len(frame) >= 4 && [4]byte(frame[:4]) == smbcrypto.TransformProtocolID {
		sess, msg, err := c.decrypt(frame)
		if err != nil {
			c.log.Debug("decrypt", "err", err)
			c.close()
			return
		}
		frame, encrypted, encSess = msg, true, sess
		sess.clientEncrypts.Store(true) // Server.Sessions (server_observe.go)
	}
	if !classified {
		c.classify(t, frame)
	}
	if len(frame) < smb2.HeaderSize || [4]byte(frame[:4]) != smb2.ProtocolID {
		c.log.Debug("not an SMB2 message")
		c.close()
		return
	}
	c.serveCompound(frame, encrypted, encSess, t)
}

// compoundState carries what related requests of a compound inherit
// (MS-SMB2 3.3.5.2.7.2).
type compoundState struct {
	sessionID uint64
	treeID    uint32
	fileID    smb2.FileID
	hasFileID bool
	// chainErr is the error every later related request of the chain gets:
	// the status of a failed CREATE (whose FileId they would use), or
	// INVALID_PARAMETER when the chain's first request claims to be related
	// (MS-SMB2 3.3.5.2.7.2; Windows does not propagate other failures).
	chainErr smb2.Status
}

// startElement applies MS-SMB2 3.3.5.2.7 to the next request of a compound:
// an unrelated request starts a new chain, a related one inherits the
// chain's session, tree and file. It returns the status to answer without
// running the request, or success.
func (st *compoundState) startElement(h *smb2.Header, first bool) smb2.Status {
	if h.Flags&smb2.FlagsRelatedOps == 0 {
		*st = compoundState{}
		return smb2.StatusSuccess
	}
	if first {
		st.chainErr = smb2.StatusInvalidParameter
	}
	return st.chainErr
}

// endElement records what a request leaves the rest of its chain.
func (st *compoundState) endElement(h *smb2.Header, status smb2.Status) {
	if h.Command == smb2.Create && status.IsError() && st.chainErr == 0 {
		st.chainErr = status
	}
}

// respElem is one encoded response of a compound.
type respElem struct {
	msg     []byte // header + body (+ padding added later)
	data    []byte
	release func()
	signer  *smbcrypto.Signer // signs the element, when non-nil
}

// frameScratch is a frame's compound state with room for its first
// request and its answer: a frame of one request, most frames, allocates
// them at once.
type frameScratch struct {
	state  compoundState
	req0   Request
	elems0 [1]respElem
}

func (c *conn) serveCompound(frame []byte, encrypted bool, encSess *Session, t *ticket) {
	scratch := &frameScratch{}
	state := &scratch.state
	elems := scratch.elems0[:0]
	var pending []*asyncOp // async operations whose interim this frame carries
	rest := frame
	for elem := 0; len(rest) > 0; elem++ {
		var hdr smb2.Header
		if err := hdr.Decode(rest); err != nil {
			c.log.Debug("bad header", "err", err)
			c.close()
			return
		}
		msg := rest
		if hdr.NextCommand != 0 {
			if hdr.NextCommand%8 != 0 || hdr.NextCommand < smb2.HeaderSize || int(hdr.NextCommand) > len(rest) {
				c.log.Debug("bad NextCommand", "next", hdr.NextCommand)
				c.close()
				return
			}
			msg, rest = rest[:hdr.NextCommand], rest[hdr.NextCommand:]
		} else {
			rest = nil
		}
		if hdr.IsResponse() {
			c.close()
			return
		}
		if hdr.Command == smb2.Cancel {
			c.cancelRequest(&hdr)
			continue
		}
		if !c.credits.consume(hdr.MessageID, c.charge(&hdr)) {
			// MS-SMB2 3.3.5.2.3: an id outside the window ends the connection.
			c.log.Debug("message id outside the credit window", "mid", hdr.MessageID, "cmd", hdr.Command)
			c.close()
			return
		}
		req := &scratch.req0
		if elem > 0 {
			req = new(Request)
		}
		*req = Request{Header: hdr, Msg: msg, Encrypted: encrypted, conn: c, compound: state, holds: t, elem: elem}
		if encrypted && encSess != nil && hdr.SessionID != encSess.ID && hdr.Flags&smb2.FlagsRelatedOps == 0 {
			// The transform header's session must be the request's.
			t.endElement(elem, hdr.Command)
			elems = append(elems, c.encodeResponse(req, statusResponse(smb2.StatusAccessDenied)))
			continue
		}
		var resp *Response
		if st := state.startElement(&hdr, len(elems) == 0); st != smb2.StatusSuccess {
			resp = statusResponse(st)
			c.signChainError(req) // session_signing_errors.go
		} else {
			resp = c.serveOne(req)
		}
		t.endElement(elem, hdr.Command) // answered, or gone async
		if req.reply.drop {
			c.close()
			return
		}
		op := req.pending(resp) // conn_async.go
		if op != nil && len(rest) > 0 {
			// A request that would go async before the end of its compound
			// fails instead, and the compound is answered whole, as Windows
			// does (MS-SMB2 3.3.4.2, <footnote 162>: compound-interim2).
			op.abandon()
			op, req.reply.async = nil, nil
			resp = statusResponse(smb2.StatusInternalError)
		}
		state.endElement(&hdr, resp.Status)
		if op == nil {
			req.runFinals(resp) // OnFinal (request.go); an async one's come with its completion
		}
		elems = append(elems, c.encodeResponse(req, resp))
		if op != nil {
			pending = append(pending, op)
		}
	}
	if len(elems) > 0 {
		c.seq.waitAnswer(t)
		// The frame's own goroutine writes its answer when the socket is
		// free, but not an interim response: it is written under its
		// operations' send locks, which their completions take.
		inline := len(pending) == 0
		announce(pending, func() { c.writeCompound(elems, encrypted, encSess, inline) })
	}
}

// charge is the request's CreditCharge, with 0 (2.0.2 clients) counting as 1.
func (c *conn) charge(h *smb2.Header) uint16 {
	if c.dialect() == smb2.Dialect202 || h.CreditCharge == 0 {
		return 1
	}
	return h.CreditCharge
}

// serveOne runs one request through the handler chain, cancellable by
// CANCEL while it runs.
func (c *conn) serveOne(req *Request) *Response {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	mid := req.Header.MessageID
	c.inflightMu.Lock()
	c.inflight[mid] = cancel
	if req.holds.takeCancel(mid) {
		cancel()
	}
	c.inflightMu.Unlock()
	defer func() {
		c.inflightMu.Lock()
		delete(c.inflight, mid)
		c.inflightMu.Unlock()
	}()
	resp := c.srv.handler.ServeSMB(withBreakOrder(ctx, req), req)
	if resp == nil {
		resp = statusResponse(smb2.StatusInternalError)
	}
	if op := req.pending(resp); op != nil && ctx.Err() != nil && c.ctx.Err() == nil {
		// A CANCEL came before the request went async (or before it
		// started): the operation ends as soon as it is announced.
		op.cancel()
		if op.cancelled != nil {
			op.complete(op.cancelled())
		}
	}
	return resp
}

// encodeResponse builds the response header for req and encodes resp.
func (c *conn) encodeResponse(req *Request, resp *Response) respElem {
	rh := smb2.Header{
		CreditCharge: req.Header.CreditCharge,
		Status:       uint32(resp.Status),
		Command:      req.Header.Command,
		Flags:        smb2.FlagsServerToRedir | req.Header.Flags&(smb2.FlagsRelatedOps|smb2.FlagsPriorityMask),
		MessageID:    req.Header.MessageID,
		ProcessID:    req.Header.ProcessID,
		TreeID:       req.Header.TreeID,
		SessionID:    req.Header.SessionID,
	}
	if req.Session != nil {
		rh.SessionID = req.Session.ID
	}
	if req.Tree != nil {
		rh.TreeID = req.Tree.ID
	}
	if req.reply.sessionID != 0 {
		rh.SessionID = req.reply.sessionID
	}
	if req.reply.treeID != 0 {
		rh.TreeID = req.reply.treeID
	}
	if op := req.reply.async; op != nil {
		rh.Flags |= smb2.FlagsAsyncCommand
		rh.AsyncID = op.id
	}
	rh.Credits = c.credits.grant(req.Header.Credits, c.charge(&req.Header))
	if c.log.Enabled(c.ctx, slog.LevelDebug) {
		c.log.Debug("response", "cmd", req.Header.Command, "mid", req.Header.MessageID,
			"status", resp.Status, "session", rh.SessionID, "tree", rh.TreeID)
	}
	b := resp.Body
	if b == nil {
		b = errorBody
	}
	msg := make([]byte, smb2.HeaderSize+len(b))
	rh.Encode(msg)
	copy(msg[smb2.HeaderSize:], b)
	if f := req.reply.afterEncode; f != nil {
		f(msg)
	}
	return respElem{msg: msg, data: resp.Data, release: resp.Release, signer: c.signerFor(req)}
}

// errorBody is the body of an error response without error data
// (MS-SMB2 2.2.2).
var errorBody = encodeBody(&smb2.ErrorResponse{})

// signerFor returns the key that signs the response to req, or nil
// (MS-SMB2 3.3.4.1.1): the session's key for this connection, or
// Session.SigningKey for the answers to a binding request. It is the one
// place the send path decides signing, from the request (its session,
// whether it was signed, encrypted) and what the handlers said of its
// answer (req.reply.sign, handler.go).
func (c *conn) signerFor(req *Request) *smbcrypto.Signer {
	p := req.reply.sign
	if req.Encrypted || p.never {
		return nil // an encrypted response is not signed (MS-SMB2 3.3.4.1.1)
	}
	s := p.by // this response is always signed (SESSION_SETUP, LOGOFF)
	if s == nil {
		s = req.Session
		if s == nil || !(req.signed || s.signingRequired) {
			return nil
		}
	}
	if !s.canSign() {
		return nil
	}
	if p.master {
		return s.keys.signer
	}
	return s.signerOn(c)
}

// writeCompound pads, chains, signs and (when the request was encrypted)
// encrypts the responses of one frame, and sends them as one frame (inline:
// see send).
func (c *conn) writeCompound(elems []respElem, encrypted bool, encSess *Session, inline bool) {
	if len(elems) == 1 && !(encrypted && encSess != nil) {
		// One response, sent as it is: its own release, no list of them.
		e := &elems[0]
		if e.signer != nil {
			e.msg = signMsg(e.signer, e.msg, e.data)
		}
		bufs := net.Buffers{e.msg}
		if len(e.data) > 0 {
			bufs = append(bufs, e.data)
		}
		c.send(bufs, e.release, inline)
		return
	}
	releases := make([]func(), 0, len(elems))
	var bufs net.Buffers
	for i := range elems {
		e := &elems[i]
		last := i == len(elems)-1
		if len(elems) > 1 {
			// Pad every response of a compound to 8 bytes, the last one
			// too (as Windows does: compound-padding), and chain them
			// (MS-SMB2 3.3.4.1.3). A lone response is not padded.
			n := len(e.msg) + len(e.data)
			if pad := (8 - n%8) % 8; pad != 0 {
				if len(e.data) == 0 {
					e.msg = append(e.msg, make([]byte, pad)...)
				} else {
					e.data = append(e.data[:len(e.data):len(e.data)], make([]byte, pad)...)
				}
			}
			if !last {
				binary.LittleEndian.PutUint32(e.msg[20:], uint32(len(e.msg)+len(e.data)))
			}
		}
		if e.signer != nil {
			e.msg = signMsg(e.signer, e.msg, e.data)
		}
		bufs = append(bufs, e.msg)
		if len(e.data) > 0 {
			bufs = append(bufs, e.data)
		}
		if e.release != nil {
			releases = append(releases, e.release)
		}
	}
	release := func() {
		for _, r := range releases {
			r()
		}
	}
	if encrypted && encSess != nil {
		enc, encRelease, err := encSess.encrypt(bufs)
		release()
		if err != nil {
			c.log.Error("encrypt", "err", err)
			c.close()
			return
		}
		c.send(net.Buffers{enc}, encRelease, inline)
		return
	}
	c.send(bufs, release, inline)
}

// sendAsync sends the final response of an async operation.
func (c *conn) sendAsync(op *asyncOp, resp *Response) {
	req := op.req
	rh := smb2.Header{
		CreditCharge: req.Header.CreditCharge,
		Status:       uint32(resp.Status),
		Command:      req.Header.Command,
		Flags:        smb2.FlagsServerToRedir | smb2.FlagsAsyncCommand,
		MessageID:    req.Header.MessageID,
		AsyncID:      op.id,
		SessionID:    req.Header.SessionID,
	}
	if req.Session != nil {
		rh.SessionID = req.Session.ID
	}
	b := resp.Body
	if b == nil {
		b = errorBody
	}
	msg := make([]byte, smb2.HeaderSize+len(b))
	rh.Encode(msg)
	copy(msg[smb2.HeaderSize:], b)
	e := respElem{msg: msg, data: resp.Data, release: resp.Release, signer: c.signerFor(req)}
	var encSess *Session
	if req.Encrypted {
		encSess = req.Session
	}
	c.writeCompound([]respElem{e}, req.Encrypted, encSess, false)
}

// cancelRequest handles CANCEL (MS-SMB2 3.3.5.16): it has no response.
func (c *conn) cancelRequest(h *smb2.Header) {
	c.inflightMu.Lock()
	var op *asyncOp
	var cancel context.CancelFunc
	if h.IsAsync() {
		op = c.asyncOps[h.AsyncID]
	} else {
		cancel = c.inflight[h.MessageID]
		for _, o := range c.asyncOps {
			if o.req.Header.MessageID == h.MessageID {
				op = o
			}
		}
	}
	if cancel == nil && op == nil && !h.IsAsync() {
		// Read but not started: it starts cancelled (conn_order.go).
		c.seq.cancelQueued(h.MessageID)
	}
	c.inflightMu.Unlock()
	if cancel != nil {
		cancel()
	}
	if op != nil {
		op.cancel()
		if op.cancelled != nil {
			op.complete(op.cancelled())
		}
	}
}

// cancelAsync cancels every async operation when the connection ends.
func (c *conn) cancelAsync() {
	c.inflightMu.Lock()
	ops := make([]*asyncOp, 0, len(c.asyncOps))
	for _, op := range c.asyncOps {
		ops = append(ops, op)
	}
	c.inflightMu.Unlock()
	for _, op := range ops {
		op.cancel()
	}
}

// maxLoggedOff bounds the logged-off sessions a connection remembers.
const maxLoggedOff = 8

// rememberLoggedOff keeps s so that late requests of it can get a signed
// STATUS_USER_SESSION_DELETED.
func (c *conn) rememberLoggedOff(s *Session) {
	c.goneMu.Lock()
	defer c.goneMu.Unlock()
	if len(c.gone) == maxLoggedOff {
		c.gone = c.gone[1:]
	}
	c.gone = append(c.gone, s)
}

func (c *conn) loggedOff(id uint64) *Session {
	c.goneMu.Lock()
	defer c.goneMu.Unlock()
	for _, s := range c.gone {
		if s.ID == id {
			return s
		}
	}
	return nil
}
