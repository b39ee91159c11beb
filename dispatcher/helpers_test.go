package dispatcher

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/sandbox"
	"github.com/nudgehq/nudge/compliance"
)

const (
	testLender = "acme"
	smsAddr    = "+12125550123"
	emailAddr  = "jane@example.com"
)

// noon is 12:00 in New York, inside every US window.
var noon = time.Date(2026, 6, 2, 16, 0, 0, 0, time.UTC)

// bundle is what a pipeline test works with.
type bundle struct {
	store  *memStore
	clock  *nudge.FixedClock
	sms    *sandbox.Sender
	email  *sandbox.Sender
	pipe   *Pipeline
	mu     sync.Mutex
	sleeps []time.Duration
	// renderErr, when set before the pipeline runs, fails every render.
	renderErr error
}

func setup(t testing.TB, mods ...func(*PipelineConfig)) *bundle {
	t.Helper()
	b := &bundle{store: newMemStore(), clock: nudge.NewFixedClock(noon), sms: sandbox.New(), email: sandbox.New()}
	cfg := PipelineConfig{
		Store: b.store,
		Profiles: ProfilesFunc(func(_ context.Context, _, _ string) (*compliance.Profile, error) {
			return compliance.Builtin("us")
		}),
		Renderer: RendererFunc(func(_ context.Context, in RenderInput) (*nudge.Message, error) {
			if b.renderErr != nil {
				return nil, b.renderErr
			}
			return &nudge.Message{From: "+18005550000", Locale: "en", Template: "due_sms@en:0123456789ab",
				Text: "Hi " + in.Account.Borrower.Name + ", $" + in.Account.AmountDue + " is due. Reply STOP to opt out."}, nil
		}),
		Senders: map[nudge.ChannelKind]nudge.Sender{nudge.SMS: b.sms, nudge.Email: b.email},
		Clock:   b.clock,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mods {
		m(&cfg)
	}
	p, err := NewPipeline(cfg)
	require.NoError(t, err)
	p.sleep = func(ctx context.Context, d time.Duration) error {
		b.mu.Lock()
		b.sleeps = append(b.sleeps, d)
		b.mu.Unlock()
		b.clock.Advance(d)
		return ctx.Err()
	}
	b.pipe = p
	return b
}

func testAccount(id string) nudge.Account {
	return nudge.Account{
		ID:       id,
		Lender:   testLender,
		Borrower: nudge.Borrower{Name: "Jane", Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: smsAddr, Consent: true},
			{Channel: nudge.Email, Address: emailAddr},
		},
		Currency:  "USD",
		AmountDue: "412.50",
		DueDate:   nudge.MustDate("2026-06-01"),
		Status:    nudge.StatusActive,
	}
}

func testReminder(accountID, step string) nudge.Reminder {
	k := nudge.ReminderKey{Lender: testLender, AccountID: accountID, Cadence: "standard", Step: step, Cycle: nudge.MustDate("2026-06-01")}
	return nudge.Reminder{
		ID: k.ID(), Key: k, CadenceVersion: 1, Channel: nudge.SMS, Fallback: nudge.Email, Template: "due",
		DueAt: noon, ExpiresAt: noon.Add(12 * time.Hour), Status: nudge.ReminderQueued, CreatedAt: noon.Add(-time.Hour),
	}
}

// add stores an account and one reminder for it, after applying the mods.
func (b *bundle) add(accountID string, acct func(*nudge.Account), rem func(*nudge.Reminder)) nudge.Reminder {
	a := testAccount(accountID)
	if acct != nil {
		acct(&a)
	}
	b.store.putAccount(a)
	r := testReminder(accountID, "day1")
	if rem != nil {
		rem(&r)
	}
	b.store.putReminder(r)
	return r
}

// withRetry returns ctx as Asynq would give it on a run after retried failures.
func withRetry(ctx context.Context, retried, maxRetry int) context.Context {
	return context.WithValue(ctx, retryStateKey{}, [2]int{retried, maxRetry})
}

var realRedisMu sync.Mutex

// testRedis returns a Redis client: the server at NUDGE_TEST_REDIS_ADDR when
// set (database 13; tests that run an Asynq server on it hold a lock so they
// do not take each other's tasks), otherwise a fresh miniredis.
func testRedis(t testing.TB, exclusive bool) redis.UniversalClient {
	t.Helper()
	if addr := os.Getenv("NUDGE_TEST_REDIS_ADDR"); addr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: 13})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		require.NoError(t, rdb.Ping(ctx).Err(), "NUDGE_TEST_REDIS_ADDR=%s is set but Redis does not answer", addr)
		if exclusive {
			realRedisMu.Lock()
			t.Cleanup(realRedisMu.Unlock)
		}
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}
	if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_REDIS_ADDR is not set")
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
