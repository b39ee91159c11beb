package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// testEventsWithTheirChange shows that every change of the lender's event
// catalogue (opt-out and opt-in, hold placed and cleared, promise made,
// kept and broken, plan, reply, payment) commits with its events or not at
// all: an event the store refuses half-way through the transaction (no
// time, checked after the change was written) rolls the change back, and a
// change that is made writes its events once, never again when repeated.
func testEventsWithTheirChange(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1")}, T0))
	const phone = "+15125550100"
	at := T0.Add(time.Hour)
	// bad fails after the change is written: the store checks events as it
	// appends them, in the change's transaction.
	bad := nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventOptOut, Action: "broken"}
	ev := func(kind nudge.EventKind, action string) nudge.Event {
		return nudge.Event{Lender: "acme", AccountID: "A-1", Kind: kind, Action: action, At: at}
	}
	count := func(kind nudge.EventKind, action string) int {
		t.Helper()
		evs, err := s.Events(ctx, "acme", "A-1")
		require.NoError(t, err)
		n := 0
		for _, e := range evs {
			if e.Kind == kind && e.Action == action {
				n++
			}
		}
		return n
	}
	holds := func() []nudge.Hold {
		t.Helper()
		a, err := s.GetAccount(ctx, "acme", "A-1")
		require.NoError(t, err)
		return a.Holds
	}

	t.Run("opt-out", func(t *testing.T) {
		o := nudge.OptOut{Lender: "acme", Channel: nudge.SMS, Address: phone, Source: "sms_keyword", CreatedAt: at}
		_, err := s.AddOptOut(ctx, o, bad)
		require.Error(t, err)
		out, err := s.IsOptedOut(ctx, "acme", nudge.SMS, phone)
		require.NoError(t, err)
		require.False(t, out, "the opt-out rolled back with its event")
		added, err := s.AddOptOut(ctx, o, ev(nudge.EventOptOut, "opt_out"))
		require.NoError(t, err)
		require.True(t, added)
		added, err = s.AddOptOut(ctx, o, ev(nudge.EventOptOut, "opt_out"))
		require.NoError(t, err)
		require.False(t, added)
		require.Equal(t, 1, count(nudge.EventOptOut, "opt_out"), "one event, with the opt-out that was new")

		_, err = s.RemoveOptOut(ctx, "acme", nudge.SMS, phone, bad)
		require.Error(t, err)
		out, err = s.IsOptedOut(ctx, "acme", nudge.SMS, phone)
		require.NoError(t, err)
		require.True(t, out, "the opt-in rolled back with its event")
		removed, err := s.RemoveOptOut(ctx, "acme", nudge.SMS, phone, ev(nudge.EventOptOut, "opt_in"))
		require.NoError(t, err)
		require.True(t, removed)
		removed, err = s.RemoveOptOut(ctx, "acme", nudge.SMS, phone, ev(nudge.EventOptOut, "opt_in"))
		require.NoError(t, err)
		require.False(t, removed)
		require.Equal(t, 1, count(nudge.EventOptOut, "opt_in"))
	})

	t.Run("hold", func(t *testing.T) {
		h := nudge.Hold{Kind: nudge.HoldDispute, Reason: "borrower disputes the amount"}
		require.Error(t, s.AddHold(ctx, "acme", "A-1", h, at, bad))
		require.Empty(t, holds(), "the hold rolled back with its event")
		require.NoError(t, s.AddHold(ctx, "acme", "A-1", h, at, ev(nudge.EventHold, "set")))
		require.NoError(t, s.AddHold(ctx, "acme", "A-1", h, at, ev(nudge.EventHold, "set")))
		require.Equal(t, 1, count(nudge.EventHold, "set"), "the same hold again records nothing")
		h.Reason = "borrower sent the dispute letter"
		require.NoError(t, s.AddHold(ctx, "acme", "A-1", h, at, ev(nudge.EventHold, "set")))
		require.Equal(t, 2, count(nudge.EventHold, "set"), "a new reason is recorded")

		require.Error(t, s.ClearHold(ctx, "acme", "A-1", nudge.HoldDispute, at, bad))
		require.Len(t, holds(), 1, "the clearing rolled back with its event")
		require.NoError(t, s.ClearHold(ctx, "acme", "A-1", nudge.HoldDispute, at, ev(nudge.EventHold, "clear")))
		require.NoError(t, s.ClearHold(ctx, "acme", "A-1", nudge.HoldDispute, at, ev(nudge.EventHold, "clear")))
		require.Empty(t, holds())
		require.Equal(t, 1, count(nudge.EventHold, "clear"))
	})

	t.Run("promise", func(t *testing.T) {
		p := nudge.Promise{ID: "prm_tx", Lender: "acme", AccountID: "A-1", Amount: "100", Currency: "USD",
			Due: nudge.MustDate("2026-06-20"), CreatedAt: at}
		require.Error(t, s.InsertPromise(ctx, p, bad))
		ps, err := s.ListPromises(ctx, "acme", "A-1")
		require.NoError(t, err)
		require.Empty(t, ps, "the promise rolled back with its event")
		require.NoError(t, s.InsertPromise(ctx, p, ev(nudge.EventPromise, "pending")))
		require.ErrorIs(t, s.InsertPromise(ctx, p, ev(nudge.EventPromise, "pending")), nudge.ErrConflict)
		require.Equal(t, 1, count(nudge.EventPromise, "pending"))

		require.Error(t, s.SetPromiseStatus(ctx, p.ID, nudge.PromiseKept, at, bad))
		ps, err = s.ListPromises(ctx, "acme", "A-1")
		require.NoError(t, err)
		require.Equal(t, nudge.PromisePending, ps[0].Status, "the status rolled back with its event")
		require.NoError(t, s.SetPromiseStatus(ctx, p.ID, nudge.PromiseKept, at, ev(nudge.EventPromise, "kept")))
		require.NoError(t, s.SetPromiseStatus(ctx, p.ID, nudge.PromiseKept, at, ev(nudge.EventPromise, "kept")))
		require.Equal(t, 1, count(nudge.EventPromise, "kept"), "a repeated status records nothing")

		plan := []nudge.Promise{
			{ID: "prm_tx_1", PlanID: "pln_tx", Lender: "acme", AccountID: "A-1", Amount: "50", Currency: "USD", Due: nudge.MustDate("2026-07-01"), CreatedAt: at},
			{ID: "prm_tx_2", PlanID: "pln_tx", Lender: "acme", AccountID: "A-1", Amount: "50", Currency: "USD", Due: nudge.MustDate("2026-08-01"), CreatedAt: at},
		}
		require.Error(t, s.InsertPlan(ctx, plan, bad))
		ps, err = s.ListPromises(ctx, "acme", "A-1")
		require.NoError(t, err)
		require.Len(t, ps, 1, "the plan rolled back with its event")
		require.NoError(t, s.InsertPlan(ctx, plan, ev(nudge.EventPromise, "plan")))
		require.Equal(t, 1, count(nudge.EventPromise, "plan"))
	})

	t.Run("reply", func(t *testing.T) {
		r := nudge.Reply{ID: "rep_tx", Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, From: phone, Body: "PAGUE",
			Intent: nudge.IntentPaid, ProviderID: "SM_tx", CreatedAt: at}
		_, err := s.InsertReply(ctx, r, bad)
		require.Error(t, err)
		rs, err := s.ListReplies(ctx, "acme", false)
		require.NoError(t, err)
		require.Empty(t, rs, "the reply rolled back with its event")
		fresh, err := s.InsertReply(ctx, r, ev(nudge.EventReply, "paid"))
		require.NoError(t, err)
		require.True(t, fresh)
		fresh, err = s.InsertReply(ctx, r, ev(nudge.EventReply, "paid"))
		require.NoError(t, err)
		require.False(t, fresh)
		require.Equal(t, 1, count(nudge.EventReply, "paid"))
	})

	t.Run("payment", func(t *testing.T) {
		p := nudge.Payment{Lender: "acme", ID: "pay_tx", AccountID: "A-1", Amount: "100", Currency: "USD",
			Source: nudge.PaymentSourceAPI, ReceivedAt: at}
		_, _, err := s.RecordPayment(ctx, p, bad)
		require.Error(t, err)
		_, err = s.GetPayment(ctx, "acme", "pay_tx")
		require.ErrorIs(t, err, nudge.ErrNotFound, "the payment rolled back with its event")
		_, fresh, err := s.RecordPayment(ctx, p, ev(nudge.EventPayment, "received"))
		require.NoError(t, err)
		require.True(t, fresh)
		_, fresh, err = s.RecordPayment(ctx, p, ev(nudge.EventPayment, "received"))
		require.NoError(t, err)
		require.False(t, fresh)
		require.Equal(t, 1, count(nudge.EventPayment, "received"))
	})
}
