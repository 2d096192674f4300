package smb

import (
	"slices"
	"sync"
	"time"
)

// Requests run on pooled goroutines. A connection's reader reads a frame,
// gives it its ticket and hands what serves it to a worker, then reads
// the next frame: the reader never serves a request, so its stack stays
// at the minimum however long the connection idles. A worker that has
// served a request waits, its stack grown to what serving one takes, for
// the next request of any connection: a fresh goroutine per request
// would grow its stack again, a few copies per request (runtime.newstack
// was 5 to 8% of the server's CPU in cmd/smbbench's stat workload).
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
