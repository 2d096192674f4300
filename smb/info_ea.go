package smb

import (
	"context"
	"strings"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Extended attributes (MS-FSCC 2.4.15, MS-FSA 2.1.5.14.2) live in the
// backend when it implements vfs.EAer; elsewhere a file has none and
// setting one fails as on a file system without EA support.

// statusEAsNotSupported is STATUS_EAS_NOT_SUPPORTED.
const statusEAsNotSupported = smb2.Status(0xC000004F)

func (o *Open) eaBackend() vfs.EAer {
	e, _ := vfs.As[vfs.EAer](o.share.cfg.FS)
	return e
}

// eas lists the file's extended attributes.
func (o *Open) eas(ctx context.Context) ([]fscc.EA, error) {
	e := o.eaBackend()
	if e == nil || o.pipe != nil {
		return nil, nil
	}
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	list, err := e.EAs(ctx, name)
	if err != nil {
		return nil, err
	}
	return fsccEAs(list), nil
}

// fsccEAs is a backend's list of EAs as package fscc encodes them.
func fsccEAs(list []vfs.EA) []fscc.EA {
	out := make([]fscc.EA, len(list))
	for i, ea := range list {
		out[i] = fscc.EA{Name: ea.Name, Value: ea.Value}
	}
	return out
}

// queryEAs answers FileFullEaInformation.
func (o *Open) queryEAs(ctx context.Context) ([]byte, smb2.Status) {
	list, err := o.eas(ctx)
	if err != nil {
		return nil, statusOf(err)
	}
	if len(list) == 0 {
		return nil, smb2.StatusNoEasOnFile
	}
	return fscc.EncodeFullEaInformation(list), smb2.StatusSuccess
}

// setEAs applies a FILE_FULL_EA_INFORMATION list to the file at name.
func setEAs(ctx context.Context, fsys vfs.FS, name string, buf []byte) smb2.Status {
	list, err := fscc.DecodeFullEaInformation(buf)
	if err != nil {
		return smb2.StatusEAListInconsistent
	}
	return setEAList(ctx, fsys, name, list)
}

// setEAList sets the EAs of list on the file at name.
func setEAList(ctx context.Context, fsys vfs.FS, name string, list []fscc.EA) smb2.Status {
	e, ok := vfs.As[vfs.EAer](fsys)
	if !ok {
		return statusEAsNotSupported
	}
	for _, ea := range list {
		// NTFS keeps EA names upper-cased.
		if err := e.SetEA(ctx, name, vfs.EA{Name: strings.ToUpper(ea.Name), Value: ea.Value}); err != nil {
			return statusOf(err)
		}
	}
	return smb2.StatusSuccess
}
