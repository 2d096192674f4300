// Package fscc encodes and decodes the MS-FSCC structures an SMB server
// exchanges: file and file-system information classes, directory entries,
// FILETIMEs and attributes, and implements Windows name rules (wildcards,
// 8.3 short names).
package fscc

import (
	"encoding/binary"
	"errors"
	"time"
)

var le = binary.LittleEndian

// ErrMalformed is returned (wrapped) for buffers that do not decode.
var ErrMalformed = errors.New("fscc: malformed buffer")

// ErrInvalidClass is returned for an information class that is not
// implemented (STATUS_INVALID_INFO_CLASS).
var ErrInvalidClass = errors.New("fscc: invalid information class")

// File attributes (MS-FSCC 2.6).
const (
	FileAttributeReadonly          uint32 = 0x00000001
	FileAttributeHidden            uint32 = 0x00000002
	FileAttributeSystem            uint32 = 0x00000004
	FileAttributeDirectory         uint32 = 0x00000010
	FileAttributeArchive           uint32 = 0x00000020
	FileAttributeNormal            uint32 = 0x00000080
	FileAttributeTemporary         uint32 = 0x00000100
	FileAttributeSparseFile        uint32 = 0x00000200
	FileAttributeReparsePoint      uint32 = 0x00000400
	FileAttributeCompressed        uint32 = 0x00000800
	FileAttributeOffline           uint32 = 0x00001000
	FileAttributeNotContentIndexed uint32 = 0x00002000
	FileAttributeEncrypted         uint32 = 0x00004000
)

// epochDiff is the number of 100 ns intervals from 1601-01-01 to
// 1970-01-01.
const epochDiff = 116444736000000000

// FileTime converts t to a FILETIME (MS-DTYP 2.3.3); the zero time is 0.
func FileTime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	// Seconds and nanoseconds apart: UnixNano overflows after 2262, and a
	// FILETIME reaches 30828.
	sec := t.Unix()
	if sec < -epochDiff/10000000 || sec > (1<<63-1-epochDiff)/10000000-1 {
		return 0
	}
	ft := sec*1e7 + int64(t.Nanosecond()/100) + epochDiff
	if ft < 0 {
		return 0
	}
	return uint64(ft)
}

// Time converts a FILETIME to a time; 0 and -1 (no change) are the zero
// time.
func Time(ft uint64) time.Time {
	if ft == 0 || ft == ^uint64(0) || ft > 1<<62 {
		return time.Time{}
	}
	d := int64(ft) - epochDiff
	return time.Unix(d/1e7, (d%1e7)*100)
}

// File information classes (MS-FSCC 2.4).
const (
	FileDirectoryInformation       uint8 = 1
	FileFullDirectoryInformation   uint8 = 2
	FileBothDirectoryInformation   uint8 = 3
	FileBasicInformation           uint8 = 4
	FileStandardInformation        uint8 = 5
	FileInternalInformation        uint8 = 6
	FileEaInformation              uint8 = 7
	FileAccessInformation          uint8 = 8
	FileNameInformation            uint8 = 9
	FileRenameInformation          uint8 = 10
	FileLinkInformation            uint8 = 11
	FileNamesInformation           uint8 = 12
	FileDispositionInformation     uint8 = 13
	FilePositionInformation        uint8 = 14
	FileFullEaInformation          uint8 = 15
	FileModeInformation            uint8 = 16
	FileAlignmentInformation       uint8 = 17
	FileAllInformation             uint8 = 18
	FileAllocationInformation      uint8 = 19
	FileEndOfFileInformation       uint8 = 20
	FileAlternateNameInformation   uint8 = 21
	FileStreamInformation          uint8 = 22
	FilePipeInformation            uint8 = 23
	FileCompressionInformation     uint8 = 28
	FileNetworkOpenInformation     uint8 = 34
	FileAttributeTagInformation    uint8 = 35
	FileIdBothDirectoryInformation uint8 = 37
	FileIdFullDirectoryInformation uint8 = 38
	FileValidDataLengthInformation uint8 = 39
	FileShortNameInformation       uint8 = 40
	FileNormalizedNameInformation  uint8 = 48
	FileIdInformation              uint8 = 59
	FileIdExtdDirectoryInformation uint8 = 60
	FileDispositionInformationEx   uint8 = 64
	FileRenameInformationEx        uint8 = 65
)

// File system information classes (MS-FSCC 2.5).
const (
	FileFsVolumeInformation     uint8 = 1
	FileFsLabelInformation      uint8 = 2
	FileFsSizeInformation       uint8 = 3
	FileFsDeviceInformation     uint8 = 4
	FileFsAttributeInformation  uint8 = 5
	FileFsControlInformation    uint8 = 6
	FileFsFullSizeInformation   uint8 = 7
	FileFsObjectIdInformation   uint8 = 8
	FileFsSectorSizeInformation uint8 = 11
)
