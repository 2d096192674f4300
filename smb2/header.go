// Package smb2 is the SMB2/3 wire format: the packet header, the transform and
// compression headers, every request and response body, negotiate and create
// contexts, and the NT status codes. It holds no server state and imports
// nothing of cifsd's.
//
// Conventions used by every message in this package:
//
//   - A request or response body is a struct named after the command
//     (NegotiateRequest, ReadResponse ...) whose fields carry MS-SMB2's field
//     names. StructureSize is implied and never a field.
//   - Decode(msg []byte) error reads the body from msg, which is the whole
//     message starting at the 64-byte SMB2 header: every offset in an SMB2
//     body is counted from the start of the header (MS-SMB2 2.2). Decode
//     never panics and never trusts a length or an offset; a malformed body
//     yields ErrMalformed (wrapped).
//   - Size() int is the encoded body length in bytes (without the header);
//     Encode(b []byte) writes the body to b[:Size()], where b starts right after
//     the header, so offsets written are 64 + position in b.
package smb2

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderSize is the size of the SMB2 packet header (MS-SMB2 2.2.1).
const HeaderSize = 64

// ProtocolID is the first four bytes of every SMB2 header: 0xFE 'S' 'M' 'B'.
var ProtocolID = [4]byte{0xFE, 'S', 'M', 'B'}

// ErrMalformed is returned (wrapped) by every decoder for bytes that do not
// form a valid message.
var ErrMalformed = errors.New("smb2: malformed message")

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// Header flags (MS-SMB2 2.2.1.2).
const (
	FlagsServerToRedir   uint32 = 0x00000001
	FlagsAsyncCommand    uint32 = 0x00000002
	FlagsRelatedOps      uint32 = 0x00000004
	FlagsSigned          uint32 = 0x00000008
	FlagsPriorityMask    uint32 = 0x00000070
	FlagsDFSOperations   uint32 = 0x10000000
	FlagsReplayOperation uint32 = 0x20000000
)

// Header is the SMB2 packet header, sync or async form (MS-SMB2 2.2.1).
// In a request Status holds ChannelSequence (low 16 bits) for 3.x dialects.
type Header struct {
	CreditCharge uint16
	Status       uint32 // NT status in responses; ChannelSequence/Reserved in requests
	Command      Command
	Credits      uint16 // CreditRequest in requests, CreditResponse in responses
	Flags        uint32
	NextCommand  uint32
	MessageID    uint64
	AsyncID      uint64 // valid when Flags&FlagsAsyncCommand != 0
	ProcessID    uint32 // sync form only
	TreeID       uint32 // sync form only
	SessionID    uint64
	Signature    [16]byte
}

// IsAsync reports whether the header is in the async form.
func (h *Header) IsAsync() bool { return h.Flags&FlagsAsyncCommand != 0 }

// IsResponse reports whether SMB2_FLAGS_SERVER_TO_REDIR is set.
func (h *Header) IsResponse() bool { return h.Flags&FlagsServerToRedir != 0 }

// Decode reads the header from the first 64 bytes of b.
func (h *Header) Decode(b []byte) error {
	if len(b) < HeaderSize {
		return malformed("short header")
	}
	if [4]byte(b[0:4]) != ProtocolID {
		return malformed("bad protocol id")
	}
	if binary.LittleEndian.Uint16(b[4:]) != HeaderSize {
		return malformed("bad header structure size")
	}
	le := binary.LittleEndian
	h.CreditCharge = le.Uint16(b[6:])
	h.Status = le.Uint32(b[8:])
	h.Command = Command(le.Uint16(b[12:]))
	h.Credits = le.Uint16(b[14:])
	h.Flags = le.Uint32(b[16:])
	h.NextCommand = le.Uint32(b[20:])
	h.MessageID = le.Uint64(b[24:])
	if h.Flags&FlagsAsyncCommand != 0 {
		h.AsyncID = le.Uint64(b[32:])
		h.ProcessID, h.TreeID = 0, 0
	} else {
		h.AsyncID = 0
		h.ProcessID = le.Uint32(b[32:])
		h.TreeID = le.Uint32(b[36:])
	}
	h.SessionID = le.Uint64(b[40:])
	copy(h.Signature[:], b[48:64])
	return nil
}

// Encode writes the header to b[:64].
func (h *Header) Encode(b []byte) {
	_ = b[HeaderSize-1]
	le := binary.LittleEndian
	copy(b[0:4], ProtocolID[:])
	le.PutUint16(b[4:], HeaderSize)
	le.PutUint16(b[6:], h.CreditCharge)
	le.PutUint32(b[8:], h.Status)
	le.PutUint16(b[12:], uint16(h.Command))
	le.PutUint16(b[14:], h.Credits)
	le.PutUint32(b[16:], h.Flags)
	le.PutUint32(b[20:], h.NextCommand)
	le.PutUint64(b[24:], h.MessageID)
	if h.Flags&FlagsAsyncCommand != 0 {
		le.PutUint64(b[32:], h.AsyncID)
	} else {
		le.PutUint32(b[32:], h.ProcessID)
		le.PutUint32(b[36:], h.TreeID)
	}
	le.PutUint64(b[40:], h.SessionID)
	copy(b[48:64], h.Signature[:])
}

// Command is an SMB2 command code (MS-SMB2 2.2.1.2).
type Command uint16

// The SMB2 commands.
const (
	Negotiate      Command = 0x0000
	SessionSetup   Command = 0x0001
	Logoff         Command = 0x0002
	TreeConnect    Command = 0x0003
	TreeDisconnect Command = 0x0004
	Create         Command = 0x0005
	Close          Command = 0x0006
	Flush          Command = 0x0007
	Read           Command = 0x0008
	Write          Command = 0x0009
	Lock           Command = 0x000A
	Ioctl          Command = 0x000B
	Cancel         Command = 0x000C
	Echo           Command = 0x000D
	QueryDirectory Command = 0x000E
	ChangeNotify   Command = 0x000F
	QueryInfo      Command = 0x0010
	SetInfo        Command = 0x0011
	OplockBreak    Command = 0x0012
	// NumCommands is one past the highest command code.
	NumCommands = 0x0013
)

var commandNames = [...]string{
	"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
	"CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL",
	"ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK",
}

func (c Command) String() string {
	if int(c) < len(commandNames) {
		return commandNames[c]
	}
	return fmt.Sprintf("Command(%#x)", uint16(c))
}

// Dialect revision numbers (MS-SMB2 2.2.3).
const (
	Dialect202      uint16 = 0x0202
	Dialect210      uint16 = 0x0210
	Dialect300      uint16 = 0x0300
	Dialect302      uint16 = 0x0302
	Dialect311      uint16 = 0x0311
	DialectWildcard uint16 = 0x02FF // "SMB 2.???" in an SMB1 negotiate response
)
