package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/api"
	"github.com/nudgehq/nudge/web/borrower"
	"github.com/nudgehq/nudge/web/ops"
	"github.com/nudgehq/nudge/web/webhooks"
)

var limitsT0 = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

const (
	limitsAuthToken = "limits-test-auth-token-0123456789"
	limitsPublicURL = "https://nudge.example.com"
	limitsClient    = "203.0.113.7:40000"
)

// limitsBundle is the api role's whole HTTP handler, built as cmd/nudge
// builds it (health, metrics, operator console with the queue monitor,
// self-service, Twilio SMS and voice webhooks, unsubscribe, lender API,
// webhook instrumentation), over SQLite and miniredis; only the clock is a
// test's.
type limitsBundle struct {
	srv     *web.Server
	handler http.Handler
	clock   *nudge.FixedClock
	// key is an operator key of lender acme.
	key string
}

func limitsSetup(t *testing.T, opts ...web.ServerOption) *limitsBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: "acme", Name: "ACME", Language: "en", CreatedAt: limitsT0}))
	token, key, err := web.NewAPIKey("acme", nudge.RoleOperator, limitsT0)
	require.NoError(t, err)
	require.NoError(t, db.CreateAPIKey(ctx, key))
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	clock := nudge.NewFixedClock(limitsT0)
	links, err := link.NewSigner([]byte(strings.Repeat("l", link.MinKeyLength)))
	require.NoError(t, err)
	pack, reg := templates.Default(), compliance.NewRegistry()
	profile := func(context.Context, nudge.Account) (*compliance.Profile, error) { return reg.Lookup("us") }
	enq := dispatcher.NewEnqueuer(rdb, dispatcher.EnqueuerConfig{Clock: clock})
	replies := &response.Handler{Store: db, Tasks: enq, Pack: pack, Profile: profile, Clock: clock}
	rec := metrics.New(nil)

	srv := web.NewServer(nil, map[string]web.Pinger{
		"database": db,
		"redis":    web.PingFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() }),
	}, append([]web.ServerOption{web.WithClock(clock)}, opts...)...)
	(&web.Metrics{Gatherer: rec.Gatherer()}).Register(srv)
	ops, err := ops.NewOps(ops.OpsConfig{Store: db, Secret: []byte(strings.Repeat("s", 32)), Redis: rdb,
		PublicURL: limitsPublicURL, Clock: clock})
	require.NoError(t, err)
	ops.Register(srv)
	(&borrower.SelfService{Links: links, Store: db, Answers: replies, Profile: profile, Clock: clock}).Register(srv)
	(&webhooks.TwilioSMS{AuthToken: limitsAuthToken, PublicURL: limitsPublicURL, Store: db, Replies: replies,
		Clock: clock, Metrics: rec}).Register(srv)
	(&webhooks.TwilioVoice{AuthToken: limitsAuthToken, PublicURL: limitsPublicURL, Links: links, Store: db,
		Answers: replies, Pack: pack, Profile: profile, Clock: clock}).Register(srv)
	(&borrower.Unsubscribe{Links: links, Store: db, Clock: clock, Metrics: rec}).Register(srv)
	copts := []schedules.Option{schedules.WithTemplates(pack),
		schedules.WithProfiles(func(n string) bool { _, err := reg.Lookup(n); return err == nil })}
	(&api.API{Store: db, Tasks: enq, Pack: pack, Profiles: reg, Cadences: schedules.NewLibrary(db, reg, copts...),
		CadenceOptions: copts, Clock: clock, PublicURL: limitsPublicURL,
		Limiter: web.RedisKeyLimiter{Limiter: dispatcher.NewRateLimiter(rdb, clock)},
	}).Register(srv)
	return &limitsBundle{srv: srv, handler: web.InstrumentWebhooks(rec, clock, srv), clock: clock, key: token}
}

// serve sends req from client and returns the recorded answer.
func (b *limitsBundle) serve(req *http.Request, client string) *httptest.ResponseRecorder {
	req.RemoteAddr = client
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return rec
}

// zeros is an endless body of a repeated byte, never held in memory.
type zeros byte

func (z zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(z)
	}
	return len(p), nil
}

