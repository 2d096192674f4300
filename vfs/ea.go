package vfs

import "context"

// EA is one extended attribute. Names compare case-insensitively, as on
// NTFS.
type EA struct {
	Name  string
	Value []byte
}

// EAer is implemented by backends that store extended attributes.
type EAer interface {
	// EAs returns the extended attributes of name (none: an empty list).
	EAs(ctx context.Context, name string) ([]EA, error)
	// SetEA sets one attribute; an empty value removes it.
	SetEA(ctx context.Context, name string, ea EA) error
}
