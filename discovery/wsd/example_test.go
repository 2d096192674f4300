package wsd_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/cifsd/cifsd/discovery/wsd"
)

// The answer to the Probe Windows Explorer sends.
func ExampleResponder_Reply() {
	r := &wsd.Responder{Name: "NAS", Workgroup: "WORKGROUP", UUID: "4b7c1a6e-0000-5000-8000-000000000001"}
	probe := `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"
 xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof">
<soap:Header><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>
<wsa:MessageID>urn:uuid:1</wsa:MessageID></soap:Header>
<soap:Body><wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe></soap:Body></soap:Envelope>`
	answer := string(r.Reply([]byte(probe), r.XAddr(netip.MustParseAddr("192.0.2.10"))))
	fmt.Println(strings.Contains(answer, "<wsd:Types>wsdp:Device pub:Computer</wsd:Types>"))
	fmt.Println(strings.Contains(answer, "<wsd:XAddrs>http://192.0.2.10:5357/4b7c1a6e-0000-5000-8000-000000000001</wsd:XAddrs>"))
	// Output:
	// true
	// true
}
