package smb2

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/internal/utf16le"
)

func nul16(s string) []byte { return append(utf16le.Encode(s), 0, 0) }

// REQ_GET_DFS_REFERRAL (MS-DFSC 2.2.2): a level and a null-terminated
// name; a name without its terminator is refused.
func TestDFSReferralRequestDecode(t *testing.T) {
	in := append([]byte{4, 0}, nul16(`\srv\root\link`)...)
	var r DFSReferralRequest
	if err := r.Decode(in); err != nil || r.MaxReferralLevel != 4 || r.FileName != `\srv\root\link` {
		t.Fatalf("decode: %+v %v", r, err)
	}
	for _, bad := range [][]byte{nil, {4}, in[:len(in)-2], in[:len(in)-1]} {
		if err := r.Decode(bad); err == nil {
			t.Errorf("decoded %x", bad)
		}
	}
}

// REQ_GET_DFS_REFERRAL_EX (2.2.3, 2.2.3.1): counted name and, with the
// SiteName flag, a counted site; lengths past the buffer are refused.
func TestDFSReferralRequestDecodeEx(t *testing.T) {
	name, site := utf16le.Encode(`\srv\root`), utf16le.Encode("Default-First-Site")
	data := binary.LittleEndian.AppendUint16(nil, uint16(len(name)))
	data = append(data, name...)
	data = binary.LittleEndian.AppendUint16(data, uint16(len(site)))
	data = append(data, site...)
	in := []byte{3, 0, 1, 0}
	in = binary.LittleEndian.AppendUint32(in, uint32(len(data)))
	in = append(in, data...)
	var r DFSReferralRequest
	if err := r.DecodeEx(in); err != nil || r.MaxReferralLevel != 3 || r.FileName != `\srv\root` || r.SiteName != "Default-First-Site" {
		t.Fatalf("decode ex: %+v %v", r, err)
	}
	long := bytes.Clone(in)
	binary.LittleEndian.PutUint32(long[4:], uint32(len(data)+1))
	badName := bytes.Clone(in)
	binary.LittleEndian.PutUint16(badName[8:], 0xFFFE)
	for _, bad := range [][]byte{in[:7], long, badName, in[:len(in)-2]} {
		if err := r.DecodeEx(bad); err == nil {
			t.Errorf("decoded %x", bad)
		}
	}
}

// The encoder lays entries out as MS-DFSC 2.2.4 and 2.2.5.1-2.2.5.4 say,
// byte for byte, and the decoder reads back what it wrote.
func TestDFSReferralResponseLayouts(t *testing.T) {
	entries := []DFSReferral{
		{ServerType: DFSServerTypeLink, TTL: 1800, DFSPath: `\s\r\l`, Target: `\a\b`, Flags: DFSTargetSetBoundary},
		{ServerType: DFSServerTypeLink, TTL: 1800, DFSPath: `\s\r\l`, Target: `\c\d`},
	}
	for _, v := range []uint16{1, 2, 3, 4} {
		r := &DFSReferralResponse{PathConsumed: 12, HeaderFlags: StorageServers, Version: v, Referrals: entries}
		b := make([]byte, r.Size())
		r.Encode(b)
		u16 := func(o int) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
		u32 := func(o int) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
		if u16(0) != 12 || u16(2) != 2 || u32(4) != StorageServers {
			t.Fatalf("v%d header % x", v, b[:8])
		}
		str := func(o int) string {
			end := o
			for end+1 < len(b) && (b[end] != 0 || b[end+1] != 0) {
				end += 2
			}
			return utf16le.Decode(b[o:end])
		}
		switch v {
		case 1:
			// VersionNumber, Size (8 + the name), ServerType, Flags, ShareName inline.
			size := 8 + 2*len(`\a\b`) + 2
			if u16(8) != 1 || int(u16(10)) != size || u16(12) != 0 || u16(14) != 0 || str(16) != `\a\b` {
				t.Fatalf("v1 entry % x", b[8:8+size])
			}
			if e2 := 8 + size; u16(e2) != 1 || str(e2+8) != `\c\d` {
				t.Fatalf("v1 second entry % x", b[e2:])
			}
		case 2:
			// Size 22; Proximity at 8, TTL at 12, offsets at 16, 18, 20.
			if u16(8) != 2 || u16(10) != 22 || u32(16) != 0 || u32(20) != 1800 {
				t.Fatalf("v2 entry % x", b[8:30])
			}
			if str(8+int(u16(24))) != `\s\r\l` || str(8+int(u16(26))) != `\s\r\l` || str(8+int(u16(28))) != `\a\b` {
				t.Fatal("v2 strings")
			}
			if e2 := 30; str(e2+int(u16(e2+20))) != `\c\d` {
				t.Fatal("v2 second target")
			}
		case 3, 4:
			// Size 34; TTL at 8, offsets at 12, 14, 16, ServiceSiteGuid zero.
			flags := uint16(0)
			if v == 4 {
				flags = DFSTargetSetBoundary
			}
			if u16(8) != v || u16(10) != 34 || u16(14) != flags || u32(16) != 1800 ||
				!bytes.Equal(b[26:42], make([]byte, 16)) {
				t.Fatalf("v%d entry % x", v, b[8:42])
			}
			if str(8+int(u16(20))) != `\s\r\l` || str(8+int(u16(22))) != `\s\r\l` || str(8+int(u16(24))) != `\a\b` {
				t.Fatalf("v%d strings", v)
			}
			if e2 := 42; u16(e2+6) != 0 || str(e2+int(u16(e2+16))) != `\c\d` {
				t.Fatalf("v%d second entry", v)
			}
		}
		var d DFSReferralResponse
		if err := d.Decode(b); err != nil {
			t.Fatalf("v%d decode: %v", v, err)
		}
		if d.Version != v || len(d.Referrals) != 2 || d.Referrals[1].Target != `\c\d` ||
			v > 1 && (d.Referrals[0].DFSPath != `\s\r\l` || d.Referrals[0].TTL != 1800) {
			t.Fatalf("v%d round trip %+v", v, d)
		}
	}
}

// FuzzDFSReferralRequest feeds both request decoders and the response
// decoder arbitrary bytes: none may panic, and a decoded name never holds
// more than the input.
func FuzzDFSReferralRequest(f *testing.F) {
	f.Add(append([]byte{4, 0}, nul16(`\srv\root\link`)...))
	ex := []byte{4, 0, 1, 0, 8, 0, 0, 0, 2, 0, 'a', 0, 2, 0, 'b', 0}
	f.Add(ex)
	r := &DFSReferralResponse{Version: 3, Referrals: []DFSReferral{{DFSPath: `\a\b`, Target: `\c\d`}}}
	b := make([]byte, r.Size())
	r.Encode(b)
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		var q DFSReferralRequest
		if q.Decode(in) == nil && len(q.FileName) > 2*len(in) {
			t.Fatalf("name longer than input")
		}
		if q.DecodeEx(in) == nil && len(q.FileName)+len(q.SiteName) > 2*len(in) {
			t.Fatalf("names longer than input")
		}
		var d DFSReferralResponse
		_ = d.Decode(in)
	})
}
