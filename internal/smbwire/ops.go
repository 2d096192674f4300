package smbwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

// ShareAll shares reading, writing and deleting with other opens.
const ShareAll = smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete

// CreateRequest is what a CREATE asks for (MS-SMB2 2.2.13), without create
// contexts, with impersonation level Impersonation and no oplock.
type CreateRequest struct {
	Access      uint32 // DesiredAccess: smb2.GenericRead, smb2.Delete ...
	Attributes  uint32 // FileAttributes of a new file
	Share       uint32 // ShareAccess: smb2.FileShareRead ... or ShareAll
	Disposition uint32 // CreateDisposition: smb2.FileOpen, smb2.FileCreate ...
	Options     uint32 // CreateOptions: smb2.FileDirectoryFile ...
}

// Create opens or creates name (relative to the share root, with
// backslashes) and returns its FileId.
func (c *Client) Create(ctx context.Context, name string, req CreateRequest) (smb2.FileID, error) {
	n := utf16le.EncodedLen(name)
	b := c.start(56 + max(n, 1)) // the buffer is never empty (MS-SMB2 2.2.13)
	le16(b, 57)
	le32(b[4:], smb2.ImpersonationImpersonation)
	le32(b[24:], req.Access)
	le32(b[28:], req.Attributes)
	le32(b[32:], req.Share)
	le32(b[36:], req.Disposition)
	le32(b[40:], req.Options)
	le16(b[44:], smb2.HeaderSize+56)
	le16(b[46:], uint16(n))
	utf16le.Put(b[56:], name)
	r, err := c.exchange(ctx, smb2.Create, 1)
	if err != nil {
		return smb2.FileID{}, fmt.Errorf("create %q: %w", name, err)
	}
	if len(r.Msg) < smb2.HeaderSize+88 {
		return smb2.FileID{}, errors.New("short CREATE response")
	}
	p := r.Msg[smb2.HeaderSize+64:]
	return smb2.FileID{Persistent: binary.LittleEndian.Uint64(p), Volatile: binary.LittleEndian.Uint64(p[8:])}, nil
}

// CloseFile closes an open (MS-SMB2 2.2.15).
func (c *Client) CloseFile(ctx context.Context, f smb2.FileID) error {
	b := c.start(24)
	le16(b, 24)
	putFID(b[8:], f)
	_, err := c.exchange(ctx, smb2.Close, 1)
	return err
}

// Mkdir creates the directory name with the request go-smb2's Mkdir sends
// (write-attributes access, FILE_CREATE, FILE_DIRECTORY_FILE) and closes
// it.
func (c *Client) Mkdir(ctx context.Context, name string) error {
	f, err := c.Create(ctx, name, CreateRequest{
		Access:      smb2.FileWriteAttributes,
		Attributes:  fscc.FileAttributeNormal,
		Share:       smb2.FileShareRead | smb2.FileShareWrite,
		Disposition: smb2.FileCreate,
		Options:     smb2.FileDirectoryFile,
	})
	if err != nil {
		return err
	}
	return c.CloseFile(ctx, f)
}

// Write writes data at off.
func (c *Client) Write(ctx context.Context, f smb2.FileID, off uint64, data []byte) error {
	b := c.start(48 + len(data))
	le16(b, 49)
	le16(b[2:], smb2.HeaderSize+48)
	le32(b[4:], uint32(len(data)))
	le64(b[8:], off)
	putFID(b[16:], f)
	copy(b[48:], data)
	r, err := c.exchange(ctx, smb2.Write, charge(uint32(len(data))))
	if err != nil {
		return err
	}
	if len(r.Msg) < smb2.HeaderSize+8 {
		return errors.New("short WRITE response")
	}
	if n := binary.LittleEndian.Uint32(r.Msg[smb2.HeaderSize+4:]); int(n) != len(data) {
		return fmt.Errorf("WRITE wrote %d of %d bytes", n, len(data))
	}
	return nil
}

// Read reads up to n bytes at off. In inline mode the bytes are valid
// until the next request.
func (c *Client) Read(ctx context.Context, f smb2.FileID, off uint64, n uint32) ([]byte, error) {
	b := c.start(49)
	le16(b, 49)
	le32(b[4:], n)
	le64(b[8:], off)
	putFID(b[16:], f)
	r, err := c.exchange(ctx, smb2.Read, charge(n))
	if err != nil {
		return nil, err
	}
	m := r.Msg
	if len(m) < smb2.HeaderSize+16 {
		return nil, errors.New("short READ response")
	}
	doff, dlen := int(m[smb2.HeaderSize+2]), int(binary.LittleEndian.Uint32(m[smb2.HeaderSize+4:]))
	if doff > len(m) || dlen > len(m)-doff {
		return nil, errors.New("READ data out of bounds")
	}
	return m[doff : doff+dlen], nil
}

// Lock sends one LOCK request with one element and waits for its answer
// (a blocking lock waits for the range to be free); waited reports that
// the server answered STATUS_PENDING first, the lock being held by
// another open.
func (c *Client) Lock(ctx context.Context, f smb2.FileID, off, n uint64, flags uint32) (waited bool, err error) {
	b := c.start(48)
	le16(b, 48)
	le16(b[2:], 1)
	putFID(b[8:], f)
	le64(b[24:], off)
	le64(b[32:], n)
	le32(b[40:], flags)
	r, err := c.exchange(ctx, smb2.Lock, 1)
	return err == nil && r.Header.IsAsync(), err
}

