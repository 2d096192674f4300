package smb

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// dfsServer serves "root", a DFS root on fsys (links from links, or from
// fsys's symbolic links when nil), and "plain", an ordinary share.
func dfsServer(t *testing.T, fsys vfs.FS, links DFSLinks) *Server {
	t.Helper()
	srv := &Server{
		Shares: []Share{
			{Name: "root", FS: fsys, DFSRoot: true, DFSLinks: links},
			{Name: "plain", FS: vfs.NewMem()},
		},
		Auth: auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

var noFID = smb2.FileID{Persistent: ^uint64(0), Volatile: ^uint64(0)}

// referral asks for a referral of name at level over w's tree.
func (w *wireClient) referral(ex bool, level uint16, name string, maxOut uint32) (smb2.Status, *smb2.DFSReferralResponse) {
	w.t.Helper()
	code := smb2.FsctlDfsGetReferrals
	in := binary.LittleEndian.AppendUint16(nil, level)
	if ex {
		code = smb2.FsctlDfsGetReferralsEx
		n := utf16le.Encode(name)
		in = binary.LittleEndian.AppendUint16(in, 0)
		in = binary.LittleEndian.AppendUint32(in, uint32(2+len(n)))
		in = binary.LittleEndian.AppendUint16(in, uint16(len(n)))
		in = append(in, n...)
	} else {
		in = append(in, append(utf16le.Encode(name), 0, 0)...)
	}
	st, out := w.ioctl(code, noFID, in, maxOut)
	if st != smb2.StatusSuccess {
		return st, nil
	}
	var r smb2.DFSReferralResponse
	if err := r.Decode(out); err != nil {
		w.t.Fatalf("referral response for %s: %v", name, err)
	}
	return st, &r
}

// A root referral names the root itself as the client named the server;
// a link referral the link's targets, consuming the link's part of the
// path; each at the version asked for, on IPC$ and on the root's tree.
func TestDFSReferrals(t *testing.T) {
	mem := vfs.NewMem()
	mem.Mkdir(context.Background(), "dir", 0o755)
	srv := dfsServer(t, mem, DFSLinkMap{
		`docs`:     {Targets: []string{`\\srv2\data`, `srv3/data/sub`}},
		`dir\deep`: {Targets: []string{`\\srv4\x`}, TTL: 60e9},
	})
	for _, share := range []string{"IPC$", "root", "plain"} {
		w := connectNTLM(t, srv, share)
		for _, ex := range []bool{false, true} {
			for v := uint16(1); v <= 5; v++ {
				st, r := w.referral(ex, v, `\Host\ROOT`, 4096)
				want := min(v, 4)
				if st != 0 || r.Version != want || len(r.Referrals) != 1 ||
					r.PathConsumed != uint16(2*len(`\Host\ROOT`)) ||
					r.HeaderFlags != smb2.ReferralServers|smb2.StorageServers {
					t.Fatalf("%s ex=%v v%d root referral: %v %+v", share, ex, v, st, r)
				}
				e := r.Referrals[0]
				if e.Target != `\Host\root` || e.ServerType != smb2.DFSServerTypeRoot || v > 1 && (e.TTL != 300 || e.DFSPath != `\Host\ROOT`) {
					t.Fatalf("v%d root entry %+v", v, e)
				}

				st, r = w.referral(ex, v, `\Host\root\DOCS\a\b.txt`, 4096)
				if st != 0 || r.Version != want || len(r.Referrals) != 2 ||
					r.PathConsumed != uint16(2*len(`\Host\root\DOCS`)) || r.HeaderFlags != smb2.StorageServers {
					t.Fatalf("v%d link referral: %v %+v", v, st, r)
				}
				if r.Referrals[0].Target != `\srv2\data` || r.Referrals[1].Target != `\srv3\data\sub` ||
					r.Referrals[0].ServerType != smb2.DFSServerTypeLink {
					t.Fatalf("v%d link targets %+v", v, r.Referrals)
				}
				if v > 1 && (r.Referrals[0].TTL != 1800 || r.Referrals[0].DFSPath != `\Host\root\DOCS`) {
					t.Fatalf("v%d link entry %+v", v, r.Referrals[0])
				}
				if v >= 4 && (r.Referrals[0].Flags != smb2.DFSTargetSetBoundary || r.Referrals[1].Flags != 0) {
					t.Fatalf("v4 target set boundary: %+v", r.Referrals)
				}
			}
		}
		// Two leading backslashes: PathConsumed counts them, the entry's
		// DFS path has one, as every DFS path in a referral.
		st, r := w.referral(false, 3, `\\h\root\docs\x`, 4096)
		if st != 0 || r.PathConsumed != uint16(2*len(`\\h\root\docs`)) || r.Referrals[0].DFSPath != `\h\root\docs` {
			t.Fatalf("double backslash: %v %+v", st, r)
		}
		st, r = w.referral(false, 4, `\h\root\dir\deep\f`, 4096)
		if st != 0 || r.PathConsumed != uint16(2*len(`\h\root\dir\deep`)) || r.Referrals[0].TTL != 60 {
			t.Fatalf("nested link: %v %+v", st, r)
		}
		for _, name := range []string{`\h\root\dir`, `\h\root\missing`, `\h\plain`, `\h\plain\docs`, `\h`, `\h\nosuch`, `h\root`, `\h\root\..\root\docs`} {
			if st, _ := w.referral(false, 4, name, 4096); st != smb2.StatusNotFound {
				t.Errorf("referral %q: %v, want NOT_FOUND", name, st)
			}
		}
		if st, _ := w.referral(false, 0, `\h\root`, 4096); st != smb2.StatusInvalidParameter {
			t.Errorf("level 0: %v", st)
		}
		if st, _ := w.ioctl(smb2.FsctlDfsGetReferrals, noFID, []byte{4, 0, 'x'}, 4096); st != smb2.StatusInvalidParameter {
			t.Errorf("unterminated name: %v", st)
		}
		if st, out := w.ioctl(smb2.FsctlDfsGetReferrals, noFID, append([]byte{4, 0}, append(utf16le.Encode(`\h\root\docs`), 0, 0)...), 40); st != smb2.StatusBufferOverflow || len(out) != 40 {
			t.Errorf("small buffer: %v, %d bytes", st, len(out))
		}
	}
}

// treeFlags connects w to share and returns ShareFlags and Capabilities.
func treeFlags(t *testing.T, w *wireClient, share string) (uint32, uint32) {
	t.Helper()
	h, resp := w.treeConnect(share)
	if h.Status != 0 {
		t.Fatalf("tree connect %s: %v", share, smb2.Status(h.Status))
	}
	b := resp[smb2.HeaderSize:]
	return binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
}

// dfsCreate opens name with SMB2_FLAGS_DFS_OPERATIONS set and returns the
// status, closing what it opened.
func (w *wireClient) dfsCreate(name string) smb2.Status {
	w.t.Helper()
	b := createBody(name)
	le32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	le32(b[36:], smb2.FileOpenIf)
	msg := make([]byte, smb2.HeaderSize+len(b))
	h := smb2.Header{Command: smb2.Create, Credits: 10, CreditCharge: 1, MessageID: w.mid, SessionID: w.sid, TreeID: w.tid,
		Flags: smb2.FlagsDFSOperations}
	w.mid++
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], b)
	w.signMsg(msg)
	resp, closed := w.exchange(msg)
	if closed {
		w.t.Fatal("connection closed")
	}
	var rh smb2.Header
	rh.Decode(resp)
	if rh.Status == 0 {
		c := make([]byte, 24)
		le16(c, 24)
		copy(c[8:], resp[smb2.HeaderSize+64:smb2.HeaderSize+80])
		w.roundTrip(smb2.Close, c, true, false)
	}
	return smb2.Status(rh.Status)
}

