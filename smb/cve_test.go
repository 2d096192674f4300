package smb

// Regression tests for the classes of bug found in ksmbd (the Linux kernel
// SMB server) over the years, each sent on the wire as a hostile client
// would: the server answers with a clean NT status or hangs up, never
// reads or writes outside what the client sent, never grants what the
// credentials do not, and keeps serving other clients (and, where it
// answered, the same one).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// cveServer serves an in-memory share "s" to NTLM user u/p with the
// server's defaults (signing required).
func cveServer(t *testing.T) *Server {
	t.Helper()
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// rawMsg is a request with the client's next MessageID, session and tree,
// asking for 10 credits; it is signed when the client has a signing key.
func (w *wireClient) rawMsg(cmd smb2.Command, body []byte) []byte {
	msg := make([]byte, smb2.HeaderSize+len(body))
	h := smb2.Header{Command: cmd, Credits: 10, CreditCharge: 1, MessageID: w.mid, SessionID: w.sid, TreeID: w.tid}
	w.mid++
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	w.signMsg(msg)
	return msg
}

func (w *wireClient) signMsg(msg []byte) {
	if w.signer != nil {
		binary.LittleEndian.PutUint32(msg[16:], binary.LittleEndian.Uint32(msg[16:])|smb2.FlagsSigned)
		if err := w.signer.Sign(msg); err != nil {
			w.t.Fatal(err)
		}
	}
}

// exchange sends payload as one frame and returns the response frame, or
// closed if the server hung up instead of answering.
func (w *wireClient) exchange(payload []byte) (resp []byte, closed bool) {
	w.t.Helper()
	w.c.SetDeadline(time.Now().Add(20 * time.Second))
	defer w.c.SetDeadline(time.Time{})
	if _, err := w.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)); err != nil {
		return nil, true
	}
	for {
		if _, err := io.ReadFull(w.c, w.hdrBuf[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				w.t.Fatal("the server neither answered nor hung up")
			}
			return nil, true
		}
		resp = make([]byte, binary.BigEndian.Uint32(w.hdrBuf[:]))
		if _, err := io.ReadFull(w.c, resp); err != nil {
			return nil, true
		}
		var h smb2.Header
		if err := h.Decode(resp); err != nil {
			w.t.Fatalf("response header: %v", err)
		}
		if h.IsAsync() && smb2.Status(h.Status) == smb2.StatusPending {
			continue
		}
		return resp, false
	}
}

// refused checks a response to a malformed request: the server hung up, or
// answered with an error status (one of want, if given).
func refused(t *testing.T, what string, resp []byte, closed bool, want ...smb2.Status) {
	t.Helper()
	if closed {
		return
	}
	var h smb2.Header
	h.Decode(resp)
	st := smb2.Status(h.Status)
	if st == smb2.StatusSuccess || st == smb2.StatusMoreProcessingRequired || st == smb2.StatusPending {
		t.Fatalf("%s: answered %v, want an error or a closed connection", what, st)
	}
	if len(want) == 0 {
		return
	}
	for _, s := range want {
		if st == s {
			return
		}
	}
	t.Fatalf("%s: answered %v, want %v or a closed connection", what, st, want)
}

// stillServes checks a new client can log in, write a file and read it
// back.
func stillServes(t *testing.T, srv *Server) {
	t.Helper()
	w := connectNTLM(t, srv, "s")
	f := w.open("alive.txt", smb2.GenericAll, 0)
	w.write(f, 0, []byte("still serving"))
	if got := w.read(f, 0, 100); string(got) != "still serving" {
		t.Fatalf("read back %q", got)
	}
	w.closeFile(f)
}

// negotiate311 is a NEGOTIATE for SMB 3.1.1 with contexts ctxs (each a
// full NEGOTIATE_CONTEXT, 8-aligned) at offset off from the header
// (0: right after the dialects), announcing count contexts.
func negotiate311(ctxs []byte, off uint32, count uint16) []byte {
	b := make([]byte, 40) // 36 + one dialect + padding to 8 from the header
	le16(b, 36)
	le16(b[2:], 1)
	le16(b[4:], smb2.NegotiateSigningEnabled)
	b[12] = 0x11
	if off == 0 {
		off = smb2.HeaderSize + 40
	}
	le32(b[28:], off)
	le16(b[32:], count)
	le16(b[36:], smb2.Dialect311)
	return append(b, ctxs...)
}

