package twilio_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

func TestPoolConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pool    []twilio.PoolSender
		from    string
		wantErr string
	}{
		{name: "valid", pool: []twilio.PoolSender{{From: "+14155550101", MPS: 1, Class: twilio.Class10DLC, DailyCap: 100}, {From: "+18005550100", MPS: 225, Class: twilio.ClassTollFree}}},
		{name: "mps above 225", pool: []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550102", MPS: 300}}, wantErr: "twilio.senders[0].pool[1].mps: 300 is above 225"},
		{name: "mps below 1", pool: []twilio.PoolSender{{From: "+14155550101", MPS: 0.5}}, wantErr: "twilio.senders[0].pool[0].mps: 0.5 is below 1"},
		{name: "bad class", pool: []twilio.PoolSender{{From: "+14155550101", Class: "long"}}, wantErr: `twilio.senders[0].pool[0].class "long" must be`},
		{name: "negative cap", pool: []twilio.PoolSender{{From: "+14155550101", DailyCap: -1}}, wantErr: "twilio.senders[0].pool[0].daily_cap must not be negative"},
		{name: "no sender", pool: []twilio.PoolSender{{MPS: 5}}, wantErr: "twilio.senders[0].pool[0]: need messaging_service_sid or from"},
		{name: "duplicate", pool: []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550101"}}, wantErr: "twilio.senders[0].pool[1]: sender +14155550101 is already pool[0]"},
		{name: "pool and from", from: "+14155550109", pool: []twilio.PoolSender{{From: "+14155550101"}}, wantErr: "twilio.senders[0]: a route has either a pool or from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			c.Senders = []twilio.SenderRoute{{Lender: "acme", From: tt.from, Pool: tt.pool}}
			err := c.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

type poolBundle struct {
	sim     *twiliosim.Sim
	url     string
	sms     *twilio.SMS
	pool    []twilio.PoolSender
	clock   *nudge.FixedClock
	mu      sync.Mutex
	changes []twilio.SenderChange
}

// healthKinds are the Health implementations the pool tests run on.
var healthKinds = []string{"breaker", "redis"}

func setupPool(t *testing.T, kind string, pool []twilio.PoolSender) *poolBundle {
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
	b := &poolBundle{sim: sim, url: srv.URL, pool: pool, clock: nudge.NewFixedClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))}
	bc := twilio.BreakerConfig{Threshold: 2, Cooldown: 30 * time.Second, Now: b.clock.Now,
		OnChange: func(c twilio.SenderChange) {
			b.mu.Lock()
			b.changes = append(b.changes, c)
			b.mu.Unlock()
		}}
	var health twilio.Health = twilio.NewBreaker(bc)
	if kind == "redis" {
		mr := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		health = twilio.NewRedisHealth(rdb, bc)
	}
	cfg := validConfig()
	cfg.BaseURL = srv.URL
	cfg.Senders = []twilio.SenderRoute{{Lender: "acme", Pool: pool}}
	s, err := twilio.New(cfg, twilio.WithHealth(health))
	require.NoError(t, err)
	b.sms = s
	return b
}

// borrowerOf returns a number whose sticky sender is want.
func borrowerOf(t *testing.T, pool []twilio.PoolSender, want string) string {
	t.Helper()
	for i := range 1000 {
		to := fmt.Sprintf("+1415555%04d", 2000+i)
		if twilio.StickySender("acme", to, pool).ID() == want {
			return to
		}
	}
	require.FailNow(t, "no borrower sticks to "+want)
	return ""
}

func (b *poolBundle) lastFrom(t *testing.T) (string, int) {
	t.Helper()
	reqs := b.sim.Requests()
	require.NotEmpty(t, reqs)
	last := reqs[len(reqs)-1]
	return last.From, last.Status
}

func TestPoolStickyFailoverAndRecovery(t *testing.T) {
	t.Parallel()
	for _, kind := range healthKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testPoolFailover(t, kind)
		})
	}
}

