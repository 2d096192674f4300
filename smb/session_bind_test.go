package smb

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb2"
)

// tokenKey is the session key tokenMech gives every authentication.
var tokenKey = []byte("0123456789abcdef")

// useSessionKey makes w sign as a 3.0.2 session keyed by tokenKey. At
// 3.0.2 a channel's signing key is derived the same way as the session's,
// so the one signer serves both.
func (w *wireClient) useSessionKey() {
	w.t.Helper()
	keys := smbcrypto.DeriveKeys(smb2.Dialect302, tokenKey, nil, 0)
	signer, err := smbcrypto.NewSigner(smbcrypto.SigningAESCMAC, keys.SigningKey)
	if err != nil {
		w.t.Fatal(err)
	}
	w.signer = signer
}

// bind sends a SESSION_SETUP with SMB2_SESSION_FLAG_BINDING for session
// sid, signed when sign is set, and returns the status and whether the
// response verified with w's signer.
func (w *wireClient) bind(sid uint64, tok string, sign bool) (smb2.Status, bool) {
	b := make([]byte, 24+len(tok))
	binary.LittleEndian.PutUint16(b, 25)
	b[2] = smb2.SessionFlagBinding
	binary.LittleEndian.PutUint16(b[12:], smb2.HeaderSize+24)
	binary.LittleEndian.PutUint16(b[14:], uint16(len(tok)))
	copy(b[24:], tok)
	w.sid = sid
	h, resp := w.roundTrip(smb2.SessionSetup, b, sign, false)
	signed := h.Flags&smb2.FlagsSigned != 0 && w.signer != nil && w.signer.Verify(resp)
	return smb2.Status(h.Status), signed
}

// A second connection joins a session (multichannel): it then reaches the
// session's tree connects with its own signed requests, and the session
// outlives the connection it was established on.
func TestBindSecondChannel(t *testing.T) {
	srv := newTokenServer(t)
	first := dial(t, srv)
	first.mustSetup("alice", 0)
	first.useSessionKey()
	if st := first.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}

	second := dial(t, srv)
	second.useSessionKey()
	st, signed := second.bind(first.sid, "alice", true)
	if st != smb2.StatusSuccess || !signed {
		t.Fatalf("bind: %v (signed %v), want a signed SUCCESS", st, signed)
	}
	second.tid = first.tid
	h, _ := second.roundTrip(smb2.Create, createBody("via-channel.txt"), true, false)
	if st := smb2.Status(h.Status); st != smb2.StatusSuccess {
		t.Fatalf("CREATE on the bound channel: %v", st)
	}

	first.c.Close() // the session's first connection goes away
	sess := srv.sessions.get(second.sid)
	for deadline := time.Now().Add(10 * time.Second); sess.numChannels() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the closed connection is still a channel: %d channels", sess.numChannels())
		}
	}
	h, _ = second.roundTrip(smb2.Create, createBody("after.txt"), true, false)
	if st := smb2.Status(h.Status); st != smb2.StatusSuccess {
		t.Fatalf("CREATE after the first channel closed: %v", st)
	}
}

// Bindings that do not match their session are refused, and a refused
// binding leaves the session working.
func TestBindRefusals(t *testing.T) {
	srv := newTokenServer(t)
	owner := dial(t, srv)
	owner.mustSetup("alice", 0)
	owner.useSessionKey()
	if st := owner.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}

	tests := []struct {
		name string
		sid  uint64
		tok  string
		sign bool
		want smb2.Status
	}{
		{"unsigned", owner.sid, "alice", false, smb2.StatusInvalidParameter},
		{"another user", owner.sid, "bob", true, smb2.StatusAccessDenied},
		{"failed authentication", owner.sid, "bad", true, smb2.StatusLogonFailure},
		{"no such session", owner.sid + 1000, "alice", false, smb2.StatusUserSessionDeleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := dial(t, srv)
			w.useSessionKey()
			st, signed := w.bind(tc.sid, tc.tok, tc.sign)
			if st != tc.want {
				t.Fatalf("bind: %v, want %v", st, tc.want)
			}
			if tc.sign && !signed {
				t.Fatalf("refusal of a signed binding is not signed by the session")
			}
			w.tid = owner.tid
			h, _ := w.roundTrip(smb2.Create, createBody("x.txt"), true, false)
			if smb2.Status(h.Status) != smb2.StatusUserSessionDeleted {
				t.Fatalf("CREATE on the refused connection: %v", smb2.Status(h.Status))
			}
			h, _ = owner.roundTrip(smb2.Create, createBody("owner-"+strings.ReplaceAll(tc.name, " ", "-")+".txt"), true, false)
			if smb2.Status(h.Status) != smb2.StatusSuccess {
				t.Fatalf("the session stopped working: %v", smb2.Status(h.Status))
			}
		})
	}
}

// Session binding needs SMB 3.x and is off with DisableMultiChannel.
func TestBindNotAccepted(t *testing.T) {
	srv := newTokenServer(t)
	srv.DisableMultiChannel = true
	owner := dial(t, srv)
	owner.mustSetup("alice", 0)
	w := dial(t, srv)
	w.useSessionKey()
	if st, _ := w.bind(owner.sid, "alice", true); st != smb2.StatusRequestNotAccepted {
		t.Fatalf("bind with multichannel off: %v", st)
	}
}
