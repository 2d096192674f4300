package vfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// memPage is the unit of an in-memory file's storage. Pages never written
// are not allocated and read as zeros, so sparse files cost nothing.
const memPage = 64 << 10

// Mem is an in-memory file system. Namespace operations take one tree lock;
// file data has a lock per file, so I/O on different files never contends.
// Open files survive Remove and Rename, as on POSIX.
type Mem struct {
	mu     sync.RWMutex
	root   *memNode
	nextID atomic.Uint64
	// Capacity is the size reported by StatFS (default 1 TiB).
	Capacity uint64
	used     atomic.Int64
}

type memNode struct {
	id       uint64
	name     string
	dir      bool
	mode     fs.FileMode
	children map[string]*memNode // directories
	order    memOrder            // directories: the listing order (mem_dirpage.go)

	mu      sync.RWMutex // data and times of a file
	pages   [][]byte
	size    int64
	birth   time.Time
	atime   time.Time
	mtime   time.Time
	ctime   time.Time
	nlinks  uint32
	eas     []EA
	streams map[string]*memNode // by upper-cased stream name
	sparse  bool                // FSCTL_SET_SPARSE mark (mem_sparse.go)
	attrs   uint32              // stored FILE_ATTRIBUTE_* bits (mem_attrs.go)
	hasAttr bool
	sd      []byte // stored security descriptor (mem_sd.go)
}

// NewMem returns an empty in-memory file system.
func NewMem() *Mem {
	m := &Mem{}
	m.root = m.newNode(".", true, 0o777)
	return m
}

// NewMemFromFS returns an in-memory file system holding a copy of fsys
// (for example an embed.FS).
func NewMemFromFS(fsys fs.FS) (*Mem, error) {
	m := NewMem()
	ctx := context.Background()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if d.IsDir() {
			return m.Mkdir(ctx, p, 0o777)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f, err := m.OpenFile(ctx, p, O_RDWR|O_CREATE|O_TRUNC, 0o666)
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(data, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mem) newNode(name string, dir bool, mode fs.FileMode) *memNode {
	now := time.Now()
	n := &memNode{id: m.nextID.Add(1), name: name, dir: dir, mode: mode.Perm(),
		birth: now, atime: now, mtime: now, ctime: now, nlinks: 1}
	if dir {
		n.children = make(map[string]*memNode)
	}
	return n
}

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// lookup finds name; the caller holds m.mu.
func (m *Mem) lookup(name string) (*memNode, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrInvalid
	}
	n := m.root
	if name == "." {
		return n, nil
	}
	for _, e := range strings.Split(name, "/") {
		if !n.dir {
			return nil, ErrNotDir
		}
		c := n.children[e]
		if c == nil {
			return nil, fs.ErrNotExist
		}
		n = c
	}
	return n, nil
}

// parent finds the directory that holds name; the caller holds m.mu.
func (m *Mem) parent(name string) (*memNode, string, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, "", fs.ErrInvalid
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	p, err := m.lookup(dir)
	if err != nil {
		return nil, "", err
	}
	if !p.dir {
		return nil, "", ErrNotDir
	}
	return p, base, nil
}

// OpenFile opens or creates a regular file.
func (m *Mem) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	switch {
	case err == nil:
		if flag&O_CREATE != 0 && flag&O_EXCL != 0 {
			return nil, pathErr("open", name, fs.ErrExist)
		}
		if n.dir {
			return nil, pathErr("open", name, ErrIsDir)
		}
		if flag&(O_WRONLY|O_RDWR) != 0 && n.mode&0o200 == 0 {
			return nil, pathErr("open", name, fs.ErrPermission)
		}
	case errors.Is(err, fs.ErrNotExist) && flag&O_CREATE != 0:
		p, base, perr := m.parent(name)
		if perr != nil {
			return nil, pathErr("open", name, perr)
		}
		n = m.newNode(base, false, perm)
		p.setChild(base, n)
		p.touch()
	default:
		return nil, pathErr("open", name, err)
	}
	f := &memFile{m: m, n: n, write: flag&(O_WRONLY|O_RDWR) != 0}
	if flag&O_TRUNC != 0 && f.write {
		f.Truncate(0)
	}
	return f, nil
}

