package response_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/store"
)

// callsCadence has the bot call (bot-1 … bot-5) and collectors call
// (collector-1 … collector-4) the borrower.
func callsCadence() string {
	var b strings.Builder
	b.WriteString("name: calls\nprofile: us\napplies_to:\n  portfolios: [calls]\n  days_past_due: {min: 0, max: 60}\nsteps:\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "  - {id: bot-%d, day: %d, at: \"10:00\", channel: voice, template: late_voice}\n", i, i)
	}
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "  - {id: collector-%d, day: %d, at: \"10:00\", channel: task, kind: call_list, instructions: Call the borrower.}\n", i, i)
	}
	return b.String()
}

// TestEndToEndCollectorCallsCountTowardTheCallCap: three calls a collector
// made from call_list items and four calls of the bot fill Regulation F's
// 7 calls in 7 days, so the bot's next call and the next call_list item
// wait until the oldest call leaves the window, and their decisions say
// why. Calls are counted where they happen: the bot's at twiliosim, the
// collector's in the completed items.
func TestEndToEndCollectorCallsCountTowardTheCallCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setupE2E(t)
	v, err := e.db.PutCadence(ctx, lender, "calls", []byte(callsCadence()), t0)
	require.NoError(t, err)
	require.NoError(t, e.db.ActivateCadence(ctx, lender, "calls", v))
	const phone = "+15125550177"
	e.sim.Script(phone, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	a := testAccount("C-1", "en", phone)
	a.Portfolio, a.Borrower.Timezone = "calls", "America/Chicago"
	a.Address = &nudge.Address{Country: "US", Region: "TX", PostalCode: "73301"}
	require.NoError(t, e.db.UpsertAccounts(ctx, []nudge.Account{a}, t0))

	n := map[string]int{}
	reminder := func(step string) nudge.Reminder {
		t.Helper()
		now := e.clock.Now()
		n[step]++
		k := nudge.ReminderKey{Lender: lender, AccountID: a.ID, Cadence: "calls", Step: fmt.Sprintf("%s-%d", step, n[step]), Cycle: a.DueDate}
		r := nudge.Reminder{ID: k.ID(), Key: k, CadenceVersion: v, Channel: nudge.Voice, Template: "late_voice",
			DueAt: now, ExpiresAt: now.Add(10 * 24 * time.Hour), Status: nudge.ReminderQueued, CreatedAt: now}
		if step == "collector" {
			r.Channel, r.Template = nudge.Task, nudge.WorkCallList
		}
		_, err := e.db.InsertReminders(ctx, []nudge.Reminder{r})
		require.NoError(t, err)
		return r
	}
	botCalls := func() int {
		n := 0
		for _, r := range e.sim.Requests() {
			if r.Kind == twiliosim.RequestCall && r.To == phone {
				n++
			}
		}
		return n
	}
	status := func(r nudge.Reminder) nudge.Reminder {
		t.Helper()
		got, err := e.db.GetReminder(ctx, r.ID)
		require.NoError(t, err)
		return got
	}

	// A collector works three call_list items and nobody answers.
	for range 3 {
		r := reminder("collector")
		require.NoError(t, e.pipe.Process(ctx, r.ID))
		require.Equal(t, nudge.ReminderSent, status(r).Status, "the call_list item is made")
		item, err := e.db.GetWorkItem(ctx, lender, store.WorkItemID(r.ID))
		require.NoError(t, err)
		require.Equal(t, phone, item.Address)
		_, err = e.handler.CompleteWorkItem(ctx, e.db, lender, item.ID, nudge.WorkCompletion{Outcome: nudge.OutcomeNoContact, Actor: "collector"})
		require.NoError(t, err)
		e.clock.Advance(time.Hour)
	}
	hist, err := e.db.AttemptHistory(ctx, lender, a.ID, t0)
	require.NoError(t, err)
	require.Len(t, hist, 3, "each completed call_list item is a voice attempt")
	for _, h := range hist {
		require.Equal(t, nudge.Voice, h.Channel)
		require.Equal(t, nudge.AttemptNoAnswer, h.Status)
		require.True(t, h.Status.CountsAsCall())
	}

	// The bot calls four times: seven calls in the week.
	for range 4 {
		r := reminder("bot")
		require.NoError(t, e.pipe.Process(ctx, r.ID))
		require.Equal(t, nudge.ReminderSent, status(r).Status)
		e.clock.Advance(time.Hour)
	}
	require.NoError(t, e.sim.Idle(e.deadline))
	require.Equal(t, 4, botCalls(), "four calls reached Twilio")

	// The bot's next call waits for the oldest call to leave the window ...
	next := reminder("bot")
	require.Error(t, e.pipe.Process(ctx, next.ID), "a deferred reminder is retried at the next allowed instant")
	got := status(next)
	require.Equal(t, nudge.ReminderDeferred, got.Status)
	require.Equal(t, nudge.ReasonCallCap, got.Reason)
	require.Equal(t, t0.Add(7*24*time.Hour), got.NextAt, "free when the collector's first call is a week old")
	require.NoError(t, e.sim.Idle(e.deadline))
	require.Equal(t, 4, botCalls(), "nothing more reached Twilio")

	// ... and so does the next call_list item: none is made.
	call := reminder("collector")
	require.Error(t, e.pipe.Process(ctx, call.ID))
	got = status(call)
	require.Equal(t, nudge.ReminderDeferred, got.Status)
	require.Equal(t, nudge.ReasonCallCap, got.Reason)
	_, err = e.db.GetWorkItem(ctx, lender, store.WorkItemID(call.ID))
	require.ErrorIs(t, err, nudge.ErrNotFound)

	// Explained from the same ledger: the cap, its rule and the count.
	acct, err := e.db.GetAccount(ctx, lender, a.ID)
	require.NoError(t, err)
	hist, err = e.db.AttemptHistory(ctx, lender, a.ID, e.clock.Now().AddDate(0, 0, -8))
	require.NoError(t, err)
	p, err := compliance.Builtin("us")
	require.NoError(t, err)
	d := compliance.Decide(compliance.Input{Account: acct, Channel: nudge.Voice, Address: phone, At: e.clock.Now(), History: hist, Profile: p})
	require.Equal(t, compliance.Defer, d.Action)
	require.Equal(t, nudge.ReasonCallCap, d.Reason)
	require.Equal(t, compliance.RuleUSCalls, d.Rule)
	require.Contains(t, d.Explanation, "7 calls within 7 days have already been placed")
	require.Contains(t, d.Explanation, "3 of them by a collector from a call list", "the explanation names the collectors' calls")
	evs, err := e.db.Events(ctx, lender, a.ID)
	require.NoError(t, err)
	var explained []string
	for _, ev := range evs {
		if ev.Kind == nudge.EventDecision && (ev.ReminderID == next.ID || ev.ReminderID == call.ID) {
			var dd compliance.Decision
			require.NoError(t, json.Unmarshal(ev.Detail, &dd))
			require.Equal(t, nudge.ReasonCallCap, dd.Reason)
			explained = append(explained, dd.Explanation)
		}
	}
	require.Len(t, explained, 2, "both decisions are on the timeline: %v", explained)
	require.Equal(t, d.Explanation, explained[0])

	// A week after the collector's first call, the bot calls again.
	e.clock.Set(t0.Add(7*24*time.Hour + time.Minute))
	require.NoError(t, e.pipe.Process(ctx, next.ID))
	require.Equal(t, nudge.ReminderSent, status(next).Status)
	require.NoError(t, e.sim.Idle(e.deadline))
	require.Equal(t, 5, botCalls())
}
