package smb

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// countingFS counts the calls a share makes to the backend it wraps, and
// the directory entries those calls return. It has an Unwrap method, so
// the backend's other capabilities stay visible (vfs.As); it pages itself
// so that its pages are counted.
type countingFS struct {
	vfs.FS
	stats    atomic.Int64
	listings atomic.Int64 // whole listings (ReadDir, ReadDirNames) of "big"
	listed   atomic.Int64 // the entries they returned
	pages    atomic.Int64 // pages read (ReadDirPage)
	entries  atomic.Int64 // the entries they returned
}

func (c *countingFS) Unwrap() vfs.FS { return c.FS }

func (c *countingFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	c.stats.Add(1)
	return c.FS.Stat(ctx, name)
}

func (c *countingFS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	list, err := c.FS.ReadDir(ctx, name)
	c.countListing(name, len(list))
	return list, err
}

func (c *countingFS) ReadDirNames(ctx context.Context, name string) ([]string, error) {
	list, err := vfs.ReadDirNames(ctx, c.FS, name)
	c.countListing(name, len(list))
	return list, err
}

func (c *countingFS) countListing(name string, n int) {
	if name == "big" {
		c.listings.Add(1)
		c.listed.Add(int64(n))
	}
}

func (c *countingFS) ReadDirPage(ctx context.Context, name, after string, n int) ([]vfs.DirEntry, error) {
	c.pages.Add(1)
	page, err := vfs.ReadDirPage(ctx, c.FS, name, after, n)
	c.entries.Add(int64(len(page)))
	return page, err
}

const bigDir = 100_000

// bigMem is a Mem holding directory "big" of bigDir files f000000...
func bigMem(t *testing.T) *vfs.Mem {
	t.Helper()
	m := vfs.NewMem()
	ctx := context.Background()
	if err := m.Mkdir(ctx, "big", 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range bigDir {
		f, err := m.OpenFile(ctx, fmt.Sprintf("big/f%06d", i), vfs.O_RDWR|vfs.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return m
}

// queryDir sends one QUERY_DIRECTORY of "*" at class with a buffer of
// maxOut bytes and returns its status and the names it listed.
func (w *wireClient) queryDir(dir smb2.FileID, class uint8, flags uint8, maxOut uint32) (smb2.Status, []string) {
	w.t.Helper()
	n := utf16le.Encode("*")
	b := make([]byte, 32+len(n))
	le16(b, 33)
	b[2] = class
	b[3] = flags
	putFID(b[8:], dir)
	le16(b[24:], uint16(smb2.HeaderSize+32))
	le16(b[26:], uint16(len(n)))
	le32(b[28:], maxOut)
	copy(b[32:], n)
	h, resp := w.roundTrip(smb2.QueryDirectory, b, true, false)
	if h.Status != 0 {
		return smb2.Status(h.Status), nil
	}
	body := resp[smb2.HeaderSize:]
	off, size := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:])
	buf := resp[off : uint32(off)+size]
	var names []string
	nameAt := map[uint8]int{fscc.FileIdFullDirectoryInformation: 80, fscc.FileIdBothDirectoryInformation: 104}[class]
	for len(buf) >= nameAt {
		nameLen := binary.LittleEndian.Uint32(buf[60:])
		names = append(names, utf16le.Decode(buf[nameAt:nameAt+int(nameLen)]))
		next := binary.LittleEndian.Uint32(buf)
		if next == 0 {
			break
		}
		buf = buf[next:]
	}
	return 0, names
}

// A QUERY_DIRECTORY of a 100,000-entry directory costs the entries it
// returns: the backend is never asked for a whole listing, and each call
// reads about as many entries as it answers with.
func TestQueryDirectoryCostsWhatItReturns(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 files")
	}
	for _, class := range []uint8{fscc.FileIdFullDirectoryInformation, fscc.FileIdBothDirectoryInformation} {
		t.Run(fmt.Sprint("class ", class), func(t *testing.T) {
			c := &countingFS{FS: bigMem(t)}
			w := attrClient(t, c)
			st, d := w.createWith("big", smb2.GenericRead, shareAll, smb2.FileOpen, smb2.FileDirectoryFile)
			if st != 0 {
				t.Fatal(st)
			}
			seen := make(map[string]bool, bigDir)
			flags := uint8(smb2.QueryDirRestartScans)
			listingsBefore := c.listings.Load()
			for call := 0; ; call++ {
				maxOut := uint32(65536)
				if call < 20 {
					maxOut = 4096 // small answers first: the cost must follow them
				}
				before := c.entries.Load()
				st, names := w.queryDir(d, class, flags, maxOut)
				flags = 0
				if st == smb2.StatusNoMoreFiles {
					break
				}
				if st != 0 {
					t.Fatalf("call %d: %v", call, st)
				}
				read := c.entries.Load() - before
				// Each call reads what it returns, plus at most a page it
				// could not fit (bounded by the buffer, not the directory).
				if limit := int64(2*len(names) + 64); read > limit {
					t.Fatalf("call %d returned %d entries and read %d from the backend", call, len(names), read)
				}
				for _, n := range names {
					if seen[n] {
						t.Fatalf("%s listed twice", n)
					}
					seen[n] = true
				}
			}
			if len(seen) != bigDir+2 {
				t.Fatalf("%d names listed, want %d and . and ..", len(seen), bigDir)
			}
			// The short names of the Both classes come from the directory's
			// index, built from one listing; the Full class needs none.
			want := int64(0)
			if class == fscc.FileIdBothDirectoryInformation {
				want = 1
			}
			if got := c.listings.Load() - listingsBefore; got != want {
				t.Errorf("%d whole listings of the directory, want %d", got, want)
			}
			t.Logf("%d pages read, %d entries, for %d entries listed", c.pages.Load(), c.entries.Load(), len(seen))
		})
	}
}

