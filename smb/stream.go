package smb

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"unicode/utf16"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Named streams ("file:stream:$DATA", MS-FSCC 2.1.5.1.1) are served from
// backends that implement vfs.Streamer; on others a stream is not found, as
// on a file system without streams.

// createStream opens or creates a named stream of name (MS-FSA 2.1.5.1.2).
func (s *Server) createStream(ctx context.Context, req *Request, r *smb2.CreateRequest, cx *createContexts,
	name, stream string, baseInfo fs.FileInfo, access uint32, deleteOnClose bool) *Response {
	sh := req.Tree.share
	st, isStreamer := vfs.As[vfs.Streamer](sh.cfg.FS)
	if !isStreamer {
		return statusResponse(smb2.StatusObjectNameNotFound)
	}
	if r.CreateOptions&smb2.FileDirectoryFile != 0 {
		return statusResponse(smb2.StatusNotADirectory)
	}
	disp := r.CreateDisposition
	lr, lst := leaseRequested(req, r, cx)
	if lst != smb2.StatusSuccess {
		return statusResponse(lst)
	}
	var announce []change // new names, reported once the share lock is released
	defer func() {
		for _, c := range announce {
			if c.action == notifyActionAdded {
				sh.breakParentLeases(parentOwner(lr), name) // lease_dir.go
				sh.notifyChanges(notifyChangeFileName, c)
			} else {
				sh.noteStreamAdded(name, stream)
			}
		}
	}()
	// The file's name is reserved for the whole CREATE (name_lock.go): the
	// backend calls run without the share lock.
	res, err := sh.store.ReserveNames(ctx, sh, "", name)
	if err != nil {
		return statusResponse(smb2.StatusCancelled)
	}
	defer res.release() // before announce's deferred work
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
	key := streamKey(name, stream)
	sh.mu.Lock()
	if resp := s.decideStreamLocked(ctx, req, r, res, name, key, lr, access, deleteOnClose); resp != nil {
		sh.mu.Unlock()
		return resp
	}
	sh.mu.Unlock()
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
	sh.mu.Lock()
	defer sh.mu.Unlock()
	o := &Open{
		session: req.Session, tree: req.Tree, share: sh,
		name: name, stream: stream, file: file,
		access: access, shareAccess: r.ShareAccess, createOptions: r.CreateOptions,
		deleteOnClose: deleteOnClose, dirOwner: parentOwner(lr),
	}
	var leaseCtx *smb2.CreateContext
	sh.store.PublishLocked(o, func(node *fileNode) {
		if lr != nil {
			lc := s.grantLease(sh, node, o, lr)
			leaseCtx = &lc
		} else {
			sh.store.GrantOplockLocked(o, grantOplock(sh.store, node, r.RequestedOplockLevel, s.state.HasLocksLocked(node)))
		}
	})
	req.Session.addOpen(o)
	req.compound.fileID, req.compound.hasFileID = o.id, true
	m := metaOf(fi)
	// QFid and MxAc answer for the file the stream belongs to: a stream
	// has its file's on-disk id (MS-SMB2 3.3.5.9.9).
	base := m
	if baseInfo != nil {
		base = metaOf(baseInfo)
	}
	m.attrs &^= 0x10 // a stream is not a directory
	resp := s.createReply(req, cx, createAnswer{id: o.id, meta: m, file: &base, oplock: sh.store.OplockLocked(o), action: action,
		lease: leaseCtx})
	if action == fileCreated {
		announce = append(announce, change{name, notifyActionAddedStream})
	}
	return ok(resp)
}

// decideStreamLocked applies delete-pending, share modes and breaks to a
// CREATE of the named stream key of name; it returns the response when the
// CREATE ends here, nil to go on. The caller holds sh.mu.
func (s *Server) decideStreamLocked(ctx context.Context, req *Request, r *smb2.CreateRequest, res *reservation,
	name, key string, lr *leaseRequest, access uint32, deleteOnClose bool) *Response {
	sh := req.Tree.share
	if sh.store.DeletePendingLocked(sh, name) {
		return statusResponse(smb2.StatusDeletePending)
	}
	if s.leaseConflict(lr, sh.store.FileLocked(sh, key)) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	_, _, pending, bst := s.breakForCreate(ctx, req, sh, res, key, lr, access, r.ShareAccess, r.CreateDisposition, deleteOnClose)
	if bst == smb2.StatusPending {
		return s.createPending(req, sh, pending)
	}
	if bst != smb2.StatusSuccess {
		return statusResponse(bst)
	}
	if st := sh.store.AdmitLocked(sh, foldKey(name), key, access, r.ShareAccess); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	return nil
}

// streamList lists the streams of the open's file for
// FileStreamInformation: "::$DATA" for a file, then the named streams.
func (o *Open) streamList(ctx context.Context, isDir bool, size, alloc int64) []vfs.StreamInfo {
	var out []vfs.StreamInfo
	if !isDir {
		out = append(out, vfs.StreamInfo{Name: "", Size: size})
	}
	if st, ok := vfs.As[vfs.Streamer](o.share.cfg.FS); ok {
		o.mu.Lock()
		name := o.name
		o.mu.Unlock()
		if list, err := st.Streams(ctx, name); err == nil {
			out = append(out, list...)
		}
	}
	return out
}

