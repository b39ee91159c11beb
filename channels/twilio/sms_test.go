package twilio_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

type smsBundle struct {
	sim    *twiliosim.Sim
	server *httptest.Server
	cfg    twilio.Config
	sms    *twilio.SMS
}

// setup starts a simulator whose borrowers all stay silent and a sender
// pointed at it; mod adjusts the sender's configuration.
func setup(t *testing.T, mod func(*twilio.Config)) *smsBundle {
	t.Helper()
	sim := twiliosim.New(twiliosim.Config{
		AccountSID: testSID, AuthToken: testToken, Speed: 1e6,
		Mix: []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}},
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, sim.Close())
	})
	cfg := validConfig()
	cfg.BaseURL = srv.URL
	if mod != nil {
		mod(&cfg)
	}
	s, err := twilio.New(cfg)
	require.NoError(t, err)
	return &smsBundle{sim: sim, server: srv, cfg: cfg, sms: s}
}

func message(to, lender string) *nudge.Message {
	return &nudge.Message{AttemptID: "att-1", Lender: lender, Channel: nudge.SMS, To: to, Text: "Hi, your payment of $200 is due Friday. Reply STOP to opt out."}
}

func TestSendThroughSim(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	res, err := b.sms.Send(context.Background(), message("+14155550123", "acme"))
	require.NoError(t, err)
	require.Regexp(t, `^SM[0-9a-f]{32}$`, res.ProviderID)
	require.Equal(t, nudge.AttemptSent, res.Status)
	require.Equal(t, 1, res.Segments, "num_segments of Twilio's answer")

	msgs := b.sim.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, res.ProviderID, msgs[0].SID)
	require.Equal(t, "+14155550100", msgs[0].From)
	require.Equal(t, "+14155550123", msgs[0].To)
	require.Equal(t, "https://nudge.example.com/webhooks/twilio/sms/status?a=att-1", msgs[0].StatusCallback)
	require.Equal(t, 1, b.sim.CreateCount("+14155550123"))
}

func TestSendRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twilio.Config) {
		c.Senders = []twilio.SenderRoute{
			{Country: "MX", From: "+525500000001"},
			{Lender: "acme", MessagingServiceSID: testService},
			{Lender: "acme", Country: "MX", From: "+525500000002"},
		}
	})
	tests := []struct {
		name        string
		to          string
		lender      string
		wantFrom    string
		wantService string
	}{
		{name: "default sender", to: "+14155550123", lender: "other", wantFrom: "+14155550100"},
		{name: "country route", to: "+525512345678", lender: "other", wantFrom: "+525500000001"},
		{name: "lender route", to: "+14155550124", lender: "acme", wantService: testService},
		{name: "lender and country route", to: "+525512345679", lender: "acme", wantFrom: "+525500000002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := b.sms.Send(context.Background(), message(tt.to, tt.lender))
			require.NoError(t, err)
			m, ok := b.sim.Message(res.ProviderID)
			require.True(t, ok)
			require.Equal(t, tt.wantFrom, m.From)
			require.Equal(t, tt.wantService, m.MessagingServiceSID)
		})
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		to            string
		prepare       func(b *smsBundle)
		mod           func(*twilio.Config)
		retry         bool
		optOut        bool
		undeliverable bool
		code          string
	}{
		{name: "opted out", to: "+14155550130", prepare: func(b *smsBundle) { b.sim.OptOut("+14155550100", "+14155550130") }, optOut: true, code: "21610"},
		{name: "invalid number", to: "+15555555555", undeliverable: true, code: "21211"},
		{name: "rate limited", to: "+14155550131", prepare: func(b *smsBundle) { b.sim.FailCreates("+14155550131", 1, 429, 20429) }, retry: true, code: "20429"},
		{name: "server error", to: "+14155550132", prepare: func(b *smsBundle) { b.sim.FailCreates("+14155550132", 1, 500, 20500) }, retry: true, code: "20500"},
		{name: "bad credentials", to: "+14155550133", mod: func(c *twilio.Config) { c.AuthToken = "wrongtoken" }, retry: true, code: "20003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.mod)
			if tt.prepare != nil {
				tt.prepare(b)
			}
			_, err := b.sms.Send(context.Background(), message(tt.to, "acme"))
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok, "want a ProviderError, got %v", err)
			require.Equal(t, tt.code, pe.Code)
			require.Equal(t, tt.retry, pe.Retry)
			require.Equal(t, tt.optOut, pe.OptOut)
			require.Equal(t, tt.undeliverable, pe.Undeliverable)
		})
	}
}

func TestSendRetriesAfterInjectedFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.FailCreates("+14155550140", 1, 503, 20503)
	_, err := b.sms.Send(context.Background(), message("+14155550140", "acme"))
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.Retry)
	res, err := b.sms.Send(context.Background(), message("+14155550140", "acme"))
	require.NoError(t, err)
	require.NotEmpty(t, res.ProviderID)
	require.Equal(t, 2, b.sim.CreateCount("+14155550140"))
}

func TestSendRejectsBadMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name string
		m    *nudge.Message
	}{
		{name: "email channel", m: &nudge.Message{Channel: nudge.Email, To: "+14155550123", Text: "x"}},
		{name: "no To", m: &nudge.Message{Channel: nudge.SMS, Text: "x"}},
		{name: "empty body", m: &nudge.Message{Channel: nudge.SMS, To: "+14155550123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.sms.Send(context.Background(), tt.m)
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok)
			require.False(t, pe.Retry)
		})
	}
	require.Empty(t, b.sim.Messages())
}

func TestSenderRate(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.Senders = []twilio.SenderRoute{
		{Lender: "tollfree", From: "+18005550100"},
		{Lender: "short", From: "12345"},
		{Lender: "service", MessagingServiceSID: testService},
		{Lender: "tuned", From: "+14155550111", MPS: 25},
	}
	s, err := twilio.New(c)
	require.NoError(t, err)
	tests := []struct {
		name    string
		lender  string
		wantKey string
		wantMPS float64
	}{
		{name: "long code default", lender: "other", wantKey: "twilio:sms:+14155550100", wantMPS: twilio.DefaultLongCodeMPS},
		{name: "toll free", lender: "tollfree", wantKey: "twilio:sms:+18005550100", wantMPS: twilio.DefaultTollFreeMPS},
		{name: "short code", lender: "short", wantKey: "twilio:sms:12345", wantMPS: twilio.DefaultShortCodeMPS},
		{name: "messaging service", lender: "service", wantKey: "twilio:sms:" + testService, wantMPS: twilio.DefaultLongCodeMPS},
		{name: "configured", lender: "tuned", wantKey: "twilio:sms:+14155550111", wantMPS: 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, mps := s.SenderRate(message("+14155550123", tt.lender))
			require.Equal(t, tt.wantKey, key)
			require.InDelta(t, tt.wantMPS, mps, 1e-9)
		})
	}
}

func TestRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "US", in: "+14155550123", want: "US"},
		{name: "MX", in: "+525512345678", want: "MX"},
		{name: "CN", in: "+8613800138000", want: "CN"},
		{name: "garbage", in: "hello", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, twilio.Region(tt.in))
		})
	}
}

// recorder stands in for Twilio's create endpoints: it keeps the form of
// every request and answers with a queued resource.
type recorder struct {
	mu    sync.Mutex
	forms []url.Values
	paths []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec.mu.Lock()
	rec.forms = append(rec.forms, r.PostForm)
	rec.paths = append(rec.paths, r.URL.Path)
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	prefix := "SM"
	if strings.HasSuffix(r.URL.Path, "/Calls.json") {
		prefix = "CA"
	}
	_, _ = w.Write([]byte(`{"sid":"` + prefix + `0123456789abcdef0123456789abcdef","status":"queued"}`))
}

func (rec *recorder) last(t *testing.T) url.Values {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.forms)
	return rec.forms[len(rec.forms)-1]
}