// Creating a new name in a 100,000-entry directory looks it up in the
// directory's index, not in a listing; the index keeps up with creates,
// renames, hard links and deletes made through the server, and catches a
// name added behind the server's back.
func TestCreateInLargeDirectoryListsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 files")
	}
	m := bigMem(t)
	c := &countingFS{FS: m}
	w := attrClient(t, c)
	w.mkfile(`big\first new.txt`, "") // builds the index: one listing
	if got := c.listings.Load(); got != 1 {
		t.Fatalf("%d listings to create the first name, want 1 (the index)", got)
	}
	listings, pages := c.listings.Load(), c.pages.Load()
	stats := c.stats.Load()
	for i := range 5 {
		w.mkfile(fmt.Sprintf(`big\new %d.txt`, i), "")
	}
	if c.listings.Load() != listings || c.pages.Load() != pages {
		t.Fatalf("creating 5 names listed the directory %d times (%d pages)", c.listings.Load()-listings, c.pages.Load()-pages)
	}
	if per := (c.stats.Load() - stats) / 5; per > 12 {
		t.Errorf("%d Stat calls per create", per)
	}

	open := func(name string) smb2.Status {
		st, f := w.createWith(name, smb2.GenericRead, shareAll, smb2.FileOpen, 0)
		if st == 0 {
			w.closeFile(f)
		}
		return st
	}
	// Another case of an existing name, found without a listing.
	if st := open(`BIG\F000123`); st != 0 {
		t.Errorf("open BIG\\F000123: %v", st)
	}
	if st := open(`big\NEW 3.TXT`); st != 0 {
		t.Errorf("open NEW 3.TXT: %v", st)
	}
	// Rename, hard link, delete through the server.
	st, f := w.createWith(`big\new 1.txt`, smb2.GenericAll, shareAll, smb2.FileOpen, 0)
	if st != 0 {
		t.Fatal(st)
	}
	if st := w.rename(f, `big\Renamed.txt`, false); st != 0 {
		t.Fatalf("rename: %v", st)
	}
	if st := w.hardLink(f, `big\Linked.txt`, false); st != 0 {
		t.Fatalf("link: %v", st)
	}
	w.closeFile(f)
	w.deleteFile(`big\new 2.txt`)
	for name, want := range map[string]smb2.Status{
		`big\NEW 1.TXT`:   smb2.StatusObjectNameNotFound,
		`big\RENAMED.TXT`: 0,
		`big\linked.TXT`:  0,
		`big\New 2.txt`:   smb2.StatusObjectNameNotFound,
	} {
		if st := open(name); st != want {
			t.Errorf("open %s: %v, want %v", name, st, want)
		}
	}
	if c.listings.Load() != listings || c.pages.Load() != pages {
		t.Fatalf("lookups after renames, links and deletes listed the directory %d times", c.listings.Load()-listings)
	}

	// A name added behind the server's back is found in another case: the
	// directory's times changed, so a miss lists it again.
	if f, err := m.OpenFile(context.Background(), "big/Outside.txt", vfs.O_RDWR|vfs.O_CREATE, 0o644); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	if st := open(`big\OUTSIDE.TXT`); st != 0 {
		t.Errorf("open of a name added outside, in another case: %v", st)
	}
}

