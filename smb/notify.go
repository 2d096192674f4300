package smb

import (
	"context"

	"github.com/cifsd/cifsd/smb2"
)

// changeNotify waits for changes in a directory (MS-SMB2 3.3.5.19). It goes
// async at once and completes when the request is cancelled
// (STATUS_CANCELLED) or the handle is closed (STATUS_NOTIFY_CLEANUP).
// Changes cifsd makes are reported by notify_changes.go.
func (s *Server) changeNotify(ctx context.Context, req *Request) *Response {
	var r smb2.ChangeNotifyRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.open(r.FileId)
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
		o.watch = &dirWatch{}
		o.share.watch.add(o)
	}
	w := o.watch
	w.filter, w.recursive, w.maxOut = r.CompletionFilter, r.Flags&smb2WatchTree != 0, r.OutputBufferLength
	if len(w.events) > 0 || w.overflow {
		// Changes buffered since the last request answer this one at once.
		resp := w.take()
		o.mu.Unlock()
		return resp
	}
	o.mu.Unlock()
	op := req.goAsync()
	op.cancelled = func() *Response { return statusResponse(smb2.StatusCancelled) }
	o.mu.Lock()
	if o.isClosed {
		o.mu.Unlock()
		op.cancel()
		return statusResponse(smb2.StatusNotifyCleanup)
	}
	o.notifies = append(o.notifies, op)
	o.mu.Unlock()
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
		}
		op.complete(statusResponse(st))
	})
	return op.interim()
}
