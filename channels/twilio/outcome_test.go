package twilio_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
)

// fakeAPI counts the requests a stand-in for Twilio's API fully received
// before its handler decided what to do with them.
type fakeAPI struct {
	received atomic.Int32
}

// wrap reads the whole request (so it has arrived), counts it and hands it to h.
func (f *fakeAPI) wrap(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.received.Add(1)
		h(w, r)
	})
}

// hangUp drops the connection without an answer; reset makes it an RST
// instead of a FIN.
func hangUp(t *testing.T, reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// rawAnswer writes raw bytes as the answer and drops the connection.
func rawAnswer(t *testing.T, raw string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		_, _ = buf.WriteString(raw)
		_ = buf.Flush()
		_ = conn.Close()
	}
}

// answer replies with status, content type and body.
func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// smsAt returns a sender whose API calls go to baseURL.
func smsAt(t *testing.T, baseURL string, timeout time.Duration, opts ...twilio.Option) *twilio.SMS {
	t.Helper()
	c := validConfig()
	c.BaseURL = baseURL
	c.Timeout = timeout
	s, err := twilio.New(c, opts...)
	require.NoError(t, err)
	return s
}

// failingWrites is a connection whose every write fails, as a socket the
// peer reset does.
type failingWrites struct{ net.Conn }

func (c failingWrites) Write([]byte) (int, error) {
	return 0, &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}
}

// TestSendOutcome drives each way a create request can end through a real
// HTTP exchange and checks whether the error says Twilio may have accepted it.
func TestSendOutcome(t *testing.T) {
	t.Parallel()
	const (
		refused = iota // Retry: provably not accepted
		maybe          // MaybeAccepted: must be reconciled
		final          // neither: permanent
	)
	twilioJSON := func(status, code int) string {
		return `{"code":` + strconv.Itoa(code) + `,"message":"m","more_info":"https://www.twilio.com/docs/errors/` + strconv.Itoa(code) + `","status":` + strconv.Itoa(status) + `}`
	}
	tests := []struct {
		name    string
		handler func(t *testing.T) http.HandlerFunc
		// server, when set, replaces the httptest server: it returns the base URL.
		server  func(t *testing.T) string
		opts    []twilio.Option
		want    int
		code    string
		arrived bool // the fake API received the whole request
	}{
		{name: "hang up after reading the request", handler: func(t *testing.T) http.HandlerFunc { return hangUp(t, false) }, want: maybe, code: "no_answer", arrived: true},
		{name: "reset after reading the request", handler: func(t *testing.T) http.HandlerFunc { return hangUp(t, true) }, want: maybe, code: "no_answer", arrived: true},
		{name: "no answer before the timeout", handler: func(*testing.T) http.HandlerFunc {
			return func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
		}, want: maybe, code: "no_answer", arrived: true},
		{name: "2xx cut short", handler: func(t *testing.T) http.HandlerFunc {
			return rawAnswer(t, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"sid\":\"SM0123")
		}, want: maybe, code: "no_answer", arrived: true},
		{name: "2xx without a sid", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusCreated, "application/json", `{"status":"queued"}`)
		}, want: maybe, code: "no_answer", arrived: true},
		{name: "proxy 502 page", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusBadGateway, "text/html", "<html>bad gateway</html>")
		}, want: maybe, code: "502", arrived: true},
		{name: "proxy 503 without body", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusServiceUnavailable, "", "")
		}, want: maybe, code: "503", arrived: true},
		{name: "proxy 504 with its own JSON", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusGatewayTimeout, "application/json", `{"message":"upstream timed out"}`)
		}, want: maybe, code: "504", arrived: true},
		{name: "Twilio 429", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusTooManyRequests, "application/json", twilioJSON(429, 20429))
		}, want: refused, code: "20429", arrived: true},
		{name: "Twilio 500", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusInternalServerError, "application/json", twilioJSON(500, 20500))
		}, want: refused, code: "20500", arrived: true},
		{name: "Twilio 503", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusServiceUnavailable, "application/json", twilioJSON(503, 20503))
		}, want: refused, code: "20503", arrived: true},
		{name: "500 page", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusInternalServerError, "text/html", "<html>oops</html>")
		}, want: refused, code: "500", arrived: true},
		{name: "Twilio 400 invalid number", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusBadRequest, "application/json", twilioJSON(400, 21211))
		}, want: final, code: "21211", arrived: true},
		{name: "redirect", handler: func(*testing.T) http.HandlerFunc {
			return answer(http.StatusMovedPermanently, "text/html", "<html>moved</html>")
		}, want: final, code: "301", arrived: true},
		{name: "connection refused", server: func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := l.Addr().String()
			require.NoError(t, l.Close())
			return "http://" + addr
		}, want: refused, code: "network"},
		{name: "TLS handshake fails", server: func(t *testing.T) string {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				t.Error("the request must not arrive")
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}, want: refused, code: "network"},
		{name: "DNS fails", server: func(*testing.T) string { return "http://api.nudge-test.invalid" },
			opts: []twilio.Option{twilio.WithTransport(&http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}}
			}})}, want: refused, code: "network"},
		{name: "dial fails with an unrecognised error", server: func(*testing.T) string { return "http://api.nudge-test.invalid" },
			opts: []twilio.Option{twilio.WithTransport(&http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
				return nil, errors.New("no route through the VPN")
			}})}, want: refused, code: "network"},
		{name: "socket write fails", server: func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				t.Error("the request must not arrive")
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}, opts: []twilio.Option{twilio.WithTransport(&http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return failingWrites{c}, nil
		}})}, want: refused, code: "network"},
		{name: "transport without httptrace, reset", server: func(*testing.T) string { return "http://api.nudge-test.invalid" },
			opts: []twilio.Option{twilio.WithTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
				return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
			}))}, want: maybe, code: "no_answer"},
		{name: "transport without httptrace, refused", server: func(*testing.T) string { return "http://api.nudge-test.invalid" },
			opts: []twilio.Option{twilio.WithTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
			}))}, want: refused, code: "network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{}
			var base string
			if tt.server != nil {
				base = tt.server(t)
			} else {
				srv := httptest.NewServer(api.wrap(tt.handler(t)))
				t.Cleanup(srv.Close)
				base = srv.URL
			}
			s := smsAt(t, base, 300*time.Millisecond, tt.opts...)
			_, err := s.Send(context.Background(), message("+14155550123", "acme"))
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok, "want a ProviderError, got %v", err)
			require.Equal(t, tt.code, pe.Code, "%v", err)
			require.Equal(t, tt.want == refused, pe.Retry, "retry: %v", err)
			require.Equal(t, tt.want == maybe, pe.MaybeAccepted, "maybe accepted: %v", err)
			if tt.want == maybe {
				require.Equal(t, nudge.ReasonUnknownOutcome, pe.Reason)
			}
			require.Contains(t, err.Error(), "att-1")
			require.Equal(t, tt.arrived, api.received.Load() == 1)
		})
	}
}

