package smb

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

func frame(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)
}

// negotiateMsg is an SMB2 NEGOTIATE request for dialects 2.0.2 and 2.1.
func negotiateMsg() []byte {
	msg := make([]byte, smb2.HeaderSize+36+4)
	(&smb2.Header{Command: smb2.Negotiate, Credits: 31}).Encode(msg)
	b := msg[smb2.HeaderSize:]
	binary.LittleEndian.PutUint16(b, 36)
	binary.LittleEndian.PutUint16(b[2:], 2)
	binary.LittleEndian.PutUint16(b[36:], smb2.Dialect202)
	binary.LittleEndian.PutUint16(b[38:], smb2.Dialect210)
	return msg
}

// FuzzConnection sends a NEGOTIATE and then arbitrary bytes as SMB2
// messages: the server must answer or hang up, never panic.
func FuzzConnection(f *testing.F) {
	for _, cmd := range []smb2.Command{smb2.SessionSetup, smb2.Create, smb2.Read, smb2.Ioctl, smb2.QueryInfo} {
		m := make([]byte, smb2.HeaderSize+64)
		(&smb2.Header{Command: cmd, MessageID: 1, Credits: 1}).Encode(m)
		f.Add(m)
	}
	var mu sync.Mutex
	var panics []string
	panicHook = func(r any) { mu.Lock(); panics = append(panics, fmt.Sprint(r)); mu.Unlock() }
	defer func() { panicHook = nil }()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, msg []byte) {
		srv := &Server{
			Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
			Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
			Logger: quiet,
		}
		client, server := net.Pipe()
		go srv.ServeConn(server)
		go io.Copy(io.Discard, client)
		client.SetDeadline(time.Now().Add(time.Second))
		client.Write(frame(negotiateMsg()))
		client.Write(frame(msg))
		client.Close()
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(panics) > 0 {
			t.Fatalf("server panicked: %s", panics[0])
		}
	})
}