// negContext is one NEGOTIATE_CONTEXT claiming dataLen bytes of data.
func negContext(typ uint16, dataLen uint16, data []byte) []byte {
	c := make([]byte, 8, 8+len(data)+7)
	le16(c, typ)
	le16(c[2:], dataLen)
	c = append(c, data...)
	for len(c)%8 != 0 {
		c = append(c, 0)
	}
	return c
}

// preauthData is a PREAUTH_INTEGRITY_CAPABILITIES body: SHA-512, 32 bytes
// of salt.
func preauthData() []byte {
	d := make([]byte, 6+32)
	le16(d, 1)
	le16(d[2:], 32)
	le16(d[4:], 1)
	return d
}

// CVE class: out-of-bounds negotiate contexts (ksmbd CVE-2023-38427,
// CVE-2023-32247 and kin). A NEGOTIATE whose context offset, count or
// lengths reach past the message is refused (MS-SMB2 3.3.5.4:
// STATUS_INVALID_PARAMETER) or the connection closed, before any dialect
// is selected.
func TestCVENegotiateContextsOutOfBounds(t *testing.T) {
	srv := cveServer(t)
	pre := negContext(smb2.PreauthIntegrityCapabilitiesID, 38, preauthData())
	cases := map[string][]byte{
		"offset past the end":         negotiate311(pre, 0xFFFFFFF0, 1),
		"offset inside the header":    negotiate311(pre, 8, 1),
		"count past the contexts":     negotiate311(pre, 0, 0xFFFF),
		"data length past the end":    negotiate311(negContext(smb2.PreauthIntegrityCapabilitiesID, 0xFFFF, preauthData()), 0, 1),
		"hash count past the data":    negotiate311(negContext(smb2.PreauthIntegrityCapabilitiesID, 6, []byte{0xFF, 0xFF, 0, 0, 1, 0}), 0, 1),
		"cipher count past the data":  negotiate311(append(pre, negContext(smb2.EncryptionCapabilitiesID, 4, []byte{0xFF, 0x7F, 1, 0})...), 0, 2),
		"context header cut in two":   negotiate311(append(pre, 2, 0, 0xFF), 0, 2),
		"no contexts for 3.1.1 alone": negotiate311(nil, 0, 0),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			go srv.ServeConn(server)
			w := &wireClient{t: t, c: client}
			resp, closed := w.exchange(w.rawMsg(smb2.Negotiate, body))
			refused(t, "NEGOTIATE", resp, closed, smb2.StatusInvalidParameter, smb2.StatusNotSupported)
		})
	}
	stillServes(t, srv)
}

// ntlmNegotiated is a client that negotiated 3.0.2 and sent the NTLM
// NEGOTIATE_MESSAGE; it returns the CHALLENGE_MESSAGE.
func ntlmNegotiated(t *testing.T, srv *Server) (*wireClient, []byte) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close() })
	go srv.ServeConn(server)
	w := &wireClient{t: t, c: client}
	w.negotiate302(0, 0)
	nm := append([]byte("NTLMSSP\x00\x01\x00\x00\x00"), 0x15, 0x82, 0x88, 0xa2)
	nm = append(nm, make([]byte, 16)...)
	h, resp := w.roundTrip(smb2.SessionSetup, cveSetupBody(nm, 0), false, false)
	if smb2.Status(h.Status) != smb2.StatusMoreProcessingRequired {
		t.Fatalf("NTLM negotiate: %v", smb2.Status(h.Status))
	}
	w.sid = h.SessionID
	off, n := binary.LittleEndian.Uint16(resp[smb2.HeaderSize+4:]), binary.LittleEndian.Uint16(resp[smb2.HeaderSize+6:])
	return w, resp[off : off+n]
}

// setupBody is a SESSION_SETUP request carrying tok, with the security
// buffer's offset moved by shift bytes.
func cveSetupBody(tok []byte, shift int) []byte {
	b := make([]byte, 24+len(tok))
	le16(b, 25)
	le16(b[12:], uint16(smb2.HeaderSize+24+shift))
	le16(b[14:], uint16(len(tok)))
	copy(b[24:], tok)
	return b
}

// authenticateMsg is an NTLM AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) with
// the six fields given, then edit applied to the 88-byte fixed part.
func authenticateMsg(fields [6][]byte, edit func(fixed []byte)) []byte {
	am := make([]byte, 88)
	copy(am, "NTLMSSP\x00\x03")
	for i, f := range fields {
		le16(am[12+8*i:], uint16(len(f)))
		le16(am[14+8*i:], uint16(len(f)))
		le32(am[16+8*i:], uint32(len(am)))
		am = append(am, f...)
	}
	le32(am[60:], 0xa2888215)
	if edit != nil {
		edit(am[:88])
	}
	return am
}

