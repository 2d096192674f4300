package smb

import (
	"encoding/binary"
	"strings"
	"sync"

	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

// Change notification: what cifsd itself changes in a share (creates,
// deletes, renames) is reported to the directory opens that asked with
// CHANGE_NOTIFY (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.10). From a handle's first
// CHANGE_NOTIFY on, its changes are buffered between requests; a request
// finding changes buffered is answered at once.

// Completion filter bits (MS-SMB2 2.2.35).
const (
	notifyChangeFileName = 0x001
	notifyChangeDirName  = 0x002
)

// FILE_NOTIFY_INFORMATION actions (MS-FSCC 2.7.1).
const (
	notifyActionAdded          = 1
	notifyActionRemoved        = 2
	notifyActionRenamedOldName = 4
	notifyActionRenamedNewName = 5
)

// smb2WatchTree is SMB2_WATCH_TREE in CHANGE_NOTIFY's Flags.
const smb2WatchTree = 0x0001

// maxBufferedChanges bounds what a handle buffers; past it the next
// request learns only that the directory must be re-read
// (STATUS_NOTIFY_ENUM_DIR).
const maxBufferedChanges = 1024

// notifyEvent is one change, name relative to the watched directory.
type notifyEvent struct {
	action uint32
	name   string // '/'-separated
}

// dirWatch is a directory open's notification state, under Open.mu.
type dirWatch struct {
	filter    uint32
	recursive bool
	maxOut    uint32
	events    []notifyEvent
	overflow  bool
}

// watchers lists a share's directory opens that asked for notification.
type watchers struct {
	mu sync.Mutex
	m  map[*Open]struct{}
}

func (w *watchers) add(o *Open) {
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[*Open]struct{})
	}
	w.m[o] = struct{}{}
	w.mu.Unlock()
}

func (w *watchers) list() []*Open {
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
	delete(w.m, o)
	w.mu.Unlock()
}

// change is one name's change, as notifyChanges takes them.
type change struct {
	path   string // share-relative vfs name
	action uint32
}

// notifyChanges reports changes of one kind (filter: the completion filter
// bit they match) to every watcher of the share. The caller holds no locks.
func (sh *shareState) notifyChanges(filter uint32, changes ...change) {
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
		if w == nil || w.filter&filter == 0 {
			o.mu.Unlock()
			continue
		}
		added := false
		for _, c := range changes {
			if rel, ok := relativeTo(o.name, c.path, w.recursive); ok {
				if len(w.events) >= maxBufferedChanges {
					w.overflow = true
				} else {
					w.events = append(w.events, notifyEvent{c.action, rel})
				}
				added = true
			}
		}
		if added && len(o.notifies) > 0 {
			op := o.notifies[0]
			o.notifies = o.notifies[1:]
			done = append(done, completion{op, w.take()})
		}
		o.mu.Unlock()
	}
	for _, d := range done {
		d.op.complete(d.resp)
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
// STATUS_NOTIFY_ENUM_DIR when they do not fit the client's buffer or some
// were lost (MS-SMB2 3.3.5.19). The caller holds the open's lock.
func (w *dirWatch) take() *Response {
	events, overflow := w.events, w.overflow
	w.events, w.overflow = nil, false
	if overflow {
		return statusResponse(smb2.StatusNotifyEnumDir)
	}
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
		if uint32(len(buf)) > w.maxOut {
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