// Echo sends an ECHO and waits for its answer.
func (c *Client) Echo(ctx context.Context) error {
	b := c.start(4)
	le16(b, 4)
	_, err := c.exchange(ctx, smb2.Echo, 1)
	return err
}

// Notify sends CHANGE_NOTIFY on the directory dir for the changes in
// filter (MS-SMB2 2.2.35), on a concurrent client, and returns the call
// waiting for its answer; NotifyNames decodes it.
func (c *Client) Notify(dir smb2.FileID, filter uint32) (*Call, error) {
	if c.inline {
		return nil, errors.New("smbwire: Notify needs a concurrent client")
	}
	b := c.start(32)
	le16(b, 32)
	le32(b[4:], 4096)
	putFID(b[8:], dir)
	le32(b[24:], filter)
	_, cl, err := c.finish(smb2.ChangeNotify, 1)
	return cl, err
}

// startSetInfo starts a SET_INFO request (MS-SMB2 2.2.39) of file
// information class class on f and returns its n-byte buffer to fill.
func (c *Client) startSetInfo(f smb2.FileID, class uint8, n int) []byte {
	b := c.start(32 + n)
	le16(b, 33)
	b[2] = smb2.InfoFile
	b[3] = class
	le32(b[4:], uint32(n))
	le16(b[8:], smb2.HeaderSize+32)
	putFID(b[16:], f)
	return b[32:]
}

// SetDeletePending sets FileDispositionInformation (MS-FSCC 2.4.11) on f:
// with pending true the file is deleted when its last open closes.
func (c *Client) SetDeletePending(ctx context.Context, f smb2.FileID, pending bool) error {
	b := c.startSetInfo(f, fscc.FileDispositionInformation, 1)
	if pending {
		b[0] = 1
	}
	_, err := c.exchange(ctx, smb2.SetInfo, 1)
	return err
}

// Rename renames the open f to newName (relative to the share root) with
// FileRenameInformation for SMB2 (MS-FSCC 2.4.42.2: ReplaceIfExists, 7
// reserved bytes, RootDirectory zero, FileNameLength, FileName), 20 bytes
// plus the name as go-smb2 sends it.
func (c *Client) Rename(ctx context.Context, f smb2.FileID, newName string, replace bool) error {
	n := utf16le.EncodedLen(newName)
	b := c.startSetInfo(f, fscc.FileRenameInformation, 20+n)
	if replace {
		b[0] = 1
	}
	le32(b[16:], uint32(n))
	utf16le.Put(b[20:], newName)
	_, err := c.exchange(ctx, smb2.SetInfo, 1)
	return err
}

// QueryDirectory sends one QUERY_DIRECTORY (MS-SMB2 2.2.33) on the
// directory open dir for entries of information class class matching
// pattern, asking for at most outLen bytes (charged one credit per 64
// KiB), and returns the entries' buffer (MS-SMB2 2.2.34). In inline mode
// the buffer is valid until the next request. At the end of the listing
// the error is a StatusError with smb2.StatusNoMoreFiles.
func (c *Client) QueryDirectory(ctx context.Context, dir smb2.FileID, class, flags uint8, pattern string, outLen uint32) ([]byte, error) {
	buf, st, err := c.queryDirectory(ctx, dir, class, flags, pattern, outLen)
	if err == nil && st != smb2.StatusSuccess {
		err = StatusError{smb2.QueryDirectory, st}
	}
	return buf, err
}

// queryDirectory is QueryDirectory returning the answer's status apart:
// err is only for a lost connection or a malformed answer.
func (c *Client) queryDirectory(ctx context.Context, dir smb2.FileID, class, flags uint8, pattern string, outLen uint32) ([]byte, smb2.Status, error) {
	n := utf16le.EncodedLen(pattern)
	b := c.start(32 + max(n, 1))
	le16(b, 33)
	b[2] = class
	b[3] = flags
	putFID(b[8:], dir)
	le16(b[24:], smb2.HeaderSize+32)
	le16(b[26:], uint16(n))
	le32(b[28:], outLen)
	utf16le.Put(b[32:], pattern)
	r, err := c.exchangeAny(ctx, smb2.QueryDirectory, charge(outLen))
	if err != nil {
		return nil, 0, err
	}
	if st := smb2.Status(r.Header.Status); st != smb2.StatusSuccess {
		return nil, st, nil
	}
	buf, err := responseBuffer(r.Msg)
	return buf, smb2.StatusSuccess, err
}

// CountDir lists the directory open dir to its end, as go-smb2's Readdir
// does (FileDirectoryInformation, pattern "*", MaxTransact bytes a
// request, until STATUS_NO_MORE_FILES), and returns the number of entries
// other than "." and "..".
func (c *Client) CountDir(ctx context.Context, dir smb2.FileID) (int, error) {
	total := 0
	for {
		buf, st, err := c.queryDirectory(ctx, dir, fscc.FileDirectoryInformation, 0, "*", c.maxTransact)
		if err != nil {
			return total, err
		}
		switch st {
		case smb2.StatusSuccess:
		case smb2.StatusNoMoreFiles:
			return total, nil
		default:
			return total, StatusError{smb2.QueryDirectory, st}
		}
		all, named, err := CountEntries(buf, fscc.FileDirectoryInformation)
		if err != nil {
			return total, err
		}
		if all == 0 {
			return total, errors.New("QUERY_DIRECTORY answered success with no entries")
		}
		total += named
	}
}
