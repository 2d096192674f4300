package smb

import (
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
)

// Reports of FILE_ACTION_MODIFIED (and its stream forms) for what cifsd
// changes in a file's data and metadata: the filter bits follow MS-FSA
// 2.1.5.3 (write) and 2.1.5.15 (set information). Every hook returns at once
// when nobody watches the share.

// noteModified reports that o's file (or stream) changed in the ways filter
// names. For a stream open the change is FILE_ACTION_MODIFIED_STREAM on
// "file:stream" with the stream's filter bits (MS-FSCC 2.7.1).
func (o *Open) noteModified(filter uint32) {
	sh := o.share
	if sh == nil || !sh.watch.active() || filter == 0 {
		return
	}
	o.mu.Lock()
	name, stream := o.name, o.stream
	o.mu.Unlock()
	if name == "." {
		return // the share root has no parent to report to
	}
	if stream == "" {
		sh.notifyChanges(filter, change{name, notifyActionModified})
		return
	}
	var sf uint32
	if filter&notifyChangeSize != 0 {
		sf |= notifyChangeStreamSize
	}
	if filter&notifyChangeLastWrite != 0 {
		sf |= notifyChangeStreamWrite
	}
	if sf != 0 {
		sh.notifyChanges(sf, change{name + ":" + stream, notifyActionModifiedStream})
	}
	if rest := filter &^ (notifyChangeSize | notifyChangeLastWrite); rest != 0 {
		sh.notifyChanges(rest, change{name, notifyActionModified})
	}
}

// notifyWrite reports a WRITE: the data and its last-write time changed, and
// maybe its size (MS-FSA 2.1.5.3).
func (o *Open) notifyWrite() {
	o.noteModified(notifyChangeLastWrite | notifyChangeSize)
}

// noteSetInfo reports what a successful SET_INFO of infoType and class with
// buffer b changed (MS-FSA 2.1.5.15, 2.1.5.16).
func (o *Open) noteSetInfo(infoType, class uint8, b []byte) {
	if o.share == nil || !o.share.watch.active() {
		return
	}
	var filter uint32
	switch infoType {
	case smb2.InfoSecurity:
		filter = notifyChangeSecurity
	case smb2.InfoFile:
		switch class {
		case fscc.FileBasicInformation:
			bi, err := fscc.DecodeBasicInformation(b)
			if err != nil {
				return
			}
			if bi.CreationTime != 0 {
				filter |= notifyChangeCreation
			}
			if bi.LastAccessTime != 0 {
				filter |= notifyChangeLastAccess
			}
			if bi.LastWriteTime != 0 {
				filter |= notifyChangeLastWrite
			}
			if bi.FileAttributes != 0 {
				filter |= notifyChangeAttributes
			}
		case fscc.FileEndOfFileInformation, fscc.FileAllocationInformation:
			filter = notifyChangeSize
		case fscc.FileFullEaInformation:
			filter = notifyChangeEA
		}
	}
	o.noteModified(filter)
}

// noteStreamAdded reports a new named stream of name (MS-FSCC 2.7.1
// FILE_ACTION_ADDED_STREAM).
func (sh *shareState) noteStreamAdded(name, stream string) {
	if sh.watch.active() {
		sh.notifyChanges(notifyChangeStreamName, change{name + ":" + stream, notifyActionAddedStream})
	}
}

// noteStreamRemoved reports a deleted named stream of name (MS-FSCC 2.7.1
// FILE_ACTION_REMOVED_STREAM).
func (sh *shareState) noteStreamRemoved(name, stream string) {
	if sh.watch.active() {
		sh.notifyChanges(notifyChangeStreamName, change{name + ":" + stream, notifyActionRemovedStream})
	}
}

// noteDirClosed runs after a directory open is closed: when the directory
// is now delete-pending, the other handles' pending CHANGE_NOTIFY requests
// end with STATUS_DELETE_PENDING.
func (o *Open) noteDirClosed() {
	sh := o.share
	if sh == nil || o.node == nil || !o.isDir || !sh.watch.active() {
		return
	}
	if o.deletePending() {
		sh.notifyDeletePending(o.name)
	}
}

// deletePending reports whether o's file is delete-pending.
func (o *Open) deletePending() bool {
	sh := o.share
	if sh == nil || o.node == nil {
		return false
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.store.IsDeletePendingLocked(o.node)
}

// noteRenamed reports a renamed file's new name as FILE_ACTION_MODIFIED to
// the watchers that asked for attribute changes but not for name changes:
// Windows marks a renamed file for archiving and reports that
// (smbtorture's smb2.notify.mask "rename file special handling",
// smb2.notify.mask-change); watchers of names see the rename itself.
func (sh *shareState) noteRenamed(dst string, isDir bool) {
	if isDir || !sh.watch.active() {
		return
	}
	sh.notifyMatching(func(f uint32) bool {
		return f&notifyChangeAttributes != 0 && f&notifyChangeFileName == 0
	}, change{dst, notifyActionModified})
}
