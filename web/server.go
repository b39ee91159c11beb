// Package web is Nudge's HTTP surface: health and readiness for orchestrators,
// and (as the product grows) provider webhooks, the lender API, borrower pages
// and the operator dashboard.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Pinger is a dependency whose reachability decides readiness.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc adapts a function to a Pinger.
type PingFunc func(ctx context.Context) error

// Ping calls f.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }

// Server routes Nudge's HTTP endpoints.
type Server struct {
	mux    *http.ServeMux
	logger *slog.Logger
	ready  map[string]Pinger
}

// NewServer returns a Server answering /healthz (the process is alive) and
// /readyz (every named dependency answers a ping within two seconds).
func NewServer(logger *slog.Logger, ready map[string]Pinger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{mux: http.NewServeMux(), logger: logger, ready: ready}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	return s
}

// Handle registers h for pattern (net/http ServeMux syntax).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
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
	writeJSON(w, code, status)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
