package smb

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

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
