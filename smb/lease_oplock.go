package smb

import (
	"context"

	"github.com/cifsd/cifsd/smb2"
)

// Oplocks (MS-SMB2 3.3.1.10 Open.OplockLevel, 3.3.4.6, 3.3.5.22.1).
//
// An exclusive or batch oplock is granted to an open alone on its file (opens
// for attributes only do not count); level II to an open beside others that
// cache no writes. Another open breaks exclusive and batch to level II (to
// none when it overwrites), and waits for the acknowledgement, a close, or
// breakWait; writes, truncation and byte-range locks break level II to
// none without waiting. The break algorithm is shared with leases
// (lease.go): an oplock is seen as the lease bits it amounts to.

// grantOplock decides the level granted to a new open o of node n; the
// caller holds sh.mu and o is not yet among n's opens (MS-FSA 2.1.5.17.1);
// locked tells that the file has byte-range locks.
func grantOplock(st stateStore, n *fileNode, requested uint8, locked bool) uint8 {
	switch requested {
	case smb2.OplockLevelII, smb2.OplockLevelExclusive, smb2.OplockLevelBatch:
	default:
		return smb2.OplockLevelNone
	}
	others := false
	for _, x := range st.OpensLocked(n) {
		c := st.CachingLocked(x)
		if c&leaseW != 0 || st.BreakingLocked(x) || x.lease != nil && c&leaseH != 0 {
			// No oplock beside a lease caching handles (smbtorture
			// smb2.lease.oplock) or beside a break in progress.
			return smb2.OplockLevelNone
		}
		// An open for attributes only does not count, unless it holds
		// an oplock itself (smbtorture smb2.oplock.batch9).
		if !statOpen(x.access) || c != 0 {
			others = true
		}
	}
	if others || locked {
		return smb2.OplockLevelII
	}
	return requested
}

// oplockLost ends a pending break; the caller holds sh.mu.
func (o *Open) oplockLost() {
	if o.oplock != smb2.OplockLevelLease {
		o.oplock = smb2.OplockLevelNone
	}
	if o.oplockBroken != nil {
		close(o.oplockBroken)
		o.oplockBroken = nil
	}
}

// AckOplockBreak implements leaseStore.
func (m *memState) AckOplockBreak(o *Open, level uint8) (bool, smb2.Status) {
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if o.oplockBroken == nil {
		return false, smb2.StatusInvalidOplockProtocol
	}
	if level > o.breakTo || level != smb2.OplockLevelNone && level != smb2.OplockLevelII {
		o.oplock = o.oplockWant
		o.oplockLost()
		return false, smb2.StatusInvalidOplockProtocol
	}
	further := level > o.oplockWant // a later break asked for less
	if further {
		level = o.oplockWant
	}
	done := o.oplockBroken
	o.oplockBroken = nil
	o.oplock = level
	close(done)
	return further, smb2.StatusSuccess
}

// sendOplockBreak sends the OPLOCK_BREAK notification (MS-SMB2 2.2.23.1):
// an unsolicited message with MessageId -1, not signed.
func (c *conn) sendOplockBreak(o *Open, level uint8) {
	body := &smb2.OplockBreakBody{OplockLevel: level, FileId: o.id}
	msg := make([]byte, smb2.HeaderSize+body.Size())
	h := smb2.Header{Command: smb2.OplockBreak, Flags: smb2.FlagsServerToRedir, MessageID: ^uint64(0)}
	h.Encode(msg)
	body.Encode(msg[smb2.HeaderSize:])
	c.sendUnsolicited(msg, o)
}

// oplockBreak handles an OPLOCK_BREAK acknowledgement (MS-SMB2 3.3.5.22.1)
// or, told apart by its StructureSize of 36, a lease break acknowledgement
// (3.3.5.22.2).
func (s *Server) oplockBreak(ctx context.Context, req *Request) *Response {
	if b := req.Msg[smb2.HeaderSize:]; len(b) >= 2 && b[0] == 36 && b[1] == 0 {
		return s.leaseBreakAck(req)
	}
	var r smb2.OplockBreakBody
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.openHeld(r.FileId, holdNone)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	further, st := o.share.store.AckOplockBreak(o, r.OplockLevel)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if further {
		// Level II to none needs no acknowledgement.
		req.conn.sendOplockBreak(o, smb2.OplockLevelNone)
	}
	return ok(&smb2.OplockBreakBody{OplockLevel: r.OplockLevel, FileId: o.id})
}
