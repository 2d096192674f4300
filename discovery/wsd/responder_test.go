package wsd

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// probe is a Probe as Windows sends it, with prefixes of its own.
func probe(id, types string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof" xmlns:prn="http://schemas.microsoft.com/windows/2006/08/wdp/print">
<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>
<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>
<wsa:MessageID>` + id + `</wsa:MessageID></soap:Header>
<soap:Body><wsd:Probe><wsd:Types>` + types + `</wsd:Types></wsd:Probe></soap:Body></soap:Envelope>`)
}

func resolve(id, address string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">
<s:Header><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>
<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Resolve</a:Action>
<a:MessageID>` + id + `</a:MessageID></s:Header>
<s:Body><d:Resolve><a:EndpointReference><a:Address>` + address + `</a:Address></a:EndpointReference></d:Resolve></s:Body></s:Envelope>`)
}

// match is what a client reads of a ProbeMatches or ResolveMatches.
type match struct {
	Action    string `xml:"Header>Action"`
	RelatesTo string `xml:"Header>RelatesTo"`
	Address   string `xml:"Body>ProbeMatches>ProbeMatch>EndpointReference>Address"`
	Types     string `xml:"Body>ProbeMatches>ProbeMatch>Types"`
	XAddrs    string `xml:"Body>ProbeMatches>ProbeMatch>XAddrs"`
	RAddress  string `xml:"Body>ResolveMatches>ResolveMatch>EndpointReference>Address"`
	RXAddrs   string `xml:"Body>ResolveMatches>ResolveMatch>XAddrs"`
}

// exchange sends msg from c to `to` and returns the first answer that
// relates to id.
func exchange(t *testing.T, c net.PacketConn, to net.Addr, msg []byte, id string) match {
	t.Helper()
	if _, err := c.WriteTo(msg, to); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, maxMessage)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no answer to %s: %v", id, err)
		}
		var m match
		if err := xml.Unmarshal(buf[:n], &m); err != nil {
			t.Fatalf("answer is not XML: %v\n%s", err, buf[:n])
		}
		if m.RelatesTo == id {
			return m
		}
	}
}

