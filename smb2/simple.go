package smb2

// The commands whose bodies are a StructureSize and a reserved field
// (MS-SMB2 2.2.7, 2.2.8, 2.2.11, 2.2.12, 2.2.28, 2.2.29, 2.2.30).

// SimpleBody is the 4-byte body of LOGOFF, TREE_DISCONNECT, ECHO and CANCEL
// requests and the first three's responses: StructureSize 4, Reserved.
type SimpleBody struct{}

// Decode checks the body's StructureSize.
func (SimpleBody) Decode(msg []byte) error {
	b, err := body(msg, 4)
	if err != nil {
		return err
	}
	if le.Uint16(b) != 4 {
		return malformed("structure size")
	}
	return nil
}

// Size is the encoded body length.
func (SimpleBody) Size() int { return 4 }

// Encode writes the body.
func (SimpleBody) Encode(b []byte) {
	le.PutUint16(b, 4)
	le.PutUint16(b[2:], 0)
}

// Aliases name the simple bodies after their commands.
type (
	LogoffRequest          = SimpleBody
	LogoffResponse         = SimpleBody
	TreeDisconnectRequest  = SimpleBody
	TreeDisconnectResponse = SimpleBody
	EchoRequest            = SimpleBody
	EchoResponse           = SimpleBody
	CancelRequest          = SimpleBody
)

// FlushResponse is MS-SMB2 2.2.18.
type FlushResponse = SimpleBody

// LockResponse is MS-SMB2 2.2.27.
type LockResponse = SimpleBody

// SetInfoResponse is MS-SMB2 2.2.40: StructureSize 2.
type SetInfoResponse struct{}

// Size is the encoded body length.
func (SetInfoResponse) Size() int { return 2 }

// Encode writes the body.
func (SetInfoResponse) Encode(b []byte) { le.PutUint16(b, 2) }

// ChangeNotifyResponse is MS-SMB2 2.2.36: FILE_NOTIFY_INFORMATION entries.
type ChangeNotifyResponse = BufferResponse

// OplockBreakBody is the OPLOCK_BREAK notification, acknowledgement and
// response (MS-SMB2 2.2.23.1, 2.2.24.1, 2.2.25.1): the same 24 bytes.
type OplockBreakBody struct {
	OplockLevel uint8
	FileId      FileID
}

// Decode reads the body.
func (o *OplockBreakBody) Decode(msg []byte) error {
	b, err := body(msg, 24)
	if err != nil {
		return err
	}
	if le.Uint16(b) != 24 {
		return malformed("oplock break structure size")
	}
	o.OplockLevel = b[2]
	o.FileId = getFileID(b[8:])
	return nil
}

// Size is the encoded body length.
func (o *OplockBreakBody) Size() int { return 24 }

// Encode writes the body.
func (o *OplockBreakBody) Encode(b []byte) {
	clear(b[:24])
	le.PutUint16(b, 24)
	b[2] = o.OplockLevel
	putFileID(b[8:], o.FileId)
}

// LeaseBreakNotification is MS-SMB2 2.2.23.2.
type LeaseBreakNotification struct {
	NewEpoch          uint16
	Flags             uint32
	LeaseKey          [16]byte
	CurrentLeaseState uint32
	NewLeaseState     uint32
}

// Size is the encoded body length.
func (n *LeaseBreakNotification) Size() int { return 44 }

// Encode writes the body.
func (n *LeaseBreakNotification) Encode(b []byte) {
	clear(b[:44])
	le.PutUint16(b, 44)
	le.PutUint16(b[2:], n.NewEpoch)
	le.PutUint32(b[4:], n.Flags)
	copy(b[8:24], n.LeaseKey[:])
	le.PutUint32(b[24:], n.CurrentLeaseState)
	le.PutUint32(b[28:], n.NewLeaseState)
}

// LeaseBreakAck is the lease break acknowledgement and its response
// (MS-SMB2 2.2.24.2, 2.2.25.2).
type LeaseBreakAck struct {
	Flags      uint32
	LeaseKey   [16]byte
	LeaseState uint32
}

// Decode reads the body.
func (a *LeaseBreakAck) Decode(msg []byte) error {
	b, err := body(msg, 36)
	if err != nil {
		return err
	}
	if le.Uint16(b) != 36 {
		return malformed("lease break structure size")
	}
	a.Flags = le.Uint32(b[4:])
	copy(a.LeaseKey[:], b[8:24])
	a.LeaseState = le.Uint32(b[24:])
	return nil
}

// Size is the encoded body length.
func (a *LeaseBreakAck) Size() int { return 36 }

// Encode writes the body.
func (a *LeaseBreakAck) Encode(b []byte) {
	clear(b[:36])
	le.PutUint16(b, 36)
	le.PutUint32(b[4:], a.Flags)
	copy(b[8:24], a.LeaseKey[:])
	le.PutUint32(b[24:], a.LeaseState)
}

// ErrorResponse is MS-SMB2 2.2.2 with its ErrorData (error contexts for
// 3.1.1, or the data some statuses carry, such as the 4-byte size of
// STATUS_BUFFER_TOO_SMALL).
type ErrorResponse struct {
	ErrorContextCount uint8
	ErrorData         []byte
}

// Size is the encoded body length: at least 9, as ErrorData has a byte.
func (e *ErrorResponse) Size() int { return 8 + max(len(e.ErrorData), 1) }

// Encode writes the body.
func (e *ErrorResponse) Encode(b []byte) {
	clear(b[:e.Size()])
	le.PutUint16(b, 9)
	b[2] = e.ErrorContextCount
	le.PutUint32(b[4:], uint32(len(e.ErrorData)))
	copy(b[8:], e.ErrorData)
}