// A DFS root's tree connect says so; a CREATE through a link, in a DFS
// path or a plain one, is PATH_NOT_COVERED; other names open; an ordinary
// share is untouched.
func TestDFSPathNotCovered(t *testing.T) {
	mem := vfs.NewMem()
	mem.Mkdir(context.Background(), "dir", 0o755)
	srv := dfsServer(t, mem, DFSLinkMap{"docs": {Targets: []string{`\\srv2\data`}}, "dir/deep": {Targets: []string{`\\srv2\x`}}})
	w := connectNTLM(t, srv, "root")
	if flags, caps := treeFlags(t, w, "root"); flags&(smb2.ShareFlagDFS|smb2.ShareFlagDFSRoot) != smb2.ShareFlagDFS|smb2.ShareFlagDFSRoot || caps&smb2.ShareCapDFS == 0 {
		t.Fatalf("DFS root tree connect: flags %#x caps %#x", flags, caps)
	}
	w.tid = 0
	if flags, caps := treeFlags(t, w, "plain"); flags&(smb2.ShareFlagDFS|smb2.ShareFlagDFSRoot) != 0 || caps&smb2.ShareCapDFS != 0 {
		t.Fatalf("plain tree connect: flags %#x caps %#x", flags, caps)
	}
	w = connectNTLM(t, srv, "root")
	for name, want := range map[string]smb2.Status{
		`docs`:        smb2.StatusPathNotCovered,
		`DOCS\a\b`:    smb2.StatusPathNotCovered,
		`dir\deep\f`:  smb2.StatusPathNotCovered,
		`dir\shallow`: smb2.StatusSuccess,
		`other`:       smb2.StatusSuccess,
	} {
		if st := w.rawCreate(name, smb2.GenericRead, 0, 0); st != want {
			t.Errorf("create %s: %v, want %v", name, st, want)
		}
	}
	for name, want := range map[string]smb2.Status{
		`host\root\docs\f`:  smb2.StatusPathNotCovered,
		`\host\ROOT\docs`:   smb2.StatusPathNotCovered,
		`host\root\other`:   smb2.StatusSuccess,
		`host\root`:         smb2.StatusSuccess,
		`other`:             smb2.StatusSuccess,
		`host\root\dir\new`: smb2.StatusSuccess,
	} {
		if st := w.dfsCreate(name); st != want {
			t.Errorf("DFS create %s: %v, want %v", name, st, want)
		}
	}
	if _, err := mem.Stat(context.Background(), "dir/new"); err != nil {
		t.Errorf("a DFS path's file was not created where it names: %v", err)
	}
	// A rename or hard link into a link's folder is refused as a CREATE
	// there is; elsewhere it is done.
	f := w.open("tomove", smb2.GenericAll, 0)
	if st := w.setInfoRaw(f, fscc.FileRenameInformation, renameInfo(`docs\moved`, false)); st != smb2.StatusPathNotCovered {
		t.Errorf("rename into a link: %v", st)
	}
	if st := w.setInfoRaw(f, fscc.FileLinkInformation, renameInfo(`dir\deep`, false)); st != smb2.StatusPathNotCovered {
		t.Errorf("hard link onto a link: %v", st)
	}
	if st := w.setInfoRaw(f, fscc.FileRenameInformation, renameInfo(`dir\moved`, false)); st != smb2.StatusSuccess {
		t.Errorf("rename elsewhere: %v", st)
	}
	w.closeFile(f)
	p := connectNTLM(t, srv, "plain")
	if st := p.rawCreate("docs", smb2.GenericRead, 0, 0); st != smb2.StatusSuccess {
		t.Errorf("plain share: %v", st)
	}
}

