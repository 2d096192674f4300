// Package wsd makes an SMB server show in Windows Explorer's Network view
// through WS-Discovery (the 2005/04 version Windows speaks) and the
// Devices Profile for Web Services (DPWS), as wsdd does, with no NetBIOS.
//
// The responder answers Probe and Resolve messages sent to the
// WS-Discovery group (239.255.255.250:3702) with the server's endpoint
// (types wsdp:Device and pub:Computer) and a metadata address, announces
// itself with Hello and leaves with Bye, and answers the metadata Get
// that Windows sends next over HTTP (port 5357) with the computer's name
// and workgroup. Explorer then lists the computer; opening it connects
// to \\NAME over SMB.
//
//	r := &wsd.Responder{Name: "FILES", Workgroup: "WORKGROUP"}
//	err := r.ListenAndServe(ctx, nil) // every multicast interface
package wsd

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/discovery/internal/mcast"
)

// Port is WS-Discovery's UDP port; HTTPPort the one Windows' metadata
// exchange (and wsdd) uses.
const (
	Port     = 3702
	HTTPPort = 5357
)

// Group is WS-Discovery's IPv4 multicast group.
var Group = netip.MustParseAddr("239.255.255.250")

// appMaxDelay bounds the random wait before answering a multicast Probe
// or Resolve (WS-Discovery 2005/04 3.1.3, APP_MAX_DELAY).
const appMaxDelay = 500 * time.Millisecond

// Responder answers WS-Discovery for one SMB server. Its zero value
// announces the host name in WORKGROUP.
type Responder struct {
	// Name is the computer name Explorer shows and connects to (\\Name);
	// default the first label of os.Hostname.
	Name string
	// Workgroup is the workgroup the computer is listed in; default
	// WORKGROUP. Ignored when Domain is set.
	Workgroup string
	// Domain, when set, lists the computer as a member of this domain.
	Domain string
	// Description is the friendly name in the device's metadata; default
	// Name.
	Description string
	// UUID is the endpoint's identifier (xxxxxxxx-xxxx-...); default one
	// derived from Name, so that it stays the same across restarts.
	UUID string
	// HTTPPort is the port of the metadata exchange; default 5357.
	HTTPPort int
	// Logger receives the responder's logs; nil uses slog.Default().
	Logger *slog.Logger

	once     sync.Once
	name     string
	uuid     string
	instance int64 // AppSequence InstanceId: the start time (5.x)
	seq      string
	msgNum   atomic.Uint64

	seenMu sync.Mutex
	seen   []string // MessageIDs of the recent requests (duplicates dropped)
}

func (r *Responder) init() {
	r.once.Do(func() {
		r.name = r.Name
		if r.name == "" {
			h, err := os.Hostname()
			if err != nil || h == "" {
				h = "cifsd"
			}
			r.name, _, _ = strings.Cut(h, ".")
		}
		r.uuid = r.UUID
		if r.uuid == "" {
			r.uuid = nameUUID("cifsd wsd " + strings.ToUpper(r.name))
		}
		r.instance = time.Now().Unix()
		r.seq = "urn:uuid:" + randomUUID()
	})
}

func (r *Responder) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// nameUUID is a name-based (version 5 style) UUID of s.
func nameUUID(s string) string {
	h := sha1.Sum([]byte(s))
	h[6] = h[6]&0x0F | 0x50
	h[8] = h[8]&0x3F | 0x80
	return formatUUID(h[:16])
}

func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0F | 0x40
	b[8] = b[8]&0x3F | 0x80
	return formatUUID(b[:])
}

func formatUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Endpoint is the responder's endpoint address, urn:uuid:UUID.
func (r *Responder) Endpoint() string {
	r.init()
	return "urn:uuid:" + r.uuid
}

// XAddr is the metadata address a responder reachable at host announces.
func (r *Responder) XAddr(host netip.Addr) string {
	r.init()
	port := r.HTTPPort
	if port == 0 {
		port = HTTPPort
	}
	return fmt.Sprintf("http://%s/%s", netip.AddrPortFrom(host, uint16(port)), r.uuid)
}

// computer is the pub:Computer value: NAME/Workgroup:WG or NAME/Domain:D.
func (r *Responder) computer() string {
	if r.Domain != "" {
		return r.name + "/Domain:" + r.Domain
	}
	wg := r.Workgroup
	if wg == "" {
		wg = "WORKGROUP"
	}
	return r.name + "/Workgroup:" + strings.ToUpper(wg)
}

