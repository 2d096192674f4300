package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
)

// rawCreate sends a CREATE (OPEN_IF, sharing everything) and returns the
// status, closing what it opened.
func (w *wireClient) rawCreate(name string, access, attrs, options uint32) smb2.Status {
	w.t.Helper()
	b := createBody(name)
	le32(b[24:], access)
	le32(b[28:], attrs)
	le32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	le32(b[36:], smb2.FileOpenIf)
	le32(b[40:], options)
	h, resp := w.roundTrip(smb2.Create, b, true, false)
	if h.Status == 0 {
		body := resp[smb2.HeaderSize:]
		c := make([]byte, 24)
		le16(c, 24)
		copy(c[8:], body[64:80])
		w.roundTrip(smb2.Close, c, true, false)
	}
	return smb2.Status(h.Status)
}

// CREATE refuses the option, attribute and access bits Windows refuses
// (smbtorture create.gentest).
func TestCreateFieldChecks(t *testing.T) {
	w, _ := fsctlServer(t)
	cases := []struct {
		what                   string
		access, attrs, options uint32
		want                   smb2.Status
	}{
		{"plain", smb2.MaximumAllowed, 0, 0, smb2.StatusSuccess},
		{"reserved option", smb2.MaximumAllowed, 0, 0x01000000, smb2.StatusInvalidParameter},
		{"open by file id", smb2.MaximumAllowed, 0, smb2.FileOpenByFileID, smb2.StatusNotSupported},
		{"reserve opfilter", smb2.MaximumAllowed, 0, 0x00100000, smb2.StatusNotSupported},
		{"device attribute", smb2.MaximumAllowed, 0x40, 0, smb2.StatusInvalidParameter},
		{"volume attribute", smb2.MaximumAllowed, 0x8, 0, smb2.StatusInvalidParameter},
		{"reserved access before attributes", 0x08000000, 0x8, 0, smb2.StatusAccessDenied},
		{"system security", smb2.AccessSystemSecurity | smb2.FileReadData, 0, 0, smb2.StatusPrivilegeNotHeld},
		// Modern Windows opens for SYNCHRONIZE alone (smbtorture
		// sharemode.access-sharemode; create.gentest expects Windows
		// 2008's ACCESS_DENIED unless run with --target=win7).
		{"synchronize alone", smb2.Synchronize, 0, 0, smb2.StatusSuccess},
		{"offline attribute", smb2.MaximumAllowed, fscc.FileAttributeOffline, 0, smb2.StatusSuccess},
	}
	for _, c := range cases {
		if st := w.rawCreate("f", c.access, c.attrs, c.options); st != c.want {
			t.Errorf("%s: %v, want %v", c.what, st, c.want)
		}
	}
	// No EFS: a new encrypted file is refused.
	if st := w.rawCreate("g", smb2.MaximumAllowed, fscc.FileAttributeEncrypted, 0); st != smb2.StatusAccessDenied {
		t.Errorf("encrypted: %v, want ACCESS_DENIED", st)
	}
}

// The quota index opens at the share root, as at an NTFS volume's root,
// showing no times and the quota file's attributes (smbtorture
// create.quota-fake-file).
func TestQuotaFileOpens(t *testing.T) {
	w, _ := fsctlServer(t)
	b := createBody(quotaFileName)
	le32(b[24:], 0x80) // FILE_READ_ATTRIBUTES
	le32(b[32:], smb2.FileShareRead)
	le32(b[36:], smb2.FileOpen)
	h, resp := w.roundTrip(smb2.Create, b, true, false)
	if h.Status != 0 {
		t.Fatalf("open quota file: %v", smb2.Status(h.Status))
	}
	body := resp[smb2.HeaderSize:]
	if ct := le64get(body[8:]); ct != 0 {
		t.Errorf("creation time %#x, want 0", ct)
	}
	if a := le32get(body[56:]); a != quotaFileAttributes {
		t.Errorf("attributes %#x, want %#x", a, quotaFileAttributes)
	}
	if st := w.rawCreate(`sub\`+quotaFileName, 0x80, 0, 0); st == smb2.StatusSuccess {
		t.Errorf("quota file below the root opened")
	}
}

func le64get(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32get(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// A create context name shorter than 4 bytes is INVALID_PARAMETER; a
// previous version (TWrp) of a file is not found, as there are no
// snapshots; unknown contexts are ignored (smbtorture create.blob).
func TestCreateContextChecks(t *testing.T) {
	w, _ := fsctlServer(t)
	for _, c := range []struct {
		cc   smb2.CreateContext
		want smb2.Status
	}{
		{smb2.CreateContext{Name: "xxx"}, smb2.StatusInvalidParameter},
		{smb2.CreateContext{Name: "x"}, smb2.StatusInvalidParameter},
		{smb2.CreateContext{Name: "xxxx"}, smb2.StatusSuccess},
		{smb2.CreateContext{Name: "xxxxxxxxxxxxxxxxx"}, smb2.StatusSuccess},
		{smb2.CreateContext{Name: smb2.CreateTimewarpToken, Data: make([]byte, 8)}, smb2.StatusObjectNameNotFound},
	} {
		h, resp := w.roundTrip(smb2.Create, durableCreateBody("f", 0, 0, c.cc), true, false)
		if st := smb2.Status(h.Status); st != c.want {
			t.Errorf("context %q: %v, want %v", c.cc.Name, st, c.want)
		}
		if h.Status == 0 {
			c := make([]byte, 24)
			le16(c, 24)
			copy(c[8:], resp[smb2.HeaderSize+64:smb2.HeaderSize+80])
			w.roundTrip(smb2.Close, c, true, false)
		}
	}
}
