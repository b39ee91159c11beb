package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// workItemFixture creates a task reminder of account A-1 of acme for step
// and its work item; it returns the item.
func workItemFixture(t *testing.T, s nudge.Store, step, kind string, at time.Time) nudge.WorkItem {
	t.Helper()
	ctx := context.Background()
	wis := s.(nudge.WorkItemStore)
	r := Reminder("acme", "A-1", step, at)
	r.Channel, r.Fallback, r.Template = nudge.Task, "", kind
	_, err := s.InsertReminders(ctx, []nudge.Reminder{r})
	require.NoError(t, err)
	w := nudge.WorkItem{Lender: "acme", AccountID: "A-1", ReminderID: r.ID, Cadence: r.Key.Cadence, Step: step, Kind: kind,
		Instructions: "Visit the borrower", Channel: nudge.Voice, Address: "+15125550100", CreatedAt: at}
	created, err := wis.CreateWorkItem(ctx, w, nudge.Event{Lender: "acme", AccountID: "A-1", ReminderID: r.ID,
		Kind: nudge.EventWorkItem, Action: "created", Detail: json.RawMessage(`{"kind":"` + kind + `"}`), At: at})
	require.NoError(t, err)
	require.True(t, created)
	list, err := wis.ListWorkItems(ctx, nudge.WorkItemQuery{Lender: "acme", Kind: kind, Status: nudge.WorkOpen})
	require.NoError(t, err)
	for _, got := range list {
		if got.ReminderID == r.ID {
			return got
		}
	}
	require.FailNow(t, "the created work item is not listed")
	return nudge.WorkItem{}
}