// Links kept as Samba keeps them, symbolic links to "msdfs:...", are
// listed as directories that are DFS reparse points, refuse CREATEs
// through them and are referred to their targets.
func TestDFSSymlinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(`msdfs:srv2\data,srv3\data`, filepath.Join(dir, "Link")); err != nil {
		t.Fatal(err)
	}
	os.Symlink("plainfile", filepath.Join(dir, "ordinary"))
	os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644)
	fsys, err := vfs.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	srv := dfsServer(t, fsys, nil)
	w := connectNTLM(t, srv, "root")
	for name, want := range map[string]smb2.Status{
		`link`:      smb2.StatusPathNotCovered,
		`Link\a\b`:  smb2.StatusPathNotCovered,
		`file`:      smb2.StatusSuccess,
		`file\x`:    smb2.StatusObjectPathNotFound,
		`missing\x`: smb2.StatusObjectPathNotFound,
	} {
		if st := w.rawCreate(name, smb2.GenericRead, 0, 0); st != want {
			t.Errorf("create %s: %v, want %v", name, st, want)
		}
	}
	st, r := w.referral(false, 3, `\h\root\LINK\x`, 4096)
	if st != 0 || len(r.Referrals) != 2 || r.Referrals[0].Target != `\srv2\data` || r.Referrals[1].Target != `\srv3\data` ||
		r.PathConsumed != uint16(2*len(`\h\root\LINK`)) {
		t.Fatalf("symlink referral: %v %+v", st, r)
	}
	if st, _ := w.referral(false, 3, `\h\root\ordinary`, 4096); st != smb2.StatusNotFound {
		t.Errorf("an ordinary symlink is no link: %v", st)
	}

	root := w.open("", smb2.GenericRead, smb2.FileDirectoryFile)
	attrs := listAttrs(t, w, root)
	if a := attrs["Link"]; a.attrs != fscc.FileAttributeDirectory|fscc.FileAttributeReparsePoint || a.tag != ioReparseTagDFS {
		t.Errorf("link listed with %#x tag %#x", a.attrs, a.tag)
	}
	if a := attrs["file"]; a.attrs&fscc.FileAttributeReparsePoint != 0 {
		t.Errorf("file listed with %#x", a.attrs)
	}
}

