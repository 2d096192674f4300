package smb

import (
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/cifsd/cifsd/smb1"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// An SMB1 multi-protocol NEGOTIATE that offers "SMB 2.???" is answered with
// an SMB2 NEGOTIATE response for dialect 0x02FF (MS-SMB2 3.3.5.3.1).
func TestSMB1NegotiateUpgrade(t *testing.T) {
	srv := &Server{Shares: []Share{{Name: "s", FS: vfs.NewMem()}}}
	client, server := net.Pipe()
	defer client.Close()
	go srv.ServeConn(server)

	msg := make([]byte, smb1.HeaderSize)
	copy(msg, smb1.ProtocolID[:])
	msg[4] = smb1.CommandNegotiate
	var dialects []byte
	for _, d := range []string{"NT LM 0.12", "SMB 2.002", "SMB 2.???"} {
		dialects = append(dialects, 0x02)
		dialects = append(dialects, d...)
		dialects = append(dialects, 0)
	}
	msg = append(msg, 0, byte(len(dialects)), 0)
	msg = append(msg, dialects...)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	go client.Write(append(frame, msg...))

	var hdr [4]byte
	if _, err := io.ReadFull(client, hdr[:]); err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(client, resp); err != nil {
		t.Fatal(err)
	}
	var h smb2.Header
	if err := h.Decode(resp); err != nil || h.Command != smb2.Negotiate || !h.IsResponse() {
		t.Fatalf("not an SMB2 NEGOTIATE response: %+v %v", h, err)
	}
	if d := binary.LittleEndian.Uint16(resp[smb2.HeaderSize+4:]); d != smb2.DialectWildcard {
		t.Fatalf("dialect %#x, want 0x02FF", d)
	}
	srv.Close()
}
