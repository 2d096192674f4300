package smb2

// Access mask bits (MS-SMB2 2.2.13.1).
const (
	FileReadData         uint32 = 0x00000001
	FileListDirectory    uint32 = 0x00000001
	FileWriteData        uint32 = 0x00000002
	FileAddFile          uint32 = 0x00000002
	FileAppendData       uint32 = 0x00000004
	FileAddSubdirectory  uint32 = 0x00000004
	FileReadEA           uint32 = 0x00000008
	FileWriteEA          uint32 = 0x00000010
	FileExecute          uint32 = 0x00000020
	FileTraverse         uint32 = 0x00000020
	FileDeleteChild      uint32 = 0x00000040
	FileReadAttributes   uint32 = 0x00000080
	FileWriteAttributes  uint32 = 0x00000100
	Delete               uint32 = 0x00010000
	ReadControl          uint32 = 0x00020000
	WriteDAC             uint32 = 0x00040000
	WriteOwner           uint32 = 0x00080000
	Synchronize          uint32 = 0x00100000
	AccessSystemSecurity uint32 = 0x01000000
	MaximumAllowed       uint32 = 0x02000000
	GenericAll           uint32 = 0x10000000
	GenericExecute       uint32 = 0x20000000
	GenericWrite         uint32 = 0x40000000
	GenericRead          uint32 = 0x80000000
)

// Share access (MS-SMB2 2.2.13).
const (
	FileShareRead   uint32 = 0x1
	FileShareWrite  uint32 = 0x2
	FileShareDelete uint32 = 0x4
)

// Create dispositions (MS-SMB2 2.2.13).
const (
	FileSupersede   uint32 = 0
	FileOpen        uint32 = 1
	FileCreate      uint32 = 2
	FileOpenIf      uint32 = 3
	FileOverwrite   uint32 = 4
	FileOverwriteIf uint32 = 5
)

// Create options (MS-SMB2 2.2.13).
const (
	FileDirectoryFile           uint32 = 0x00000001
	FileWriteThrough            uint32 = 0x00000002
	FileSequentialOnly          uint32 = 0x00000004
	FileNoIntermediateBuffering uint32 = 0x00000008
	FileNonDirectoryFile        uint32 = 0x00000040
	FileCreateTreeConnection    uint32 = 0x00000080
	FileNoEAKnowledge           uint32 = 0x00000200
	FileRandomAccess            uint32 = 0x00000800
	FileDeleteOnClose           uint32 = 0x00001000
	FileOpenByFileID            uint32 = 0x00002000
	FileOpenForBackupIntent     uint32 = 0x00004000
	FileReserveOpfilter         uint32 = 0x00100000
	FileOpenReparsePoint        uint32 = 0x00200000
	// CreateOptionsReserved are the bits no option names: a request
	// with one set is invalid.
	CreateOptionsReserved uint32 = 0xFF000000
)

// Impersonation levels (MS-SMB2 2.2.13).
const (
	ImpersonationAnonymous      uint32 = 0
	ImpersonationIdentification uint32 = 1
	ImpersonationImpersonation  uint32 = 2
	ImpersonationDelegate       uint32 = 3
)

// Oplock levels (MS-SMB2 2.2.13).
const (
	OplockLevelNone      uint8 = 0x00
	OplockLevelII        uint8 = 0x01
	OplockLevelExclusive uint8 = 0x08
	OplockLevelBatch     uint8 = 0x09
	OplockLevelLease     uint8 = 0xFF
)