type listed struct{ attrs, tag uint32 }

// listAttrs lists dir at FileIdFullDirectoryInformation: attributes and
// the EaSize field, which holds a reparse point's tag.
func listAttrs(t *testing.T, w *wireClient, dir smb2.FileID) map[string]listed {
	t.Helper()
	n := utf16le.Encode("*")
	b := make([]byte, 32+len(n))
	le16(b, 33)
	b[2] = fscc.FileIdFullDirectoryInformation
	putFID(b[8:], dir)
	le16(b[24:], uint16(smb2.HeaderSize+32))
	le16(b[26:], uint16(len(n)))
	le32(b[28:], 65536)
	copy(b[32:], n)
	h, resp := w.roundTrip(smb2.QueryDirectory, b, true, false)
	if h.Status != 0 {
		t.Fatalf("query directory: %v", smb2.Status(h.Status))
	}
	body := resp[smb2.HeaderSize:]
	off, size := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:])
	buf := resp[off : uint32(off)+size]
	out := map[string]listed{}
	for len(buf) >= 80 {
		nameLen := binary.LittleEndian.Uint32(buf[60:])
		out[utf16le.Decode(buf[80:80+int(nameLen)])] = listed{binary.LittleEndian.Uint32(buf[56:]), binary.LittleEndian.Uint32(buf[64:])}
		next := binary.LittleEndian.Uint32(buf)
		if next == 0 {
			break
		}
		buf = buf[next:]
	}
	return out
}

// With DFS off ("host msdfs = no") a DFSRoot share is an ordinary share
// and referral requests find no DFS driver.
func TestDFSDisabled(t *testing.T) {
	srv := dfsServer(t, vfs.NewMem(), DFSLinkMap{"docs": {Targets: []string{`\\srv2\data`}}})
	srv.DisableDFS = true
	w := connectNTLM(t, srv, "root")
	if st, _ := w.referral(false, 4, `\h\root`, 4096); st != smb2.StatusFsDriverRequired {
		t.Errorf("referral: %v", st)
	}
	if st := w.rawCreate("docs", smb2.GenericRead, 0, 0); st != smb2.StatusSuccess {
		t.Errorf("create: %v", st)
	}
	w.tid = 0
	if flags, _ := treeFlags(t, w, "root"); flags&smb2.ShareFlagDFS != 0 {
		t.Errorf("tree connect flags %#x", flags)
	}
}

