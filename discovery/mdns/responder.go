// Package mdns announces an SMB server by multicast DNS (RFC 6762) and
// DNS-Based Service Discovery (RFC 6763) as the service type _smb._tcp,
// so that macOS Finder's sidebar and other DNS-SD browsers (avahi-browse,
// dns-sd -B) list it without NetBIOS.
//
//	r := &mdns.Responder{Instance: "Files", Port: 445}
//	err := r.ListenAndServe(ctx, nil) // every multicast interface
//
// The responder answers queries for the service type, the instance (SRV,
// TXT), the host's addresses and the service enumeration name
// (_services._dns-sd._udp.local); it announces itself when it starts and
// says goodbye when ctx ends. It does not probe for name conflicts (RFC
// 6762 8.1): pick an instance and host name no other responder on the
// link uses. The DNS codec is its own (message.go), fuzzed (FuzzUnpack).
package mdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cifsd/cifsd/discovery/internal/mcast"
)

// Port is mDNS's port (RFC 6762 3).
const Port = 5353

// Group and Group6 are the IPv4 and IPv6 (link-local) multicast
// addresses of mDNS.
var (
	Group  = netip.MustParseAddr("224.0.0.251")
	Group6 = netip.MustParseAddr("ff02::fb")
)

// TTLs of RFC 6762 10: records naming the host 120 s, the others 75 min;
// legacy unicast answers at most 10 s (6.7).
const (
	hostTTL   = 120
	otherTTL  = 4500
	legacyTTL = 10
)

// Responder answers mDNS queries for one SMB service. Its zero value
// announces the host's name on port 445.
type Responder struct {
	// Instance is the service's name as browsers show it (RFC 6763 4.1);
	// default the host name. Dots become '-'.
	Instance string
	// Host is the host name, without ".local"; default the first label
	// of os.Hostname.
	Host string
	// Port is the SMB port; default 445.
	Port int
	// Text holds the instance's TXT strings ("key=value"); default none.
	Text []string
	// Model, when set, is announced as _device-info._tcp "model=Model",
	// which Finder uses to pick an icon.
	Model string
	// Addrs are the host's addresses; default those of the interface a
	// query arrived on (every interface's for Serve).
	Addrs []netip.Addr
	// Logger receives the responder's logs; nil uses slog.Default().
	Logger *slog.Logger
}

func (r *Responder) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// names are the responder's DNS names.
type names struct {
	meta, service, instance, host, deviceInfo string
}

func (r *Responder) names() names {
	host := r.Host
	if host == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "cifsd"
		}
		host, _, _ = strings.Cut(h, ".")
	}
	inst := r.Instance
	if inst == "" {
		inst = host
	}
	inst = strings.ReplaceAll(inst, ".", "-")
	return names{
		meta:       "_services._dns-sd._udp.local",
		service:    "_smb._tcp.local",
		instance:   inst + "._smb._tcp.local",
		host:       host + ".local",
		deviceInfo: inst + "._device-info._tcp.local",
	}
}

func (r *Responder) port() uint16 {
	if r.Port == 0 {
		return 445
	}
	return uint16(r.Port)
}

// records returns the records answering a question, and those to add
// as additional records (RFC 6763 12).
func (r *Responder) records(n names, q Question, addrs []netip.Addr) (answers, extra []Record) {
	is := func(name string, types ...uint16) bool {
		if !strings.EqualFold(q.Name, name) {
			return false
		}
		for _, t := range types {
			if q.Type == t || q.Type == TypeANY {
				return true
			}
		}
		return false
	}
	flush := ClassINET | cacheFlushBit // unique records (RFC 6762 10.2)
	srv := Record{Name: n.instance, Type: TypeSRV, Class: flush, TTL: hostTTL, Target: n.host, Port: r.port()}
	txt := Record{Name: n.instance, Type: TypeTXT, Class: flush, TTL: otherTTL, Text: r.Text}
	var hostAddrs []Record
	for _, a := range addrs {
		t := TypeA
		if !a.Is4() {
			t = TypeAAAA
		}
		hostAddrs = append(hostAddrs, Record{Name: n.host, Type: t, Class: flush, TTL: hostTTL, Addr: a})
	}
	if is(n.meta, TypePTR) {
		answers = append(answers, Record{Name: n.meta, Type: TypePTR, Class: ClassINET, TTL: otherTTL, Target: n.service})
	}
	if is(n.service, TypePTR) {
		answers = append(answers, Record{Name: n.service, Type: TypePTR, Class: ClassINET, TTL: otherTTL, Target: n.instance})
		extra = append(extra, srv, txt)
		extra = append(extra, hostAddrs...)
	}
	if is(n.instance, TypeSRV) {
		answers = append(answers, srv)
		extra = append(extra, hostAddrs...)
	}
	if is(n.instance, TypeTXT) {
		answers = append(answers, txt)
	}
	if r.Model != "" && is(n.deviceInfo, TypeTXT) {
		answers = append(answers, Record{Name: n.deviceInfo, Type: TypeTXT, Class: flush, TTL: otherTTL,
			Text: []string{"model=" + r.Model}})
	}
	for _, a := range hostAddrs {
		if is(n.host, a.Type) {
			answers = append(answers, a)
		}
	}
	return answers, extra
}