// Create context names (MS-SMB2 2.2.13.2).
const (
	CreateEABuffer             = "ExtA"
	CreateSDBuffer             = "SecD"
	CreateDurableHandleRequest = "DHnQ"
	CreateDurableReconnect     = "DHnC"
	CreateAllocationSize       = "AlSi"
	CreateQueryMaximalAccess   = "MxAc"
	CreateTimewarpToken        = "TWrp"
	CreateQueryOnDiskID        = "QFid"
	CreateRequestLease         = "RqLs"
	CreateDurableHandleV2      = "DH2Q"
	CreateDurableReconnectV2   = "DH2C"
	// CreateAppInstanceID is SMB2_CREATE_APP_INSTANCE_ID (2.2.13.2.13):
	// the GUID 45BCA66A-EFA7-F74A-9008-FA462E144D74 as its wire bytes.
	CreateAppInstanceID = "\x45\xBC\xA6\x6A\xEF\xA7\xF7\x4A\x90\x08\xFA\x46\x2E\x14\x4D\x74"
)

// DecodeAppInstanceID reads the AppInstanceId of an
// SMB2_CREATE_APP_INSTANCE_ID context's data (MS-SMB2 2.2.13.2.13:
// StructureSize 20, Reserved, AppInstanceId).
func DecodeAppInstanceID(d []byte) ([16]byte, error) {
	var id [16]byte
	if len(d) < 20 || le.Uint16(d) != 20 {
		return id, malformed("app instance id")
	}
	copy(id[:], d[4:20])
	return id, nil
}

// CreateContext is one create context (MS-SMB2 2.2.13.2).
type CreateContext struct {
	Name string
	Data []byte
}

// maxCreateContexts bounds the contexts of one CREATE.
const maxCreateContexts = 64

// decodeCreateContexts reads the chain at msg[off:off+n].
func decodeCreateContexts(msg []byte, off, n uint32) ([]CreateContext, error) {
	b, err := buffer(msg, off, n)
	if err != nil || b == nil {
		return nil, err
	}
	var out []CreateContext
	for {
		if len(out) == maxCreateContexts {
			return nil, malformed("too many create contexts")
		}
		if len(b) < 16 {
			return nil, malformed("create context header")
		}
		next := le.Uint32(b)
		no, nl := uint32(le.Uint16(b[4:])), uint32(le.Uint16(b[6:]))
		do, dl := uint32(le.Uint16(b[10:])), le.Uint32(b[12:])
		end := uint32(len(b))
		if next != 0 {
			if next%8 != 0 || next > end {
				return nil, malformed("create context next")
			}
			end = next
		}
		// A name is at least 4 bytes; Windows refuses a shorter one with
		// INVALID_PARAMETER (smbtorture create.blob).
		if uint64(no)+uint64(nl) > uint64(end) || no < 16 || nl < 4 {
			return nil, malformed("create context name")
		}
		if nl < 4 {
			// Every context name is at least 4 bytes (MS-SMB2 2.2.13.2);
			// Windows refuses a shorter one.
			return nil, malformed("create context name shorter than 4 bytes")
		}
		if dl > 0 && (uint64(do)+uint64(dl) > uint64(end) || do < 16) {
			return nil, malformed("create context data")
		}
		c := CreateContext{Name: string(b[no : no+nl])}
		if dl > 0 {
			c.Data = b[do : do+dl]
		}
		out = append(out, c)
		if next == 0 {
			return out, nil
		}
		b = b[next:]
	}
}

func createContextsSize(ctxs []CreateContext) int {
	n := 0
	for i, c := range ctxs {
		sz := 16 + (len(c.Name)+7)&^7 + len(c.Data)
		if i < len(ctxs)-1 {
			sz = (sz + 7) &^ 7
		}
		n += sz
	}
	return n
}

func putCreateContexts(b []byte, ctxs []CreateContext) {
	p := 0
	for i, c := range ctxs {
		nameEnd := 16 + (len(c.Name)+7)&^7
		sz := nameEnd + len(c.Data)
		if i < len(ctxs)-1 {
			sz = (sz + 7) &^ 7
			le.PutUint32(b[p:], uint32(sz))
		} else {
			le.PutUint32(b[p:], 0)
		}
		clear(b[p+4 : p+sz])
		le.PutUint16(b[p+4:], 16)
		le.PutUint16(b[p+6:], uint16(len(c.Name)))
		if len(c.Data) > 0 {
			le.PutUint16(b[p+10:], uint16(nameEnd))
		}
		le.PutUint32(b[p+12:], uint32(len(c.Data)))
		copy(b[p+16:], c.Name)
		copy(b[p+nameEnd:], c.Data)
		p += sz
	}
}