func (n *memNode) touch() {
	now := time.Now()
	n.mu.Lock()
	n.mtime, n.ctime = now, now
	n.mu.Unlock()
}

// Stat describes name.
func (m *Mem) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return n.infoAs(path.Base(name)), nil
}

// ReadDir lists a directory.
func (m *Mem) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.dirNode(name)
	if err != nil {
		return nil, err
	}
	out := make([]fs.FileInfo, 0, len(n.children))
	for name, c := range n.children {
		out = append(out, c.infoAs(name)) // a file with hard links has several names
	}
	return out, nil
}

// ReadDirNames lists the names in a directory.
func (m *Mem) ReadDirNames(ctx context.Context, name string) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.dirNode(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(n.children))
	for name := range n.children {
		out = append(out, name)
	}
	return out, nil
}

// dirNode finds the directory name for a listing; the caller holds m.mu.
func (m *Mem) dirNode(name string) (*memNode, error) {
	n, err := m.lookup(name)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	if !n.dir {
		return nil, pathErr("readdir", name, ErrNotDir)
	}
	return n, nil
}

// Mkdir creates a directory.
func (m *Mem) Mkdir(ctx context.Context, name string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, base, err := m.parent(name)
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	if p.children[base] != nil {
		return pathErr("mkdir", name, fs.ErrExist)
	}
	p.setChild(base, m.newNode(base, true, perm))
	p.touch()
	return nil
}

// Remove removes a file or an empty directory.
func (m *Mem) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, base, err := m.parent(name)
	if err != nil {
		return pathErr("remove", name, err)
	}
	n := p.children[base]
	if n == nil {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if n.dir && len(n.children) > 0 {
		return pathErr("remove", name, ErrNotEmpty)
	}
	p.removeChild(base)
	p.touch()
	n.mu.Lock()
	if n.nlinks > 0 {
		n.nlinks--
	}
	n.ctime = time.Now()
	n.mu.Unlock()
	return nil
}

// Link gives the file oldname the further name newname (a hard link).
func (m *Mem) Link(ctx context.Context, oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(oldname)
	if err != nil {
		return pathErr("link", newname, err)
	}
	if n.dir {
		return pathErr("link", newname, fs.ErrPermission)
	}
	p, base, err := m.parent(newname)
	if err != nil {
		return pathErr("link", newname, err)
	}
	if p.children[base] != nil {
		return pathErr("link", newname, fs.ErrExist)
	}
	p.setChild(base, n)
	p.touch()
	n.mu.Lock()
	n.nlinks++
	n.ctime = time.Now()
	n.mu.Unlock()
	return nil
}

// Rename moves oldname to newname, replacing a file or empty directory
// there.
func (m *Mem) Rename(ctx context.Context, oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	op, ob, err := m.parent(oldname)
	if err != nil {
		return pathErr("rename", oldname, err)
	}
	n := op.children[ob]
	if n == nil {
		return pathErr("rename", oldname, fs.ErrNotExist)
	}
	np, nb, err := m.parent(newname)
	if err != nil {
		return pathErr("rename", newname, err)
	}
	if n.dir && (newname == oldname || strings.HasPrefix(newname+"/", oldname+"/")) && newname != oldname {
		return pathErr("rename", newname, fs.ErrInvalid) // into itself
	}
	old := np.children[nb]
	if old == n && (op != np || ob != nb) {
		return nil // two names of one file: nothing to do, as POSIX rename(2)
	}
	if old != nil && old != n {
		if old.dir != n.dir {
			if old.dir {
				return pathErr("rename", newname, ErrIsDir)
			}
			return pathErr("rename", newname, ErrNotDir)
		}
		if old.dir && len(old.children) > 0 {
			return pathErr("rename", newname, ErrNotEmpty)
		}
	}
	if old != nil && old != n {
		old.mu.Lock()
		old.nlinks-- // replaced: one name fewer
		old.mu.Unlock()
	}
	op.removeChild(ob)
	n.name = nb
	np.setChild(nb, n)
	op.touch()
	np.touch()
	n.mu.Lock()
	n.ctime = time.Now()
	n.mu.Unlock()
	return nil
}

