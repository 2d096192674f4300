package mdns

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestPackUnpackRoundTrip(t *testing.T) {
	m := &Message{
		ID: 7, Flags: flagResponse | flagAuthoritative,
		Questions: []Question{{Name: "_smb._tcp.local", Type: TypePTR, Class: ClassINET | unicastBit}},
		Answers: []Record{
			{Name: "_smb._tcp.local", Type: TypePTR, Class: ClassINET, TTL: 4500, Target: "Files._smb._tcp.local"},
			{Name: "Files._smb._tcp.local", Type: TypeSRV, Class: ClassINET | cacheFlushBit, TTL: 120,
				Priority: 1, Weight: 2, Port: 445, Target: "host.local"},
			{Name: "Files._smb._tcp.local", Type: TypeTXT, Class: ClassINET, TTL: 120, Text: []string{"a=b", ""}},
		},
		Additionals: []Record{
			{Name: "host.local", Type: TypeA, Class: ClassINET, TTL: 120, Addr: netip.MustParseAddr("192.0.2.1")},
			{Name: "host.local", Type: TypeAAAA, Class: ClassINET, TTL: 120, Addr: netip.MustParseAddr("fe80::1")},
			{Name: "host.local", Type: 47, Class: ClassINET, TTL: 120, Data: []byte{1, 2, 3}},
		},
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unpack(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Authorities == nil {
		got.Authorities = nil
	}
	m.Authorities = []Record{}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
	}
}

// A name that continues at a pointer to an earlier name (RFC 1035 4.1.4).
func TestUnpackCompressedName(t *testing.T) {
	b := []byte{
		0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, // header: one answer
		// answer: "_smb._tcp.local" PTR "x" + pointer to offset 17 ("_tcp.local")
		4, '_', 's', 'm', 'b', 4, '_', 't', 'c', 'p', 5, 'l', 'o', 'c', 'a', 'l', 0,
		0, 12, 0, 1, 0, 0, 0, 120, 0, 4,
		1, 'x', 0xC0, 12,
	}
	m, err := Unpack(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Answers[0].Target; got != "x._smb._tcp.local" {
		t.Fatalf("target %q", got)
	}
}

func TestUnpackRefusesBadNames(t *testing.T) {
	header := []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for name, q := range map[string][]byte{
		"pointer to itself":     {0xC0, 12, 0, 1, 0, 1},
		"forward pointer":       {0xC0, 14, 0, 0, 1, 0, 1},
		"label past the end":    {10, 'a', 'b', 0, 1, 0, 1},
		"reserved label type":   {0x40, 0, 1, 0, 1},
		"no type and class":     {1, 'a', 0},
		"count beyond the data": {},
	} {
		if _, err := Unpack(append(header[:12:12], q...)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	// A name longer than 255 bytes, spelled out in full.
	var long []byte
	for i := 0; i < 5; i++ {
		long = append(long, 63)
		long = append(long, make([]byte, 63)...)
	}
	long = append(long, 0, 0, 1, 0, 1)
	if _, err := Unpack(append(header[:12:12], long...)); err == nil {
		t.Error("a 320-byte name decoded")
	}
	// Question i names the name of question i-1 by a pointer, so the
	// name of question 40 is 40 pointers deep: past the bound.
	chain := append([]byte(nil), header...)
	chain[5] = 41
	chain = append(chain, 0, 0, 1, 0, 1)
	for i := 1; i <= 40; i++ {
		prev := len(chain) - 5
		if i > 1 {
			prev = len(chain) - 6
		}
		chain = append(chain, 0xC0|byte(prev>>8), byte(prev), 0, 1, 0, 1)
	}
	if _, err := Unpack(chain); err == nil {
		t.Error("a 40-pointer name decoded")
	}
	chain[5] = 30
	if _, err := Unpack(chain[:12+5+29*6]); err != nil {
		t.Errorf("a 29-pointer name: %v", err)
	}
}

func FuzzUnpack(f *testing.F) {
	m := &Message{
		Questions: []Question{{Name: "_smb._tcp.local", Type: TypePTR, Class: ClassINET}},
		Answers:   []Record{{Name: "a.local", Type: TypeSRV, Class: 1, TTL: 1, Port: 445, Target: "b.local"}},
	}
	b, _ := m.Pack()
	f.Add(b)
	f.Add([]byte{0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 'x', 0xC0, 12, 0, 12, 0, 1, 0, 0, 0, 1, 0, 2, 0xC0, 12})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unpack(b)
		if err != nil {
			return
		}
		// What decodes re-encodes (when its names are plain) and decodes
		// again to the same message.
		p, err := m.Pack()
		if err != nil {
			return
		}
		m2, err := Unpack(p)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if len(m2.Answers) != len(m.Answers) || len(m2.Questions) != len(m.Questions) {
			t.Fatalf("round trip changed the sections")
		}
	})
}