func testPoolFailover(t *testing.T, kind string) {
	pool := []twilio.PoolSender{{From: "+14155550101", MPS: 5}, {From: "+14155550102", MPS: 7}}
	b := setupPool(t, kind, pool)
	ctx := context.Background()
	first, second := pool[0].From, pool[1].From
	to := borrowerOf(t, pool, first)
	other := borrowerOf(t, pool, second)

	// Healthy: each borrower gets its sticky sender, rate-limited per sender.
	for _, c := range []struct{ to, from string }{{to, first}, {other, second}, {to, first}} {
		m := message(c.to, "acme")
		key, mps := b.sms.SenderRate(m)
		require.Equal(t, "twilio:sms:"+c.from, key)
		require.Equal(t, c.from, m.From)
		want := pool[0].MPS
		if c.from == second {
			want = pool[1].MPS
		}
		require.InDelta(t, want, mps, 0)
		_, err := b.sms.Send(ctx, m)
		require.NoError(t, err)
		from, _ := b.lastFrom(t)
		require.Equal(t, c.from, from)
	}

	// The first sender fails: two refusals (the threshold) open its breaker;
	// each refusal is retryable, never maybe-accepted.
	b.sim.FailSender(first, time.Now().Add(time.Hour))
	for range 2 {
		_, err := b.sms.Send(ctx, message(to, "acme"))
		pe, ok := nudge.AsProviderError(err)
		require.True(t, ok)
		require.True(t, pe.Retry)
		require.False(t, pe.MaybeAccepted)
	}
	b.mu.Lock()
	require.Len(t, b.changes, 1)
	require.Equal(t, first, b.changes[0].Sender)
	require.True(t, b.changes[0].Tripped)
	b.mu.Unlock()

	// While open, the borrower's messages go out from the second sender.
	m := message(to, "acme")
	key, _ := b.sms.SenderRate(m)
	require.Equal(t, "twilio:sms:"+second, key)
	_, err := b.sms.Send(ctx, m)
	require.NoError(t, err)
	from, status := b.lastFrom(t)
	require.Equal(t, second, from)
	require.Equal(t, 201, status)

	// After the cool-down the first sender is tried again; it still fails,
	// so the breaker opens again for another cool-down at once.
	b.clock.Advance(31 * time.Second)
	_, err = b.sms.Send(ctx, message(to, "acme"))
	require.Error(t, err)
	_, err = b.sms.Send(ctx, message(to, "acme"))
	require.NoError(t, err)
	from, _ = b.lastFrom(t)
	require.Equal(t, second, from)

	// The sender recovers: the next try succeeds and the borrower is back on it.
	b.sim.FailSender(first, time.Time{})
	b.clock.Advance(31 * time.Second)
	for range 2 {
		_, err = b.sms.Send(ctx, message(to, "acme"))
		require.NoError(t, err)
		from, _ = b.lastFrom(t)
		require.Equal(t, first, from)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(t, b.changes, 2)
	require.False(t, b.changes[1].Tripped)
	require.Equal(t, first, b.changes[1].Sender)
}

func TestPoolDailyCap(t *testing.T) {
	t.Parallel()
	for _, kind := range healthKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testPoolDailyCap(t, kind)
		})
	}
}

func testPoolDailyCap(t *testing.T, kind string) {
	pool := []twilio.PoolSender{{From: "+14155550101", DailyCap: 2}, {From: "+14155550102"}}
	b := setupPool(t, kind, pool)
	ctx := context.Background()
	to := borrowerOf(t, pool, pool[0].From)
	var froms []string
	for range 3 {
		_, err := b.sms.Send(ctx, message(to, "acme"))
		require.NoError(t, err)
		from, _ := b.lastFrom(t)
		froms = append(froms, from)
	}
	require.Equal(t, []string{pool[0].From, pool[0].From, pool[1].From}, froms)

	// The next UTC day the cap starts again.
	b.clock.Advance(24 * time.Hour)
	_, err := b.sms.Send(ctx, message(to, "acme"))
	require.NoError(t, err)
	from, _ := b.lastFrom(t)
	require.Equal(t, pool[0].From, from)
}

