package smb2

import (
	"encoding/binary"

	"github.com/cifsd/cifsd/internal/utf16le"
)

var le = binary.LittleEndian

// body returns the body of msg after checking its fixed part has n bytes.
func body(msg []byte, n int) ([]byte, error) {
	if len(msg) < HeaderSize+n {
		return nil, malformed("short body")
	}
	return msg[HeaderSize:], nil
}

// buffer returns msg[off:off+n] after checking it lies within msg and does
// not start inside the header.
func buffer(msg []byte, off, n uint32) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	end := uint64(off) + uint64(n)
	if off < HeaderSize || end > uint64(len(msg)) {
		return nil, malformed("buffer outside the message")
	}
	return msg[off:end], nil
}

// FileID is an SMB2_FILEID (MS-SMB2 2.2.14.1).
type FileID struct {
	Persistent uint64
	Volatile   uint64
}

func getFileID(b []byte) FileID { return FileID{le.Uint64(b), le.Uint64(b[8:])} }

func putFileID(b []byte, id FileID) {
	le.PutUint64(b, id.Persistent)
	le.PutUint64(b[8:], id.Volatile)
}

func decodeName(msg []byte, off, n uint32) (string, error) {
	if n%2 != 0 {
		return "", malformed("odd name length")
	}
	b, err := buffer(msg, off, n)
	if err != nil {
		return "", err
	}
	return utf16le.Decode(b), nil
}

// Security mode and capability bits (MS-SMB2 2.2.3, 2.2.4).
const (
	NegotiateSigningEnabled  uint16 = 0x0001
	NegotiateSigningRequired uint16 = 0x0002

	GlobalCapDFS               uint32 = 0x00000001
	GlobalCapLeasing           uint32 = 0x00000002
	GlobalCapLargeMTU          uint32 = 0x00000004
	GlobalCapMultiChannel      uint32 = 0x00000008
	GlobalCapPersistentHandles uint32 = 0x00000010
	GlobalCapDirectoryLeasing  uint32 = 0x00000020
	GlobalCapEncryption        uint32 = 0x00000040
)

// Negotiate context types and algorithm ids (MS-SMB2 2.2.3.1).
const (
	PreauthIntegrityCapabilitiesID uint16 = 0x0001
	EncryptionCapabilitiesID       uint16 = 0x0002
	CompressionCapabilitiesID      uint16 = 0x0003
	NetnameNegotiateContextID      uint16 = 0x0005
	TransportCapabilitiesID        uint16 = 0x0006
	RDMATransformCapabilitiesID    uint16 = 0x0007
	SigningCapabilitiesID          uint16 = 0x0008

	HashSHA512 uint16 = 0x0001

	CipherAES128CCM uint16 = 0x0001
	CipherAES128GCM uint16 = 0x0002
	CipherAES256CCM uint16 = 0x0003
	CipherAES256GCM uint16 = 0x0004

	SigningHMACSHA256 uint16 = 0x0000
	SigningAESCMAC    uint16 = 0x0001
	SigningAESGMAC    uint16 = 0x0002
)

// NegotiateContext is one negotiate context, its Data undecoded
// (MS-SMB2 2.2.3.1).
type NegotiateContext struct {
	ContextType uint16
	Data        []byte
}

// NegotiateRequest is MS-SMB2 2.2.3.
type NegotiateRequest struct {
	SecurityMode      uint16
	Capabilities      uint32
	ClientGuid        [16]byte
	Dialects          []uint16
	NegotiateContexts []NegotiateContext
}

// maxDialects bounds DialectCount (there are five dialects; clients send
// a few more reserved values at most).
const maxDialects = 64

