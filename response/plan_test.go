package response

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
)

// TestApplyPlan records a plan chosen on the page as pending promises
// sharing a plan id: it replaces the promise made before, pauses the
// cadence until the first instalment, and a resubmitted form records it
// once.
func TestApplyPlan(t *testing.T) {
	t.Parallel()
	b := setupAnswer(t)
	ctx := context.Background()
	_, err := b.handler.Apply(ctx, Answer{Account: b.acct, Channel: nudge.SMS, Address: answerPhone, Intent: nudge.IntentPromise,
		Date: nudge.MustDate("2026-12-04"), ProviderID: "web:promise", Body: "self-service page: promise"})
	require.NoError(t, err)

	today := nudge.MustDate("2026-11-27")
	plan, err := payment.Build(nudge.PlanRules{MaxInstalments: 4, MinInstalment: "50.00", IntervalDays: 14, MaxDays: 60},
		"412.50", "USD", today, today.AddDays(3), 3)
	require.NoError(t, err)
	answer := Answer{Account: b.acct, Channel: nudge.SMS, Address: answerPhone, Intent: nudge.IntentPromise, Plan: &plan,
		ProviderID: "web:plan:n1", Body: "self-service page: plan of 3"}
	out, err := b.handler.Apply(ctx, answer)
	require.NoError(t, err)
	require.False(t, out.Duplicate)
	require.Equal(t, []nudge.ReminderStatus{nudge.ReminderCanceled, nudge.ReminderCanceled}, b.reminderStatuses(t))

	ps, err := b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, ps, 4)
	var instalments []nudge.Promise
	for _, p := range ps {
		if p.PlanID == "" {
			require.Equal(t, nudge.PromiseCanceled, p.Status, "the plan replaces the earlier promise")
			continue
		}
		instalments = append(instalments, p)
	}
	id := PlanID(out.Reply.ID)
	require.Len(t, instalments, 3)
	for i, p := range instalments {
		require.Equal(t, id, p.PlanID)
		require.Equal(t, nudge.PromisePending, p.Status)
		require.Equal(t, plan.Instalments[i].Due, p.Due)
		require.Equal(t, plan.Instalments[i].Amount, p.Amount)
		require.Equal(t, out.Reply.ID, p.ReplyID)
	}
	active, err := b.db.ActivePromise(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.MustDate("2026-11-30"), active.Due, "the first instalment pauses the cadence")

	again, err := b.handler.Apply(ctx, answer)
	require.NoError(t, err)
	require.True(t, again.Duplicate, "the same form again is recognised")
	ps, err = b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, ps, 4, "and records the plan once")

	_, err = b.handler.Apply(ctx, Answer{Account: b.acct, Channel: nudge.SMS, Address: answerPhone, Intent: nudge.IntentPaid, Plan: &plan})
	require.ErrorContains(t, err, "a plan is a promise")
	one := payment.Plan{Currency: "USD", Instalments: plan.Instalments[:1]}
	_, err = b.handler.Apply(ctx, Answer{Account: b.acct, Channel: nudge.SMS, Address: answerPhone, Intent: nudge.IntentPromise, Plan: &one})
	require.ErrorContains(t, err, "at least 2 instalments")
}
