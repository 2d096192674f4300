package smb

import (
	"context"
	"io/fs"
	"strings"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Create actions (MS-SMB2 2.2.14).
const (
	fileSuperseded  = 0
	fileOpened      = 1
	fileCreated     = 2
	fileOverwritten = 3
)

// genericMap maps GENERIC_* bits to the file-specific rights
// (MS-SMB2 3.3.5.9, MS-DTYP 2.4.3).
func mapGeneric(a uint32) uint32 {
	if a&smb2.GenericAll != 0 {
		a |= accessFull
	}
	if a&smb2.GenericRead != 0 {
		a |= 0x00120089 // FILE_GENERIC_READ
	}
	if a&smb2.GenericWrite != 0 {
		a |= 0x00120116 // FILE_GENERIC_WRITE
	}
	if a&smb2.GenericExecute != 0 {
		a |= 0x001200A0 // FILE_GENERIC_EXECUTE
	}
	return a &^ (smb2.GenericAll | smb2.GenericRead | smb2.GenericWrite | smb2.GenericExecute)
}

// accessModifying are the rights that change a file or its metadata.
const accessModifying = smb2.FileWriteData | smb2.FileAppendData | smb2.FileWriteEA |
	smb2.FileWriteAttributes | smb2.Delete | smb2.WriteDAC | smb2.WriteOwner | smb2.FileDeleteChild

// Create options and attributes as Windows judges them (MS-FSA 2.1.5.1,
// MS-SMB2 3.3.5.9; smbtorture create.gentest records what it answers).
const (
	createOptionsReserved = smb2.CreateOptionsReserved
	// FILE_CREATE_TREE_CONNECTION, FILE_OPEN_BY_FILE_ID (no file ids to
	// open by) and FILE_RESERVE_OPFILTER are NOT_SUPPORTED.
	createOptionsNotSupported = smb2.FileCreateTreeConnection | smb2.FileOpenByFileID | smb2.FileReserveOpfilter
	// A CREATE may name these attributes; VOLUME (0x8), DEVICE (0x40),
	// INTEGRITY_STREAM (0x8000) and undefined bits are INVALID_PARAMETER.
	createAttributesValid = 0x00007fb7
	// Access bits no object has: reserved (0x0000fe00, 0x00e00000,
	// 0x0c000000).
	accessReserved = 0x0ce0fe00
)

// checkCreateFields refuses the option, attribute and access bits Windows
// refuses before it looks at the name.
func checkCreateFields(r *smb2.CreateRequest) smb2.Status {
	switch {
	case r.CreateOptions&createOptionsReserved != 0:
		return smb2.StatusInvalidParameter
	case r.DesiredAccess&accessReserved != 0:
		return smb2.StatusAccessDenied
	case r.DesiredAccess&smb2.AccessSystemSecurity != 0:
		// ACCESS_SYSTEM_SECURITY needs SeSecurityPrivilege, which no
		// user of this server holds (its LSA grants no privileges).
		return smb2.StatusPrivilegeNotHeld
	case r.FileAttributes&^createAttributesValid != 0:
		return smb2.StatusInvalidParameter
	case r.CreateOptions&createOptionsNotSupported != 0:
		return smb2.StatusNotSupported
	}
	return smb2.StatusSuccess
}

// create opens or creates a file, directory or pipe (MS-SMB2 3.3.5.9).
func (s *Server) create(ctx context.Context, req *Request) *Response {
	var r smb2.CreateRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if st := s.openLimitStatus(req.conn, req.Session); st != smb2.StatusSuccess { // conn_limits.go
		return statusResponse(st)
	}
	// A DFS path's prefix off, for reconnects and replays too (dfs.go).
	r.Name = s.dfsCreateName(req, r.Name)
	cx, st := parseCreateContexts(req, &r) // create_contexts.go
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if cx.durable.reconnect && !req.Tree.share.ipc {
		// MS-SMB2 3.3.5.9.7, 3.3.5.9.12: only the name, the contexts and
		// the file id count; the other fields are ignored.
		return s.durableReconnect(ctx, req, &r, cx)
	}
	if r.ImpersonationLevel > smb2.ImpersonationDelegate {
		return statusResponse(smb2.StatusBadImpersonationLevel)
	}
	if r.CreateDisposition > smb2.FileOverwriteIf {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if r.CreateOptions&smb2.FileDirectoryFile != 0 && r.CreateOptions&smb2.FileNonDirectoryFile != 0 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if st := checkCreateFields(&r); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if req.Tree.share.ipc {
		return s.createPipe(ctx, req, &r)
	}
	if resp := s.durableReplay(ctx, req, &r, cx); resp != nil {
		return resp
	}
	if cx.timewarp != smb2.StatusSuccess { // MS-SMB2 3.3.5.9.4
		return statusResponse(cx.timewarp)
	}
	sh := req.Tree.share
	name, stream, st := cleanPath(r.Name)
	quota := isQuotaFile(r.Name)
	if quota {
		name, stream, st = ".", "", smb2.StatusSuccess
	}
	if st != smb2.StatusSuccess {
		s.logger().Debug("create: bad name", "name", r.Name, "status", st)
		return statusResponse(st)
	}
	if st := sh.vetoStatus(name); st != smb2.StatusSuccess { // veto files (share_policy.go)
		return statusResponse(st)
	}
	if st := s.dfsCheck(ctx, req, name); st != smb2.StatusSuccess { // through a DFS link (dfs.go)
		return statusResponse(st)
	}
	access := r.DesiredAccess
	if access&smb2.MaximumAllowed != 0 {
		access |= accessFull
		if req.Tree.readOnly {
			access = access&^accessFull | accessReadOnly
		}
	}
	access = mapGeneric(access) &^ smb2.MaximumAllowed
	if access == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	wantDir := r.CreateOptions&smb2.FileDirectoryFile != 0
	wantFile := r.CreateOptions&smb2.FileNonDirectoryFile != 0
	deleteOnClose := r.CreateOptions&smb2.FileDeleteOnClose != 0
	if deleteOnClose && access&smb2.Delete == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	disp := r.CreateDisposition
	if req.Tree.readOnly && (access&accessModifying != 0 || deleteOnClose ||
		disp != smb2.FileOpen && disp != smb2.FileOpenIf) {
		return statusResponse(smb2.StatusAccessDenied)
	}

	name, fi, st := sh.resolve(ctx, name)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	access, acl, st := s.checkCreateAccess(ctx, req, &r, cx, name, fi, access) // security_access.go
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if stream != "" {
		return s.createStream(ctx, req, &r, cx, name, stream, fi, access, deleteOnClose)
	}
	if fi != nil && fi.IsDir() && namesDefaultStream(r.Name) {
		// A directory has no default data stream (MS-FSA 2.1.5.1).
		if wantDir {
			return statusResponse(smb2.StatusNotADirectory)
		}
		return statusResponse(smb2.StatusFileIsADirectory)
	}
	if name == "." && (disp != smb2.FileOpen && disp != smb2.FileOpenIf || wantFile || deleteOnClose) {
		if wantFile {
			return statusResponse(smb2.StatusFileIsADirectory)
		}
		return statusResponse(smb2.StatusAccessDenied)
	}

	lr, st := leaseRequested(req, &r, cx)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	// oplocks = no (share_policy.go)
	lr, r.RequestedOplockLevel = sh.oplockRequest(lr, r.RequestedOplockLevel)
	if cx.appStatus != smb2.StatusSuccess { // MS-SMB2 3.3.5.9.13 (create_appinstance.go)
		return statusResponse(cx.appStatus)
	}
	// The name is reserved from the decision to the publication of the
	// open (name_lock.go): the backend calls between run without the
	// share lock, and other names are served meanwhile.
	res, err := sh.store.ReserveNames(ctx, sh, "", name)
	if err != nil {
		return statusResponse(smb2.StatusCancelled)
	}
	c := &createOp{s: s, req: req, r: &r, sh: sh, res: res, name: name, fi: fi, access: access, acl: acl,
		quota: quota, wantDir: wantDir, wantFile: wantFile, deleteOnClose: deleteOnClose, disp: disp,
		lr: lr, cx: cx, dr: &cx.durable}
	if fi == nil { // the CREATE may add the name (name_index.go)
		dir, _ := splitParent(name)
		defer sh.dirChanging(dir)()
	}
	resp := c.run(ctx)
	res.release()
	c.announce()
	return resp
}

// createOp is one CREATE of a file or directory past its checks of the
// request: the decision under the share lock (share modes, delete-pending,
// breaks), the backend calls without it, and the publication of the open
// under it again. Its name is reserved throughout (name_lock.go).
type createOp struct {
	s      *Server
	req    *Request
	r      *smb2.CreateRequest
	sh     *shareState
	res    *reservation
	name   string
	fi     fs.FileInfo // the file as resolved; nil when it does not exist
	access uint32
	acl    *createACL
	quota  bool

	wantDir, wantFile, deleteOnClose bool
	disp                             uint32
	lr                               *leaseRequest
	cx                               *createContexts // create_contexts.go
	dr                               *durableRequest // &cx.durable

	// Results of the backend phase.
	action      uint32
	file        vfs.File
	statOpen    bool // an open without data access: no file yet (open_data.go)
	created     bool
	overwritten bool
	// leaseCtx is the lease context answered (publishLocked): here, not
	// in a variable the grant's closure would move to the heap.
	leaseCtx *smb2.CreateContext
	// Work left for when no lock is held: closing the opens of the same
	// app instance, sending breaks.
	afterUnlock []func()
}

// run decides, calls the backend and publishes; it returns the response.
// The caller holds the name's reservation and no lock.
func (c *createOp) run(ctx context.Context) *Response {
	sh := c.sh
	sh.mu.Lock()
	resp := c.decideLocked(ctx)
	sh.mu.Unlock()
	if resp != nil {
		return resp
	}
	if resp := c.backend(ctx); resp != nil {
		return resp
	}
	sh.mu.Lock()
	cr := c.publishLocked()
	sh.mu.Unlock()
	c.acl.answerMaximalAccess(ctx, sh, cr.CreateContexts, c.req.Tree.readOnly) // may read descriptors
	return ok(cr)
}

// announce tells watchers, short-name tables and the closed opens of the
// same app instance what the CREATE did, once no lock is held.
func (c *createOp) announce() {
	for _, f := range c.afterUnlock {
		f()
	}
	if c.created {
		c.sh.nameAdded(c.name) // name_short.go
		c.sh.notifyChanges(nameFilter(c.wantDir), change{c.name, notifyActionAdded})
	} else if c.overwritten { // MS-FSA 2.1.5.1.2.1
		c.sh.notifyChanges(notifyChangeLastWrite|notifyChangeAttributes|notifyChangeSize, change{c.name, notifyActionModified})
	}
}

// decideLocked applies share modes, delete-pending and the breaks of other
// opens' caching (MS-FSA 2.1.5.1.2). It returns a response when the CREATE
// ends here (a failure, or STATUS_PENDING while breaks are waited for),
// nil to go on. The caller holds sh.mu.
func (c *createOp) decideLocked(ctx context.Context) *Response {
	s, req, r, sh, name := c.s, c.req, c.r, c.sh, c.name
	key := foldKey(name)
	node := sh.store.FileLocked(sh, key)
	if c.cx.hasAppID {
		// Before share modes and breaks (MS-SMB2 3.3.5.9.13).
		c.afterUnlock = closeAppInstanceLocked(sh, node, c.cx.appID, req.conn.neg.clientGUID)
		node = sh.store.FileLocked(sh, key)
	}
	deletePending := node != nil && sh.store.IsDeletePendingLocked(node)
	if node != nil && !deletePending && c.fi != nil && c.disp == smb2.FileCreate {
		// MS-FSA 2.1.5.1.2: an existing file fails FILE_CREATE before
		// share modes are checked or oplocks broken.
		return statusResponse(smb2.StatusObjectNameCollision)
	}
	if s.leaseConflict(c.lr, node) {
		// MS-SMB2 3.3.5.9.8: a lease key names one file.
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if deletePending {
		// Fails before any break (MS-FSA 2.1.5.1.2; smbtorture
		// smb2.oplock.doc).
		return statusResponse(smb2.StatusDeletePending)
	}
	// Other opens' caching is broken before this open proceeds (lease.go).
	_, waited, pending, st := s.breakForCreate(ctx, req, sh, c.res, key, c.lr, c.access, r.ShareAccess, c.disp, c.deleteOnClose)
	if st == smb2.StatusPending {
		resp := s.createPending(req, sh, pending)
		s.state.NotePending(req, c.dr) // a replay meanwhile is refused (create_replay.go)
		return resp
	}
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if waited {
		c.fi = nil // the holder may have changed the file meanwhile
	}
	// Share modes and delete-pending, against the opens the breaks left
	// (and an open stream of the file, for DELETE; stream.go).
	if st := sh.store.AdmitLocked(sh, key, key, c.access, r.ShareAccess); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	return nil
}

// fail closes the backend file the CREATE opened, if any, and answers st.
func (c *createOp) fail(st smb2.Status) *Response {
	if c.file != nil {
		c.file.Close()
		c.file = nil
	}
	return statusResponse(st)
}

// backend opens, creates or replaces the file and applies the attributes,
// EAs and security descriptor a new file gets. No lock is held: the name's
// reservation keeps other operations on it out. It returns a response when
// the CREATE fails, nil to go on.
func (c *createOp) backend(ctx context.Context) *Response {
	s, req, r, sh, name := c.s, c.req, c.r, c.sh, c.name
	fsys := sh.cfg.FS
	fi := c.fi
	if fi == nil {
		// Re-check: the file may have been made or changed meanwhile.
		if got, err := fsys.Stat(ctx, name); err == nil {
			fi = got
		}
	}
	c.action = fileOpened
	var newAttrs uint32 // the attributes a created or replaced file gets (info_attrs.go)
	var err error
	exists := fi != nil
	switch {
	case exists && c.disp == smb2.FileCreate:
		return statusResponse(smb2.StatusObjectNameCollision)
	case exists && fi.IsDir():
		if c.wantFile {
			return statusResponse(smb2.StatusFileIsADirectory)
		}
		switch c.disp {
		case smb2.FileOpen, smb2.FileOpenIf:
		default:
			return statusResponse(smb2.StatusInvalidParameter)
		}
	case exists:
		if c.wantDir {
			return statusResponse(smb2.StatusNotADirectory)
		}
		if c.deleteOnClose && readOnly(fi) {
			return statusResponse(smb2.StatusCannotDelete)
		}
		flag := vfs.O_RDWR
		if req.Tree.readOnly {
			flag = vfs.O_RDONLY
		}
		switch c.disp {
		case smb2.FileSupersede:
			flag |= vfs.O_TRUNC
			c.action = fileSuperseded
		case smb2.FileOverwrite, smb2.FileOverwriteIf:
			flag |= vfs.O_TRUNC
			c.action = fileOverwritten
		}
		if readOnly(fi) && (c.access&(smb2.FileWriteData|smb2.FileAppendData) != 0 || c.action != fileOpened) {
			// MS-FSA 2.1.5.1.2.1: a read-only file is not opened for
			// writing, overwritten or superseded.
			return statusResponse(smb2.StatusAccessDenied)
		}
		if c.action != fileOpened {
			a, st := createAttributes(r.FileAttributes, storedAttributes(fi), true, false)
			if st != smb2.StatusSuccess {
				return statusResponse(st)
			}
			newAttrs = a
		}
		if c.action == fileOpened && fi.Mode().IsRegular() && c.access&accessData == 0 {
			c.statOpen = true // no backend file until one is needed (open_data.go)
		} else if c.file, err = openExisting(ctx, fsys, name, flag, c.access); err != nil {
			return statusResponse(statusOf(err))
		}
		c.overwritten = c.action != fileOpened
	default: // the name does not exist
		switch c.disp {
		case smb2.FileOpen, smb2.FileOverwrite:
			return statusResponse(smb2.StatusObjectNameNotFound)
		}
		if base := name[strings.LastIndexByte(name, '/')+1:]; base == "" {
			return statusResponse(smb2.StatusObjectNameInvalid)
		}
		if c.deleteOnClose && r.FileAttributes&fscc.FileAttributeReadonly != 0 {
			// MS-FSA 2.1.5.1.1: a new read-only file cannot be deleted on close.
			return statusResponse(smb2.StatusCannotDelete)
		}
		c.action = fileCreated
		var st smb2.Status
		newAttrs, st = createAttributes(r.FileAttributes, 0, false, c.wantDir)
		if st != smb2.StatusSuccess {
			return statusResponse(st)
		}
		if c.wantDir {
			if err := fsys.Mkdir(ctx, name, sh.dirMode(0o777)); err != nil {
				return statusResponse(statusOf(err))
			}
		} else {
			perm := fs.FileMode(0o666)
			if r.FileAttributes&fscc.FileAttributeReadonly != 0 {
				perm = 0o444
			}
			c.file, err = fsys.OpenFile(ctx, name, vfs.O_RDWR|vfs.O_CREATE|vfs.O_EXCL, sh.createMode(perm))
			if err != nil {
				c.file = nil
				return statusResponse(statusOf(err))
			}
		}
	}
	if c.action == fileOpened {
		// Opening changed nothing the stat before it read (the name is
		// reserved): that stat describes the open, without another.
		c.fi = fi
		return nil
	}
	if !sh.cfg.NoDOSAttributes { // store dos attributes (share_policy.go)
		if st := applyCreateAttributes(ctx, fsys, name, newAttrs); st != smb2.StatusSuccess {
			return c.fail(st)
		}
	}
	// MS-SMB2 3.3.5.9.2: the EA create contexts set the new file's EAs.
	for _, ea := range c.cx.eas {
		st := smb2.StatusEAListInconsistent
		if !ea.bad {
			st = setEAList(ctx, fsys, name, ea.list) // info_ea.go
		}
		if st != smb2.StatusSuccess {
			return c.fail(st)
		}
	}
	if c.action == fileCreated {
		c.acl.storeNew(ctx, s, sh, name, c.wantDir)
	}
	// Described last, with the attributes, EAs and descriptor stored: the
	// change time answered is the one a query finds (smb2.create.open).
	return c.stat(ctx)
}

// stat describes the file as the CREATE leaves it, in c.fi.
func (c *createOp) stat(ctx context.Context) *Response {
	var err error
	if c.file != nil {
		c.fi, err = c.file.Stat()
	} else {
		c.fi, err = c.sh.cfg.FS.Stat(ctx, c.name)
	}
	if err != nil {
		return c.fail(statusOf(err))
	}
	return nil
}

// publishLocked makes the open, grants its caching and durability and
// builds the response. The caller holds sh.mu.
func (c *createOp) publishLocked() *smb2.CreateResponse {
	s, req, r, sh, name := c.s, c.req, c.r, c.sh, c.name
	o := &Open{
		session:        req.Session,
		tree:           req.Tree,
		share:          sh,
		name:           name,
		isDir:          c.fi.IsDir(),
		file:           c.file,
		statOpen:       c.statOpen,
		access:         c.access,
		shareAccess:    r.ShareAccess,
		createOptions:  r.CreateOptions,
		deleteOnClose:  c.deleteOnClose,
		channelSeq:     channelSequence(req),
		appInstance:    c.cx.appID,
		hasAppInstance: c.cx.hasAppID,
		appClient:      req.conn.neg.clientGUID,
		dirOwner:       parentOwner(c.lr),
	}
	sh.store.PublishLocked(o, func(node *fileNode) {
		switch {
		case c.lr != nil && (!o.isDir || grantsDirLease(req, c.lr)):
			lc := s.grantLease(sh, node, o, c.lr)
			c.leaseCtx = &lc
		case !o.isDir && c.lr == nil:
			sh.store.GrantOplockLocked(o, grantOplock(sh.store, node, r.RequestedOplockLevel, s.state.HasLocksLocked(node)))
		}
	})
	req.Session.addOpen(o)
	req.compound.fileID, req.compound.hasFileID = o.id, true
	durCtx := s.grantDurable(req, o, c.dr)

	m := metaOf(c.fi)
	m.attrs = sh.hiddenAttrs(name, c.fi, m.attrs) // hide files (share_policy.go)
	if !o.isDir {
		m.alloc = allocCreate(sh.store, o.node, c.cx, c.action, m.size) // info_alloc.go
	}
	if c.quota {
		m = quotaFileMeta(m)
	}
	s.state.NoteReplayable(req, o, c.dr, c.action, m) // create_replay.go
	resp := s.createReply(req, c.cx, createAnswer{id: o.id, meta: m, oplock: sh.store.OplockLocked(o), action: c.action,
		lease: c.leaseCtx, durable: durCtx})
	if c.action != fileOpened {
		// A new or replaced child changes its directory's listing.
		var b breaks
		sh.parentBreaksLocked(name, o.dirOwner, &b) // lease_dir.go
		c.afterUnlock = append(c.afterUnlock, b.sendLocked())
	}
	c.created = c.action == fileCreated
	return resp
}

// createAnswer is what a CREATE response tells of an open: the one
// builder of the response for a new open (create.go, stream.go), a durable
// reconnect (open_durable.go) and a replay (create_replay.go).
type createAnswer struct {
	id     smb2.FileID
	meta   meta   // the file or stream as answered
	file   *meta  // the file QFid and MxAc answer for, when not meta (a stream's file)
	oplock uint8  // the oplock level answered
	action uint32 // FILE_OPENED, FILE_CREATED ... (MS-SMB2 2.2.14)
	// The lease and durable contexts answered, when there are.
	lease, durable *smb2.CreateContext
}

// createReply builds the CREATE response of a: its fields, then the
// contexts, in the order Windows answers them: the ones the registry
// answers (create_contexts.go: MxAc, QFid), in the request's order, then
// the lease, then the durable handle. Contexts it does not answer are
// ignored, as Windows ignores unknown ones.
func (s *Server) createReply(req *Request, cx *createContexts, a createAnswer) *smb2.CreateResponse {
	m := a.meta
	resp := &smb2.CreateResponse{
		OplockLevel:    a.oplock,
		CreateAction:   a.action,
		CreationTime:   m.creation,
		LastAccessTime: m.access,
		LastWriteTime:  m.write,
		ChangeTime:     m.change,
		AllocationSize: uint64(m.alloc),
		EndofFile:      uint64(m.size),
		FileAttributes: m.attrs,
		FileId:         a.id,
	}
	for _, answer := range cx.answers {
		resp.CreateContexts = append(resp.CreateContexts, answer(s, req, &a))
	}
	if a.lease != nil {
		resp.CreateContexts = append(resp.CreateContexts, *a.lease)
	}
	if a.durable != nil {
		resp.CreateContexts = append(resp.CreateContexts, *a.durable)
	}
	return resp
}
