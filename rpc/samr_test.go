package rpc

import (
	"bytes"
	"testing"

	"github.com/cifsd/cifsd/internal/utf16le"
)

// openAccountDomain connects and opens the account domain.
func openAccountDomain(t *testing.T, p *Pipe) [20]byte {
	t.Helper()
	w := &writer{}
	w.u32(0)
	w.u32(maximumAllowed)
	out, fault := invoke(t, p, 57, w.b) // SamrConnect2
	if fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("SamrConnect2: fault %#x status %#x", fault, lastU32(out))
	}
	srv := handleAt(t, out, 0)
	w = &writer{}
	w.handle(srv)
	w.ustrIn("srv") // names compare case-insensitively
	out, fault = invoke(t, p, 5, w.b)
	if fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("SamrLookupDomainInSamServer: fault %#x status %#x", fault, lastU32(out))
	}
	r := &reader{b: out}
	r.u32()
	sid := r.sid()
	if !sid.Equal(testDomain) {
		t.Fatalf("domain SID %s", sid)
	}
	w = &writer{}
	w.handle(srv)
	w.u32(maximumAllowed)
	w.sid(sid)
	out, fault = invoke(t, p, 7, w.b)
	if fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("SamrOpenDomain: fault %#x status %#x", fault, lastU32(out))
	}
	return handleAt(t, out, 0)
}

// readRidEnum decodes an enumeration's buffer into names by RID.
func readRidEnum(t *testing.T, out []byte) map[uint32]string {
	t.Helper()
	r := &reader{b: out}
	r.u32() // EnumerationContext
	r.u32()
	n := int(r.u32())
	got := map[uint32]string{}
	if r.u32() != 0 {
		r.u32()
		rids := make([]uint32, n)
		heads := make([]ustr, n)
		for i := range n {
			rids[i] = r.u32()
			heads[i] = r.ustrHead()
		}
		for i := range n {
			got[rids[i]] = r.ustrBody(heads[i])
		}
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return got
}

func TestSamrEnumerateAndQueryUsers(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "samr", samrInterface, userCaller)
	dom := openAccountDomain(t, p)

	w := &writer{}
	w.handle(dom)
	w.u32(0)      // EnumerationContext
	w.u32(0x10)   // UserAccountControl: normal accounts
	w.u32(0xFFFF) // PreferedMaximumLength
	out, fault := invoke(t, p, 13, w.b)
	if fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("EnumerateUsers: fault %#x status %#x", fault, lastU32(out))
	}
	users := readRidEnum(t, out)
	if users[1001] != "alice" || users[1002] != "bob" || len(users) != 2 {
		t.Fatalf("users %v: want alice and bob only (carol is another domain's)", users)
	}

	w = &writer{}
	w.handle(dom)
	w.u32(0)
	w.u32(0xFFFF)
	out, _ = invoke(t, p, 11, w.b)
	if groups := readRidEnum(t, out); groups[513] != "None" {
		t.Fatalf("groups %v", groups)
	}

	// OpenUser + QueryUserInfo level 21 carries the name and full name.
	w = &writer{}
	w.handle(dom)
	w.u32(maximumAllowed)
	w.u32(1001)
	out, fault = invoke(t, p, 34, w.b)
	if fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("OpenUser: fault %#x status %#x", fault, lastU32(out))
	}
	user := handleAt(t, out, 0)
	for _, level := range []uint16{1, 3, 5, 6, 21} {
		w = &writer{}
		w.handle(user)
		w.u16(level)
		out, fault = invoke(t, p, 36, w.b)
		if fault != 0 || lastU32(out) != statusSuccess {
			t.Fatalf("QueryUserInfo %d: fault %#x status %#x", level, fault, lastU32(out))
		}
		if !bytes.Contains(out, utf16le.Encode("alice")) || !bytes.Contains(out, utf16le.Encode("Alice Liddell")) {
			t.Errorf("level %d lacks the names", level)
		}
	}

	// GetGroupsForUser: the account domain's groups only.
	w = &writer{}
	w.handle(user)
	out, _ = invoke(t, p, 39, w.b)
	r := &reader{b: out}
	r.u32()
	n := r.u32()
	r.u32()
	r.u32()
	rid := r.u32()
	if n != 1 || rid != 513 {
		t.Fatalf("groups: %d, first rid %d", n, rid)
	}

	// An unknown RID is no such user.
	w = &writer{}
	w.handle(dom)
	w.u32(maximumAllowed)
	w.u32(4242)
	if out, _ := invoke(t, p, 34, w.b); lastU32(out) != statusNoSuchUser {
		t.Fatalf("OpenUser 4242: status %#x", lastU32(out))
	}
}

func TestSamrLookupNamesAndRids(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "samr", samrInterface, userCaller)
	dom := openAccountDomain(t, p)
	names := []string{"BOB", "nobody"}
	w := &writer{}
	w.handle(dom)
	w.u32(2)
	w.u32(1000)
	w.u32(0)
	w.u32(2)
	for _, n := range names {
		w.ustrHead(n)
	}
	for _, n := range names {
		w.ustrBody(n)
	}
	out, fault := invoke(t, p, 17, w.b)
	if fault != 0 || lastU32(out) != statusSomeNotMapped {
		t.Fatalf("LookupNames: fault %#x status %#x", fault, lastU32(out))
	}
	r := &reader{b: out}
	r.u32()
	r.u32()
	r.u32()
	if rid0, rid1 := r.u32(), r.u32(); rid0 != 1002 || rid1 != 0 {
		t.Fatalf("rids %d %d", rid0, rid1)
	}

	w = &writer{}
	w.handle(dom)
	w.u32(1)
	w.u32(1000)
	w.u32(0)
	w.u32(1)
	w.u32(1001)
	out, _ = invoke(t, p, 18, w.b)
	if lastU32(out) != statusSuccess || !bytes.Contains(out, utf16le.Encode("alice")) {
		t.Fatalf("LookupRids: status %#x", lastU32(out))
	}
}

func TestSamrRefusesNullSessions(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "samr", samrInterface, nil)
	w := &writer{}
	w.u32(0)
	w.u32(maximumAllowed)
	if out, _ := invoke(t, p, 57, w.b); lastU32(out) != statusAccessDenied {
		t.Fatalf("anonymous SamrConnect2: status %#x", lastU32(out))
	}
}
