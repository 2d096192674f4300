package smb

import (
	"context"
	"sync"

	"github.com/cifsd/cifsd/smb2"
)

// asyncOp is a request that answered STATUS_PENDING and completes later
// (MS-SMB2 3.3.4.2): CHANGE_NOTIFY, a blocking LOCK. Its final response goes
// through the connection's writer like any other.
type asyncOp struct {
	id       uint64
	conn     *conn
	req      *Request // Header, Session and Tree stay valid; Msg does not
	ctx      context.Context
	cancelFn context.CancelFunc
	once     sync.Once
	// cancelled, when set, is the final response a CANCEL sends at once,
	// before the connection reads its next request, so a client sees the
	// cancelled operation end before anything it sends afterwards.
	cancelled func() *Response
	// maxOut is a CHANGE_NOTIFY's OutputBufferLength.
	maxOut uint32

	// The final response waits for the interim one: a completion that
	// races ahead of the STATUS_PENDING answer is held until announce.
	sendMu    sync.Mutex
	announced bool
	held      *Response
}

// goAsync turns req into an async operation. The handler returns
// req.interim(op) and later calls op.complete exactly once, from any goroutine;
// op.ctx is cancelled by CANCEL, by close of the handle's owner, or when the
// connection ends, and the handler then completes with STATUS_CANCELLED.
func (r *Request) goAsync() *asyncOp { return r.goAsyncCancelled(nil) }

// goAsyncCancelled is goAsync for an operation that a CANCEL ends at once
// with cancelled() (asyncOp.cancelled). It is set before the operation can
// be found by a CANCEL, which reads it on the reading goroutine.
func (r *Request) goAsyncCancelled(cancelled func() *Response) *asyncOp {
	c := r.conn
	ctx, cancel := context.WithCancel(c.ctx)
	saved := *r
	saved.Msg = nil
	saved.holds = nil     // out of the connection's order: its uses end when the handler returns (conn_order.go)
	saved.reply = reply{} // the final response is sent as any other (conn.go: sendAsync)
	op := &asyncOp{id: c.srv.nextID.Add(1), conn: c, req: &saved, ctx: ctx, cancelFn: cancel, cancelled: cancelled}
	c.inflightMu.Lock()
	c.asyncOps[op.id] = op
	c.inflightMu.Unlock()
	return op
}

// interim is the STATUS_PENDING response to r that announces op.
func (r *Request) interim(op *asyncOp) *Response {
	r.reply.async = op
	return &Response{Status: smb2.StatusPending}
}

// pending returns the async operation resp, the response to r, announces,
// or nil. A Layer may pass the interim on as a copy; one that answers
// otherwise (not STATUS_PENDING) ends the operation without a final
// response.
func (r *Request) pending(resp *Response) *asyncOp {
	op := r.reply.async
	if op != nil && resp.Status != smb2.StatusPending {
		op.abandon()
		r.reply.async = nil
		return nil
	}
	return op
}

// complete sends the final response; later calls do nothing.
func (op *asyncOp) complete(resp *Response) { op.finish(resp) }

func (op *asyncOp) cancel() { op.cancelFn() }

// abandon ends the operation without any final response: the request was
// answered otherwise (a compound that cannot wait for it).
func (op *asyncOp) abandon() { op.finish(nil) }

// finish ends the operation once, sending resp when it is not nil.
func (op *asyncOp) finish(resp *Response) {
	op.once.Do(func() {
		c := op.conn
		c.inflightMu.Lock()
		delete(c.asyncOps, op.id)
		c.inflightMu.Unlock()
		op.cancelFn()
		if resp == nil {
			return
		}
		op.req.runFinals(resp) // OnFinal (request.go)
		op.sendMu.Lock()
		defer op.sendMu.Unlock()
		if !op.announced {
			op.held = resp
			return
		}
		c.sendAsync(op, resp)
	})
}

// announce queues the frame that carries the interim responses of ops
// (write) and sends the final responses that were held back until then. The
// operations' send locks are held while the frame is queued, so a final
// response that comes meanwhile (a CANCEL read at once by the reading
// goroutine) is queued right after it, not later by this goroutine: the
// cancelled operation still ends before the answers to what the client sent
// after the CANCEL.
func announce(ops []*asyncOp, write func()) {
	for _, op := range ops {
		op.sendMu.Lock()
	}
	write()
	for _, op := range ops {
		op.announced = true
		resp := op.held
		op.held = nil
		op.sendMu.Unlock()
		if resp != nil {
			op.conn.sendAsync(op, resp)
		}
	}
}
