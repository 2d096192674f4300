package rpc

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// NetrSessionEnum levels 1, 2, 10 and 502 carry the session's time and
// idle time in seconds, time first (MS-SRVS 2.2.4.15 to 2.2.4.18).
func TestSrvsvcSessionEnumTimes(t *testing.T) {
	s, st := testServer()
	st.sessions[1].Time, st.sessions[1].Idle = 7777*time.Second, 3333*time.Second
	noFilter := func(w *writer) { w.u32(0); w.u32(0) }
	want := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 7777), 3333)
	for _, level := range []uint32{1, 2, 10, 502} {
		p := openBound(t, s, "srvsvc", srvsvcInterface, adminCaller)
		out, fault := invoke(t, p, 12, enumStub(noFilter, level))
		if fault != 0 || lastU32(out) != errSuccess {
			t.Fatalf("level %d: fault %#x werr %d", level, fault, lastU32(out))
		}
		if !bytes.Contains(out, want) {
			t.Errorf("level %d: no time 7777 and idle 3333 in % x", level, out)
		}
	}
}
