package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// OpsStore is what the operator dashboard reads beyond nudge.Store: counts
// grouped in SQL over a lender and a time range. The suite checks it when
// the store under test implements it.
type OpsStore interface {
	OpsSummary(ctx context.Context, q store.OpsQuery) (store.OpsSummary, error)
	OpsFunnel(ctx context.Context, q store.OpsQuery) ([]store.FunnelStep, error)
	NeedsPersonReplies(ctx context.Context, lender string, limit int) ([]nudge.Reply, error)
}

func testOps(t *testing.T, s nudge.Store) {
	ops, ok := s.(OpsStore)
	if !ok {
		t.Skip("the store does not implement OpsStore")
	}
	ctx := context.Background()
	day := 24 * time.Hour
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1"), Account("acme", "A-2"), Account("beta", "A-1")}, T0))

	// Reminders due inside the range [T0, T0+7d): two steps of cadence c
	// for two accounts, plus one due before the range and one of beta.
	rem := func(lender, acct, step string, due time.Time) nudge.Reminder {
		return nudge.Reminder{Key: nudge.ReminderKey{Lender: lender, AccountID: acct, Cadence: "c", Step: step,
			Cycle: nudge.MustDate("2026-06-05")}, Channel: nudge.SMS, DueAt: due, CreatedAt: T0.Add(-day)}
	}
	rs := []nudge.Reminder{
		rem("acme", "A-1", "s1", T0.Add(time.Hour)),
		rem("acme", "A-2", "s1", T0.Add(time.Hour)),
		rem("acme", "A-1", "s2", T0.Add(3*day)),
		rem("acme", "A-2", "s2", T0.Add(3*day)),
		rem("acme", "A-1", "s0", T0.Add(-2*day)), // before the range
		rem("beta", "A-1", "s1", T0.Add(time.Hour)),
	}
	inserted, err := s.InsertReminders(ctx, rs)
	require.NoError(t, err)
	require.Len(t, inserted, len(rs))
	ids := map[string]string{}
	for _, r := range inserted {
		ids[r.Key.Lender+"/"+r.Key.AccountID+"/"+r.Key.Step] = r.ID
	}
	claim := func(key string, ch nudge.ChannelKind, status nudge.AttemptStatus, at time.Time) {
		t.Helper()
		lender, acct := "acme", key[5:8]
		if key[:4] == "beta" {
			lender = "beta"
		}
		_, err := s.ClaimAttempt(ctx, nudge.Attempt{ReminderID: ids[key], Lender: lender, AccountID: acct, Channel: ch,
			Address: "+15125550100", Status: status, CreatedAt: at}, nil)
		require.NoError(t, err)
	}
	claim("acme/A-1/s1", nudge.SMS, nudge.AttemptDelivered, T0.Add(time.Hour))
	claim("acme/A-2/s1", nudge.SMS, nudge.AttemptFailed, T0.Add(time.Hour))
	claim("acme/A-1/s2", nudge.Voice, nudge.AttemptCompleted, T0.Add(3*day))
	claim("acme/A-2/s2", nudge.SMS, nudge.AttemptSent, T0.Add(3*day+time.Hour))
	claim("acme/A-1/s0", nudge.SMS, nudge.AttemptDelivered, T0.Add(-2*day)) // outside
	claim("beta/A-1/s1", nudge.SMS, nudge.AttemptDelivered, T0.Add(time.Hour))

	// A-1 replies and promises an hour after its s1 text and pays three
	// days later (outside the window of s1, inside that of s2); A-2 asks a
	// question two days after its s2 text.
	_, err = s.InsertReply(ctx, nudge.Reply{Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, Body: "pay friday",
		Intent: nudge.IntentPromise, CreatedAt: T0.Add(2 * time.Hour)})
	require.NoError(t, err)
	_, err = s.InsertReply(ctx, nudge.Reply{Lender: "acme", AccountID: "A-2", Channel: nudge.SMS, Body: "who is this?",
		Intent: nudge.IntentUnknown, NeedsPerson: true, CreatedAt: T0.Add(5 * day)})
	require.NoError(t, err)
	_, err = s.InsertReply(ctx, nudge.Reply{Lender: "beta", AccountID: "A-1", Channel: nudge.SMS, Body: "call me",
		Intent: nudge.IntentTalkToPerson, NeedsPerson: true, CreatedAt: T0.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.NoError(t, s.InsertPromise(ctx, nudge.Promise{Lender: "acme", AccountID: "A-1", Amount: "100", Due: nudge.MustDate("2026-06-05"),
		Status: nudge.PromiseKept, CreatedAt: T0.Add(2 * time.Hour)}))
	require.NoError(t, s.InsertPromise(ctx, nudge.Promise{Lender: "acme", AccountID: "A-2", Amount: "100", Due: nudge.MustDate("2026-06-05"),
		Status: nudge.PromiseBroken, CreatedAt: T0.Add(-3 * day)})) // outside
	require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventPayment, At: T0.Add(3*day + 2*time.Hour)}))

	// Decisions: two opt-out suppressions and a quiet-hours deferral in
	// the range; a send (not counted) and a suppression before it.
	for _, e := range []nudge.Event{
		{Kind: nudge.EventDecision, Action: "suppress", Reason: nudge.ReasonOptedOut, Rule: "consent.opt_out", At: T0.Add(time.Hour)},
		{Kind: nudge.EventDecision, Action: "suppress", Reason: nudge.ReasonOptedOut, Rule: "consent.opt_out", At: T0.Add(2 * time.Hour)},
		{Kind: nudge.EventDecision, Action: "defer", Reason: nudge.ReasonQuietHours, Rule: "window.us", At: T0.Add(time.Hour)},
		{Kind: nudge.EventDecision, Action: "send", At: T0.Add(time.Hour)},
		{Kind: nudge.EventDecision, Action: "suppress", Reason: nudge.ReasonHold, At: T0.Add(-time.Hour)}, // outside
	} {
		e.Lender, e.AccountID = "acme", "A-2"
		require.NoError(t, s.AppendEvent(ctx, e))
	}
	_, err = s.AddOptOut(ctx, nudge.OptOut{Lender: "acme", Channel: nudge.SMS, Address: "+15125550100", Source: "sms_keyword", CreatedAt: T0.Add(day)})
	require.NoError(t, err)
	_, err = s.AddOptOut(ctx, nudge.OptOut{Lender: "beta", Channel: nudge.SMS, Address: "+15125550100", Source: "api", CreatedAt: T0.Add(day)})
	require.NoError(t, err)

	q := store.OpsQuery{Lender: "acme", Since: T0, Until: T0.Add(7 * day)}
	sum, err := ops.OpsSummary(ctx, q)
	require.NoError(t, err)
	require.ElementsMatch(t, []store.AttemptCount{
		{Channel: nudge.SMS, Status: nudge.AttemptDelivered, N: 1},
		{Channel: nudge.SMS, Status: nudge.AttemptFailed, N: 1},
		{Channel: nudge.SMS, Status: nudge.AttemptSent, N: 1},
		{Channel: nudge.Voice, Status: nudge.AttemptCompleted, N: 1},
	}, sum.Attempts)
	require.Equal(t, []store.DecisionCount{
		{Action: "defer", Reason: nudge.ReasonQuietHours, Rule: "window.us", N: 1},
		{Action: "suppress", Reason: nudge.ReasonOptedOut, Rule: "consent.opt_out", N: 2},
	}, sum.Decisions)
	require.Equal(t, map[nudge.Intent]int{nudge.IntentPromise: 1, nudge.IntentUnknown: 1}, sum.Replies)
	require.Equal(t, 1, sum.NeedsPerson)
	require.Equal(t, map[nudge.PromiseStatus]int{nudge.PromiseKept: 1}, sum.Promises)
	require.Equal(t, map[string]int{"sms_keyword": 1}, sum.OptOuts)

	funnel, err := ops.OpsFunnel(ctx, q)
	require.NoError(t, err)
	require.Equal(t, []store.FunnelStep{
		{Cadence: "c", Step: "s1", Channel: nudge.SMS, Planned: 2, Sent: 1, Delivered: 1, Replied: 1, Promised: 1, Paid: 0},
		{Cadence: "c", Step: "s2", Channel: nudge.SMS, Planned: 2, Sent: 2, Delivered: 1, Replied: 1, Promised: 0, Paid: 1},
	}, funnel)

	needs, err := ops.NeedsPersonReplies(ctx, "acme", 10)
	require.NoError(t, err)
	require.Len(t, needs, 1)
	require.Equal(t, "who is this?", needs[0].Body)

	empty, err := ops.OpsSummary(ctx, store.OpsQuery{Lender: "gamma", Since: T0, Until: T0.Add(day)})
	require.NoError(t, err)
	require.Empty(t, empty.Attempts)
	require.Empty(t, empty.Periods)
	require.Empty(t, sum.Periods, "no periods asked, none counted")

	// Periods of the caller's choosing: [T0, T0+1d), [T0+1d, T0+3d),
	// [T0+3d, T0+7d). The voice attempt at exactly T0+3d opens the third.
	q.Periods = []time.Time{T0, T0.Add(day), T0.Add(3 * day)}
	sum, err = ops.OpsSummary(ctx, q)
	require.NoError(t, err)
	require.Equal(t, []store.PeriodCount{
		{Period: 0, Channel: nudge.SMS, N: 2},
		{Period: 2, Channel: nudge.SMS, N: 1},
		{Period: 2, Channel: nudge.Voice, N: 1},
	}, sum.Periods)
	q.Periods = []time.Time{T0}
	sum, err = ops.OpsSummary(ctx, q)
	require.NoError(t, err)
	require.Equal(t, []store.PeriodCount{{Period: 0, Channel: nudge.SMS, N: 3}, {Period: 0, Channel: nudge.Voice, N: 1}}, sum.Periods)
	for _, bad := range []struct {
		periods []time.Time
		want    string
	}{
		{[]time.Time{T0.Add(time.Hour)}, "periods[0]"},
		{[]time.Time{T0, T0.Add(2 * day), T0.Add(day)}, "periods[2]"},
		{[]time.Time{T0, T0.Add(7 * day)}, "before until"},
		{make([]time.Time, store.MaxOpsPeriods+1), "more than"},
	} {
		q.Periods = bad.periods
		_, err = ops.OpsSummary(ctx, q)
		require.ErrorContains(t, err, bad.want)
	}

	_, err = ops.OpsSummary(ctx, store.OpsQuery{Since: T0, Until: T0.Add(day)})
	require.ErrorContains(t, err, "lender is required")
	_, err = ops.OpsFunnel(ctx, store.OpsQuery{Lender: "acme", Since: T0, Until: T0})
	require.ErrorContains(t, err, "is not before")
}
