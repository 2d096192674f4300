package smb2

import (
	"bytes"
	"testing"
)

func TestDurableContextsRoundTrip(t *testing.T) {
	q := DurableRequestV2{Timeout: 1234, Flags: DHandleFlagPersistent, CreateGuid: [16]byte{1, 2, 3, 15: 9}}
	got, err := DecodeDurableRequestV2(q.Context().Data)
	if err != nil || got != q {
		t.Fatalf("DH2Q: %+v %v", got, err)
	}
	c := DurableReconnectV2{FileId: FileID{7, 8}, CreateGuid: [16]byte{4, 15: 5}, Flags: 2}
	gc, err := DecodeDurableReconnectV2(c.Context().Data)
	if err != nil || gc != c {
		t.Fatalf("DH2C: %+v %v", gc, err)
	}
	id, err := DecodeDurableReconnect(append(bytes.Repeat([]byte{1}, 8), bytes.Repeat([]byte{2}, 8)...))
	if err != nil || id.Persistent != 0x0101010101010101 || id.Volatile != 0x0202020202020202 {
		t.Fatalf("DHnC: %+v %v", id, err)
	}
	r := DurableResponseV2{Timeout: 60000}
	gr, err := DecodeDurableResponseV2(r.Context().Data)
	if err != nil || gr != r {
		t.Fatalf("DH2Q response: %+v %v", gr, err)
	}
	if d := (DurableResponse{}).Context().Data; len(d) != 8 {
		t.Fatalf("DHnQ response length %d", len(d))
	}
	for _, n := range []int{0, 15, 17, 31, 33, 35, 37} {
		b := make([]byte, n)
		if n != 16 && (CheckDurableRequest(b) == nil) {
			t.Errorf("DHnQ of %d bytes accepted", n)
		}
		if _, err := DecodeDurableRequestV2(b); err == nil {
			t.Errorf("DH2Q of %d bytes accepted", n)
		}
		if _, err := DecodeDurableReconnectV2(b); err == nil {
			t.Errorf("DH2C of %d bytes accepted", n)
		}
	}
}

// FuzzDurableContexts: no decoder of the durable and app-instance create
// contexts panics, and what decodes re-encodes to the same bytes.
func FuzzDurableContexts(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(make([]byte, 36))
	f.Add(make([]byte, 16))
	f.Add(append([]byte{20, 0}, make([]byte, 18)...)) // an AppInstanceId
	f.Fuzz(func(t *testing.T, d []byte) {
		if id, err := DecodeAppInstanceID(d); err == nil && !bytes.Equal(id[:], d[4:20]) {
			t.Fatalf("AppInstanceId decoded wrong")
		}
		CheckDurableRequest(d)
		DecodeDurableReconnect(d)
		DecodeDurableResponseV2(d)
		if r, err := DecodeDurableRequestV2(d); err == nil {
			e := r.Context().Data
			if !bytes.Equal(e[:8], d[:8]) || !bytes.Equal(e[16:], d[16:]) {
				t.Fatalf("DH2Q re-encoded differently")
			}
		}
		if r, err := DecodeDurableReconnectV2(d); err == nil && !bytes.Equal(r.Context().Data, d) {
			t.Fatalf("DH2C re-encoded differently")
		}
	})
}
