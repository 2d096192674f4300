//go:build !linux

package mcast

import "net"

// ListenGroup joins group (IPv4 or IPv6) on ifi.
func ListenGroup(ifi *net.Interface, group *net.UDPAddr) (*net.UDPConn, error) {
	network := "udp4"
	if group.IP.To4() == nil {
		network = "udp6"
	}
	return net.ListenMulticastUDP(network, ifi, group)
}
