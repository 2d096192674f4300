package smb

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// DOS attributes and timestamps (MS-FSA 2.1.5.15.2 FileBasicInformation,
// 2.1.5.12.6 query). The FILE_ATTRIBUTE_* bits, a creation time and a
// change time a client sets live in the backend (vfs.AttrStore: Mem in
// memory, Dir in an extended attribute); last-write and last-access times
// are the file system's own.

// validSetAttributes are the attributes SetBasicInfo may change
// (MS-FSA 2.1.5.15.2 ValidSetAttributes).
const validSetAttributes = fscc.FileAttributeReadonly | fscc.FileAttributeHidden |
	fscc.FileAttributeSystem | fscc.FileAttributeArchive | fscc.FileAttributeTemporary |
	fscc.FileAttributeOffline | fscc.FileAttributeNotContentIndexed

// storedAttributes returns the FILE_ATTRIBUTE_* bits of fi's file as kept
// (without DIRECTORY and NORMAL, and without what is derived from the name):
// what the backend stored or, when it stored nothing, the defaults a new
// file gets (ARCHIVE for a file) and READONLY from the permission bits.
func storedAttributes(fi fs.FileInfo) uint32 {
	if a, ok := vfs.AttributesOf(fi); ok {
		return a &^ (fscc.FileAttributeDirectory | fscc.FileAttributeNormal)
	}
	var a uint32
	if !fi.IsDir() {
		a = fscc.FileAttributeArchive
	}
	if fi.Mode().Perm()&0o222 == 0 {
		a |= fscc.FileAttributeReadonly
	}
	return a
}

// setTime is one time of a SetBasicInfo request: 0 leaves it alone, -1 and
// -2 stop and resume its automatic update for the handle (MS-FSCC 2.4.7).
func setTime(ft uint64) (time.Time, bool) {
	if ft == 0 || int64(ft) == -1 || int64(ft) == -2 {
		return time.Time{}, false
	}
	return fscc.Time(ft), true
}

// userSetTimes are an open's Open.UserSetCreationTime, ...AccessTime,
// ...ModificationTime and ...ChangeTime (MS-FSA 2.1.3): the client set or
// froze (-1) that time through the handle, so the handle's own operations
// no longer update it, until it thaws it (-2).
type userSetTimes struct {
	creation, access, write, change bool
}

// userSetFlag updates one userSetTimes flag for a SetBasicInfo time.
func userSetFlag(flag *bool, ft uint64) {
	switch int64(ft) {
	case 0:
	case -2:
		*flag = false
	default:
		*flag = true
	}
}

