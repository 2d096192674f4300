package smbwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb/smbtest"
	"github.com/cifsd/cifsd/smb2"
)

func dial(t *testing.T, ts *smbtest.Server, opt Options) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.Addr, ts.Share, ts.User, ts.Password, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Every operation the bench uses, in each mode and dialect, against an
// in-process server; the effects are checked on the server's file system.
func TestOps(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Options
	}{
		{"inline-311", Options{Inline: true, Dialect: smb2.Dialect311}},
		{"inline-302", Options{Inline: true}},
		{"concurrent-311", Options{Dialect: smb2.Dialect311}},
		{"concurrent-302", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) { testOps(t, tc.opt) })
	}
}

func testOps(t *testing.T, opt Options) {
	ts := smbtest.NewServer()
	defer ts.Close()
	c := dial(t, ts, opt)
	ctx := context.Background()
	if c.MaxTransact() != 1<<20 {
		t.Errorf("MaxTransact = %d, want 1 MiB (large MTU, server allows 8 MiB)", c.MaxTransact())
	}
	if err := c.Echo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Mkdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	const files = 40
	for i := range files {
		f, err := c.Create(ctx, fmt.Sprintf(`d\f%02d`, i), CreateRequest{
			Access: smb2.GenericRead | smb2.GenericWrite, Share: ShareAll, Disposition: smb2.FileOverwriteIf,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CloseFile(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(name string) bool {
		_, err := ts.FS.Stat(ctx, name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("stat %s: %v", name, err)
		}
		return err == nil
	}

	// Rename f00 to r00.
	f, err := c.Create(ctx, `d\f00`, CreateRequest{Access: smb2.Delete, Share: smb2.FileShareDelete, Disposition: smb2.FileOpen})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, f, `d\r00`, false); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseFile(ctx, f); err != nil {
		t.Fatal(err)
	}
	if exists("d/f00") || !exists("d/r00") {
		t.Errorf("after rename: d/f00 exists %v, d/r00 exists %v; want false, true", exists("d/f00"), exists("d/r00"))
	}

	// A rename onto an existing name without ReplaceIfExists fails.
	f, err = c.Create(ctx, `d\f01`, CreateRequest{Access: smb2.Delete, Share: smb2.FileShareDelete, Disposition: smb2.FileOpen})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, f, `d\f02`, false); !IsStatus(err, smb2.StatusObjectNameCollision) {
		t.Errorf("rename onto an existing file: %v, want STATUS_OBJECT_NAME_COLLISION", err)
	}
	// Delete f01 through the same open.
	if err := c.SetDeletePending(ctx, f, true); err != nil {
		t.Fatal(err)
	}
	if !exists("d/f01") {
		t.Error("d/f01 gone before its open closed")
	}
	if err := c.CloseFile(ctx, f); err != nil {
		t.Fatal(err)
	}
	if exists("d/f01") || !exists("d/f02") {
		t.Errorf("after delete: d/f01 exists %v, d/f02 exists %v; want false, true", exists("d/f01"), exists("d/f02"))
	}

	// List: files-1 entries (f01 deleted, f00 renamed).
	d, err := c.Create(ctx, "d", CreateRequest{Access: smb2.GenericRead, Share: ShareAll, Disposition: smb2.FileOpen})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.CountDir(ctx, d); err != nil || n != files-1 {
		t.Errorf("CountDir = %d, %v; want %d", n, err, files-1)
	}
	// Again in pages of a few entries each (a small buffer, another
	// class), from the start.
	named, pages := 0, 0
	for flags := uint8(0x01); ; flags = 0 { // SMB2_RESTART_SCANS first
		buf, err := c.QueryDirectory(ctx, d, fscc.FileIdBothDirectoryInformation, flags, "*", 512)
		if IsStatus(err, smb2.StatusNoMoreFiles) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_, n, err := CountEntries(buf, fscc.FileIdBothDirectoryInformation)
		if err != nil {
			t.Fatal(err)
		}
		named += n
		pages++
	}
	if named != files-1 || pages < 5 {
		t.Errorf("paged listing: %d entries in %d pages, want %d in several", named, pages, files-1)
	}
	if err := c.CloseFile(ctx, d); err != nil {
		t.Fatal(err)
	}

	// Write and read back; an open of a missing file fails with its
	// status.
	f, err = c.Create(ctx, `d\data`, CreateRequest{Access: smb2.GenericRead | smb2.GenericWrite, Share: ShareAll, Disposition: smb2.FileCreate})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160000 bytes: 3 credits
	if err := c.Write(ctx, f, 0, data); err != nil {
		t.Fatal(err)
	}
	got, err := c.Read(ctx, f, 0, uint32(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back %d bytes (%v), want the %d written", len(got), err, len(data))
	}
	c.CloseFile(ctx, f)
	if _, err := c.Create(ctx, `d\missing`, CreateRequest{Access: smb2.GenericRead, Disposition: smb2.FileOpen}); !IsStatus(err, smb2.StatusObjectNameNotFound) {
		t.Errorf("open of a missing file: %v, want STATUS_OBJECT_NAME_NOT_FOUND", err)
	}
}

// A CHANGE_NOTIFY waits on a concurrent client while other requests go
// through, and names the file created.
func TestNotify(t *testing.T) {
	ts := smbtest.NewServer()
	defer ts.Close()
	c := dial(t, ts, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Mkdir(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	d, err := c.Create(ctx, "w", CreateRequest{Access: smb2.GenericRead, Share: ShareAll, Disposition: smb2.FileOpen, Options: smb2.FileDirectoryFile})
	if err != nil {
		t.Fatal(err)
	}
	call, err := c.Notify(d, 0x1) // FILE_NOTIFY_CHANGE_FILE_NAME
	if err != nil {
		t.Fatal(err)
	}
	<-call.Interim()
	f, err := c.Create(ctx, `w\new`, CreateRequest{Access: smb2.GenericAll, Share: ShareAll, Disposition: smb2.FileCreate})
	if err != nil {
		t.Fatal(err)
	}
	c.CloseFile(ctx, f)
	r, err := call.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names, err := NotifyNames(r.Msg)
	if err != nil || len(names) != 1 || names[0] != "new" {
		t.Errorf("notify names %q (%v), want [new]", names, err)
	}
	inline := dial(t, ts, Options{Inline: true})
	if _, err := inline.Notify(d, 1); err == nil {
		t.Error("Notify on an inline client did not fail")
	}
}

// A lost connection fails the next request instead of hanging.
func TestConnectionLost(t *testing.T) {
	for _, inline := range []bool{true, false} {
		ts := smbtest.NewServer()
		c := dial(t, ts, Options{Inline: inline})
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.Echo(ctx); err == nil {
			t.Errorf("inline %v: echo on a closed server succeeded", inline)
		}
		cancel()
	}
}