// On an OS directory, names added and removed behind the server's back
// are seen by case-insensitive lookups (the directory's times changed, so
// the index is listed again) and by listings.
func TestNameIndexSeesOutsideChanges(t *testing.T) {
	root := t.TempDir()
	d, err := vfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w := attrClient(t, d)
	w.mkfile("Known.txt", "")
	open := func(name string) smb2.Status {
		st, f := w.createWith(name, smb2.GenericRead, shareAll, smb2.FileOpen, 0)
		if st == 0 {
			w.closeFile(f)
		}
		return st
	}
	if st := open("KNOWN.TXT"); st != 0 {
		t.Fatalf("open KNOWN.TXT: %v", st)
	}
	if err := os.WriteFile(filepath.Join(root, "Outside.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := open("OUTSIDE.TXT"); st != 0 {
		t.Errorf("open of a name added outside, in another case: %v", st)
	}
	if err := os.Remove(filepath.Join(root, "Known.txt")); err != nil {
		t.Fatal(err)
	}
	if st := open("KNOWN.TXT"); st != smb2.StatusObjectNameNotFound {
		t.Errorf("open of a name removed outside: %v", st)
	}
	_, dir := w.createWith("", smb2.GenericRead, shareAll, smb2.FileOpen, 0)
	got := w.listShort(dir, "*")
	if _, ok := got["Outside.txt"]; !ok || len(got) != 3 {
		t.Errorf("listing after outside changes: %v", got)
	}
}

// pausingFS makes one name's OpenFile wait, once the backend has made it,
// until goOn is closed: a CREATE caught between its backend call and the
// index's note of the new name.
type pausingFS struct {
	*countingFS
	pause string
	made  chan struct{}
	goOn  chan struct{}
}

func (p *pausingFS) Unwrap() vfs.FS { return p.countingFS }

func (p *pausingFS) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := p.countingFS.OpenFile(ctx, name, flag, perm)
	if name == p.pause {
		close(p.made)
		<-p.goOn
	}
	return f, err
}

// Concurrent CREATEs in one directory do not list it again: a CREATE whose
// backend call has changed the directory's times, but whose name is not
// in the index yet, is the server's own change, not one made behind its
// back. (Before, every CREATE among concurrent ones listed the whole
// directory: 70% of the server's CPU creating files from 8 connections.)
func TestConcurrentCreatesDoNotRelistDirectory(t *testing.T) {
	m := vfs.NewMem()
	ctx := context.Background()
	if err := m.Mkdir(ctx, "big", 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		f, err := m.OpenFile(ctx, fmt.Sprintf("big/f%03d", i), vfs.O_RDWR|vfs.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	p := &pausingFS{countingFS: &countingFS{FS: m}, pause: "big/slow.txt", made: make(chan struct{}), goOn: make(chan struct{})}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: p}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	a, b := connectNTLM(t, srv, "s"), connectNTLM(t, srv, "s")
	b.mkfile(`big\first.txt`, "") // builds the index: one listing
	listings := p.listings.Load()

	done := make(chan smb2.Status, 1)
	go func() {
		st, f := a.createWith(`big\slow.txt`, smb2.GenericAll, shareAll, smb2.FileCreate, smb2.FileNonDirectoryFile)
		if st == 0 {
			a.closeFile(f)
		}
		done <- st
	}()
	<-p.made // slow.txt exists in the backend; the index does not know yet
	b.mkfile(`big\other.txt`, "")
	if st, f := b.createWith(`big\F001`, smb2.GenericRead, shareAll, smb2.FileOpen, 0); st != 0 {
		t.Errorf("open of an existing name in another case meanwhile: %v", st)
	} else {
		b.closeFile(f)
	}
	close(p.goOn)
	if st := <-done; st != 0 {
		t.Fatalf("create slow.txt: %v", st)
	}
	if got := p.listings.Load() - listings; got != 0 {
		t.Errorf("creates during another's listed the directory %d times, want 0", got)
	}
	// Once the server's changes are done, a name added behind its back is
	// still found in another case: the directory is listed again for it.
	if f, err := m.OpenFile(ctx, "big/Outside.txt", vfs.O_RDWR|vfs.O_CREATE, 0o644); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	if st, f := b.createWith(`big\OUTSIDE.TXT`, smb2.GenericRead, shareAll, smb2.FileOpen, 0); st != 0 {
		t.Errorf("open of a name added outside, in another case: %v", st)
	} else {
		b.closeFile(f)
	}
}
