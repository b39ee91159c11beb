package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/web"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	up := web.PingFunc(func(context.Context) error { return nil })
	down := web.PingFunc(func(context.Context) error { return errors.New("connection refused") })
	tests := []struct {
		name  string
		ready map[string]web.Pinger
		path  string
		code  int
		body  string
	}{
		{name: "alive", path: "/healthz", code: http.StatusOK, body: `{"status":"ok"}`},
		{name: "ready", ready: map[string]web.Pinger{"redis": up, "database": up}, path: "/readyz", code: http.StatusOK, body: `{"database":"ok","redis":"ok"}`},
		{name: "redis down", ready: map[string]web.Pinger{"redis": down, "database": up}, path: "/readyz", code: http.StatusServiceUnavailable, body: `{"database":"ok","redis":"unreachable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := web.NewServer(nil, tt.ready)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			require.Equal(t, tt.code, rec.Code)
			require.JSONEq(t, tt.body, rec.Body.String())
		})
	}
}
