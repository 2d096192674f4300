package smb

import (
	"encoding/binary"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/winacl"
)

// Create contexts (MS-SMB2 2.2.13.2). Every context cifsd understands is an
// entry of createContextKinds: its decoding and validation, run once per
// CREATE when the request is parsed (parseCreateContexts), and, for the
// contexts answered in the request's order, its response context
// (createReply, create.go). What the contexts ask for lands in a
// createContexts, which the rest of the CREATE reads. A status a context's
// checks find is kept there and answered where MS-SMB2 3.3.5.9 (and
// Windows, as smbtorture pins it) places that check in the processing of
// the CREATE; only the durable contexts' checks come first. Contexts not
// in the table are ignored, as Windows ignores them.

// createContextKind is one entry of the registry.
type createContextKind struct {
	// v3: an SMB 3.x context, ignored on the 2.x dialects (MS-SMB2
	// 3.3.5.9.10, 3.3.5.9.12, 3.3.5.9.13).
	v3 bool
	// decode reads one occurrence of the context into cx.
	decode func(cx *createContexts, req *Request, data []byte)
	// answer builds the response context of one occurrence, for the
	// contexts answered in the request's order (MxAc, QFid). The lease and
	// durable contexts are answered from the open's state instead
	// (leaseResponse, durableResponse), after these, as Windows orders
	// them.
	answer func(s *Server, req *Request, a *createAnswer) smb2.CreateContext
}

// createContextKinds is the registry, by context name.
var createContextKinds = map[string]createContextKind{
	// MS-SMB2 3.3.5.9.2: the new file's EAs, set once it is created.
	smb2.CreateEABuffer: {decode: decodeEABuffer},
	// MS-SMB2 3.3.5.9.3: the new file's security descriptor.
	smb2.CreateSDBuffer: {decode: decodeSDBuffer},
	// MS-SMB2 3.3.5.9.4: a previous version; there are none here.
	smb2.CreateTimewarpToken: {decode: decodeTimewarp},
	// MS-SMB2 3.3.5.9.5, 2.2.14.2.5.
	smb2.CreateQueryMaximalAccess: {decode: noData, answer: answerMxAc},
	// MS-SMB2 3.3.5.9.9, 2.2.14.2.9.
	smb2.CreateQueryOnDiskID: {decode: noData, answer: answerQFid},
	// MS-SMB2 2.2.13.2.6: the allocation of a created or replaced file.
	smb2.CreateAllocationSize: {decode: decodeAllocationSize},
	// MS-SMB2 3.3.5.9.8, 3.3.5.9.11.
	smb2.CreateRequestLease: {decode: decodeLease},
	// MS-SMB2 3.3.5.9.6, 3.3.5.9.7, 3.3.5.9.10, 3.3.5.9.12: read here,
	// their combination checked by parseCreateContexts.
	smb2.CreateDurableHandleRequest: {decode: func(cx *createContexts, _ *Request, d []byte) { cx.dur.q = &d }},
	smb2.CreateDurableReconnect:     {decode: func(cx *createContexts, _ *Request, d []byte) { cx.dur.c = &d }},
	smb2.CreateDurableHandleV2:      {v3: true, decode: func(cx *createContexts, _ *Request, d []byte) { cx.dur.q2 = &d }},
	smb2.CreateDurableReconnectV2:   {v3: true, decode: func(cx *createContexts, _ *Request, d []byte) { cx.dur.c2 = &d }},
	// MS-SMB2 3.3.5.9.13.
	smb2.CreateAppInstanceID: {v3: true, decode: decodeAppInstanceID},
}

// createContexts is what the create contexts of one CREATE ask for.
type createContexts struct {
	// answers are the response builders of the contexts answered in the
	// request's order, one per occurrence.
	answers []func(s *Server, req *Request, a *createAnswer) smb2.CreateContext

	// ExtA: every occurrence, in order (each is applied in turn).
	eas []eaContext
	// SecD: the last descriptor; sdStatus is INVALID_PARAMETER when one
	// does not decode.
	sd       *winacl.SecurityDescriptor
	sdStatus smb2.Status
	// TWrp: the status its check answers (the first occurrence); success
	// when there is none.
	timewarp smb2.Status
	// AlSi: the last allocation that can be remembered.
	alloc    int64
	hasAlloc bool
	// RqLs: the first lease context, adjusted to the dialect; leaseStatus
	// is INVALID_PARAMETER when it does not decode.
	lease       *smb2.Lease
	leaseStatus smb2.Status
	// The durable contexts, the last of each name, and what they ask for
	// together.
	dur     struct{ q, c, q2, c2 *[]byte }
	durable durableRequest
	// AppInstanceId (MS-SMB2 2.2.13.2.13): the first; appStatus is
	// INVALID_PARAMETER when it does not decode.
	appID     [16]byte
	hasAppID  bool
	appStatus smb2.Status
}

// eaContext is one ExtA context: its FILE_FULL_EA_INFORMATION list, or bad
// when that does not decode.
type eaContext struct {
	list []fscc.EA
	bad  bool
}

// parseCreateContexts decodes and checks the create contexts of r, each
// once, in the request's order. The status returned is that of the checks
// a CREATE makes before any other (the durable contexts' combination,
// MS-SMB2 3.3.5.9.6 - 3.3.5.9.12); the other contexts' checks are kept in
// the result and answered in their place.
func parseCreateContexts(req *Request, r *smb2.CreateRequest) (*createContexts, smb2.Status) {
	cx := &createContexts{}
	v3 := req.conn.dialect() >= smb2.Dialect300
	for _, cc := range r.CreateContexts {
		k, known := createContextKinds[cc.Name]
		if !known || k.v3 && !v3 {
			continue
		}
		k.decode(cx, req, cc.Data)
		if k.answer != nil {
			cx.answers = append(cx.answers, k.answer)
		}
	}
	st := cx.checkDurable()
	return cx, st
}

