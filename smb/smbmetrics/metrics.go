// Package smbmetrics exports an smb.Server's activity as Prometheus
// metrics: requests and their latency per command and status, bytes read
// and written, sessions, tree connects, opens, leases and oplocks, and
// connections refused by reason.
//
//	srv := &smb.Server{...}
//	m := smbmetrics.New(srv)
//	srv.Layers = append([]smb.Layer{m.Layer()}, srv.Layers...)
//	srv.OnRefusal = m.Refused
//	prometheus.MustRegister(m)
//	http.Handle("/metrics", promhttp.Handler())
//
// Instrument does the three middle lines at once.
//
// Requests are counted by a smb.Layer, so they are the requests that
// reach the application's layers: those the session and tree layers
// refuse (an unknown session, a bad signature) are not counted, and an
// async operation (CHANGE_NOTIFY, a blocking LOCK, a CREATE waiting for a
// lease break) is counted once, with its interim STATUS_PENDING and the
// time until it went async. Counts of what the server holds (sessions,
// opens, leases ...) are read from smb.Server.Stats at each scrape.
package smbmetrics

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb2"
)

// Namespace prefixes every metric name.
const Namespace = "cifsd"

// Metrics collects one server's metrics. It is a prometheus.Collector:
// register it with a prometheus.Registerer. Create it with New.
type Metrics struct {
	srv *smb.Server

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	readBytes     prometheus.Counter
	writtenBytes  prometheus.Counter
	sessionsTotal prometheus.Counter
	treesTotal    prometheus.Counter
	opensTotal    prometheus.Counter
	cachingTotal  *prometheus.CounterVec
	refused       *prometheus.CounterVec

	connections, sessions, trees, opens, leases, oplocks *prometheus.Desc
}

// New returns the metrics of srv. srv may be nil: the gauges read from
// smb.Server.Stats are then left out, and the counters still count what
// the Layer sees.
func New(srv *smb.Server) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	}
	gauge := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, nil, nil)
	}
	m := &Metrics{
		srv: srv,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "requests_total",
			Help: "SMB2 requests answered, by command and NT status.",
		}, []string{"command", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "request_duration_seconds",
			Help: "Time from a request entering the application's layers to its answer, by command and NT status.",
			// From a cached stat (tens of µs) to a CREATE waiting for a
			// lease break (up to 35 s).
			Buckets: prometheus.ExponentialBuckets(25e-6, 4, 12),
		}, []string{"command", "status"}),
		readBytes:     counter("read_bytes_total", "File and pipe data returned by READ."),
		writtenBytes:  counter("written_bytes_total", "File and pipe data accepted by WRITE."),
		sessionsTotal: counter("sessions_established_total", "SESSION_SETUPs that completed authentication (re-authentications included)."),
		treesTotal:    counter("tree_connects_total", "Successful TREE_CONNECTs."),
		opensTotal:    counter("opens_total", "Successful CREATEs (files, directories and pipes opened)."),
		cachingTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "caching_granted_total",
			Help: "Successful CREATEs granted a lease or an oplock, by kind (lease, oplock).",
		}, []string{"kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "connections_refused_total",
			Help: "Connections (and requests) refused for a limit, by reason.",
		}, []string{"reason"}),
		connections: gauge("connections", "Connections being served."),
		sessions:    gauge("sessions", "Authenticated sessions."),
		trees:       gauge("tree_connects", "Tree connects of authenticated sessions."),
		opens:       gauge("open_files", "Open files, directories and pipes."),
		leases:      gauge("leases", "Leases held (directory leases included)."),
		oplocks:     gauge("oplocks", "Opens holding an oplock."),
	}
	// Known reasons show as 0 before the first refusal, so that rate()
	// and alerts see the series from the start.
	for _, r := range []smb.RefusalReason{smb.RefusedConnections, smb.RefusedConnectionsPerIP,
		smb.RefusedHandshakeTimeout, smb.RefusedSessions, smb.RefusedOpens, smb.RefusedAsync,
		smb.RefusedLogonThrottle, smb.RefusedIdle, smb.RefusedFrameTimeout, smb.RefusedShutdown} {
		m.refused.WithLabelValues(string(r))
	}
	m.cachingTotal.WithLabelValues("lease")
	m.cachingTotal.WithLabelValues("oplock")
	return m
}

