package smb

import (
	"context"
	"sync/atomic"

	"github.com/cifsd/cifsd/smb2"
)

// Replayed CREATEs (SMB2_FLAGS_REPLAY_OPERATION, MS-SMB2 3.3.5.9.10): a
// client that lost a connection before the answer to a durable v2 CREATE
// sends it again, on any channel, naming the same CreateGuid. The open it
// made is answered again as it was made; a replay of a CREATE still
// waiting for oplock or lease breaks is refused until that one ends.

// maxPendingCreates bounds the table of CREATEs waiting for breaks;
// entries whose CREATE has ended are dropped when it fills.
const maxPendingCreates = 1024

// pendingCreate names a durable v2 CREATE that went async: the connection
// and MessageId of its request.
type pendingCreate struct {
	conn *conn
	mid  uint64
}

// live reports whether the CREATE is still waiting.
func (p pendingCreate) live() bool { return p.conn.hasAsync(p.mid) }

// notePending records that req, a CREATE with a DH2Q, went async.
func (t *durableTable) notePending(req *Request, dr *durableRequest) {
	if !dr.v2 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = make(map[createGuidKey]pendingCreate)
	}
	if len(t.pending) >= maxPendingCreates {
		for k, p := range t.pending {
			if !p.live() {
				delete(t.pending, k)
			}
		}
		if len(t.pending) >= maxPendingCreates {
			return
		}
	}
	t.pending[createGuidKey{req.conn.neg.clientGUID, dr.createGuid}] = pendingCreate{req.conn, req.Header.MessageID}
}

// isPending reports whether a CREATE of a CreateGuid other than req is
// waiting (req itself runs again once its breaks are done).
func (t *durableTable) isPending(client, create [16]byte, req *Request) bool {
	k := createGuidKey{client, create}
	t.mu.Lock()
	p, ok := t.pending[k]
	t.mu.Unlock()
	if !ok || p.conn == req.conn && p.mid == req.Header.MessageID {
		return false
	}
	if p.live() {
		return true
	}
	t.mu.Lock()
	if t.pending[k] == p {
		delete(t.pending, k)
	}
	t.mu.Unlock()
	return false
}

// replayState is what the CREATE that made an open answered, which a
// replay of it answers again (MS-SMB2 3.3.1.10 Open.CreateGuid).
type replayState struct {
	client, create [16]byte
	action         uint32
	meta           meta
	// eligible until the client uses the open: a replay after that is a
	// new CREATE (smbtorture smb2.replay.replay6).
	eligible atomic.Bool
}

// maxReplayable bounds the table of replayable opens; closed ones are
// dropped when it fills.
const maxReplayable = 4096

// noteReplayable records that the CREATE req, with a DH2Q, made o. The
// caller holds o.share.mu.
func (t *durableTable) noteReplayable(req *Request, o *Open, dr *durableRequest, action uint32, m meta) {
	if !dr.v2 {
		return
	}
	k := createGuidKey{req.conn.neg.clientGUID, dr.createGuid}
	rs := &replayState{client: k.client, create: k.create, action: action, meta: m}
	rs.eligible.Store(true)
	o.replay.Store(rs)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.replays == nil {
		t.replays = make(map[createGuidKey]*Open)
	}
	if len(t.replays) >= maxReplayable {
		for k, o := range t.replays {
			if o.closed() {
				delete(t.replays, k)
			}
		}
		if len(t.replays) >= maxReplayable {
			return
		}
	}
	t.replays[k] = o
}

// replayable returns the open a CREATE of the CreateGuid made, if it is
// still open.
func (t *durableTable) replayable(client, create [16]byte) *Open {
	k := createGuidKey{client, create}
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.replays[k]
	if o != nil && o.closed() {
		delete(t.replays, k)
		return nil
	}
	return o
}

// hasAsync reports whether the request of MessageId mid is an async
// operation still in progress on c.
func (c *conn) hasAsync(mid uint64) bool {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	for _, op := range c.asyncOps {
		if op.req.Header.MessageID == mid {
			return true
		}
	}
	return false
}

