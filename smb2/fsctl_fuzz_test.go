package smb2

import (
	"bytes"
	"testing"
)

// FuzzFsctlDecoders feeds the FSCTL input decoders the same bytes: none may
// panic or allocate beyond the chunk limit, whatever the counts say, and a
// decoded copychunk request re-encodes to the bytes it came from.
func FuzzFsctlDecoders(f *testing.F) {
	cc := &SrvCopychunkCopy{SourceKey: [24]byte{1, 2, 3}, Chunks: []SrvCopychunk{{1, 2, 3}, {4, 5, 6}}}
	b := make([]byte, cc.Size())
	cc.Encode(b)
	f.Add(b)
	f.Add(b[:40])
	f.Add(make([]byte, 16))
	f.Add(bytes.Repeat([]byte{0xFF}, 64))
	f.Fuzz(func(t *testing.T, in []byte) {
		var c SrvCopychunkCopy
		if err := c.Decode(in); err == nil {
			if len(c.Chunks) > CopychunkMaxChunks {
				t.Fatalf("%d chunks decoded", len(c.Chunks))
			}
			if c.Chunks != nil {
				if uint32(len(c.Chunks)) != c.ChunkCount {
					t.Fatalf("chunks %d, count %d", len(c.Chunks), c.ChunkCount)
				}
				out := make([]byte, c.Size())
				c.Encode(out)
				// Reserved fields are zeroed on encode; compare the rest.
				if !bytes.Equal(out[:24], in[:24]) || !bytes.Equal(out[24:28], in[24:28]) {
					t.Fatalf("re-encode differs")
				}
			}
		} else if len(in) >= copychunkHeaderSize {
			t.Fatalf("rejected %d bytes: %v", len(in), err)
		}
		var z FileZeroDataInformation
		_ = z.Decode(in)
		var r FileAllocatedRangeBuffer
		_ = r.Decode(in)
		_ = DecodeSetSparse(in)
		_ = DecodeAllocatedRanges(in)
		var k ResumeKeyResponse
		_ = k.Decode(in)
		var cr SrvCopychunkResponse
		_ = cr.Decode(in)
	})
}

func TestCopychunkCopyLimits(t *testing.T) {
	// A count beyond the limit or beyond the buffer decodes without chunks.
	in := make([]byte, 32+24)
	le.PutUint32(in[24:], 2)
	var c SrvCopychunkCopy
	if err := c.Decode(in); err != nil || c.Chunks != nil || c.ChunkCount != 2 {
		t.Fatalf("short: %v %v %d", err, c.Chunks, c.ChunkCount)
	}
	le.PutUint32(in[24:], 1<<31)
	if err := c.Decode(in); err != nil || c.Chunks != nil {
		t.Fatalf("huge: %v %v", err, c.Chunks)
	}
	le.PutUint32(in[24:], 1)
	if err := c.Decode(in); err != nil || len(c.Chunks) != 1 {
		t.Fatalf("one: %v %v", err, c.Chunks)
	}
	if err := c.Decode(in[:31]); err == nil {
		t.Fatal("31 bytes accepted")
	}
}

func TestAllocatedRangesRoundTrip(t *testing.T) {
	a := AllocatedRanges{{0, 4096}, {65536, 1024}}
	b := make([]byte, a.Size())
	a.Encode(b)
	got := DecodeAllocatedRanges(b)
	if len(got) != 2 || got[1] != a[1] {
		t.Fatalf("got %v", got)
	}
	var r ResumeKeyResponse
	r.ResumeKey[23] = 9
	rb := make([]byte, r.Size())
	r.Encode(rb)
	if len(rb) != 32 || rb[23] != 9 {
		t.Fatalf("resume key %x", rb)
	}
}