// Decode reads the request body from msg.
func (r *NegotiateRequest) Decode(msg []byte) error {
	b, err := body(msg, 36)
	if err != nil {
		return err
	}
	if le.Uint16(b) != 36 {
		return malformed("negotiate structure size")
	}
	count := int(le.Uint16(b[2:]))
	if count > maxDialects || len(b) < 36+2*count {
		return malformed("dialect count")
	}
	r.SecurityMode = le.Uint16(b[4:])
	r.Capabilities = le.Uint32(b[8:])
	copy(r.ClientGuid[:], b[12:28])
	r.Dialects = make([]uint16, count)
	for i := range r.Dialects {
		r.Dialects[i] = le.Uint16(b[36+2*i:])
	}
	r.NegotiateContexts = nil
	isSMB311 := false
	for _, d := range r.Dialects {
		if d == Dialect311 {
			isSMB311 = true
		}
	}
	if !isSMB311 {
		return nil
	}
	off := le.Uint32(b[28:])
	n := int(le.Uint16(b[32:]))
	if n == 0 {
		return nil
	}
	ctxs, err := decodeNegotiateContexts(msg, off, n)
	if err != nil {
		return err
	}
	r.NegotiateContexts = ctxs
	return nil
}

func decodeNegotiateContexts(msg []byte, off uint32, n int) ([]NegotiateContext, error) {
	if n > 64 {
		return nil, malformed("too many negotiate contexts")
	}
	if off < HeaderSize || uint64(off) > uint64(len(msg)) {
		return nil, malformed("negotiate context offset")
	}
	p := int(off)
	out := make([]NegotiateContext, 0, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			p = (p + 7) &^ 7
		}
		if p+8 > len(msg) {
			return nil, malformed("negotiate context header")
		}
		typ := le.Uint16(msg[p:])
		dl := int(le.Uint16(msg[p+2:]))
		if p+8+dl > len(msg) {
			return nil, malformed("negotiate context data")
		}
		out = append(out, NegotiateContext{ContextType: typ, Data: msg[p+8 : p+8+dl]})
		p += 8 + dl
	}
	return out, nil
}

func negotiateContextsSize(start int, ctxs []NegotiateContext) int {
	p := start
	for i, c := range ctxs {
		if i > 0 {
			p = (p + 7) &^ 7
		}
		p += 8 + len(c.Data)
	}
	return p - start
}

func putNegotiateContexts(b []byte, start int, ctxs []NegotiateContext) {
	p := 0
	for i, c := range ctxs {
		if i > 0 {
			for (start+p)%8 != 0 {
				b[p] = 0
				p++
			}
		}
		le.PutUint16(b[p:], c.ContextType)
		le.PutUint16(b[p+2:], uint16(len(c.Data)))
		le.PutUint32(b[p+4:], 0)
		copy(b[p+8:], c.Data)
		p += 8 + len(c.Data)
	}
}

// NegotiateResponse is MS-SMB2 2.2.4.
type NegotiateResponse struct {
	SecurityMode      uint16
	DialectRevision   uint16
	ServerGuid        [16]byte
	Capabilities      uint32
	MaxTransactSize   uint32
	MaxReadSize       uint32
	MaxWriteSize      uint32
	SystemTime        uint64
	ServerStartTime   uint64
	SecurityBuffer    []byte
	NegotiateContexts []NegotiateContext
}

func (r *NegotiateResponse) ctxStart() int {
	return (HeaderSize + 64 + len(r.SecurityBuffer) + 7) &^ 7
}

// Size is the encoded body length.
func (r *NegotiateResponse) Size() int {
	n := 64 + len(r.SecurityBuffer)
	if len(r.NegotiateContexts) > 0 {
		start := r.ctxStart()
		n = start - HeaderSize + negotiateContextsSize(start, r.NegotiateContexts)
	}
	return n
}

