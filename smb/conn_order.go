package smb

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// How a connection's frames are served: on which goroutine (a pooled
// worker, or the reader itself: at the end of this file) and in what
// order. The request-ordering model (doc/ARCHITECTURE.md, "Request
// order"): frames are served concurrently, each on its own goroutine;
// what a client may count on is kept by tickets:
//
//   - The reading goroutine gives every frame a ticket, in arrival order,
//     before it reads the next frame, and classifies it at once when it
//     can look into it (a plain frame, or an encrypted one of at most
//     maxPeekFrame bytes): for each element of the compound, the open its
//     FileId names and whether it uses it shared (READ, WRITE, QUERY_INFO,
//     LOCK, IOCTL, QUERY_DIRECTORY) or exclusive (CLOSE, SET_INFO, FLUSH,
//     CHANGE_NOTIFY). These uses go on the open's queue (useQueue). A larger
//     encrypted frame is classified by its own goroutine once decrypted.
//   - When an element gets its open (req.open, req.openExclusive) it waits
//     until every earlier ticket of the connection is classified, and no
//     conflicting use on the open is either running or from an earlier
//     ticket of the connection (shared waits for exclusive, exclusive for
//     all). Uses from other connections (channels of a multichannel
//     session) are excluded while they run but not ordered: no order exists
//     between channels.
//   - A use ends when its element is answered or goes async (a blocking
//     LOCK, CHANGE_NOTIFY): waits go only to earlier tickets or to running
//     elements, which never wait for a later one, so there is no cycle.
//     OPLOCK_BREAK acknowledgments and CANCEL never wait and hold nothing:
//     they are what a waiting request may be waiting for.
//   - Answers to a ticket's frame wait (at most orderWait) until every
//     earlier ticket is classified and has sent the breaks of its SET_INFO
//     (breaksSent), as an in-order server would (smb2.lease.rename_wait).
//   - CANCEL is handled by the reading goroutine when it reads it (a lone
//     CANCEL) and finds its target by MessageId or AsyncId, even a ticket
//     whose goroutine has not started: it is marked and starts cancelled.
//   - A final response never goes before its interim one (conn_async.go).

// ticketSeq numbers the tickets of every connection in one sequence, so
// that within a connection a smaller number means an earlier frame.
var ticketSeq atomic.Uint64

// How a request uses the open it names.
type holdMode int

const (
	holdShared holdMode = iota
	holdExclusive
	holdNone // OPLOCK_BREAK acknowledgments, which must never wait
)

// handleUse returns how a command uses the open it names, and where its
// body carries the FileId (MS-SMB2 2.2), or -1 when it names none or holds
// nothing (an OPLOCK_BREAK acknowledgment).
func handleUse(cmd smb2.Command) (holdMode, int) {
	switch cmd {
	case smb2.Read, smb2.Write:
		return holdShared, 16
	case smb2.QueryInfo:
		return holdShared, 24
	case smb2.Lock, smb2.Ioctl, smb2.QueryDirectory:
		return holdShared, 8
	case smb2.Close, smb2.Flush, smb2.ChangeNotify:
		// A CHANGE_NOTIFY sent after another on its handle takes the
		// changes only the first did not (smb2.notify.double); a CLOSE
		// sent after it ends it with NOTIFY_CLEANUP (smb2.notify.dir).
		return holdExclusive, 8
	case smb2.SetInfo:
		return holdExclusive, 16
	}
	return holdNone, -1
}

// sequencer holds a connection's tickets.
type sequencer struct {
	mu      sync.Mutex
	live    []*ticket     // tickets not finished, in arrival order
	orphans []uint64      // CANCELs that found nothing while a ticket was unclassified
	changed chan struct{} // closed when a ticket is classified, sends its breaks or finishes
	// How many live tickets are unclassified, and breaking: when none is,
	// nobody waits and nothing is scanned.
	nUnclassified, nBreaking int
}

