package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

const (
	subSID   = "AC5ab00000000000000000000000000000"
	subToken = "subtok3n42"
)

// accountsApp stands in for Nudge's web server with subaccounts: it checks
// each webhook's signature with the token its AccountSid picks
// (twilio.TokenFor), answers TwiML fetches with a goodbye and counts the
// webhooks per account and the bad signatures.
type accountsApp struct {
	url    string
	tokens map[string]string
	mu     sync.Mutex
	per    map[string]int
	bad    int
}

func (a *accountsApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	token := twilio.TokenFor(a.tokens, testToken, r.PostForm)
	err := twilio.ValidateSignature(token, a.url+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader))
	a.mu.Lock()
	a.per[r.PostForm.Get("AccountSid")]++
	if err != nil {
		a.bad++
	}
	a.mu.Unlock()
	if err != nil {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if strings.Contains(r.URL.Path, "/voice/") && !strings.HasSuffix(r.URL.Path, twilio.VoiceStatusSuffix) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>Goodbye.</Say><Hangup/></Response>`))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type accountsBundle struct {
	sim     *twiliosim.Sim
	app     *accountsApp
	cfg     twilio.Config
	clock   *nudge.FixedClock
	mu      sync.Mutex
	changes []twilio.SenderChange
	health  twilio.Health
}

// setupAccounts starts a simulator that knows the main account and the
// subaccount subSID, and an app checking webhook signatures; cfg is a valid
// config pointing at both.
func setupAccounts(t *testing.T) *accountsBundle {
	t.Helper()
	sim := twiliosim.New(twiliosim.Config{
		AccountSID: testSID, AuthToken: testToken, Speed: 1e6,
		Subaccounts: map[string]string{subSID: subToken},
		Mix:         []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}},
	})
	api := httptest.NewServer(sim)
	app := &accountsApp{tokens: map[string]string{subSID: subToken}, per: map[string]int{}}
	web := httptest.NewServer(app)
	app.url = web.URL
	t.Cleanup(func() {
		require.NoError(t, sim.Close())
		api.Close()
		web.Close()
	})
	b := &accountsBundle{sim: sim, app: app, clock: nudge.NewFixedClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))}
	b.health = twilio.NewBreaker(twilio.BreakerConfig{Threshold: 2, Cooldown: 30 * time.Second, Now: b.clock.Now,
		OnChange: func(c twilio.SenderChange) {
			b.mu.Lock()
			b.changes = append(b.changes, c)
			b.mu.Unlock()
		}})
	b.cfg = validConfig()
	b.cfg.BaseURL, b.cfg.PublicURL = api.URL, web.URL
	return b
}

func (b *accountsBundle) lastRequest(t *testing.T) twiliosim.Request {
	t.Helper()
	reqs := b.sim.Requests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1]
}

// TestPoolSenderInSubaccount: a pool sender in a subaccount sends with the
// subaccount's credentials, its status callbacks are signed with the
// subaccount's token (and checked with it through AccountTokens), and a
// message whose answer was lost is found in the subaccount's records.
func TestPoolSenderInSubaccount(t *testing.T) {
	t.Parallel()
	b := setupAccounts(t)
	pool := []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550102", AccountSID: subSID, AuthToken: subToken}}
	b.cfg.Senders = []twilio.SenderRoute{{Lender: "acme", Pool: pool}}
	require.Equal(t, map[string]string{testSID: testToken, subSID: subToken}, b.cfg.AccountTokens())
	sms, err := twilio.New(b.cfg, twilio.WithHealth(b.health))
	require.NoError(t, err)
	ctx := context.Background()

	main, sub := borrowerOf(t, pool, pool[0].From), borrowerOf(t, pool, pool[1].From)
	var sent []string
	for _, c := range []struct{ to, account string }{{main, testSID}, {sub, subSID}} {
		res, err := sms.Send(ctx, message(c.to, "acme"))
		require.NoError(t, err)
		sent = append(sent, res.ProviderID)
		rq := b.lastRequest(t)
		require.Equal(t, c.account, rq.Account)
		got, ok := b.sim.Message(res.ProviderID)
		require.True(t, ok)
		require.Equal(t, c.account, got.AccountSID)
	}
	require.NoError(t, b.sim.Idle(ctx))
	b.app.mu.Lock()
	require.Zero(t, b.app.bad, "every callback verifies with its account's token")
	require.Positive(t, b.app.per[subSID])
	require.Positive(t, b.app.per[testSID])
	b.app.mu.Unlock()
	for _, d := range b.sim.Deliveries() {
		if d.Form.Get("AccountSid") == subSID {
			require.ErrorIs(t, twilio.ValidateSignature(testToken, d.URL, d.Form, d.Signature), twilio.ErrBadSignature,
				"a subaccount's callback is not signed with the main token")
		}
	}

	// The answer of a send from the subaccount is lost: the reconciler's
	// lookup finds the message in the subaccount's records. The messages
	// sent above, to the same number with the same text and maybe within
	// the lookup's window (Twilio's times are whole seconds), are recorded
	// on their own attempts, so the reconciler names them as known.
	since := time.Now()
	b.sim.ScriptFaults(sub, twiliosim.FaultAcceptDrop)
	m := message(sub, "acme")
	_, err = sms.Send(ctx, m)
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.MaybeAccepted)
	rq := b.lastRequest(t)
	require.Equal(t, subSID, rq.Account)
	rec, err := sms.Lookup(ctx, nudge.ProviderQuery{AttemptID: m.AttemptID, Lender: "acme", Channel: nudge.SMS,
		To: sub, Body: m.Text, Since: since, Until: time.Now(), Known: sent})
	require.NoError(t, err)
	require.True(t, rec.Found)
	require.Equal(t, rq.SID, rec.ProviderID)

	// With the main account's credentials the subaccount's records are out
	// of reach: a pool without the subaccount finds nothing.
	b.cfg.Senders = []twilio.SenderRoute{{Lender: "acme", Pool: []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550102"}}}}
	plain, err := twilio.New(b.cfg)
	require.NoError(t, err)
	rec, err = plain.Lookup(ctx, nudge.ProviderQuery{AttemptID: m.AttemptID, Lender: "acme", Channel: nudge.SMS,
		To: sub, Body: m.Text, Since: since, Until: time.Now()})
	require.NoError(t, err)
	require.False(t, rec.Found)
}

// TestSubaccountConfigValidate names the key of each bad subaccount setting
// and reads a subaccount's token from its file.
func TestSubaccountConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sender  twilio.PoolSender
		wantErr string
	}{
		{name: "valid", sender: twilio.PoolSender{From: "+14155550102", AccountSID: subSID, AuthToken: subToken}},
		{name: "bad sid", sender: twilio.PoolSender{From: "+14155550102", AccountSID: "AC12", AuthToken: subToken},
			wantErr: "twilio.senders[0].pool[1].account_sid must match"},
		{name: "no token", sender: twilio.PoolSender{From: "+14155550102", AccountSID: subSID},
			wantErr: "twilio.senders[0].pool[1].auth_token (or auth_token_file) is required with account_sid"},
		{name: "token without account", sender: twilio.PoolSender{From: "+14155550102", AuthToken: subToken},
			wantErr: "twilio.senders[0].pool[1].auth_token: set only with twilio.senders[0].pool[1].account_sid"},
		{name: "token not alphanumeric", sender: twilio.PoolSender{From: "+14155550102", AccountSID: subSID, AuthToken: "a-b"},
			wantErr: "twilio.senders[0].pool[1].auth_token must be alphanumeric"},
		{name: "main account", sender: twilio.PoolSender{From: "+14155550102", AccountSID: testSID, AuthToken: testToken},
			wantErr: "twilio.senders[0].pool[1].account_sid is twilio.account_sid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			c.Senders = []twilio.SenderRoute{{Lender: "acme", Pool: []twilio.PoolSender{{From: "+14155550101"}, tt.sender}}}
			err := c.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
	t.Run("token file", func(t *testing.T) {
		t.Parallel()
		b := setupAccounts(t)
		path := t.TempDir() + "/sub-token"
		require.NoError(t, os.WriteFile(path, []byte(subToken+"\n"), 0o600))
		pool := []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550102", AccountSID: subSID, AuthTokenFile: path}}
		b.cfg.Senders = []twilio.SenderRoute{{Lender: "acme", Pool: pool}}
		sms, err := twilio.New(b.cfg)
		require.NoError(t, err)
		require.Empty(t, pool[1].AuthToken, "the caller's config is left alone")
		_, err = sms.Send(context.Background(), message(borrowerOf(t, pool, pool[1].From), "acme"))
		require.NoError(t, err)
		require.Equal(t, subSID, b.lastRequest(t).Account)

		pool[1].AuthTokenFile = path + "-missing"
		_, err = twilio.New(b.cfg)
		require.ErrorContains(t, err, "twilio.senders[0].pool[1].auth_token_file")
	})
}

// TestBreakerSettings: the carrier-filtering thresholds are settings,
// validated with the key's name, and a pool's breaker follows them.
func TestBreakerSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     func(*twilio.Config)
		wantErr string
	}{
		{name: "defaults", mod: func(*twilio.Config) {}},
		{name: "set", mod: func(c *twilio.Config) {
			c.BreakerFilterMin, c.BreakerFilterShare, c.BreakerFilterWindow = 3, 0.5, time.Minute
		}},
		{name: "share above 1", mod: func(c *twilio.Config) { c.BreakerFilterShare = 1.5 },
			wantErr: "twilio.breaker_filter_share must be between 0 and 1"},
		{name: "negative share", mod: func(c *twilio.Config) { c.BreakerFilterShare = -0.1 },
			wantErr: "twilio.breaker_filter_share must be between 0 and 1"},
		{name: "negative min", mod: func(c *twilio.Config) { c.BreakerFilterMin = -1 },
			wantErr: "twilio.breaker_filter_min must not be negative, got -1"},
		{name: "negative window", mod: func(c *twilio.Config) { c.BreakerFilterWindow = -time.Second },
			wantErr: "twilio.breaker_filter_window must not be negative"},
		{name: "tiny window", mod: func(c *twilio.Config) { c.BreakerFilterWindow = time.Millisecond },
			wantErr: "twilio.breaker_filter_window must be at least 1s"},
		{name: "negative threshold", mod: func(c *twilio.Config) { c.BreakerThreshold = -2 },
			wantErr: "twilio.breaker_threshold must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.mod(&c)
			_, err := twilio.New(c)
			_, verr := twilio.NewVoice(c, func(*nudge.Message) (string, error) { return "tok", nil })
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, verr)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, verr, tt.wantErr)
		})
	}

	// 3 filtered of 5 reports: under the defaults (10 and 30%) the sender
	// stays; with breaker_filter_min 3 and share 0.5 it is taken out.
	for _, tt := range []struct {
		name     string
		min      int
		share    float64
		takenOut bool
	}{{name: "defaults", takenOut: false}, {name: "min 3 share 0.5", min: 3, share: 0.5, takenOut: true}} {
		t.Run("pool "+tt.name, func(t *testing.T) {
			t.Parallel()
			pool := []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550102"}}
			c := validConfig()
			c.Senders = []twilio.SenderRoute{{Lender: "acme", Pool: pool}}
			c.BreakerFilterMin, c.BreakerFilterShare = tt.min, tt.share
			sms, err := twilio.New(c)
			require.NoError(t, err)
			to := borrowerOf(t, pool, pool[0].From)
			for _, filtered := range []bool{false, true, false, true, true} {
				sms.ReportDelivery(context.Background(), pool[0].From, filtered)
			}
			key, _ := sms.SenderRate(message(to, "acme"))
			want := pool[0].From
			if tt.takenOut {
				want = pool[1].From
			}
			require.Equal(t, "twilio:sms:"+want, key)
		})
	}
}

// TestVoicePool: calls of a lender with a voice pool come from the
// borrower's sticky caller ID, rate-limited per caller ID; a caller ID
// that fails is taken out (the operator told, under "voice:" and the
// number) and its borrowers called from the other until it recovers; a
// caller ID at its daily cap is skipped; calls of other lenders keep
// voice_from and the account's budget. One caller ID lives in a
// subaccount: its calls, webhooks and lookups use that account.
func TestVoicePool(t *testing.T) {
	t.Parallel()
	b := setupAccounts(t)
	pool := []twilio.PoolSender{{From: "+14155550111", MPS: 2}, {From: "+14155550112", AccountSID: subSID, AuthToken: subToken, DailyCap: 3}}
	b.cfg.VoiceSenders = []twilio.SenderRoute{{Lender: "acme", Pool: pool}}
	token := func(m *nudge.Message) (string, error) { return "tok-" + m.AttemptID, nil }
	v, err := twilio.NewVoice(b.cfg, token, twilio.WithVoiceHealth(b.health), twilio.WithCPS(1))
	require.NoError(t, err)
	ctx := context.Background()
	first, second := pool[0].From, pool[1].From
	to := borrowerOf(t, pool, first)
	other := borrowerOf(t, pool, second)
	place := func(to, lender string) twiliosim.Request {
		t.Helper()
		m := call(to)
		m.Lender = lender
		_, err := v.Send(ctx, m)
		require.NoError(t, err)
		rq := b.lastRequest(t)
		require.Equal(t, twiliosim.RequestCall, rq.Kind)
		require.Equal(t, m.From, rq.From)
		return rq
	}

	// Sticky, per caller ID rates, each in its account.
	m := call(to)
	key, cps := v.SenderRate(m)
	require.Equal(t, "twilio:voice:"+first, key)
	require.InDelta(t, 2, cps, 0)
	require.Equal(t, first, m.From)
	m = call(other)
	key, cps = v.SenderRate(m)
	require.Equal(t, "twilio:voice:"+second, key)
	require.InDelta(t, 1, cps, 0, "a caller ID without mps has the configured CPS")
	rq := place(to, "acme")
	require.Equal(t, first, rq.From)
	require.Equal(t, testSID, rq.Account)
	rq = place(other, "acme")
	require.Equal(t, second, rq.From)
	require.Equal(t, subSID, rq.Account)

	// Another lender: voice_from (twilio.from here) and the account's budget.
	m = call(to)
	m.Lender = "other"
	key, cps = v.SenderRate(m)
	require.Equal(t, "twilio:voice:"+testSID, key)
	require.InDelta(t, 1, cps, 0)
	require.Equal(t, validConfig().From, place(to, "other").From)

	// The first caller ID fails: two refusals open its breaker.
	b.sim.FailSender(first, time.Now().Add(time.Hour))
	for range 2 {
		_, err := v.Send(ctx, call(to))
		pe, ok := nudge.AsProviderError(err)
		require.True(t, ok)
		require.True(t, pe.Retry)
		require.False(t, pe.MaybeAccepted)
	}
	b.mu.Lock()
	require.Len(t, b.changes, 1)
	require.Equal(t, twilio.VoiceHealthPrefix+first, b.changes[0].Sender)
	require.True(t, b.changes[0].Tripped)
	b.mu.Unlock()
	require.Equal(t, second, place(to, "acme").From, "moved to the other caller ID")

	// Recovery after the cool-down: back to the sticky caller ID.
	b.sim.FailSender(first, time.Time{})
	b.clock.Advance(31 * time.Second)
	require.Equal(t, first, place(to, "acme").From)
	b.mu.Lock()
	require.Len(t, b.changes, 2)
	require.False(t, b.changes[1].Tripped)
	b.mu.Unlock()

	// The second caller ID's daily cap (3; 2 used): one more, then the
	// first takes its borrowers.
	require.Equal(t, second, place(other, "acme").From)
	require.Equal(t, first, place(other, "acme").From, "at its daily cap the caller ID is skipped")

	// A lost answer from the subaccount's caller ID is found there.
	b.clock.Advance(24 * time.Hour)
	since := time.Now()
	b.sim.ScriptFaults(other, twiliosim.FaultAcceptDrop)
	_, err = v.Send(ctx, call(other))
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.MaybeAccepted)
	rq = b.lastRequest(t)
	require.Equal(t, subSID, rq.Account)
	var known []string // the earlier calls, recorded on other attempts
	for _, r := range b.sim.Requests() {
		if r.SID != "" && r.SID != rq.SID {
			known = append(known, r.SID)
		}
	}
	rec, err := v.Lookup(ctx, nudge.ProviderQuery{AttemptID: "att-7", Lender: "acme", Channel: nudge.Voice, To: other, Since: since, Until: time.Now(), Known: known})
	require.NoError(t, err)
	require.True(t, rec.Found)
	require.Equal(t, rq.SID, rec.ProviderID)

	require.NoError(t, b.sim.Idle(ctx))
	b.app.mu.Lock()
	defer b.app.mu.Unlock()
	require.Zero(t, b.app.bad, "every voice webhook verifies with its account's token")
	require.Positive(t, b.app.per[subSID])
}

// TestVoiceRoutesValidate names the key of each bad voice_senders setting.
func TestVoiceRoutesValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		route   twilio.SenderRoute
		wantErr string
	}{
		{name: "valid pool", route: twilio.SenderRoute{Lender: "acme", Pool: []twilio.PoolSender{{From: "+14155550111", MPS: 5, DailyCap: 100}, {From: "+14155550112"}}}},
		{name: "valid single", route: twilio.SenderRoute{Country: "MX", From: "+525512345678"}},
		{name: "no caller", route: twilio.SenderRoute{Lender: "acme"}, wantErr: "twilio.voice_senders[0]: need from (a caller ID) or pool"},
		{name: "service", route: twilio.SenderRoute{Pool: []twilio.PoolSender{{From: "+14155550111"}, {MessagingServiceSID: testService}}},
			wantErr: "twilio.voice_senders[0].pool[1].messaging_service_sid: a Messaging Service cannot place calls"},
		{name: "short code", route: twilio.SenderRoute{Pool: []twilio.PoolSender{{From: "55501"}}},
			wantErr: `twilio.voice_senders[0].pool[0].from "55501" must be an E.164 number`},
		{name: "duplicate", route: twilio.SenderRoute{Pool: []twilio.PoolSender{{From: "+14155550111"}, {From: "+14155550111"}}},
			wantErr: "twilio.voice_senders[0].pool[1]: caller ID +14155550111 is already twilio.voice_senders[0].pool[0]"},
		{name: "class", route: twilio.SenderRoute{Pool: []twilio.PoolSender{{From: "+14155550111", Class: twilio.ClassTollFree}}},
			wantErr: "twilio.voice_senders[0].pool[0].class"},
		{name: "cps above 225", route: twilio.SenderRoute{Pool: []twilio.PoolSender{{From: "+14155550111", MPS: 300}}},
			wantErr: "twilio.voice_senders[0].pool[0].mps: 300 is above 225"},
		{name: "negative cap", route: twilio.SenderRoute{Pool: []twilio.PoolSender{{From: "+14155550111", DailyCap: -1}}},
			wantErr: "twilio.voice_senders[0].pool[0].daily_cap must not be negative"},
		{name: "subaccount without token", route: twilio.SenderRoute{Pool: []twilio.PoolSender{{From: "+14155550111", AccountSID: subSID}}},
			wantErr: "twilio.voice_senders[0].pool[0].auth_token (or auth_token_file) is required with account_sid"},
		{name: "bad country", route: twilio.SenderRoute{Country: "XX", From: "+14155550111"},
			wantErr: `twilio.voice_senders[0].country "XX"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			c.VoiceSenders = []twilio.SenderRoute{tt.route}
			_, err := twilio.NewVoice(c, func(*nudge.Message) (string, error) { return "tok", nil })
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