// Chtimes sets access and modification times; zero times are left alone.
func (m *Mem) Chtimes(ctx context.Context, name string, atime, mtime time.Time) error {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return pathErr("chtimes", name, err)
	}
	n.mu.Lock()
	if !atime.IsZero() {
		n.atime = atime
	}
	if !mtime.IsZero() {
		n.mtime = mtime
	}
	n.ctime = time.Now()
	n.mu.Unlock()
	return nil
}

// StatFS reports the capacity and what the files use.
func (m *Mem) StatFS(ctx context.Context) (FSStat, error) {
	total := m.Capacity
	if total == 0 {
		total = 1 << 40
	}
	used := uint64(max(m.used.Load(), 0))
	return FSStat{TotalBytes: total, FreeBytes: total - min(used, total), BlockSize: memPage}, nil
}

func (n *memNode) info() *memInfo { return n.infoAs(n.name) }

// infoAs describes n under one of its names.
func (n *memNode) infoAs(name string) *memInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	mode := n.mode
	if n.dir {
		mode |= fs.ModeDir
	}
	return &memInfo{name: name, size: n.size, mode: mode, id: n.id, birth: n.birth,
		atime: n.atime, mtime: n.mtime, ctime: n.ctime, links: n.nlinks,
		attrs: n.attrs, hasAttr: n.hasAttr}
}

type memInfo struct {
	name                       string
	size                       int64
	mode                       fs.FileMode
	id                         uint64
	birth, atime, mtime, ctime time.Time
	links                      uint32
	attrs                      uint32
	hasAttr                    bool
}

func (i *memInfo) Name() string          { return i.name }
func (i *memInfo) Size() int64           { return i.size }
func (i *memInfo) Mode() fs.FileMode     { return i.mode }
func (i *memInfo) ModTime() time.Time    { return i.mtime }
func (i *memInfo) IsDir() bool           { return i.mode.IsDir() }
func (i *memInfo) Sys() any              { return nil }
func (i *memInfo) AccessTime() time.Time { return i.atime }
func (i *memInfo) ChangeTime() time.Time { return i.ctime }
func (i *memInfo) BirthTime() time.Time  { return i.birth }
func (i *memInfo) FileID() uint64        { return i.id }
func (i *memInfo) Links() uint32         { return i.links }

type memFile struct {
	m      *Mem
	n      *memNode
	write  bool
	closed atomic.Bool
}

var errClosed = errors.New("vfs: file closed")

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, errClosed
	}
	if off < 0 {
		return 0, fs.ErrInvalid
	}
	n := f.n
	n.mu.RLock()
	defer n.mu.RUnlock()
	if off >= n.size {
		return 0, io.EOF
	}
	want := len(p)
	if rem := n.size - off; int64(want) > rem {
		want = int(rem)
	}
	done := 0
	for done < want {
		pos := off + int64(done)
		pi, po := int(pos/memPage), int(pos%memPage)
		c := min(memPage-po, want-done)
		if pi < len(n.pages) && n.pages[pi] != nil {
			copy(p[done:done+c], n.pages[pi][po:po+c])
		} else {
			clear(p[done : done+c])
		}
		done += c
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, errClosed
	}
	if !f.write {
		return 0, fs.ErrPermission
	}
	if off < 0 || off > 1<<50 {
		return 0, fs.ErrInvalid
	}
	if len(p) == 0 {
		return 0, nil // the page table does not grow for nothing
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	end := off + int64(len(p))
	if need := int((end + memPage - 1) / memPage); need > len(n.pages) {
		n.pages = append(n.pages, make([][]byte, need-len(n.pages))...)
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		pi, po := int(pos/memPage), int(pos%memPage)
		if n.pages[pi] == nil {
			n.pages[pi] = make([]byte, memPage)
			f.m.used.Add(memPage)
		}
		done += copy(n.pages[pi][po:], p[done:])
	}
	if end > n.size {
		n.size = end
	}
	now := time.Now()
	n.mtime, n.ctime = now, now
	return len(p), nil
}

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return errClosed
	}
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.n.info(), nil }