// NEGOTIATE advertises SMB2_GLOBAL_CAP_DFS unless DFS is off, as Samba
// does with "host msdfs" (its default) whether or not a share is a root.
func TestDFSCapability(t *testing.T) {
	for _, off := range []bool{false, true} {
		srv := &Server{Shares: []Share{{Name: "s", FS: vfs.NewMem()}}, DisableDFS: off}
		t.Cleanup(func() { srv.Close() })
		client, server := net.Pipe()
		t.Cleanup(func() { client.Close() })
		go srv.ServeConn(server)
		w := &wireClient{t: t, c: client}
		resp := w.negotiate302(0, 1)
		caps := binary.LittleEndian.Uint32(resp[smb2.HeaderSize+24:])
		if got := caps&smb2.GlobalCapDFS != 0; got == off {
			t.Errorf("DisableDFS %v: capabilities %#x", off, caps)
		}
	}
}

// dfsSend sends body as a command with SMB2_FLAGS_DFS_OPERATIONS set.
func (w *wireClient) dfsSend(cmd smb2.Command, body []byte) (smb2.Header, []byte) {
	w.t.Helper()
	msg := make([]byte, smb2.HeaderSize+len(body))
	h := smb2.Header{Command: cmd, Credits: 10, CreditCharge: 1, MessageID: w.mid, SessionID: w.sid, TreeID: w.tid,
		Flags: smb2.FlagsDFSOperations}
	w.mid++
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	w.signMsg(msg)
	resp, closed := w.exchange(msg)
	if closed {
		w.t.Fatal("connection closed")
	}
	var rh smb2.Header
	rh.Decode(resp)
	return rh, resp
}

// A client that reaches a file through a DFS root names it by its DFS
// path in every CREATE, a durable reconnect's too: the leased durable open
// is found by that name.
func TestDFSDurableReconnectByDFSPath(t *testing.T) {
	srv := dfsServer(t, vfs.NewMem(), DFSLinkMap{"docs": {Targets: []string{`\\srv2\data`}}})
	lease := smb2.Lease{Key: [16]byte{7, 7}, State: smb2.LeaseReadCaching | smb2.LeaseHandleCaching | smb2.LeaseWriteCaching}.Context()
	guid := [16]byte{0xdf, 5}
	fid := func(resp []byte) smb2.FileID {
		b := resp[smb2.HeaderSize:]
		return smb2.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}
	}
	w := connectNTLM(t, srv, "root")
	h, resp := w.dfsSend(smb2.Create, durableCreateBody(`host\root\f.txt`, smb2.OplockLevelLease, 0,
		lease, smb2.DurableRequestV2{CreateGuid: guid}.Context()))
	if h.Status != 0 {
		t.Fatalf("create: %v", smb2.Status(h.Status))
	}
	id := fid(resp)
	w.c.Close()
	waitDisconnected(t, srv, id.Persistent)

	w2 := connectNTLM(t, srv, "root")
	h, resp = w2.dfsSend(smb2.Create, durableCreateBody(`host\root\f.txt`, smb2.OplockLevelLease, 0,
		lease, smb2.DurableReconnectV2{FileId: id, CreateGuid: guid}.Context()))
	if h.Status != 0 || fid(resp) != id {
		t.Fatalf("reconnect by DFS path: %v, id %v want %v", smb2.Status(h.Status), fid(resp), id)
	}
}

// FuzzDFSPath splits arbitrary referral request names: never a panic, and
// what PathConsumed counts is always a prefix of the request's name.
func FuzzDFSPath(f *testing.F) {
	for _, s := range []string{`\srv\root`, `\\srv\root\a\b`, `\srv\root\`, `\`, `\\\x`, `\a\b\\c`, `\a\b\..\c`, "\\a\\b\\\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		d, err := splitDFSPath(p)
		if err != nil {
			return
		}
		if len(d.ends) != len(d.elems)+1 {
			t.Fatalf("%q: %d ends for %d elements", p, len(d.ends), len(d.elems))
		}
		for n := range d.ends {
			if pre := d.prefix(n); len(pre) > len(p) || p[:len(pre)] != pre {
				t.Fatalf("%q: prefix %q", p, pre)
			}
			if name := d.name(n); name == "" || name[0] != '\\' || len(name) > 1 && name[1] == '\\' {
				t.Fatalf("%q: name %q", p, name)
			}
		}
	})
}