// TestSendCanceledBeforeSending checks that a context that ended before the
// request left proves nothing was sent.
func TestSendCanceledBeforeSending(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	srv := httptest.NewServer(api.wrap(answer(http.StatusCreated, "application/json", `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)))
	t.Cleanup(srv.Close)
	s := smsAt(t, srv.URL, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Send(ctx, message("+14155550123", "acme"))
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.Retry)
	require.False(t, pe.MaybeAccepted)
	require.Equal(t, "network", pe.Code)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, api.received.Load())
}

// TestSendServerClosesBeforeReading uses a listener that accepts and closes
// at once. Whether the client's write of the request or the close lands
// first is up to the kernels, so either answer is right, but never both and
// never neither: a write that got out may have been read.
func TestSendServerClosesBeforeReading(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	s := smsAt(t, "http://"+l.Addr().String(), time.Second)
	for range 5 {
		_, err := s.Send(context.Background(), message("+14155550123", "acme"))
		pe, ok := nudge.AsProviderError(err)
		require.True(t, ok)
		require.True(t, pe.Retry != pe.MaybeAccepted, "exactly one of retry and maybe accepted: %+v", pe)
		if pe.Retry {
			require.Equal(t, "network", pe.Code)
		} else {
			require.Equal(t, "no_answer", pe.Code)
		}
	}
}

// TestVoiceSendOutcome checks that calls are classified the same way.
func TestVoiceSendOutcome(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	srv := httptest.NewServer(api.wrap(hangUp(t, false)))
	t.Cleanup(srv.Close)
	cfg := validConfig()
	cfg.BaseURL = srv.URL
	v, err := twilio.NewVoice(cfg, func(*nudge.Message) (string, error) { return "tok", nil })
	require.NoError(t, err)
	_, err = v.Send(context.Background(), call("+14155550123"))
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.MaybeAccepted)
	require.False(t, pe.Retry)
	require.Equal(t, "no_answer", pe.Code)
	require.Equal(t, int32(1), api.received.Load())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
