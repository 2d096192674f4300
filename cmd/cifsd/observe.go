package main

// Observability: -metrics (Prometheus), -pprof and -log-format. Kept out
// of main.go so that run only calls logHandler and serveObservability.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb/smbmetrics"
)

var (
	metricsAddr = flag.String("metrics", "", "serve Prometheus metrics at http://ADDR/metrics (off when empty)")
	pprofAddr   = flag.String("pprof", "", "serve Go profiles at http://ADDR/debug/pprof/ (off when empty; debugging only)")
	logFormat   = flag.String("log-format", "text", "log format: text or json")
)

// logHandler is the slog handler -log-format names, writing to w.
func logHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if *logFormat == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// checkLogFormat validates -log-format.
func checkLogFormat() error {
	switch *logFormat {
	case "text", "json":
		return nil
	}
	return fmt.Errorf("-log-format: %q is not text or json", *logFormat)
}

// serveObservability instruments srv and starts the -metrics and -pprof
// listeners. Call it before srv serves. The listeners live as long as the
// process.
func serveObservability(srv *smb.Server, log *slog.Logger) error {
	if err := checkLogFormat(); err != nil {
		return err
	}
	if *metricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		if _, err := smbmetrics.Instrument(srv, reg); err != nil {
			return fmt.Errorf("-metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		if err := serveHTTP("metrics", *metricsAddr, mux, log); err != nil {
			return err
		}
	}
	if *pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		if err := serveHTTP("pprof", *pprofAddr, mux, log); err != nil {
			return err
		}
		log.Warn("serving Go profiles: keep -pprof off in production or on a private address", "addr", *pprofAddr)
	}
	return nil
}

// serveHTTP listens on addr and serves h there in the background.
func serveHTTP(what, addr string, h http.Handler, log *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-%s: %w", what, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving "+what, "addr", "http://"+l.Addr().String())
	go func() {
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what+" server stopped", "err", err)
		}
	}()
	return nil
}