// CVE class: NTLMSSP blob offsets (ksmbd CVE-2022-47939's neighbours,
// CVE-2023-52480, CVE-2024-26592 ...). An AUTHENTICATE_MESSAGE whose
// field offsets or lengths reach outside the blob, an NT response too
// short to hold its proof, or a SESSION_SETUP whose security buffer lies
// outside the message, fails the logon; nobody is logged in, and the
// server still serves.
func TestCVENTLMSSPBlobOffsets(t *testing.T) {
	srv := cveServer(t)
	nt := make([]byte, 64) // an NTLMv2 response of the right shape, wrong proof
	fields := [6][]byte{make([]byte, 24), nt, []byte("D\x00"), []byte("u\x00"), []byte("W\x00"), make([]byte, 16)}
	field := func(i int, off uint32, n uint16) func([]byte) {
		return func(b []byte) {
			le16(b[12+8*i:], n)
			le16(b[14+8*i:], n)
			le32(b[16+8*i:], off)
		}
	}
	cases := map[string][]byte{
		"LM response offset past the end":   authenticateMsg(fields, field(0, 0xFFFFFFF0, 24)),
		"NT response length past the end":   authenticateMsg(fields, field(1, 88, 0xFFFF)),
		"NT response shorter than a proof":  authenticateMsg(fields, field(1, 88, 8)),
		"user name offset wraps":            authenticateMsg(fields, field(3, 0xFFFFFFFF, 2)),
		"session key longer than the blob":  authenticateMsg(fields, field(5, 100, 0x1000)),
		"offset into the fixed part":        authenticateMsg(fields, field(1, 4, 64)),
		"blob cut inside the fixed part":    authenticateMsg(fields, nil)[:40],
		"signature only":                    []byte("NTLMSSP\x00\x03\x00\x00\x00"),
		"unknown message type":              append([]byte("NTLMSSP\x00\x07\x00\x00\x00"), make([]byte, 80)...),
		"SPNEGO wrapper with a huge length": {0x60, 0x84, 0xFF, 0xFF, 0xFF, 0xF0, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02},
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			w, _ := ntlmNegotiated(t, srv)
			resp, closed := w.exchange(w.rawMsg(smb2.SessionSetup, cveSetupBody(tok, 0)))
			refused(t, "SESSION_SETUP", resp, closed)
			if closed {
				return
			}
			// Not logged in: a tree connect on that session is refused.
			h, _ := w.treeConnect("s")
			if h.Status == 0 {
				t.Fatal("tree connect succeeded after a malformed AUTHENTICATE")
			}
		})
	}
	for name, shift := range map[string]int{"security buffer past the end": 0xFF00, "security buffer inside the header": -80} {
		t.Run(name, func(t *testing.T) {
			w, _ := ntlmNegotiated(t, srv)
			resp, closed := w.exchange(w.rawMsg(smb2.SessionSetup, cveSetupBody(authenticateMsg(fields, nil), shift)))
			refused(t, "SESSION_SETUP", resp, closed)
		})
	}
	stillServes(t, srv)
}

// compoundOf chains msgs (each a full message, header first) into one
// frame: NextCommand set and each but the last padded to 8 bytes, related
// where asked, each signed on its own (MS-SMB2 3.2.4.1.4).
func (w *wireClient) compoundOf(related []bool, msgs ...[]byte) []byte {
	var frame []byte
	for i, m := range msgs {
		m = append([]byte(nil), m...)
		if i < len(msgs)-1 {
			for len(m)%8 != 0 {
				m = append(m, 0)
			}
			le32(m[20:], uint32(len(m)))
		}
		if related[i] {
			le32(m[16:], binary.LittleEndian.Uint32(m[16:])|smb2.FlagsRelatedOps)
		}
		w.signMsg(m)
		frame = append(frame, m...)
	}
	return frame
}

// compoundStatuses splits a compound response into its statuses.
func compoundStatuses(t *testing.T, resp []byte) []smb2.Status {
	t.Helper()
	var out []smb2.Status
	for len(resp) > 0 {
		var h smb2.Header
		if err := h.Decode(resp); err != nil {
			t.Fatal(err)
		}
		out = append(out, smb2.Status(h.Status))
		if h.NextCommand == 0 || int(h.NextCommand) > len(resp) {
			break
		}
		resp = resp[h.NextCommand:]
	}
	return out
}

