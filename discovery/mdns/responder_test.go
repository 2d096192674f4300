package mdns

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cifsd/cifsd/discovery/internal/mcast"
)

// query sends q from c to addr and returns the first response that
// carries q's ID.
func query(t *testing.T, c net.PacketConn, to net.Addr, q *Message) *Message {
	t.Helper()
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteTo(b, to); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 9000)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		m, err := Unpack(buf[:n])
		if err != nil {
			t.Fatalf("answer does not decode: %v", err)
		}
		if m.Flags&flagResponse != 0 && m.ID == q.ID {
			return m
		}
	}
}

func find(rs []Record, name string, typ uint16) *Record {
	for i := range rs {
		if strings.EqualFold(rs[i].Name, name) && rs[i].Type == typ {
			return &rs[i]
		}
	}
	return nil
}

// checkNamesServer checks an answer to a _smb._tcp PTR query names the
// instance, its port and the host's addresses addrs.
func checkNamesServer(t *testing.T, m *Message, addrs []netip.Addr) {
	t.Helper()
	all := append(append([]Record(nil), m.Answers...), m.Additionals...)
	ptr := find(all, "_smb._tcp.local", TypePTR)
	if ptr == nil || ptr.Target != "Files._smb._tcp.local" {
		t.Fatalf("no PTR to the instance in %+v", m)
	}
	srv := find(all, "Files._smb._tcp.local", TypeSRV)
	if srv == nil || srv.Port != 4455 || srv.Target != "fileserver.local" {
		t.Fatalf("SRV %+v, want port 4455 on fileserver.local", srv)
	}
	if len(addrs) == 0 {
		t.Fatal("the interface has no address")
	}
	for _, want := range addrs {
		typ := TypeA
		if want.Is6() {
			typ = TypeAAAA
		}
		found := false
		for _, rr := range all {
			found = found || rr.Name == "fileserver.local" && rr.Type == typ && rr.Addr == want
		}
		if !found {
			t.Errorf("no address record for %v in %+v", want, all)
		}
	}
	if find(all, "Files._smb._tcp.local", TypeTXT) == nil {
		t.Fatal("no TXT record (DNS-SD needs one, RFC 6763 6)")
	}
}

func testResponder() *Responder {
	return &Responder{Instance: "Files", Host: "fileserver", Port: 4455}
}

// A one-shot query sent on loopback to the responder's socket gets a
// unicast answer naming the server (RFC 6762 6.7).
func TestLegacyUnicastQueryOnLoopback(t *testing.T) {
	srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := testResponder()
	r.Addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, srv, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		srv.Close()
	}()

	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A question nobody answers for is not answered: the next answer is
	// the one to the known question.
	unknown := &Message{ID: 1, Questions: []Question{{Name: "_ipp._tcp.local", Type: TypePTR, Class: ClassINET}}}
	b, _ := unknown.Pack()
	c.WriteTo(b, srv.LocalAddr())
	q := &Message{ID: 0x4242, Questions: []Question{{Name: "_SMB._tcp.local", Type: TypePTR, Class: ClassINET}}}
	m := query(t, c, srv.LocalAddr(), q)
	checkNamesServer(t, m, r.Addrs)
	if len(m.Questions) != 1 || m.Questions[0].Name != "_SMB._tcp.local" {
		t.Errorf("a legacy answer repeats the question: %+v", m.Questions)
	}
	for _, rr := range append(m.Answers, m.Additionals...) {
		if rr.TTL > legacyTTL || rr.Class&cacheFlushBit != 0 {
			t.Errorf("legacy answer record %s type %d: TTL %d class %#x", rr.Name, rr.Type, rr.TTL, rr.Class)
		}
	}

	// The host's address, and the service enumeration.
	m = query(t, c, srv.LocalAddr(), &Message{ID: 2, Questions: []Question{{Name: "fileserver.local", Type: TypeA, Class: ClassINET}}})
	if a := find(m.Answers, "fileserver.local", TypeA); a == nil || a.Addr.String() != "127.0.0.1" {
		t.Errorf("A answer %+v", m.Answers)
	}
	m = query(t, c, srv.LocalAddr(), &Message{ID: 3, Questions: []Question{{Name: "_services._dns-sd._udp.local", Type: TypePTR, Class: ClassINET}}})
	if p := find(m.Answers, "_services._dns-sd._udp.local", TypePTR); p == nil || p.Target != "_smb._tcp.local" {
		t.Errorf("service enumeration answer %+v", m.Answers)
	}
}

