package vfs

import (
	"context"
	"time"
)

// SetAttrs stores Windows attributes and times for name (AttrStore).
func (m *Mem) SetAttrs(ctx context.Context, name string, a Attrs) error {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return pathErr("setattrs", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.attrs, n.hasAttr = a.FileAttributes, true
	if !a.Birth.IsZero() {
		n.birth = a.Birth
	}
	if !a.Change.IsZero() {
		n.ctime = a.Change
	} else {
		n.ctime = time.Now()
	}
	return nil
}

// FileAttributes reports the stored FILE_ATTRIBUTE_* bits (AttrInfo).
func (i *memInfo) FileAttributes() (uint32, bool) { return i.attrs, i.hasAttr }