// CreateRequest is MS-SMB2 2.2.13.
type CreateRequest struct {
	SecurityFlags        uint8
	RequestedOplockLevel uint8
	ImpersonationLevel   uint32
	DesiredAccess        uint32
	FileAttributes       uint32
	ShareAccess          uint32
	CreateDisposition    uint32
	CreateOptions        uint32
	Name                 string
	CreateContexts       []CreateContext
}

// Decode reads the request body from msg.
func (r *CreateRequest) Decode(msg []byte) error {
	b, err := body(msg, 56)
	if err != nil {
		return err
	}
	r.SecurityFlags = b[2]
	r.RequestedOplockLevel = b[3]
	r.ImpersonationLevel = le.Uint32(b[4:])
	r.DesiredAccess = le.Uint32(b[24:])
	r.FileAttributes = le.Uint32(b[28:])
	r.ShareAccess = le.Uint32(b[32:])
	r.CreateDisposition = le.Uint32(b[36:])
	r.CreateOptions = le.Uint32(b[40:])
	no, nl := uint32(le.Uint16(b[44:])), uint32(le.Uint16(b[46:]))
	if nl > 0 && no < HeaderSize+56 {
		return malformed("create name offset")
	}
	if r.Name, err = decodeName(msg, no, nl); err != nil {
		return err
	}
	r.CreateContexts, err = decodeCreateContexts(msg, le.Uint32(b[48:]), le.Uint32(b[52:]))
	return err
}

// CreateResponse is MS-SMB2 2.2.14.
type CreateResponse struct {
	OplockLevel    uint8
	Flags          uint8
	CreateAction   uint32
	CreationTime   uint64
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	AllocationSize uint64
	EndofFile      uint64
	FileAttributes uint32
	FileId         FileID
	CreateContexts []CreateContext
}

// Size is the encoded body length.
func (r *CreateResponse) Size() int {
	if len(r.CreateContexts) == 0 {
		return 89
	}
	return 88 + createContextsSize(r.CreateContexts)
}

// Encode writes the body.
func (r *CreateResponse) Encode(b []byte) {
	clear(b[:88])
	le.PutUint16(b, 89)
	b[2], b[3] = r.OplockLevel, r.Flags
	le.PutUint32(b[4:], r.CreateAction)
	le.PutUint64(b[8:], r.CreationTime)
	le.PutUint64(b[16:], r.LastAccessTime)
	le.PutUint64(b[24:], r.LastWriteTime)
	le.PutUint64(b[32:], r.ChangeTime)
	le.PutUint64(b[40:], r.AllocationSize)
	le.PutUint64(b[48:], r.EndofFile)
	le.PutUint32(b[56:], r.FileAttributes)
	putFileID(b[64:], r.FileId)
	if len(r.CreateContexts) == 0 {
		b[88] = 0
		return
	}
	le.PutUint32(b[80:], HeaderSize+88)
	le.PutUint32(b[84:], uint32(createContextsSize(r.CreateContexts)))
	putCreateContexts(b[88:], r.CreateContexts)
}

// MxAcResponse is the SMB2_CREATE_QUERY_MAXIMAL_ACCESS response
// (MS-SMB2 2.2.14.2.5).
type MxAcResponse struct {
	QueryStatus   Status
	MaximalAccess uint32
}

// Context encodes m as a create context.
func (m MxAcResponse) Context() CreateContext {
	d := make([]byte, 8)
	le.PutUint32(d, uint32(m.QueryStatus))
	le.PutUint32(d[4:], m.MaximalAccess)
	return CreateContext{Name: CreateQueryMaximalAccess, Data: d}
}