// getMetadata POSTs a WS-Transfer Get to xaddr and returns the answer.
func getMetadata(t *testing.T, xaddr, endpoint string) string {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">
<soap:Header><wsa:To>` + endpoint + `</wsa:To>
<wsa:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</wsa:Action>
<wsa:MessageID>urn:uuid:027bec45-c37c-466c-936c-68f648abe2bb</wsa:MessageID></soap:Header><soap:Body/></soap:Envelope>`
	resp, err := http.Post(xaddr, "application/soap+xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("metadata Get: %s\n%s", resp.Status, b)
	}
	return string(b)
}

// checkMetadata checks a GetResponse names the computer in its workgroup.
func checkMetadata(t *testing.T, doc string) {
	t.Helper()
	var m struct {
		Action   string `xml:"Header>Action"`
		Computer string `xml:"Body>Metadata>MetadataSection>Relationship>Host>Computer"`
		Friendly string `xml:"Body>Metadata>MetadataSection>ThisDevice>FriendlyName"`
	}
	if err := xml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("metadata is not XML: %v", err)
	}
	if m.Action != actionGetResponse || m.Computer != "FILES/Workgroup:HOME" || m.Friendly != "Files on cifsd" {
		t.Fatalf("metadata: action %q computer %q name %q\n%s", m.Action, m.Computer, m.Friendly, doc)
	}
}

func testResponder() *Responder {
	return &Responder{Name: "FILES", Workgroup: "home", Description: "Files on cifsd"}
}

// A Probe sent on loopback gets a ProbeMatches naming the endpoint and
// its metadata address, whose Get names the computer; a Resolve of the
// endpoint gets a ResolveMatches; a Probe for a printer gets nothing.
func TestProbeResolveAndGetOnLoopback(t *testing.T) {
	r := testResponder()
	hs := httptest.NewServer(r.Handler())
	defer hs.Close()
	hp := netip.MustParseAddrPort(hs.Listener.Addr().String())
	r.HTTPPort = int(hp.Port())
	xaddr := r.XAddr(hp.Addr())

	srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, srv, xaddr, false) }()
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

	c.WriteTo(probe("urn:uuid:printer", "prn:PrintDeviceType"), srv.LocalAddr())
	m := exchange(t, c, srv.LocalAddr(), probe("urn:uuid:1", "wsdp:Device"), "urn:uuid:1")
	if m.Action != actionProbeMatches || m.Address != r.Endpoint() || m.XAddrs != xaddr ||
		!strings.Contains(m.Types, "wsdp:Device") || !strings.Contains(m.Types, "pub:Computer") {
		t.Fatalf("ProbeMatches %+v", m)
	}
	checkMetadata(t, getMetadata(t, m.XAddrs, m.Address))

	m = exchange(t, c, srv.LocalAddr(), resolve("urn:uuid:2", r.Endpoint()), "urn:uuid:2")
	if m.Action != actionResolveMatch || m.RAddress != r.Endpoint() || m.RXAddrs != xaddr {
		t.Fatalf("ResolveMatches %+v", m)
	}
	// A Probe with no types matches every endpoint.
	m = exchange(t, c, srv.LocalAddr(), probe("urn:uuid:3", ""), "urn:uuid:3")
	if m.Address != r.Endpoint() {
		t.Fatalf("ProbeMatches to a Probe without types %+v", m)
	}
}

func TestProbeMatching(t *testing.T) {
	for types, want := range map[string]bool{
		"":                                true,
		"wsdp:Device":                     true,
		"wsdp:Device  wsdp:Device":        true,
		"prn:PrintDeviceType":             false,
		"wsdp:Device prn:PrintDeviceType": false,
		"unknown:Device":                  false, // an undeclared prefix is not devprof
	} {
		m, err := parseMessage(probe("urn:uuid:x", types))
		if err != nil {
			t.Fatal(err)
		}
		if got := probeMatches(m); got != want {
			t.Errorf("Probe for %q matches: %v, want %v", types, got, want)
		}
	}
}

func TestMetadataRefusesOtherRequests(t *testing.T) {
	r := testResponder()
	hs := httptest.NewServer(r.Handler())
	defer hs.Close()
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/" + strings.TrimPrefix(r.Endpoint(), "urn:uuid:"), "", 404},
		{"POST", "/other", string(probe("urn:uuid:1", "")), 404},
		{"POST", "/" + strings.TrimPrefix(r.Endpoint(), "urn:uuid:"), string(probe("urn:uuid:1", "")), 400},
		{"POST", "/" + strings.TrimPrefix(r.Endpoint(), "urn:uuid:"), strings.Repeat("x", maxMessage+1), 413},
	} {
		req, _ := http.NewRequest(tc.method, hs.URL+tc.path, bytes.NewReader([]byte(tc.body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

// In a network namespace of its own, with multicast on its loopback, a
// Probe sent to the WS-Discovery group gets a ProbeMatches from
// ListenAndServe, whose metadata names the computer.
func TestMulticastProbeInNamespace(t *testing.T) {
	if os.Getenv("CIFSD_IN_NETNS") == "" {
		runInNetns(t, "TestMulticastProbeInNamespace")
		return
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	r := testResponder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ListenAndServe(ctx, []net.Interface{*lo}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	group := &net.UDPAddr{IP: Group.AsSlice(), Port: Port}
	// From a port of its own, as Windows probes: the answer comes back
	// to it by unicast.
	c, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, maxMessage)
	// The responder may not have joined the group yet: probe again (a new
	// MessageID each time) until it answers.
	for tries := 0; tries < 30; tries++ {
		id := "urn:uuid:probe-" + string(rune('a'+tries))
		if _, err := c.WriteTo(probe(id, "wsdp:Device"), group); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second) // answers wait up to 500 ms
		for {
			c.SetReadDeadline(deadline)
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				break
			}
			var m match
			if xml.Unmarshal(buf[:n], &m) != nil || m.Action != actionProbeMatches {
				continue
			}
			if m.RelatesTo != id && !strings.HasPrefix(m.RelatesTo, "urn:uuid:probe-") {
				t.Fatalf("ProbeMatches relates to %q", m.RelatesTo)
			}
			if want := r.XAddr(netip.MustParseAddr("127.0.0.1")); m.XAddrs != want {
				t.Fatalf("XAddrs %q, want %q", m.XAddrs, want)
			}
			checkMetadata(t, getMetadata(t, m.XAddrs, m.Address))
			return
		}
	}
	t.Fatal("no ProbeMatches to 30 Probes")
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
	script := `ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$0" -test.run "^` + name + `$" -test.v`
	cmd := exec.Command("timeout", "60", "unshare", "-n", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), "CIFSD_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("in a network namespace: %v\n%s", err, out)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add(probe("urn:uuid:1", "wsdp:Device"))
	f.Add(resolve("urn:uuid:2", "urn:uuid:3"))
	f.Add([]byte(`<a xmlns:x="y"><x:b/></a>`))
	r := testResponder()
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseMessage(b); err != nil {
			return
		}
		if out := r.Reply(b, "http://127.0.0.1:5357/x"); out != nil {
			// Whatever we answer, with the client's MessageID echoed in
			// it, is well-formed.
			if _, err := parseMessage(out); err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, out)
			}
		}
	})
}
