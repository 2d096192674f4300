package smb

import (
	"context"
	"sync"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// Delayed last-write-time updates, as Windows (through Server 2016) and
// Samba make them (MS-FSA 2.1.4.17, 2.1.5.3: the object store may defer
// the update of LastModificationTime). A write does not move the file's
// last-write time at once: the first write through an open updates it
// writeTimeDelay later, and later writes through that open leave it alone
// until the handle is closed, which then sets it. FLUSH and a
// FileBasicInformation set carry out a pending update at once; a change of
// end of file updates it at once. A handle whose client set or froze the
// last-write time (userSetTimes) never updates it.
//
// The backend's own clock moves the time on every write, so after each
// write the time the file is to keep is put back.

// writeTimeDelay is how long after an open's first write its file's
// last-write time is updated.
var writeTimeDelay = 2 * time.Second

// writeTime is an open's state of the delayed update.
type writeTime struct {
	mu        sync.Mutex // held across the backend calls that set the time
	triggered bool       // a write was made through the open
	held      time.Time  // the last-write time the file keeps meanwhile
	timer     *time.Timer
	onClose   bool // written since the last update: the close sets the time
}

// writeTimeOf returns the open's delayed-update state, creating it.
func (o *Open) writeTimeOf() *writeTime {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.wtime == nil {
		o.wtime = &writeTime{}
	}
	return o.wtime
}

// tracksWriteTime reports whether writes through o follow the delayed
// update: data of a file, not a named stream (whose writes the backend
// does not date) or a directory.
func (o *Open) tracksWriteTime() bool {
	return o.hasData() && o.stream == "" && !o.isDir
}

// noteWrite follows a write through o that succeeded. before is the
// file's last-write time before the write, when the caller knew it.
func (o *Open) noteWrite(ctx context.Context, before time.Time) {
	if !o.tracksWriteTime() {
		return
	}
	w := o.writeTimeOf()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.triggered {
		w.triggered, w.held = true, before
		if !o.userSetWrite() {
			w.timer = time.AfterFunc(writeTimeDelay, func() { o.updateWriteTime(context.Background(), false) })
		}
	} else if !o.userSetWrite() {
		w.onClose = true
	}
	if !w.held.IsZero() {
		o.setWriteTimeLocked(ctx, w.held)
	}
}

// writeTimeBefore returns the file's last-write time before a write, for
// noteWrite: only the first write of an open needs it.
func (o *Open) writeTimeBefore(ctx context.Context) time.Time {
	if !o.tracksWriteTime() {
		return time.Time{}
	}
	o.mu.Lock()
	w := o.wtime
	o.mu.Unlock()
	if w != nil {
		w.mu.Lock()
		triggered := w.triggered
		w.mu.Unlock()
		if triggered {
			return time.Time{}
		}
	}
	fi, err := o.stat(ctx)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// updateWriteTime sets the file's last-write time to now when an update
// is due: pendingOnly, when the delayed update has not run yet (FLUSH,
// FileBasicInformation); otherwise always (end of file changed, timer).
func (o *Open) updateWriteTime(ctx context.Context, pendingOnly bool) {
	if !o.tracksWriteTime() || o.closed() {
		return
	}
	o.mu.Lock()
	w := o.wtime
	o.mu.Unlock()
	if w == nil {
		if pendingOnly {
			return
		}
		w = o.writeTimeOf()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	pending := w.timer != nil && w.timer.Stop()
	if pendingOnly && !pending {
		return
	}
	w.timer = nil
	if o.userSetWrite() {
		if !pendingOnly && !w.held.IsZero() {
			o.setWriteTimeLocked(ctx, w.held) // the time the client set stays
		}
		return
	}
	w.triggered, w.onClose = true, false
	w.held = time.Now()
	o.setWriteTimeLocked(ctx, w.held)
}

// closeWriteTime sets the last-write time as the open closes: to now when
// it wrote since the last update.
func (o *Open) closeWriteTime(ctx context.Context) {
	o.mu.Lock()
	w := o.wtime
	o.mu.Unlock()
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	pending := w.timer != nil && w.timer.Stop()
	w.timer = nil
	due := (pending || w.onClose) && !o.userSetWrite()
	w.onClose = false
	w.triggered = false
	if due {
		o.setWriteTimeLocked(ctx, time.Now())
	}
}

// userSetWrite reports whether the client set or froze the last-write
// time through o (MS-FSA Open.UserSetModificationTime).
func (o *Open) userSetWrite() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.userSet.write
}

// setHeldWriteTime records the last-write time a client set through o:
// the time later writes through o keep.
func (o *Open) setHeldWriteTime(t time.Time) {
	o.mu.Lock()
	w := o.wtime
	o.mu.Unlock()
	if w == nil {
		return
	}
	w.mu.Lock()
	w.held = t
	w.mu.Unlock()
}

// setWriteTimeLocked sets the file's last-write time in the backend. The
// caller holds the open's writeTime.mu.
func (o *Open) setWriteTimeLocked(ctx context.Context, t time.Time) {
	o.mu.Lock()
	name, f := o.name, o.file
	o.mu.Unlock()
	var err error
	if ms, ok := f.(vfs.ModTimeSetter); ok {
		err = ms.SetModTime(t)
	} else {
		err = o.share.cfg.FS.Chtimes(ctx, name, time.Time{}, t)
	}
	if err != nil {
		o.session.srv.logger().Debug("last-write time", "name", name, "err", err)
	}
}