// noData is the decoder of a context whose data cifsd does not read (an
// MxAc's optional Timestamp, QFid's none).
func noData(*createContexts, *Request, []byte) {}

func decodeEABuffer(cx *createContexts, _ *Request, d []byte) {
	list, err := fscc.DecodeFullEaInformation(d)
	cx.eas = append(cx.eas, eaContext{list: list, bad: err != nil})
}

func decodeSDBuffer(cx *createContexts, _ *Request, d []byte) {
	if cx.sdStatus != smb2.StatusSuccess {
		return
	}
	sd, err := winacl.Decode(d)
	if err != nil {
		cx.sdStatus = smb2.StatusInvalidParameter
		return
	}
	cx.sd = sd
}

func decodeTimewarp(cx *createContexts, _ *Request, d []byte) {
	switch {
	case cx.timewarp != smb2.StatusSuccess:
	case len(d) < 8:
		cx.timewarp = smb2.StatusInvalidParameter
	default:
		// No snapshots here: no version exists at any time.
		cx.timewarp = smb2.StatusObjectNameNotFound
	}
}

func decodeAllocationSize(cx *createContexts, _ *Request, d []byte) {
	if len(d) < 8 {
		return
	}
	if v := binary.LittleEndian.Uint64(d); v <= maxAlloc {
		cx.alloc, cx.hasAlloc = roundAlloc(int64(v)), true
	}
}

// decodeLease reads the first RqLs; a version 2 context is read as
// version 1 below SMB 3.0, and a parent key counts only when flagged.
func decodeLease(cx *createContexts, req *Request, d []byte) {
	if cx.lease != nil || cx.leaseStatus != smb2.StatusSuccess {
		return
	}
	l, err := smb2.DecodeLease(d)
	if err != nil {
		cx.leaseStatus = smb2.StatusInvalidParameter
		return
	}
	if req.conn.dialect() < smb2.Dialect300 {
		l.V2 = false
	}
	if !l.V2 || l.Flags&smb2.LeaseFlagParentLeaseKeySet == 0 {
		l.ParentLeaseKey = [16]byte{}
	}
	cx.lease = &l
}

func decodeAppInstanceID(cx *createContexts, _ *Request, d []byte) {
	if cx.hasAppID || cx.appStatus != smb2.StatusSuccess {
		return
	}
	id, err := smb2.DecodeAppInstanceID(d)
	if err != nil {
		cx.appStatus = smb2.StatusInvalidParameter
		return
	}
	cx.appID, cx.hasAppID = id, true
}

// checkDurable checks the combination of the durable contexts and reads
// them into cx.durable (MS-SMB2 3.3.5.9.6, 3.3.5.9.7, 3.3.5.9.10,
// 3.3.5.9.12).
func (cx *createContexts) checkDurable() smb2.Status {
	d, q := &cx.durable, &cx.dur
	invalid := smb2.StatusInvalidParameter
	switch {
	case q.c != nil:
		// 3.3.5.9.7: a DHnQ beside is ignored; a v2 context is refused.
		if q.q2 != nil || q.c2 != nil {
			return invalid
		}
		id, err := smb2.DecodeDurableReconnect(*q.c)
		if err != nil {
			return invalid
		}
		d.reconnect, d.fileID = true, id
	case q.c2 != nil:
		// 3.3.5.9.12 (and 3.3.5.9.10: DH2Q with DH2C is refused).
		if q.q != nil || q.q2 != nil {
			return invalid
		}
		c, err := smb2.DecodeDurableReconnectV2(*q.c2)
		if err != nil {
			return invalid
		}
		d.reconnect, d.reconnectV2, d.fileID, d.createGuid = true, true, c.FileId, c.CreateGuid
	case q.q2 != nil:
		// 3.3.5.9.10: DH2Q with DHnQ is refused.
		if q.q != nil {
			return invalid
		}
		r, err := smb2.DecodeDurableRequestV2(*q.q2)
		if err != nil {
			return invalid
		}
		d.v2, d.createGuid, d.timeout = true, r.CreateGuid, r.Timeout
	case q.q != nil:
		if smb2.CheckDurableRequest(*q.q) != nil {
			return invalid
		}
		d.v1 = true
	}
	return smb2.StatusSuccess
}

// answerMxAc answers MxAc with the share's access; the access
// check (security_access.go: createACL.answerMaximalAccess) narrows it to what the
// descriptor grants where descriptors are kept.
func answerMxAc(_ *Server, req *Request, _ *createAnswer) smb2.CreateContext {
	maxAccess := uint32(accessFull)
	if req.Tree.readOnly {
		maxAccess = accessReadOnly
	}
	return smb2.MxAcResponse{MaximalAccess: maxAccess}.Context()
}

// answerQFid answers QFid with the file's id (a stream's file's).
func answerQFid(s *Server, _ *Request, a *createAnswer) smb2.CreateContext {
	m := a.meta
	if a.file != nil {
		m = *a.file
	}
	var q smb2.QFidResponse
	putUint64(q.DiskFileID[:], m.id)
	putUint64(q.VolumeID[:], s.volumeID())
	return q.Context()
}
