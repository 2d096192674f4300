package smb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// The session fuzzer's input is a script of requests sent on a logged-in,
// tree-connected SMB 3.0.2 connection that holds an open file. Each
// request is
//
//	cmd (1 byte) | how (1 byte) | body length (2 bytes, LE) | body
//
// The harness writes the header: the next MessageID, and the session and
// tree ids (torn or wrong ones where how says), signs the message where
// how says, and puts the open's FileId wherever the body holds fidMark.
// A request whose how has howChain is chained into one compound frame
// with the request after it.
const (
	howChain      = 1 << 0 // chain the next request to this one in one frame
	howRelated    = 1 << 1 // SMB2_FLAGS_RELATED_OPERATIONS
	howSign       = 1 << 2 // sign with the session's key
	howBadSession = 1 << 3 // a session id that does not exist
	howBadTree    = 1 << 4 // a tree id that does not exist
	howAllOnes    = 1 << 5 // session and tree ids all ones (related's "the previous")
	howZeroIDs    = 1 << 6 // session and tree ids zero
	howAsync      = 1 << 7 // the async header form, AsyncId taken from the ids
)

// fidMark in a request body stands for the open file's FileId.
var fidMark = []byte("FID-MARK-16BYTES")

// fuzzReq is one request of a seed script.
type fuzzReq struct {
	cmd  smb2.Command
	how  byte
	body []byte
}

func script(reqs ...fuzzReq) []byte {
	var b []byte
	for _, r := range reqs {
		b = append(b, byte(r.cmd), r.how)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(r.body)))
		b = append(b, r.body...)
	}
	return b
}

// withFID is body with the FileId field at off replaced by fidMark.
func withFID(body []byte, off int) []byte {
	b := append([]byte(nil), body...)
	copy(b[off:], fidMark)
	return b
}

