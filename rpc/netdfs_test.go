package rpc

import (
	"encoding/binary"
	"testing"
)

// NetrDfsManagerGetVersion answers the version of a server with
// standalone namespaces; management operations are not served.
func TestNetdfsManagerGetVersion(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, `\PIPE\netdfs`, netdfsInterface, userCaller)
	out, fault := invoke(t, p, 0, nil)
	if fault != 0 || len(out) != 4 || binary.LittleEndian.Uint32(out) != dfsManagerVersionNT4 {
		t.Fatalf("GetManagerVersion: fault %#x, % x", fault, out)
	}
	if _, fault := invoke(t, p, 5, make([]byte, 16)); fault != ncaOpRangeError {
		t.Errorf("NetrDfsEnum: fault %#x, want nca_op_rng_error", fault)
	}
}

func FuzzNetdfs(f *testing.F) {
	fuzzInterface(f, "netdfs", netdfsInterface, nil, []byte{})
}
