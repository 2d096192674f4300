package smb

import (
	"context"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// Oplocks (MS-SMB2 3.3.1.10 Open.OplockLevel, 3.3.4.6, 3.3.5.22.1).
//
// cifsd grants an exclusive or batch oplock to an open that is alone on its
// file, and breaks it to none before another open of the file proceeds:
// the holder is sent an OPLOCK_BREAK notification and the new CREATE waits
// until the holder acknowledges, closes, or oplockBreakWait passes. Level II
// oplocks are not granted yet (that would need breaks on every write).

// oplockBreakWait bounds how long a CREATE waits for a holder to answer a
// break (Windows waits 35 seconds).
const oplockBreakWait = 35 * time.Second

// grantOplock decides the level granted to a new open o of node n; the
// caller holds sh.mu and o is not yet in n.opens.
func grantOplock(n *fileNode, requested uint8) uint8 {
	if requested != smb2.OplockLevelBatch && requested != smb2.OplockLevelExclusive {
		return smb2.OplockLevelNone
	}
	if len(n.opens) > 0 {
		return smb2.OplockLevelNone
	}
	return requested
}

// breakOplocks breaks the exclusive or batch oplock another open holds on n
// and waits until it is given up. The caller holds sh.mu; breakOplocks
// releases it while waiting and reports whether it did (the caller must
// then look at the file again).
func (s *Server) breakOplocks(ctx context.Context, sh *shareState, n *fileNode, requester *Session) bool {
	var holder *Open
	for _, o := range n.opens {
		if o.oplock == smb2.OplockLevelBatch || o.oplock == smb2.OplockLevelExclusive {
			holder = o
			break
		}
	}
	if holder == nil {
		return false
	}
	first := holder.oplockBroken == nil
	if first {
		holder.oplockBroken = make(chan struct{})
		holder.breakTo = smb2.OplockLevelNone
	}
	done := holder.oplockBroken
	sh.mu.Unlock()
	if first {
		// Sent without the share lock: a slow holder must not stall the share.
		holder.session.conn.sendOplockBreak(holder, smb2.OplockLevelNone)
	}
	timer := time.NewTimer(oplockBreakWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		// The holder did not answer: the oplock is taken away.
		sh.mu.Lock()
		holder.oplockLost()
		sh.mu.Unlock()
	case <-ctx.Done():
	}
	sh.mu.Lock()
	return true
}

// oplockLost ends a pending break; the caller holds sh.mu.
func (o *Open) oplockLost() {
	o.oplock = smb2.OplockLevelNone
	if o.oplockBroken != nil {
		close(o.oplockBroken)
		o.oplockBroken = nil
	}
}

// sendOplockBreak sends the OPLOCK_BREAK notification (MS-SMB2 2.2.23.1):
// an unsolicited message with MessageId -1, not signed.
func (c *conn) sendOplockBreak(o *Open, level uint8) {
	body := &smb2.OplockBreakBody{OplockLevel: level, FileId: o.id}
	msg := make([]byte, smb2.HeaderSize+body.Size())
	h := smb2.Header{Command: smb2.OplockBreak, Flags: smb2.FlagsServerToRedir, MessageID: ^uint64(0)}
	h.Encode(msg)
	body.Encode(msg[smb2.HeaderSize:])
	sess := o.session
	if sess.encryptData || o.tree.encrypt {
		c.writeCompound([]respElem{{msg: msg}}, true, sess)
		return
	}
	c.send([][]byte{msg}, nil)
}

// oplockBreak handles an OPLOCK_BREAK acknowledgement (MS-SMB2 3.3.5.22.1).
func (s *Server) oplockBreak(ctx context.Context, req *Request) *Response {
	var r smb2.OplockBreakBody
	if err := r.Decode(req.Msg); err != nil {
		// A lease break acknowledgement (36 bytes): no leases are granted.
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if o.oplockBroken == nil {
		return statusResponse(smb2.StatusInvalidOplockProtocol)
	}
	if r.OplockLevel > o.breakTo {
		o.oplockLost()
		return statusResponse(smb2.StatusInvalidOplockProtocol)
	}
	o.oplockLost()
	o.oplock = r.OplockLevel
	return ok(&smb2.OplockBreakBody{OplockLevel: o.oplock, FileId: o.id})
}