// fuzzSeeds covers what a session does past the handshake: CREATE with
// contexts, IOCTLs, QUERY_INFO and SET_INFO, locks, notifications,
// directory queries, and compounds that tear down their own session, tree
// or file half way.
func fuzzSeeds() [][]byte {
	const sign = howSign
	mark := smb2.FileID{}
	qi := func(typ, class uint8, info uint32) []byte {
		b := make([]byte, 41)
		le16(b, 41)
		b[2], b[3] = typ, class
		le32(b[4:], 4096)
		le32(b[16:], info)
		putFID(b[24:], mark)
		return withFID(b, 24)
	}
	si := func(typ, class uint8, in []byte) []byte {
		b := setInfoBody(mark, class, in)
		b[2] = typ
		return withFID(b, 16)
	}
	ioctl := func(code uint32, in []byte) []byte {
		b := make([]byte, 56+len(in))
		le16(b, 57)
		le32(b[4:], code)
		copy(b[8:], fidMark)
		le32(b[24:], smb2.HeaderSize+56)
		le32(b[28:], uint32(len(in)))
		le32(b[44:], 4096)
		le32(b[48:], smb2.IoctlIsFsctl)
		copy(b[56:], in)
		return b
	}
	lease := make([]byte, 52)
	lease[0] = 0x42
	le32(lease[16:], 0x7)
	dh2q := make([]byte, 32)
	le32(dh2q, 60000)
	dh2q[16] = 0x77
	createAll := durableCreateBody("ctx.txt", smb2.OplockLevelLease, 0,
		smb2.CreateContext{Name: smb2.CreateQueryMaximalAccess},
		smb2.CreateContext{Name: smb2.CreateQueryOnDiskID},
		smb2.CreateContext{Name: smb2.CreateRequestLease, Data: lease},
		smb2.CreateContext{Name: smb2.CreateDurableHandleV2, Data: dh2q},
		smb2.CreateContext{Name: smb2.CreateAllocationSize, Data: make([]byte, 8)},
		appInstance(3),
	)
	rename := make([]byte, 20+14)
	le32(rename[16:], 14)
	copy(rename[20:], []byte("n\x00e\x00w\x00.\x00t\x00x\x00t\x00"))
	zero := smb2.FileZeroDataInformation{FileOffset: 0, BeyondFinalZero: 100}
	zin := make([]byte, zero.Size())
	zero.Encode(zin)
	vni := make([]byte, 24+4)
	le32(vni, smb2.GlobalCapDirectoryLeasing)
	le16(vni[20:], 2)
	le16(vni[22:], 0x0202)
	le16(vni[24:], 0x0302)
	cc := smb2.SrvCopychunkCopy{Chunks: []smb2.SrvCopychunk{{SourceOffset: 0, TargetOffset: 10, Length: 5}}}
	ccIn := make([]byte, cc.Size())
	cc.Encode(ccIn)
	read := make([]byte, 49)
	le16(read, 49)
	le32(read[4:], 100)
	copy(read[16:], fidMark)
	echo := []byte{4, 0, 0, 0}

	return [][]byte{
		script(fuzzReq{smb2.Create, sign, createAll}),
		script(fuzzReq{smb2.Create, sign, createBody("plain.txt")}),
		script(fuzzReq{smb2.Write, sign, withFID(writeBody(mark, []byte("hello")), 16)}, fuzzReq{smb2.Read, sign, read}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlValidateNegotiateInfo, vni)}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlSrvRequestResumeKey, nil)}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlSrvCopychunkWrite, ccIn)}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlSetZeroData, zin)}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlQueryAllocatedRanges, zin)}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlQueryNetworkInterfaceInfo, nil)}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlSetReparsePoint, make([]byte, 24))}),
		script(fuzzReq{smb2.Ioctl, sign, ioctl(smb2.FsctlCreateOrGetObjectID, nil)}),
		script(fuzzReq{smb2.QueryInfo, sign, qi(smb2.InfoFile, fscc.FileAllInformation, 0)}),
		script(fuzzReq{smb2.QueryInfo, sign, qi(smb2.InfoFile, fscc.FileStreamInformation, 0)}),
		script(fuzzReq{smb2.QueryInfo, sign, qi(smb2.InfoSecurity, 0, 0x7)}),
		script(fuzzReq{smb2.QueryInfo, sign, qi(smb2.InfoFilesystem, fscc.FileFsFullSizeInformation, 0)}),
		script(fuzzReq{smb2.QueryInfo, sign, qi(smb2.InfoQuota, 0, 0)}),
		script(fuzzReq{smb2.SetInfo, sign, si(smb2.InfoFile, fscc.FileRenameInformation, rename)}),
		script(fuzzReq{smb2.SetInfo, sign, si(smb2.InfoFile, fscc.FileDispositionInformation, []byte{1})}),
		script(fuzzReq{smb2.SetInfo, sign, si(smb2.InfoFile, fscc.FileEndOfFileInformation, make([]byte, 8))}),
		script(fuzzReq{smb2.SetInfo, sign, si(smb2.InfoFile, fscc.FileBasicInformation, make([]byte, 40))}),
		script(fuzzReq{smb2.SetInfo, sign, si(smb2.InfoFile, fscc.FileFullEaInformation, []byte{0, 0, 0, 0, 0, 1, 1, 0, 'a', 0, 'b'})}),
		script(fuzzReq{smb2.SetInfo, sign, si(smb2.InfoSecurity, 0, make([]byte, 20))}),
		script(fuzzReq{smb2.Lock, sign, withFID(lockBody(mark, 0, 10, smb2.LockFlagExclusive), 8)},
			fuzzReq{smb2.Lock, sign, withFID(lockBody(mark, 0, 10, smb2.LockFlagShared), 8)}),
		script(fuzzReq{smb2.ChangeNotify, sign, withFID(notifyBody(mark, 0xFFF), 8)}, fuzzReq{smb2.Cancel, sign, nil}),
		script(fuzzReq{smb2.QueryDirectory, sign, withFID(queryDirBody(mark, fscc.FileIdBothDirectoryInformation, 4096), 8)}),
		script(fuzzReq{smb2.Flush, sign, withFID(closeBody(mark), 8)}),
		// Compounds: CREATE + related QUERY_INFO + CLOSE.
		script(fuzzReq{smb2.Create, howChain | sign, createBody("c.txt")},
			fuzzReq{smb2.QueryInfo, howChain | howRelated | howAllOnes | sign, relatedQI()},
			fuzzReq{smb2.Close, howRelated | howAllOnes | sign, relatedCloseBody()}),
		// ... whose session, tree or file goes away half way.
		script(fuzzReq{smb2.Logoff, howChain | sign, echo},
			fuzzReq{smb2.Create, howRelated | howAllOnes | sign, createBody("x.txt")}),
		script(fuzzReq{smb2.TreeDisconnect, howChain | sign, echo},
			fuzzReq{smb2.Create, howChain | howRelated | sign, createBody("y.txt")},
			fuzzReq{smb2.Close, howRelated | sign, relatedCloseBody()}),
		script(fuzzReq{smb2.Create, howChain | sign, createBody("z.txt")},
			fuzzReq{smb2.Close, howChain | howRelated | sign, relatedCloseBody()},
			fuzzReq{smb2.Read, howRelated | sign, read}),
		script(fuzzReq{smb2.Create, howChain | howBadSession, createBody("w.txt")},
			fuzzReq{smb2.Close, howRelated | howBadTree, relatedCloseBody()}),
		script(fuzzReq{smb2.Echo, howAsync | sign, echo}, fuzzReq{smb2.Echo, howZeroIDs, echo}),
		script(fuzzReq{smb2.SessionSetup, sign, cveSetupBody([]byte("NTLMSSP\x00\x01\x00\x00\x00"), 0)}),
		script(fuzzReq{smb2.TreeConnect, sign, tconBody(`\\cifsd\IPC$`)}),
	}
}

func relatedQI() []byte {
	b := make([]byte, 41)
	le16(b, 41)
	b[2], b[3] = smb2.InfoFile, fscc.FileAllInformation
	le32(b[4:], 4096)
	copy(b[24:], bytes.Repeat([]byte{0xFF}, 16))
	return b
}

