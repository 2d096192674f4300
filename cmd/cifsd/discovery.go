package main

// Discovery: -wsdd (WS-Discovery, for Windows Explorer's Network view)
// and -mdns (DNS-SD _smb._tcp, for macOS Finder). Both are off unless
// asked for: they send multicast on the local network.

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/cifsd/cifsd/discovery/mdns"
	"github.com/cifsd/cifsd/discovery/wsd"
)

var (
	wsddOn        = flag.Bool("wsdd", false, "announce the server to Windows Explorer by WS-Discovery (UDP 3702, metadata on TCP 5357)")
	mdnsOn        = flag.Bool("mdns", false, "announce the server to macOS Finder and DNS-SD browsers as _smb._tcp by multicast DNS (UDP 5353)")
	discoveryIfs  = flag.String("discovery-interfaces", "", "interfaces to announce on, comma-separated (default: every multicast interface)")
	wsddWorkgroup = flag.String("wsdd-workgroup", "WORKGROUP", "workgroup Windows Explorer lists the server in")
)

// startDiscovery starts the responders asked for, announcing the SMB
// port of smbAddr. The returned stop function ends them (they say
// goodbye) and waits a little for them.
func startDiscovery(ctx context.Context, smbAddr net.Addr, log *slog.Logger) (stop func(), err error) {
	if !*wsddOn && !*mdnsOn {
		return func() {}, nil
	}
	ifaces, err := discoveryInterfaces()
	if err != nil {
		return nil, err
	}
	port := 445
	if ta, ok := smbAddr.(*net.TCPAddr); ok {
		port = ta.Port
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	run := func(what string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil {
				log.Error(what+" stopped", "err", err)
			}
		}()
	}
	if *wsddOn {
		r := &wsd.Responder{Workgroup: *wsddWorkgroup, Logger: log}
		run("wsdd", func(ctx context.Context) error { return r.ListenAndServe(ctx, ifaces) })
	}
	if *mdnsOn {
		r := &mdns.Responder{Port: port, Logger: log}
		run("mdns", func(ctx context.Context) error { return r.ListenAndServe(ctx, ifaces) })
	}
	return func() {
		cancel()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}, nil
}

// discoveryInterfaces is -discovery-interfaces, nil for every interface.
func discoveryInterfaces() ([]net.Interface, error) {
	if *discoveryIfs == "" {
		return nil, nil
	}
	var out []net.Interface
	for _, name := range strings.Split(*discoveryIfs, ",") {
		ifi, err := net.InterfaceByName(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("-discovery-interfaces: %w", err)
		}
		out = append(out, *ifi)
	}
	return out, nil
}