// Answer returns the response to query, naming the host's addresses
// addrs (Addrs when empty), or nil when it asks nothing the responder knows (a responder stays silent then, RFC 6762 6). legacy
// says the query came from a port other than 5353: a one-shot querier
// that gets a unicast answer echoing its ID and questions, with short TTLs
// and no cache-flush bits (RFC 6762 6.7).
func (r *Responder) Answer(query *Message, addrs []netip.Addr, legacy bool) *Message {
	if query.Flags&(flagResponse|opcodeMask) != 0 {
		return nil // a response, or not a standard query (RFC 6762 18.3)
	}
	if len(addrs) == 0 {
		addrs = r.Addrs
	}
	n := r.names()
	resp := &Message{Flags: flagResponse | flagAuthoritative}
	seen := make(map[string]bool)
	key := func(rr Record) string {
		return fmt.Sprintf("%s/%d/%s/%v", strings.ToLower(rr.Name), rr.Type, rr.Target, rr.Addr)
	}
	for _, q := range query.Questions {
		if q.Class&classMask != ClassINET && q.Class&classMask != TypeANY {
			continue
		}
		answers, extra := r.records(n, q, addrs)
		for _, a := range answers {
			if k := key(a); !seen[k] {
				seen[k] = true
				resp.Answers = append(resp.Answers, a)
			}
		}
		for _, a := range extra {
			if k := key(a); !seen[k] {
				seen[k] = true
				resp.Additionals = append(resp.Additionals, a)
			}
		}
	}
	if len(resp.Answers) == 0 {
		return nil
	}
	// An additional record that is also an answer was dropped above.
	if legacy {
		resp.ID = query.ID
		resp.Questions = query.Questions
		for _, sec := range [][]Record{resp.Answers, resp.Additionals} {
			for i := range sec {
				sec[i].Class &= classMask
				sec[i].TTL = min(sec[i].TTL, legacyTTL)
			}
		}
	}
	return resp
}

// announcement is the unsolicited response that announces every record
// (RFC 6762 8.3), or says goodbye with TTL 0 (10.1).
func (r *Responder) announcement(addrs []netip.Addr, goodbye bool) *Message {
	n := r.names()
	resp := &Message{Flags: flagResponse | flagAuthoritative}
	for _, q := range []Question{
		{Name: n.service, Type: TypePTR}, {Name: n.instance, Type: TypeANY},
		{Name: n.host, Type: TypeANY}, {Name: n.meta, Type: TypePTR}, {Name: n.deviceInfo, Type: TypeTXT},
	} {
		answers, _ := r.records(n, q, addrs)
		resp.Answers = append(resp.Answers, answers...)
	}
	if goodbye {
		for i := range resp.Answers {
			resp.Answers[i].TTL = 0
		}
	}
	return resp
}

// Serve answers the queries that arrive on c until ctx is done or c
// fails. Answers go back to the querier when it asked from a port other
// than 5353 or asked for a unicast answer, and otherwise to mcast (the
// group on the interface c listens on; nil: to the querier as well). It
// is what ListenAndServe runs per interface; tests run it on a loopback
// socket.
func (r *Responder) Serve(ctx context.Context, c net.PacketConn, mcast net.Addr) error {
	return r.serve(ctx, c, mcast, func() []netip.Addr { return r.addrsOf(nil) })
}