// Encode writes the body.
func (r *NegotiateResponse) Encode(b []byte) {
	clear(b[:r.Size()])
	le.PutUint16(b, 65)
	le.PutUint16(b[2:], r.SecurityMode)
	le.PutUint16(b[4:], r.DialectRevision)
	copy(b[8:24], r.ServerGuid[:])
	le.PutUint32(b[24:], r.Capabilities)
	le.PutUint32(b[28:], r.MaxTransactSize)
	le.PutUint32(b[32:], r.MaxReadSize)
	le.PutUint32(b[36:], r.MaxWriteSize)
	le.PutUint64(b[40:], r.SystemTime)
	le.PutUint64(b[48:], r.ServerStartTime)
	le.PutUint16(b[56:], HeaderSize+64)
	le.PutUint16(b[58:], uint16(len(r.SecurityBuffer)))
	copy(b[64:], r.SecurityBuffer)
	if len(r.NegotiateContexts) > 0 {
		start := r.ctxStart()
		le.PutUint16(b[6:], uint16(len(r.NegotiateContexts)))
		le.PutUint32(b[60:], uint32(start))
		putNegotiateContexts(b[start-HeaderSize:], start, r.NegotiateContexts)
	}
}

// PreauthIntegrityCapabilities is MS-SMB2 2.2.3.1.1.
type PreauthIntegrityCapabilities struct {
	HashAlgorithms []uint16
	Salt           []byte
}

// Decode reads the context data.
func (p *PreauthIntegrityCapabilities) Decode(d []byte) error {
	if len(d) < 4 {
		return malformed("preauth context")
	}
	n, sl := int(le.Uint16(d)), int(le.Uint16(d[2:]))
	if len(d) < 4+2*n+sl || n == 0 {
		return malformed("preauth context lengths")
	}
	p.HashAlgorithms = make([]uint16, n)
	for i := range p.HashAlgorithms {
		p.HashAlgorithms[i] = le.Uint16(d[4+2*i:])
	}
	p.Salt = d[4+2*n : 4+2*n+sl]
	return nil
}

// Context encodes p as a negotiate context.
func (p PreauthIntegrityCapabilities) Context() NegotiateContext {
	d := make([]byte, 4+2*len(p.HashAlgorithms)+len(p.Salt))
	le.PutUint16(d, uint16(len(p.HashAlgorithms)))
	le.PutUint16(d[2:], uint16(len(p.Salt)))
	for i, h := range p.HashAlgorithms {
		le.PutUint16(d[4+2*i:], h)
	}
	copy(d[4+2*len(p.HashAlgorithms):], p.Salt)
	return NegotiateContext{ContextType: PreauthIntegrityCapabilitiesID, Data: d}
}

func decodeIDList(d []byte) ([]uint16, error) {
	if len(d) < 2 {
		return nil, malformed("id list")
	}
	n := int(le.Uint16(d))
	if len(d) < 2+2*n {
		return nil, malformed("id list length")
	}
	ids := make([]uint16, n)
	for i := range ids {
		ids[i] = le.Uint16(d[2+2*i:])
	}
	return ids, nil
}

func encodeIDList(typ uint16, ids []uint16) NegotiateContext {
	d := make([]byte, 2+2*len(ids))
	le.PutUint16(d, uint16(len(ids)))
	for i, id := range ids {
		le.PutUint16(d[2+2*i:], id)
	}
	return NegotiateContext{ContextType: typ, Data: d}
}

// EncryptionCapabilities is MS-SMB2 2.2.3.1.2.
type EncryptionCapabilities struct{ Ciphers []uint16 }

// Decode reads the context data.
func (e *EncryptionCapabilities) Decode(d []byte) (err error) {
	e.Ciphers, err = decodeIDList(d)
	return err
}

// Context encodes e as a negotiate context.
func (e EncryptionCapabilities) Context() NegotiateContext {
	return encodeIDList(EncryptionCapabilitiesID, e.Ciphers)
}

// SigningCapabilities is MS-SMB2 2.2.3.1.7.
type SigningCapabilities struct{ SigningAlgorithms []uint16 }

// Decode reads the context data.
func (s *SigningCapabilities) Decode(d []byte) (err error) {
	s.SigningAlgorithms, err = decodeIDList(d)
	return err
}

// Context encodes s as a negotiate context.
func (s SigningCapabilities) Context() NegotiateContext {
	return encodeIDList(SigningCapabilitiesID, s.SigningAlgorithms)
}

