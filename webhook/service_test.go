package webhook_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/webhook"
)

// t0 is where the tests' clock starts.
var t0 = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

// fakeQueue records the tasks the service queues.
type fakeQueue struct {
	mu    sync.Mutex
	tasks map[string]time.Time // delivery id → when due (one task per delivery at a time)
}

func (q *fakeQueue) EnqueueDelivery(_ context.Context, d nudge.WebhookDelivery, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks[d.ID] = at
	return nil
}

// due takes the tasks due at now.
func (q *fakeQueue) due(now time.Time) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for id, at := range q.tasks {
		if !at.After(now) {
			out = append(out, id)
			delete(q.tasks, id)
		}
	}
	return out
}

// received is one request the test endpoint got.
type received struct {
	id, timestamp, signature string
	body                     []byte
}

type bundle struct {
	db     *store.DB
	svc    *webhook.Service
	queue  *fakeQueue
	clock  *nudge.FixedClock
	server *httptest.Server
	secret string
	sealer *payment.Sealer

	mu   sync.Mutex
	got  []received
	fail int // how many requests still fail with 503
}

func setup(t *testing.T, cfg webhook.Config) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "n.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	b := &bundle{db: db, queue: &fakeQueue{tasks: map[string]time.Time{}}, clock: nudge.NewFixedClock(t0)}
	b.server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.got = append(b.got, received{id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
			signature: r.Header.Get("webhook-signature"), body: body})
		if b.fail > 0 {
			b.fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(b.server.Close)
	pool := x509.NewCertPool()
	pool.AddCert(b.server.Certificate())
	cfg.AllowPrivateAddresses = true
	b.sealer, err = payment.NewSealer([]byte("webhook-test-secret-0123456789abcdef"))
	require.NoError(t, err)
	b.svc, err = webhook.NewService(webhook.Service{Store: db, Secrets: b.sealer, Queue: b.queue, Config: cfg, Clock: b.clock, RootCAs: pool,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b.secret, err = webhook.NewSecret()
	require.NoError(t, err)
	return b
}

// endpoint registers the test server for lender acme.
func (b *bundle) endpoint(t *testing.T, types ...nudge.PublicEventType) nudge.WebhookEndpoint {
	t.Helper()
	sealed, err := b.sealer.Seal("acme", b.secret)
	require.NoError(t, err)
	ep, err := b.db.CreateWebhookEndpoint(context.Background(), nudge.WebhookEndpoint{ID: "whe_test", Lender: "acme",
		URL: b.server.URL + "/hooks", Secret: sealed, EventTypes: types, Enabled: true, CreatedAt: b.clock.Now()})
	require.NoError(t, err)
	return ep
}

// sent appends an attempt event (reminder.sent) for account.
func (b *bundle) sent(t *testing.T, account string, n int) {
	t.Helper()
	require.NoError(t, b.db.AppendEvent(context.Background(), nudge.Event{Lender: "acme", AccountID: account,
		ReminderID: fmt.Sprintf("rem_%s_%d", account, n), Kind: nudge.EventAttempt,
		Detail: json.RawMessage(`{"status":"sent","channel":"sms","to":"+15125550100"}`), At: b.clock.Now()}))
}

// run fans out and runs the due tasks until nothing is due at the clock's
// time.
func (b *bundle) run(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.svc.Fanout(ctx))
	for {
		ids := b.queue.due(b.clock.Now())
		if len(ids) == 0 {
			return
		}
		for _, id := range ids {
			payload, err := json.Marshal(map[string]string{"delivery_id": id})
			require.NoError(t, err)
			require.NoError(t, b.svc.ProcessTask(ctx, asynq.NewTask(webhook.TypeDeliver, payload)))
		}
	}
}

// next returns when the earliest queued task is due.
func (q *fakeQueue) next() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var first time.Time
	for _, at := range q.tasks {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first, !first.IsZero()
}

func (b *bundle) requests() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.got...)
}

