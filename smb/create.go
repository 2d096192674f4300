package smb

import (
	"context"
	"errors"
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

// timewarpRequested answers a CREATE that asks for a previous version of
// its file (SMB2_CREATE_TIMEWARP_TOKEN, MS-SMB2 3.3.5.9.4): there are no
// snapshots here, so no version exists at any time.
func timewarpRequested(r *smb2.CreateRequest) smb2.Status {
	for _, cc := range r.CreateContexts {
		if cc.Name != smb2.CreateTimewarpToken {
			continue
		}
		if len(cc.Data) < 8 {
			return smb2.StatusInvalidParameter
		}
		return smb2.StatusObjectNameNotFound
	}
	return smb2.StatusSuccess
}

// create opens or creates a file, directory or pipe (MS-SMB2 3.3.5.9).
func (s *Server) create(ctx context.Context, req *Request) *Response {
	var r smb2.CreateRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if st := s.openLimitStatus(req.conn, req.Session); st != smb2.StatusSuccess { // limits.go
		return statusResponse(st)
	}
	dr, st := durableRequested(req, &r)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if dr.reconnect && !req.Tree.share.ipc {
		// MS-SMB2 3.3.5.9.7, 3.3.5.9.12: only the name, the contexts and
		// the file id count; the other fields are ignored.
		return s.durableReconnect(ctx, req, &r, &dr)
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
	if resp := s.durableReplay(ctx, req, &r, &dr); resp != nil {
		return resp
	}
	if st := timewarpRequested(&r); st != smb2.StatusSuccess {
		return statusResponse(st)
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
	access, acl, st := s.checkCreateAccess(ctx, req, &r, name, fi, access) // access.go
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if stream != "" {
		return s.createStream(ctx, req, &r, name, stream, fi, access, deleteOnClose)
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

	lr, st := leaseRequested(req, &r)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	appID, hasAppID, st := appInstanceRequested(req, &r) // appinstance.go
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	// A new name is announced to watchers once the share lock is released
	// (this defer runs after the unlock below); so are the opens of the
	// same app instance closed and the directory's leases broken.
	var created, overwritten bool
	var afterUnlock []func()
	defer func() {
		for _, f := range afterUnlock {
			f()
		}
		if created {
			sh.nameAdded(name) // shortname.go
			sh.notifyChanges(nameFilter(wantDir), change{name, notifyActionAdded})
		} else if overwritten { // MS-FSA 2.1.5.1.2.1
			sh.notifyChanges(notifyChangeLastWrite|notifyChangeAttributes|notifyChangeSize, change{name, notifyActionModified})
		}
	}()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	node := sh.files[foldKey(name)]
	if hasAppID {
		// Before share modes and breaks (MS-SMB2 3.3.5.9.13).
		afterUnlock = closeAppInstanceLocked(node, appID, req.conn.neg.clientGUID)
		node = sh.files[foldKey(name)]
	}
	if node != nil && !node.deletePending && fi != nil && disp == smb2.FileCreate {
		// MS-FSA 2.1.5.1.2: an existing file fails FILE_CREATE before
		// share modes are checked or oplocks broken.
		return statusResponse(smb2.StatusObjectNameCollision)
	}
	if s.leaseConflict(lr, node) {
		// MS-SMB2 3.3.5.9.8: a lease key names one file.
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if node != nil && node.deletePending {
		// Fails before any break (MS-FSA 2.1.5.1.2; smbtorture
		// smb2.oplock.doc).
		return statusResponse(smb2.StatusDeletePending)
	}
	// Other opens' caching is broken before this open proceeds (lease.go).
	node, waited, pending, st := s.breakForCreate(ctx, req, sh, foldKey(name), lr, access, r.ShareAccess, disp, deleteOnClose)
	if st == smb2.StatusPending {
		resp := s.createPending(req, sh, pending)
		s.durables.notePending(req, &dr) // a replay meanwhile is refused (replay.go)
		return resp
	}
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if waited {
		fi = nil // the holder may have changed the file meanwhile
	}
	if node != nil {
		if node.deletePending {
			return statusResponse(smb2.StatusDeletePending)
		}
		if node.shareConflict(access, r.ShareAccess) {
			return statusResponse(smb2.StatusSharingViolation)
		}
	}
	if access&smb2.Delete != 0 && sh.otherStreamDeniesDelete(foldKey(name), foldKey(name)) {
		return statusResponse(smb2.StatusSharingViolation) // an open stream of the file (stream.go)
	}
	// Re-check under the lock: another create may have made the file.
	if fi == nil {
		if got, err := sh.cfg.FS.Stat(ctx, name); err == nil {
			fi = got
		}
	}

	action := uint32(fileOpened)
	var newAttrs uint32 // the attributes a created or replaced file gets (attrs.go)
	fsys := sh.cfg.FS
	var file vfs.File
	var err error
	exists := fi != nil
	switch {
	case exists && disp == smb2.FileCreate:
		return statusResponse(smb2.StatusObjectNameCollision)
	case exists && fi.IsDir():
		if wantFile {
			return statusResponse(smb2.StatusFileIsADirectory)
		}
		switch disp {
		case smb2.FileCreate:
			return statusResponse(smb2.StatusObjectNameCollision)
		case smb2.FileOpen, smb2.FileOpenIf:
		default:
			return statusResponse(smb2.StatusInvalidParameter)
		}
	case exists:
		if wantDir {
			return statusResponse(smb2.StatusNotADirectory)
		}
		if deleteOnClose && readOnly(fi) {
			return statusResponse(smb2.StatusCannotDelete)
		}
		flag := vfs.O_RDWR
		if req.Tree.readOnly {
			flag = vfs.O_RDONLY
		}
		switch disp {
		case smb2.FileCreate:
			return statusResponse(smb2.StatusObjectNameCollision)
		case smb2.FileSupersede:
			flag |= vfs.O_TRUNC
			action = fileSuperseded
		case smb2.FileOverwrite, smb2.FileOverwriteIf:
			flag |= vfs.O_TRUNC
			action = fileOverwritten
		}
		if readOnly(fi) && (access&(smb2.FileWriteData|smb2.FileAppendData) != 0 || action != fileOpened) {
			// MS-FSA 2.1.5.1.2.1: a read-only file is not opened for
			// writing, overwritten or superseded.
			return statusResponse(smb2.StatusAccessDenied)
		}
		if action != fileOpened {
			a, st := createAttributes(r.FileAttributes, storedAttributes(fi), true, false)
			if st != smb2.StatusSuccess {
				return statusResponse(st)
			}
			newAttrs = a
		}
		file, err = fsys.OpenFile(ctx, name, flag, 0)
		if err != nil && flag&vfs.O_RDWR != 0 && errors.Is(err, fs.ErrPermission) &&
			access&accessWriteish == 0 && flag&vfs.O_TRUNC == 0 {
			file, err = fsys.OpenFile(ctx, name, vfs.O_RDONLY, 0)
		}
		if err != nil {
			return statusResponse(statusOf(err))
		}
		overwritten = action != fileOpened
	default: // the name does not exist
		switch disp {
		case smb2.FileOpen, smb2.FileOverwrite:
			return statusResponse(smb2.StatusObjectNameNotFound)
		}
		if base := name[strings.LastIndexByte(name, '/')+1:]; base == "" {
			return statusResponse(smb2.StatusObjectNameInvalid)
		}
		if deleteOnClose && r.FileAttributes&fscc.FileAttributeReadonly != 0 {
			// MS-FSA 2.1.5.1.1: a new read-only file cannot be deleted on close.
			return statusResponse(smb2.StatusCannotDelete)
		}
		action = fileCreated
		newAttrs, st = createAttributes(r.FileAttributes, 0, false, wantDir)
		if st != smb2.StatusSuccess {
			return statusResponse(st)
		}
		if wantDir {
			if err := fsys.Mkdir(ctx, name, 0o777); err != nil {
				return statusResponse(statusOf(err))
			}
		} else {
			perm := fs.FileMode(0o666)
			if r.FileAttributes&0x1 != 0 { // FILE_ATTRIBUTE_READONLY
				perm = 0o444
			}
			file, err = fsys.OpenFile(ctx, name, vfs.O_RDWR|vfs.O_CREATE|vfs.O_EXCL, perm)
			if err != nil {
				return statusResponse(statusOf(err))
			}
		}
	}
	if file != nil {
		fi, err = file.Stat()
	} else {
		fi, err = fsys.Stat(ctx, name)
	}
	if err != nil {
		if file != nil {
			file.Close()
		}
		return statusResponse(statusOf(err))
	}

	if action != fileOpened {
		if st := applyCreateAttributes(ctx, fsys, name, newAttrs); st != smb2.StatusSuccess {
			if file != nil {
				file.Close()
			}
			return statusResponse(st)
		}
		if file != nil {
			fi, err = file.Stat() // with the attributes just stored
		} else {
			fi, err = fsys.Stat(ctx, name)
		}
		if err != nil {
			if file != nil {
				file.Close()
			}
			return statusResponse(statusOf(err))
		}
		// MS-SMB2 3.3.5.9.2: the EA create context sets the new file's EAs.
		for _, cc := range r.CreateContexts {
			if cc.Name == smb2.CreateEABuffer {
				if st := setEAs(ctx, fsys, name, cc.Data); st != smb2.StatusSuccess {
					if file != nil {
						file.Close()
					}
					return statusResponse(st)
				}
			}
		}
		if action == fileCreated {
			acl.storeNew(ctx, s, sh, name, fi.IsDir())
		}
	}
	if node == nil {
		node = sh.nodeLocked(name)
	}
	o := &Open{
		session:        req.Session,
		tree:           req.Tree,
		share:          sh,
		node:           node,
		name:           name,
		isDir:          fi.IsDir(),
		file:           file,
		access:         access,
		shareAccess:    r.ShareAccess,
		createOptions:  r.CreateOptions,
		deleteOnClose:  deleteOnClose,
		channelSeq:     channelSequence(req),
		appInstance:    appID,
		hasAppInstance: hasAppID,
		appClient:      req.conn.neg.clientGUID,
		dirOwner:       parentOwner(lr),
	}
	var leaseCtx *smb2.CreateContext
	switch {
	case lr != nil && (!o.isDir || grantsDirLease(req, lr)):
		c := s.grantLease(sh, node, o, lr)
		leaseCtx = &c
	case !o.isDir && lr == nil:
		o.oplock = grantOplock(node, r.RequestedOplockLevel)
	}
	node.opens = append(node.opens, o)
	req.Session.addOpen(o)
	req.compound.fileID, req.compound.hasFileID = o.id, true
	durCtx := s.grantDurable(req, o, &dr)

	m := metaOf(fi)
	if !o.isDir {
		m.alloc = node.allocCreate(&r, action, m.size) // alloc.go
	}
	if quota {
		m = quotaFileMeta(m)
	}
	s.durables.noteReplayable(req, o, &dr, action, m) // replay.go
	resp := createResponse(m, o.oplock, action, o.id)
	resp.CreateContexts = s.createContextResponses(req, &r, m)
	acl.answerMaximalAccess(ctx, sh, resp.CreateContexts, req.Tree.readOnly)
	if leaseCtx != nil {
		resp.CreateContexts = append(resp.CreateContexts, *leaseCtx)
	}
	if durCtx != nil {
		resp.CreateContexts = append(resp.CreateContexts, *durCtx)
	}
	created = action == fileCreated
	if action != fileOpened {
		// A new or replaced child changes its directory's listing.
		var b breaks
		sh.parentBreaksLocked(name, o.dirOwner, &b) // dirlease.go
		afterUnlock = append(afterUnlock, b.sendLocked())
	}
	return ok(resp)
}

// createResponse is a CREATE response for a file described by m.
func createResponse(m meta, oplock uint8, action uint32, id smb2.FileID) *smb2.CreateResponse {
	return &smb2.CreateResponse{
		OplockLevel:    oplock,
		CreateAction:   action,
		CreationTime:   m.creation,
		LastAccessTime: m.access,
		LastWriteTime:  m.write,
		ChangeTime:     m.change,
		AllocationSize: uint64(m.alloc),
		EndofFile:      uint64(m.size),
		FileAttributes: m.attrs,
		FileId:         id,
	}
}

// createContextResponses answers the create contexts cifsd understands
// (MS-SMB2 3.3.5.9.5 MxAc, 3.3.5.9.9 QFid); the others are ignored as
// Windows ignores unknown ones.
func (s *Server) createContextResponses(req *Request, r *smb2.CreateRequest, m meta) []smb2.CreateContext {
	var out []smb2.CreateContext
	for _, cc := range r.CreateContexts {
		switch cc.Name {
		case smb2.CreateQueryMaximalAccess:
			maxAccess := uint32(accessFull)
			if req.Tree.readOnly {
				maxAccess = accessReadOnly
			}
			out = append(out, smb2.MxAcResponse{MaximalAccess: maxAccess}.Context())
		case smb2.CreateQueryOnDiskID:
			var q smb2.QFidResponse
			putUint64(q.DiskFileID[:], m.id)
			putUint64(q.VolumeID[:], s.volumeID())
			out = append(out, q.Context())
		}
	}
	return out
}