// setLocked changes t's state, keeping the counts; under s.mu.
func (s *sequencer) setLocked(t *ticket, classified, breaking bool) {
	if t.classified != classified {
		if classified {
			s.nUnclassified--
		} else {
			s.nUnclassified++
		}
	}
	if t.breaking != breaking {
		if breaking {
			s.nBreaking++
		} else {
			s.nBreaking--
		}
	}
	t.classified, t.breaking = classified, breaking
}

// maxOrphanCancels bounds the CANCELs kept for frames not yet classified.
const maxOrphanCancels = 32

// ticket is a frame's place in its connection's order.
type ticket struct {
	c   *conn
	seq uint64

	// Under c.seq.mu.
	classified bool
	breaking   bool     // holds a SET_INFO whose breaks are not out yet
	mids       []uint64 // the elements' MessageIds
	cancelled  []uint64 // MessageIds a CANCEL named before they started

	// uses are the ticket's uses of opens, in element order. Only the
	// frame's goroutine (or the reader before it starts) touches the slice.
	uses []*openUse

	// Storage for a frame of one request (most frames), so that its
	// ticket is its only allocation here: the MessageId, the use of the
	// open it names (newUse) and the list of that one use.
	mids0  [1]uint64
	uses0  [1]*openUse
	use0   openUse
	use0On bool // use0 is handed out
}

// newUse returns a new use of o by the element elem, on the ticket's list
// of uses. The caller puts it on o's queue.
func (t *ticket) newUse(elem int, o *Open, excl bool) *openUse {
	u := &t.use0
	if t.use0On {
		u = new(openUse)
	}
	t.use0On = true
	*u = openUse{t: t, elem: elem, o: o, excl: excl}
	if t.uses == nil {
		t.uses = t.uses0[:0]
	}
	t.uses = append(t.uses, u)
	return u
}

// openUse is one element's use of one open.
type openUse struct {
	t        *ticket
	elem     int // the element's index in the frame
	o        *Open
	excl     bool // under o.uses.mu
	running  bool // under o.uses.mu: the element has the open
	released bool // owned by the frame's goroutine
}

// useQueue is an open's uses, by requests waiting for it or running on it.
type useQueue struct {
	mu      sync.Mutex
	uses    []*openUse
	uses0   [2]*openUse   // the first backing of uses (addLocked)
	nExcl   int           // exclusive uses among them
	changed chan struct{} // closed when a use ends
}

// changedLocked returns the channel closed at the next change; under mu.
func changedLocked(ch *chan struct{}) chan struct{} {
	if *ch == nil {
		*ch = make(chan struct{})
	}
	return *ch
}

// broadcastLocked wakes the waiters of ch; under its mutex.
func broadcastLocked(ch *chan struct{}) {
	if *ch != nil {
		close(*ch)
		*ch = nil
	}
}

// admit gives the frame just read its ticket. Called by the reading
// goroutine only.
func (s *sequencer) admit(c *conn) *ticket {
	t := &ticket{c: c, seq: ticketSeq.Add(1)}
	s.mu.Lock()
	s.live = append(s.live, t)
	s.nUnclassified++
	s.mu.Unlock()
	return t
}

