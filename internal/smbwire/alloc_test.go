package smbwire

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb2"
)

// cannedServer answers every request on conn with a canned success of the
// same command, without allocating: CREATE with a FileId, QUERY_DIRECTORY
// alternately with two entries and STATUS_NO_MORE_FILES.
func cannedServer(conn net.Conn) {
	var (
		req  = make([]byte, 1<<16)
		resp = make([]byte, 4+smb2.HeaderSize+256)
		qd   int
	)
	for {
		if _, err := io.ReadFull(conn, req[:4]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(req)
		if n > uint32(len(req)) {
			return
		}
		if _, err := io.ReadFull(conn, req[:n]); err != nil {
			return
		}
		clear(resp)
		m := resp[4:]
		copy(m, smb2.ProtocolID[:])
		le16(m[4:], smb2.HeaderSize)
		copy(m[12:14], req[12:14])                        // Command
		le16(m[14:], binary.LittleEndian.Uint16(req[6:])) // credits: the charge back
		le32(m[16:], smb2.FlagsServerToRedir)
		copy(m[24:32], req[24:32]) // MessageId
		b := m[smb2.HeaderSize:]
		size := 0
		switch smb2.Command(binary.LittleEndian.Uint16(req[12:])) {
		case smb2.Create:
			le16(b, 89)
			le64(b[64:], 7)
			le64(b[72:], 8)
			size = 88
		case smb2.Close:
			le16(b, 60)
			size = 60
		case smb2.QueryDirectory:
			if qd++; qd%2 == 0 {
				le32(m[8:], uint32(smb2.StatusNoMoreFiles))
				le16(b, 9)
				size = 8
				break
			}
			le16(b, 9)
			le16(b[2:], smb2.HeaderSize+8)
			e := b[8:]
			le32(e, 72) // the second entry, 8-aligned after "."
			le32(e[60:], 2)
			e[64] = '.'
			le32(e[72+60:], 2)
			e[72+64] = 'f'
			le32(b[4:], 72+66)
			size = 8 + 72 + 66
		default:
			le16(b, 2)
			size = 2
		}
		binary.BigEndian.PutUint32(resp, uint32(smb2.HeaderSize+size))
		if _, err := conn.Write(resp[:4+smb2.HeaderSize+size]); err != nil {
			return
		}
	}
}

// An inline client's operations do not allocate in the steady state:
// requests are built in one reused buffer, answers read into another.
func TestInlineAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	cc, sc := net.Pipe()
	defer cc.Close()
	go cannedServer(sc)
	signer, err := smbcrypto.NewSigner(smbcrypto.SigningAESCMAC, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{c: cc, inline: true, dialect: smb2.Dialect311, credits: 1, maxTransact: 1 << 20, signer: signer, done: make(chan struct{})}
	close(c.done)
	ctx := context.Background()
	op := func() {
		f, err := c.Create(ctx, `smbbench-1-c1\f00-000001`, CreateRequest{Access: smb2.Delete, Disposition: smb2.FileOpen})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Rename(ctx, f, `smbbench-1-c1\r00-000001`, false); err != nil {
			t.Fatal(err)
		}
		if err := c.SetDeletePending(ctx, f, true); err != nil {
			t.Fatal(err)
		}
		if n, err := c.CountDir(ctx, f); err != nil || n != 1 {
			t.Fatalf("CountDir = %d, %v; want 1", n, err)
		}
		if err := c.CloseFile(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	op() // grow the buffers
	if n := testing.AllocsPerRun(200, op); n != 0 {
		t.Errorf("%v allocations per run of create, rename, delete, list, close; want 0", n)
	}
}
