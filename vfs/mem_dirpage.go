package vfs

import (
	"context"
	"io"
	"sort"
	"strconv"
)

// memOrder is the order in which a Mem directory lists its names: the
// order they were added, each with a sequence number that is its cursor.
// Removed names leave a hole until the holes are many, so a page costs a
// binary search and the entries it returns.
type memOrder struct {
	slots []memSlot
	seqs  map[string]uint64 // name -> its slot's seq
	next  uint64
	holes int
}

type memSlot struct {
	seq  uint64
	name string // "" once removed
}

func (o *memOrder) add(name string) {
	if o.seqs == nil {
		o.seqs = make(map[string]uint64)
	}
	o.next++
	o.seqs[name] = o.next
	o.slots = append(o.slots, memSlot{seq: o.next, name: name})
}

func (o *memOrder) remove(name string) {
	seq, ok := o.seqs[name]
	if !ok {
		return
	}
	delete(o.seqs, name)
	i := sort.Search(len(o.slots), func(i int) bool { return o.slots[i].seq >= seq })
	if i < len(o.slots) && o.slots[i].seq == seq {
		o.slots[i].name = ""
		o.holes++
	}
	if o.holes > 64 && o.holes > len(o.slots)/2 {
		kept := o.slots[:0]
		for _, s := range o.slots {
			if s.name != "" {
				kept = append(kept, s)
			}
		}
		clear(o.slots[len(kept):])
		o.slots, o.holes = kept, 0
	}
}

// setChild gives directory n the entry name; the caller holds m.mu.
func (n *memNode) setChild(name string, c *memNode) {
	if _, ok := n.children[name]; ok {
		n.order.remove(name)
	}
	n.children[name] = c
	n.order.add(name)
}

// removeChild takes the entry name out of directory n; the caller holds
// m.mu.
func (n *memNode) removeChild(name string) {
	delete(n.children, name)
	n.order.remove(name)
}

// ReadDirPage lists up to n entries of a directory after the cursor after,
// in the order they were added (DirPager). A cursor is the entry's sequence
// number in its directory.
func (m *Mem) ReadDirPage(ctx context.Context, name, after string, n int) ([]DirEntry, error) {
	var from uint64
	if after != "" {
		v, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, pathErr("readdir", name, err)
		}
		from = v
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, err := m.dirNode(name)
	if err != nil {
		return nil, err
	}
	slots := d.order.slots
	i := sort.Search(len(slots), func(i int) bool { return slots[i].seq > from })
	var out []DirEntry
	for ; i < len(slots) && len(out) < n; i++ {
		s := slots[i]
		if s.name == "" {
			continue
		}
		out = append(out, DirEntry{Info: d.children[s.name].infoAs(s.name), Cursor: strconv.FormatUint(s.seq, 10)})
	}
	for i < len(slots) && slots[i].name == "" {
		i++
	}
	if i == len(slots) {
		return out, io.EOF
	}
	return out, nil
}
