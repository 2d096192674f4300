package vfs

import (
	"context"
	"io/fs"
	"time"
)

// SetSparse marks or unmarks name as sparse.
func (m *Mem) SetSparse(ctx context.Context, name string, sparse bool) error {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return pathErr("setsparse", name, err)
	}
	n.mu.Lock()
	n.sparse = sparse
	n.mu.Unlock()
	return nil
}

// Sparse reports whether name is marked sparse.
func (m *Mem) Sparse(ctx context.Context, name string) (bool, error) {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return false, pathErr("sparse", name, err)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sparse, nil
}

// PunchHole zeros [off, off+length) and frees the whole pages inside it; the
// size is unchanged. Pages are the allocation unit (64 KiB).
func (f *memFile) PunchHole(off, length int64) error {
	if f.closed.Load() {
		return errClosed
	}
	if !f.write {
		return fs.ErrPermission
	}
	if off < 0 || length < 0 {
		return fs.ErrInvalid
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	end := n.size
	if length < end-off {
		end = off + length
	}
	for pos := off; pos < end; {
		pi, po := int(pos/memPage), pos%memPage
		c := min(memPage-po, end-pos)
		if pi < len(n.pages) && n.pages[pi] != nil {
			if c == memPage || po == 0 && pos+c >= n.size {
				n.pages[pi] = nil
				f.m.used.Add(-memPage)
			} else {
				clear(n.pages[pi][po : po+c])
			}
		}
		pos += c
	}
	now := time.Now()
	n.mtime, n.ctime = now, now
	return nil
}

// DataRanges reports the allocated pages within [off, off+length), merged
// and clipped to the window and the end of file.
func (f *memFile) DataRanges(off, length int64, max int) ([]Range, error) {
	if f.closed.Load() {
		return nil, errClosed
	}
	n := f.n
	n.mu.RLock()
	defer n.mu.RUnlock()
	end := n.size
	if length < end-off {
		end = off + length
	}
	var out []Range
	for pos := off; pos < end; {
		pi := int(pos / memPage)
		next := min(int64(pi+1)*memPage, end)
		if pi < len(n.pages) && n.pages[pi] != nil {
			if k := len(out); k > 0 && out[k-1].Off+out[k-1].Len == pos {
				out[k-1].Len += next - pos
			} else {
				if len(out) == max {
					break
				}
				out = append(out, Range{Off: pos, Len: next - pos})
			}
		}
		pos = next
	}
	return out, nil
}