// In a network namespace of its own, with multicast on its loopback, a
// query sent to the mDNS group gets a multicast answer from
// ListenAndServe naming the server with the interface's address.
func TestMulticastQueryInNamespace(t *testing.T) {
	if os.Getenv("CIFSD_IN_NETNS") == "" {
		runInNetns(t, "TestMulticastQueryInNamespace")
		return
	}
	// IPv4 on the loopback; IPv6 across a veth pair (v0, v1) made in the
	// namespace, since Linux loops no IPv6 multicast back on lo.
	t.Run("IPv4", func(t *testing.T) { testMulticastQuery(t, Group, "lo", "lo") })
	t.Run("IPv6", func(t *testing.T) { testMulticastQuery(t, Group6, "v1", "v0") })
}

// testMulticastQuery queries the group g from interface queryIf of a
// responder on respIf and checks the answer names the server with
// respIf's addresses.
func testMulticastQuery(t *testing.T, g netip.Addr, respIf, queryIf string) {
	resp, err := net.InterfaceByName(respIf)
	if err != nil {
		t.Fatal(err)
	}
	querier, err := net.InterfaceByName(queryIf)
	if err != nil {
		t.Fatal(err)
	}
	r := testResponder()
	want := r.addrsOf(resp)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ListenAndServe(ctx, []net.Interface{*resp}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	group := &net.UDPAddr{IP: g.AsSlice(), Port: Port}
	if g.Is6() {
		group.Zone = queryIf
	}
	c, err := mcast.ListenGroup(querier, group) // port 5353: answers come multicast
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := &Message{Questions: []Question{{Name: "_smb._tcp.local", Type: TypePTR, Class: ClassINET}}}
	b, _ := q.Pack()
	buf := make([]byte, 9000)
	// The responder may not have joined the group yet: ask again until
	// it answers, as a querier does (RFC 6762 5.2).
	for tries := 0; ; {
		if tries%10 == 0 {
			if tries == 300 {
				t.Fatal("no multicast answer to 30 queries")
			}
			if _, err := c.WriteTo(b, group); err != nil {
				t.Fatal(err)
			}
		}
		tries++
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, from, err := c.ReadFrom(buf)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m, err := Unpack(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if m.Flags&flagResponse == 0 || find(m.Answers, "_smb._tcp.local", TypePTR) == nil {
			continue // our own query, or an announcement
		}
		if len(m.Additionals) == 0 {
			// An announcement: every record is an answer. The answer to
			// the PTR question adds the SRV, TXT and address records.
			continue
		}
		if from.(*net.UDPAddr).Port != Port {
			t.Errorf("answer from port %d", from.(*net.UDPAddr).Port)
		}
		checkNamesServer(t, m, want)
		return
	}
}

// runInNetns runs the test named name again in a new network namespace
// whose loopback is up and can multicast, and fails if it fails there. It
// skips when namespaces cannot be made (no privilege).
func runInNetns(t *testing.T, name string) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a network namespace")
	}
	if err := exec.Command("timeout", "10", "unshare", "-n", "true").Run(); err != nil {
		t.Skipf("cannot make a network namespace: %v", err)
	}
	script := `ip link set lo up && ip link set lo multicast on && { sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up; true; } && exec "$0" -test.run "^` + name + `$" -test.v`
	cmd := exec.Command("timeout", "60", "unshare", "-n", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), "CIFSD_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("in a network namespace: %v\n%s", err, out)
	}
}
