package smb_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// policyServer serves shares to alice (in group staff), bob and carol, all
// with password "pw", on loopback; it returns the address.
func policyServer(t *testing.T, shares ...smb.Share) string {
	t.Helper()
	inGroup := func(user, group string) bool { return group == "staff" && strings.EqualFold(user, "alice") }
	for i := range shares {
		shares[i].InGroup = inGroup
		if shares[i].FS == nil {
			shares[i].FS = vfs.NewMem()
		}
	}
	srv := &smb.Server{
		Shares:  shares,
		Signing: smb.SigningEnabled,
		Auth:    auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "pw", "bob": "pw", "carol": "pw"}))),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// session logs user in at addr.
func session(t *testing.T, addr, user string) *gosmb2.Session {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: user, Password: "pw"}}
	s, err := d.Dial(c)
	if err != nil {
		c.Close()
		t.Fatalf("%s: logon: %v", user, err)
	}
	t.Cleanup(func() { s.Logoff() })
	return s
}

// mount connects user to share, or returns the error.
func mount(t *testing.T, addr, user, share string) (*gosmb2.Share, error) {
	t.Helper()
	sh, err := session(t, addr, user).Mount(share)
	if err == nil {
		t.Cleanup(func() { sh.Umount() })
	}
	return sh, err
}

func mustMount(t *testing.T, addr, user, share string) *gosmb2.Share {
	t.Helper()
	sh, err := mount(t, addr, user, share)
	if err != nil {
		t.Fatalf("%s on %s: %v", user, share, err)
	}
	return sh
}

func TestShareUserLists(t *testing.T) {
	addr := policyServer(t,
		smb.Share{Name: "staffonly", Users: []string{"@staff"}},
		smb.Share{Name: "named", Users: []string{"alice", "BOB"}, InvalidUsers: []string{"bob"}},
		smb.Share{Name: "ro", ReadOnly: true, WriteList: []string{"@staff"}},
		smb.Share{Name: "rw", ReadList: []string{"bob"}, WriteList: []string{"carol"}},
	)
	for _, tc := range []struct {
		user, share string
		admitted    bool
	}{
		{"alice", "staffonly", true},
		{"bob", "staffonly", false},
		{"alice", "named", true},
		{"bob", "named", false}, // invalid users wins over valid users
		{"carol", "named", false},
	} {
		_, err := mount(t, addr, tc.user, tc.share)
		if (err == nil) != tc.admitted {
			t.Errorf("%s on %s: err = %v, want admitted = %v", tc.user, tc.share, err, tc.admitted)
		}
	}
	for _, tc := range []struct {
		user, share string
		writable    bool
	}{
		{"alice", "ro", true}, // write list through @staff
		{"bob", "ro", false},
		{"alice", "rw", true},
		{"bob", "rw", false}, // read list
		{"carol", "rw", true},
	} {
		sh := mustMount(t, addr, tc.user, tc.share)
		err := sh.WriteFile(tc.user+".txt", []byte("x"), 0o644)
		if (err == nil) != tc.writable {
			t.Errorf("%s writes on %s: err = %v, want writable = %v", tc.user, tc.share, err, tc.writable)
		}
	}
}

func TestShareBrowseableAvailable(t *testing.T) {
	addr := policyServer(t,
		smb.Share{Name: "shown"},
		smb.Share{Name: "hidden", Hidden: true},
		smb.Share{Name: "off", Unavailable: true},
	)
	s := session(t, addr, "alice")
	names, err := s.ListSharenames()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "shown") || slices.Contains(names, "hidden") || slices.Contains(names, "off") {
		t.Errorf("listed %q: want shown, not hidden or off", names)
	}
	if _, err := s.Mount("hidden"); err != nil {
		t.Errorf("a hidden share must still be reachable: %v", err)
	}
	if _, err := s.Mount("off"); err == nil {
		t.Error("an unavailable share admitted a tree connect")
	}
}

func TestShareMaxConnections(t *testing.T) {
	addr := policyServer(t, smb.Share{Name: "one", MaxConnections: 1})
	first := mustMount(t, addr, "alice", "one")
	if _, err := mount(t, addr, "bob", "one"); err == nil {
		t.Fatal("a second tree connect was admitted over max connections = 1")
	}
	first.Umount()
	if _, err := mount(t, addr, "bob", "one"); err != nil {
		t.Fatalf("after the first disconnected: %v", err)
	}
}

