package smb

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// Changes made to a share behind cifsd's back (another program writing in
// the directory a vfs.Dir serves) are reported to CHANGE_NOTIFY as well,
// when the backend is a vfs.Watcher, and names added, removed or renamed
// there break the leases of their directories (lease_dir.go). The backend's
// watch runs while the share has watchers or directory leases (and
// outsideIdle after the last one left). The backend
// also sees what cifsd itself does; cifsd reports that itself, at once and
// with Windows' details, so a name cifsd reported mutes the backend's
// reports of it for muteWindow, and the backend's reports wait outsideDelay
// for cifsd's to come first.

const (
	outsideDelay = 200 * time.Millisecond
	muteWindow   = 2 * time.Second
	outsideIdle  = 10 * time.Second
	maxMuted     = 16384 // names remembered as cifsd's own changes
	maxPending   = 16384 // changes waiting; past it changes are lost (ENUM_DIR)
)

// outsideWatch is a share's use of its backend's vfs.Watcher.
type outsideWatch struct {
	mu     sync.Mutex
	closer io.Closer     // the running watch, nil when stopped
	stop   chan struct{} // closed to end deliverOutside
	idle   *time.Timer   // stops the watch; set while the share has no watchers
	muted  map[string]time.Time

	pendMu sync.Mutex
	pend   []outsideChange // seen by the backend, not delivered yet
	wake   chan struct{}   // pend is not empty
	lost   atomic.Bool     // changes did not fit pend
}

type outsideChange struct {
	at time.Time
	vfs.Change
}

