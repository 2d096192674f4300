package mdns_test

import (
	"fmt"
	"net/netip"

	"github.com/cifsd/cifsd/discovery/mdns"
)

// What a DNS-SD browser asks, and what the responder answers.
func ExampleResponder_Answer() {
	r := &mdns.Responder{Instance: "Files", Host: "nas", Port: 445,
		Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}}
	q := &mdns.Message{Questions: []mdns.Question{{Name: "_smb._tcp.local", Type: mdns.TypePTR, Class: mdns.ClassINET}}}
	resp := r.Answer(q, nil, false)
	for _, rr := range append(resp.Answers, resp.Additionals...) {
		switch rr.Type {
		case mdns.TypePTR:
			fmt.Println("PTR", rr.Name, "->", rr.Target)
		case mdns.TypeSRV:
			fmt.Println("SRV", rr.Name, "->", rr.Target, rr.Port)
		case mdns.TypeA:
			fmt.Println("A", rr.Name, "->", rr.Addr)
		}
	}
	// Output:
	// PTR _smb._tcp.local -> Files._smb._tcp.local
	// SRV Files._smb._tcp.local -> nas.local 445
	// A nas.local -> 192.0.2.10
}