// Instrument creates the metrics of srv, puts their Layer first among
// srv.Layers, sends srv's refusals to them (after any OnRefusal already
// set) and registers them with reg (prometheus.DefaultRegisterer when
// nil). Call it before srv serves.
func Instrument(srv *smb.Server, reg prometheus.Registerer) (*Metrics, error) {
	m := New(srv)
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	srv.Layers = append([]smb.Layer{m.Layer()}, srv.Layers...)
	if prev := srv.OnRefusal; prev != nil {
		srv.OnRefusal = func(reason smb.RefusalReason, remote string) { prev(reason, remote); m.Refused(reason, remote) }
	} else {
		srv.OnRefusal = m.Refused
	}
	return m, nil
}

// Refused counts one connection or request refused for reason (one of
// the smb.Refused* constants, or a short snake_case word). Its signature
// is smb.Server.OnRefusal's; code that enforces a limit outside the
// server (a listener that caps connections) calls it too.
func (m *Metrics) Refused(reason smb.RefusalReason, remote string) {
	m.refused.WithLabelValues(string(reason)).Inc()
}

// Layer returns the smb.Layer that counts and times requests. Put it
// first in smb.Server.Layers so that its time covers the other layers.
func (m *Metrics) Layer() smb.Layer {
	return func(next smb.Handler) smb.Handler {
		return smb.HandlerFunc(func(ctx context.Context, req *smb.Request) *smb.Response {
			start := time.Now()
			resp := next.ServeSMB(ctx, req)
			m.observe(req, resp, time.Since(start))
			return resp
		})
	}
}

// observe counts one answered request.
func (m *Metrics) observe(req *smb.Request, resp *smb.Response, d time.Duration) {
	if resp == nil {
		return
	}
	cmd := req.Header.Command
	labels := prometheus.Labels{"command": cmd.String(), "status": resp.Status.String()}
	m.requests.With(labels).Inc()
	m.duration.With(labels).Observe(d.Seconds())
	if resp.Status != smb2.StatusSuccess {
		if cmd == smb2.Read && resp.Status == smb2.StatusBufferOverflow {
			// A pipe READ of a partial message still returns data.
			m.readBytes.Add(float64(field32(resp.Body, 4)))
		}
		return
	}
	switch cmd {
	case smb2.SessionSetup:
		m.sessionsTotal.Inc()
	case smb2.TreeConnect:
		m.treesTotal.Inc()
	case smb2.Create:
		m.opensTotal.Inc()
		if len(resp.Body) > 2 {
			// OplockLevel (MS-SMB2 2.2.14): 0xFF is a lease.
			switch resp.Body[2] {
			case smb2.OplockLevelNone:
			case smb2.OplockLevelLease:
				m.cachingTotal.WithLabelValues("lease").Inc()
			default:
				m.cachingTotal.WithLabelValues("oplock").Inc()
			}
		}
	case smb2.Read:
		m.readBytes.Add(float64(field32(resp.Body, 4))) // DataLength, MS-SMB2 2.2.20
	case smb2.Write:
		m.writtenBytes.Add(float64(field32(resp.Body, 4))) // Count, MS-SMB2 2.2.22
	}
}

// field32 reads the little-endian uint32 at off of b, 0 when b is short.
func field32(b []byte, off int) uint32 {
	if len(b) < off+4 {
		return 0
	}
	return binary.LittleEndian.Uint32(b[off:])
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
	if m.srv != nil {
		for _, d := range []*prometheus.Desc{m.connections, m.sessions, m.trees, m.opens, m.leases, m.oplocks} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
	if m.srv == nil {
		return
	}
	st := m.srv.Stats()
	for _, g := range []struct {
		d *prometheus.Desc
		v int
	}{
		{m.connections, st.Connections}, {m.sessions, st.Sessions}, {m.trees, st.TreeConnects},
		{m.opens, st.Opens}, {m.leases, st.Leases}, {m.oplocks, st.Oplocks},
	} {
		ch <- prometheus.MustNewConstMetric(g.d, prometheus.GaugeValue, float64(g.v))
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration, m.readBytes, m.writtenBytes,
		m.sessionsTotal, m.treesTotal, m.opensTotal, m.cachingTotal, m.refused}
}
