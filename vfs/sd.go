package vfs

import "context"

// SDStore is implemented by backends that keep a Windows security
// descriptor per file (self-relative, MS-DTYP 2.4.6; the server encodes
// and checks it, the backend only stores the bytes). Mem keeps it in
// memory, Dir in the "user.smb_sd" extended attribute.
type SDStore interface {
	// SecurityDescriptor returns the descriptor stored for name: nil and
	// no error when none was.
	SecurityDescriptor(ctx context.Context, name string) ([]byte, error)
	// SetSecurityDescriptor stores sd for name.
	SetSecurityDescriptor(ctx context.Context, name string, sd []byte) error
}
