package smb

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Named streams ("file:stream:$DATA", MS-FSCC 2.1.5.1.1) are served from
// backends that implement vfs.Streamer; on others a stream is not found, as
// on a file system without streams.

// createStream opens or creates a named stream of name (MS-FSA 2.1.5.1.2).
func (s *Server) createStream(ctx context.Context, req *Request, r *smb2.CreateRequest,
	name, stream string, baseInfo fs.FileInfo, access uint32, deleteOnClose bool) *Response {
	sh := req.Tree.share
	st, isStreamer := sh.cfg.FS.(vfs.Streamer)
	if !isStreamer {
		return statusResponse(smb2.StatusObjectNameNotFound)
	}
	if r.CreateOptions&smb2.FileDirectoryFile != 0 {
		return statusResponse(smb2.StatusNotADirectory)
	}
	disp := r.CreateDisposition
	lr, lst := leaseRequested(req, r)
	if lst != smb2.StatusSuccess {
		return statusResponse(lst)
	}
	var announce []change // new names, reported once the share lock is released
	defer func() {
		for _, c := range announce {
			if c.action == notifyActionAdded {
				sh.notifyChanges(notifyChangeFileName, c)
			} else {
				sh.noteStreamAdded(name, stream)
			}
		}
	}()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if baseInfo == nil {
		// Creating a stream of a missing file creates the file.
		if disp == smb2.FileOpen || disp == smb2.FileOverwrite {
			return statusResponse(smb2.StatusObjectNameNotFound)
		}
		f, err := sh.cfg.FS.OpenFile(ctx, name, vfs.O_RDWR|vfs.O_CREATE|vfs.O_EXCL, 0o666)
		if err != nil {
			return statusResponse(statusOf(err))
		}
		f.Close()
		announce = append(announce, change{name, notifyActionAdded})
	}
	// An existing stream keeps the spelling it was created with.
	if list, err := st.Streams(ctx, name); err == nil {
		for _, si := range list {
			if strings.EqualFold(si.Name, stream) {
				stream = si.Name
				break
			}
		}
	}
	key := foldKey(name) + ":" + strings.ToUpper(stream)
	if s.leaseConflict(lr, sh.files[key]) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	node, _, pending, bst := s.breakForCreate(ctx, req, sh, key, lr, access, r.ShareAccess, disp, deleteOnClose)
	if bst == smb2.StatusPending {
		return s.createPending(req, sh, pending)
	}
	if bst != smb2.StatusSuccess {
		return statusResponse(bst)
	}
	if node != nil {
		if node.deletePending {
			return statusResponse(smb2.StatusDeletePending)
		}
		if node.shareConflict(access, r.ShareAccess) {
			return statusResponse(smb2.StatusSharingViolation)
		}
	}
	flag := vfs.O_RDWR
	action := uint32(fileOpened)
	switch disp {
	case smb2.FileOpen:
	case smb2.FileCreate:
		flag |= vfs.O_CREATE | vfs.O_EXCL
		action = fileCreated
	case smb2.FileOpenIf:
		flag |= vfs.O_CREATE
	case smb2.FileOverwrite:
		flag |= vfs.O_TRUNC
		action = fileOverwritten
	case smb2.FileSupersede, smb2.FileOverwriteIf:
		flag |= vfs.O_CREATE | vfs.O_TRUNC
		action = fileOverwritten
	}
	if flag&vfs.O_CREATE != 0 && action == fileOpened || action == fileOverwritten {
		// Whether the stream is new decides the action reported.
		if f, err := st.OpenStream(ctx, name, stream, vfs.O_RDONLY); err == nil {
			f.Close()
		} else if errors.Is(err, fs.ErrNotExist) {
			action = fileCreated
		}
	}
	file, err := st.OpenStream(ctx, name, stream, flag)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return statusResponse(smb2.StatusObjectNameCollision)
		}
		return statusResponse(statusOf(err))
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return statusResponse(statusOf(err))
	}
	if node == nil {
		node = &fileNode{key: key, name: name, stream: stream}
		sh.files[key] = node
	}
	o := &Open{
		session: req.Session, tree: req.Tree, share: sh, node: node,
		name: name, stream: stream, file: file,
		access: access, shareAccess: r.ShareAccess, createOptions: r.CreateOptions,
		deleteOnClose: deleteOnClose,
	}
	var ctxs []smb2.CreateContext
	if lr != nil {
		ctxs = append(ctxs, s.grantLease(sh, node, o, lr))
	} else {
		o.oplock = grantOplock(node, r.RequestedOplockLevel)
	}
	node.opens = append(node.opens, o)
	req.Session.addOpen(o)
	req.compound.fileID, req.compound.hasFileID = o.id, true
	m := metaOf(fi)
	// QFid and MxAc answer for the file the stream belongs to: a stream
	// has its file's on-disk id (MS-SMB2 3.3.5.9.9).
	base := m
	if baseInfo != nil {
		base = metaOf(baseInfo)
	}
	ctxs = append(ctxs, s.createContextResponses(req, r, base)...)
	m.attrs &^= 0x10 // a stream is not a directory
	resp := createResponse(m, o.oplock, action, o.id)
	resp.CreateContexts = ctxs
	if action == fileCreated {
		announce = append(announce, change{name, notifyActionAddedStream})
	}
	return ok(resp)
}

// streamList lists the streams of the open's file for
// FileStreamInformation: "::$DATA" for a file, then the named streams.
func (o *Open) streamList(ctx context.Context, isDir bool, size, alloc int64) []vfs.StreamInfo {
	var out []vfs.StreamInfo
	if !isDir {
		out = append(out, vfs.StreamInfo{Name: "", Size: size})
	}
	if st, ok := o.share.cfg.FS.(vfs.Streamer); ok {
		o.mu.Lock()
		name := o.name
		o.mu.Unlock()
		if list, err := st.Streams(ctx, name); err == nil {
			out = append(out, list...)
		}
	}
	return out
}
