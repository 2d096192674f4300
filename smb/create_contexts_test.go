package smb

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// createCtxs sends a CREATE of name with disposition disp, oplock level
// oplock and the contexts ctxs, in order; it returns the status and the
// names of the contexts answered, in order, and closes what it opened.
func (w *wireClient) createCtxs(name string, disp uint32, oplock uint8, ctxs ...smb2.CreateContext) (smb2.Status, []string) {
	w.t.Helper()
	b := durableCreateBody(name, oplock, 0, ctxs...)
	le32(b[24:], smb2.GenericAll)
	le32(b[32:], shareAll)
	le32(b[36:], disp)
	h, resp := w.roundTrip(smb2.Create, b, true, false)
	if h.Status != 0 {
		return smb2.Status(h.Status), nil
	}
	body := resp[smb2.HeaderSize:]
	w.closeFile(smb2.FileID{Persistent: binary.LittleEndian.Uint64(body[64:]), Volatile: binary.LittleEndian.Uint64(body[72:])})
	var names []string
	if off := binary.LittleEndian.Uint32(body[80:]); off != 0 {
		for c := resp[off:]; ; {
			no, nl := binary.LittleEndian.Uint16(c[4:]), binary.LittleEndian.Uint16(c[6:])
			names = append(names, string(c[no:no+nl]))
			next := binary.LittleEndian.Uint32(c)
			if next == 0 {
				break
			}
			c = c[next:]
		}
	}
	return 0, names
}

// Each create context is checked as it always was (smbtorture's
// smb2.create, smb2.lease and smb2.durable-* suites pin these statuses),
// and the contexts answered in the request's order are answered in it.
func TestCreateContextStatuses(t *testing.T) {
	w := attrClient(t, vfs.NewMem())
	if st, _ := w.createCtxs("exists", smb2.FileCreate, 0); st != 0 {
		t.Fatal(st)
	}
	ctx := func(name string, n int) smb2.CreateContext {
		return smb2.CreateContext{Name: name, Data: make([]byte, n)}
	}
	dh2q := smb2.DurableRequestV2{Timeout: 0, CreateGuid: [16]byte{1}}.Context()
	lease := smb2.Lease{Key: [16]byte{7}, State: smb2.LeaseReadCaching}.Context()
	for _, c := range []struct {
		what   string
		name   string
		disp   uint32
		oplock uint8
		ctxs   []smb2.CreateContext
		want   smb2.Status
	}{
		{"SecD that does not decode", "a", smb2.FileOpenIf, 0, []smb2.CreateContext{ctx(smb2.CreateSDBuffer, 3)}, smb2.StatusInvalidParameter},
		{"RqLs that does not decode, lease asked", "b", smb2.FileOpenIf, smb2.OplockLevelLease,
			[]smb2.CreateContext{ctx(smb2.CreateRequestLease, 3)}, smb2.StatusInvalidParameter},
		{"RqLs that does not decode, no lease asked", "c", smb2.FileOpenIf, 0,
			[]smb2.CreateContext{ctx(smb2.CreateRequestLease, 3)}, 0},
		{"a second RqLs that does not decode", "d", smb2.FileOpenIf, smb2.OplockLevelLease,
			[]smb2.CreateContext{lease, ctx(smb2.CreateRequestLease, 3)}, 0},
		{"AppInstanceId that does not decode", "e", smb2.FileOpenIf, 0,
			[]smb2.CreateContext{ctx(smb2.CreateAppInstanceID, 4)}, smb2.StatusInvalidParameter},
		{"DHnQ beside DH2Q", "f", smb2.FileOpenIf, smb2.OplockLevelBatch,
			[]smb2.CreateContext{ctx(smb2.CreateDurableHandleRequest, 16), dh2q}, smb2.StatusInvalidParameter},
		{"DHnC beside DH2Q", "g", smb2.FileOpenIf, 0,
			[]smb2.CreateContext{ctx(smb2.CreateDurableReconnect, 16), dh2q}, smb2.StatusInvalidParameter},
		{"TWrp shorter than a timestamp", "h", smb2.FileOpenIf, 0, []smb2.CreateContext{ctx(smb2.CreateTimewarpToken, 4)}, smb2.StatusInvalidParameter},
		{"ExtA that does not decode, new file", "i", smb2.FileCreate, 0,
			[]smb2.CreateContext{ctx(smb2.CreateEABuffer, 3)}, smb2.StatusEAListInconsistent},
		{"ExtA that does not decode, file opened", "exists", smb2.FileOpen, 0,
			[]smb2.CreateContext{ctx(smb2.CreateEABuffer, 3)}, 0},
		{"SecD that does not decode, missing file opened", "j", smb2.FileOpen, 0,
			[]smb2.CreateContext{ctx(smb2.CreateSDBuffer, 3)}, smb2.StatusInvalidParameter},
	} {
		if st, _ := w.createCtxs(c.name, c.disp, c.oplock, c.ctxs...); st != c.want {
			t.Errorf("%s: %v, want %v", c.what, st, c.want)
		}
	}
	qfid, mxac := ctx(smb2.CreateQueryOnDiskID, 0), ctx(smb2.CreateQueryMaximalAccess, 0)
	for _, order := range [][]smb2.CreateContext{{qfid, mxac}, {mxac, qfid}} {
		st, got := w.createCtxs("exists", smb2.FileOpen, smb2.OplockLevelLease, append(order, lease)...)
		want := []string{order[0].Name, order[1].Name, smb2.CreateRequestLease}
		if st != 0 || !slices.Equal(got, want) {
			t.Errorf("answers to %s, %s, RqLs: %v %q, want %q", order[0].Name, order[1].Name, st, got, want)
		}
	}
}
