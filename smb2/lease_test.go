package smb2

import (
	"bytes"
	"testing"
)

func TestLeaseRoundTrip(t *testing.T) {
	for _, in := range []Lease{
		{Key: [16]byte{1, 2, 3}, State: LeaseReadCaching | LeaseHandleCaching},
		{Key: [16]byte{9}, State: 7, Flags: LeaseFlagParentLeaseKeySet, V2: true,
			ParentLeaseKey: [16]byte{4, 5}, Epoch: 0x4711},
	} {
		c := in.Context()
		if c.Name != CreateRequestLease {
			t.Fatalf("name %q", c.Name)
		}
		out, err := DecodeLease(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		if out != in {
			t.Fatalf("got %+v, want %+v", out, in)
		}
	}
	if _, err := DecodeLease(make([]byte, 31)); err == nil {
		t.Fatal("short lease context accepted")
	}
}

func TestLeaseBreakAckRoundTrip(t *testing.T) {
	in := LeaseBreakAck{LeaseKey: [16]byte{7, 8}, LeaseState: LeaseReadCaching}
	b := make([]byte, in.Size())
	in.Encode(b)
	var out LeaseBreakAck
	if err := out.Decode(msgWith(OplockBreak, b)); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("got %+v, want %+v", out, in)
	}
}

// FuzzDecodeLease: the lease context decoder never panics and what it
// decodes encodes back to the same leading bytes.
func FuzzDecodeLease(f *testing.F) {
	f.Add(Lease{State: 7}.Context().Data)
	f.Add(Lease{State: 3, V2: true, Epoch: 2}.Context().Data)
	f.Add(bytes.Repeat([]byte{0xFF}, 40))
	f.Fuzz(func(t *testing.T, d []byte) {
		l, err := DecodeLease(d)
		if err != nil {
			return
		}
		enc := l.Context().Data
		if !bytes.Equal(enc[:32], d[:32]) {
			t.Fatalf("v1 fields do not round-trip")
		}
		if l.V2 && !bytes.Equal(enc[32:50], d[32:50]) {
			t.Fatalf("v2 fields do not round-trip")
		}
		ack := &LeaseBreakAck{}
		_ = ack.Decode(msgWith(OplockBreak, d))
	})
}
