// Package web is the shared server of Nudge's HTTP layer: the Server with
// health and readiness for orchestrators, the limits every request passes
// (body sizes, the per-address rate of requests without a valid key,
// trusted proxies), metrics and webhook instrumentation, JSON answers, and
// API keys (creation, parsing, per-key rate limits) used by the lender API
// and the operator console alike.
//
// Each audience has a package of its own that registers its routes on a
// Server: web/api (the lender API under /v1), web/ops (the operator console
// under /ops), web/borrower (the self-service and unsubscribe pages) and
// web/webhooks (Twilio's and Mailgun's callbacks).
package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nudgehq/nudge"
)

// Pinger is a dependency whose reachability decides readiness.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc adapts a function to a Pinger.
type PingFunc func(ctx context.Context) error

// Ping calls f.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }

// Server routes Nudge's HTTP endpoints. Every request passes its Limits
// first: a body larger than its route's limit is answered 413, and requests
// without a valid key are limited per client address (429).
type Server struct {
	mux *http.ServeMux
	// handler is the mux behind the limits and the compression.
	handler  http.Handler
	logger   *slog.Logger
	ready    map[string]Pinger
	clock    nudge.Clock
	limits   Limits
	clients  *clientLimiter // nil when the rate limit is off
	patterns []string
}

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithLimits sets the server's limits; zero fields take the defaults. The
// limits must pass Limits.Validate, or NewServer panics.
func WithLimits(l Limits) ServerOption { return func(s *Server) { s.limits = l } }

// WithClock sets the clock the rate limits read (nudge.SystemClock by
// default).
func WithClock(c nudge.Clock) ServerOption {
	return func(s *Server) {
		if c != nil {
			s.clock = c
		}
	}
}

// NewServer returns a Server answering /healthz (the process is alive) and
// /readyz (every named dependency answers a ping within two seconds), with
// the default Limits unless WithLimits says otherwise.
func NewServer(logger *slog.Logger, ready map[string]Pinger, opts ...ServerOption) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{mux: http.NewServeMux(), logger: logger, ready: ready, clock: nudge.SystemClock}
	for _, o := range opts {
		o(s)
	}
	if err := s.limits.Validate(); err != nil {
		panic(fmt.Sprintf("web.NewServer: %v", err))
	}
	s.limits = s.limits.WithDefaults()
	if !s.limits.Unauthenticated.Off {
		s.clients = newClientLimiter(s.limits.Unauthenticated)
	}
	s.handler = compress(http.HandlerFunc(s.serveLimited))
	s.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	return s
}

// Handle registers h for pattern (net/http ServeMux syntax).
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// Patterns returns the registered patterns in registration order.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// Limits returns the limits in force, defaults filled in.
func (s *Server) Limits() Limits { return s.limits }

// ServeHTTP implements http.Handler: the limits, then the route, its
// response compressed when the client accepts it and its type compresses.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, code := map[string]string{}, http.StatusOK
	for name, p := range s.ready {
		if err := p.Ping(ctx); err != nil {
			status[name] = "unreachable"
			code = http.StatusServiceUnavailable
			s.logger.Warn("readiness check failed", "dependency", name, "err", err)
			continue
		}
		status[name] = "ok"
	}
	WriteJSON(w, code, status)
}

// WriteJSON answers code with v as JSON.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