func tconBody(path string) []byte {
	p := []byte{}
	for _, r := range path {
		p = append(p, byte(r), 0)
	}
	b := make([]byte, 8+len(p))
	le16(b, 9)
	le16(b[4:], smb2.HeaderSize+8)
	le16(b[6:], uint16(len(p)))
	copy(b[8:], p)
	return b
}

// buildFrames turns a script into frames (each a list of messages chained
// into one compound).
func (w *wireClient) buildFrames(in []byte, fid smb2.FileID) [][]byte {
	var fidBytes [16]byte
	putFID(fidBytes[:], fid)
	var frames [][]byte
	var cur []byte
	for len(in) >= 4 && len(frames) < 64 {
		cmd, how := smb2.Command(in[0]), in[1]
		n := int(binary.LittleEndian.Uint16(in[2:]))
		in = in[4:]
		n = min(n, len(in))
		body := bytes.ReplaceAll(in[:n], fidMark, fidBytes[:])
		in = in[n:]
		msg := make([]byte, smb2.HeaderSize+len(body))
		h := smb2.Header{Command: cmd, Credits: 10, CreditCharge: 1, MessageID: w.mid, SessionID: w.sid, TreeID: w.tid}
		w.mid++
		if cmd == smb2.Cancel {
			w.mid-- // CANCEL reuses the id of the request it cancels
			h.MessageID = w.mid - 1
		}
		switch {
		case how&howAllOnes != 0:
			h.SessionID, h.TreeID = ^uint64(0), ^uint32(0)
		case how&howZeroIDs != 0:
			h.SessionID, h.TreeID = 0, 0
		}
		if how&howBadSession != 0 {
			h.SessionID += 0x1000
		}
		if how&howBadTree != 0 {
			h.TreeID += 0x1000
		}
		if how&howRelated != 0 {
			h.Flags |= smb2.FlagsRelatedOps
		}
		if how&howAsync != 0 {
			h.Flags |= smb2.FlagsAsyncCommand
			h.AsyncID = uint64(h.TreeID)
		}
		chained := how&howChain != 0 && len(in) >= 4
		if chained {
			for len(msg)%8 != 0 {
				msg = append(msg, 0)
			}
			h.NextCommand = uint32(len(msg))
		}
		h.Encode(msg)
		copy(msg[smb2.HeaderSize:], body)
		if how&howSign != 0 && w.signer != nil {
			w.signMsg(msg)
		}
		cur = append(cur, msg...)
		if !chained {
			frames = append(frames, cur)
			cur = nil
		}
	}
	if cur != nil {
		frames = append(frames, cur)
	}
	return frames
}

// FuzzSession sends scripts of requests (see howChain) on an authenticated
// session with a tree connected and a file open: the server must answer
// or hang up, never panic. A last ECHO, once answered, shows the server
// got through the script before the connection is dropped.
func FuzzSession(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	var mu sync.Mutex
	var panics []string
	panicHook = func(r any) { mu.Lock(); panics = append(panics, fmt.Sprint(r)); mu.Unlock() }
	defer func() { panicHook = nil }()
	quiet := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, in []byte) {
		fsys := vfs.NewMem()
		srv := &Server{
			Shares: []Share{{Name: "s", FS: fsys}},
			Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
			Logger: quiet,
		}
		defer srv.Close()
		client, server := net.Pipe()
		defer client.Close()
		go srv.ServeConn(server)
		client.SetDeadline(time.Now().Add(5 * time.Second))
		w := &wireClient{t: t, c: client}
		w.login("u", "p")
		h, _ := w.treeConnect("s")
		w.tid = h.TreeID
		w.mkdirAt("d")
		fid := w.open("f.txt", smb2.GenericAll, 0)
		w.write(fid, 0, []byte("0123456789"))

		// From here on a reader drains every answer and notes the ECHO
		// sent last.
		var echoMID atomic.Uint64
		echoMID.Store(1 << 50)
		gotEcho := make(chan struct{})
		go func() {
			var hdr [4]byte
			for {
				if _, err := io.ReadFull(client, hdr[:]); err != nil {
					return
				}
				m := make([]byte, binary.BigEndian.Uint32(hdr[:]))
				if _, err := io.ReadFull(client, m); err != nil {
					return
				}
				var h smb2.Header
				if h.Decode(m) == nil && h.MessageID == echoMID.Load() && h.Command == smb2.Echo {
					close(gotEcho)
				}
			}
		}()
		hungUp := false
		for _, fr := range w.buildFrames(in, fid) {
			if _, err := client.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(fr))), fr...)); err != nil {
				hungUp = true
				break
			}
		}
		if !hungUp {
			echoMID.Store(w.mid)
			m := w.rawMsg(smb2.Echo, []byte{4, 0, 0, 0})
			if _, err := client.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(m))), m...)); err == nil {
				select {
				case <-gotEcho:
				case <-time.After(3 * time.Second):
				}
			}
		}
		client.Close()
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(panics) > 0 {
			t.Fatalf("server panicked: %s", panics[0])
		}
	})
}
