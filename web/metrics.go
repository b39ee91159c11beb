package web

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/metrics"
)

// MetricsPath is where Prometheus scrapes.
const MetricsPath = "/metrics"

// Metrics serves a Prometheus registry at /metrics; *metrics.Registry's
// Gatherer is the usual one.
type Metrics struct {
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
}

// Register adds GET /metrics to s.
func (m *Metrics) Register(s *Server) {
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	if m.Logger != nil {
		opts.ErrorLog = slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)
	}
	s.Handle("GET "+MetricsPath, promhttp.HandlerFor(m.Gatherer, opts))
}

// InstrumentWebhooks wraps the server's handler so every request under
// /webhooks/ has its duration recorded by route pattern (the pattern the
// mux matched, which keeps tokens and ids out of the labels); requests
// that match no route are recorded as "unmatched".
func InstrumentWebhooks(rec metrics.Recorder, clock nudge.Clock, next http.Handler) http.Handler {
	if clock == nil {
		clock = nudge.SystemClock
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, WebhooksPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		start := clock.Now()
		next.ServeHTTP(w, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		rec.WebhookLatency(route, clock.Now().Sub(start))
	})
}