// QFidResponse is the SMB2_CREATE_QUERY_ON_DISK_ID response
// (MS-SMB2 2.2.14.2.9).
type QFidResponse struct {
	DiskFileID [8]byte
	VolumeID   [8]byte
}

// Context encodes q as a create context.
func (q QFidResponse) Context() CreateContext {
	d := make([]byte, 32)
	copy(d, q.DiskFileID[:])
	copy(d[8:], q.VolumeID[:])
	return CreateContext{Name: CreateQueryOnDiskID, Data: d}
}

// Close flags (MS-SMB2 2.2.15).
const CloseFlagPostQueryAttrib uint16 = 0x0001

// CloseRequest is MS-SMB2 2.2.15.
type CloseRequest struct {
	Flags  uint16
	FileId FileID
}

// Decode reads the request body from msg.
func (r *CloseRequest) Decode(msg []byte) error {
	b, err := body(msg, 24)
	if err != nil {
		return err
	}
	r.Flags = le.Uint16(b[2:])
	r.FileId = getFileID(b[8:])
	return nil
}

// CloseResponse is MS-SMB2 2.2.16.
type CloseResponse struct {
	Flags          uint16
	CreationTime   uint64
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	AllocationSize uint64
	EndofFile      uint64
	FileAttributes uint32
}

// Size is the encoded body length.
func (r *CloseResponse) Size() int { return 60 }

// Encode writes the body.
func (r *CloseResponse) Encode(b []byte) {
	clear(b[:60])
	le.PutUint16(b, 60)
	le.PutUint16(b[2:], r.Flags)
	le.PutUint64(b[8:], r.CreationTime)
	le.PutUint64(b[16:], r.LastAccessTime)
	le.PutUint64(b[24:], r.LastWriteTime)
	le.PutUint64(b[32:], r.ChangeTime)
	le.PutUint64(b[40:], r.AllocationSize)
	le.PutUint64(b[48:], r.EndofFile)
	le.PutUint32(b[56:], r.FileAttributes)
}

// FlushRequest is MS-SMB2 2.2.17.
type FlushRequest struct{ FileId FileID }

// Decode reads the request body from msg.
func (r *FlushRequest) Decode(msg []byte) error {
	b, err := body(msg, 24)
	if err != nil {
		return err
	}
	r.FileId = getFileID(b[8:])
	return nil
}

// ReadRequest is MS-SMB2 2.2.19.
type ReadRequest struct {
	Flags        uint8
	Length       uint32
	Offset       uint64
	FileId       FileID
	MinimumCount uint32
	Channel      uint32
}

// Decode reads the request body from msg.
func (r *ReadRequest) Decode(msg []byte) error {
	b, err := body(msg, 48)
	if err != nil {
		return err
	}
	r.Flags = b[3]
	r.Length = le.Uint32(b[4:])
	r.Offset = le.Uint64(b[8:])
	r.FileId = getFileID(b[16:])
	r.MinimumCount = le.Uint32(b[32:])
	r.Channel = le.Uint32(b[36:])
	return nil
}

// ReadResponse is MS-SMB2 2.2.20: the fixed part only. The server writes
// DataLength bytes of payload right after it (DataOffset 0x50), without
// copying them into the body.
type ReadResponse struct {
	DataLength    uint32
	DataRemaining uint32
}

// Size is the length of the fixed part.
func (r *ReadResponse) Size() int { return 16 }

// Encode writes the fixed part.
func (r *ReadResponse) Encode(b []byte) {
	le.PutUint16(b, 17)
	b[2], b[3] = HeaderSize+16, 0
	le.PutUint32(b[4:], r.DataLength)
	le.PutUint32(b[8:], r.DataRemaining)
	le.PutUint32(b[12:], 0)
}

// WriteRequest is MS-SMB2 2.2.21. Data aliases the message.
type WriteRequest struct {
	Offset  uint64
	FileId  FileID
	Channel uint32
	Flags   uint32
	Data    []byte
}