func (f *memFile) Truncate(size int64) error {
	if !f.write {
		return fs.ErrPermission
	}
	if size < 0 || size > 1<<50 {
		return fs.ErrInvalid
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	keep := int((size + memPage - 1) / memPage)
	for i := keep; i < len(n.pages); i++ {
		if n.pages[i] != nil {
			f.m.used.Add(-memPage)
		}
	}
	if keep < len(n.pages) {
		n.pages = n.pages[:keep]
	}
	if size < n.size && keep > 0 && keep <= len(n.pages) && n.pages[keep-1] != nil {
		// Zero the tail of the last page so a later extension reads zeros.
		clear(n.pages[keep-1][size-int64(keep-1)*memPage:])
	}
	n.size = size
	now := time.Now()
	n.mtime, n.ctime = now, now
	return nil
}

func (f *memFile) Sync() error { return nil }

// EAs returns the extended attributes of name.
func (m *Mem) EAs(ctx context.Context, name string) ([]EA, error) {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return nil, pathErr("eas", name, err)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]EA, len(n.eas))
	for i, ea := range n.eas {
		out[i] = EA{Name: ea.Name, Value: append([]byte(nil), ea.Value...)}
	}
	return out, nil
}

// SetEA sets or (with an empty value) removes one extended attribute.
func (m *Mem) SetEA(ctx context.Context, name string, ea EA) error {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return pathErr("setea", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, old := range n.eas {
		if strings.EqualFold(old.Name, ea.Name) {
			if len(ea.Value) == 0 {
				n.eas = append(n.eas[:i], n.eas[i+1:]...)
			} else {
				n.eas[i].Value = append([]byte(nil), ea.Value...)
			}
			n.ctime = time.Now()
			return nil
		}
	}
	if len(ea.Value) > 0 {
		n.eas = append(n.eas, EA{Name: ea.Name, Value: append([]byte(nil), ea.Value...)})
		n.ctime = time.Now()
	}
	return nil
}

// OpenStream opens (O_CREATE: creates) a named stream of name.
func (m *Mem) OpenStream(ctx context.Context, name, stream string, flag int) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	if err != nil {
		return nil, pathErr("openstream", name, err)
	}
	key := strings.ToUpper(stream)
	sn := n.streams[key]
	switch {
	case sn != nil && flag&O_CREATE != 0 && flag&O_EXCL != 0:
		return nil, pathErr("openstream", name+":"+stream, fs.ErrExist)
	case sn == nil && flag&O_CREATE == 0:
		return nil, pathErr("openstream", name+":"+stream, fs.ErrNotExist)
	case sn == nil:
		sn = m.newNode(stream, false, 0o666)
		if n.streams == nil {
			n.streams = make(map[string]*memNode)
		}
		n.streams[key] = sn
	}
	f := &memFile{m: m, n: sn, write: flag&(O_WRONLY|O_RDWR) != 0}
	if flag&O_TRUNC != 0 && f.write {
		f.Truncate(0)
	}
	return f, nil
}

// Streams lists the named streams of name.
func (m *Mem) Streams(ctx context.Context, name string) ([]StreamInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(name)
	if err != nil {
		return nil, pathErr("streams", name, err)
	}
	out := make([]StreamInfo, 0, len(n.streams))
	for _, sn := range n.streams {
		sn.mu.RLock()
		out = append(out, StreamInfo{Name: sn.name, Size: sn.size})
		sn.mu.RUnlock()
	}
	return out, nil
}

// RemoveStream deletes a named stream.
func (m *Mem) RemoveStream(ctx context.Context, name, stream string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	if err != nil {
		return pathErr("removestream", name, err)
	}
	key := strings.ToUpper(stream)
	if n.streams[key] == nil {
		return pathErr("removestream", name+":"+stream, fs.ErrNotExist)
	}
	delete(n.streams, key)
	return nil
}
