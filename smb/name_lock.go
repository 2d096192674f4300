package smb

import (
	"context"
	"slices"
	"strings"
)

// Name reservations keep the namespace decisions of one name atomic across
// the backend calls that carry them out, without a lock wider than the name.
//
// A CREATE decides under sh.mu (share modes, delete-pending, breaks) and
// then calls the backend (OpenFile, Mkdir, EAs, a security descriptor)
// with sh.mu released; a RENAME, a hard link, setting delete-pending and
// the delete at the last close do the same. Each first reserves the names
// it acts on, so no other operation on those names runs between its
// decision and its backend call, while operations on other names go on.
//
// sh.mu itself is only ever held for in-memory work: never across a
// backend call, never while waiting for a reservation.
//
// A reservation of a directory's subtree (a directory rename) also
// excludes every name below it; a reservation of a name below waits for
// it, and a subtree reservation waits for the reservations below.
//
// Reservations are taken all at once (reserveNames), so two operations
// needing two names each cannot deadlock; an operation holding a
// reservation never waits for another reservation, only for break
// acknowledgements, and it gives its reservation up meanwhile
// (runBreaksReserved).

// nameRes is one reserved name.
type nameRes struct {
	// done is closed when the name is released. The first operation to
	// wait for the name makes it (waitLocked): most reservations end
	// before anyone waits, and cost no channel.
	done    chan struct{}
	subtree bool // every name below is reserved too
}

// waitLocked returns the channel closed when x is released. The caller
// holds sh.mu.
func (x *nameRes) waitLocked() chan struct{} {
	if x.done == nil {
		x.done = make(chan struct{})
	}
	return x.done
}

// reservation is the set of names an operation holds.
type reservation struct {
	sh      *shareState
	keys    []string // foldKeys, sorted
	subtree string   // the key whose subtree is held, or ""
	held    bool

	// Storage for the keys and the entries of a reservation of up to two
	// names (all but a few), so that it is one allocation.
	keys0  [2]string
	names0 [2]nameRes
}

// reserveNames reserves the names (backend names, folded to keys) for the
// caller, waiting until no other operation holds any of them. subtree,
// when not "", is one of names whose whole subtree is reserved (a
// directory being renamed). It fails only when ctx is done.
func (sh *shareState) reserveNames(ctx context.Context, subtree string, names ...string) (*reservation, error) {
	r := &reservation{sh: sh}
	r.keys = r.keys0[:0]
	for _, n := range names {
		r.keys = append(r.keys, foldKey(n))
	}
	slices.Sort(r.keys)
	r.keys = slices.Compact(r.keys)
	if subtree != "" {
		r.subtree = foldKey(subtree)
	}
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// acquire takes r's names, waiting for their holders.
func (r *reservation) acquire(ctx context.Context) error {
	sh := r.sh
	for {
		sh.mu.Lock()
		wait := sh.reservedByOtherLocked(r)
		if wait == nil {
			if sh.reserved == nil {
				sh.reserved = make(map[string]*nameRes)
			}
			for i, k := range r.keys {
				x := new(nameRes)
				if i < len(r.names0) {
					x = &r.names0[i]
				}
				*x = nameRes{subtree: k == r.subtree}
				sh.reserved[k] = x
			}
			r.held = true
			sh.mu.Unlock()
			return nil
		}
		sh.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// reservedByOtherLocked returns the release channel of a reservation that
// keeps r from being taken, or nil. The caller holds sh.mu.
func (sh *shareState) reservedByOtherLocked(r *reservation) chan struct{} {
	if len(sh.reserved) == 0 {
		return nil
	}
	for _, k := range r.keys {
		if x := sh.reserved[k]; x != nil {
			return x.waitLocked()
		}
		// A subtree held above the name.
		for a := k; ; {
			i := strings.LastIndexByte(a, '/')
			if i < 0 {
				break
			}
			a = a[:i]
			if x := sh.reserved[a]; x != nil && x.subtree {
				return x.waitLocked()
			}
		}
	}
	if r.subtree != "" {
		prefix := r.subtree + "/"
		for k, x := range sh.reserved {
			if strings.HasPrefix(k, prefix) {
				return x.waitLocked()
			}
		}
	}
	return nil
}

// release gives r's names up. It may be called more than once.
func (r *reservation) release() {
	if r == nil || !r.held {
		return
	}
	sh := r.sh
	sh.mu.Lock()
	r.releaseLocked()
	sh.mu.Unlock()
}

// releaseLocked is release for a caller holding sh.mu.
func (r *reservation) releaseLocked() {
	if r == nil || !r.held {
		return
	}
	for _, k := range r.keys {
		if x := r.sh.reserved[k]; x != nil {
			delete(r.sh.reserved, k)
			if x.done != nil {
				close(x.done)
			}
		}
	}
	r.held = false
}