func testWorkItems(t *testing.T, s nudge.Store) {
	wis, ok := s.(nudge.WorkItemStore)
	if !ok {
		t.Skip("the store does not keep work items")
	}
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1")}, T0))

	visit := workItemFixture(t, s, "visit", nudge.WorkFieldVisit, T0)
	require.Equal(t, nudge.WorkOpen, visit.Status)
	require.Equal(t, "Visit the borrower", visit.Instructions)
	require.Equal(t, T0, visit.CreatedAt)
	r, err := s.GetReminder(ctx, visit.ReminderID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, r.Status, "the task reminder ends sent with its work item")

	// A retried task creates nothing more: no second item, no second event.
	created, err := wis.CreateWorkItem(ctx, nudge.WorkItem{Lender: "acme", AccountID: "A-1", ReminderID: visit.ReminderID,
		Kind: nudge.WorkFieldVisit, CreatedAt: T0.Add(time.Minute)},
		nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventWorkItem, Action: "created", At: T0.Add(time.Minute)})
	require.NoError(t, err)
	require.False(t, created)
	evs, err := s.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	n := 0
	for _, e := range evs {
		if e.Kind == nudge.EventWorkItem && e.Action == "created" {
			n++
			var d map[string]any
			require.NoError(t, json.Unmarshal(e.Detail, &d))
			require.Equal(t, visit.ID, d["work_item_id"])
		}
	}
	require.Equal(t, 1, n)

	// Queues per kind, oldest first, keyset paged.
	call1 := workItemFixture(t, s, "call-1", nudge.WorkCallList, T0.Add(time.Hour))
	call2 := workItemFixture(t, s, "call-2", nudge.WorkCallList, T0.Add(2*time.Hour))
	page, err := wis.ListWorkItems(ctx, nudge.WorkItemQuery{Lender: "acme", Kind: nudge.WorkCallList, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []string{call1.ID}, workItemIDs(page))
	page, err = wis.ListWorkItems(ctx, nudge.WorkItemQuery{Lender: "acme", Kind: nudge.WorkCallList, After: call1.ID})
	require.NoError(t, err)
	require.Equal(t, []string{call2.ID}, workItemIDs(page))
	other, err := wis.ListWorkItems(ctx, nudge.WorkItemQuery{Lender: "beta"})
	require.NoError(t, err)
	require.Empty(t, other, "a lender sees only its own work items")
	counts, err := wis.WorkItemCounts(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, map[string]int{nudge.WorkFieldVisit: 1, nudge.WorkCallList: 2}, counts)

	// Assign, then complete with a promise.
	_, err = wis.AssignWorkItem(ctx, "beta", visit.ID, "ops_1", T0)
	require.ErrorIs(t, err, nudge.ErrNotFound)
	got, err := wis.AssignWorkItem(ctx, "acme", visit.ID, "ops_1", T0.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, nudge.WorkAssigned, got.Status)
	require.Equal(t, "ops_1", got.Assignee)
	// Unassigned, it is open again and stays so when unassigned twice; then
	// it is taken again.
	_, err = wis.UnassignWorkItem(ctx, "beta", visit.ID)
	require.ErrorIs(t, err, nudge.ErrNotFound)
	for range 2 {
		got, err = wis.UnassignWorkItem(ctx, "acme", visit.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.WorkOpen, got.Status)
		require.Empty(t, got.Assignee)
		stored, err := wis.GetWorkItem(ctx, "acme", visit.ID)
		require.NoError(t, err)
		require.Equal(t, got, stored)
	}
	_, err = wis.AssignWorkItem(ctx, "acme", visit.ID, "ops_1", T0.Add(time.Minute))
	require.NoError(t, err)
	_, _, err = wis.CompleteWorkItem(ctx, "acme", visit.ID, nudge.WorkCompletion{Outcome: "maybe"}, T0)
	require.ErrorContains(t, err, "outcome")
	_, _, err = wis.CompleteWorkItem(ctx, "acme", visit.ID, nudge.WorkCompletion{Outcome: nudge.OutcomePromise}, T0)
	require.ErrorContains(t, err, "promise_date")
	done := nudge.WorkCompletion{Outcome: nudge.OutcomePromise, Note: "at the door", Actor: "ops_2",
		PromiseAmount: "120.00", PromiseDue: nudge.MustDate("2026-06-09")}
	got, changed, err := wis.CompleteWorkItem(ctx, "acme", visit.ID, done, T0.Add(2*time.Minute))
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, nudge.WorkCompleted, got.Status)
	require.Equal(t, "ops_1", got.Assignee, "the assignee stays")
	stored, err := wis.GetWorkItem(ctx, "acme", visit.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)
	require.Equal(t, nudge.MustDate("2026-06-09"), stored.PromiseDue)
	require.Equal(t, "120.00", stored.PromiseAmount)
	require.Equal(t, T0.Add(2*time.Minute), stored.CompletedAt)

	// The same completion again (a resubmitted form) changes nothing; a
	// different outcome is refused; a completed item cannot be assigned.
	_, changed, err = wis.CompleteWorkItem(ctx, "acme", visit.ID, done, T0.Add(3*time.Minute))
	require.NoError(t, err)
	require.False(t, changed)
	_, _, err = wis.CompleteWorkItem(ctx, "acme", visit.ID, nudge.WorkCompletion{Outcome: nudge.OutcomeRefused}, T0)
	require.ErrorIs(t, err, nudge.ErrConflict)
	_, err = wis.AssignWorkItem(ctx, "acme", visit.ID, "ops_3", T0)
	require.ErrorIs(t, err, nudge.ErrConflict)
	_, err = wis.UnassignWorkItem(ctx, "acme", visit.ID)
	require.ErrorIs(t, err, nudge.ErrConflict)
	pending, err := wis.ListWorkItems(ctx, nudge.WorkItemQuery{Lender: "acme", Status: nudge.WorkPending})
	require.NoError(t, err)
	require.Equal(t, []string{call1.ID, call2.ID}, workItemIDs(pending))
	evs, err = s.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	completed := 0
	for _, e := range evs {
		if e.Kind == nudge.EventWorkItem && e.Action == "completed" {
			completed++
			require.Equal(t, visit.ReminderID, e.ReminderID)
		}
	}
	require.Equal(t, 1, completed)
	hist, err := s.AttemptHistory(ctx, "acme", "A-1", time.Time{})
	require.NoError(t, err)
	require.Empty(t, hist, "a field visit is no call")

	// A completed call_list item is the collector's call: a voice attempt
	// to its number, in the completion's transaction, that the caps count.
	completedCall, changed, err := wis.CompleteWorkItem(ctx, "acme", call1.ID, nudge.WorkCompletion{Outcome: nudge.OutcomeNoContact}, T0.Add(3*time.Hour))
	require.NoError(t, err)
	require.True(t, changed)
	call, ok := nudge.CollectorCall(completedCall, T0.Add(3*time.Hour))
	require.True(t, ok)
	att, err := s.GetAttempt(ctx, call.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.Voice, att.Channel)
	require.Equal(t, "+15125550100", att.Address)
	require.Equal(t, nudge.AttemptNoAnswer, att.Status)
	require.Equal(t, call1.ReminderID, att.ReminderID)
	require.Equal(t, T0.Add(3*time.Hour), att.CreatedAt)
	require.True(t, att.ByCollector())
	_, changed, err = wis.CompleteWorkItem(ctx, "acme", call1.ID, nudge.WorkCompletion{Outcome: nudge.OutcomeNoContact}, T0.Add(4*time.Hour))
	require.NoError(t, err)
	require.False(t, changed)
	hist, err = s.AttemptHistory(ctx, "acme", "A-1", time.Time{})
	require.NoError(t, err)
	require.Len(t, hist, 1, "completed again, it records no second call")
	evs, err = s.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	for _, e := range evs {
		if e.Kind == nudge.EventWorkItem && e.Action == "completed" && e.ReminderID == call1.ReminderID {
			require.Equal(t, call.ID, e.AttemptID, "the event names the call")
		}
	}
	bot := Reminder("acme", "A-1", "bot-call", T0.Add(5*time.Hour))
	bot.Channel = nudge.Voice
	_, err = s.InsertReminders(ctx, []nudge.Reminder{bot})
	require.NoError(t, err)
	_, err = s.ClaimAttempt(ctx, nudge.Attempt{ReminderID: bot.ID, Lender: "acme", AccountID: "A-1", Channel: nudge.Voice,
		Address: "+15125550100", CreatedAt: T0.Add(5 * time.Hour)},
		[]nudge.CapLimit{{Channel: nudge.Voice, Window: 7 * 24 * time.Hour, Max: 1, Count: nudge.CountCalls}})
	require.ErrorIs(t, err, nudge.ErrCapReached, "the claim of the bot's call counts the collector's")

	// Erasure removes the contact, the instructions and the notes.
	es, ok := s.(EraserBy)
	if !ok {
		return
	}
	_, err = es.ErasePersonalDataBy(ctx, "acme", "A-1", "key_1", T0.Add(time.Hour))
	require.NoError(t, err)
	stored, err = wis.GetWorkItem(ctx, "acme", visit.ID)
	require.NoError(t, err)
	require.Empty(t, stored.Address)
	require.Empty(t, stored.Note)
	require.Empty(t, stored.Instructions)
	require.Equal(t, nudge.OutcomePromise, stored.Outcome, "the outcome stays for the audit")
}

func workItemIDs(ws []nudge.WorkItem) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.ID)
	}
	return out
}
