package fscc

import (
	"fmt"

	"github.com/cifsd/cifsd/internal/utf16le"
)

// FileMeta is what the file information classes report about a file.
type FileMeta struct {
	CreationTime, LastAccessTime, LastWriteTime, ChangeTime uint64 // FILETIME
	AllocationSize, EndOfFile                               int64
	FileAttributes                                          uint32
	NumberOfLinks                                           uint32
	DeletePending, Directory                                bool
	IndexNumber                                             uint64 // file id
	AccessFlags                                             uint32 // granted access
	CurrentByteOffset                                       int64
	Mode                                                    uint32
	Name                                                    string // for FileNameInformation / FileAllInformation
	VolumeSerialNumber                                      uint64
	EaSize                                                  uint32
}

func putBasic(b []byte, m *FileMeta) {
	le.PutUint64(b, m.CreationTime)
	le.PutUint64(b[8:], m.LastAccessTime)
	le.PutUint64(b[16:], m.LastWriteTime)
	le.PutUint64(b[24:], m.ChangeTime)
	le.PutUint32(b[32:], m.FileAttributes)
	le.PutUint32(b[36:], 0)
}

func putStandard(b []byte, m *FileMeta) {
	le.PutUint64(b, uint64(m.AllocationSize))
	le.PutUint64(b[8:], uint64(m.EndOfFile))
	le.PutUint32(b[16:], m.NumberOfLinks)
	b[20], b[21], b[22], b[23] = boolByte(m.DeletePending), boolByte(m.Directory), 0, 0
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func putName(b []byte, name string) {
	le.PutUint32(b, uint32(utf16le.EncodedLen(name)))
	utf16le.Put(b[4:], name)
}

// EncodeFileInfo encodes the file information class for m (MS-FSCC 2.4).
// Variable-length classes are returned whole; the caller truncates to the
// client's buffer and answers STATUS_BUFFER_OVERFLOW.
func EncodeFileInfo(class uint8, m *FileMeta) ([]byte, error) {
	switch class {
	case FileBasicInformation: // 2.4.7
		b := make([]byte, 40)
		putBasic(b, m)
		return b, nil
	case FileStandardInformation: // 2.4.47
		b := make([]byte, 24)
		putStandard(b, m)
		return b, nil
	case FileInternalInformation: // 2.4.26
		b := make([]byte, 8)
		le.PutUint64(b, m.IndexNumber)
		return b, nil
	case FileEaInformation: // 2.4.13
		b := make([]byte, 4)
		le.PutUint32(b, m.EaSize)
		return b, nil
	case FileAccessInformation: // 2.4.1
		b := make([]byte, 4)
		le.PutUint32(b, m.AccessFlags)
		return b, nil
	case FilePositionInformation: // 2.4.40
		b := make([]byte, 8)
		le.PutUint64(b, uint64(m.CurrentByteOffset))
		return b, nil
	case FileModeInformation: // 2.4.31
		b := make([]byte, 4)
		le.PutUint32(b, m.Mode)
		return b, nil
	case FileAlignmentInformation: // 2.4.3
		return make([]byte, 4), nil
	case FileNameInformation, FileNormalizedNameInformation: // 2.4.32
		b := make([]byte, 4+utf16le.EncodedLen(m.Name))
		putName(b, m.Name)
		return b, nil
	case FileAllInformation: // 2.4.2
		b := make([]byte, 100+utf16le.EncodedLen(m.Name))
		putBasic(b, m)
		putStandard(b[40:], m)
		le.PutUint64(b[64:], m.IndexNumber)
		le.PutUint32(b[72:], m.EaSize)
		le.PutUint32(b[76:], m.AccessFlags)
		le.PutUint64(b[80:], uint64(m.CurrentByteOffset))
		le.PutUint32(b[88:], m.Mode)
		le.PutUint32(b[92:], 0) // alignment
		putName(b[96:], m.Name)
		return b, nil
	case FileNetworkOpenInformation: // 2.4.29
		b := make([]byte, 56)
		le.PutUint64(b, m.CreationTime)
		le.PutUint64(b[8:], m.LastAccessTime)
		le.PutUint64(b[16:], m.LastWriteTime)
		le.PutUint64(b[24:], m.ChangeTime)
		le.PutUint64(b[32:], uint64(m.AllocationSize))
		le.PutUint64(b[40:], uint64(m.EndOfFile))
		le.PutUint32(b[48:], m.FileAttributes)
		return b, nil
	case FileAttributeTagInformation: // 2.4.6
		b := make([]byte, 8)
		le.PutUint32(b, m.FileAttributes)
		return b, nil
	case FileStreamInformation: // 2.4.49: the default data stream
		if m.Directory {
			return nil, nil
		}
		name := "::$DATA"
		b := make([]byte, 24+utf16le.EncodedLen(name))
		le.PutUint32(b[4:], uint32(utf16le.EncodedLen(name)))
		le.PutUint64(b[8:], uint64(m.EndOfFile))
		le.PutUint64(b[16:], uint64(m.AllocationSize))
		utf16le.Put(b[24:], name)
		return b, nil
	case FileCompressionInformation: // 2.4.9
		b := make([]byte, 16)
		le.PutUint64(b, uint64(m.EndOfFile))
		return b, nil
	case FileIdInformation: // 2.4.27
		b := make([]byte, 24)
		le.PutUint64(b, m.VolumeSerialNumber)
		le.PutUint64(b[8:], m.IndexNumber)
		return b, nil
	}
	return nil, ErrInvalidClass
}

// FSMeta is what the file system information classes report.
type FSMeta struct {
	VolumeCreationTime uint64
	VolumeSerialNumber uint32
	VolumeLabel        string
	TotalBytes         uint64
	FreeBytes          uint64
	BytesPerSector     uint32
	SectorsPerUnit     uint32
	FileSystemName     string
	Attributes         uint32 // FILE_CASE_PRESERVED_NAMES etc.
	MaxComponentLength uint32
	ObjectID           [16]byte
}

// File system attribute flags (MS-FSCC 2.5.1).
const (
	FileCaseSensitiveSearch        uint32 = 0x00000001
	FileCasePreservedNames         uint32 = 0x00000002
	FileUnicodeOnDisk              uint32 = 0x00000004
	FilePersistentACLs             uint32 = 0x00000008
	FileSupportsSparseFiles        uint32 = 0x00000040
	FileSupportsObjectIDs          uint32 = 0x00010000
	FileNamedStreams               uint32 = 0x00040000
	FileSupportsExtendedAttributes uint32 = 0x00800000
)

// EncodeFSInfo encodes the file system information class for m
// (MS-FSCC 2.5).
func EncodeFSInfo(class uint8, m *FSMeta) ([]byte, error) {
	unit := uint64(m.BytesPerSector) * uint64(m.SectorsPerUnit)
	if unit == 0 {
		return nil, fmt.Errorf("%w: zero allocation unit", ErrMalformed)
	}
	switch class {
	case FileFsVolumeInformation: // 2.5.9
		b := make([]byte, 18+utf16le.EncodedLen(m.VolumeLabel))
		le.PutUint64(b, m.VolumeCreationTime)
		le.PutUint32(b[8:], m.VolumeSerialNumber)
		le.PutUint32(b[12:], uint32(utf16le.EncodedLen(m.VolumeLabel)))
		utf16le.Put(b[18:], m.VolumeLabel)
		return b, nil
	case FileFsSizeInformation: // 2.5.8
		b := make([]byte, 24)
		le.PutUint64(b, m.TotalBytes/unit)
		le.PutUint64(b[8:], m.FreeBytes/unit)
		le.PutUint32(b[16:], m.SectorsPerUnit)
		le.PutUint32(b[20:], m.BytesPerSector)
		return b, nil
	case FileFsFullSizeInformation: // 2.5.4
		b := make([]byte, 32)
		le.PutUint64(b, m.TotalBytes/unit)
		le.PutUint64(b[8:], m.FreeBytes/unit)
		le.PutUint64(b[16:], m.FreeBytes/unit)
		le.PutUint32(b[24:], m.SectorsPerUnit)
		le.PutUint32(b[28:], m.BytesPerSector)
		return b, nil
	case FileFsDeviceInformation: // 2.5.10
		b := make([]byte, 8)
		le.PutUint32(b, 0x00000007)     // FILE_DEVICE_DISK
		le.PutUint32(b[4:], 0x00000020) // FILE_DEVICE_IS_MOUNTED
		return b, nil
	case FileFsAttributeInformation: // 2.5.1
		b := make([]byte, 12+utf16le.EncodedLen(m.FileSystemName))
		le.PutUint32(b, m.Attributes)
		le.PutUint32(b[4:], m.MaxComponentLength)
		le.PutUint32(b[8:], uint32(utf16le.EncodedLen(m.FileSystemName)))
		utf16le.Put(b[12:], m.FileSystemName)
		return b, nil
	case FileFsSectorSizeInformation: // 2.5.7
		b := make([]byte, 28)
		for i := 0; i < 4; i++ {
			le.PutUint32(b[4*i:], m.BytesPerSector)
		}
		le.PutUint32(b[16:], 0x3) // ALIGNED_DEVICE | PARTITION_ALIGNED_ON_DEVICE
		return b, nil
	case FileFsObjectIdInformation: // 2.5.6
		b := make([]byte, 64)
		copy(b, m.ObjectID[:])
		return b, nil
	case FileFsControlInformation: // 2.5.2
		b := make([]byte, 48)
		for i := 24; i < 40; i += 8 {
			le.PutUint64(b[i:], ^uint64(0)) // no quota thresholds/limits
		}
		return b, nil
	}
	return nil, ErrInvalidClass
}

// BasicInformation is FileBasicInformation as a client sets it
// (MS-FSCC 2.4.7): a time of 0 means "unchanged", -1 "stop updating".
type BasicInformation struct {
	CreationTime, LastAccessTime, LastWriteTime, ChangeTime uint64
	FileAttributes                                          uint32
}

// DecodeBasicInformation decodes a SET_INFO FileBasicInformation buffer.
func DecodeBasicInformation(b []byte) (BasicInformation, error) {
	if len(b) < 36 {
		return BasicInformation{}, fmt.Errorf("%w: FileBasicInformation", ErrMalformed)
	}
	return BasicInformation{
		CreationTime:   le.Uint64(b),
		LastAccessTime: le.Uint64(b[8:]),
		LastWriteTime:  le.Uint64(b[16:]),
		ChangeTime:     le.Uint64(b[24:]),
		FileAttributes: le.Uint32(b[32:]),
	}, nil
}

// DecodeInt64 decodes the 8-byte classes (end of file, allocation,
// position, valid data length).
func DecodeInt64(b []byte) (int64, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("%w: 8-byte class", ErrMalformed)
	}
	return int64(le.Uint64(b)), nil
}

// DecodeUint32 decodes the 4-byte classes (mode, disposition ex flags).
func DecodeUint32(b []byte) (uint32, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("%w: 4-byte class", ErrMalformed)
	}
	return le.Uint32(b), nil
}

// RenameInformation is FileRenameInformation / FileLinkInformation in the
// SMB2 form (MS-FSCC 2.4.37.2).
type RenameInformation struct {
	ReplaceIfExists bool
	RootDirectory   uint64
	FileName        string
}

// DecodeRenameInformation decodes a SET_INFO rename or link buffer.
func DecodeRenameInformation(b []byte) (RenameInformation, error) {
	if len(b) < 20 {
		return RenameInformation{}, fmt.Errorf("%w: FileRenameInformation", ErrMalformed)
	}
	n := le.Uint32(b[16:])
	if n%2 != 0 || uint64(n) > uint64(len(b)-20) {
		return RenameInformation{}, fmt.Errorf("%w: FileRenameInformation name length", ErrMalformed)
	}
	return RenameInformation{
		ReplaceIfExists: b[0] != 0,
		RootDirectory:   le.Uint64(b[8:]),
		FileName:        utf16le.Decode(b[20 : 20+n]),
	}, nil
}