// unsignedMsg is rawMsg without a signature (for the messages that
// compoundOf signs once chained).
func (w *wireClient) unsignedMsg(cmd smb2.Command, body []byte) []byte {
	signer := w.signer
	w.signer = nil
	defer func() { w.signer = signer }()
	return w.rawMsg(cmd, body)
}

// CVE class: compounds with mismatched or torn-down ids (ksmbd
// CVE-2023-32254, CVE-2023-32258, CVE-2024-50285 ...). A related request
// after the chain's TREE_DISCONNECT, LOGOFF or CLOSE finds its tree,
// session or file gone; an unrelated request naming another session is
// refused; the server carries on.
func TestCVECompoundTornDownIDs(t *testing.T) {
	srv := cveServer(t)
	check := func(what string, got []smb2.Status, want ...smb2.Status) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d responses %v, want %d", what, len(got), got, len(want))
		}
		for i := range want {
			if want[i] == 0xFFFFFFFF { // any error
				if got[i] == smb2.StatusSuccess {
					t.Fatalf("%s: response %d succeeded: %v", what, i, got)
				}
				continue
			}
			if got[i] != want[i] {
				t.Fatalf("%s: response %d is %v, want %v (all: %v)", what, i, got[i], want[i], got)
			}
		}
	}
	const anyError = smb2.Status(0xFFFFFFFF)
	rel := func(r ...bool) []bool { return r }

	t.Run("tree disconnect then related create", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		resp, closed := w.exchange(w.compoundOf(rel(false, true),
			w.unsignedMsg(smb2.TreeDisconnect, []byte{4, 0, 0, 0}),
			w.unsignedMsg(smb2.Create, createBody("after-tdis.txt"))))
		if closed {
			return
		}
		check("TREE_DISCONNECT+CREATE", compoundStatuses(t, resp), smb2.StatusSuccess, anyError)
	})
	t.Run("logoff then related create", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		resp, closed := w.exchange(w.compoundOf(rel(false, true),
			w.unsignedMsg(smb2.Logoff, []byte{4, 0, 0, 0}),
			w.unsignedMsg(smb2.Create, createBody("after-logoff.txt"))))
		if closed {
			return
		}
		check("LOGOFF+CREATE", compoundStatuses(t, resp), smb2.StatusSuccess, anyError)
	})
	t.Run("close then related read and write", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		all := bytes.Repeat([]byte{0xFF}, 16)
		read := make([]byte, 49)
		le16(read, 49)
		le32(read[4:], 10)
		copy(read[16:], all)
		resp, closed := w.exchange(w.compoundOf(rel(false, true, true, true),
			w.unsignedMsg(smb2.Create, createBody("c.txt")),
			w.unsignedMsg(smb2.Close, relatedCloseBody()),
			w.unsignedMsg(smb2.Read, read),
			w.unsignedMsg(smb2.Write, writeBody(smb2.FileID{Persistent: ^uint64(0), Volatile: ^uint64(0)}, []byte("x")))))
		if closed {
			t.Fatal("a well-formed compound closed the connection")
		}
		check("CREATE+CLOSE+READ+WRITE", compoundStatuses(t, resp), smb2.StatusSuccess, smb2.StatusSuccess, smb2.StatusFileClosed, smb2.StatusFileClosed)
	})
	t.Run("unrelated request naming another session", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		other := w.unsignedMsg(smb2.Create, createBody("other-session.txt"))
		le64(other[40:], w.sid+12345)
		resp, closed := w.exchange(w.compoundOf(rel(false, false),
			w.unsignedMsg(smb2.Create, createBody("mine.txt")),
			other))
		if closed {
			return
		}
		check("CREATE+CREATE(other session)", compoundStatuses(t, resp), smb2.StatusSuccess, anyError)
	})
	t.Run("related request naming another tree", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		other := w.unsignedMsg(smb2.Close, relatedCloseBody())
		le32(other[36:], w.tid+77)
		resp, closed := w.exchange(w.compoundOf(rel(false, true),
			w.unsignedMsg(smb2.Create, createBody("tree.txt")),
			other))
		if closed {
			t.Fatal("connection closed")
		}
		// A related request takes the chain's tree only where its TreeId
		// is 0xFFFFFFFF (MS-SMB2 3.3.5.2.7.2): a tree not connected is
		// refused.
		check("CREATE+CLOSE(other tree)", compoundStatuses(t, resp), smb2.StatusSuccess, smb2.StatusNetworkNameDeleted)
	})
	stillServes(t, srv)
}

