package smb

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

// Change notification: what changes in a share (names through cifsd,
// metadata and data through cifsd, and, on backends that can watch, what
// other programs change) is reported to the directory opens that asked with
// CHANGE_NOTIFY (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.10). From a handle's first
// CHANGE_NOTIFY on, its changes are buffered between requests; a request
// finding changes buffered is answered at once, and a pending request is
// completed by the first change that reaches it.

// Completion filter bits (MS-SMB2 2.2.35, MS-FSCC 2.7.1).
const (
	notifyChangeFileName    = 0x001
	notifyChangeDirName     = 0x002
	notifyChangeAttributes  = 0x004
	notifyChangeSize        = 0x008
	notifyChangeLastWrite   = 0x010
	notifyChangeLastAccess  = 0x020
	notifyChangeCreation    = 0x040
	notifyChangeEA          = 0x080
	notifyChangeSecurity    = 0x100
	notifyChangeStreamName  = 0x200
	notifyChangeStreamSize  = 0x400
	notifyChangeStreamWrite = 0x800
)

// FILE_NOTIFY_INFORMATION actions (MS-FSCC 2.7.1).
const (
	notifyActionAdded          = 1
	notifyActionRemoved        = 2
	notifyActionModified       = 3
	notifyActionRenamedOldName = 4
	notifyActionRenamedNewName = 5
	notifyActionAddedStream    = 6
	notifyActionRemovedStream  = 7
	notifyActionModifiedStream = 8
)

// smb2WatchTree is SMB2_WATCH_TREE in CHANGE_NOTIFY's Flags.
const smb2WatchTree = 0x0001

// maxBufferedChanges bounds what a handle buffers; past it (or past the
// handle's buffer size) the next request learns only that the directory
// must be re-read (STATUS_NOTIFY_ENUM_DIR).
const maxBufferedChanges = 1024

// notifyEvent is one change, name relative to the watched directory.
type notifyEvent struct {
	action uint32
	name   string // '/'-separated
}

// size is the event's FILE_NOTIFY_INFORMATION size, padded to 4 bytes.
func (e notifyEvent) size() int {
	n := 0
	for _, r := range e.name {
		n += 2
		if r > 0xFFFF {
			n += 2 // a surrogate pair
		}
	}
	return (12 + n + 3) &^ 3
}

// dirWatch is a directory open's notification state, under Open.mu. The
// handle's first CHANGE_NOTIFY sets filter, recursive and maxOut.
type dirWatch struct {
	filter    uint32
	recursive bool
	maxOut    uint32
	events    []notifyEvent
	bytes     int // sum of the events' sizes
	overflow  bool
}

// add buffers one change. A change repeating the one before it (the same
// action on the same name: a write after a set of the times) is reported
// once, as Windows and Samba do.
func (w *dirWatch) add(e notifyEvent) {
	if w.overflow {
		return
	}
	if n := len(w.events); n > 0 && w.events[n-1] == e {
		return
	}
	if len(w.events) >= maxBufferedChanges || w.bytes+e.size() > int(w.maxOut) {
		w.events, w.bytes, w.overflow = nil, 0, true
		return
	}
	w.events = append(w.events, e)
	w.bytes += e.size()
}

// watchers lists a share's directory opens that asked for notification.
type watchers struct {
	mu sync.Mutex
	m  map[*Open]struct{}
	n  atomic.Int32 // len(m), read without the lock on hot paths

	outside outsideWatch // the backend's own watch (notify_outside.go)
}

func (w *watchers) add(o *Open) {
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[*Open]struct{})
	}
	w.m[o] = struct{}{}
	w.n.Store(int32(len(w.m)))
	first := len(w.m) == 1
	w.mu.Unlock()
	if first && o.share != nil {
		go o.share.startOutside() // may scan the tree: not on the request's path
	}
}

func (w *watchers) list() []*Open {
	if w.n.Load() == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*Open, 0, len(w.m))
	for o := range w.m {
		out = append(out, o)
	}
	return out
}

func (w *watchers) remove(o *Open) {
	w.mu.Lock()
	_, had := w.m[o]
	delete(w.m, o)
	w.n.Store(int32(len(w.m)))
	last := had && len(w.m) == 0
	w.mu.Unlock()
	if last && o.share != nil {
		o.share.stopOutsideLater()
	}
}

// active reports whether anyone watches the share.
func (w *watchers) active() bool { return w.n.Load() > 0 }

// change is one name's change, as notifyChanges takes them.
type change struct {
	path   string // share-relative vfs name; "file:stream" for a stream
	action uint32
}

// notifyChanges reports changes of one kind (filter: the completion filter
// bits they match) to every watcher of the share. The caller holds no locks.
func (sh *shareState) notifyChanges(filter uint32, changes ...change) {
	sh.notifyMatching(func(f uint32) bool { return f&filter != 0 }, changes...)
}

// notifyMatching reports changes cifsd made to the watchers whose
// completion filter match accepts.
func (sh *shareState) notifyMatching(match func(filter uint32) bool, changes ...change) {
	sh.watch.outside.mute(changes)
	sh.deliverMatching(match, changes...)
}