// streamKey is the key of a named stream's node in shareState.files: the
// file's key, ":", the upper-cased stream name. A ':' never occurs in a
// file name, so the keys of a file's streams are those that begin with
// its key and ':'.
func streamKey(name, stream string) string {
	return foldKey(name) + ":" + strings.ToUpper(stream)
}

// maxStreamNameLen bounds a stream name, in UTF-16 code units (MS-FSA
// 2.1.5.15.11.1).
const maxStreamNameLen = 255

// parseStreamRename checks the new name of a stream rename, ":name",
// ":name:$DATA" or "::$DATA" (MS-FSA 2.1.5.15.11.1), and returns the
// stream name, "" for the default data stream.
func parseStreamRename(newName string, isDir bool) (string, smb2.Status) {
	if !strings.HasPrefix(newName, ":") || strings.HasSuffix(newName, ":") {
		return "", smb2.StatusInvalidParameter
	}
	stream, typ, typed := strings.Cut(newName[1:], ":")
	if typed && !strings.EqualFold(typ, "$DATA") {
		return "", smb2.StatusInvalidParameter
	}
	if strings.ContainsAny(stream, "\x00\\/") || len(utf16.Encode([]rune(stream))) > maxStreamNameLen {
		return "", smb2.StatusInvalidParameter
	}
	if stream == "" && isDir {
		// A directory has no unnamed data stream.
		return "", smb2.StatusInvalidParameter
	}
	return stream, smb2.StatusSuccess
}

// renameStream gives the open's named stream the name newName, which
// begins with ':' (FileRenameInformation on a stream, MS-FSA
// 2.1.5.15.11.1). A stream replaced must be empty and not open; "::$DATA"
// moves the stream's data into the file's empty default stream. The
// caller has checked the open's DELETE access and that the tree is
// writable.
func (o *Open) renameStream(ctx context.Context, newName string, replace bool) smb2.Status {
	to, st := parseStreamRename(newName, o.isDir)
	if st != smb2.StatusSuccess {
		return st
	}
	sh := o.share
	ss, isStreamer := vfs.As[vfs.Streamer](sh.cfg.FS)
	if !isStreamer || o.stream == "" || o.file == nil {
		// cifsd renames named streams only, not a file's default stream.
		return smb2.StatusInvalidParameter
	}
	if strings.EqualFold(to, o.stream) {
		return smb2.StatusSuccess
	}
	// The file's name is reserved (stream CREATEs reserve it too): the
	// backend calls below run without the share lock (name_lock.go).
	res, name, err := o.reserveForRename(ctx) // open_fileops.go
	if err != nil {
		return smb2.StatusCancelled
	}
	defer res.release()
	n := o.node
	sh.mu.Lock()
	busy := sh.store.OpenCountLocked(n) > 1 // other handles to the stream would keep its old name
	sh.mu.Unlock()
	if busy {
		return smb2.StatusSharingViolation
	}
	exists := false
	if to == "" {
		if !replace {
			return smb2.StatusObjectNameCollision // the default stream always exists
		}
		if sh.store.HasFile(sh, foldKey(name)) {
			return smb2.StatusSharingViolation
		}
		fi, err := sh.cfg.FS.Stat(ctx, name)
		if err != nil {
			return statusOf(err)
		}
		if fi.Size() != 0 {
			return smb2.StatusInvalidParameter
		}
	} else {
		list, err := ss.Streams(ctx, name)
		if err != nil {
			return statusOf(err)
		}
		for _, si := range list {
			if !strings.EqualFold(si.Name, to) {
				continue
			}
			exists = true
			to = si.Name // the stream keeps its spelling
			if !replace {
				return smb2.StatusObjectNameCollision
			}
			if sh.store.HasFile(sh, streamKey(name, to)) {
				return smb2.StatusSharingViolation
			}
			if si.Size != 0 {
				// Only an empty stream is replaced (Windows answers so).
				return smb2.StatusInvalidParameter
			}
		}
	}
	var dst vfs.File
	if to == "" {
		dst, err = sh.cfg.FS.OpenFile(ctx, name, vfs.O_RDWR|vfs.O_TRUNC, 0)
	} else {
		dst, err = ss.OpenStream(ctx, name, to, vfs.O_RDWR|vfs.O_CREATE|vfs.O_TRUNC)
	}
	if err != nil {
		return statusOf(err)
	}
	undo := func() {
		dst.Close()
		if to != "" && !exists {
			ss.RemoveStream(ctx, name, to)
		}
	}
	if err := copyFile(dst, o.file); err != nil {
		undo()
		return statusOf(err)
	}
	if err := ss.RemoveStream(ctx, name, o.stream); err != nil {
		undo()
		return statusOf(err)
	}
	o.mu.Lock()
	old := o.file
	o.file, o.stream = dst, to
	o.mu.Unlock()
	old.Close()
	sh.mu.Lock()
	sh.store.MoveStreamLocked(sh, n, to)
	sh.mu.Unlock()
	return smb2.StatusSuccess
}

// copyFile copies the content of src to dst from offset 0.
func copyFile(dst, src vfs.File) error {
	buf := make([]byte, 64<<10)
	var off int64
	for {
		n, err := src.ReadAt(buf, off)
		if n > 0 {
			if _, werr := dst.WriteAt(buf[:n], off); werr != nil {
				return werr
			}
			off += int64(n)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrNoProgress
		}
	}
}