// Session setup flags (MS-SMB2 2.2.5, 2.2.6).
const (
	SessionFlagBinding     uint8  = 0x01
	SessionFlagIsGuest     uint16 = 0x0001
	SessionFlagIsNull      uint16 = 0x0002
	SessionFlagEncryptData uint16 = 0x0004
)

// SessionSetupRequest is MS-SMB2 2.2.5.
type SessionSetupRequest struct {
	Flags             uint8
	SecurityMode      uint8
	Capabilities      uint32
	Channel           uint32
	PreviousSessionId uint64
	SecurityBuffer    []byte
}

// Decode reads the request body from msg.
func (r *SessionSetupRequest) Decode(msg []byte) error {
	b, err := body(msg, 24)
	if err != nil {
		return err
	}
	r.Flags, r.SecurityMode = b[2], b[3]
	r.Capabilities = le.Uint32(b[4:])
	r.Channel = le.Uint32(b[8:])
	r.PreviousSessionId = le.Uint64(b[16:])
	r.SecurityBuffer, err = buffer(msg, uint32(le.Uint16(b[12:])), uint32(le.Uint16(b[14:])))
	return err
}

// SessionSetupResponse is MS-SMB2 2.2.6.
type SessionSetupResponse struct {
	SessionFlags   uint16
	SecurityBuffer []byte
}

// Size is the encoded body length.
func (r *SessionSetupResponse) Size() int { return 8 + len(r.SecurityBuffer) }

// Encode writes the body.
func (r *SessionSetupResponse) Encode(b []byte) {
	le.PutUint16(b, 9)
	le.PutUint16(b[2:], r.SessionFlags)
	le.PutUint16(b[4:], HeaderSize+8)
	le.PutUint16(b[6:], uint16(len(r.SecurityBuffer)))
	copy(b[8:], r.SecurityBuffer)
}

// Share types and flags (MS-SMB2 2.2.10).
const (
	ShareTypeDisk  uint8 = 0x01
	ShareTypePipe  uint8 = 0x02
	ShareTypePrint uint8 = 0x03

	ShareFlagNoCaching   uint32 = 0x00000030
	ShareFlagEncryptData uint32 = 0x00008000
)

// TreeConnectRequest is MS-SMB2 2.2.9.
type TreeConnectRequest struct {
	Flags uint16
	Path  string
}

// treeConnectExtensionPresent is SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT.
const treeConnectExtensionPresent = 0x0004

// Decode reads the request body from msg.
func (r *TreeConnectRequest) Decode(msg []byte) error {
	b, err := body(msg, 8)
	if err != nil {
		return err
	}
	r.Flags = le.Uint16(b[2:])
	off, n := uint32(le.Uint16(b[4:])), uint32(le.Uint16(b[6:]))
	if r.Flags&treeConnectExtensionPresent != 0 {
		// MS-SMB2 2.2.9.1: the path is located through the extension.
		ext, err := buffer(msg, off, 16)
		if err != nil {
			return err
		}
		po := le.Uint32(ext[4:])
		pl := uint32(le.Uint16(ext[12:]))
		if uint64(off)+uint64(po) > 1<<31 {
			return malformed("tree connect extension")
		}
		r.Path, err = decodeName(msg, off+po, pl)
		return err
	}
	r.Path, err = decodeName(msg, off, n)
	return err
}

// TreeConnectResponse is MS-SMB2 2.2.10.
type TreeConnectResponse struct {
	ShareType     uint8
	ShareFlags    uint32
	Capabilities  uint32
	MaximalAccess uint32
}

// Size is the encoded body length.
func (r *TreeConnectResponse) Size() int { return 16 }

// Encode writes the body.
func (r *TreeConnectResponse) Encode(b []byte) {
	le.PutUint16(b, 16)
	b[2], b[3] = r.ShareType, 0
	le.PutUint32(b[4:], r.ShareFlags)
	le.PutUint32(b[8:], r.Capabilities)
	le.PutUint32(b[12:], r.MaximalAccess)
}
