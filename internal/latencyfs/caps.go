package latencyfs

import (
	"context"

	"github.com/cifsd/cifsd/vfs"
)

// capFS is the wrapper of an FS that has every interface in memLike: it
// forwards each of them, delayed.
type capFS struct{ *FS }

func (c *capFS) caps() memLike { return c.inner.(memLike) }

// StatFS implements vfs.StatFSer.
func (c *capFS) StatFS(ctx context.Context) (vfs.FSStat, error) {
	if err := c.wait(ctx); err != nil {
		return vfs.FSStat{}, err
	}
	return c.caps().StatFS(ctx)
}

// ReadDirNames implements vfs.NameLister.
func (c *capFS) ReadDirNames(ctx context.Context, name string) ([]string, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c.caps().ReadDirNames(ctx, name)
}

// Link implements vfs.Linker.
func (c *capFS) Link(ctx context.Context, oldname, newname string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.caps().Link(ctx, oldname, newname)
}

// EAs implements vfs.EAer.
func (c *capFS) EAs(ctx context.Context, name string) ([]vfs.EA, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c.caps().EAs(ctx, name)
}

// SetEA implements vfs.EAer.
func (c *capFS) SetEA(ctx context.Context, name string, ea vfs.EA) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.caps().SetEA(ctx, name, ea)
}

// OpenStream implements vfs.Streamer.
func (c *capFS) OpenStream(ctx context.Context, name, stream string, flag int) (vfs.File, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	f, err := c.caps().OpenStream(ctx, name, stream, flag)
	if err != nil {
		return nil, err
	}
	return c.wrapFile(f), nil
}

// Streams implements vfs.Streamer.
func (c *capFS) Streams(ctx context.Context, name string) ([]vfs.StreamInfo, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c.caps().Streams(ctx, name)
}

// RemoveStream implements vfs.Streamer.
func (c *capFS) RemoveStream(ctx context.Context, name, stream string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.caps().RemoveStream(ctx, name, stream)
}

// SetAttrs implements vfs.AttrStore.
func (c *capFS) SetAttrs(ctx context.Context, name string, a vfs.Attrs) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.caps().SetAttrs(ctx, name, a)
}

// SecurityDescriptor implements vfs.SDStore.
func (c *capFS) SecurityDescriptor(ctx context.Context, name string) ([]byte, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c.caps().SecurityDescriptor(ctx, name)
}

// SetSecurityDescriptor implements vfs.SDStore.
func (c *capFS) SetSecurityDescriptor(ctx context.Context, name string, sd []byte) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.caps().SetSecurityDescriptor(ctx, name, sd)
}

// SetSparse implements vfs.Sparser.
func (c *capFS) SetSparse(ctx context.Context, name string, sparse bool) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.caps().SetSparse(ctx, name, sparse)
}

// Sparse implements vfs.Sparser.
func (c *capFS) Sparse(ctx context.Context, name string) (bool, error) {
	if err := c.wait(ctx); err != nil {
		return false, err
	}
	return c.caps().Sparse(ctx, name)
}