func TestSendValidityPeriod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		validFor time.Duration
		want     string
	}{
		{name: "no limit", validFor: 0, want: "36000"},
		{name: "two hours left", validFor: 2 * time.Hour, want: "7200"},
		{name: "rounded down", validFor: 90*time.Second + 900*time.Millisecond, want: "90"},
		{name: "less than a minute left", validFor: 20 * time.Second, want: "60"},
		{name: "more than Twilio allows", validFor: 48 * time.Hour, want: "36000"},
		{name: "negative", validFor: -time.Minute, want: "60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			srv := httptest.NewServer(rec)
			t.Cleanup(srv.Close)
			s := smsAt(t, srv.URL, time.Second)
			m := message("+14155550123", "acme")
			m.ValidFor = tt.validFor
			res, err := s.Send(context.Background(), m)
			require.NoError(t, err)
			require.Equal(t, "SM0123456789abcdef0123456789abcdef", res.ProviderID)
			require.Equal(t, tt.want, rec.last(t).Get("ValidityPeriod"))
		})
	}
}

func TestSendStatusCallbackNamesAttempt(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	s := smsAt(t, srv.URL, time.Second)
	m := message("+14155550123", "acme")
	m.AttemptID = "att_0a1b2c_sms"
	_, err := s.Send(context.Background(), m)
	require.NoError(t, err)
	got := rec.last(t).Get("StatusCallback")
	require.Equal(t, "https://nudge.example.com/webhooks/twilio/sms/status?a=att_0a1b2c_sms", got)
	require.Equal(t, got, s.StatusCallbackURLFor(m.AttemptID))
	require.Equal(t, "https://nudge.example.com/webhooks/twilio/sms/status", s.StatusCallbackURL())

	u, err := url.Parse(got)
	require.NoError(t, err)
	require.Equal(t, twilio.StatusCallbackPath, u.Path)
	require.Equal(t, m.AttemptID, u.Query().Get(twilio.StatusCallbackAttemptParam))
}

func TestStatusCallbackURLFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, publicURL, attempt, want string
	}{
		{name: "attempt", publicURL: "https://n.example.com", attempt: "att_ff_sms", want: "https://n.example.com/webhooks/twilio/sms/status?a=att_ff_sms"},
		{name: "trailing slash", publicURL: "https://n.example.com/", attempt: "att_ff_sms", want: "https://n.example.com/webhooks/twilio/sms/status?a=att_ff_sms"},
		{name: "escaped", publicURL: "https://n.example.com", attempt: "a b&c", want: "https://n.example.com/webhooks/twilio/sms/status?a=a+b%26c"},
		{name: "no attempt", publicURL: "https://n.example.com", want: "https://n.example.com/webhooks/twilio/sms/status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, twilio.StatusCallbackURLFor(tt.publicURL, tt.attempt))
		})
	}
}

// TestSendReusesConnectionsAcrossBursts sends two bursts of concurrent
// messages through the default transport and counts the connections the API
// host accepted: the second burst finds the first one's connections open,
// where net/http's default transport kept two and dialled the rest again.
func TestSendReusesConnectionsAcrossBursts(t *testing.T) {
	t.Parallel()
	const burst = 32
	var (
		mu      sync.Mutex
		arrived int
		full    = make(chan struct{})
		dialled atomic.Int32
	)
	rec := &recorder{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hold each request of the first burst until all of it arrived, so
		// that the burst is in flight at once, on as many connections.
		mu.Lock()
		arrived++
		if arrived == burst {
			close(full)
		}
		mu.Unlock()
		select {
		case <-full:
		case <-time.After(5 * time.Second):
		}
		rec.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := smsAt(t, srv.URL, 10*time.Second)

	send := func() {
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() {
				m := message(fmt.Sprintf("+1415555%04d", i), "acme")
				_, err := s.Send(context.Background(), m)
				assert.NoError(t, err)
			})
		}
		wg.Wait()
	}
	send()
	first := dialled.Load()
	require.EqualValues(t, burst, first, "the first burst is in flight at once")
	send()
	require.LessOrEqual(t, dialled.Load()-first, int32(2), "the second burst reuses the first one's connections")
	require.Len(t, rec.forms, 2*burst)
}