// durableReplay answers a replayed CREATE whose DH2Q names the CreateGuid
// of an open of the same client and session (MS-SMB2 3.3.5.9.10). It
// returns nil when there is none: the CREATE is then processed as new.
func (s *Server) durableReplay(ctx context.Context, req *Request, r *smb2.CreateRequest, cx *createContexts) *Response {
	dr := &cx.durable
	if !dr.v2 {
		return nil
	}
	client := req.conn.neg.clientGUID
	if req.Header.Flags&smb2.FlagsReplayOperation == 0 {
		if s.state.Replayable(client, dr.createGuid) != nil {
			// A CreateGuid names one open (MS-SMB2 3.3.5.9.10).
			return statusResponse(smb2.StatusDuplicateObjectID)
		}
		return nil
	}
	if s.state.IsPending(client, dr.createGuid, req) {
		// The original is still waiting for breaks (Samba answers so;
		// Windows fails it with ACCESS_DENIED).
		return statusResponse(smb2.StatusFileNotAvailable)
	}
	o := s.state.Replayable(client, dr.createGuid)
	if o == nil || o.share != req.Tree.share {
		return nil
	}
	lr, st := leaseRequested(req, r, cx)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	sh := o.share
	sh.mu.Lock()
	d, rs := o.durable, o.replay.Load()
	if rs == nil || !rs.eligible.Load() || d != nil && d.disconnected || o.session != req.Session || o.tree != req.Tree {
		sh.mu.Unlock()
		return nil
	}
	// The replay must ask for the caching the open has: a lease for a
	// leased open, with its key, and no lease for an oplock.
	if (o.lease == nil) != (lr == nil) || lr != nil && lr.id != o.lease.id {
		sh.mu.Unlock()
		return statusResponse(smb2.StatusAccessDenied)
	}
	oplock := sh.store.OplockLocked(o)
	if o.lease == nil && r.RequestedOplockLevel < oplock {
		// Answered with the level asked for; the open keeps its own.
		oplock = r.RequestedOplockLevel
	}
	a := createAnswer{id: o.id, meta: rs.meta, oplock: oplock, action: rs.action}
	if o.lease != nil {
		lc := leaseResponse(sh.store, o.lease)
		a.lease = &lc
	}
	if d != nil && !d.resilient && (o.lease != nil || oplock == smb2.OplockLevelBatch) {
		a.durable = durableResponse(d)
	}
	resp := s.createReply(req, cx, a)
	sh.mu.Unlock()
	req.compound.fileID, req.compound.hasFileID = o.id, true
	return ok(resp)
}

// channelSequence is the ChannelSequence of an SMB 3.x request: the low
// half of the header's Status field (MS-SMB2 2.2.1.2), which the client
// advances when it moves an open to another channel after a failure.
func channelSequence(req *Request) uint16 {
	if req.conn.dialect() < smb2.Dialect300 {
		return 0
	}
	return uint16(req.Header.Status)
}

// checkChannelSequence applies MS-SMB2 3.3.5.2.10 to a request on o: a
// sequence number at or up to 0x7FFF ahead of the open's is current and
// becomes the open's; an older one is stale, and a stale WRITE, SET_INFO
// or IOCTL fails with STATUS_FILE_NOT_AVAILABLE, since a newer channel may
// have changed the file since (other commands go on).
func (req *Request) checkChannelSequence(o *Open) smb2.Status {
	if req.conn.dialect() < smb2.Dialect300 {
		return smb2.StatusSuccess
	}
	if rs := o.replay.Load(); rs != nil {
		rs.eligible.Store(false) // the client has the answer to its CREATE
	}
	csn := channelSequence(req)
	o.mu.Lock()
	defer o.mu.Unlock()
	if csn-o.channelSeq <= 0x7fff {
		o.channelSeq = csn
		return smb2.StatusSuccess
	}
	switch req.Header.Command {
	case smb2.Write, smb2.SetInfo, smb2.Ioctl:
		return smb2.StatusFileNotAvailable
	}
	return smb2.StatusSuccess
}

// createOutlivesConn reports whether a durable v2 CREATE that was waiting
// for breaks when its connection went away is to be finished anyway: its
// session goes on through another channel, where the client will replay
// it and be answered with the open it made (smbtorture
// smb2.replay.dhv2-pending2*). A CANCEL still ends it.
func (s *Server) createOutlivesConn(req *Request) bool {
	if req.conn.ctx.Err() == nil || req.Session == nil || !req.Session.hasOtherChannel(req.conn) {
		return false
	}
	var r smb2.CreateRequest
	if r.Decode(req.Msg) != nil {
		return false
	}
	cx, st := parseCreateContexts(req, &r) // create_contexts.go
	return st == smb2.StatusSuccess && cx.durable.v2
}
