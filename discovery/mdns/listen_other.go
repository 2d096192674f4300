//go:build !linux

package mdns

import "net"

// listenGroup joins group on ifi.
func listenGroup(ifi *net.Interface, group *net.UDPAddr) (*net.UDPConn, error) {
	return net.ListenMulticastUDP("udp4", ifi, group)
}
