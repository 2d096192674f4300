//go:build !linux

package mcast

import "net"

// ListenGroup joins group on ifi.
func ListenGroup(ifi *net.Interface, group *net.UDPAddr) (*net.UDPConn, error) {
	return net.ListenMulticastUDP("udp4", ifi, group)
}
