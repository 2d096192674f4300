package smb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"sort"
	"testing"
	"time"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb/smbtest"
)

// dial connects a pure-Go SMB2 client to ts and mounts its share.
func dial(t *testing.T, ts *smbtest.Server, user, password string) (*gosmb2.Session, *gosmb2.Share, error) {
	t.Helper()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: user, Password: password}}
	s, err := d.Dial(c)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	sh, err := s.Mount(ts.Share)
	if err != nil {
		s.Logoff()
		return nil, nil, err
	}
	t.Cleanup(func() { sh.Umount(); s.Logoff() })
	return s, sh, nil
}

func TestGoClientFileLifecycle(t *testing.T) {
	ts := smbtest.NewServer()
	defer ts.Close()
	_, sh, err := dial(t, ts, ts.User, ts.Password)
	if err != nil {
		t.Fatal(err)
	}

	if err := sh.Mkdir("dir", 0o755); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	data := make([]byte, 3<<20+123) // several multi-credit READs and WRITEs
	rand.Read(data)
	if err := sh.WriteFile(`dir\file.bin`, data, 0o644); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := sh.ReadFile(`DIR\FILE.BIN`) // names are case-insensitive
	if err != nil {
		t.Fatalf("read back with other case: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, differ from the %d written", len(got), len(data))
	}

	// The backend holds exactly what the client wrote.
	f, err := ts.FS.OpenFile(t.Context(), "dir/file.bin", os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("backend open: %v", err)
	}
	backend := make([]byte, len(data))
	if _, err := f.ReadAt(backend, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	f.Close()
	if !bytes.Equal(backend, data) {
		t.Fatal("backend content differs")
	}

	if err := sh.Rename(`dir\file.bin`, `dir\renamed.bin`); err != nil {
		t.Fatalf("rename: %v", err)
	}
	infos, err := sh.ReadDir("dir")
	if err != nil {
		t.Fatalf("readdir: %v", err)
	}
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	sort.Strings(names)
	if len(names) != 1 || names[0] != "renamed.bin" {
		t.Fatalf("listing after rename: %v", names)
	}
	if fi, err := sh.Stat(`dir\renamed.bin`); err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("stat: %v, %v", fi, err)
	}
	if _, err := sh.Stat(`dir\file.bin`); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old name still there: %v", err)
	}
	if err := sh.Remove("dir"); err == nil {
		t.Fatal("removed a non-empty directory")
	}
	if err := sh.Remove(`dir\renamed.bin`); err != nil {
		t.Fatalf("remove file: %v", err)
	}
	if err := sh.Remove("dir"); err != nil {
		t.Fatalf("remove dir: %v", err)
	}
	if _, err := ts.FS.Stat(t.Context(), "dir"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dir still in backend: %v", err)
	}
}

func TestGoClientWrongPassword(t *testing.T) {
	ts := smbtest.NewServer()
	defer ts.Close()
	if _, _, err := dial(t, ts, ts.User, "wrong"); err == nil {
		t.Fatal("logged in with a wrong password")
	}
	if _, _, err := dial(t, ts, "nobody", ts.Password); err == nil {
		t.Fatal("logged in as an unknown user")
	}
}

func TestGoClientPathEscape(t *testing.T) {
	ts := smbtest.NewServer()
	defer ts.Close()
	_, sh, err := dial(t, ts, ts.User, ts.Password)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`..\etc\passwd`, `a\..\..\x`, `foo*`, `a?b`} {
		if err := sh.WriteFile(name, []byte("x"), 0o644); err == nil {
			t.Errorf("created %q", name)
		}
	}
}

func TestShutdownClosesConnections(t *testing.T) {
	ts := smbtest.NewServer()
	_, sh, err := dial(t, ts, ts.User, ts.Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.WriteFile("f", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := sh.ReadFile("f"); err == nil {
		t.Fatal("connection still served after Shutdown")
	}
	if _, err := net.Dial("tcp", ts.Addr); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

// A server that requires encryption serves a Go client, which encrypts
// because the session says so.
func TestGoClientEncrypted(t *testing.T) {
	ts := smbtest.NewUnstartedServer()
	ts.Config.Encryption = smb.EncryptionRequired
	ts.Start()
	defer ts.Close()
	_, sh, err := dial(t, ts, ts.User, ts.Password)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("sealed "), 100000)
	if err := sh.WriteFile("enc.bin", data, 0o644); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := sh.ReadFile("enc.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}
