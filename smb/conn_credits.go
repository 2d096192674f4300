package smb

import "sync"

// Credits (MS-SMB2 3.3.1.1, 3.3.5.2.3): the server keeps the window of
// message ids the client may use. Every id is used once; a multi-credit
// request uses CreditCharge consecutive ids. The window only moves forward.

const (
	// maxCredits bounds the window of message ids a client may use: from
	// the lowest id not yet used, at most maxCredits ids are granted.
	// Windows Server 2016 and Samba grant 8192 (smbtorture smb2.credits).
	maxCredits = 8192
	// creditsPerResponse is the most credits one response grants: the
	// whole window may be granted at once.
	creditsPerResponse = maxCredits
	// maxInFlight bounds the requests of a connection served at once;
	// further frames wait to be read (async operations do not count once
	// they have answered STATUS_PENDING).
	maxInFlight = 512
)

type creditWindow struct {
	mu   sync.Mutex
	low  uint64              // lowest id not yet used
	high uint64              // one past the highest id granted
	used map[uint64]struct{} // ids above low already used; nil until one is
}

func (w *creditWindow) init() {
	w.low, w.high = 0, 1 // the first NEGOTIATE uses id 0
}

// consume checks that ids [id, id+charge) are granted and unused, and marks
// them used.
func (w *creditWindow) consume(id uint64, charge uint16) bool {
	n := uint64(max(charge, 1))
	w.mu.Lock()
	defer w.mu.Unlock()
	if id < w.low || id+n < id || id+n > w.high {
		return false
	}
	if id == w.low && len(w.used) == 0 {
		// In order, as clients use their ids: nothing to remember.
		w.low += n
		return true
	}
	if w.used == nil {
		w.used = make(map[uint64]struct{}) // kept: a client that skips ids once does so again
	}
	for i := id; i < id+n; i++ {
		if _, dup := w.used[i]; dup {
			return false
		}
	}
	for i := id; i < id+n; i++ {
		w.used[i] = struct{}{}
	}
	for {
		if _, ok := w.used[w.low]; !ok {
			break
		}
		delete(w.used, w.low)
		w.low++
	}
	return true
}

// grant adds up to want credits (at least one when the client has none
// left) within the window bound and returns how many were granted. The
// bound is on the span of the window, ids granted but unused and ids used
// above an unused one alike (MS-SMB2 3.3.1.1: Windows keeps the span at
// 8192), so a client skipping an id cannot grow the set of used ids kept
// without bound.
func (w *creditWindow) grant(want, charge uint16) uint16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	outstanding := w.high - w.low - uint64(len(w.used))
	g := uint64(want)
	if g == 0 && outstanding == 0 {
		g = 1
	}
	// MS-SMB2 3.3.1.2: grant at least what the request consumed, so a
	// client that asks for its charge back keeps its window.
	g = max(g, min(uint64(charge), 1))
	g = min(g, creditsPerResponse)
	if avail := maxCredits - min(w.high-w.low, maxCredits); g > avail {
		g = avail
	}
	w.high += g
	return uint16(g)
}

// maxInFlightBytes bounds the request bytes a connection holds in memory
// while they are served: with 8192 credits a client could otherwise have
// 64 writes of 8 MiB in flight. Past it the connection reads its next
// frame only when earlier ones are done (one frame always proceeds).
const maxInFlightBytes = 64 << 20

// byteBudget counts the bytes of the frames a connection is serving.
type byteBudget struct {
	mu    sync.Mutex
	cond  sync.Cond
	used  int
	limit int // 0: maxInFlightBytes (Limits.MaxInFlightBytes, conn_limits.go)
}

// acquire waits until n more bytes fit, or nothing is in flight.
func (b *byteBudget) acquire(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cond.L == nil {
		b.cond.L = &b.mu
	}
	limit := b.limit
	if limit <= 0 {
		limit = maxInFlightBytes
	}
	for b.used > 0 && b.used+n > limit {
		b.cond.Wait()
	}
	b.used += n
}

// release returns n bytes.
func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	if b.cond.L != nil {
		b.cond.Broadcast()
	}
	b.mu.Unlock()
}
