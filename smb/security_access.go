package smb

import (
	"context"
	"io/fs"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/winacl"
)

// CREATE's access check (MS-FSA 2.1.5.1.2.1, MS-DTYP 2.5.3.2): the rights
// an open asks for must be granted by the file's DACL to the session's
// SIDs; DELETE is granted too when the parent grants FILE_DELETE_CHILD,
// and FILE_READ_ATTRIBUTES when it grants FILE_LIST_DIRECTORY. A new file
// needs FILE_ADD_FILE (FILE_ADD_SUBDIRECTORY) on its parent and gets the
// rights asked for; its descriptor is inherited from the parent or given
// by the SecD create context (MS-SMB2 3.3.5.9.4).

// createACL carries what the access check decided through the rest of
// CREATE.
type createACL struct {
	on      bool // the backend keeps descriptors
	token   *winacl.Token
	creator *winacl.SecurityDescriptor // the SecD create context
	parent  *winacl.SecurityDescriptor // a new file's parent's descriptor
	maximal uint32                     // the file's maximal access, for MxAc
	created *winacl.SecurityDescriptor // a new file's descriptor: maximal is computed from it
	name    string                     // the new file
}

// maximalAccess is every right t has on name.
func (sh *shareState) maximalAccess(ctx context.Context, name string, fi fs.FileInfo, isDir bool, t *winacl.Token) uint32 {
	return sh.withParentRights(ctx, name, sh.accessSD(ctx, name, fi, isDir, t).MaximalAccess(t), nil, t)
}

// withParentRights adds to m, the rights name's own descriptor grants,
// what the parent grants over it: DELETE for FILE_DELETE_CHILD and
// FILE_READ_ATTRIBUTES for FILE_LIST_DIRECTORY (MS-FSA 2.1.5.1.2.1). The
// parent's descriptor is read only when m lacks either; parent, when not
// nil, is it.
func (sh *shareState) withParentRights(ctx context.Context, name string, m uint32, parent *winacl.SecurityDescriptor, t *winacl.Token) uint32 {
	p := parentName(name)
	if p == "" {
		return m | smb2.FileReadAttributes
	}
	if m&(smb2.Delete|smb2.FileReadAttributes) == smb2.Delete|smb2.FileReadAttributes {
		return m
	}
	if parent == nil {
		parent = sh.accessSD(ctx, p, nil, true, t)
	}
	pm := parent.MaximalAccess(t)
	if pm&smb2.FileDeleteChild != 0 {
		m |= smb2.Delete
	}
	if pm&smb2.FileListDirectory != 0 {
		m |= smb2.FileReadAttributes
	}
	return m
}

// checkCreateAccess checks the rights r asks for name (fi nil when it does
// not exist) and returns the access to grant: access as computed from the
// request, narrowed to what the DACL grants when MAXIMUM_ALLOWED was asked.
func (s *Server) checkCreateAccess(ctx context.Context, req *Request, r *smb2.CreateRequest, cx *createContexts,
	name string, fi fs.FileInfo, access uint32) (uint32, *createACL, smb2.Status) {
	sh := req.Tree.share
	if cx.sdStatus != smb2.StatusSuccess { // a SecD context that does not decode (create_contexts.go)
		return 0, nil, cx.sdStatus
	}
	ac := &createACL{token: req.Session.token(), maximal: accessFull, creator: cx.sd}
	_, ac.on = sh.sdStore()
	if !ac.on {
		return access, ac, smb2.StatusSuccess
	}
	t := ac.token
	if fi == nil {
		if r.CreateDisposition == smb2.FileOpen || r.CreateDisposition == smb2.FileOverwrite {
			return access, ac, smb2.StatusSuccess // not found, later
		}
		need := smb2.FileAddFile
		if r.CreateOptions&smb2.FileDirectoryFile != 0 {
			need = smb2.FileAddSubdirectory
		}
		ac.parent = sh.fileSD(ctx, parentName(name), true, t)
		if parentName(name) != "" && ac.parent.MaximalAccess(t)&need == 0 {
			return 0, nil, smb2.StatusAccessDenied
		}
		return access, ac, smb2.StatusSuccess
	}
	if r.CreateDisposition == smb2.FileCreate {
		return access, ac, smb2.StatusSuccess // a name collision, later
	}
	maximal := sh.maximalAccess(ctx, name, fi, fi.IsDir(), t)
	ac.maximal = maximal
	want := mapGeneric(r.DesiredAccess) &^ (smb2.MaximumAllowed | smb2.AccessSystemSecurity)
	switch r.CreateDisposition {
	case smb2.FileOverwrite, smb2.FileOverwriteIf, smb2.FileSupersede:
		if !fi.IsDir() {
			// Replacing the data writes it: a file the DACL does not let
			// the user write is not overwritten (smb2.acls.OVERWRITE_READ_ONLY_FILE).
			want |= smb2.FileWriteData
		}
	}
	if want&^maximal != 0 {
		s.logger().Debug("create: access denied", "name", name, "want", want, "granted", maximal)
		return 0, nil, smb2.StatusAccessDenied
	}
	if r.DesiredAccess&smb2.MaximumAllowed != 0 {
		access &= maximal | mapGeneric(r.DesiredAccess) | smb2.AccessSystemSecurity
		if access == 0 {
			return 0, nil, smb2.StatusAccessDenied
		}
	}
	if r.CreateOptions&smb2.FileDeleteOnClose != 0 && access&smb2.Delete == 0 {
		return 0, nil, smb2.StatusAccessDenied
	}
	return access, ac, smb2.StatusSuccess
}