// envelope wraps body in a SOAP envelope with its addressing headers.
func (r *Responder) envelope(to, action, relatesTo, body string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` +
		`<soap:Envelope xmlns:soap="` + nsSOAP + `" xmlns:wsa="` + nsAddr + `" xmlns:wsd="` + nsDiscovery +
		`" xmlns:wsdp="` + nsDevprof + `" xmlns:pub="` + nsPub + `" xmlns:wsx="` + nsMex + `" xmlns:pnpx="` + nsPnpx + `">` +
		`<soap:Header><wsa:To>` + esc(to) + `</wsa:To><wsa:Action>` + action + `</wsa:Action>` +
		`<wsa:MessageID>urn:uuid:` + randomUUID() + `</wsa:MessageID>`)
	if relatesTo != "" {
		b.WriteString(`<wsa:RelatesTo>` + esc(relatesTo) + `</wsa:RelatesTo>`)
	}
	if action != actionGetResponse {
		// Discovery messages carry their sequence (WS-Discovery 7).
		fmt.Fprintf(&b, `<wsd:AppSequence InstanceId="%d" SequenceId="%s" MessageNumber="%d"/>`,
			r.instance, r.seq, r.msgNum.Add(1))
	}
	b.WriteString(`</soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`)
	return []byte(b.String())
}

// match is the body of a Hello, ProbeMatch or ResolveMatch.
func (r *Responder) match(xaddr string) string {
	s := `<wsa:EndpointReference><wsa:Address>` + r.Endpoint() + `</wsa:Address></wsa:EndpointReference>` +
		`<wsd:Types>wsdp:Device pub:Computer</wsd:Types>`
	if xaddr != "" {
		s += `<wsd:XAddrs>` + esc(xaddr) + `</wsd:XAddrs>`
	}
	return s + `<wsd:MetadataVersion>1</wsd:MetadataVersion>`
}

func (r *Responder) hello(xaddr string) []byte {
	return r.envelope(addressDiscoveryURN, actionHello, "", `<wsd:Hello>`+r.match(xaddr)+`</wsd:Hello>`)
}

func (r *Responder) bye() []byte {
	return r.envelope(addressDiscoveryURN, actionBye, "",
		`<wsd:Bye><wsa:EndpointReference><wsa:Address>`+r.Endpoint()+`</wsa:Address></wsa:EndpointReference></wsd:Bye>`)
}

// ourTypes are the types the endpoint has.
var ourTypes = map[[2]string]bool{{nsDevprof, "Device"}: true, {nsPub, "Computer"}: true}

// probeMatches reports whether a Probe matches the endpoint
// (WS-Discovery 2005/04 5.1): every type it names is one of ours, and it
// names no scope (the endpoint has none).
func probeMatches(m *message) bool {
	if m.ProbeScopes != "" {
		return false
	}
	for _, t := range m.ProbeTypes {
		if !ourTypes[[2]string{t.Space, t.Local}] {
			return false
		}
	}
	return true
}

// Reply returns the answer to the discovery message b, or nil when it
// needs none: a ProbeMatches to a matching Probe, a ResolveMatches to a
// Resolve of the endpoint. xaddr is the metadata address to announce.
func (r *Responder) Reply(b []byte, xaddr string) []byte {
	r.init()
	m, err := parseMessage(b)
	if err != nil {
		return nil
	}
	switch {
	case m.Action == actionProbe && m.Probe && probeMatches(m):
		return r.envelope(addressAnonymous, actionProbeMatches, m.MessageID,
			`<wsd:ProbeMatches><wsd:ProbeMatch>`+r.match(xaddr)+`</wsd:ProbeMatch></wsd:ProbeMatches>`)
	case m.Action == actionResolve && m.Resolve && m.ResolveAddress == r.Endpoint():
		return r.envelope(addressAnonymous, actionResolveMatch, m.MessageID,
			`<wsd:ResolveMatches><wsd:ResolveMatch>`+r.match(xaddr)+`</wsd:ResolveMatch></wsd:ResolveMatches>`)
	}
	return nil
}

// duplicate reports whether a message with this id was seen recently:
// clients send each Probe several times (SOAP-over-UDP retransmission).
func (r *Responder) duplicate(b []byte) bool {
	m, err := parseMessage(b)
	if err != nil || m.MessageID == "" {
		return false
	}
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	for _, id := range r.seen {
		if id == m.MessageID {
			return true
		}
	}
	if len(r.seen) == 64 {
		r.seen = r.seen[1:]
	}
	r.seen = append(r.seen, m.MessageID)
	return false
}

// Serve answers the discovery messages that arrive on c until ctx is
// done or c fails, naming xaddr as the metadata address. Answers go to
// the sender (WS-Discovery answers are unicast). When grouped is set, c
// listens on the multicast group and each answer waits a random time up
// to 500 ms first, as the protocol asks so that answers do not collide.
func (r *Responder) Serve(ctx context.Context, c net.PacketConn, xaddr string, grouped bool) error {
	r.init()
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, maxMessage)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("wsd: %w", err)
		}
		msg := buf[:n]
		if r.duplicate(msg) {
			continue
		}
		reply := r.Reply(msg, xaddr)
		if reply == nil {
			continue
		}
		send := func() {
			if _, err := c.WriteTo(reply, from); err != nil {
				r.logger().Debug("wsd: answer not sent", "to", from, "err", err)
			}
		}
		if grouped {
			d, _ := rand.Int(rand.Reader, big.NewInt(int64(appMaxDelay)))
			time.AfterFunc(time.Duration(d.Int64()), send)
		} else {
			send()
		}
	}
}