// CVE class: NextCommand past the end (ksmbd CVE-2022-47941's kin,
// CVE-2023-38426, CVE-2023-32250 ...). A header whose NextCommand points
// past the frame, into its own header, or off the 8-byte grid is refused
// or the connection closed; nothing past the frame is read.
func TestCVENextCommandPastTheEnd(t *testing.T) {
	srv := cveServer(t)
	for name, next := range map[string]uint32{
		"past the frame":      4096,
		"huge":                0xFFFFFFF8,
		"inside the header":   8,
		"unaligned":           smb2.HeaderSize + 4 + 1,
		"exactly the message": smb2.HeaderSize + 4,
	} {
		t.Run(name, func(t *testing.T) {
			w := connectNTLM(t, srv, "s")
			m := w.unsignedMsg(smb2.Echo, []byte{4, 0, 0, 0})
			le32(m[20:], next)
			w.signMsg(m)
			resp, closed := w.exchange(m)
			refused(t, "ECHO with NextCommand", resp, closed)
			if !closed {
				if h, _ := w.roundTrip(smb2.Echo, []byte{4, 0, 0, 0}, true, false); h.Status != 0 {
					t.Fatalf("ECHO afterwards: %v", smb2.Status(h.Status))
				}
			}
		})
	}
	stillServes(t, srv)
}

// CVE class: WRITE DataOffset out of bounds (ksmbd CVE-2022-47940,
// CVE-2023-38428 ...). A WRITE whose data lies outside the message, or
// inside its header, is refused with INVALID_PARAMETER (MS-SMB2 3.3.5.13)
// and changes nothing in the file.
func TestCVEWriteDataOffsetOutOfBounds(t *testing.T) {
	srv := cveServer(t)
	w := connectNTLM(t, srv, "s")
	f := w.open("w.txt", smb2.GenericAll, 0)
	w.write(f, 0, []byte("original"))
	bad := func(off uint16, n uint32) []byte {
		b := writeBody(f, []byte("XXXXXXXX"))
		le16(b[2:], off)
		le32(b[4:], n)
		return b
	}
	for name, body := range map[string][]byte{
		"offset past the end":        bad(0xFFF0, 8),
		"length past the end":        bad(smb2.HeaderSize+48, 0x7FFFFFFF),
		"offset and length wrap":     bad(smb2.HeaderSize+48, 0xFFFFFFFF),
		"offset inside the header":   bad(16, 8),
		"offset one past the buffer": bad(smb2.HeaderSize+48+1, 8),
	} {
		resp, closed := w.exchange(w.rawMsg(smb2.Write, body))
		refused(t, name, resp, closed, smb2.StatusInvalidParameter)
		if closed {
			w = connectNTLM(t, srv, "s")
			f = w.open("w.txt", smb2.GenericAll, 0)
		}
		if got := w.read(f, 0, 100); string(got) != "original" {
			t.Fatalf("%s: file holds %q", name, got)
		}
	}
	stillServes(t, srv)
}

// CVE class: create-context bounds (ksmbd CVE-2023-38429, CVE-2024-26594,
// smb2_find_context_vals ...). A CREATE whose context list or a context's
// name or data reach outside the message, or whose Next runs past the
// list, is refused with INVALID_PARAMETER and creates nothing.
func TestCVECreateContextBounds(t *testing.T) {
	srv := cveServer(t)
	w := connectNTLM(t, srv, "s")
	mx := smb2.CreateContext{Name: smb2.CreateQueryMaximalAccess}
	good := durableCreateBody("cc.txt", 0, 0, mx, smb2.CreateContext{Name: smb2.CreateQueryOnDiskID})
	nameLen := 16 // "cc.txt" in UTF-16, 8-aligned
	ctxAt := 56 + nameLen
	edit := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	for name, body := range map[string][]byte{
		"list offset past the end": edit(func(b []byte) { le32(b[48:], 0xFFFFFF00) }),
		"list length past the end": edit(func(b []byte) { le32(b[52:], 0x10000) }),
		"list inside the header":   edit(func(b []byte) { le32(b[48:], 8) }),
		"next past the list":       edit(func(b []byte) { le32(b[ctxAt:], 0x1000) }),
		"next unaligned":           edit(func(b []byte) { le32(b[ctxAt:], 17) }),
		"next too small":           edit(func(b []byte) { le32(b[ctxAt:], 8) }),
		"name past the context":    edit(func(b []byte) { le16(b[ctxAt+6:], 0x100) }),
		"name offset wild":         edit(func(b []byte) { le16(b[ctxAt+4:], 0xFFF0) }),
		"data past the list":       edit(func(b []byte) { le16(b[ctxAt+10:], 24); le32(b[ctxAt+12:], 0xFFFF) }),
		"data offset wild":         edit(func(b []byte) { le16(b[ctxAt+10:], 0xFFF8); le32(b[ctxAt+12:], 8) }),
		"name shorter than a tag":  edit(func(b []byte) { le16(b[ctxAt+6:], 2) }),
	} {
		resp, closed := w.exchange(w.rawMsg(smb2.Create, body))
		refused(t, name, resp, closed, smb2.StatusInvalidParameter)
		if closed {
			w = connectNTLM(t, srv, "s")
		}
		if st, _ := w.openStatus("cc.txt", smb2.GenericRead, smb2.FileOpen); st != smb2.StatusObjectNameNotFound {
			t.Fatalf("%s: cc.txt after the refused CREATE: %v, want OBJECT_NAME_NOT_FOUND", name, st)
		}
	}
	// The well-formed request works.
	if resp, closed := w.exchange(w.rawMsg(smb2.Create, good)); closed || binary.LittleEndian.Uint32(resp[8:]) != 0 {
		t.Fatalf("well-formed CREATE with contexts refused (closed %v)", closed)
	}
	stillServes(t, srv)
}