// startOutside starts the backend's watch, if it has one and it is not
// running, and cancels a pending stop. The share has a watcher now.
func (sh *shareState) startOutside() {
	wt, ok := vfs.As[vfs.Watcher](sh.cfg.FS)
	if !ok {
		return
	}
	ow := &sh.watch.outside
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if ow.idle != nil {
		ow.idle.Stop()
		ow.idle = nil
	}
	if ow.closer != nil {
		return
	}
	wake, stop := make(chan struct{}, 1), make(chan struct{})
	closer, err := wt.Watch(func(cs []vfs.Change) {
		now := time.Now()
		ow.pendMu.Lock()
		if len(ow.pend)+len(cs) > maxPending {
			ow.lost.Store(true)
		} else {
			for _, c := range cs {
				ow.pend = append(ow.pend, outsideChange{now, c})
			}
		}
		ow.pendMu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		slog.Debug("change notify: backend watch unavailable", "share", sh.cfg.Name, "err", err)
		return
	}
	ow.closer, ow.stop, ow.wake = closer, stop, wake
	ow.muted = make(map[string]time.Time)
	go sh.deliverOutside(wake, stop)
	if !sh.outsideWanted() {
		sh.stopLaterLocked() // the watchers left while the watch started
	}
}

// outsideWanted reports whether the backend's watch is to run: the share
// has watchers, or directory leases that changes behind cifsd's back
// break (lease_dir.go).
func (sh *shareState) outsideWanted() bool {
	return sh.watch.active() || sh.dirLeases.Load() > 0
}

// stopOutsideLater stops the backend's watch after outsideIdle, unless a
// watcher comes back first. The share has no watchers now.
func (sh *shareState) stopOutsideLater() {
	ow := &sh.watch.outside
	ow.mu.Lock()
	defer ow.mu.Unlock()
	sh.stopLaterLocked()
}

// stopLaterLocked arms the idle stop. Under outsideWatch.mu.
func (sh *shareState) stopLaterLocked() {
	ow := &sh.watch.outside
	if ow.closer == nil || ow.idle != nil {
		return
	}
	ow.idle = time.AfterFunc(outsideIdle, func() {
		ow.mu.Lock()
		defer ow.mu.Unlock()
		if ow.idle == nil {
			return
		}
		ow.idle = nil
		if sh.outsideWanted() {
			return // wanted again: the next stopOutsideLater re-arms
		}
		if err := ow.closer.Close(); err != nil {
			slog.Debug("change notify: closing backend watch", "share", sh.cfg.Name, "err", err)
		}
		close(ow.stop) // Close waited for the last report
		ow.closer, ow.stop, ow.muted = nil, nil, nil
	})
}

// deliverOutside reports the backend's changes, each outsideDelay after it
// was seen, until stop is closed.
func (sh *shareState) deliverOutside(wake, stop <-chan struct{}) {
	ow := &sh.watch.outside
	for {
		select {
		case <-wake:
		case <-stop:
			ow.pendMu.Lock()
			ow.pend = nil
			ow.pendMu.Unlock()
			return
		}
		ow.pendMu.Lock()
		cs := ow.pend
		ow.pend = nil
		ow.pendMu.Unlock()
		if ow.lost.Swap(false) {
			sh.notifyOverflow()
		}
		for i := 0; i < len(cs); i++ {
			c := cs[i]
			if d := time.Until(c.at.Add(outsideDelay)); d > 0 {
				time.Sleep(d)
			}
			if c.Op == vfs.ChangeOverflow {
				sh.notifyOverflow()
				continue
			}
			if ow.isMuted(c.Name) {
				continue
			}
			filter := nameFilter(c.IsDir)
			switch c.Op {
			case vfs.ChangeAdded:
				sh.breakParentLeases(leaseOwner{}, c.Name) // lease_dir.go
				sh.deliver(filter, change{c.Name, notifyActionAdded})
			case vfs.ChangeRemoved:
				sh.breakParentLeases(leaseOwner{}, c.Name)
				sh.deliver(filter, change{c.Name, notifyActionRemoved})
			case vfs.ChangeRenamedFrom:
				sh.breakParentLeases(leaseOwner{}, c.Name)
				if i+1 < len(cs) && cs[i+1].Op == vfs.ChangeRenamedTo && !ow.isMuted(cs[i+1].Name) {
					i++
					sh.breakParentLeases(leaseOwner{}, cs[i].Name)
					sh.deliver(filter, change{c.Name, notifyActionRenamedOldName},
						change{cs[i].Name, notifyActionRenamedNewName})
				} else {
					sh.deliver(filter, change{c.Name, notifyActionRemoved})
				}
			case vfs.ChangeRenamedTo:
				sh.breakParentLeases(leaseOwner{}, c.Name)
				sh.deliver(filter, change{c.Name, notifyActionAdded})
			case vfs.ChangeModified:
				filter = notifyChangeLastWrite | notifyChangeSize
				if c.Meta {
					filter = notifyChangeAttributes | notifyChangeLastWrite | notifyChangeLastAccess |
						notifyChangeCreation | notifyChangeEA | notifyChangeSecurity
				}
				sh.deliver(filter, change{c.Name, notifyActionModified})
			}
		}
	}
}

// muteKey is the name a change mutes: a stream's file, case-folded.
func muteKey(p string) string {
	if i := strings.LastIndexByte(p, ':'); i > strings.LastIndexByte(p, '/') {
		p = p[:i]
	}
	return strings.ToLower(p)
}

// mute records that cifsd reported changes of these names itself.
func (ow *outsideWatch) mute(changes []change) {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if ow.muted == nil {
		return
	}
	now := time.Now()
	if len(ow.muted)+len(changes) > maxMuted {
		for k, t := range ow.muted {
			if now.Sub(t) >= muteWindow {
				delete(ow.muted, k)
			}
		}
		if len(ow.muted)+len(changes) > maxMuted {
			clear(ow.muted) // best effort: some of cifsd's changes may be reported twice
		}
	}
	for _, c := range changes {
		ow.muted[muteKey(c.path)] = now
	}
}

// isMuted reports whether cifsd reported a change of name within muteWindow.
func (ow *outsideWatch) isMuted(name string) bool {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	t, ok := ow.muted[muteKey(name)]
	return ok && time.Since(t) < muteWindow
}
