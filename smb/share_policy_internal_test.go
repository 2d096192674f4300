package smb

import (
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// oplocks = no: a batch oplock asked for on a share with NoOplocks is not
// granted, while the same request on another share is.
func TestNoOplocksGrantsNone(t *testing.T) {
	srv := &Server{
		Shares: []Share{
			{Name: "plain", FS: vfs.NewMem()},
			{Name: "nooplocks", FS: vfs.NewMem(), NoOplocks: true},
		},
		Auth: auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	for share, want := range map[string]uint8{"plain": smb2.OplockLevelBatch, "nooplocks": smb2.OplockLevelNone} {
		w := connectNTLM(t, srv, share)
		got, _ := w.oplockOpen("f.txt", smb2.OplockLevelBatch, smb2.FileReadData|smb2.FileWriteData, 0)
		if got != want {
			t.Errorf("%s: oplock %#x, want %#x", share, got, want)
		}
	}
}

func TestWildMatch(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		want bool
	}{
		{"*.tmp", "a.tmp", true},
		{"*.tmp", "a.tmpx", false},
		{"?.txt", "a.txt", true},
		{"?.txt", "ab.txt", false},
		{"*", "", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{".*", ".hidden", true},
		{"secret", "secret", true},
	} {
		if got := wildMatch(tc.p, tc.n); got != tc.want {
			t.Errorf("wildMatch(%q, %q) = %v", tc.p, tc.n, got)
		}
	}
	if !matchAny([]string{"*.TMP"}, "x.tmp") {
		t.Error("matchAny is case-sensitive")
	}
}
