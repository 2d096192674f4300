package smbmetrics_test

import (
	"fmt"
	"net"

	gosmb2 "github.com/hirochachacha/go-smb2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cifsd/cifsd/smb/smbmetrics"
	"github.com/cifsd/cifsd/smb/smbtest"
)

func ExampleInstrument() {
	ts := smbtest.NewUnstartedServer()
	reg := prometheus.NewRegistry()
	if _, err := smbmetrics.Instrument(ts.Config, reg); err != nil {
		panic(err)
	}
	ts.Start()
	defer ts.Close()
	// Serve reg at /metrics with promhttp.HandlerFor(reg, ...).

	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	s, err := (&gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}).Dial(c)
	if err != nil {
		panic(err)
	}
	defer s.Logoff()
	share, err := s.Mount(ts.Share)
	if err != nil {
		panic(err)
	}
	if err := share.WriteFile("hello.txt", []byte("hello"), 0o644); err != nil {
		panic(err)
	}

	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		switch f.GetName() {
		case "cifsd_written_bytes_total", "cifsd_sessions", "cifsd_tree_connects":
			m := f.GetMetric()[0]
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			fmt.Println(f.GetName(), v)
		}
	}
	// Output:
	// cifsd_sessions 1
	// cifsd_tree_connects 1
	// cifsd_written_bytes_total 5
}
