// Package mcast joins a UDP multicast group on one interface for the
// discovery responders (mdns, wsd).
package mcast

import (
	"net"

	"golang.org/x/sys/unix"
)

// ListenGroup joins group (IPv4 or IPv6) on ifi. net.ListenMulticastUDP
// turns the loopback of multicast off, so a querier on this host would
// not hear multicast answers: it is turned back on. MULTICAST_ALL off
// keeps the socket to the datagrams of its own interface, so that each
// interface's answers name its own addresses.
func ListenGroup(ifi *net.Interface, group *net.UDPAddr) (*net.UDPConn, error) {
	network, level, loop, all := "udp4", unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, unix.IP_MULTICAST_ALL
	if group.IP.To4() == nil {
		network, level, loop, all = "udp6", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, unix.IPV6_MULTICAST_ALL
	}
	c, err := net.ListenMulticastUDP(network, ifi, group)
	if err != nil {
		return nil, err
	}
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), level, loop, 1); serr != nil {
			return
		}
		serr = unix.SetsockoptInt(int(fd), level, all, 0)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