// Handler answers the metadata exchange (a WS-Transfer Get POSTed to
// the XAddr) with the device's metadata: a computer named Name in its
// workgroup or domain (DPWS 2006/02 5, MS-PBSD).
func (r *Responder) Handler() http.Handler {
	r.init()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || strings.Trim(req.URL.Path, "/") != r.uuid {
			http.NotFound(w, req)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxMessage))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		m, err := parseMessage(b)
		if err != nil || m.Action != actionGet {
			http.Error(w, "not a WS-Transfer Get", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/soap+xml")
		w.Write(r.envelope(addressAnonymous, actionGetResponse, m.MessageID, r.metadata()))
	})
}

// metadata is the GetResponse body.
func (r *Responder) metadata() string {
	desc := r.Description
	if desc == "" {
		desc = r.name
	}
	return `<wsx:Metadata>` +
		`<wsx:MetadataSection Dialect="` + nsDevprof + `/ThisDevice"><wsdp:ThisDevice>` +
		`<wsdp:FriendlyName>` + esc(desc) + `</wsdp:FriendlyName>` +
		`<wsdp:FirmwareVersion>1.0</wsdp:FirmwareVersion><wsdp:SerialNumber>1</wsdp:SerialNumber>` +
		`</wsdp:ThisDevice></wsx:MetadataSection>` +
		`<wsx:MetadataSection Dialect="` + nsDevprof + `/ThisModel"><wsdp:ThisModel>` +
		`<wsdp:Manufacturer>cifsd</wsdp:Manufacturer><wsdp:ModelName>cifsd</wsdp:ModelName>` +
		`<pnpx:DeviceCategory>Computers</pnpx:DeviceCategory>` +
		`</wsdp:ThisModel></wsx:MetadataSection>` +
		`<wsx:MetadataSection Dialect="` + nsDevprof + `/Relationship">` +
		`<wsdp:Relationship Type="` + nsDevprof + `/host"><wsdp:Host>` +
		`<wsa:EndpointReference><wsa:Address>` + r.Endpoint() + `</wsa:Address></wsa:EndpointReference>` +
		`<wsdp:Types>pub:Computer</wsdp:Types><wsdp:ServiceId>` + r.Endpoint() + `</wsdp:ServiceId>` +
		`<pub:Computer>` + esc(r.computer()) + `</pub:Computer>` +
		`</wsdp:Host></wsdp:Relationship></wsx:MetadataSection>` +
		`</wsx:Metadata>`
}

// ListenAndServe serves WS-Discovery on the IPv4 group of each of ifaces
// (every interface that is up and can multicast, when nil) and the
// metadata exchange on HTTPPort of every address, says Hello on each
// interface when it starts and Bye when ctx is done.
func (r *Responder) ListenAndServe(ctx context.Context, ifaces []net.Interface) error {
	r.init()
	if ifaces == nil {
		all, err := net.Interfaces()
		if err != nil {
			return fmt.Errorf("wsd: %w", err)
		}
		for _, i := range all {
			if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagMulticast != 0 {
				ifaces = append(ifaces, i)
			}
		}
	}
	if len(ifaces) == 0 {
		return errors.New("wsd: no multicast interface")
	}
	port := r.HTTPPort
	if port == 0 {
		port = HTTPPort
	}
	hl, err := net.Listen("tcp4", fmt.Sprintf(":%d", port))
	if err != nil {
		return fmt.Errorf("wsd: metadata listener: %w", err)
	}
	hs := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(hl)
	defer hs.Close()

	group := &net.UDPAddr{IP: Group.AsSlice(), Port: Port}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(ifaces))
	started := false
	for i := range ifaces {
		ifi := &ifaces[i]
		addr, ok := ipv4Of(ifi)
		if !ok {
			continue
		}
		c, err := mcast.ListenGroup(ifi, group)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("wsd: %s: %w", ifi.Name, err)
		}
		xaddr := r.XAddr(addr)
		started = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.WriteTo(r.hello(xaddr), group)
			errc <- r.Serve(ctx, c, xaddr, true)
			c.WriteTo(r.bye(), group)
		}()
		r.logger().Info("wsd: announcing", "computer", r.computer(), "interface", ifi.Name, "metadata", xaddr)
	}
	if !started {
		return errors.New("wsd: no multicast interface has an IPv4 address")
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

// ipv4Of is the first IPv4 address of ifi.
func ipv4Of(ifi *net.Interface) (netip.Addr, bool) {
	as, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range as {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
			return p.Addr(), true
		}
	}
	return netip.Addr{}, false
}
