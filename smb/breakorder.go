package smb

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// breakOrder keeps the break notifications a request sends ahead of the
// answers to the requests the client sent after it, as a server that serves
// a connection's requests in order does (Samba, Windows): a client may
// count on having seen the break once a later request is answered
// (smbtorture smb2.lease.rename_wait). cifsd serves requests concurrently,
// so the one synchronous command that breaks other opens' caching and then
// waits for their acknowledgement, SET_INFO (rename, delete, end of file),
// is tracked from the moment it is read until its breaks are out; answers
// to later requests wait for that, at most orderWait.
type breakOrder struct {
	mu      sync.Mutex
	pending map[uint64]chan struct{} // SET_INFO requests by MessageId
}

// orderWait bounds how long an answer waits for an earlier request's
// breaks: the order is a courtesy, never a deadlock.
const orderWait = 2 * time.Second

type breakOrderKey struct{}

// note records a frame as it is read, before it is served: a lone plain
// SET_INFO is tracked. Encrypted and compounded frames are not looked into.
func (b *breakOrder) note(frame []byte) {
	if len(frame) < smb2.HeaderSize || [4]byte(frame[:4]) != smb2.ProtocolID {
		return
	}
	if smb2.Command(binary.LittleEndian.Uint16(frame[12:])) != smb2.SetInfo ||
		binary.LittleEndian.Uint32(frame[20:]) != 0 { // NextCommand
		return
	}
	mid := binary.LittleEndian.Uint64(frame[24:])
	b.mu.Lock()
	if b.pending == nil {
		b.pending = make(map[uint64]chan struct{})
	}
	if _, dup := b.pending[mid]; !dup {
		b.pending[mid] = make(chan struct{})
	}
	b.mu.Unlock()
}

// release marks the request mid as having sent its breaks (or being done).
func (b *breakOrder) release(mid uint64) {
	b.mu.Lock()
	if ch, ok := b.pending[mid]; ok {
		close(ch)
		delete(b.pending, mid)
	}
	b.mu.Unlock()
}

// tracked reports whether mid is a request still to release.
func (b *breakOrder) tracked(mid uint64) bool {
	b.mu.Lock()
	_, ok := b.pending[mid]
	b.mu.Unlock()
	return ok
}

// wait returns once every tracked request read before mid (a smaller
// MessageId) has sent its breaks, or after orderWait.
func (b *breakOrder) wait(mid uint64) {
	var timer *time.Timer
	for {
		var ch chan struct{}
		b.mu.Lock()
		for m, c := range b.pending {
			if m < mid {
				ch = c
				break
			}
		}
		b.mu.Unlock()
		if ch == nil {
			break
		}
		if timer == nil {
			timer = time.NewTimer(orderWait)
		}
		select {
		case <-ch:
			continue
		case <-timer.C:
		}
		break
	}
	if timer != nil {
		timer.Stop()
	}
}

// withBreakOrder gives a tracked request's context the function that
// releases it (see breaksSent).
func (c *conn) withBreakOrder(ctx context.Context, mid uint64) context.Context {
	if !c.order.tracked(mid) {
		return ctx
	}
	return context.WithValue(ctx, breakOrderKey{}, func() { c.order.release(mid) })
}

// breaksSent tells the connection that the request of ctx has sent its
// break notifications: later answers need not wait for it any more.
func breaksSent(ctx context.Context) {
	if f, ok := ctx.Value(breakOrderKey{}).(func()); ok {
		f()
	}
}