func (r *Responder) serve(ctx context.Context, c net.PacketConn, mcast net.Addr, addrs func() []netip.Addr) error {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 9000) // RFC 6762 17: at most 9000 bytes
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
			return fmt.Errorf("mdns: %w", err)
		}
		q, err := Unpack(buf[:n])
		if err != nil {
			r.logger().Debug("mdns: bad query", "from", from, "err", err)
			continue
		}
		legacy := portOf(from) != Port
		unicast := legacy
		for _, qq := range q.Questions {
			unicast = unicast || qq.Class&unicastBit != 0
		}
		resp := r.Answer(q, addrs(), legacy)
		if resp == nil {
			continue
		}
		b, err := resp.Pack()
		if err != nil {
			r.logger().Warn("mdns: packing an answer", "err", err)
			continue
		}
		to := from
		if !unicast && mcast != nil {
			to = mcast
		}
		if _, err := c.WriteTo(b, to); err != nil {
			r.logger().Debug("mdns: answer not sent", "to", to, "err", err)
		}
	}
}

func portOf(a net.Addr) int {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.Port
	}
	return 0
}

// addrsOf returns Addrs, or the addresses of ifi (every interface's that
// is up when nil), IPv4 and IPv6, link-local ones included.
func (r *Responder) addrsOf(ifi *net.Interface) []netip.Addr {
	if len(r.Addrs) > 0 {
		return r.Addrs
	}
	var ifaces []net.Interface
	if ifi != nil {
		ifaces = []net.Interface{*ifi}
	} else if all, err := net.Interfaces(); err == nil {
		ifaces = all
	}
	var out []netip.Addr
	for _, i := range ifaces {
		if i.Flags&net.FlagUp == 0 || ifi == nil && i.Flags&net.FlagLoopback != 0 {
			continue
		}
		as, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range as {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				out = append(out, p.Addr().Unmap())
			}
		}
	}
	return out
}

// ListenAndServe answers mDNS queries on the IPv4 group, and the IPv6
// one where the interface has IPv6, of each of ifaces (every interface
// that is up and can multicast, when nil), announcing
// the service when it starts and saying goodbye when ctx is done. Each
// interface's answers name that interface's addresses.
func (r *Responder) ListenAndServe(ctx context.Context, ifaces []net.Interface) error {
	if ifaces == nil {
		all, err := net.Interfaces()
		if err != nil {
			return fmt.Errorf("mdns: %w", err)
		}
		for _, i := range all {
			if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagMulticast != 0 {
				ifaces = append(ifaces, i)
			}
		}
	}
	if len(ifaces) == 0 {
		return errors.New("mdns: no multicast interface")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2*len(ifaces))
	for i := range ifaces {
		ifi := &ifaces[i]
		groups := []*net.UDPAddr{{IP: Group.AsSlice(), Port: Port}}
		if hasIPv6(ifi) {
			groups = append(groups, &net.UDPAddr{IP: Group6.AsSlice(), Port: Port, Zone: ifi.Name})
		}
		for _, group := range groups {
			c, err := mcast.ListenGroup(ifi, group)
			if err != nil {
				if group.IP.To4() == nil {
					// IPv6 is a bonus: IPv4 alone serves every browser.
					r.logger().Warn("mdns: no IPv6 on interface", "interface", ifi.Name, "err", err)
					continue
				}
				cancel()
				wg.Wait()
				return fmt.Errorf("mdns: %s: %w", ifi.Name, err)
			}
			addrs := func() []netip.Addr { return r.addrsOf(ifi) }
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r.announce(ctx, c, group, addrs)
				errc <- r.serve(ctx, c, group, addrs)
				r.send(c, group, r.announcement(addrs(), true))
			}()
		}
		r.logger().Info("mdns: announcing", "service", r.names().instance, "interface", ifi.Name)
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

// hasIPv6 reports whether ifi has an IPv6 address.
func hasIPv6(ifi *net.Interface) bool {
	as, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range as {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is6() && !p.Addr().Is4In6() {
			return true
		}
	}
	return false
}

// announce sends the announcement twice, a second apart (RFC 6762 8.3),
// in the background.
func (r *Responder) announce(ctx context.Context, c net.PacketConn, group net.Addr, addrs func() []netip.Addr) {
	go func() {
		for i := 0; i < 2; i++ {
			r.send(c, group, r.announcement(addrs(), false))
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
}

func (r *Responder) send(c net.PacketConn, to net.Addr, m *Message) {
	b, err := m.Pack()
	if err == nil {
		_, err = c.WriteTo(b, to)
	}
	if err != nil {
		r.logger().Debug("mdns: announcement not sent", "err", err)
	}
}
