package smb

import (
	"context"
	"errors"
	"io/fs"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Stat opens. An open of an existing file's data stream whose granted
// access has no data right (accessData) and that changes nothing at open
// (FILE_OPEN or FILE_OPEN_IF: no overwrite, no supersede, no truncation)
// keeps no backend file: a stat (FILE_READ_ATTRIBUTES), a delete (DELETE,
// then FileDispositionInformation) or an attribute change needs only the
// name, as Samba's stat opens. Every request that reads or writes data
// first checks a data right the open lacks and fails with
// STATUS_ACCESS_DENIED (MS-SMB2 3.3.5.11 FLUSH, 3.3.5.12 READ, 3.3.5.13
// WRITE, 3.3.5.15.6 copychunk; MS-FSA 2.1.5.9.20, 2.1.5.9.38, 2.1.5.15.4);
// dataFile (io.go) still opens the file, once, should anything need it
// later.

// accessData are the rights that read, write or run a file's data.
const accessData = smb2.FileReadData | smb2.FileWriteData | smb2.FileAppendData | smb2.FileExecute

// hasData reports whether o is an open of data: a file or stream, not a
// directory or pipe (whether or not the stat open has its file yet).
func (o *Open) hasData() bool {
	return o.statOpen || o.file != nil // statOpen first: fixed, file may be set meanwhile
}

// openExisting opens the existing file name with flag; an open that asks
// no write access and truncates nothing falls back to read-only when the
// file system refuses writing.
func openExisting(ctx context.Context, fsys vfs.FS, name string, flag int, access uint32) (vfs.File, error) {
	f, err := fsys.OpenFile(ctx, name, flag, 0)
	if err != nil && flag&vfs.O_RDWR != 0 && errors.Is(err, fs.ErrPermission) &&
		access&accessWriteish == 0 && flag&vfs.O_TRUNC == 0 {
		f, err = fsys.OpenFile(ctx, name, vfs.O_RDONLY, 0)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}
