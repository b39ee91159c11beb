package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/logmask"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/webhook"
)

// webhookCadence texts and calls every account on its due date.
const webhookCadence = `name: webhook-due
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-sms, day: 0, at: "00:00", channel: sms, template: due_sms}
  - {id: due-voice, day: 0, at: "00:00", channel: voice, template: late_voice}
`

// webhookReceiver is a lender's HTTPS endpoint that answers 503 to every
// request for failFor after the first, then takes everything.
type webhookReceiver struct {
	mu      sync.Mutex
	failFor time.Duration
	first   time.Time
	got     []receivedHook
}

type receivedHook struct {
	header http.Header
	body   []byte
	ok     bool
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first.IsZero() {
		r.first = time.Now()
	}
	ok := time.Since(r.first) >= r.failFor
	r.got = append(r.got, receivedHook{header: req.Header.Clone(), body: body, ok: ok})
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *webhookReceiver) hooks() []receivedHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// TestE2EWebhooksMatchTheFeed runs the api, scheduler and worker roles in
// one process over twiliosim, with a lender's webhook endpoint on a local
// HTTPS server that fails for a while and then recovers. Every webhook is
// verified with the Standard Webhooks library; every event of the feed is
// delivered, none is lost, repeats carry the same webhook-id and body, and
// the first receipts of each account come in the feed's order. After a
// borrower is erased, neither the feed nor a replayed webhook holds their
// number or address.
func TestE2EWebhooksMatchTheFeed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the whole product for several seconds")
	}
	ctx := context.Background()
	zone, today := e2eZone(time.Now())
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	publicURL := "http://" + ln.Addr().String()

	sim := twiliosim.New(twiliosim.Config{AccountSID: e2eAccountSID, AuthToken: e2eAuthToken, Speed: 50,
		InboundURL: publicURL + twilio.InboundPath})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	mr := miniredis.NewMiniRedis()
	require.NoError(t, mr.Start())
	t.Cleanup(mr.Close)
	t.Cleanup(fastForward(mr))
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })

	// The receiver is down for two minutes at the test's time scale: the
	// back-off below runs 50 times faster than the default (100 ms for 5 s),
	// so 2.4 s stand for 2 minutes.
	receiver := &webhookReceiver{failFor: 2400 * time.Millisecond}
	hooks := httptest.NewTLSServer(receiver)
	t.Cleanup(hooks.Close)
	roots := x509.NewCertPool()
	roots.AddCert(hooks.Certificate())

	cfg := Config{
		Database: e2eDatabase(t, dir), Addr: ln.Addr().String(), PublicURL: publicURL,
		Secret:    "webhook-test-secret-0123456789abcdef",
		Lenders:   []LenderConfig{{ID: e2eLender, Name: "E2E Auto Finance", Language: "en", Timezone: "America/New_York", HelpPhone: "+18005550100", AgentPhone: "+18005550101", VoicemailCallerName: "Sam Rivera"}},
		Scheduler: SchedulerConfig{Spec: "@every 1s"},
		Reconcile: ReconcileConfig{Every: 2 * time.Second, Settle: time.Minute},
		Worker:    WorkerConfig{Concurrency: 4, ShutdownTimeout: 2 * time.Second},
		Twilio:    TwilioConfig{AccountSID: e2eAccountSID, AuthToken: e2eAuthToken, From: e2eFrom, BaseURL: sim.URL(), Timeout: 5 * time.Second},
		Log:       LogConfig{Level: "warn", Format: "json"},
		// Back-off in milliseconds so the test waits seconds, not minutes;
		// the local test server is on loopback.
		Webhooks: webhook.Config{BackoffInitial: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond,
			FanoutEvery: 200 * time.Millisecond, AllowPrivateAddresses: true},
	}.WithDefaults()
	logs := &lockedBuffer{}
	a := &app{stdout: io.Discard, stderr: logs}
	rt, err := a.newRuntime(ctx, cfg, runtimeOptions{rdb: rdb, webhookRoots: roots,
		cadences: map[string][]cadenceSource{e2eLender: {{name: "webhook.yaml", data: []byte(webhookCadence)}}}})
	require.NoError(t, err)
	t.Cleanup(rt.Close)

	behaviours := []twiliosim.Behaviour{twiliosim.BehaviourSilent, twiliosim.BehaviourPromise, twiliosim.BehaviourStop,
		twiliosim.BehaviourPaid, twiliosim.BehaviourWrongNumber}
	accts := make([]nudge.Account, len(behaviours))
	var personal []string
	for i, b := range behaviours {
		number, email := fmt.Sprintf("+1800202%04d", i), fmt.Sprintf("borrower.%d@hooks.example", i)
		accts[i] = nudge.Account{
			ID: fmt.Sprintf("WH-%04d", i), Lender: e2eLender, Portfolio: "auto",
			Borrower: nudge.Borrower{Name: fmt.Sprintf("Wilma Hook%d", i), Language: "en", Timezone: zone},
			Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: number, Consent: true}, {Channel: nudge.Voice, Address: number, Consent: true},
				{Channel: nudge.Email, Address: email}},
			Currency: "USD", AmountDue: "250.00", DueDate: today, Status: nudge.StatusActive,
		}
		sim.Script(number, twiliosim.Borrower{Number: number, Behaviour: b, Language: "en"})
		personal = append(personal, number, email, strings.TrimPrefix(number, "+"))
	}
	now := time.Now().UTC()
	apiKey, key, err := web.NewAPIKey(e2eLender, nudge.RoleAdmin, now)
	require.NoError(t, err)
	require.NoError(t, rt.db.CreateAPIKey(ctx, key))

	client := &http.Client{Timeout: 10 * time.Second}
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, publicURL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- runRoles(runCtx, func(ctx context.Context) error { return rt.runAPI(ctx, ln) }, rt.runScheduler, rt.runWorker)
	}()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})

	// The lender registers its endpoint before importing its accounts.
	var code int
	var body string
	require.Eventually(t, func() bool {
		code, body = call("POST", "/v1/webhook-endpoints", `{"url": "`+hooks.URL+`/nudge", "description": "CRM"}`)
		return code == http.StatusCreated
	}, 10*time.Second, 50*time.Millisecond, "register: %d %s", code, body)
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ep))
	verifier, err := standardwebhooks.NewWebhook(ep.Secret)
	require.NoError(t, err)
	require.NoError(t, rt.db.UpsertAccounts(ctx, accts, now.Add(-time.Second)))

	// The feed from the start, through the API.
	feed := func() []nudge.PublicEvent {
		t.Helper()
		var out []nudge.PublicEvent
		after := "0"
		for {
			code, body := call("GET", "/v1/events?limit=500&after="+after, "")
			require.Equal(t, http.StatusOK, code, body)
			var page struct {
				Events     []nudge.PublicEvent `json:"events"`
				NextCursor string              `json:"next_cursor"`
				More       bool                `json:"more"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &page))
			out = append(out, page.Events...)
			after = page.NextCursor
			if !page.More {
				return out
			}
		}
	}

	// allDelivered reports whether every event of the feed has reached the
	// endpoint, and returns the feed.
	allDelivered := func() ([]nudge.PublicEvent, bool) {
		events := feed()
		delivered := map[string]bool{}
		for _, h := range receiver.hooks() {
			if h.ok {
				var ev nudge.PublicEvent
				require.NoError(t, json.Unmarshal(h.body, &ev))
				delivered[ev.ID] = true
			}
		}
		for _, ev := range events {
			if !delivered[ev.ID] {
				return events, false
			}
		}
		return events, len(events) > 0
	}

	// Run until every reminder is final, the simulated borrowers are done
	// and every event of the feed has reached the endpoint.
	deadline := time.Now().Add(e2eWait)
	var events []nudge.PublicEvent
	for {
		final := 0
		for _, acct := range accts {
			rs, err := rt.db.ListReminders(ctx, acct.Lender, acct.ID)
			require.NoError(t, err)
			for _, r := range rs {
				if r.Status.Terminal() {
					final++
				}
			}
		}
		if final == 2*len(accts) && sim.Idle(ctxTimeout(t, 10*time.Millisecond)) == nil {
			var ok bool
			if events, ok = allDelivered(); ok {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "%d of %d reminders final, %d events, %d webhooks; log:\n%s",
			final, 2*len(accts), len(events), len(receiver.hooks()), logs.String())
		time.Sleep(200 * time.Millisecond)
	}
	// The lender's own changes are events too.
	code, body = call("POST", "/v1/accounts/"+accts[0].ID+"/holds", `{"kind": "dispute", "reason": "disputed by phone"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = call("DELETE", "/v1/accounts/"+accts[0].ID+"/holds/dispute?reason=resolved", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Eventually(t, func() bool {
		var ok bool
		events, ok = allDelivered()
		return ok
	}, 30*time.Second, 100*time.Millisecond, "the hold's events are delivered")

	// Every webhook is signed; repeats share id and body; first receipts
	// are the feed, in each account's order.
	byID := map[string]string{}
	firstByAccount := map[string][]string{}
	failed := 0
	for i, h := range receiver.hooks() {
		require.NoError(t, verifier.Verify(h.body, h.header), "webhook %d verifies", i)
		id := h.header.Get("webhook-id")
		require.NotEmpty(t, id)
		if !h.ok {
			failed++
		}
		if prev, seen := byID[id]; seen {
			require.Equal(t, prev, string(h.body), "a repeat of %s carries the same event", id)
			continue
		}
		byID[id] = string(h.body)
		var ev nudge.PublicEvent
		require.NoError(t, json.Unmarshal(h.body, &ev))
		firstByAccount[ev.AccountID] = append(firstByAccount[ev.AccountID], ev.ID)
		require.Empty(t, logmask.Leaks(string(h.body), personal...), "webhook %s", ev.Type)
	}
	require.Positive(t, failed, "the endpoint failed for a while")
	t.Logf("%d of %d requests failed while the receiver was down", failed, len(receiver.hooks()))
	require.Len(t, byID, len(events), "one webhook-id per event: none lost, none made twice")
	feedByAccount := map[string][]string{}
	types := map[nudge.PublicEventType]bool{}
	for _, ev := range events {
		feedByAccount[ev.AccountID] = append(feedByAccount[ev.AccountID], ev.ID)
		types[ev.Type] = true
	}
	require.Equal(t, feedByAccount, firstByAccount, "the webhooks of each account come in the feed's order")
	for _, want := range []nudge.PublicEventType{nudge.PublicReminderPlanned, nudge.PublicReminderSent, nudge.PublicReminderDelivered,
		nudge.PublicReplyUnderstood, nudge.PublicOptOut, nudge.PublicPromiseMade, nudge.PublicPaymentClaimed, nudge.PublicHoldPlaced, nudge.PublicHoldCleared} {
		require.True(t, types[want], "the run made a %s event; got %v", want, types)
	}

	// Erase the borrower who opted out: the feed and a replayed webhook of
	// theirs hold nothing personal.
	erased := accts[2]
	code, body = call("DELETE", "/v1/accounts/"+erased.ID+"/personal-data", "")
	require.Equal(t, http.StatusOK, code, body)
	all := feed()
	raw, err := json.Marshal(all)
	require.NoError(t, err)
	require.Empty(t, logmask.Leaks(string(raw), personal...), "the feed after erasure")
	for _, acct := range []nudge.Account{erased} {
		evs, err := rt.db.Events(ctx, acct.Lender, acct.ID)
		require.NoError(t, err)
		for _, e := range evs {
			require.Empty(t, logmask.Leaks(string(e.Detail), personal...), "stored event %s", e.Kind)
		}
	}
	code, body = call("GET", "/v1/webhook-endpoints/"+ep.ID+"/deliveries?status=delivered&limit=500", "")
	require.Equal(t, http.StatusOK, code, body)
	var ds struct {
		Deliveries []struct {
			ID        string `json:"id"`
			AccountID string `json:"account_id"`
		} `json:"deliveries"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ds))
	replayed := ""
	for _, d := range ds.Deliveries {
		if d.AccountID == erased.ID {
			replayed = d.ID
			break
		}
	}
	require.NotEmpty(t, replayed, "the erased borrower had deliveries")
	before := len(receiver.hooks())
	code, body = call("POST", "/v1/webhook-endpoints/"+ep.ID+"/deliveries/"+replayed+"/replay", "")
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, func() bool {
		for _, h := range receiver.hooks()[before:] {
			if h.header.Get("webhook-id") == replayed {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "the replay arrives")
	for _, h := range receiver.hooks()[before:] {
		require.NoError(t, verifier.Verify(h.body, h.header))
		require.Empty(t, logmask.Leaks(string(h.body), personal...), "a webhook sent after erasure")
	}
}

// ctxTimeout returns a context that ends after d.
func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestWebhooksConfig reads the webhooks section from a file and the
// environment, and refuses bad values by their names before anything is
// opened.
func TestWebhooksConfig(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "nudge.yaml", `webhooks:
  backoff_initial: 3h
  backoff_max: 1h
  disable_after_failures: 0
`)
	cfg, err := LoadConfig(path, func(k string) (string, bool) { return "-1s", k == "NUDGE_WEBHOOKS_TIMEOUT" })
	require.NoError(t, err)
	require.Equal(t, 3*time.Hour, cfg.Webhooks.BackoffInitial)
	require.Equal(t, -time.Second, cfg.Webhooks.Timeout)
	require.Equal(t, webhook.DefaultDisableAfterFailures, cfg.Webhooks.DisableAfterFailures, "unset means the default")
	require.Equal(t, webhook.DefaultFanoutEvery, cfg.Webhooks.FanoutEvery)
	cfg.Secret = strings.Repeat("k", 32)
	a := &app{stdout: io.Discard, stderr: io.Discard}
	_, err = a.newRuntime(context.Background(), cfg, runtimeOptions{})
	require.ErrorContains(t, err, "webhooks.backoff_initial 3h0m0s is more than webhooks.backoff_max 1h0m0s")
	require.ErrorContains(t, err, "webhooks.timeout is -1s")

	_, err = LoadConfig(writeFile(t, "bad.yaml", "webhooks:\n  retries: 3\n"), func(string) (string, bool) { return "", false })
	require.ErrorContains(t, err, "retries")
}
