package smb

// Allocation size. The backends know no allocation but the data's, so the
// allocation a client asks for beyond the end of file (MS-FSA 2.1.5.15.1
// FileAllocationInformation; the AlSi create context, MS-SMB2 2.2.13.2.6)
// is kept on the file's node and reported by every query (rounded up to
// allocUnit) while the file has opens. Allocation below the end of file
// truncates (info.go).

// maxAlloc bounds the allocation remembered (it is only reported).
const maxAlloc = 1 << 62

func roundAlloc(n int64) int64 {
	if n <= 0 {
		return 0
	}
	if n > maxAlloc {
		n = maxAlloc
	}
	return (n + allocUnit - 1) / allocUnit * allocUnit
}

// setAlloc records n bytes as the file's allocation (0: the data's own).
func (o *Open) setAlloc(n int64) {
	if o.node == nil {
		return
	}
	o.share.mu.Lock()
	o.share.store.SetAllocLocked(o.node, roundAlloc(n))
	o.share.mu.Unlock()
}

// allocCreate applies the AlSi context of a CREATE that created, overwrote
// or superseded the file (create_contexts.go), and returns the allocation
// to report for a file of size bytes. Called under the share lock.
func allocCreate(st fileStore, n *fileNode, cx *createContexts, action uint32, size int64) int64 {
	if action != fileOpened {
		alloc := int64(0)
		if cx.hasAlloc {
			alloc = cx.alloc
		}
		st.SetAllocLocked(n, alloc)
	}
	return max(roundAlloc(size), st.AllocLocked(n))
}

// applyAlloc raises m's allocation to the one remembered for o's file, for
// the answers that do not come from a query (a durable reconnect, CLOSE).
func (o *Open) applyAlloc(m *meta) {
	if o.node == nil || m.isDir {
		return
	}
	o.share.mu.Lock()
	m.alloc = max(m.alloc, o.share.store.AllocLocked(o.node))
	o.share.mu.Unlock()
}
