package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/internal/userdb"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb/smbtest"
)

// reloadFixture is a configuration file in a temp dir with shares [a]
// and, when asked, [b], a user database and a group file.
type reloadFixture struct {
	t                     *testing.T
	dir, conf, db, groups string
}

func newReloadFixture(t *testing.T) *reloadFixture {
	dir := t.TempDir()
	f := &reloadFixture{t: t, dir: dir, conf: filepath.Join(dir, "smb.conf"),
		db: filepath.Join(dir, "pwd.db"), groups: filepath.Join(dir, "group")}
	for _, d := range []string{"a", "b"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	f.users(map[string]string{"alice": "pw1"})
	os.WriteFile(f.groups, []byte("staff:x:100:alice\n"), 0o644)
	return f
}

// write writes the file: global lines, then [a] with aOpts, then [b]
// with bOpts unless bOpts is "-".
func (f *reloadFixture) write(global, aOpts, bOpts string) {
	conf := "[global]\n\tsmb passwd file = " + f.db + "\n\tcifsd:group file = " + f.groups + "\n" + global +
		"[a]\n\tpath = " + filepath.Join(f.dir, "a") + "\n" + aOpts
	if bOpts != "-" {
		conf += "[b]\n\tpath = " + filepath.Join(f.dir, "b") + "\n" + bOpts
	}
	if err := os.WriteFile(f.conf, []byte(conf), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *reloadFixture) users(pw map[string]string) {
	db := userdb.DB{}
	for u, p := range pw {
		db[u] = ntlm.NTHash(p)
	}
	if err := db.Save(f.db); err != nil {
		f.t.Fatal(err)
	}
}

func shareNamed(d *daemon, name string) *smb.Share {
	return d.shares.Share(context.Background(), nil, name)
}

// A reload serves new shares, drops removed ones, keeps the *smb.Share
// (and so the open files' state) of an unchanged share, makes a new one
// for a changed share, reads users and groups again, keeps the running
// value of an option that needs a restart, and changes nothing when the
// file is malformed.
func TestReload(t *testing.T) {
	f := newReloadFixture(t)
	f.write("\tsmb ports = 4455\n", "\tread only = no\n", "-")
	cfg, err := loadConfig(f.conf)
	if err != nil {
		t.Fatal(err)
	}
	srv := &smb.Server{}
	d, err := newDaemon(cfg, srv, nil, map[string]string{"flaguser": "fpw"}, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if srv.ShareSource != d.shares {
		t.Fatal("the server does not serve the daemon's share set")
	}
	a := shareNamed(d, "a")
	if a == nil || a.ReadOnly || shareNamed(d, "b") != nil {
		t.Fatalf("at start: a %+v, b %v", a, shareNamed(d, "b"))
	}
	if !a.InGroup("alice", "staff") || a.InGroup("bob", "staff") {
		t.Error("groups at start")
	}

	// [b] added, a user added, bob joins staff.
	f.write("\tsmb ports = 4455\n", "\tread only = no\n", "\tvalid users = bob\n")
	f.users(map[string]string{"alice": "pw1", "bob": "pw2"})
	os.WriteFile(f.groups, []byte("staff:x:100:alice,bob\n"), 0o644)
	res, err := d.reload()
	if err != nil {
		t.Fatal(err)
	}
	if res.Shares != 2 || res.Users != 3 || len(res.Warnings) != 0 {
		t.Errorf("reload: %+v", res)
	}
	if shareNamed(d, "a") != a {
		t.Error("the unchanged share [a] was replaced")
	}
	if b := shareNamed(d, "b"); b == nil || len(b.Users) != 1 {
		t.Errorf("[b] after reload: %+v", b)
	}
	h, err := d.users.LookupNTHash(context.Background(), "", "BOB")
	if err != nil || !bytes.Equal(h, ntlm.NTHash("pw2")) {
		t.Errorf("bob after reload: %x, %v", h, err)
	}
	if h, err := d.users.LookupNTHash(context.Background(), "", "flaguser"); err != nil || !bytes.Equal(h, ntlm.NTHash("fpw")) {
		t.Errorf("-user's user after reload: %v", err)
	}
	if !a.InGroup("bob", "staff") {
		t.Error("group file not read again")
	}

	// [a] changed, [b] removed, the port changed, alice's password changed.
	f.write("\tsmb ports = 4456\n", "\tread only = yes\n", "-")
	f.users(map[string]string{"alice": "pw3"})
	if res, err = d.reload(); err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `"interfaces, bind interfaces only or smb ports" changed`) {
		t.Errorf("warnings %q", res.Warnings)
	}
	if got := d.cfg.Global.Listen; len(got) != 1 || got[0] != ":4455" {
		t.Errorf("listen after reload %q, want the running :4455", got)
	}
	a2 := shareNamed(d, "a")
	if a2 == a || a2 == nil || !a2.ReadOnly {
		t.Errorf("changed [a]: %+v (same %v)", a2, a2 == a)
	}
	if shareNamed(d, "b") != nil {
		t.Error("removed [b] still served")
	}
	if _, err := d.users.LookupNTHash(context.Background(), "", "bob"); err == nil {
		t.Error("deleted bob still known")
	}
	if h, _ := d.users.LookupNTHash(context.Background(), "", "alice"); !bytes.Equal(h, ntlm.NTHash("pw3")) {
		t.Error("alice's new password not read")
	}
	// The next reload compares with the running port: warned again.
	if res, err = d.reload(); err != nil || len(res.Warnings) != 1 {
		t.Errorf("second reload: %+v, %v", res, err)
	}

	// A malformed file, and a share whose path is gone: nothing changes.
	f.write("", "\tread only = perhaps\n", "-")
	if _, err := d.reload(); err == nil || !strings.Contains(err.Error(), "smb.conf:6:") {
		t.Errorf("malformed: %v, want an error naming line 6", err)
	}
	f.write("", "\tread only = no\n", "\tpath = "+filepath.Join(f.dir, "gone")+"\n")
	if _, err := d.reload(); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
	if shareNamed(d, "a") != a2 || shareNamed(d, "b") != nil {
		t.Error("a failed reload changed the shares")
	}
}

// A -share flag's share replaces the file's of the same name, at start
// and after a reload, and -read-only applies to the file's shares.
func TestReloadKeepsFlagShares(t *testing.T) {
	f := newReloadFixture(t)
	f.write("", "\tread only = no\n", "\tread only = no\n")
	cfg, err := loadConfig(f.conf)
	if err != nil {
		t.Fatal(err)
	}
	flagA := smb.Share{Name: "A", Comment: "from the flag"}
	d, err := newDaemon(cfg, &smb.Server{}, []smb.Share{flagA}, nil, true, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if a := shareNamed(d, "a"); a == nil || a.Comment != "from the flag" {
			t.Errorf("load %d: [a] %+v", i, a)
		}
		if b := shareNamed(d, "b"); b == nil || !b.ReadOnly {
			t.Errorf("load %d: [b] %+v, want read-only", i, b)
		}
		if got := len(d.shares.Shares(context.Background(), nil)); got != 2 {
			t.Errorf("load %d: %d shares", i, got)
		}
		if _, err := d.reload(); err != nil {
			t.Fatal(err)
		}
	}
}

// cifsd control status and reload over the control socket, against a
// server with a client holding a file open.
func TestControl(t *testing.T) {
	f := newReloadFixture(t)
	f.write("", "", "-")
	cfg, err := loadConfig(f.conf)
	if err != nil {
		t.Fatal(err)
	}
	ts := smbtest.NewServer()
	defer ts.Close()
	d, err := newDaemon(cfg, &smb.Server{}, nil, nil, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "run", "control.sock")
	stop, err := d.serveControl(ts.Config, sock, true)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v, %v", fi.Mode(), err)
	}
	if _, err := listenControl(sock); err == nil {
		t.Error("a second daemon took the live control socket")
	}
	if _, err := listenControl(f.conf); err == nil {
		t.Error("a control socket replaced a regular file")
	}

	_, share := dialTS(t, ts)
	fh, err := share.Create(`held.txt`)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out, errs bytes.Buffer
	if err := runControl([]string{"status", "-socket", sock}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), ts.User) || !strings.Contains(out.String(), "/held.txt") {
		t.Errorf("status:\n%s", out.String())
	}
	out.Reset()
	if err := runControl([]string{"reload", "-socket", sock}, &out, &errs); err != nil || out.String() != "reloaded: 1 shares, 1 users\n" {
		t.Errorf("reload: %q, %v", out.String(), err)
	}
	f.write("", "\tread only = perhaps\n", "-")
	if err := runControl([]string{"reload", "-socket", sock}, &out, &errs); err == nil || !strings.Contains(err.Error(), "smb.conf:6:") {
		t.Errorf("malformed reload: %v, want the line", err)
	}
	stop()
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after stop: %v", err)
	}
}

// dialTS logs on to ts with go-smb2 and mounts its share.
func dialTS(t *testing.T, ts *smbtest.Server) (*gosmb2.Session, *gosmb2.Share) {
	t.Helper()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := (&gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}).Dial(c)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := s.Mount(ts.Share)
	if err != nil {
		t.Fatal(err)
	}
	return s, sh
}