// classify walks the headers of the decrypted frame msg and puts the
// ticket's uses on the opens they name (MS-SMB2 3.3.5.2.7.2: a related
// element's 0xFFFF... FileId is the chain's current one; a CREATE in the
// chain makes a handle no earlier ticket can name). A malformed frame is
// classified as far as it goes: serveCompound refuses it.
func (c *conn) classify(t *ticket, msg []byte) {
	mids := t.mids0[:0]
	breaking := false
	var sess *Session
	var cur smb2.FileID
	curKnown := false
	rest := msg
	for elem := 0; len(rest) >= smb2.HeaderSize; elem++ {
		var h smb2.Header
		if h.Decode(rest) != nil || h.IsResponse() {
			break
		}
		m := rest
		if next := h.NextCommand; next != 0 {
			if next%8 != 0 || next < smb2.HeaderSize || int(next) > len(rest) {
				break
			}
			m, rest = rest[:next], rest[next:]
		} else {
			rest = nil
		}
		related := h.Flags&smb2.FlagsRelatedOps != 0
		if !related {
			curKnown = false
		}
		if !related || h.SessionID != ^uint64(0) { // else the chain's session
			sess = c.srv.sessions.get(h.SessionID)
			if sess != nil && !sess.boundTo(c) {
				sess = nil
			}
		}
		if h.Command == smb2.Cancel {
			continue
		}
		mids = append(mids, h.MessageID)
		switch h.Command {
		case smb2.SetInfo:
			breaking = true
		case smb2.Create:
			curKnown = false
			continue
		}
		mode, off := handleUse(h.Command)
		if off < 0 || len(m) < smb2.HeaderSize+off+16 {
			continue
		}
		b := m[smb2.HeaderSize+off:]
		id := smb2.FileID{Persistent: binary.LittleEndian.Uint64(b), Volatile: binary.LittleEndian.Uint64(b[8:])}
		if id.Persistent == ^uint64(0) && id.Volatile == ^uint64(0) {
			if !related || !curKnown {
				continue
			}
			id = cur
		} else {
			cur, curKnown = id, true
		}
		if sess == nil {
			continue
		}
		if o := sess.lookupOpen(id); o != nil {
			u := t.newUse(elem, o, mode == holdExclusive)
			q := &o.uses
			q.mu.Lock()
			q.addLocked(u)
			if u.excl {
				q.nExcl++
			}
			q.mu.Unlock()
		}
	}
	s := &c.seq
	s.mu.Lock()
	s.setLocked(t, true, breaking)
	t.mids = mids
	for _, mid := range mids {
		for i, o := range s.orphans {
			if o == mid {
				t.cancelled = append(t.cancelled, mid)
				s.orphans = append(s.orphans[:i], s.orphans[i+1:]...)
				break
			}
		}
	}
	s.dropOrphansLocked()
	broadcastLocked(&s.changed)
	s.mu.Unlock()
}

// dropOrphansLocked forgets the orphan CANCELs once no frame is left that
// they could name.
func (s *sequencer) dropOrphansLocked() {
	if s.nUnclassified == 0 {
		s.orphans = nil
	}
}

// acquire waits until the element elem of req's ticket may use o, shared
// or exclusive, and records that it does. It reports false when the
// connection ends meanwhile. A request outside the connection's order (an
// async continuation) does not wait.
func (req *Request) acquire(o *Open, excl bool) bool {
	t := req.holds
	if t == nil {
		return true
	}
	c := t.c
	if !c.seq.waitClassified(c.ctx, t) {
		return false
	}
	q := &o.uses
	q.mu.Lock()
	var u *openUse
	for _, x := range t.uses {
		if x.elem == req.elem && x.o == o && !x.released {
			u = x
			break
		}
	}
	if u == nil {
		// Not named at classification (the open did not exist yet, or the
		// header walk saw another FileId): it joins the line now, still
		// after the uses of earlier tickets and after whatever runs.
		u = t.newUse(req.elem, o, false)
		q.addLocked(u)
	}
	if excl && !u.excl {
		u.excl = true
		q.nExcl++
	}
	for q.blockedLocked(u) {
		ch := changedLocked(&q.changed)
		q.mu.Unlock()
		select {
		case <-ch:
		case <-c.ctx.Done():
			return false
		}
		q.mu.Lock()
	}
	u.running = true
	q.mu.Unlock()
	return true
}

// blockedLocked reports whether u must wait: a conflicting use of o is
// running, or comes from an earlier ticket of u's connection.
func (q *useQueue) blockedLocked(u *openUse) bool {
	if !u.excl && q.nExcl == 0 {
		return false
	}
	for _, x := range q.uses {
		if x.t == u.t || !(u.excl || x.excl) {
			continue
		}
		if x.running || x.t.c == u.t.c && x.t.seq < u.t.seq {
			return true
		}
	}
	return false
}

