package vfs

import "time"

// SetModTime sets the file's modification time (ModTimeSetter).
func (f *memFile) SetModTime(mtime time.Time) error {
	if f.closed.Load() {
		return errClosed
	}
	n := f.n
	n.mu.Lock()
	n.mtime = mtime
	n.ctime = time.Now()
	n.mu.Unlock()
	return nil
}
