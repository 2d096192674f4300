package smb

import (
	"context"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// variableFileInfo and variableFSInfo give the fixed part of the classes
// that end in a variable-length name: a buffer that holds the fixed part
// gets as much as fits and STATUS_BUFFER_OVERFLOW; a smaller one, and any
// short buffer for the other classes, STATUS_INFO_LENGTH_MISMATCH
// (MS-SMB2 3.3.5.20.1, 3.3.5.20.2). The fixed part is the size of the C
// structure Windows declares, one name character and padding included, as
// Windows measures it.
var variableFileInfo = map[uint8]uint32{
	fscc.FileAllInformation:            104,
	fscc.FileNameInformation:           8,
	fscc.FileNormalizedNameInformation: 8,
	fscc.FileStreamInformation:         32,
	fscc.FileAlternateNameInformation:  8,
}

var variableFSInfo = map[uint8]uint32{
	fscc.FileFsVolumeInformation:    24,
	fscc.FileFsAttributeInformation: 16,
}

// queryInfo answers QUERY_INFO (MS-SMB2 3.3.5.20).
func (s *Server) queryInfo(ctx context.Context, req *Request) *Response {
	var r smb2.QueryInfoRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if r.OutputBufferLength > req.conn.maxIO() || !req.checkCredits(r.OutputBufferLength) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	var out []byte
	switch r.InfoType {
	case smb2.InfoFile:
		if r.FileInfoClass == fscc.FileNormalizedNameInformation && req.Dialect() < smb2.Dialect311 {
			// MS-SMB2 3.3.5.20.1: 3.1.1 only.
			st = smb2.StatusNotSupported
			break
		}
		out, st = s.fileInfo(ctx, o, r.FileInfoClass)
	case smb2.InfoFilesystem:
		out, st = s.fsInfo(ctx, o, r.FileInfoClass)
	case smb2.InfoSecurity:
		out, st = s.querySecurity(ctx, o, r.AdditionalInformation) // security.go
	case smb2.InfoQuota:
		st = smb2.StatusNotSupported
	default:
		st = smb2.StatusInvalidParameter
	}
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if uint32(len(out)) > r.OutputBufferLength {
		s.logger().Debug("query info: buffer too small", "type", r.InfoType, "class", r.FileInfoClass,
			"have", r.OutputBufferLength, "need", len(out))
		if r.InfoType == smb2.InfoSecurity {
			// MS-SMB2 3.3.5.20.3: tell the client the size it needs.
			need := make([]byte, 4)
			putUint32(need, uint32(len(out)))
			return &Response{Status: smb2.StatusBufferTooSmall, Body: encodeBody(&smb2.ErrorResponse{ErrorData: need})}
		}
		var fixed uint32
		var variable bool
		switch r.InfoType {
		case smb2.InfoFile:
			fixed, variable = variableFileInfo[r.FileInfoClass]
		case smb2.InfoFilesystem:
			fixed, variable = variableFSInfo[r.FileInfoClass]
		}
		if !variable || r.OutputBufferLength < fixed {
			return statusResponse(smb2.StatusInfoLengthMismatch)
		}
		return &Response{
			Status: smb2.StatusBufferOverflow,
			Body:   encodeBody(&smb2.QueryInfoResponse{Buffer: out[:r.OutputBufferLength]}),
		}
	}
	return ok(&smb2.QueryInfoResponse{Buffer: out})
}

func putUint32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// fileMeta describes the open's file for the file information classes.
func (o *Open) fileMeta(ctx context.Context) (fscc.FileMeta, smb2.Status) {
	if o.pipe != nil {
		return fscc.FileMeta{FileAttributes: fscc.FileAttributeNormal, NumberOfLinks: 1, AccessFlags: o.access}, smb2.StatusSuccess
	}
	fi, err := o.stat(ctx)
	if err != nil {
		return fscc.FileMeta{}, statusOf(err)
	}
	m := metaOf(fi)
	m.attrs = o.hiddenAttrs(fi, m.attrs) // hide files (share_policy.go)
	if o.stream != "" {
		// A named stream shares its file's times, attributes and file id
		// (MS-FSA 2.1.5.12: they are Open.File's); sizes are the stream's.
		o.mu.Lock()
		name := o.name
		o.mu.Unlock()
		if bfi, err := o.share.cfg.FS.Stat(ctx, name); err == nil {
			b := metaOf(bfi)
			m.creation, m.access, m.write, m.change = b.creation, b.access, b.write, b.change
			m.attrs, m.id, m.links = b.attrs&^fscc.FileAttributeDirectory, b.id, b.links
			if m.attrs == 0 {
				m.attrs = fscc.FileAttributeNormal
			}
		}
	}
	if sp := o.sparseAttr(ctx); sp != 0 {
		m.attrs = m.attrs&^fscc.FileAttributeNormal | sp
	}
	// Lock order: share, then open.
	o.share.mu.Lock()
	deletePending := o.node != nil && o.share.store.IsDeletePendingLocked(o.node)
	if o.node != nil && !m.isDir {
		m.alloc = max(m.alloc, o.share.store.AllocLocked(o.node)) // info_alloc.go
	}
	o.share.mu.Unlock()
	if deletePending && m.links > 0 {
		// The link being deleted no longer counts (MS-FSA 2.1.5.12.27:
		// links whose IsDeleted is FALSE).
		m.links--
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	name := `\`
	if o.name != "." {
		name = `\` + toBackslash(o.name)
	}
	if o.stream != "" {
		name += ":" + o.stream
	}
	return fscc.FileMeta{
		CreationTime:      m.creation,
		LastAccessTime:    m.access,
		LastWriteTime:     m.write,
		ChangeTime:        m.change,
		AllocationSize:    m.alloc,
		EndOfFile:         m.size,
		FileAttributes:    m.attrs,
		NumberOfLinks:     m.links,
		DeletePending:     deletePending,
		Directory:         m.isDir,
		IndexNumber:       m.id,
		AccessFlags:       o.access,
		CurrentByteOffset: o.position,
		Mode:              o.mode,
		Name:              name,
	}, smb2.StatusSuccess
}

func toBackslash(p string) string {
	b := []byte(p)
	for i, c := range b {
		if c == '/' {
			b[i] = '\\'
		}
	}
	return string(b)
}

func (s *Server) fileInfo(ctx context.Context, o *Open, class uint8) ([]byte, smb2.Status) {
	switch class {
	case fscc.FileBasicInformation, fscc.FileAllInformation, fscc.FileNetworkOpenInformation,
		fscc.FileAttributeTagInformation:
		// MS-FSA 2.1.5.11: these classes need FILE_READ_ATTRIBUTES.
		if o.access&smb2.FileReadAttributes == 0 {
			return nil, smb2.StatusAccessDenied
		}
	case fscc.FileFullEaInformation:
		if o.access&smb2.FileReadEA == 0 {
			return nil, smb2.StatusAccessDenied
		}
		return o.queryEAs(ctx)
	}
	if class == fscc.FileNameInformation {
		// MS-SMB2 3.3.5.20.1: not available over SMB2; Windows says so.
		return nil, smb2.StatusInvalidInfoClass
	}
	m, st := o.fileMeta(ctx)
	if st != smb2.StatusSuccess {
		return nil, st
	}
	m.VolumeSerialNumber = s.volumeID()
	if class == fscc.FileEaInformation || class == fscc.FileAllInformation {
		if list, err := o.eas(ctx); err == nil {
			m.EaSize = fscc.EaSize(list)
		}
	}
	switch class {
	case fscc.FileNormalizedNameInformation:
		m.Name = m.Name[1:] // relative to the share root, without the leading backslash
	case fscc.FileAlternateNameInformation:
		dir, base := splitParent(o.name)
		if o.name == "." {
			return nil, smb2.StatusObjectNameNotFound
		}
		// A valid 8.3 name is its own (name_short.go).
		m.Name = o.share.shortName(ctx, dir, base)
		if m.Name == "" {
			return nil, smb2.StatusObjectNameNotFound
		}
		class = fscc.FileNameInformation // same layout (MS-FSCC 2.4.5)
	}
	if class == fscc.FileStreamInformation {
		fi, err := o.stat(ctx)
		isDir := err == nil && fi.IsDir() && o.stream == ""
		var list []fscc.StreamEntry
		for _, si := range o.streamList(ctx, isDir, m.EndOfFile, m.AllocationSize) {
			list = append(list, fscc.StreamEntry{Name: si.Name, Size: si.Size,
				AllocationSize: (si.Size + allocUnit - 1) / allocUnit * allocUnit})
		}
		return fscc.EncodeStreamInformation(list), smb2.StatusSuccess
	}
	out, err := fscc.EncodeFileInfo(class, &m)
	if err != nil {
		return nil, smb2.StatusInvalidInfoClass
	}
	return out, smb2.StatusSuccess
}

func (s *Server) fsInfo(ctx context.Context, o *Open, class uint8) ([]byte, smb2.Status) {
	m := fscc.FSMeta{
		VolumeCreationTime: fscc.FileTime(s.start),
		VolumeSerialNumber: uint32(s.volumeID()),
		VolumeLabel:        o.tree.Share.Name,
		BytesPerSector:     512,
		SectorsPerUnit:     allocUnit / 512,
		FileSystemName:     "NTFS",
		// Case-preserving; case-sensitive search reported as NTFS and
		// Samba report it; streams and EAs when the backend has them.
		Attributes:         fscc.FileCaseSensitiveSearch | fscc.FileCasePreservedNames | fscc.FileUnicodeOnDisk | fscc.FilePersistentACLs,
		MaxComponentLength: 255,
		TotalBytes:         1 << 40,
		FreeBytes:          1 << 39,
	}
	copy(m.ObjectID[:], s.guid[:])
	if _, ok := vfs.As[vfs.Streamer](o.share.cfg.FS); ok {
		m.Attributes |= fscc.FileNamedStreams
	}
	if _, ok := vfs.As[vfs.EAer](o.share.cfg.FS); ok {
		m.Attributes |= fscc.FileSupportsExtendedAttributes
	}
	if _, ok := o.share.sparser(); ok {
		m.Attributes |= fscc.FileSupportsSparseFiles
	}
	if sf, ok := vfs.As[vfs.StatFSer](o.share.cfg.FS); ok {
		if st, err := sf.StatFS(ctx); err == nil {
			m.TotalBytes, m.FreeBytes = st.TotalBytes, st.FreeBytes
		}
	}
	out, err := fscc.EncodeFSInfo(class, &m)
	if err != nil {
		return nil, smb2.StatusInvalidInfoClass
	}
	return out, smb2.StatusSuccess
}

// setInfo applies SET_INFO (MS-SMB2 3.3.5.21).
func (s *Server) setInfo(ctx context.Context, req *Request) *Response {
	var r smb2.SetInfoRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.openExclusive(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	switch r.InfoType {
	case smb2.InfoFile:
		st = s.setFileInfo(ctx, o, r.FileInfoClass, r.Buffer)
	case smb2.InfoSecurity:
		st = s.setSecurity(ctx, o, r.AdditionalInformation, r.Buffer) // security.go
	case smb2.InfoFilesystem, smb2.InfoQuota:
		st = smb2.StatusNotSupported
	default:
		st = smb2.StatusInvalidParameter
	}
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	o.noteDirChange(r.InfoType, r.FileInfoClass)         // directory leases (lease_dir.go)
	o.noteSetInfo(r.InfoType, r.FileInfoClass, r.Buffer) // CHANGE_NOTIFY (notify_modify.go)
	return ok(smb2.SetInfoResponse{})
}

func (s *Server) setFileInfo(ctx context.Context, o *Open, class uint8, b []byte) smb2.Status {
	if o.pipe != nil {
		return smb2.StatusNotSupported
	}
	switch class {
	case fscc.FileBasicInformation:
		bi, err := fscc.DecodeBasicInformation(b)
		if err != nil || len(b) < 40 {
			return smb2.StatusInfoLengthMismatch
		}
		if o.access&smb2.FileWriteAttributes == 0 || o.tree.readOnly {
			return smb2.StatusAccessDenied
		}
		return o.setBasicInfo(ctx, bi)
	case fscc.FileEndOfFileInformation, fscc.FileAllocationInformation:
		n, err := fscc.DecodeInt64(b)
		if err != nil {
			return smb2.StatusInfoLengthMismatch
		}
		if class == fscc.FileAllocationInformation {
			// Allocation below the end of file truncates (MS-FSA 2.1.5.15.1).
			fi, err := o.stat(ctx)
			if err != nil {
				return statusOf(err)
			}
			if n >= fi.Size() {
				o.setAlloc(n) // info_alloc.go
				// Still a change of the file: level II goes (MS-FSA
				// 2.1.5.15.1, smbtorture smb2.oplock.batch12).
				o.breakReadCaching()
				return smb2.StatusSuccess
			}
			o.setAlloc(0)
		}
		st := o.truncate(ctx, n)
		if st == smb2.StatusSuccess {
			o.updateWriteTime(ctx, false) // at once (io_writetime.go)
		}
		return st
	case fscc.FileDispositionInformation:
		if len(b) < 1 {
			return smb2.StatusInfoLengthMismatch
		}
		return o.setDeletePending(ctx, b[0] != 0)
	case fscc.FileDispositionInformationEx:
		flags, err := fscc.DecodeUint32(b)
		if err != nil {
			return smb2.StatusInfoLengthMismatch
		}
		return o.setDeletePending(ctx, flags&0x1 != 0)
	case fscc.FileRenameInformation:
		ri, err := fscc.DecodeRenameInformation(b)
		if err != nil {
			return smb2.StatusInvalidParameter
		}
		if ri.RootDirectory != 0 {
			return smb2.StatusInvalidParameter
		}
		return o.rename(ctx, ri.FileName, ri.ReplaceIfExists)
	case fscc.FilePositionInformation:
		n, err := fscc.DecodeInt64(b)
		if err != nil {
			return smb2.StatusInfoLengthMismatch
		}
		if n < 0 {
			return smb2.StatusInvalidParameter
		}
		o.mu.Lock()
		o.position = n
		o.mu.Unlock()
		return smb2.StatusSuccess
	case fscc.FileModeInformation:
		m, err := fscc.DecodeUint32(b)
		if err != nil {
			return smb2.StatusInfoLengthMismatch
		}
		// MS-FSA (FileModeInformation): only WRITE_THROUGH, SEQUENTIAL_ONLY,
		// NO_INTERMEDIATE_BUFFERING and the SYNCHRONOUS_IO ones may be
		// named, and the last three only when the open has them already
		// (a CREATE over SMB2 never gives them).
		const settable = 0x02 | 0x04
		o.mu.Lock()
		defer o.mu.Unlock()
		if m&^0x3E != 0 || m&0x38&^o.mode != 0 {
			return smb2.StatusInvalidParameter
		}
		o.mode = o.mode&^settable | m&settable
		return smb2.StatusSuccess
	case fscc.FileFullEaInformation:
		if o.access&smb2.FileWriteEA == 0 || o.tree.readOnly {
			return smb2.StatusAccessDenied
		}
		o.mu.Lock()
		name := o.name
		o.mu.Unlock()
		return setEAs(ctx, o.share.cfg.FS, name, b)
	case fscc.FileValidDataLengthInformation, fscc.FileShortNameInformation:
		return smb2.StatusSuccess
	case fscc.FileLinkInformation:
		li, err := fscc.DecodeRenameInformation(b) // the same layout (MS-FSCC 2.4.27.2)
		if err != nil {
			return smb2.StatusInfoLengthMismatch
		}
		if li.RootDirectory != 0 {
			return smb2.StatusInvalidParameter
		}
		return o.link(ctx, li.FileName, li.ReplaceIfExists) // info_link.go
	}
	return smb2.StatusInvalidInfoClass
}