// waitClassified waits until every ticket read before t is classified.
func (s *sequencer) waitClassified(ctx context.Context, t *ticket) bool {
	for {
		s.mu.Lock()
		if s.nUnclassified == 0 {
			s.mu.Unlock()
			return true
		}
		blocked := false
		for _, x := range s.live {
			if x.seq >= t.seq {
				break
			}
			if !x.classified {
				blocked = true
				break
			}
		}
		ch := changedLocked(&s.changed)
		s.mu.Unlock()
		if !blocked {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// addLocked puts u at the end of q. The caller holds q.mu.
func (q *useQueue) addLocked(u *openUse) {
	if q.uses == nil {
		q.uses = q.uses0[:0]
	}
	q.uses = append(q.uses, u)
}

// release ends u.
func (u *openUse) release() {
	if u.released {
		return
	}
	u.released = true
	q := &u.o.uses
	q.mu.Lock()
	for i, x := range q.uses {
		if x == u {
			q.uses = slices.Delete(q.uses, i, i+1) // clears the freed slot
			if u.excl {
				q.nExcl--
			}
			break
		}
	}
	broadcastLocked(&q.changed)
	q.mu.Unlock()
}

// endElement ends the uses of element elem, answered or gone async. The end
// of a SET_INFO lets later answers go even if it sent no break.
func (t *ticket) endElement(elem int, cmd smb2.Command) {
	for _, u := range t.uses {
		if u.elem == elem {
			u.release()
		}
	}
	if cmd == smb2.SetInfo {
		t.breaksOut()
	}
}

// breaksOut records that the ticket's breaks are out.
func (t *ticket) breaksOut() {
	s := &t.c.seq
	s.mu.Lock()
	if t.breaking {
		s.setLocked(t, t.classified, false)
		broadcastLocked(&s.changed)
	}
	s.mu.Unlock()
}

// finish ends the ticket when its frame is done (answered, refused, or
// its goroutine panicked): what it still holds is released.
func (t *ticket) finish() {
	for _, u := range t.uses {
		u.release()
	}
	t.uses = nil
	s := &t.c.seq
	s.mu.Lock()
	for i, x := range s.live {
		if x == t {
			s.live = append(s.live[:i], s.live[i+1:]...)
			break
		}
	}
	s.setLocked(t, true, false)
	t.mids = nil
	s.dropOrphansLocked()
	broadcastLocked(&s.changed)
	s.mu.Unlock()
}

// orderWait bounds how long an answer waits for an earlier request's
// breaks: the order is a courtesy, never a deadlock.
const orderWait = 2 * time.Second

// waitAnswer returns once every ticket read before t is classified and has
// its breaks out, or after orderWait: a client may count on having seen a
// break once a request it sent later is answered (smb2.lease.rename_wait).
func (s *sequencer) waitAnswer(t *ticket) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if s.nUnclassified == 0 && s.nBreaking == 0 {
			s.mu.Unlock()
			return
		}
		blocked := false
		for _, x := range s.live {
			if x.seq >= t.seq {
				break
			}
			if !x.classified || x.breaking {
				blocked = true
				break
			}
		}
		ch := changedLocked(&s.changed)
		s.mu.Unlock()
		if !blocked {
			return
		}
		if timer == nil {
			timer = time.NewTimer(orderWait)
		}
		select {
		case <-ch:
		case <-timer.C:
			return
		}
	}
}

// cancelQueued marks the request mid cancelled when its frame is read but
// the request has not started, or remembers mid while a frame not yet
// classified may hold it. Called under c.inflightMu.
func (s *sequencer) cancelQueued(mid uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.live {
		for _, m := range t.mids {
			if m == mid {
				t.cancelled = append(t.cancelled, mid)
				return
			}
		}
	}
	if s.nUnclassified > 0 {
		if len(s.orphans) == maxOrphanCancels {
			s.orphans = s.orphans[1:]
		}
		s.orphans = append(s.orphans, mid)
	}
}

// takeCancel reports whether a CANCEL named mid before its request
// started. Called under c.inflightMu.
func (t *ticket) takeCancel(mid uint64) bool {
	s := &t.c.seq
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range t.cancelled {
		if m == mid {
			t.cancelled = append(t.cancelled[:i], t.cancelled[i+1:]...)
			return true
		}
	}
	return false
}

type breakOrderKey struct{}

// withBreakOrder gives a SET_INFO's context the function that lets later
// answers go (see breaksSent).
func withBreakOrder(ctx context.Context, req *Request) context.Context {
	if req.holds == nil || req.Header.Command != smb2.SetInfo {
		return ctx
	}
	return context.WithValue(ctx, breakOrderKey{}, req.holds.breaksOut)
}

// breaksSent tells the connection that the request of ctx has sent its
// break notifications: later answers need not wait for it any more.
func breaksSent(ctx context.Context) {
	if f, ok := ctx.Value(breakOrderKey{}).(func()); ok {
		f()
	}
}

// open finds the open a request names by file id; in a related compound the
// id 0xFFFFFFFFFFFFFFFF means the file the previous request opened
// (MS-SMB2 3.3.5.2.7.2). The request uses the open shared, in its
// connection's order, until it is answered or goes async.
func (req *Request) open(id smb2.FileID) (*Open, smb2.Status) {
	return req.openHeld(id, holdShared)
}

// openExclusive is open for CLOSE, SET_INFO, FLUSH and CHANGE_NOTIFY, which
// run after the requests sent before them on the handle, and alone.
func (req *Request) openExclusive(id smb2.FileID) (*Open, smb2.Status) {
	return req.openHeld(id, holdExclusive)
}

func (req *Request) openHeld(id smb2.FileID, mode holdMode) (*Open, smb2.Status) {
	if id.Persistent == ^uint64(0) && id.Volatile == ^uint64(0) {
		if req.Header.Flags&smb2.FlagsRelatedOps == 0 || !req.compound.hasFileID {
			return nil, smb2.StatusFileClosed
		}
		id = req.compound.fileID
	}
	o := req.Session.lookupOpen(id)
	if o == nil || o.tree != req.Tree {
		return nil, smb2.StatusFileClosed
	}
	if mode != holdNone {
		if !req.acquire(o, mode == holdExclusive) {
			return nil, smb2.StatusFileClosed
		}
		// A CLOSE may have ended the handle while the request waited.
		if req.Session.lookupOpen(id) != o || o.closed() {
			return nil, smb2.StatusFileClosed
		}
	}
	if st := req.checkChannelSequence(o); st != smb2.StatusSuccess {
		return nil, st
	}
	req.compound.fileID, req.compound.hasFileID = o.id, true
	return o, smb2.StatusSuccess
}

// Who serves a frame: the workers, and the reader itself.
//
// Requests run on pooled goroutines. A connection's reader reads a frame,
// gives it its ticket and hands what serves it to a worker, then reads
// the next frame (a lone quick request it serves itself: see serveInline
// below). A worker that has served a request waits, its stack grown to
// what serving one takes, for the next request of any connection: a
// fresh goroutine per request would grow its stack again, a few copies
// per request (runtime.newstack was 5 to 8% of the server's CPU in
// cmd/smbbench's stat workload).
// At most maxIdleWorkers wait, each for workerIdle at most.

// maxIdleWorkers bounds the workers waiting for a request.
const maxIdleWorkers = 64

// workerIdle is how long a worker waits for a request before it ends.
const workerIdle = 2 * time.Second

// requestWorkers is the pool of every Server in the process.
var requestWorkers workerPool

// workerPool is a set of goroutines waiting for work, newest last.
type workerPool struct {
	mu   sync.Mutex
	idle []*worker
}

type worker struct {
	work chan func() // one slot: a hand-off never waits
}

// run runs f on a waiting worker, or on a new one when none waits.
func (p *workerPool) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.work <- f
		return
	}
	p.mu.Unlock()
	go p.serve(f)
}

