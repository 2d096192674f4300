package rpc

import (
	"testing"

	"github.com/cifsd/cifsd/winacl"
)

// openPolicy opens an LSA policy handle with MAXIMUM_ALLOWED.
func openPolicy(t *testing.T, p *Pipe) [20]byte {
	t.Helper()
	w := &writer{}
	w.u32(0)  // SystemName: null
	w.u32(24) // ObjectAttributes.Length
	for range 5 {
		w.u32(0)
	}
	w.u32(maximumAllowed)
	out, fault := invoke(t, p, 44, w.b)
	if fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("LsarOpenPolicy2: fault %#x status %#x", fault, lastU32(out))
	}
	return handleAt(t, out, 0)
}

// readRefDomains decodes an LSAPR_REFERENCED_DOMAIN_LIST*.
func readRefDomains(r *reader) (names []string, sids []winacl.SID) {
	if r.u32() == 0 {
		return nil, nil
	}
	n := int(r.u32())
	if r.u32() == 0 {
		r.u32()
		return nil, nil
	}
	r.u32() // MaxEntries
	r.u32() // conformance
	heads := make([]ustr, n)
	hasSID := make([]bool, n)
	for i := range n {
		heads[i] = r.ustrHead()
		hasSID[i] = r.u32() != 0
	}
	for i := range n {
		names = append(names, r.ustrBody(heads[i]))
		if hasSID[i] {
			sids = append(sids, r.sid())
		}
	}
	return names, sids
}

