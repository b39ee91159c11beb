package web_test

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/web"
)

// compressSetup is a Server with one route per kind of response.
func compressSetup(t *testing.T) (*httptest.Server, chan struct{}) {
	t.Helper()
	srv := web.NewServer(nil, nil)
	body := strings.Repeat("<p>Nudge reminds borrowers politely.</p>\n", 200)
	serve := func(ctype, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ctype)
			_, _ = io.WriteString(w, body)
		})
	}
	srv.Handle("GET /page", serve("text/html; charset=utf-8", body))
	srv.Handle("GET /data", serve("application/json", `{"items":[`+strings.Repeat(`{"status":"delivered"},`, 100)+`{}]}`))
	srv.Handle("GET /image", serve("image/png", body))
	srv.Handle("GET /font", serve("font/woff2", body))
	srv.Handle("GET /small", serve("text/plain", "ok"))
	srv.Handle("GET /encoded", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		_, _ = io.WriteString(gz, body)
		_ = gz.Close()
	}))
	// The stream sends one event, flushes, and sends the next only once
	// the client has read the first: compression must not hold it back.
	read := make(chan struct{})
	srv.Handle("GET /events", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first "+strings.Repeat("x", 2048)+"\n\n")
		w.(http.Flusher).Flush()
		<-read
		_, _ = io.WriteString(w, "data: second\n\n")
	}))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs, read
}

func get(t *testing.T, url, encoding string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	// A transport of its own that never decompresses for us.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp, b
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	r, err := gzip.NewReader(strings.NewReader(string(b)))
	require.NoError(t, err)
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(out)
}

// TestServerCompresses: HTML and JSON go gzip-encoded to a client that
// accepts it and decode to what an uncompressed request gets; images,
// fonts and tiny bodies go as they are; a response already encoded is not
// encoded twice; every answer varies on Accept-Encoding.
func TestServerCompresses(t *testing.T) {
	t.Parallel()
	hs, _ := compressSetup(t)
	for _, path := range []string{"/page", "/data"} {
		plain, want := get(t, hs.URL+path, "")
		require.Empty(t, plain.Header.Get("Content-Encoding"))
		resp, got := get(t, hs.URL+path, "gzip")
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), path)
		require.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding", path)
		require.Less(t, len(got), len(want)/4, "%s is smaller", path)
		require.Equal(t, string(want), gunzip(t, got), "%s decodes to the same body", path)
	}
	for _, path := range []string{"/image", "/font", "/small"} {
		resp, _ := get(t, hs.URL+path, "gzip")
		require.Empty(t, resp.Header.Get("Content-Encoding"), "%s is sent as it is", path)
		require.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding", path)
	}
	resp, got := get(t, hs.URL+"/encoded", "gzip")
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	require.Equal(t, strings.Repeat("<p>Nudge reminds borrowers politely.</p>\n", 200), gunzip(t, got), "encoded once")
}

// TestServerStreamsCompressed: a flushed event reaches the client before
// the handler writes the next one.
func TestServerStreamsCompressed(t *testing.T) {
	t.Parallel()
	hs, read := compressSetup(t)
	req, err := http.NewRequest(http.MethodGet, hs.URL+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	gz, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	lines := bufio.NewReader(gz)
	first, err := lines.ReadString('\n')
	require.NoError(t, err, "the first event arrives while the handler waits")
	require.True(t, strings.HasPrefix(first, "data: first"))
	close(read)
	rest, err := io.ReadAll(lines)
	require.NoError(t, err)
	require.Contains(t, string(rest), "data: second")
}