// body is n bytes of ' ', declared in Content-Length or (declared false)
// of unknown length, as a chunked request's.
func body(req *http.Request, n int64, declared bool) *http.Request {
	req.Body = io.NopCloser(io.LimitReader(zeros(' '), n))
	req.ContentLength = -1
	if declared {
		req.ContentLength = n
	}
	return req
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// requestFor turns a ServeMux pattern into a request that matches it.
func requestFor(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodPost, pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	path = wildcard.ReplaceAllString(path, "x")
	if strings.HasSuffix(path, "/") {
		path += "x"
	}
	return method, path
}

func TestOversizedBodiesAnswer413OnEveryRoute(t *testing.T) {
	t.Parallel()
	b := limitsSetup(t)
	lim := b.srv.Limits()
	patterns := b.srv.Patterns()
	// Every family is registered, as in the api role.
	for _, want := range []string{"GET /healthz", "GET " + web.MetricsPath, "POST " + web.OpsPath + "/login",
		web.OpsQueuesPath + "/", "POST " + borrower.SelfServicePath + "{token}", "POST " + borrower.UnsubscribePath + "{token}",
		"POST " + twilio.StatusCallbackPath, "POST " + twilio.InboundPath, "POST " + twilio.VoicePathPrefix + "{token}",
		"POST /v1/accounts", "PUT /v1/cadences/{name}"} {
		require.Contains(t, patterns, want)
	}
	for _, pattern := range patterns {
		method, path := requestFor(pattern)
		size := int64(10 << 20)
		if pattern == "POST /v1/accounts" {
			size = lim.Body.Import + 1 // imports may be larger than 10 MB
		}
		for _, declared := range []bool{true, false} {
			t.Run(pattern+map[bool]string{true: " declared", false: " chunked"}[declared], func(t *testing.T) {
				t.Parallel()
				req := body(httptest.NewRequest(method, path, nil), size, declared)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if pattern == "POST /v1/accounts" && !declared {
					// A streamed import is read only with a valid key.
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+b.key)
				}
				rec := b.serve(req, limitsClient)
				require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "%s %s: %s", method, path, rec.Body.String())
				if strings.HasPrefix(path, "/v1/") {
					var e struct{ Error string }
					require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
					require.Contains(t, e.Error, "larger than")
				}
			})
		}
	}
}

func TestBodiesWithinTheirLimitPass(t *testing.T) {
	t.Parallel()
	b := limitsSetup(t)
	lim := b.srv.Limits()
	tests := []struct {
		name, method, path string
		size               int64
		// want is the handler's answer (0: any but 413 and 5xx).
		want int
	}{
		{name: "webhook at its limit reaches the signature check", method: http.MethodPost, path: twilio.StatusCallbackPath, size: lim.Body.Webhook, want: http.StatusForbidden},
		{name: "self-service page at its limit reaches the token check", method: http.MethodPost, path: borrower.SelfServicePath + "x", size: lim.Body.Page},
		{name: "lender API at its limit reaches the key check", method: http.MethodPost, path: "/v1/accounts/A-1/holds", size: lim.Body.API, want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		for _, declared := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: " declared", false: " chunked"}[declared], func(t *testing.T) {
				t.Parallel()
				req := body(httptest.NewRequest(tt.method, tt.path, nil), tt.size, declared)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := b.serve(req, "198.51.100."+strconv.Itoa(len(tt.name))+":1")
				if tt.want == 0 {
					// The handler's own answer to an unknown link.
					require.NotEqual(t, http.StatusRequestEntityTooLarge, rec.Code)
					require.Less(t, rec.Code, 500, rec.Body.String())
					return
				}
				require.Equal(t, tt.want, rec.Code, rec.Body.String())
			})
		}
	}
}

// unauthenticated is one kind of request without a valid key.
type unauthenticated struct {
	name string
	// plain is the status the request gets while under the limit (0: the
	// handler's answer to the first, then the same each time).
	plain int
	req   func(b *limitsBundle) *http.Request
}

