package smb2

import "net/netip"

// Network interface capabilities (MS-SMB2 2.2.32.5).
const (
	InterfaceRSSCapable  uint32 = 0x00000001
	InterfaceRDMACapable uint32 = 0x00000002
)

// networkInterfaceSize is the size of one NETWORK_INTERFACE_INFO entry:
// 24 bytes and a 128-byte SOCKADDR_STORAGE (MS-SMB2 2.2.32.5).
const networkInterfaceSize = 152

// NetworkInterface is one entry of the FSCTL_QUERY_NETWORK_INTERFACE_INFO
// response (MS-SMB2 2.2.32.5).
type NetworkInterface struct {
	IfIndex    uint32
	Capability uint32 // Interface* bits
	LinkSpeed  uint64 // bits per second
	Addr       netip.Addr
}

// EncodeNetworkInterfaces lays out entries as the chained
// NETWORK_INTERFACE_INFO array, each Next pointing at the following one
// and 0 in the last. Entries without a valid address are skipped.
func EncodeNetworkInterfaces(ifs []NetworkInterface) []byte {
	out := make([]byte, 0, len(ifs)*networkInterfaceSize)
	for _, ni := range ifs {
		if !ni.Addr.IsValid() {
			continue
		}
		e := make([]byte, networkInterfaceSize)
		le.PutUint32(e[4:], ni.IfIndex)
		le.PutUint32(e[8:], ni.Capability)
		le.PutUint64(e[16:], ni.LinkSpeed)
		sa := e[24:]
		if a := ni.Addr.Unmap(); a.Is4() {
			le.PutUint16(sa[0:], 0x0002) // InterNetwork; port 0
			b := a.As4()
			copy(sa[4:8], b[:])
		} else {
			le.PutUint16(sa[0:], 0x0017) // InterNetworkV6; port, flow info 0
			b := a.As16()
			copy(sa[8:24], b[:])
		}
		if len(out) > 0 {
			le.PutUint32(out[len(out)-networkInterfaceSize:], networkInterfaceSize)
		}
		out = append(out, e...)
	}
	return out
}