// CVE class: a durable reconnect rebinding a live handle (ksmbd
// CVE-2024-50286's family, use-after-free through a reconnected open). A
// DHnC or DH2C naming an open still attached to its connection is refused
// with OBJECT_NAME_NOT_FOUND (MS-SMB2 3.3.5.9.7, 3.3.5.9.12), from any
// connection and by any user, and the open keeps serving its owner.
func TestCVEDurableReconnectLiveHandle(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	r := a.durableCreate(durableCreateBody("live.txt", smb2.OplockLevelBatch, 0, dhnq()))
	if r.status != 0 {
		t.Fatalf("durable create: %v", r.status)
	}
	if st := a.status(smb2.Write, writeBody(r.id, []byte("owner's"))); st != 0 {
		t.Fatalf("write: %v", st)
	}
	for _, user := range []string{"alice", "bob"} {
		b := durableLogin(t, srv, user)
		if got := b.durableCreate(durableCreateBody("live.txt", 0, 0, dhnc(r.id))); got.status != smb2.StatusObjectNameNotFound {
			t.Fatalf("%s's DHnC of a live handle: %v, want OBJECT_NAME_NOT_FOUND", user, got.status)
		}
		// Same with the v2 reconnect naming the FileId.
		d := make([]byte, 36)
		le64(d, r.id.Persistent)
		le64(d[8:], r.id.Volatile)
		d[16] = 0x42
		dh2c := smb2.CreateContext{Name: smb2.CreateDurableReconnectV2, Data: d}
		if got := b.durableCreate(durableCreateBody("live.txt", 0, 0, dh2c)); got.status == smb2.StatusSuccess {
			t.Fatalf("%s's DH2C of a live handle succeeded", user)
		}
	}
	// The owner's handle is untouched.
	if st := a.status(smb2.Write, writeAtBody(r.id, 7, []byte(" data"))); st != 0 {
		t.Fatalf("owner's write after the refused reconnects: %v", st)
	}
	b := make([]byte, 49)
	le16(b, 49)
	le32(b[4:], 100)
	putFID(b[16:], r.id)
	h, resp := a.roundTrip(smb2.Read, b, false, false)
	if h.Status != 0 {
		t.Fatalf("owner's read: %v", smb2.Status(h.Status))
	}
	doff, dn := int(resp[smb2.HeaderSize+2]), int(binary.LittleEndian.Uint32(resp[smb2.HeaderSize+4:]))
	if got := string(resp[doff : doff+dn]); got != "owner's data" {
		t.Fatalf("file holds %q", got)
	}
}