// Decode reads the request body from msg.
func (r *WriteRequest) Decode(msg []byte) error {
	b, err := body(msg, 48)
	if err != nil {
		return err
	}
	off := uint32(le.Uint16(b[2:]))
	n := le.Uint32(b[4:])
	r.Offset = le.Uint64(b[8:])
	r.FileId = getFileID(b[16:])
	r.Channel = le.Uint32(b[32:])
	r.Flags = le.Uint32(b[44:])
	if n == 0 {
		r.Data = nil
		return nil
	}
	r.Data, err = buffer(msg, off, n)
	return err
}

// WriteResponse is MS-SMB2 2.2.22.
type WriteResponse struct{ Count uint32 }

// Size is the encoded body length.
func (r *WriteResponse) Size() int { return 16 }

// Encode writes the body.
func (r *WriteResponse) Encode(b []byte) {
	clear(b[:16])
	le.PutUint16(b, 17)
	le.PutUint32(b[4:], r.Count)
}

// Lock flags (MS-SMB2 2.2.26.1).
const (
	LockFlagShared          uint32 = 0x01
	LockFlagExclusive       uint32 = 0x02
	LockFlagUnlock          uint32 = 0x04
	LockFlagFailImmediately uint32 = 0x10
)

// LockElement is MS-SMB2 2.2.26.1.
type LockElement struct {
	Offset, Length uint64
	Flags          uint32
}

// LockRequest is MS-SMB2 2.2.26.
type LockRequest struct {
	LockSequence uint32
	FileId       FileID
	Locks        []LockElement
}

// Decode reads the request body from msg.
func (r *LockRequest) Decode(msg []byte) error {
	b, err := body(msg, 48)
	if err != nil {
		return err
	}
	n := int(le.Uint16(b[2:]))
	if n == 0 || len(b) < 24+24*n {
		return malformed("lock count")
	}
	r.LockSequence = le.Uint32(b[4:])
	r.FileId = getFileID(b[8:])
	r.Locks = make([]LockElement, n)
	for i := range r.Locks {
		e := b[24+24*i:]
		r.Locks[i] = LockElement{Offset: le.Uint64(e), Length: le.Uint64(e[8:]), Flags: le.Uint32(e[16:])}
	}
	return nil
}

// IOCTL flags and FSCTL codes (MS-SMB2 2.2.31, MS-FSCC 2.3).
const (
	IoctlIsFsctl uint32 = 0x00000001

	FsctlDfsGetReferrals           uint32 = 0x00060194
	FsctlDfsGetReferralsEx         uint32 = 0x000601B0
	FsctlPipePeek                  uint32 = 0x0011400C
	FsctlPipeWait                  uint32 = 0x00110018
	FsctlPipeTransceive            uint32 = 0x0011C017
	FsctlSrvCopychunk              uint32 = 0x001440F2
	FsctlSrvEnumerateSnapshots     uint32 = 0x00144064
	FsctlSrvRequestResumeKey       uint32 = 0x00140078
	FsctlSrvReadHash               uint32 = 0x001441BB
	FsctlSrvCopychunkWrite         uint32 = 0x001480F2
	FsctlLmrRequestResiliency      uint32 = 0x001401D4
	FsctlQueryNetworkInterfaceInfo uint32 = 0x001401FC
	FsctlSetReparsePoint           uint32 = 0x000900A4
	FsctlGetReparsePoint           uint32 = 0x000900A8
	FsctlValidateNegotiateInfo     uint32 = 0x00140204
	FsctlSetSparse                 uint32 = 0x000900C4
	FsctlSetZeroData               uint32 = 0x000980C8
	FsctlQueryAllocatedRanges      uint32 = 0x000940CF
	FsctlCreateOrGetObjectID       uint32 = 0x000900C0
	FsctlGetObjectID               uint32 = 0x0009009C
	FsctlFileLevelTrim             uint32 = 0x00098208
	FsctlGetIntegrityInformation   uint32 = 0x0009027C
	FsctlDuplicateExtentsToFile    uint32 = 0x00098344
)

