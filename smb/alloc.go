package smb

import (
	"encoding/binary"

	"github.com/cifsd/cifsd/smb2"
)

// The allocation size a CREATE asks for (SMB2_CREATE_ALLOCATION_SIZE, MS-SMB2
// 2.2.13.2.6, 3.3.5.9.3; MS-FSA 2.1.5.1.1: a new or replaced file is
// allocated that much). Backends have no allocation of their own to keep,
// so the file's node keeps it while the file has opens, durable ones
// included; a file reports the larger of it and its size rounded up to the
// allocation unit (smbtorture smb2.durable-open.alloc-size). A truncation
// gives it up.

// maxAlloc bounds a requested allocation (it is only reported).
const maxAlloc = 1 << 62

// requestedAlloc is the allocation size create context of r, 0 if none.
func requestedAlloc(r *smb2.CreateRequest) int64 {
	for _, cc := range r.CreateContexts {
		if cc.Name == smb2.CreateAllocationSize && len(cc.Data) >= 8 {
			v := binary.LittleEndian.Uint64(cc.Data)
			if v > maxAlloc {
				v = maxAlloc
			}
			return int64(v)
		}
	}
	return 0
}

// applyAlloc raises m's allocation to what the file's CREATE asked for.
// The caller holds sh.mu.
func (n *fileNode) applyAlloc(m *meta) {
	if n == nil || m.isDir || n.stream != "" || n.alloc <= m.alloc {
		return
	}
	m.alloc = (n.alloc + allocUnit - 1) / allocUnit * allocUnit
}

// applyAlloc is fileNode.applyAlloc for o's file; the caller holds no locks.
func (o *Open) applyAlloc(m *meta) {
	if o.node == nil || o.share == nil {
		return
	}
	o.share.mu.Lock()
	o.node.applyAlloc(m)
	o.share.mu.Unlock()
}

// dropAlloc gives up a requested allocation after a truncation.
func (o *Open) dropAlloc() {
	if o.node == nil {
		return
	}
	o.share.mu.Lock()
	o.node.alloc = 0
	o.share.mu.Unlock()
}