// CVE class: security-descriptor parsing (ksmbd CVE-2022-47942,
// CVE-2023-1194, CVE-2024-26954 ...). A SET_INFO of a descriptor whose
// offsets, ACL sizes, ACE counts or SID sub-authority counts reach outside
// the buffer is refused, and the file's descriptor is what it was.
func TestCVESecurityDescriptorParsing(t *testing.T) {
	srv := cveServer(t)
	w := connectNTLM(t, srv, "s")
	f := w.open("sd.txt", smb2.GenericAll, 0)
	const all = 0x1 | 0x2 | 0x4 // OWNER, GROUP, DACL
	st, before := w.querySD(f, all)
	if st != 0 {
		t.Fatalf("query: %v", st)
	}
	good := before.Encode()
	sd := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	self := func(b []byte) []byte { return b }
	sid := []byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0} // S-1-5-18
	// A descriptor with the DACL at 20 of size aclSize holding count ACEs
	// of aceSize bytes each, then the owner.
	dacl := func(aclSize, count, aceSize uint16) []byte {
		b := make([]byte, 20, 200)
		b[0] = 1
		le16(b[2:], 0x8004) // SELF_RELATIVE | DACL_PRESENT
		le32(b[16:], 20)
		acl := make([]byte, 8)
		acl[0] = 2
		le16(acl[2:], aclSize)
		le16(acl[4:], count)
		ace := make([]byte, 4+4+len(sid))
		le16(ace[2:], aceSize)
		le32(ace[4:], 0x1F01FF)
		copy(ace[8:], sid)
		b = append(append(b, acl...), ace...)
		return b
	}
	for name, in := range map[string][]byte{
		"owner offset past the end": sd(func(b []byte) []byte { le32(b[4:], 0xFFFFFF00); return b }),
		"DACL offset past the end":  sd(func(b []byte) []byte { le32(b[16:], uint32(len(b))+4); return b }),
		"DACL inside the header":    sd(func(b []byte) []byte { le32(b[16:], 2); return b }),
		"cut short":                 sd(func(b []byte) []byte { return b[:len(b)/2] }),
		"header only":               sd(func(b []byte) []byte { return b[:12] }),
		"ACL size past the end":     dacl(0xFFFF, 1, 20),
		"ACL size below its header": dacl(4, 1, 20),
		"ACE count past the ACL":    dacl(28, 0xFFFF, 20),
		"ACE size past the ACL":     dacl(28, 1, 0xFFF0),
		"ACE size zero":             dacl(28, 1, 0),
		"ACE size below its SID":    dacl(28, 1, 10),
		"SID with 255 sub-authorities": sd(func(b []byte) []byte {
			o := binary.LittleEndian.Uint32(b[4:])
			if o == 0 || int(o)+2 > len(b) {
				return append(dacl(28, 1, 20)[:0], 1, 0, 4, 0x80, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 255, 0, 0, 0, 0, 0, 5)
			}
			b[o+1] = 255
			return b
		}),
		"empty": self(nil),
	} {
		b := make([]byte, 32+len(in))
		le16(b, 33)
		b[2] = smb2.InfoSecurity
		le32(b[4:], uint32(len(in)))
		le16(b[8:], smb2.HeaderSize+32)
		le32(b[12:], all)
		putFID(b[16:], f)
		copy(b[32:], in)
		resp, closed := w.exchange(w.rawMsg(smb2.SetInfo, b))
		refused(t, name, resp, closed)
		if closed {
			w = connectNTLM(t, srv, "s")
			f = w.open("sd.txt", smb2.GenericAll, 0)
		}
		st, after := w.querySD(f, all)
		if st != 0 {
			t.Fatalf("%s: query afterwards: %v", name, st)
		}
		if !bytes.Equal(after.Encode(), good) {
			t.Fatalf("%s: the descriptor changed:\n%x\nwas\n%x", name, after.Encode(), good)
		}
	}
	stillServes(t, srv)
}

// CVE class: FSCTLs without access checks (ksmbd CVE-2022-47940's
// FSCTL_SET_ZERO_DATA, CVE-2023-3865 copychunk ...). An FSCTL that
// changes a file needs the handle's write access, a copychunk needs read
// access on its source and write access on its target; without them it is
// refused with ACCESS_DENIED and the data is untouched.
func TestCVEFsctlAccessChecks(t *testing.T) {
	srv := cveServer(t)
	w := connectNTLM(t, srv, "s")
	rw := w.open("data.bin", smb2.GenericAll, 0)
	data := pattern(8192, 7)
	w.write(rw, 0, data)
	ro := w.open("data.bin", smb2.FileReadData|smb2.FileReadAttributes, 0)
	wo := w.open("target.bin", smb2.FileWriteData|smb2.FileReadAttributes, 0)
	zero := smb2.FileZeroDataInformation{FileOffset: 0, BeyondFinalZero: 8192}
	zin := make([]byte, zero.Size())
	zero.Encode(zin)
	if st, _ := w.ioctl(smb2.FsctlSetZeroData, ro, zin, 0); st != smb2.StatusAccessDenied {
		t.Errorf("SET_ZERO_DATA on a read-only handle: %v, want ACCESS_DENIED", st)
	}
	if st, _ := w.ioctl(smb2.FsctlSetSparse, ro, []byte{1}, 0); st != smb2.StatusAccessDenied {
		t.Errorf("SET_SPARSE on a read-only handle: %v, want ACCESS_DENIED", st)
	}
	// Copychunk into a read-only target.
	key := w.resumeKey(rw)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunkWrite, ro, key, chunk(0, 0, 4096)); st != smb2.StatusAccessDenied {
		t.Errorf("copychunk into a read-only handle: %v, want ACCESS_DENIED", st)
	}
	// Copychunk out of a source opened without read access.
	wkey := w.resumeKey(wo)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunkWrite, rw, wkey, chunk(0, 0, 1)); st != smb2.StatusAccessDenied {
		t.Errorf("copychunk from a write-only source: %v, want ACCESS_DENIED", st)
	}
	// FSCTL_SRV_COPYCHUNK (not _WRITE) needs read access on the target too
	// (MS-SMB2 3.3.5.15.6).
	key2 := w.resumeKey(rw)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, wo, key2, chunk(0, 0, 1)); st != smb2.StatusAccessDenied {
		t.Errorf("FSCTL_SRV_COPYCHUNK into a handle without read access: %v, want ACCESS_DENIED", st)
	}
	if got := w.read(rw, 0, 8192); !bytes.Equal(got, data) {
		t.Fatal("the data changed")
	}
	if got := w.read(rw, 0, 1); len(got) != 1 {
		t.Fatal("read failed")
	}
	stillServes(t, srv)
}

