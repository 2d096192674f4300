// Package mcast joins a UDP multicast group on one interface for the
// discovery responders (mdns, wsd).
package mcast

import (
	"net"

	"golang.org/x/sys/unix"
)

// ListenGroup joins group on ifi. net.ListenMulticastUDP turns the
// loopback of multicast off, so a querier on this host would not hear
// multicast answers: it is turned back on. IP_MULTICAST_ALL off keeps the
// socket to the datagrams of its own interface, so that each interface's
// answers name its own addresses.
func ListenGroup(ifi *net.Interface, group *net.UDPAddr) (*net.UDPConn, error) {
	c, err := net.ListenMulticastUDP("udp4", ifi, group)
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
		if serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1); serr != nil {
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
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