// IoctlRequest is MS-SMB2 2.2.31. Input aliases the message.
type IoctlRequest struct {
	CtlCode           uint32
	FileId            FileID
	Input             []byte
	MaxInputResponse  uint32
	MaxOutputResponse uint32
	Flags             uint32
}

// Decode reads the request body from msg.
func (r *IoctlRequest) Decode(msg []byte) error {
	b, err := body(msg, 56)
	if err != nil {
		return err
	}
	r.CtlCode = le.Uint32(b[4:])
	r.FileId = getFileID(b[8:])
	r.Input, err = buffer(msg, le.Uint32(b[24:]), le.Uint32(b[28:]))
	if err != nil {
		return err
	}
	r.MaxInputResponse = le.Uint32(b[32:])
	r.MaxOutputResponse = le.Uint32(b[44:])
	r.Flags = le.Uint32(b[48:])
	return nil
}

// IoctlResponse is MS-SMB2 2.2.32.
type IoctlResponse struct {
	CtlCode uint32
	FileId  FileID
	Output  []byte
}

// Size is the encoded body length.
func (r *IoctlResponse) Size() int { return 48 + len(r.Output) }

// Encode writes the body.
func (r *IoctlResponse) Encode(b []byte) {
	clear(b[:48])
	le.PutUint16(b, 49)
	le.PutUint32(b[4:], r.CtlCode)
	putFileID(b[8:], r.FileId)
	le.PutUint32(b[24:], HeaderSize+48)
	le.PutUint32(b[32:], HeaderSize+48)
	le.PutUint32(b[36:], uint32(len(r.Output)))
	copy(b[48:], r.Output)
}

// ValidateNegotiateInfoRequest is MS-SMB2 2.2.31.4.
type ValidateNegotiateInfoRequest struct {
	Capabilities uint32
	Guid         [16]byte
	SecurityMode uint16
	Dialects     []uint16
}

// Decode reads the IOCTL input.
func (v *ValidateNegotiateInfoRequest) Decode(in []byte) error {
	if len(in) < 24 {
		return malformed("validate negotiate")
	}
	v.Capabilities = le.Uint32(in)
	copy(v.Guid[:], in[4:20])
	v.SecurityMode = le.Uint16(in[20:])
	n := int(le.Uint16(in[22:]))
	if n > maxDialects || len(in) < 24+2*n {
		return malformed("validate negotiate dialects")
	}
	v.Dialects = make([]uint16, n)
	for i := range v.Dialects {
		v.Dialects[i] = le.Uint16(in[24+2*i:])
	}
	return nil
}

// ValidateNegotiateInfoResponse is MS-SMB2 2.2.32.6.
type ValidateNegotiateInfoResponse struct {
	Capabilities uint32
	Guid         [16]byte
	SecurityMode uint16
	Dialect      uint16
}

// Size is the encoded length.
func (v *ValidateNegotiateInfoResponse) Size() int { return 24 }

// Encode writes the IOCTL output.
func (v *ValidateNegotiateInfoResponse) Encode(b []byte) {
	le.PutUint32(b, v.Capabilities)
	copy(b[4:20], v.Guid[:])
	le.PutUint16(b[20:], v.SecurityMode)
	le.PutUint16(b[22:], v.Dialect)
}

// QUERY_DIRECTORY flags (MS-SMB2 2.2.33).
const (
	QueryDirRestartScans      uint8 = 0x01
	QueryDirReturnSingleEntry uint8 = 0x02
	QueryDirIndexSpecified    uint8 = 0x04
	QueryDirReopen            uint8 = 0x10
)

// QueryDirectoryRequest is MS-SMB2 2.2.33.
type QueryDirectoryRequest struct {
	FileInformationClass uint8
	Flags                uint8
	FileIndex            uint32
	FileId               FileID
	FileName             string
	OutputBufferLength   uint32
}

