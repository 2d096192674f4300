package smbmetrics_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	gosmb2 "github.com/hirochachacha/go-smb2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb/smbmetrics"
	"github.com/cifsd/cifsd/smb/smbtest"
	"github.com/cifsd/cifsd/smb2"
)

// scrape fetches url and returns every sample by its name and labels,
// as "name{k=v,...}" with the labels in the exposition's order.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name + labelString(m)
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count"+labelString(m)] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func labelString(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, l := range m.GetLabel() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%s", l.GetName(), l.GetValue())
	}
	b.WriteByte('}')
	return b.String()
}

// startMetrics serves an instrumented test server's metrics over HTTP.
func startMetrics(t *testing.T) (*smbtest.Server, string) {
	t.Helper()
	ts := smbtest.NewUnstartedServer()
	reg := prometheus.NewRegistry()
	if _, err := smbmetrics.Instrument(ts.Config, reg); err != nil {
		t.Fatal(err)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	hs := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(hs.Close)
	return ts, hs.URL + "/metrics"
}

func mount(t *testing.T, ts *smbtest.Server) (*gosmb2.Session, *gosmb2.Share) {
	t.Helper()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}
	s, err := d.Dial(c)
	if err != nil {
		t.Fatal(err)
	}
	share, err := s.Mount(ts.Share)
	if err != nil {
		t.Fatal(err)
	}
	return s, share
}

// TestWorkloadMovesCounters scrapes /metrics before and after a known
// workload and checks each counter moved by what the workload did.
func TestWorkloadMovesCounters(t *testing.T) {
	ts, url := startMetrics(t)
	before := scrape(t, url)

	s, share := mount(t, ts)
	sizes := []int{1000, 4096, 70000}
	written := 0
	for i, n := range sizes {
		if err := share.WriteFile(fmt.Sprintf("f%d", i), bytes.Repeat([]byte{'x'}, n), 0o644); err != nil {
			t.Fatal(err)
		}
		written += n
	}
	read := 0
	for i := range sizes[:2] {
		b, err := share.ReadFile(fmt.Sprintf("f%d", i))
		if err != nil {
			t.Fatal(err)
		}
		read += len(b)
	}
	if _, err := share.Open("missing"); err == nil {
		t.Fatal("opened a missing file")
	}
	held, err := share.Open("f2")
	if err != nil {
		t.Fatal(err)
	}

	during := scrape(t, url)
	delta := func(key string) float64 { return during[key] - before[key] }
	for key, want := range map[string]float64{
		"cifsd_written_bytes_total":        float64(written),
		"cifsd_read_bytes_total":           float64(read),
		"cifsd_sessions_established_total": 1,
		"cifsd_tree_connects_total":        1,
		// 3 files written, 2 read, 1 held open.
		"cifsd_opens_total": 6,
		`cifsd_requests_total{command=CREATE,status=STATUS_SUCCESS}`:                               6,
		`cifsd_requests_total{command=CREATE,status=STATUS_OBJECT_NAME_NOT_FOUND}`:                 1,
		`cifsd_request_duration_seconds_count{command=CREATE,status=STATUS_OBJECT_NAME_NOT_FOUND}`: 1,
		`cifsd_requests_total{command=TREE_CONNECT,status=STATUS_SUCCESS}`:                         1,
		// Each file open is closed but the one held.
		`cifsd_requests_total{command=CLOSE,status=STATUS_SUCCESS}`: 5,
	} {
		if got := delta(key); got != want {
			t.Errorf("%s moved by %v, want %v", key, got, want)
		}
	}
	// What the server holds now.
	for key, want := range map[string]float64{
		"cifsd_connections": 1, "cifsd_sessions": 1, "cifsd_tree_connects": 1, "cifsd_open_files": 1,
	} {
		if got := during[key]; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}

	held.Close()
	share.Umount()
	s.Logoff()
	after := scrape(t, url)
	for key, want := range map[string]float64{"cifsd_sessions": 0, "cifsd_tree_connects": 0, "cifsd_open_files": 0} {
		if got := after[key]; got != want {
			t.Errorf("after logoff %s = %v, want %v", key, got, want)
		}
	}
	if got := after[`cifsd_requests_total{command=LOGOFF,status=STATUS_SUCCESS}`] - during[`cifsd_requests_total{command=LOGOFF,status=STATUS_SUCCESS}`]; got != 1 {
		t.Errorf("LOGOFF counted %v times, want 1", got)
	}
}

// TestRefusalsCounted checks a connection refused by a closed server, and
// one a limit outside the server reports, are counted by reason.
func TestRefusalsCounted(t *testing.T) {
	ts, url := startMetrics(t)
	before := scrape(t, url)
	ts.Config.OnRefusal(smb.RefusedConnectionsPerIP, "192.0.2.1:1000")
	ts.Close()
	a, b := net.Pipe()
	defer b.Close()
	if err := ts.Config.ServeConn(a); err != smb.ErrServerClosed {
		t.Fatalf("ServeConn on a closed server: %v", err)
	}
	after := scrape(t, url)
	for key, want := range map[string]float64{
		"cifsd_connections_refused_total{reason=shutdown}":           1,
		"cifsd_connections_refused_total{reason=connections_per_ip}": 1,
		"cifsd_connections_refused_total{reason=connections}":        0,
	} {
		if _, ok := after[key]; !ok {
			t.Errorf("%s missing from the scrape", key)
		}
		if got := after[key] - before[key]; got != want {
			t.Errorf("%s moved by %v, want %v", key, got, want)
		}
	}
}

// TestOplocksCounted checks an oplock granted is counted and held until
// its open closes.
func TestOplocksCounted(t *testing.T) {
	ts, url := startMetrics(t)
	_, share := mount(t, ts)
	if err := share.WriteFile("f", []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := scrape(t, url)
	ts.GrantOplocks(smb2.OplockLevelBatch) // go-smb2 asks for none
	f, err := share.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	ts.GrantOplocks(0)
	during := scrape(t, url)
	f.Close()
	after := scrape(t, url)
	if got := during["cifsd_caching_granted_total{kind=oplock}"] - before["cifsd_caching_granted_total{kind=oplock}"]; got != 1 {
		t.Errorf("oplocks granted moved by %v, want 1", got)
	}
	if during["cifsd_oplocks"] != 1 || after["cifsd_oplocks"] != 0 {
		t.Errorf("oplocks held: %v while open, %v after close; want 1 and 0", during["cifsd_oplocks"], after["cifsd_oplocks"])
	}
}