// serve runs f, then the work handed to it, until it has waited
// workerIdle for work or maxIdleWorkers others wait.
func (p *workerPool) serve(f func()) {
	w := &worker{work: make(chan func(), 1)}
	var t *time.Timer
	for {
		f()
		f = nil
		p.mu.Lock()
		if len(p.idle) >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		if t == nil {
			t = time.NewTimer(workerIdle)
		} else {
			t.Reset(workerIdle)
		}
		select {
		case f = <-w.work:
			t.Stop()
		case <-t.C:
			p.mu.Lock()
			if i := slices.Index(p.idle, w); i >= 0 {
				p.idle = slices.Delete(p.idle, i, i+1)
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			f = <-w.work // taken meanwhile: its work is on the way
		}
	}
}

// A lone quick request is served by the goroutine that read it: handing
// it to a worker costs a wake-up of that worker and a switch per round
// trip, most of what a request served from the page cache costs on one
// connection. The reader serves it only when nothing else of the
// connection is in progress and the client has not sent its next frame
// yet (else a worker serves it while the reader reads on). A request
// that waits (for a break acknowledgment, a lock, a slow backend) must
// not stop the connection's reading, which may bring what it waits for:
// a request that waits for a break acknowledgment hands the reading to a
// new goroutine before it waits (readingMayWait), and otherwise a timer
// does once the request has run inlineWait (inlineWatch). A token makes
// sure that exactly one goroutine reads: the serving goroutine and the
// one that hands the reading on both take it by a compare-and-swap, and
// only the winner reads on.

// inlineWait is how long a request served by the reader may run before
// the watch hands the reading over: it does so at its first tick after
// that, so within inlineWait + inlinePeriod.
const inlineWait = time.Millisecond

// inlinePeriod is the watch's tick while requests are served inline.
const inlinePeriod = 5 * time.Millisecond

// servedInline reports whether the reader may serve the (decrypted)
// message msg itself: a request, or a compound of at most
// maxInlineChain (a CREATE, QUERY_INFO and CLOSE is how most clients
// stat a file), of commands that are quick, small to answer and rarely
// wait. READ and WRITE go to workers so that large transfers overlap with
// reading.
func servedInline(msg []byte) bool {
	for n := 0; n < maxInlineChain; n++ {
		var h smb2.Header
		if h.Decode(msg) != nil {
			return false
		}
		switch h.Command {
		case smb2.Create, smb2.Close, smb2.QueryInfo, smb2.SetInfo,
			smb2.QueryDirectory, smb2.Echo, smb2.Flush:
		default:
			return false
		}
		next := h.NextCommand
		if next == 0 {
			return true
		}
		if next < smb2.HeaderSize || uint64(next) > uint64(len(msg)) {
			return false // serveCompound refuses it
		}
		msg = msg[next:]
	}
	return false
}

// maxInlineChain bounds the compounds the reader serves itself.
const maxInlineChain = 4

// mayServeInline reports whether the frame just admitted may be served by
// the reader: the connection is past its handshake, the frame is the only
// one in progress, and the client has not sent the next one.
func (c *conn) mayServeInline() bool {
	return c.authenticated.Load() && len(c.sem) == 1 && !c.tr.readAhead()
}

// inlineWatch hands the reading on from a reader whose request waits.
// Arming a timer per request, and stopping it after, cost 3% of the
// server's CPU on ECHO (each arm may wake the goroutine that polls the
// network, to shorten its sleep). So one timer per connection ticks every
// inlinePeriod while requests are served inline, and stops at a tick
// that finds none in progress and none started since the last tick; a
// request found serving at a tick that has run inlineWait loses the
// reading. Each tick and each arm wakes an idle thread: with one
// connection whose client waits for each answer, a timer that ticked
// every inlineWait and stopped whenever a tick found the reader between
// requests (most of them) cost a quarter of the server's CPU on
// cmd/smbbench's stat and delete under load, a tenth on a quiet machine.
type inlineWatch struct {
	tok     atomic.Uint64 // the request served inline; 0: none, or the reading was taken
	seq     atomic.Uint64 // the last token given (the reader's)
	tickSeq atomic.Uint64 // seq at the last tick
	since   atomic.Int64  // when the request of tok started (monoNow), stored before tok
	armed   atomic.Bool   // a tick is due
	timer   atomic.Pointer[time.Timer]
}

// monoBase is the origin of monoNow.
var monoBase = time.Now()

// monoNow is the monotonic time since monoBase.
func monoNow() time.Duration { return time.Since(monoBase) }

// serveInline runs a frame's run on the reading goroutine and reports
// whether that goroutine still holds the reading (else the watch has
// handed it on: inlineTick, or the request itself: readingMayWait).
func (c *conn) serveInline(run func()) bool {
	w := &c.inline
	tok := w.seq.Add(1)
	c.readerGrown = true // before the token: a reader the watch starts resets it
	w.since.Store(int64(monoNow()))
	w.tok.Store(tok)
	if w.armed.CompareAndSwap(false, true) {
		t := w.timer.Load()
		if t == nil {
			t = time.AfterFunc(time.Hour, c.inlineTick)
			w.timer.Store(t)
		}
		t.Reset(inlinePeriod)
	}
	run()
	return w.tok.CompareAndSwap(tok, 0)
}

// inlineTick is the watch's timer. The reader stores its token before it
// looks at armed, and the tick clears armed before it looks at the token,
// so a request served inline is always seen by a tick, or arms the timer
// itself. The start time the tick reads after the token is that
// request's or a later one's (it is stored before the token), so no
// request loses the reading before it has run inlineWait. A late tick
// takes nothing: the token it would take is no longer the one it saw.
func (c *conn) inlineTick() {
	w := &c.inline
	w.armed.Store(false)
	tok := w.tok.Load()
	if tok != 0 && monoNow()-time.Duration(w.since.Load()) >= inlineWait {
		// Still serving after inlineWait: it waits.
		if w.tok.CompareAndSwap(tok, 0) {
			go c.readFrames(false)
		}
		return
	}
	// Ticking on while requests come costs a wake-up per tick; stopping
	// between two and arming again for the next costs two.
	if seq := w.seq.Load(); tok != 0 || w.tickSeq.Swap(seq) != seq {
		if w.armed.CompareAndSwap(false, true) {
			w.timer.Load().Reset(inlinePeriod)
		}
	}
}

// handOffReading has a new goroutine read the connection's next frames
// when a request served inline holds the reading: that request is about
// to wait for something the connection may bring (a break
// acknowledgment). Taking the token as the watch does, it is harmless
// when called from a request that is not the one served inline.
func (c *conn) handOffReading() {
	w := &c.inline
	if tok := w.tok.Load(); tok != 0 && w.tok.CompareAndSwap(tok, 0) {
		go c.readFrames(false)
	}
}

// connKey is the context key of a request's connection (newConn).
type connKey struct{}

// readingMayWait tells the connection of ctx's request that the request
// is about to wait for a break acknowledgment, which the connection
// itself may have to read: the reading goes on on another goroutine now
// rather than when the watch finds the request waiting.
func readingMayWait(ctx context.Context) {
	if c, ok := ctx.Value(connKey{}).(*conn); ok {
		c.handOffReading()
	}
}

// A reader that has served a frame itself has a grown stack, which the
// runtime never shrinks back to its minimum: parked in the read of the
// next frame for long, it would make an idle connection cost that stack.
// So a grown reader waits for the next frame readerParkAfter at most,
// then hands the wait to a new goroutine, with a fresh stack, and ends
// (readNext). A connection idles on the minimum stack again; a busy one
// never waits that long.

// readerParkAfter is how long a grown reader waits for a frame before a
// fresh goroutine takes the wait over (a time.Duration; tests shorten it).
var readerParkAfter atomic.Int64

func init() { readerParkAfter.Store(int64(2 * time.Second)) }

// errReaderParked ends a grown reader's wait for a frame (idleReader).
var errReaderParked = errors.New("smb: reader parked")
