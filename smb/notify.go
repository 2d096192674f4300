package smb

import (
	"context"

	"github.com/cifsd/cifsd/smb2"
)

// notifyUnlockedHook, set by tests, runs while changeNotify has found no
// change buffered and does not hold the open's lock, before it goes async.
var notifyUnlockedHook func(*Open)

// changeNotify waits for changes in a directory (MS-SMB2 3.3.5.19). Changes
// buffered since the handle's previous request answer it at once; otherwise
// it goes async and completes with the next change (notify_changes.go), when
// the request is cancelled (STATUS_CANCELLED), the handle is closed
// (STATUS_NOTIFY_CLEANUP) or the directory is deleted (STATUS_DELETE_PENDING).
func (s *Server) changeNotify(ctx context.Context, req *Request) *Response {
	var r smb2.ChangeNotifyRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	// MS-SMB2 3.3.5.19: OutputBufferLength above MaxTransactSize, or not
	// covered by the credit charge (3.3.5.2.5), is refused.
	if r.OutputBufferLength > req.conn.maxIO() || !req.checkCredits(r.OutputBufferLength) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	// Exclusive, in the connection's order (conn_order.go): a second
	// CHANGE_NOTIFY or a CLOSE sent after it finds it pending.
	o, st := req.openExclusive(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if !o.isDir {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if o.access&smb2.FileListDirectory == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	o.mu.Lock()
	if o.isClosed {
		o.mu.Unlock()
		return statusResponse(smb2.StatusNotifyCleanup)
	}
	if o.watch == nil {
		// The first request fixes the filter, the subtree flag and the
		// buffer size for the life of the handle, as Windows does (later
		// requests cannot widen them: smb2.notify.mask-change).
		o.watch = &dirWatch{
			filter:    r.CompletionFilter,
			recursive: r.Flags&smb2WatchTree != 0,
			maxOut:    r.OutputBufferLength,
		}
		o.share.watch.add(o)
	}
	w := o.watch
	if len(w.events) > 0 || w.overflow {
		// Changes buffered since the last request answer this one at once.
		resp := w.take(r.OutputBufferLength)
		o.mu.Unlock()
		return resp
	}
	o.mu.Unlock()
	if notifyUnlockedHook != nil {
		notifyUnlockedHook(o)
	}
	if resp := req.asyncLimitResponse(); resp != nil { // conn_limits.go
		return resp
	}
	op := req.goAsyncCancelled(func() *Response { return statusResponse(smb2.StatusCancelled) })
	op.maxOut = r.OutputBufferLength
	o.mu.Lock()
	if o.isClosed {
		o.mu.Unlock()
		op.abandon()
		return statusResponse(smb2.StatusNotifyCleanup)
	}
	if len(w.events) > 0 || w.overflow {
		// A change came while o.mu was released (from another request
		// or connection): it was buffered, as no request was pending
		// yet, and it answers this one. Going async now would leave it
		// in the buffer and the request pending until the next change.
		resp := w.take(r.OutputBufferLength)
		o.mu.Unlock()
		op.abandon()
		return resp
	}
	if ctx.Err() != nil {
		// A CANCEL came while the request was being served: it ends
		// before it was ever announced.
		o.mu.Unlock()
		op.abandon()
		return statusResponse(smb2.StatusCancelled)
	}
	o.notifies = append(o.notifies, op)
	o.mu.Unlock()
	// A directory made delete-pending before the request joined
	// o.notifies (its delete-on-close handle closed meanwhile, perhaps a
	// request sent after this one on the same connection: smbtorture's
	// smb2.notify.rmdir2) ends it with STATUS_DELETE_PENDING, as one that
	// becomes delete-pending while it waits (noteDirClosed). The closer
	// marks the node under sh.mu before it looks at o.notifies, so one of
	// the two sees the other.
	if o.deletePending() {
		o.share.notifyDeletePending(o.name)
	}
	req.conn.goSafe(func() {
		<-op.ctx.Done()
		o.mu.Lock()
		closed := o.isClosed
		for i, x := range o.notifies {
			if x == op {
				o.notifies = append(o.notifies[:i], o.notifies[i+1:]...)
				break
			}
		}
		o.mu.Unlock()
		st := smb2.StatusCancelled
		if closed {
			st = smb2.StatusNotifyCleanup
			o.share.watch.remove(o)
		}
		op.complete(statusResponse(st))
	})
	return req.interim(op)
}