// deliver reports changes of one kind, seen by the backend, to the watchers.
func (sh *shareState) deliver(filter uint32, changes ...change) {
	sh.deliverMatching(func(f uint32) bool { return f&filter != 0 }, changes...)
}

// notifyOverflow tells every watcher that changes were lost: their next
// (or pending) request gets STATUS_NOTIFY_ENUM_DIR.
func (sh *shareState) notifyOverflow() {
	var ops []*asyncOp
	for _, o := range sh.watch.list() {
		o.mu.Lock()
		if w := o.watch; w != nil && !o.isClosed {
			w.events, w.bytes, w.overflow = nil, 0, true
			if len(o.notifies) > 0 {
				ops = append(ops, o.notifies[0])
				o.notifies = o.notifies[1:]
				w.overflow = false
			}
		}
		o.mu.Unlock()
	}
	for _, op := range ops {
		op.complete(statusResponse(smb2.StatusNotifyEnumDir))
	}
}

// deliverMatching reports changes to the watchers whose completion filter
// match accepts.
func (sh *shareState) deliverMatching(match func(filter uint32) bool, changes ...change) {
	type completion struct {
		op   *asyncOp
		resp *Response
	}
	var done []completion
	for _, o := range sh.watch.list() {
		o.mu.Lock()
		if o.isClosed {
			o.mu.Unlock()
			sh.watch.remove(o)
			continue
		}
		w := o.watch
		if w == nil || !match(w.filter) {
			o.mu.Unlock()
			continue
		}
		added := false
		for _, c := range changes {
			if rel, ok := relativeTo(o.name, c.path, w.recursive); ok {
				w.add(notifyEvent{c.action, rel})
				added = true
			}
		}
		if added && len(o.notifies) > 0 {
			op := o.notifies[0]
			o.notifies = o.notifies[1:]
			done = append(done, completion{op, w.take(op.maxOut)})
		}
		o.mu.Unlock()
	}
	for _, d := range done {
		d.op.complete(d.resp)
	}
}

// notifyDeletePending ends the pending CHANGE_NOTIFY requests on the
// directory name with STATUS_DELETE_PENDING: it is being deleted
// (MS-FSA 2.1.5.4; smb2.notify.rmdir1-4).
func (sh *shareState) notifyDeletePending(name string) {
	var ops []*asyncOp
	for _, o := range sh.watch.list() {
		o.mu.Lock()
		if !o.isClosed && strings.EqualFold(o.name, name) {
			ops = append(ops, o.notifies...)
			o.notifies = nil
		}
		o.mu.Unlock()
	}
	for _, op := range ops {
		op.complete(statusResponse(smb2.StatusDeletePending))
	}
}

// relativeTo returns p relative to the directory dir when p is in it
// (directly, or below it when recursive).
func relativeTo(dir, p string, recursive bool) (string, bool) {
	parent, base := splitParent(p)
	if strings.EqualFold(parent, dir) {
		return base, true
	}
	if !recursive {
		return "", false
	}
	if dir == "." {
		return p, true
	}
	if len(p) > len(dir)+1 && strings.EqualFold(p[:len(dir)], dir) && p[len(dir)] == '/' {
		return p[len(dir)+1:], true
	}
	return "", false
}

// take empties the buffer into a CHANGE_NOTIFY response: the changes as
// FILE_NOTIFY_INFORMATION entries (MS-FSCC 2.7.1), or
// STATUS_NOTIFY_ENUM_DIR when they do not fit the buffer (the smaller of
// the handle's and the request's) or some were lost (MS-SMB2 3.3.5.19).
// The caller holds the open's lock.
func (w *dirWatch) take(reqMax uint32) *Response {
	events, overflow := w.events, w.overflow
	w.events, w.bytes, w.overflow = nil, 0, false
	if overflow {
		return statusResponse(smb2.StatusNotifyEnumDir)
	}
	limit := min(w.maxOut, reqMax)
	var buf []byte
	last := -1
	for _, e := range events {
		for len(buf)%4 != 0 {
			buf = append(buf, 0)
		}
		if last >= 0 {
			binary.LittleEndian.PutUint32(buf[last:], uint32(len(buf)-last))
		}
		last = len(buf)
		name := utf16le.Encode(strings.ReplaceAll(e.name, "/", `\`))
		var h [12]byte
		binary.LittleEndian.PutUint32(h[4:], e.action)
		binary.LittleEndian.PutUint32(h[8:], uint32(len(name)))
		buf = append(buf, h[:]...)
		buf = append(buf, name...)
		if uint32(len(buf)) > limit {
			return statusResponse(smb2.StatusNotifyEnumDir)
		}
	}
	return &Response{Body: encodeBody(&smb2.BufferResponse{Buffer: buf})}
}

// nameFilter is the completion filter bit of a name change of a file or
// directory.
func nameFilter(isDir bool) uint32 {
	if isDir {
		return notifyChangeDirName
	}
	return notifyChangeFileName
}