func TestShareVetoAndHideFiles(t *testing.T) {
	mem := vfs.NewMem()
	ctx := context.Background()
	for _, n := range []string{"a.tmp", "plain.txt", ".dot", "old.bak"} {
		f, err := mem.OpenFile(ctx, n, vfs.O_RDWR|vfs.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := mem.Mkdir(ctx, "Secret", 0o755); err != nil {
		t.Fatal(err)
	}
	addr := policyServer(t, smb.Share{Name: "v", FS: mem, VetoFiles: []string{"*.tmp", "secret"},
		HideFiles: []string{"*.BAK"}},
		smb.Share{Name: "dots", FS: mem, ShowDotFiles: true})
	sh := mustMount(t, addr, "alice", "v")
	const hidden = 0x2
	attrsOf := func(sh *gosmb2.Share) map[string]uint32 {
		list, err := sh.ReadDir("")
		if err != nil {
			t.Fatal(err)
		}
		attrs := map[string]uint32{}
		for _, fi := range list {
			attrs[fi.Name()] = fi.Sys().(*gosmb2.FileStat).FileAttributes
		}
		return attrs
	}
	statAttrs := func(sh *gosmb2.Share, name string) uint32 {
		fi, err := sh.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*gosmb2.FileStat).FileAttributes
	}
	// hide dot files = no: a dot file is neither listed nor reported hidden.
	dots := mustMount(t, addr, "alice", "dots")
	if a := attrsOf(dots)[".dot"]; a&hidden != 0 {
		t.Errorf("ShowDotFiles: .dot listed with attributes %#x", a)
	}
	if a := statAttrs(dots, ".dot"); a&hidden != 0 {
		t.Errorf("ShowDotFiles: .dot's GETINFO attributes %#x", a)
	}
	for _, n := range []string{".dot", "old.bak"} {
		if a := statAttrs(sh, n); a&hidden == 0 {
			t.Errorf("GETINFO of %s: attributes %#x, want hidden", n, a)
		}
	}

	attrs := attrsOf(sh)
	for _, n := range []string{"a.tmp", "Secret"} {
		if _, ok := attrs[n]; ok {
			t.Errorf("vetoed %s is listed", n)
		}
	}
	if attrs["plain.txt"]&hidden != 0 {
		t.Error("plain.txt listed hidden")
	}
	for _, n := range []string{".dot", "old.bak"} {
		if a, ok := attrs[n]; !ok || a&hidden == 0 {
			t.Errorf("%s: listed %v, attributes %#x; want listed with FILE_ATTRIBUTE_HIDDEN", n, ok, a)
		}
	}
	if _, err := sh.ReadFile(".dot"); err != nil {
		t.Errorf("a hidden file must stay readable: %v", err)
	}
	for _, n := range []string{"a.tmp", "new.TMP", `secret\x.txt`} {
		if _, err := sh.ReadFile(n); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open %s: %v, want not found", n, err)
		}
		if err := sh.WriteFile(n, []byte("x"), 0o644); err == nil {
			t.Errorf("created vetoed %s", n)
		}
	}
	if err := sh.Rename("plain.txt", "renamed.tmp"); err == nil {
		t.Error("renamed to a vetoed name")
	}
	if _, err := mem.Stat(ctx, "new.TMP"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backend has new.TMP: %v", err)
	}
}

func TestShareCreateModes(t *testing.T) {
	dir := t.TempDir()
	d, err := vfs.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the server and the client are (cleanups run last
	// first): a request may still be served when the test returns.
	t.Cleanup(func() { d.Close() })
	// The masks keep bits a umask of 022 leaves alone, so the result does
	// not depend on the test's umask.
	addr := policyServer(t, smb.Share{Name: "m", FS: d,
		CreateMask: 0o600, ForceCreateMode: 0o040, DirectoryMask: 0o700, ForceDirectoryMode: 0o050})
	sh := mustMount(t, addr, "alice", "m")
	if err := sh.WriteFile("f", []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := sh.Mkdir("d", 0o777); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]os.FileMode{"f": 0o640, "d": 0o750} {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s created with mode %o, want %o", n, got, want)
		}
	}
}

func TestShareNoDOSAttributes(t *testing.T) {
	mem := vfs.NewMem()
	addr := policyServer(t,
		smb.Share{Name: "store", FS: mem},
		smb.Share{Name: "nostore", FS: vfs.NewMem(), NoDOSAttributes: true})
	for share, wantKept := range map[string]bool{"store": true, "nostore": false} {
		sh := mustMount(t, addr, "alice", share)
		if err := sh.WriteFile("f", []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		// go-smb2's Chmod sets FILE_ATTRIBUTE_READONLY through SET_INFO.
		if err := sh.Chmod("f", 0o444); err != nil {
			t.Fatal(err)
		}
		fi, err := sh.Stat("f")
		if err != nil {
			t.Fatal(err)
		}
		ro := fi.Sys().(*gosmb2.FileStat).FileAttributes&0x1 != 0
		if ro != wantKept {
			t.Errorf("%s: READONLY kept = %v, want %v", share, ro, wantKept)
		}
	}
}
