package smb

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"strings"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// wireClient is a bare SMB 3.0.2 client that can send a request signed,
// encrypted or neither: what no well-behaved client library would do.
type wireClient struct {
	t      *testing.T
	c      net.Conn
	mid    uint64
	sid    uint64
	tid    uint32
	signer *smbcrypto.Signer
	enc    *smbcrypto.Cipher // client to server (the server's decryption key)
	dec    *smbcrypto.Cipher
	hdrBuf [4]byte
}

func (w *wireClient) roundTrip(cmd smb2.Command, body []byte, sign, encrypt bool) (smb2.Header, []byte) {
	w.t.Helper()
	msg := make([]byte, smb2.HeaderSize+len(body))
	h := smb2.Header{Command: cmd, Credits: 10, CreditCharge: 1, MessageID: w.mid, SessionID: w.sid, TreeID: w.tid}
	w.mid++
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	if sign && w.signer != nil {
		w.signer.Sign(msg)
	}
	if encrypt {
		out := make([]byte, smbcrypto.TransformHeaderSize+len(msg), smbcrypto.TransformHeaderSize+len(msg)+16)
		binary.LittleEndian.PutUint64(out[44:], w.sid)
		if err := w.enc.Encrypt(out[smbcrypto.TransformHeaderSize:], out[:smbcrypto.TransformHeaderSize], msg); err != nil {
			w.t.Fatal(err)
		}
		msg = out
	}
	if _, err := w.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)); err != nil {
		w.t.Fatal(err)
	}
	if _, err := io.ReadFull(w.c, w.hdrBuf[:]); err != nil {
		w.t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(w.hdrBuf[:]), binary.BigEndian.Uint32(w.hdrBuf[:])+16)
	if _, err := io.ReadFull(w.c, resp); err != nil {
		w.t.Fatal(err)
	}
	if [4]byte(resp[:4]) == smbcrypto.TransformProtocolID {
		plain, err := w.dec.Decrypt(resp)
		if err != nil {
			w.t.Fatalf("decrypt response: %v", err)
		}
		resp = plain
	}
	var rh smb2.Header
	if err := rh.Decode(resp); err != nil {
		w.t.Fatal(err)
	}
	return rh, resp
}