func TestLsaLookupNamesAndSids(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "lsarpc", lsarpcInterface, userCaller)
	pol := openPolicy(t, p)

	// LsarLookupNames3: a user, an alias, a Kerberos user, an unknown.
	names := []string{"alice", `BUILTIN\Administrators`, `REALM\carol`, "nobody"}
	w := &writer{}
	w.handle(pol)
	w.u32(uint32(len(names)))
	w.u32(uint32(len(names)))
	for _, n := range names {
		w.ustrHead(n)
	}
	for _, n := range names {
		w.ustrBody(n)
	}
	w.u32(0) // TranslatedSids: empty
	w.u32(0)
	w.u16(1) // LookupLevel
	w.u32(0) // MappedCount
	w.u32(0)
	w.u32(2)
	out, fault := invoke(t, p, 68, w.b)
	if fault != 0 {
		t.Fatalf("fault %#x", fault)
	}
	if st := lastU32(out); st != statusSomeNotMapped {
		t.Fatalf("status %#x, want STATUS_SOME_NOT_MAPPED", st)
	}
	r := &reader{b: out}
	domNames, _ := readRefDomains(r)
	count := int(r.u32())
	r.u32()
	r.u32()
	type sidResult struct {
		use     uint16
		present bool
		dom     int32
	}
	res := make([]sidResult, count)
	for i := range res {
		res[i].use = r.u16()
		res[i].present = r.u32() != 0
		res[i].dom = int32(r.u32())
		r.u32() // Flags
	}
	var sids []winacl.SID
	for _, x := range res {
		if x.present {
			sids = append(sids, r.sid())
		}
	}
	mapped := r.u32()
	if r.err != nil || count != 4 || mapped != 3 {
		t.Fatalf("count %d mapped %d err %v", count, mapped, r.err)
	}
	want := []winacl.SID{domRID(1001), BuiltinAdministrators, winacl.MustParseSID("S-1-5-21-9-9-9-1104")}
	for i, sid := range want {
		if !sids[i].Equal(sid) {
			t.Errorf("%s: SID %s, want %s", names[i], sids[i], sid)
		}
	}
	if res[0].use != uint16(SIDTypeUser) || res[1].use != uint16(SIDTypeAlias) || res[3].use != uint16(SIDTypeUnknown) || res[3].dom != -1 {
		t.Errorf("uses %+v", res)
	}
	if domNames[res[0].dom] != "SRV" || domNames[res[1].dom] != "BUILTIN" || domNames[res[2].dom] != "REALM" {
		t.Errorf("domains %q, indexes %+v", domNames, res)
	}

	// LsarLookupSids2 back: names for the SIDs, the string form for an
	// unknown RID of the account domain.
	lookup := []winacl.SID{domRID(1001), winacl.Everyone, winacl.LocalSystem, domRID(4242)}
	w = &writer{}
	w.handle(pol)
	w.u32(uint32(len(lookup)))
	w.ref()
	w.u32(uint32(len(lookup)))
	for range lookup {
		w.ref()
	}
	for _, sid := range lookup {
		w.sid(sid)
	}
	w.u32(0)
	w.u32(0)
	w.u16(1)
	w.u32(0)
	w.u32(0)
	w.u32(2)
	out, fault = invoke(t, p, 57, w.b)
	if fault != 0 || lastU32(out) != statusSomeNotMapped {
		t.Fatalf("LookupSids2: fault %#x status %#x", fault, lastU32(out))
	}
	r = &reader{b: out}
	domNames, _ = readRefDomains(r)
	count = int(r.u32())
	r.u32()
	r.u32()
	heads := make([]ustr, count)
	doms := make([]int32, count)
	for i := range heads {
		r.u16()
		heads[i] = r.ustrHead()
		doms[i] = int32(r.u32())
		r.u32()
	}
	var got []string
	for i, h := range heads {
		name := r.ustrBody(h)
		if doms[i] >= 0 && int(doms[i]) < len(domNames) && domNames[doms[i]] != "" {
			name = domNames[doms[i]] + `\` + name
		}
		got = append(got, name)
	}
	wantNames := []string{`SRV\alice`, "Everyone", `NT AUTHORITY\SYSTEM`, `SRV\` + domRID(4242).String()}
	for i := range wantNames {
		if i >= len(got) || got[i] != wantNames[i] {
			t.Fatalf("names %q, want %q (err %v)", got, wantNames, r.err)
		}
	}
}

func TestLsaClosedHandleFaults(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "lsarpc", lsarpcInterface, userCaller)
	pol := openPolicy(t, p)
	w := &writer{}
	w.handle(pol)
	if out, fault := invoke(t, p, 0, w.b); fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("first close: fault %#x", fault)
	}
	if _, fault := invoke(t, p, 0, w.b); fault != faultContextMismat {
		t.Fatalf("second close: fault %#x, want context mismatch", fault)
	}
	// A lookup on the closed handle faults the same way.
	w.u16(5)
	if _, fault := invoke(t, p, 7, w.b); fault != faultContextMismat {
		t.Fatalf("query on closed handle: fault %#x", fault)
	}
}

func TestLsaGetUserName(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "lsarpc", lsarpcInterface, userCaller)
	w := &writer{}
	w.u32(0) // SystemName
	w.u32(0) // *UserName: null
	w.ref()  // DomainName: wanted
	w.u32(0)
	out, fault := invoke(t, p, 45, w.b)
	if fault != 0 || lastU32(out) != statusSuccess {
		t.Fatalf("fault %#x status %#x", fault, lastU32(out))
	}
	r := &reader{b: out}
	r.u32()
	user := r.ustring()
	r.u32()
	r.u32()
	dom := r.ustring()
	if user != "bob" || dom != "SRV" {
		t.Fatalf("user %q domain %q", user, dom)
	}
}

func TestLsaAnonymousMayNotAdminister(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "lsarpc", lsarpcInterface, nil)
	w := &writer{}
	w.u32(0)
	w.u32(24)
	for range 5 {
		w.u32(0)
	}
	w.u32(0x00000020) // POLICY_CREATE_SECRET
	out, fault := invoke(t, p, 44, w.b)
	if fault != 0 || lastU32(out) != statusAccessDenied {
		t.Fatalf("fault %#x status %#x, want access denied", fault, lastU32(out))
	}
}