// TestDeliveriesSignedOrderedRetried sends events of two accounts to an
// endpoint that fails for a while: every event arrives, signed, in order
// per account, repeats only under the same webhook-id, and the back-off
// doubles from the initial wait.
func TestDeliveriesSignedOrderedRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Config{})
	b.sent(t, "A-0", 0) // before the endpoint: not sent
	b.endpoint(t, nudge.PublicReminderSent)
	require.NoError(t, b.db.AppendEvent(context.Background(), nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventPause, At: t0}))
	for i := range 3 {
		b.sent(t, "A-1", i)
		b.sent(t, "A-2", i)
	}
	b.fail = 4
	b.run(t)
	// A-1's and A-2's first deliveries failed at t0; the others wait.
	require.Len(t, b.requests(), 2)
	var waits []time.Duration
	for range 10 {
		next, ok := b.queue.next()
		if !ok {
			break
		}
		if w := next.Sub(b.clock.Now()); len(waits) == 0 || waits[len(waits)-1] != w {
			waits = append(waits, w)
		}
		b.clock.Set(next)
		b.run(t)
	}
	require.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second}, waits, "two failures each: 5 s, then 10 s")

	wh, err := standardwebhooks.NewWebhook(b.secret)
	require.NoError(t, err)
	firstSeen := map[string]int{}
	order := map[string][]string{}
	bodies := map[string]string{}
	for i, r := range b.requests() {
		require.NoError(t, wh.VerifyIgnoringTimestamp(r.body, http.Header{"Webhook-Id": {r.id}, "Webhook-Timestamp": {r.timestamp},
			"Webhook-Signature": {r.signature}}), "request %d is signed", i)
		ts, err := strconv.ParseInt(r.timestamp, 10, 64)
		require.NoError(t, err)
		require.False(t, time.Unix(ts, 0).After(b.clock.Now()), "signed at the service's clock")
		require.NotContains(t, string(r.body), "+1512", "no number in a body")
		if prev, ok := bodies[r.id]; ok {
			require.Equal(t, prev, string(r.body), "a repeat carries the same event")
			continue
		}
		bodies[r.id] = string(r.body)
		firstSeen[r.id] = i
		var ev nudge.PublicEvent
		require.NoError(t, json.Unmarshal(r.body, &ev))
		require.Equal(t, nudge.PublicReminderSent, ev.Type)
		order[ev.AccountID] = append(order[ev.AccountID], ev.Data["reminder_id"].(string))
	}
	require.Len(t, bodies, 6, "every event delivered once under its own id")
	for _, acct := range []string{"A-1", "A-2"} {
		require.Equal(t, []string{"rem_" + acct + "_0", "rem_" + acct + "_1", "rem_" + acct + "_2"}, order[acct], "in order for %s", acct)
	}
	ds, err := b.db.ListWebhookDeliveries(context.Background(), "acme", "whe_test", nudge.WebhookDelivered, 100)
	require.NoError(t, err)
	require.Len(t, ds, 6)
	ep, err := b.db.GetWebhookEndpoint(context.Background(), "acme", "whe_test")
	require.NoError(t, err)
	require.Zero(t, ep.Failures, "the success reset the failure count")
}

// TestGiveUpAndReplay gives a delivery up after GiveUpAfter, lets the
// account's next one go, and sends the failed one again when replayed.
func TestGiveUpAndReplay(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Config{GiveUpAfter: time.Minute})
	b.endpoint(t)
	b.sent(t, "A-1", 0)
	b.fail = 1000
	b.run(t)
	for range 20 {
		b.clock.Set(b.clock.Now().Add(20 * time.Second))
		b.run(t)
	}
	failed, err := b.db.ListWebhookDeliveries(context.Background(), "acme", "whe_test", nudge.WebhookFailed, 10)
	require.NoError(t, err)
	require.Len(t, failed, 1)
	require.Equal(t, 4, failed[0].Attempts, "tries at 0, 5, 15 and 35 s; the next (75 s) is past the minute")
	require.Equal(t, http.StatusServiceUnavailable, failed[0].LastStatus)

	b.fail = 0
	b.sent(t, "A-1", 1)
	b.run(t)
	_, err = b.db.ReplayWebhookDelivery(context.Background(), "acme", failed[0].ID, b.clock.Now(), b.clock.Now().Add(time.Minute))
	require.NoError(t, err)
	b.run(t)
	got, err := b.db.GetWebhookDelivery(context.Background(), failed[0].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.WebhookDelivered, got.Status)
	reqs := b.requests()
	require.Equal(t, failed[0].ID, reqs[len(reqs)-1].id, "the replay went out last, under its own id")
}

// TestDisableAfterFailures disables an endpoint that fails 50 times in a
// row over a day, once, with an audit entry the lender can read.
func TestDisableAfterFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Config{BackoffInitial: time.Minute, BackoffMax: time.Hour})
	b.endpoint(t)
	b.fail = 1 << 30
	for i := range 60 {
		b.sent(t, fmt.Sprintf("A-%d", i), 0)
	}
	b.run(t) // 60 accounts fail at once: past the count, not yet a day
	ep, err := b.db.GetWebhookEndpoint(context.Background(), "acme", "whe_test")
	require.NoError(t, err)
	require.True(t, ep.Enabled, "60 failures within a minute do not disable it")
	b.clock.Set(t0.Add(25 * time.Hour))
	b.run(t)
	ep, err = b.db.GetWebhookEndpoint(context.Background(), "acme", "whe_test")
	require.NoError(t, err)
	require.False(t, ep.Enabled)
	require.Contains(t, ep.DisabledReason, "consecutive failed deliveries")
	audit, err := b.db.ListAudit(context.Background(), "acme")
	require.NoError(t, err)
	n := 0
	for _, a := range audit {
		if a.Action == webhook.AuditDisable {
			n++
			require.Equal(t, "whe_test", a.Target)
		}
	}
	require.Equal(t, 1, n, "disabled once")
	before := len(b.requests())
	b.clock.Set(t0.Add(48 * time.Hour))
	b.run(t)
	require.Len(t, b.requests(), before, "a disabled endpoint gets nothing")
}

// TestLongChainContinues sends more of one account's deliveries than one
// task sends in a row: the rest go on in the next task, in order.
func TestLongChainContinues(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Config{})
	b.endpoint(t)
	for i := range 45 {
		b.sent(t, "A-1", i)
	}
	b.run(t)
	reqs := b.requests()
	require.Len(t, reqs, 45)
	for i, r := range reqs {
		var ev nudge.PublicEvent
		require.NoError(t, json.Unmarshal(r.body, &ev))
		require.Equal(t, fmt.Sprintf("rem_A-1_%d", i), ev.Data["reminder_id"])
	}
}