// Decode reads the request body from msg.
func (r *QueryDirectoryRequest) Decode(msg []byte) error {
	b, err := body(msg, 32)
	if err != nil {
		return err
	}
	r.FileInformationClass, r.Flags = b[2], b[3]
	r.FileIndex = le.Uint32(b[4:])
	r.FileId = getFileID(b[8:])
	r.FileName, err = decodeName(msg, uint32(le.Uint16(b[24:])), uint32(le.Uint16(b[26:])))
	r.OutputBufferLength = le.Uint32(b[28:])
	return err
}

// BufferResponse is the layout QUERY_DIRECTORY, QUERY_INFO and
// CHANGE_NOTIFY responses share (MS-SMB2 2.2.34, 2.2.38, 2.2.36):
// StructureSize 9, a 16-bit offset, a 32-bit length, the buffer.
type BufferResponse struct{ Buffer []byte }

// Size is the encoded body length.
func (r *BufferResponse) Size() int { return 8 + len(r.Buffer) }

// Encode writes the body.
func (r *BufferResponse) Encode(b []byte) {
	le.PutUint16(b, 9)
	le.PutUint16(b[2:], HeaderSize+8)
	le.PutUint32(b[4:], uint32(len(r.Buffer)))
	copy(b[8:], r.Buffer)
}

// QueryDirectoryResponse is MS-SMB2 2.2.34.
type QueryDirectoryResponse = BufferResponse

// ChangeNotifyRequest is MS-SMB2 2.2.35.
type ChangeNotifyRequest struct {
	Flags              uint16
	OutputBufferLength uint32
	FileId             FileID
	CompletionFilter   uint32
}

// Decode reads the request body from msg.
func (r *ChangeNotifyRequest) Decode(msg []byte) error {
	b, err := body(msg, 32)
	if err != nil {
		return err
	}
	r.Flags = le.Uint16(b[2:])
	r.OutputBufferLength = le.Uint32(b[4:])
	r.FileId = getFileID(b[8:])
	r.CompletionFilter = le.Uint32(b[24:])
	return nil
}

// Info types (MS-SMB2 2.2.37).
const (
	InfoFile       uint8 = 0x01
	InfoFilesystem uint8 = 0x02
	InfoSecurity   uint8 = 0x03
	InfoQuota      uint8 = 0x04
)

// QueryInfoRequest is MS-SMB2 2.2.37.
type QueryInfoRequest struct {
	InfoType              uint8
	FileInfoClass         uint8
	OutputBufferLength    uint32
	Input                 []byte
	AdditionalInformation uint32
	Flags                 uint32
	FileId                FileID
}

// Decode reads the request body from msg.
func (r *QueryInfoRequest) Decode(msg []byte) error {
	b, err := body(msg, 40)
	if err != nil {
		return err
	}
	r.InfoType, r.FileInfoClass = b[2], b[3]
	r.OutputBufferLength = le.Uint32(b[4:])
	r.Input, err = buffer(msg, uint32(le.Uint16(b[8:])), le.Uint32(b[12:]))
	r.AdditionalInformation = le.Uint32(b[16:])
	r.Flags = le.Uint32(b[20:])
	r.FileId = getFileID(b[24:])
	return err
}

// QueryInfoResponse is MS-SMB2 2.2.38.
type QueryInfoResponse = BufferResponse

// SetInfoRequest is MS-SMB2 2.2.39. Buffer aliases the message.
type SetInfoRequest struct {
	InfoType              uint8
	FileInfoClass         uint8
	Buffer                []byte
	AdditionalInformation uint32
	FileId                FileID
}

// Decode reads the request body from msg.
func (r *SetInfoRequest) Decode(msg []byte) error {
	b, err := body(msg, 32)
	if err != nil {
		return err
	}
	r.InfoType, r.FileInfoClass = b[2], b[3]
	n := le.Uint32(b[4:])
	r.Buffer, err = buffer(msg, uint32(le.Uint16(b[8:])), n)
	r.AdditionalInformation = le.Uint32(b[12:])
	r.FileId = getFileID(b[16:])
	return err
}