// TestRedisHealthIsShared checks that a sender tripped by one process's
// failures is avoided by another process on the same Redis, and that the
// change is reported once.
func TestRedisHealthIsShared(t *testing.T) {
	t.Parallel()
	pool := []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550102"}}
	a := setupPool(t, "breaker", pool)
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	var mu sync.Mutex
	var changes []twilio.SenderChange
	bc := twilio.BreakerConfig{Threshold: 2, Now: a.clock.Now, OnChange: func(c twilio.SenderChange) {
		mu.Lock()
		changes = append(changes, c)
		mu.Unlock()
	}}
	cfg := validConfig()
	cfg.BaseURL = a.url
	cfg.Senders = []twilio.SenderRoute{{Lender: "acme", Pool: pool}}
	one, err := twilio.New(cfg, twilio.WithHealth(twilio.NewRedisHealth(rdb, bc)))
	require.NoError(t, err)
	other, err := twilio.New(cfg, twilio.WithHealth(twilio.NewRedisHealth(rdb, bc)))
	require.NoError(t, err)

	to := borrowerOf(t, pool, pool[0].From)
	a.sim.FailSender(pool[0].From, time.Now().Add(time.Hour))
	for range 2 {
		_, err := one.Send(context.Background(), message(to, "acme"))
		require.Error(t, err)
	}
	m := message(to, "acme")
	key, _ := other.SenderRate(m)
	require.Equal(t, "twilio:sms:"+pool[1].From, key, "the other process avoids the tripped sender")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, changes, 1)
	require.True(t, changes[0].Tripped)
}

// TestPoolFilteredSenderIsTakenOut: a pool sender whose messages carriers
// filter (30007, reported by status callbacks) above the share is taken out
// like a failing one, with the operator told; one filtered now and then
// among many delivered is not enough, nor is a share below the minimum
// count. Senders outside a pool are not tracked.
func TestPoolFilteredSenderIsTakenOut(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"breaker", "redis"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			pool := []twilio.PoolSender{{From: "+14155550101"}, {From: "+14155550102"}}
			b := setupPool(t, kind, pool)
			ctx := context.Background()
			to := borrowerOf(t, pool, pool[0].From)
			sticky := func() string {
				key, _ := b.sms.SenderRate(message(to, "acme"))
				return key
			}
			require.Equal(t, "twilio:sms:"+pool[0].From, sticky())

			// 40 delivered and 9 filtered: under the minimum, and under the share.
			for range 40 {
				b.sms.ReportDelivery(ctx, pool[0].From, false)
			}
			for range 9 {
				b.sms.ReportDelivery(ctx, pool[0].From, true)
			}
			b.sms.ReportDelivery(ctx, "+14155550199", true) // not in a pool
			require.Equal(t, "twilio:sms:"+pool[0].From, sticky(), "a few filtered among many delivered")
			b.sms.ReportDelivery(ctx, pool[0].From, true)
			require.Equal(t, "twilio:sms:"+pool[0].From, sticky(), "10 of 50 filtered is below the 30% share")

			// A new window: 10 filtered of 15.
			b.clock.Advance(twilio.DefaultFilterWindow)
			for range 5 {
				b.sms.ReportDelivery(ctx, pool[0].From, false)
			}
			for range 10 {
				b.sms.ReportDelivery(ctx, pool[0].From, true)
			}
			require.Equal(t, "twilio:sms:"+pool[1].From, sticky(), "carriers filter the first sender: its borrowers move")
			b.mu.Lock()
			require.Len(t, b.changes, 1)
			require.True(t, b.changes[0].Tripped)
			require.Equal(t, pool[0].From, b.changes[0].Sender)
			require.Equal(t, 10, b.changes[0].Filtered)
			b.mu.Unlock()
		})
	}
}
