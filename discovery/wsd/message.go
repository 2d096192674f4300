package wsd

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
)

// Namespaces of the messages (WS-Discovery 2005/04, WS-Addressing
// 2004/08, DPWS 2006/02, as Windows speaks them).
const (
	nsSOAP      = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr      = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsDiscovery = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
	nsDevprof   = "http://schemas.xmlsoap.org/ws/2006/02/devprof"
	nsPub       = "http://schemas.microsoft.com/windows/pub/2005/07"
	nsMex       = "http://schemas.xmlsoap.org/ws/2004/09/mex"
	nsPnpx      = "http://schemas.microsoft.com/windows/pnpx/2005/10"

	actionHello         = nsDiscovery + "/Hello"
	actionBye           = nsDiscovery + "/Bye"
	actionProbe         = nsDiscovery + "/Probe"
	actionProbeMatches  = nsDiscovery + "/ProbeMatches"
	actionResolve       = nsDiscovery + "/Resolve"
	actionResolveMatch  = nsDiscovery + "/ResolveMatches"
	actionGet           = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
	actionGetResponse   = "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
	addressAnonymous    = nsAddr + "/role/anonymous"
	addressDiscoveryURN = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
)

// maxMessage bounds a message read from the network (a UDP datagram is
// at most 64 KiB; a metadata Get is small).
const maxMessage = 64 << 10

// message is what the responder reads of a SOAP envelope.
type message struct {
	Action    string
	MessageID string
	To        string
	// Probe: the types and scopes asked for, the types as expanded
	// names ("namespace local").
	Probe       bool
	ProbeTypes  []xml.Name
	ProbeScopes string
	// Resolve: the endpoint asked for.
	Resolve        bool
	ResolveAddress string
}

type envelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action    string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		To        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing To"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Probe *struct {
			Types  string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Types"`
			Scopes string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Scopes"`
		} `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Probe"`
		Resolve *struct {
			Address string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing EndpointReference>Address"`
		} `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Resolve"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

// parseMessage decodes a SOAP envelope from the network. encoding/xml
// expands no entities but the predefined ones and reads at most b, so a
// message costs a bounded amount of work.
func parseMessage(b []byte) (*message, error) {
	if len(b) > maxMessage {
		return nil, errors.New("wsd: message too long")
	}
	var env envelope
	if err := xml.Unmarshal(b, &env); err != nil {
		return nil, err
	}
	m := &message{
		Action:    strings.TrimSpace(env.Header.Action),
		MessageID: strings.TrimSpace(env.Header.MessageID),
		To:        strings.TrimSpace(env.Header.To),
	}
	if p := env.Body.Probe; p != nil {
		m.Probe = true
		m.ProbeScopes = strings.TrimSpace(p.Scopes)
		prefixes := namespacePrefixes(b)
		for _, q := range strings.Fields(p.Types) {
			prefix, local, ok := strings.Cut(q, ":")
			if !ok {
				prefix, local = "", q
			}
			m.ProbeTypes = append(m.ProbeTypes, xml.Name{Space: prefixes[prefix], Local: local})
		}
	}
	if r := env.Body.Resolve; r != nil {
		m.Resolve = true
		m.ResolveAddress = strings.TrimSpace(r.Address)
	}
	return m, nil
}

// namespacePrefixes maps each namespace prefix declared anywhere in b to
// its namespace, the first declaration winning: the QNames of a Probe's
// Types are resolved through it. (Messages that bind one prefix to two
// namespaces do not occur in practice.)
func namespacePrefixes(b []byte) map[string]string {
	m := make(map[string]string)
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return m
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				switch {
				case a.Name.Space == "xmlns":
					if _, seen := m[a.Name.Local]; !seen {
						m[a.Name.Local] = a.Value
					}
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if _, seen := m[""]; !seen {
						m[""] = a.Value
					}
				}
			}
		}
	}
}

// esc escapes s for XML text and attributes.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
