package smb

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/cifsd/cifsd/smb2"
)

// defaultLinkSpeed is reported when the interface's speed is unknown.
const defaultLinkSpeed = 1_000_000_000 // 1 Gb/s

// networkInterfaceInfo answers FSCTL_QUERY_NETWORK_INTERFACE_INFO
// (MS-SMB2 3.3.5.15.11), which multichannel clients ask before binding
// more connections. It names the address the client reached this
// connection on, which is known to reach the server; the server does not
// advertise addresses it may not be listening on.
func (s *Server) networkInterfaceInfo(req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	if !s.multiChannel() {
		return statusResponse(smb2.StatusNotSupported)
	}
	ni, ok := localInterface(req.conn.nc.LocalAddr())
	if !ok {
		return statusResponse(smb2.StatusNotSupported) // not an IP transport
	}
	out := smb2.EncodeNetworkInterfaces([]smb2.NetworkInterface{ni})
	if uint32(len(out)) > r.MaxOutputResponse {
		return statusResponse(smb2.StatusBufferTooSmall)
	}
	return reply(out, smb2.StatusSuccess)
}

// localInterface describes the interface holding a connection's local
// address.
func localInterface(a net.Addr) (smb2.NetworkInterface, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return smb2.NetworkInterface{}, false
	}
	ni := smb2.NetworkInterface{IfIndex: 1, LinkSpeed: defaultLinkSpeed, Addr: ap.Addr().Unmap()}
	if runtime.NumCPU() > 1 {
		// Receive-side scaling: a client may open several channels to
		// this address and spread its requests over the server's CPUs.
		ni.Capability = smb2.InterfaceRSSCapable
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return ni, true
	}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, ad := range addrs {
			ipn, ok := ad.(*net.IPNet)
			if !ok {
				continue
			}
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == ni.Addr {
				ni.IfIndex = uint32(ifc.Index)
				if speed := linkSpeed(ifc.Name); speed > 0 {
					ni.LinkSpeed = speed
				}
				return ni, true
			}
		}
	}
	return ni, true
}

// linkSpeed reads an interface's speed from Linux sysfs (Mb/s), or 0.
func linkSpeed(name string) uint64 {
	b, err := os.ReadFile("/sys/class/net/" + name + "/speed")
	if err != nil {
		return 0
	}
	mbps, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || mbps <= 0 {
		return 0
	}
	return uint64(mbps) * 1_000_000
}
