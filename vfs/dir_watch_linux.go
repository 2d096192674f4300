//go:build linux

package vfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// maxDirWatches bounds the directories one Watch follows (each costs the
// kernel an inotify watch); deeper trees past it are not reported.
const maxDirWatches = 8192

// inotifyMask is what a watched directory reports: names coming and going,
// data and metadata changes of its entries. Symbolic links are not followed.
const inotifyMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK

// Watch reports changes under the directory with inotify (see Watcher).
func (d *DirFS) Watch(fn func([]Change)) (io.Closer, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("vfs: inotify: %w", err)
	}
	// A non-blocking descriptor joins Go's poller: Read parks the
	// goroutine, and Close wakes it.
	w := &dirWatch{
		f:    os.NewFile(uintptr(fd), "inotify"),
		fd:   fd,
		root: d.root.Name(),
		wds:  make(map[int32]string),
		done: make(chan struct{}),
	}
	if !w.addTree(".") {
		w.f.Close()
		return nil, fmt.Errorf("vfs: watch %s: %w", w.root, errors.ErrUnsupported)
	}
	go w.loop(fn)
	return w, nil
}

// dirWatch is one Watch: an inotify instance and its watched directories.
type dirWatch struct {
	f    *os.File
	fd   int
	root string
	once sync.Once
	done chan struct{} // closed when loop returns

	mu     sync.Mutex
	wds    map[int32]string // watch descriptor → directory, relative to root
	closed bool             // fd is closed: no more inotify calls
}

// Close stops the watch and waits for its goroutine.
func (w *dirWatch) Close() error {
	var err error
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		err = w.f.Close()
		<-w.done
	})
	return err
}

// addTree watches dir and the directories below it (not through symbolic
// links), up to maxDirWatches. It reports whether dir itself is watched.
func (w *dirWatch) addTree(dir string) bool {
	ok := w.add(dir)
	if !ok {
		return false
	}
	base := filepath.Join(w.root, filepath.FromSlash(dir))
	_ = filepath.WalkDir(base, func(p string, de fs.DirEntry, err error) error {
		if err != nil || p == base {
			return nil
		}
		if !de.IsDir() { // WalkDir reports a symlink as a symlink
			return nil
		}
		rel, rerr := filepath.Rel(w.root, p)
		if rerr != nil || !w.add(filepath.ToSlash(rel)) {
			return filepath.SkipDir
		}
		return nil
	})
	return true
}

// add watches one directory.
func (w *dirWatch) add(dir string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || len(w.wds) >= maxDirWatches {
		return false
	}
	wd, err := unix.InotifyAddWatch(w.fd, filepath.Join(w.root, filepath.FromSlash(dir)), inotifyMask)
	if err != nil {
		return false
	}
	w.wds[int32(wd)] = dir
	return true
}

// forget drops the directories at or below dir (moved away or removed):
// their names are no longer theirs.
func (w *dirWatch) forget(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	for wd, d := range w.wds {
		if d == dir || strings.HasPrefix(d, dir+"/") {
			_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
			delete(w.wds, wd)
		}
	}
}

func (w *dirWatch) loop(fn func([]Change)) {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return // closed
		}
		if out := w.parse(buf[:n]); len(out) > 0 {
			fn(out)
		}
	}
}

// parse turns a read's inotify events into changes (inotify(7)).
func (w *dirWatch) parse(b []byte) []Change {
	var out []Change
	var fromCookie uint32
	fromAt := -1
	for len(b) >= unix.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(b))
		mask := binary.NativeEndian.Uint32(b[4:])
		cookie := binary.NativeEndian.Uint32(b[8:])
		n := binary.NativeEndian.Uint32(b[12:])
		if uint64(n) > uint64(len(b)-unix.SizeofInotifyEvent) {
			break
		}
		raw := b[unix.SizeofInotifyEvent : unix.SizeofInotifyEvent+int(n)]
		b = b[unix.SizeofInotifyEvent+int(n):]
		if i := bytes.IndexByte(raw, 0); i >= 0 {
			raw = raw[:i]
		}
		if mask&unix.IN_Q_OVERFLOW != 0 {
			out = append(out, Change{Op: ChangeOverflow})
			continue
		}
		w.mu.Lock()
		dir, known := w.wds[wd]
		if mask&unix.IN_IGNORED != 0 {
			delete(w.wds, wd)
		}
		w.mu.Unlock()
		if !known || len(raw) == 0 {
			continue
		}
		name := path.Join(dir, string(raw))
		isDir := mask&unix.IN_ISDIR != 0
		c := Change{Name: name, IsDir: isDir}
		switch {
		case mask&unix.IN_CREATE != 0:
			c.Op = ChangeAdded
			if isDir {
				w.addTree(name)
			}
		case mask&unix.IN_DELETE != 0:
			c.Op = ChangeRemoved
		case mask&unix.IN_MOVED_FROM != 0:
			c.Op = ChangeRemoved // until its ChangeRenamedTo shows up
			if isDir {
				w.forget(name)
			}
			fromCookie, fromAt = cookie, len(out)
		case mask&unix.IN_MOVED_TO != 0:
			c.Op = ChangeAdded
			if isDir {
				w.addTree(name)
			}
			if fromAt == len(out)-1 && fromAt >= 0 && cookie == fromCookie &&
				path.Dir(out[fromAt].Name) == path.Dir(name) {
				out[fromAt].Op, c.Op = ChangeRenamedFrom, ChangeRenamedTo
			}
			fromAt = -1
		case mask&unix.IN_MODIFY != 0:
			c.Op = ChangeModified
		case mask&unix.IN_ATTRIB != 0:
			c.Op, c.Meta = ChangeModified, true
		default:
			continue
		}
		out = append(out, c)
	}
	return out
}