// CVE class: credit exhaustion (ksmbd CVE-2022-47943's neighbours,
// CVE-2023-38430, outstanding-credit leaks). A client that never asks for
// credits runs out of them: a request past its granted window is refused
// or the connection closed, and other clients are served. A client asking
// for the maximum every time holds at most the server's window, and a
// MessageID far past the window or one used twice is refused.
func TestCVECreditExhaustion(t *testing.T) {
	srv := cveServer(t)
	t.Run("client that asks for none", func(t *testing.T) {
		// The server never lets a client's credits reach zero (MS-SMB2
		// 3.3.1.2), and a client asking for none gains none: it is served,
		// one credit back for each one spent, and an id past its window
		// is refused.
		w := connectNTLM(t, srv, "s")
		for range maxCredits + 64 {
			m := w.unsignedMsg(smb2.Echo, []byte{4, 0, 0, 0})
			le16(m[14:], 0) // CreditRequest
			w.signMsg(m)
			resp, closed := w.exchange(m)
			if closed || binary.LittleEndian.Uint32(resp[8:]) != 0 {
				t.Fatalf("ECHO asking for no credit refused (closed %v)", closed)
			}
			if g := binary.LittleEndian.Uint16(resp[14:]); g > 1 {
				t.Fatalf("asked for no credit, granted %d", g)
			}
		}
		w.mid += maxCredits
		resp, closed := w.exchange(w.rawMsg(smb2.Echo, []byte{4, 0, 0, 0}))
		refused(t, "ECHO past the window", resp, closed)
	})
	t.Run("client that asks for the most", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		var granted int
		for range 200 {
			m := w.unsignedMsg(smb2.Echo, []byte{4, 0, 0, 0})
			le16(m[14:], 0xFFFF)
			w.signMsg(m)
			resp, closed := w.exchange(m)
			if closed {
				t.Fatal("closed")
			}
			granted += int(binary.LittleEndian.Uint16(resp[14:])) - 1
		}
		if granted > maxCredits {
			t.Fatalf("granted %d credits beyond those used, more than the window of %d", granted, maxCredits)
		}
	})
	t.Run("message id far past the window", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		w.mid += 1 << 40
		resp, closed := w.exchange(w.rawMsg(smb2.Echo, []byte{4, 0, 0, 0}))
		refused(t, "ECHO far past the window", resp, closed)
	})
	t.Run("message id used twice", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		w.mid--
		resp, closed := w.exchange(w.rawMsg(smb2.Echo, []byte{4, 0, 0, 0}))
		refused(t, "ECHO with a used id", resp, closed)
	})
	t.Run("credit charge beyond the grant", func(t *testing.T) {
		w := connectNTLM(t, srv, "s")
		f := w.open("big.bin", smb2.GenericAll, 0)
		b := make([]byte, 49)
		le16(b, 49)
		le32(b[4:], 8<<20)
		putFID(b[16:], f)
		m := w.unsignedMsg(smb2.Read, b)
		le16(m[4:], 128) // CreditCharge of 8 MiB: more than granted
		w.signMsg(m)
		resp, closed := w.exchange(m)
		refused(t, "READ charging more credits than granted", resp, closed)
	})
	stillServes(t, srv)
}
