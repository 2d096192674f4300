package smbwire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

// responseBuffer returns the buffer of a response whose body starts with
// StructureSize, a 16-bit OutputBufferOffset and a 32-bit
// OutputBufferLength (QUERY_DIRECTORY, QUERY_INFO, CHANGE_NOTIFY: MS-SMB2
// 2.2.34, 2.2.38, 2.2.36), checking it lies in msg after the header.
func responseBuffer(msg []byte) ([]byte, error) {
	if len(msg) < smb2.HeaderSize+8 {
		return nil, errors.New("short response")
	}
	off := int(binary.LittleEndian.Uint16(msg[smb2.HeaderSize+2:]))
	n := int(binary.LittleEndian.Uint32(msg[smb2.HeaderSize+4:]))
	if n == 0 {
		return nil, nil
	}
	if off < smb2.HeaderSize+8 || off > len(msg) || n > len(msg)-off {
		return nil, fmt.Errorf("response buffer [%d, +%d) outside the %d-byte message", off, n, len(msg))
	}
	return msg[off : off+n], nil
}

// nameField returns where the FileNameLength field and the FileName of a
// directory entry of information class class are (MS-FSCC 2.4).
func nameField(class uint8) (lenOff, nameOff int, ok bool) {
	switch class {
	case fscc.FileNamesInformation:
		return 8, 12, true
	case fscc.FileDirectoryInformation:
		return 60, 64, true
	case fscc.FileFullDirectoryInformation:
		return 60, 68, true
	case fscc.FileIdFullDirectoryInformation:
		return 60, 80, true
	case fscc.FileBothDirectoryInformation:
		return 60, 94, true
	case fscc.FileIdBothDirectoryInformation:
		return 60, 104, true
	}
	return 0, 0, false
}

// CountEntries counts the directory entries of information class class
// in buf, a QUERY_DIRECTORY output buffer: all of them, and those named
// other than "." and "..". It follows NextEntryOffset and checks that
// every entry and its name lie within buf, without decoding names.
func CountEntries(buf []byte, class uint8) (all, named int, err error) {
	lenOff, nameOff, ok := nameField(class)
	if !ok {
		return 0, 0, fmt.Errorf("directory information class %d not decoded", class)
	}
	for len(buf) > 0 {
		if len(buf) < nameOff {
			return all, named, errors.New("directory entry out of bounds")
		}
		next := int(binary.LittleEndian.Uint32(buf))
		nl := int(binary.LittleEndian.Uint32(buf[lenOff:]))
		if nl > len(buf)-nameOff {
			return all, named, errors.New("directory entry name out of bounds")
		}
		all++
		if !isDots(buf[nameOff : nameOff+nl]) {
			named++
		}
		if next == 0 {
			return all, named, nil
		}
		// An entry's successor starts after its name: a smaller offset
		// would overlap it (or loop).
		if next < nameOff+nl || next > len(buf) {
			return all, named, fmt.Errorf("NextEntryOffset %d out of bounds", next)
		}
		buf = buf[next:]
	}
	return all, named, nil
}

// isDots reports whether the UTF-16LE name is "." or "..".
func isDots(name []byte) bool {
	switch len(name) {
	case 2:
		return name[0] == '.' && name[1] == 0
	case 4:
		return name[0] == '.' && name[1] == 0 && name[2] == '.' && name[3] == 0
	}
	return false
}

// NotifyNames decodes the FILE_NOTIFY_INFORMATION entries (MS-FSCC 2.7.1)
// of a CHANGE_NOTIFY response message and returns their names.
func NotifyNames(msg []byte) ([]string, error) {
	buf, err := responseBuffer(msg)
	if err != nil {
		return nil, fmt.Errorf("CHANGE_NOTIFY: %w", err)
	}
	var names []string
	for len(buf) > 0 {
		if len(buf) < 12 {
			return names, errors.New("FILE_NOTIFY_INFORMATION out of bounds")
		}
		next := int(binary.LittleEndian.Uint32(buf))
		ln := int(binary.LittleEndian.Uint32(buf[8:]))
		if ln > len(buf)-12 {
			return names, errors.New("FILE_NOTIFY_INFORMATION name out of bounds")
		}
		names = append(names, utf16le.Decode(buf[12:12+ln]))
		if next == 0 {
			break
		}
		if next < 12+ln || next > len(buf) {
			return names, fmt.Errorf("FILE_NOTIFY_INFORMATION NextEntryOffset %d out of bounds", next)
		}
		buf = buf[next:]
	}
	return names, nil
}
