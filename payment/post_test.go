package payment_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

// fakeTasks records the tasks deleted from the queues.
type fakeTasks struct {
	mu  sync.Mutex
	ids []string
}

func (f *fakeTasks) Cancel(_ context.Context, _ string, _ nudge.ChannelKind, ids ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, ids...)
	return nil
}

type postBundle struct {
	db    *store.DB
	tasks *fakeTasks
	acct  nudge.Account
	now   time.Time
}

// setupPost stores account A-1 of acme (412.50 USD due) with one queued reminder.
func setupPost(t *testing.T) *postBundle {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: "acme", Name: "Acme", CreatedAt: now}))
	acct := storetest.Account("acme", "A-1")
	acct.Holds = []nudge.Hold{{Kind: nudge.HoldPaymentClaimed, Reason: "borrower said so"}}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, now))
	acct, err = db.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	b := &postBundle{db: db, tasks: &fakeTasks{}, acct: acct, now: now}
	b.queue(t, "late-3")
	return b
}

func (b *postBundle) queue(t *testing.T, step string) {
	t.Helper()
	r := storetest.Reminder("acme", "A-1", step, b.now.Add(time.Hour))
	r.Status = nudge.ReminderQueued
	_, err := b.db.InsertReminders(context.Background(), []nudge.Reminder{r})
	require.NoError(t, err)
}

func (b *postBundle) post(t *testing.T, id, amount string, at time.Time) payment.Result {
	t.Helper()
	acct, err := b.db.GetAccount(context.Background(), "acme", "A-1")
	require.NoError(t, err)
	res, err := payment.Post(context.Background(), b.db, b.tasks, acct,
		nudge.Payment{ID: id, Amount: amount, Source: nudge.PaymentSourceWebhook}, at)
	require.NoError(t, err)
	return res
}

func (b *postBundle) statuses(t *testing.T) map[string]nudge.PromiseStatus {
	t.Helper()
	ps, err := b.db.ListPromises(context.Background(), "acme", "A-1")
	require.NoError(t, err)
	out := map[string]nudge.PromiseStatus{}
	for _, p := range ps {
		out[p.ID] = p.Status
	}
	return out
}

// TestPostEndsCycle: without a plan a payment ends the cycle, keeps the
// pending promise, cancels what is queued and clears the claimed payment;
// the same payment id again changes nothing.
func TestPostEndsCycle(t *testing.T) {
	t.Parallel()
	b := setupPost(t)
	ctx := context.Background()
	require.NoError(t, b.db.InsertPromise(ctx, nudge.Promise{ID: "prm_1", Lender: "acme", AccountID: "A-1", Amount: "412.50",
		Currency: "USD", Due: nudge.MustDate("2026-12-10"), CreatedAt: b.now}))
	res := b.post(t, "pay_1", "412.50", b.now)
	require.False(t, res.Duplicate)
	require.True(t, res.CycleEnded)
	require.Equal(t, nudge.StatusPaid, res.Status, "the result says the account is paid now")
	require.Equal(t, 1, res.Canceled)
	require.Equal(t, []string{"prm_1"}, res.Kept)
	require.True(t, res.HoldCleared)
	acct, err := b.db.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.StatusPaid, acct.Status)
	require.False(t, acct.HasHold(nudge.HoldPaymentClaimed))
	require.Len(t, b.tasks.ids, len(nudge.Channels)+1, "the canceled reminder's task is deleted from each channel's queue and the work items' (tasks)")

	events, err := b.db.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	payments := 0
	for _, e := range events {
		if e.Kind == nudge.EventPayment {
			payments++
			require.Equal(t, nudge.ReasonCycleEnded, e.Reason)
		}
	}
	require.Equal(t, 1, payments)

	again := b.post(t, "pay_1", "412.50", b.now.Add(time.Minute))
	require.True(t, again.Duplicate, "a replayed payment id is a repeat")
	require.Equal(t, b.now, again.Payment.ReceivedAt, "reported as first recorded")
	events2, err := b.db.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, events2, len(events), "a repeat records nothing")

	_, err = payment.Post(ctx, b.db, b.tasks, acct, nudge.Payment{ID: "pay_eur", Amount: "1.00", Currency: "EUR"}, b.now)
	require.ErrorIs(t, err, payment.ErrCurrency)
}

// TestPostPlan: payments keep a plan's instalments in date order; the
// account stays active until the last one is covered, which ends the cycle.
func TestPostPlan(t *testing.T) {
	t.Parallel()
	b := setupPost(t)
	ctx := context.Background()
	plan, err := payment.Build(nudge.PlanRules{MaxInstalments: 3, IntervalDays: 14, MaxDays: 60}, "412.50", "USD",
		nudge.MustDate("2026-12-02"), nudge.MustDate("2026-12-05"), 3)
	require.NoError(t, err)
	require.NoError(t, b.db.InsertPlan(ctx, plan.Promises("pln_x", b.acct, nudge.SMS, "rep_x", b.now)))

	first := b.post(t, "pay_1", "137.50", b.now.Add(time.Hour))
	require.False(t, first.CycleEnded, "two instalments remain")
	require.Equal(t, nudge.StatusActive, first.Status, "the account stays as it was")
	require.Equal(t, []string{"pln_x-1"}, first.Kept)
	require.Equal(t, "pln_x", first.PlanID)
	require.Equal(t, 2, first.PlanRemaining)
	require.Equal(t, 1, first.Canceled, "what was queued is canceled while the plan goes on")
	acct, err := b.db.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.StatusActive, acct.Status)
	active, err := b.db.ActivePromise(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, "pln_x-2", active.ID, "the next instalment pauses the cadence")

	short := b.post(t, "pay_2", "100.00", b.now.Add(2*time.Hour))
	require.Empty(t, short.Kept, "less than the next instalment keeps none")
	require.Equal(t, 2, short.PlanRemaining)
	b.queue(t, "late-10")
	rest := b.post(t, "pay_3", "175.00", b.now.Add(3*time.Hour))
	require.Equal(t, []string{"pln_x-2", "pln_x-3"}, rest.Kept, "100.00 + 175.00 cover the last two")
	require.True(t, rest.CycleEnded)
	require.Equal(t, map[string]nudge.PromiseStatus{"pln_x-1": nudge.PromiseKept, "pln_x-2": nudge.PromiseKept, "pln_x-3": nudge.PromiseKept}, b.statuses(t))
	acct, err = b.db.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.StatusPaid, acct.Status)
}
