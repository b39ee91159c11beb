package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// testLenderPayments stores a lender's payment link and plan rules with the
// lender, and its sealed webhook secret apart: a later upsert (the
// configuration synced on start) keeps the secret.
func testLenderPayments(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	acme := nudge.Lender{ID: "acme", Name: "Acme Auto", CreatedAt: T0,
		PaymentURL: "https://pay.acme.example/pay?ref={account}&amount={amount}",
		Plans:      nudge.PlanRules{MaxInstalments: 4, MinInstalment: "50.00", IntervalDays: 14, MaxDays: 60}}
	require.NoError(t, s.UpsertLender(ctx, acme))
	got, err := s.GetLender(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, acme, got)

	sealed, err := s.PaymentWebhookSecret(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, sealed, "a lender has no webhook secret until one is set")
	require.NoError(t, s.SetPaymentWebhookSecret(ctx, "acme", "v1:sealed"))
	changed := acme
	changed.PaymentURL, changed.Plans = "", nudge.PlanRules{}
	require.NoError(t, s.UpsertLender(ctx, changed))
	got, err = s.GetLender(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, got.PaymentURL, "an update may remove the payment link")
	require.Equal(t, nudge.PlanRules{}, got.Plans)
	sealed, err = s.PaymentWebhookSecret(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "v1:sealed", sealed, "an upsert keeps the webhook secret")

	require.ErrorIs(t, s.SetPaymentWebhookSecret(ctx, "nobody", "v1:x"), nudge.ErrNotFound)
	_, err = s.PaymentWebhookSecret(ctx, "nobody")
	require.ErrorIs(t, err, nudge.ErrNotFound)
	require.NoError(t, s.SetPaymentWebhookSecret(ctx, "acme", ""))
	sealed, err = s.PaymentWebhookSecret(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, sealed, "setting it empty removes it")
}

// testPayments records each payment id of a lender once: a repeat returns
// the payment as first recorded.
func testPayments(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	p := nudge.Payment{Lender: "acme", ID: "pay_1", AccountID: "A-1", Amount: "137.50", Currency: "USD",
		PaidAt: T0.Add(-time.Hour), Source: nudge.PaymentSourceWebhook, ReceivedAt: T0}
	got, fresh, err := s.RecordPayment(ctx, p)
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, p, got)

	again := p
	again.Amount, again.ReceivedAt = "999.00", T0.Add(time.Minute)
	got, fresh, err = s.RecordPayment(ctx, again)
	require.NoError(t, err)
	require.False(t, fresh, "the same payment id again is a repeat")
	require.Equal(t, p, got, "a repeat returns the payment as first recorded")

	other := p
	other.Lender = "beta"
	_, fresh, err = s.RecordPayment(ctx, other)
	require.NoError(t, err)
	require.True(t, fresh, "payment ids are the lender's own")

	noDate := nudge.Payment{Lender: "acme", ID: "pay_2", AccountID: "A-1", Amount: "10.00", Currency: "USD", Source: nudge.PaymentSourceAPI, ReceivedAt: T0.Add(time.Hour)}
	_, _, err = s.RecordPayment(ctx, noDate)
	require.NoError(t, err)
	list, err := s.ListPayments(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, []nudge.Payment{p, noDate}, list, "in order of receipt; a payment without paid_at keeps it zero")

	one, err := s.GetPayment(ctx, "acme", "pay_2")
	require.NoError(t, err)
	require.Equal(t, noDate, one)
	_, err = s.GetPayment(ctx, "beta", "pay_2")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	_, _, err = s.RecordPayment(ctx, nudge.Payment{Lender: "acme", AccountID: "A-1", Amount: "1.00", ReceivedAt: T0})
	require.Error(t, err, "a payment needs an id")
	_, _, err = s.RecordPayment(ctx, nudge.Payment{Lender: "acme", ID: "pay_3", AccountID: "A-1", ReceivedAt: T0})
	require.Error(t, err, "a payment needs an amount")
}

// planOf returns three instalments of plan id on account A-1, 14 days apart.
func planOf(id string, first nudge.Date, at time.Time) []nudge.Promise {
	var out []nudge.Promise
	for i, amount := range []string{"137.50", "137.50", "137.50"} {
		out = append(out, nudge.Promise{ID: id + "-" + string(rune('1'+i)), Lender: "acme", AccountID: "A-1", Amount: amount,
			Currency: "USD", Due: first.AddDays(14 * i), Status: nudge.PromisePending, Channel: nudge.SMS, ReplyID: "rep_" + id,
			PlanID: id, CreatedAt: at, UpdatedAt: at})
	}
	return out
}

// testPlans stores a plan's instalments all or none, and ActivePromise
// reads a plan as the cadence must: its next instalment pauses it, and an
// instalment of a plan with a broken one does not.
func testPlans(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	plan := planOf("pln_a", nudge.MustDate("2026-06-10"), T0)
	require.NoError(t, s.InsertPlan(ctx, plan))
	list, err := s.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, plan, list, "every instalment round-trips with its plan id")
	require.ErrorIs(t, s.InsertPlan(ctx, plan), nudge.ErrConflict, "a plan id is recorded once")

	bad := planOf("pln_bad", nudge.MustDate("2026-07-01"), T0)
	bad[2].AccountID = "A-2"
	require.Error(t, s.InsertPlan(ctx, bad), "instalments of two accounts are no plan")
	clash := planOf("pln_clash", nudge.MustDate("2026-07-01"), T0)
	clash[2].ID = plan[0].ID // taken: the whole plan is refused
	require.ErrorIs(t, s.InsertPlan(ctx, clash), nudge.ErrConflict)
	noDate := planOf("pln_nodate", nudge.MustDate("2026-07-01"), T0)
	noDate[1].Due = nudge.Date{}
	require.Error(t, s.InsertPlan(ctx, noDate))
	require.Error(t, s.InsertPlan(ctx, nil))
	list, err = s.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, list, 3, "a refused plan writes none of its instalments")

	active, err := s.ActivePromise(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, "pln_a-1", active.ID, "the next instalment pauses the cadence")
	require.NoError(t, s.SetPromiseStatus(ctx, "pln_a-1", nudge.PromiseKept, T0.Add(time.Hour)))
	active, err = s.ActivePromise(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, "pln_a-2", active.ID, "after a kept instalment, the next one")
	require.NoError(t, s.SetPromiseStatus(ctx, "pln_a-2", nudge.PromiseBroken, T0.Add(2*time.Hour)))
	_, err = s.ActivePromise(ctx, "acme", "A-1")
	require.ErrorIs(t, err, nudge.ErrNotFound, "a broken plan pauses nothing: the broken-promise steps run")

	due, err := s.PendingPromisesDueBefore(ctx, nudge.MustDate("2026-12-31"))
	require.NoError(t, err)
	require.Len(t, due, 1, "the broken plan's last instalment is still pending, to be kept or broken in its turn")
	require.Equal(t, "pln_a-3", due[0].ID)

	single := nudge.Promise{ID: "prm_new", Lender: "acme", AccountID: "A-1", Amount: "412.50", Currency: "USD",
		Due: nudge.MustDate("2026-08-01"), Channel: nudge.SMS, CreatedAt: T0.Add(3 * time.Hour)}
	require.NoError(t, s.InsertPromise(ctx, single))
	active, err = s.ActivePromise(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, "prm_new", active.ID, "a single promise made after the plan broke pauses the cadence")
}
