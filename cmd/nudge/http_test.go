package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// TestHTTPLimitsConfig reads the http section from a file and the
// environment and refuses bad values with the setting's name.
func TestHTTPLimitsConfig(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "nudge.yaml", `http:
  trusted_proxies: ["10.0.0.0/8", "192.168.1.7"]
  unauthenticated_rate: 2
  max_body: {page: 4096}
`)
	cfg, err := LoadConfig(path, func(k string) (string, bool) { return "7", k == "NUDGE_HTTP_UNAUTHENTICATED_BURST" })
	require.NoError(t, err)
	l, err := cfg.HTTP.Limits()
	require.NoError(t, err)
	require.Len(t, l.TrustedProxies, 2)
	require.Equal(t, "192.168.1.7/32", l.TrustedProxies[1].String())
	require.InDelta(t, 2, l.Unauthenticated.PerSecond, 0)
	require.Equal(t, 7, l.Unauthenticated.Burst)
	require.EqualValues(t, 4096, l.Body.Page)
	require.Zero(t, l.Body.API, "unset sizes are left to web's defaults")

	_, err = HTTPConfig{TrustedProxies: []string{"10.0.0.0/8", "proxy.internal"}}.Limits()
	require.ErrorContains(t, err, `http.trusted_proxies[1]: "proxy.internal" is neither an address nor a prefix`)
	_, err = HTTPConfig{UnauthenticatedBurst: -1, MaxBody: HTTPBodyConfig{Import: -5}}.Limits()
	require.ErrorContains(t, err, "http.unauthenticated_burst is -1")
	require.ErrorContains(t, err, "http.max_body.import is -5")
}

// TestHTTPLimitsReachTheServer runs the api role's handler with a trusted
// proxy and a small bucket: clients behind the proxy are limited by the
// address it forwards, one at a time, and an oversized page form gets 413.
func TestHTTPLimitsReachTheServer(t *testing.T) {
	t.Parallel()
	mr := miniredis.NewMiniRedis()
	require.NoError(t, mr.Start())
	t.Cleanup(mr.Close)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	cfg := Config{
		Database: "sqlite://" + filepath.Join(t.TempDir(), "n.db"), Secret: strings.Repeat("k", 32),
		HTTP: HTTPConfig{TrustedProxies: []string{"127.0.0.1"}, UnauthenticatedRate: 0.001, UnauthenticatedBurst: 2,
			MaxBody: HTTPBodyConfig{Page: 1000}},
	}.WithDefaults()
	a := &app{stdout: io.Discard, stderr: io.Discard}
	rt, err := a.newRuntime(context.Background(), cfg, runtimeOptions{rdb: rdb})
	require.NoError(t, err)
	t.Cleanup(rt.Close)
	h, err := rt.handler()
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	get := func(client string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/p/unknown-token", nil)
		require.NoError(t, err)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	// A token that names no link is refused (400) until the bucket is empty.
	require.Equal(t, http.StatusBadRequest, get("203.0.113.5"))
	require.Equal(t, http.StatusBadRequest, get("203.0.113.5"))
	require.Equal(t, http.StatusTooManyRequests, get("203.0.113.5"), "past the burst of 2")
	require.Equal(t, http.StatusBadRequest, get("203.0.113.6"), "another client behind the proxy has its own bucket")

	resp, err := http.Post(srv.URL+"/p/unknown-token", "application/x-www-form-urlencoded", strings.NewReader(strings.Repeat("a=b&", 1000)))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}