// storeNew gives a file just created its descriptor: the SecD context's,
// completed, or what it inherits from its parent (MS-DTYP 2.5.3.4.1).
func (ac *createACL) storeNew(ctx context.Context, s *Server, sh *shareState, name string, isDir bool) {
	st, ok := sh.sdStore()
	if !ok {
		return
	}
	t := ac.token
	parent := ac.parent
	if parent == nil {
		parent = sh.fileSD(ctx, parentName(name), true, t)
		ac.parent = parent
	}
	sd := winacl.New(parent, ac.creator, t.User, primaryGroup(t), isDir)
	if !sd.Valid() {
		return
	}
	if err := st.SetSecurityDescriptor(ctx, name, sd.Encode()); err != nil {
		s.logger().Debug("create: store security descriptor", "name", name, "err", err)
		return
	}
	ac.created = sd
	ac.name = name
}

// answerMaximalAccess puts the maximal access the check found into an MxAc
// response among ctxs (MS-SMB2 3.3.5.9.5).
func (ac *createACL) answerMaximalAccess(ctx context.Context, sh *shareState, ctxs []smb2.CreateContext, readOnly bool) {
	if ac == nil || !ac.on {
		return
	}
	for i := range ctxs {
		if ctxs[i].Name != smb2.CreateQueryMaximalAccess {
			continue
		}
		m := ac.maximal
		if ac.created != nil {
			m = sh.withParentRights(ctx, ac.name, ac.created.MaximalAccess(ac.token), ac.parent, ac.token)
		}
		if readOnly {
			m &= accessReadOnly
		}
		ctxs[i] = smb2.MxAcResponse{MaximalAccess: m}.Context()
	}
}

// checkRenameAccess is the access check of a rename to dst (dstInfo nil
// when the name is free) by o's session (MS-FSA 2.1.5.15.16): the target
// directory must let the user add a file (a subdirectory), and a file
// replaced must be one the user may delete.
func (o *Open) checkRenameAccess(ctx context.Context, dst string, dstInfo fs.FileInfo) smb2.Status {
	sh := o.share
	if _, ok := sh.sdStore(); !ok {
		return smb2.StatusSuccess
	}
	t := o.session.token()
	need := smb2.FileAddFile
	if o.isDir {
		need = smb2.FileAddSubdirectory
	}
	if p := parentName(dst); p != "" && sh.accessSD(ctx, p, nil, true, t).MaximalAccess(t)&need == 0 {
		return smb2.StatusAccessDenied
	}
	o.mu.Lock()
	self := foldKey(o.name) == foldKey(dst)
	o.mu.Unlock()
	if dstInfo != nil && !self && sh.maximalAccess(ctx, dst, dstInfo, dstInfo.IsDir(), t)&smb2.Delete == 0 {
		return smb2.StatusAccessDenied
	}
	return smb2.StatusSuccess
}