// login negotiates 3.0.2 and authenticates with raw NTLMSSP (NTLMv2).
func (w *wireClient) login(user, password string) {
	t := w.t
	w.negotiate302(smb2.GlobalCapEncryption|smb2.GlobalCapDirectoryLeasing, 0)
	setup := func(tok []byte) (smb2.Header, []byte) {
		b := make([]byte, 24+len(tok))
		binary.LittleEndian.PutUint16(b, 25)
		binary.LittleEndian.PutUint16(b[12:], smb2.HeaderSize+24)
		binary.LittleEndian.PutUint16(b[14:], uint16(len(tok)))
		copy(b[24:], tok)
		h, resp := w.roundTrip(smb2.SessionSetup, b, false, false)
		var r struct{ off, n uint16 }
		r.off = binary.LittleEndian.Uint16(resp[smb2.HeaderSize+4:])
		r.n = binary.LittleEndian.Uint16(resp[smb2.HeaderSize+6:])
		return h, resp[r.off : r.off+r.n]
	}
	const flags = 0x00000001 | 0x00000200 | 0x00000010 | 0x00080000 | 0x20000000 | 0x00800000
	nm := append([]byte("NTLMSSP\x00\x01\x00\x00\x00"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(nm[12:], flags)
	h, chal := setup(append(nm, make([]byte, 16)...))
	if smb2.Status(h.Status) != smb2.StatusMoreProcessingRequired {
		t.Fatalf("session setup 1: %v", smb2.Status(h.Status))
	}
	w.sid = h.SessionID
	ti := chal[binary.LittleEndian.Uint32(chal[44:]):][:binary.LittleEndian.Uint16(chal[40:])]
	hm := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(md5.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	owf := hm(ntlm.NTHash(password), utf16le.Encode(strings.ToUpper(user)))
	blob := append([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0}, ti...)
	blob = append(blob, 0, 0, 0, 0)
	proof := hm(owf, chal[24:32], blob)
	sessionKey := hm(owf, proof)
	fields := [][]byte{make([]byte, 24), append(proof, blob...), nil, utf16le.Encode(user), nil, nil}
	am := make([]byte, 88)
	copy(am, "NTLMSSP\x00\x03")
	for i, f := range fields {
		binary.LittleEndian.PutUint16(am[12+8*i:], uint16(len(f)))
		binary.LittleEndian.PutUint16(am[14+8*i:], uint16(len(f)))
		binary.LittleEndian.PutUint32(am[16+8*i:], uint32(len(am)))
		am = append(am, f...)
	}
	binary.LittleEndian.PutUint32(am[60:], flags)
	if h, _ := setup(am); h.Status != 0 {
		t.Fatalf("session setup 2: %v", smb2.Status(h.Status))
	}
	keys := smbcrypto.DeriveKeys(smb2.Dialect302, sessionKey, nil, smbcrypto.AES128CCM)
	var err1, err2, err3 error
	w.signer, err1 = smbcrypto.NewSigner(smbcrypto.SigningAESCMAC, keys.SigningKey)
	w.enc, err2 = smbcrypto.NewCipher(smbcrypto.AES128CCM, keys.DecryptionKey)
	w.dec, err3 = smbcrypto.NewCipher(smbcrypto.AES128CCM, keys.EncryptionKey)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
}

func (w *wireClient) treeConnect(share string) (smb2.Header, []byte) {
	path := utf16le.Encode(`\\cifsd\` + share)
	b := make([]byte, 8+len(path))
	binary.LittleEndian.PutUint16(b, 9)
	binary.LittleEndian.PutUint16(b[4:], smb2.HeaderSize+8)
	binary.LittleEndian.PutUint16(b[6:], uint16(len(path)))
	copy(b[8:], path)
	return w.roundTrip(smb2.TreeConnect, b, true, false)
}

// connectNTLM connects a wireClient to srv over a pipe, logs in as u/p
// and connects to share.
func connectNTLM(t *testing.T, srv *Server, share string) *wireClient {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close() })
	go srv.ServeConn(server)
	w := &wireClient{t: t, c: client}
	w.login("u", "p")
	h, _ := w.treeConnect(share)
	if h.Status != 0 {
		t.Fatalf("tree connect: %v", smb2.Status(h.Status))
	}
	w.tid = h.TreeID
	return w
}

func createBody(name string) []byte {
	n := utf16le.Encode(name)
	b := make([]byte, 56+len(n))
	binary.LittleEndian.PutUint16(b, 57)
	binary.LittleEndian.PutUint32(b[4:], smb2.ImpersonationImpersonation)
	binary.LittleEndian.PutUint32(b[24:], smb2.GenericAll)
	binary.LittleEndian.PutUint32(b[36:], smb2.FileCreate)
	binary.LittleEndian.PutUint16(b[44:], smb2.HeaderSize+56)
	binary.LittleEndian.PutUint16(b[46:], uint16(len(n)))
	copy(b[56:], n)
	return b
}

// A request that is signed but not encrypted, to a share that requires
// encryption, is refused and changes nothing; the same request encrypted
// is served.
func TestUnencryptedRequestRefused(t *testing.T) {
	fsys := vfs.NewMem()
	srv := &Server{
		Shares: []Share{{Name: "secure", FS: fsys, Encrypt: true}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	client, server := net.Pipe()
	defer client.Close()
	go srv.ServeConn(server)
	defer srv.Close()
	w := &wireClient{t: t, c: client}
	w.login("u", "p")

	h, resp := w.treeConnect("secure")
	if h.Status != 0 {
		t.Fatalf("tree connect: %v", smb2.Status(h.Status))
	}
	if flags := binary.LittleEndian.Uint32(resp[smb2.HeaderSize+4:]); flags&smb2.ShareFlagEncryptData == 0 {
		t.Fatalf("share flags %#x lack ENCRYPT_DATA", flags)
	}
	w.tid = h.TreeID

	h, _ = w.roundTrip(smb2.Create, createBody("plain.txt"), true, false)
	if smb2.Status(h.Status) != smb2.StatusAccessDenied {
		t.Fatalf("plain CREATE: %v, want ACCESS_DENIED", smb2.Status(h.Status))
	}
	if _, err := fsys.Stat(context.Background(), "plain.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the refused CREATE made the file: %v", err)
	}

	h, _ = w.roundTrip(smb2.Create, createBody("sealed.txt"), false, true)
	if h.Status != 0 {
		t.Fatalf("encrypted CREATE: %v", smb2.Status(h.Status))
	}
	if _, err := fsys.Stat(context.Background(), "sealed.txt"); err != nil {
		t.Fatalf("encrypted CREATE did not create the file: %v", err)
	}
}

// With encryption required server-wide, even a TREE_CONNECT must come
// encrypted once the session is up.
func TestEncryptionRequiredSession(t *testing.T) {
	srv := &Server{
		Shares:     []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:       auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Encryption: EncryptionRequired,
	}
	client, server := net.Pipe()
	defer client.Close()
	go srv.ServeConn(server)
	defer srv.Close()
	w := &wireClient{t: t, c: client}
	w.login("u", "p")
	if h, _ := w.treeConnect("s"); smb2.Status(h.Status) != smb2.StatusAccessDenied {
		t.Fatalf("plain TREE_CONNECT: %v, want ACCESS_DENIED", smb2.Status(h.Status))
	}
	path := utf16le.Encode(`\\cifsd\s`)
	b := make([]byte, 8+len(path))
	binary.LittleEndian.PutUint16(b, 9)
	binary.LittleEndian.PutUint16(b[4:], smb2.HeaderSize+8)
	binary.LittleEndian.PutUint16(b[6:], uint16(len(path)))
	copy(b[8:], path)
	if h, _ := w.roundTrip(smb2.TreeConnect, b, false, true); h.Status != 0 {
		t.Fatalf("encrypted TREE_CONNECT: %v", smb2.Status(h.Status))
	}
}
