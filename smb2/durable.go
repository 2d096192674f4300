package smb2

// Durable handles (MS-SMB2 2.2.13.2.3, 2.2.13.2.4, 2.2.13.2.11,
// 2.2.13.2.12, 2.2.14.2.3, 2.2.14.2.12).

// DHandleFlagPersistent asks for, or grants, a persistent handle
// (MS-SMB2 2.2.13.2.11, 2.2.14.2.12).
const DHandleFlagPersistent uint32 = 0x00000002

// Durable context data lengths.
const (
	durableRequestSize     = 16 // DHnQ: 16 reserved bytes (2.2.13.2.3)
	durableReconnectSize   = 16 // DHnC: the FileId (2.2.13.2.4)
	durableRequestV2Size   = 32 // DH2Q (2.2.13.2.11)
	durableReconnectV2Size = 36 // DH2C (2.2.13.2.12)
)

// CheckDurableRequest validates the data of an
// SMB2_CREATE_DURABLE_HANDLE_REQUEST context (MS-SMB2 2.2.13.2.3): 16
// reserved bytes the server ignores.
func CheckDurableRequest(d []byte) error {
	if len(d) != durableRequestSize {
		return malformed("durable handle request length")
	}
	return nil
}

// DecodeDurableReconnect reads an SMB2_CREATE_DURABLE_HANDLE_RECONNECT
// context's data (MS-SMB2 2.2.13.2.4): the FileId of the open.
func DecodeDurableReconnect(d []byte) (FileID, error) {
	if len(d) != durableReconnectSize {
		return FileID{}, malformed("durable handle reconnect length")
	}
	return getFileID(d), nil
}

// DurableRequestV2 is SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2
// (MS-SMB2 2.2.13.2.11).
type DurableRequestV2 struct {
	Timeout    uint32 // milliseconds; 0 lets the server choose
	Flags      uint32
	CreateGuid [16]byte
}

// DecodeDurableRequestV2 reads the context's data.
func DecodeDurableRequestV2(d []byte) (DurableRequestV2, error) {
	var r DurableRequestV2
	if len(d) != durableRequestV2Size {
		return r, malformed("durable handle request v2 length")
	}
	r.Timeout = le.Uint32(d)
	r.Flags = le.Uint32(d[4:])
	copy(r.CreateGuid[:], d[16:32])
	return r, nil
}

// Context encodes r as a request create context.
func (r DurableRequestV2) Context() CreateContext {
	d := make([]byte, durableRequestV2Size)
	le.PutUint32(d, r.Timeout)
	le.PutUint32(d[4:], r.Flags)
	copy(d[16:], r.CreateGuid[:])
	return CreateContext{Name: CreateDurableHandleV2, Data: d}
}

// DurableReconnectV2 is SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2
// (MS-SMB2 2.2.13.2.12).
type DurableReconnectV2 struct {
	FileId     FileID
	CreateGuid [16]byte
	Flags      uint32
}

// DecodeDurableReconnectV2 reads the context's data.
func DecodeDurableReconnectV2(d []byte) (DurableReconnectV2, error) {
	var r DurableReconnectV2
	if len(d) != durableReconnectV2Size {
		return r, malformed("durable handle reconnect v2 length")
	}
	r.FileId = getFileID(d)
	copy(r.CreateGuid[:], d[16:32])
	r.Flags = le.Uint32(d[32:])
	return r, nil
}

// Context encodes r as a request create context.
func (r DurableReconnectV2) Context() CreateContext {
	d := make([]byte, durableReconnectV2Size)
	putFileID(d, r.FileId)
	copy(d[16:], r.CreateGuid[:])
	le.PutUint32(d[32:], r.Flags)
	return CreateContext{Name: CreateDurableReconnectV2, Data: d}
}

// DurableResponse is SMB2_CREATE_DURABLE_HANDLE_RESPONSE (MS-SMB2
// 2.2.14.2.3): 8 reserved bytes.
type DurableResponse struct{}

// Context encodes the response create context.
func (DurableResponse) Context() CreateContext {
	return CreateContext{Name: CreateDurableHandleRequest, Data: make([]byte, 8)}
}

// DurableResponseV2 is SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2 (MS-SMB2
// 2.2.14.2.12).
type DurableResponseV2 struct {
	Timeout uint32 // milliseconds
	Flags   uint32
}

// Context encodes the response create context.
func (r DurableResponseV2) Context() CreateContext {
	d := make([]byte, 8)
	le.PutUint32(d, r.Timeout)
	le.PutUint32(d[4:], r.Flags)
	return CreateContext{Name: CreateDurableHandleV2, Data: d}
}

// DecodeDurableResponseV2 reads a DH2Q response context's data.
func DecodeDurableResponseV2(d []byte) (DurableResponseV2, error) {
	if len(d) < 8 {
		return DurableResponseV2{}, malformed("durable handle response v2 length")
	}
	return DurableResponseV2{Timeout: le.Uint32(d), Flags: le.Uint32(d[4:])}, nil
}