// setBasicInfo applies FileBasicInformation (MS-FSA 2.1.5.15.2).
//
// -1 and -2 freeze and thaw a time's automatic update for the handle: the
// time itself stays as it is. A change time the handle set or froze is
// kept when the handle changes the file's attributes or other times.
func (o *Open) setBasicInfo(ctx context.Context, bi fscc.BasicInformation) smb2.Status {
	for _, t := range []uint64{bi.CreationTime, bi.LastAccessTime, bi.LastWriteTime, bi.ChangeTime} {
		if int64(t) < -2 {
			return smb2.StatusInvalidParameter
		}
	}
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	fsys := o.share.cfg.FS
	fi, err := fsys.Stat(ctx, name)
	if err != nil {
		return statusOf(err)
	}
	dataStream := !fi.IsDir() || o.stream != ""
	if bi.FileAttributes&fscc.FileAttributeDirectory != 0 && dataStream {
		return smb2.StatusInvalidParameter
	}
	if bi.FileAttributes&fscc.FileAttributeTemporary != 0 && fi.IsDir() {
		return smb2.StatusInvalidParameter
	}
	access, setAccess := setTime(bi.LastAccessTime)
	write, setWrite := setTime(bi.LastWriteTime)
	birth, setBirth := setTime(bi.CreationTime)
	change, setChange := setTime(bi.ChangeTime)
	o.mu.Lock()
	us := &o.userSet
	keepChange := us.change && !setChange
	userSetFlag(&us.creation, bi.CreationTime)
	userSetFlag(&us.access, bi.LastAccessTime)
	userSetFlag(&us.write, bi.LastWriteTime)
	userSetFlag(&us.change, bi.ChangeTime)
	o.mu.Unlock()
	o.updateWriteTime(ctx, true) // a pending delayed update first (io_writetime.go)
	if setAccess || setWrite {
		if err := fsys.Chtimes(ctx, name, access, write); err != nil {
			return statusOf(err)
		}
		if setWrite {
			o.setHeldWriteTime(write)
		}
	}
	store, ok := o.share.attrStore() // store dos attributes (share_policy.go)
	if !ok || bi.FileAttributes == 0 && !setBirth && !setChange && !(keepChange && (setAccess || setWrite)) {
		return smb2.StatusSuccess
	}
	if keepChange {
		change, setChange = vfs.TimesOf(fi).Change, true
	}
	attrs := storedAttributes(fi)
	if bi.FileAttributes != 0 {
		valid := validSetAttributes
		if name == "." {
			// The root directory keeps its hidden and system bits.
			valid &^= fscc.FileAttributeHidden | fscc.FileAttributeSystem
		}
		attrs = attrs&^valid | bi.FileAttributes&valid
	}
	a := vfs.Attrs{FileAttributes: attrs}
	if setBirth {
		a.Birth = birth
	}
	if setChange {
		a.Change = change
	}
	if err := store.SetAttrs(ctx, name, a); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return smb2.StatusSuccess // a file system without xattrs: as before
		}
		return statusOf(err)
	}
	return smb2.StatusSuccess
}

// createAttributes computes the attributes of a file a CREATE makes or
// replaces (MS-FSA 2.1.5.1.2.1 and 2.1.5.1.2.2): requested are the
// request's FileAttributes; existing, for an overwrite or supersede, the
// attributes the file had (storedAttributes) and exists is true. A file
// gets ARCHIVE; an overwrite keeps nothing of the old attributes but must
// name HIDDEN and SYSTEM again if the file had them, else the open fails
// with STATUS_ACCESS_DENIED.
func createAttributes(requested, existing uint32, exists, isDir bool) (uint32, smb2.Status) {
	if requested&fscc.FileAttributeEncrypted != 0 {
		// No EFS here: Windows without it refuses to make an encrypted
		// file (create.gentest).
		return 0, smb2.StatusAccessDenied
	}
	requested &= validSetAttributes
	if exists {
		for _, bit := range []uint32{fscc.FileAttributeHidden, fscc.FileAttributeSystem} {
			if existing&bit != 0 && requested&bit == 0 {
				return 0, smb2.StatusAccessDenied
			}
		}
	}
	if !isDir {
		requested |= fscc.FileAttributeArchive
	} else {
		requested &^= fscc.FileAttributeTemporary
	}
	return requested, smb2.StatusSuccess
}

// applyCreateAttributes stores the attributes of a file a CREATE just made
// (created, overwritten or superseded): attrs from createAttributes. A
// backend without vfs.AttrStore keeps only what the permission bits say.
func applyCreateAttributes(ctx context.Context, fsys vfs.FS, name string, attrs uint32) smb2.Status {
	store, ok := vfs.As[vfs.AttrStore](fsys)
	if !ok {
		return smb2.StatusSuccess
	}
	if err := store.SetAttrs(ctx, name, vfs.Attrs{FileAttributes: attrs}); err != nil &&
		!errors.Is(err, errors.ErrUnsupported) {
		return statusOf(err)
	}
	return smb2.StatusSuccess
}

// readOnly reports whether fi's file has FILE_ATTRIBUTE_READONLY.
func readOnly(fi fs.FileInfo) bool {
	return storedAttributes(fi)&fscc.FileAttributeReadonly != 0
}