func unauthenticatedRequests() []unauthenticated {
	form := url.Values{"MessageSid": {"SM00000000000000000000000000000001"}, "MessageStatus": {"delivered"}}
	return []unauthenticated{
		{name: "ops login page", plain: http.StatusOK, req: func(*limitsBundle) *http.Request {
			return httptest.NewRequest(http.MethodGet, web.OpsPath+"/login", nil)
		}},
		{name: "ops login form", plain: http.StatusForbidden, req: func(*limitsBundle) *http.Request {
			r := httptest.NewRequest(http.MethodPost, web.OpsPath+"/login", strings.NewReader("key=nudge_x_y"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
		{name: "self-service page", req: func(*limitsBundle) *http.Request {
			return httptest.NewRequest(http.MethodGet, borrower.SelfServicePath+"not-a-token", nil)
		}},
		{name: "unsubscribe page", req: func(*limitsBundle) *http.Request {
			return httptest.NewRequest(http.MethodGet, borrower.UnsubscribePath+"not-a-token", nil)
		}},
		{name: "lender API without a key", plain: http.StatusUnauthorized, req: func(*limitsBundle) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/v1/accounts/A-1", nil)
		}},
		{name: "lender API with an unknown key", plain: http.StatusUnauthorized, req: func(b *limitsBundle) *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/v1/accounts/A-1", nil)
			r.Header.Set("Authorization", "Bearer "+b.key[:len(b.key)-4]+"AAAA")
			return r
		}},
		{name: "queue monitor API without a session", plain: http.StatusUnauthorized, req: func(*limitsBundle) *http.Request {
			return httptest.NewRequest(http.MethodGet, web.OpsQueuesPath+"/api/queues", nil)
		}},
		{name: "webhook with a bad signature", plain: http.StatusForbidden, req: func(*limitsBundle) *http.Request {
			return limitsWebhook(twilio.StatusCallbackPath, form, "bm90IGEgc2lnbmF0dXJl")
		}},
		{name: "webhook without a signature", plain: http.StatusForbidden, req: func(*limitsBundle) *http.Request {
			return limitsWebhook(twilio.InboundPath, form, "")
		}},
		{name: "webhook with an unreadable form", plain: http.StatusBadRequest, req: func(*limitsBundle) *http.Request {
			r := httptest.NewRequest(http.MethodPost, twilio.InboundPath, strings.NewReader("Body=%zz"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
	}
}

// limitsWebhook is a Twilio form POST to path with signature sig ("" for none).
func limitsWebhook(path string, form url.Values, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		r.Header.Set(twilio.SignatureHeader, sig)
	}
	return r
}

func TestUnauthenticatedRequestsAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range unauthenticatedRequests() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := limitsSetup(t)
			rl := b.srv.Limits().Unauthenticated
			require.Equal(t, float64(web.DefaultUnauthenticatedRate), rl.PerSecond)
			require.Equal(t, web.DefaultUnauthenticatedBurst, rl.Burst)

			// 1,000 requests from one address within one second (the clock
			// moves a millisecond between them): the first Burst pass, then
			// one each 1/PerSecond.
			plain := tt.plain
			passed := 0
			for i := range 1000 {
				rec := b.serve(tt.req(b), limitsClient)
				if rec.Code != http.StatusTooManyRequests {
					if plain == 0 {
						plain = rec.Code
						require.Less(t, plain, 500, rec.Body.String())
					}
					require.Equal(t, plain, rec.Code, "request %d: %s", i, rec.Body.String())
					require.Empty(t, rec.Header().Get("Retry-After"))
					passed++
				} else {
					require.GreaterOrEqual(t, i, rl.Burst, "request %d refused within the burst", i)
					require.Equal(t, "1", rec.Header().Get("Retry-After"))
					require.Contains(t, rec.Body.String(), "too many requests")
					require.Empty(t, rec.Header().Get("WWW-Authenticate"))
					require.Empty(t, rec.Header().Get("Set-Cookie"))
				}
				b.clock.Advance(time.Millisecond)
			}
			require.Equal(t, rl.Burst+int(rl.PerSecond*0.999), passed)

			// Another address is unaffected.
			for i := range rl.Burst {
				rec := b.serve(tt.req(b), "203.0.113.8:40000")
				require.Equal(t, plain, rec.Code, "request %d from a second address", i)
			}
			// The first gets one request again each time a token comes back.
			for b.serve(tt.req(b), limitsClient).Code != http.StatusTooManyRequests {
			}
			b.clock.Advance(time.Second / time.Duration(rl.PerSecond))
			require.Equal(t, plain, b.serve(tt.req(b), limitsClient).Code)
			require.Equal(t, http.StatusTooManyRequests, b.serve(tt.req(b), limitsClient).Code)
		})
	}
}

// exhaust spends client's budget with bad API keys.
func (b *limitsBundle) exhaust(t *testing.T, client string) {
	t.Helper()
	for range b.srv.Limits().Unauthenticated.Burst {
		require.Equal(t, http.StatusUnauthorized, b.serve(httptest.NewRequest(http.MethodGet, "/v1/accounts/A-1", nil), client).Code)
	}
	rec := b.serve(httptest.NewRequest(http.MethodGet, "/v1/accounts/A-1", nil), client)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.JSONEq(t, `{"error": "too many requests without a valid key from this address: retry in 1 s"}`, rec.Body.String())
}

func TestValidTwilioWebhooksAreNeverLimited(t *testing.T) {
	t.Parallel()
	b := limitsSetup(t)
	b.exhaust(t, limitsClient)
	bad := func() int {
		return b.serve(limitsWebhook(twilio.StatusCallbackPath, url.Values{"MessageSid": {"SMx"}}, "bm90IGEgc2lnbmF0dXJl"), limitsClient).Code
	}
	require.Equal(t, http.StatusTooManyRequests, bad())
	for i := range 1000 {
		form := url.Values{"MessageSid": {"SM" + strconv.Itoa(i)}}
		if i%100 == 0 {
			form.Set("MessageStatus", "delivered") // an unknown message's callback, kept for later
		}
		sig := twilio.SignRequest(limitsAuthToken, limitsPublicURL+twilio.StatusCallbackPath, form)
		rec := b.serve(limitsWebhook(twilio.StatusCallbackPath, form, sig), limitsClient)
		require.Equal(t, http.StatusNoContent, rec.Code, "valid webhook %d: %s", i, rec.Body.String())
		require.Equal(t, http.StatusTooManyRequests, bad(), "a bad signature is still refused")
	}
}

func TestValidKeysAreNeverLimitedByAddress(t *testing.T) {
	t.Parallel()
	b := limitsSetup(t)
	b.exhaust(t, limitsClient)
	for range 10 {
		req := httptest.NewRequest(http.MethodGet, "/v1/accounts/A-1", nil)
		req.Header.Set("Authorization", "Bearer "+b.key)
		rec := b.serve(req, limitsClient)
		require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
	}
	// Public routes and health checks do not count either.
	for range 100 {
		require.Equal(t, http.StatusOK, b.serve(httptest.NewRequest(http.MethodGet, api.OpenAPIPath, nil), limitsClient).Code)
		require.Equal(t, http.StatusOK, b.serve(httptest.NewRequest(http.MethodGet, "/healthz", nil), limitsClient).Code)
	}
}

func TestClientAddress(t *testing.T) {
	t.Parallel()
	proxies, err := web.ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.10"})
	require.NoError(t, err)
	tests := []struct {
		name string
		// a and b are (remote address, X-Forwarded-For) of two requests.
		a, b [2]string
		// shared says whether they draw on the same budget.
		shared bool
	}{
		{name: "two clients behind a trusted proxy", a: [2]string{"10.0.0.2:1", "198.51.100.1"}, b: [2]string{"10.0.0.2:2", "198.51.100.2"}},
		{name: "one client through two trusted proxies", a: [2]string{"10.0.0.2:1", "198.51.100.1"}, b: [2]string{"192.0.2.10:2", "198.51.100.1, 10.0.0.3"}, shared: true},
		{name: "a forged hop left of the proxy's is ignored", a: [2]string{"10.0.0.2:1", "1.1.1.1, 198.51.100.1"}, b: [2]string{"10.0.0.2:2", "2.2.2.2, 198.51.100.1"}, shared: true},
		{name: "an untrusted peer's header is ignored", a: [2]string{"198.51.100.9:1", "198.51.100.1"}, b: [2]string{"198.51.100.9:2", "198.51.100.2"}, shared: true},
		{name: "no header: the proxy itself", a: [2]string{"10.0.0.2:1", ""}, b: [2]string{"10.0.0.2:2", ""}, shared: true},
		{name: "IPv6 by /64", a: [2]string{"[2001:db8::1]:1", ""}, b: [2]string{"[2001:db8::ffff]:1", ""}, shared: true},
		{name: "another /64", a: [2]string{"[2001:db8::1]:1", ""}, b: [2]string{"[2001:db8:0:1::1]:1", ""}},
		{name: "IPv4-mapped IPv6 is IPv4", a: [2]string{"[::ffff:198.51.100.1]:1", ""}, b: [2]string{"198.51.100.1:2", ""}, shared: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := nudge.NewFixedClock(limitsT0)
			srv := web.NewServer(nil, nil, web.WithClock(clock), web.WithLimits(web.Limits{TrustedProxies: proxies}))
			send := func(from [2]string) int {
				req := httptest.NewRequest(http.MethodGet, "/v1/accounts/A-1", nil)
				req.RemoteAddr = from[0]
				if from[1] != "" {
					req.Header.Set("X-Forwarded-For", from[1])
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				return rec.Code
			}
			// No API is registered: every /v1 request is a 404 that does
			// not count, so count with the login page instead.
			login := func(from [2]string) int {
				req := httptest.NewRequest(http.MethodGet, web.OpsPath+"/login", nil)
				req.RemoteAddr = from[0]
				if from[1] != "" {
					req.Header.Set("X-Forwarded-For", from[1])
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				return rec.Code
			}
			require.Equal(t, http.StatusNotFound, send(tt.a))
			for range web.DefaultUnauthenticatedBurst {
				require.Equal(t, http.StatusNotFound, login(tt.a))
			}
			require.Equal(t, http.StatusTooManyRequests, login(tt.a))
			if tt.shared {
				require.Equal(t, http.StatusTooManyRequests, login(tt.b))
			} else {
				require.Equal(t, http.StatusNotFound, login(tt.b))
			}
		})
	}
}

func TestClientBucketsAreBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxClients int
		// advance is how long the clock moves before the other addresses come.
		advance time.Duration
		// refilled says whether the first address has a full budget again.
		refilled bool
	}{
		{name: "room for everyone: the exhausted address stays limited", maxClients: 3},
		{name: "full: the least recently seen address is dropped", maxClients: 2, refilled: true},
		{name: "idle addresses are dropped, losing nothing", maxClients: 3, advance: 2 * time.Second, refilled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := nudge.NewFixedClock(limitsT0)
			srv := web.NewServer(nil, nil, web.WithClock(clock),
				web.WithLimits(web.Limits{Unauthenticated: web.RateLimit{PerSecond: 10, Burst: 20, MaxClients: tt.maxClients}}))
			login := func(client string) int {
				req := httptest.NewRequest(http.MethodGet, web.OpsPath+"/login", nil)
				req.RemoteAddr = client
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				return rec.Code
			}
			for range 20 {
				require.Equal(t, http.StatusNotFound, login("198.51.100.1:1"))
			}
			clock.Advance(tt.advance)
			require.Equal(t, http.StatusNotFound, login("198.51.100.2:1"))
			require.Equal(t, http.StatusNotFound, login("198.51.100.3:1"))
			passed := 0
			for range 20 {
				if login("198.51.100.1:1") != http.StatusTooManyRequests {
					passed++
				}
			}
			if tt.refilled {
				require.Equal(t, 20, passed)
			} else {
				require.Zero(t, passed)
			}
		})
	}
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	srv := web.NewServer(nil, nil, web.WithLimits(web.Limits{Unauthenticated: web.RateLimit{Off: true}}))
	for range 100 {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, borrower.SelfServicePath+"x", nil))
		require.Equal(t, http.StatusNotFound, rec.Code)
	}
}

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits web.Limits
		want   string
	}{
		{name: "defaults", limits: web.Limits{}},
		{name: "negative body", limits: web.Limits{Body: web.BodyLimits{Webhook: -1}}, want: "body.webhook is -1 bytes"},
		{name: "negative rate", limits: web.Limits{Unauthenticated: web.RateLimit{PerSecond: -2}}, want: "unauthenticated.per_second is -2"},
		{name: "negative burst", limits: web.Limits{Unauthenticated: web.RateLimit{Burst: -1}}, want: "unauthenticated.burst is -1"},
		{name: "invalid proxy", limits: web.Limits{TrustedProxies: []netip.Prefix{{}}}, want: "trusted_proxies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.limits.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
			require.Panics(t, func() { web.NewServer(nil, nil, web.WithLimits(tt.limits)) })
		})
	}
	_, err := web.ParseTrustedProxies([]string{"10.0.0.0/8", "proxy.internal"})
	require.ErrorContains(t, err, `trusted_proxies[1]: "proxy.internal"`)
}
