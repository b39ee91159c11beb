package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// ConsoleStore is what the operator console reads and writes beyond
// OpsStore: search, lists with filters and paging, and the queue of
// replies needing a person. The suite checks it when the store under test
// implements it.
type ConsoleStore interface {
	OpsStore
	SearchAccounts(ctx context.Context, q store.AccountSearch) ([]store.AccountMatch, error)
	PageAttempts(ctx context.Context, q store.AttemptQuery) ([]nudge.Attempt, error)
	PageDecided(ctx context.Context, q store.DecidedQuery) ([]store.DecidedReminder, error)
	PageOptOuts(ctx context.Context, q store.OptOutQuery) ([]store.OptOutRow, error)
	PageReplies(ctx context.Context, q store.ReplyQuery) ([]store.ReplyRow, error)
	AssignReply(ctx context.Context, lender, id, assignee, actor string, now time.Time) error
	ResolveReply(ctx context.Context, lender, id, actor, note string, now time.Time) error
}

func consoleStore(t *testing.T, s nudge.Store) ConsoleStore {
	t.Helper()
	cs, ok := s.(ConsoleStore)
	if !ok {
		t.Skip("the store does not implement ConsoleStore")
	}
	return cs
}

func testSearchAccounts(t *testing.T, s nudge.Store) {
	cs := consoleStore(t, s)
	ctx := context.Background()
	ana := Account("acme", "LN-1001") // Ana Diaz, +15125550100, ana@example.com
	bo := Account("acme", "ln-2002")
	bo.Borrower.Name = "Bo Díaz-Li"
	bo.Contacts = []nudge.Contact{{Channel: nudge.Voice, Address: "+12125550123", Consent: true}, {Channel: nudge.Email, Address: "bo@example.org"}}
	foreign := Account("beta", "LN-1001")
	foreign.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+12125550123", Consent: true}}
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{ana, bo, foreign}, T0))

	ids := func(ms []store.AccountMatch) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Account.Lender+"/"+m.Account.ID+" by "+m.By)
		}
		return out
	}
	tests := []struct {
		name string
		q    store.AccountSearch
		want []string
	}{
		{name: "id in another case", q: store.AccountSearch{ID: "ln-1001"}, want: []string{"acme/LN-1001 by id"}},
		{name: "lower-case id stored", q: store.AccountSearch{ID: "LN-2002"}, want: []string{"acme/ln-2002 by id"}},
		{name: "phone on a voice contact", q: store.AccountSearch{Phones: []string{"+12125550123"}}, want: []string{"acme/ln-2002 by phone"}},
		{name: "email in another case", q: store.AccountSearch{Email: "ANA@Example.com"}, want: []string{"acme/LN-1001 by email"}},
		{name: "name part in another case", q: store.AccountSearch{Name: "DIAZ"}, want: []string{"acme/LN-1001 by name"}},
		{name: "name with a wildcard is literal", q: store.AccountSearch{Name: "d_az"}, want: nil},
		{name: "each account once, first match wins", q: store.AccountSearch{ID: "ln-1001", Email: "ana@example.com", Name: "ana"},
			want: []string{"acme/LN-1001 by id"}},
		{name: "several", q: store.AccountSearch{Phones: []string{"+12125550123"}, Name: "ana"},
			want: []string{"acme/ln-2002 by phone", "acme/LN-1001 by name"}},
		{name: "nothing", q: store.AccountSearch{ID: "LN-9", Name: "zed"}, want: nil},
	}
	for _, tt := range tests {
		tt.q.Lender, tt.q.Limit = "acme", 10
		got, err := cs.SearchAccounts(ctx, tt.q)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, ids(got), tt.name)
	}
	got, err := cs.SearchAccounts(ctx, store.AccountSearch{Lender: "acme", Phones: []string{"+12125550123"}, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, "Bo Díaz-Li", got[0].Account.Borrower.Name, "the account comes whole")
	require.Len(t, got[0].Account.Contacts, 2)

	limited, err := cs.SearchAccounts(ctx, store.AccountSearch{Lender: "acme", Name: "a", Limit: 1})
	require.NoError(t, err)
	require.Len(t, limited, 1)

	_, err = cs.SearchAccounts(ctx, store.AccountSearch{ID: "x", Limit: 1})
	require.ErrorContains(t, err, "lender is required")

	// An erased borrower is found by neither name nor number.
	if es, ok := s.(Eraser); ok {
		require.NoError(t, es.ErasePersonalData(ctx, "acme", "ln-2002", T0.Add(time.Hour)))
		got, err := cs.SearchAccounts(ctx, store.AccountSearch{Lender: "acme", Phones: []string{"+12125550123"}, Name: "bo", Limit: 10})
		require.NoError(t, err)
		require.Empty(t, got)
	}
}

func testConsoleLists(t *testing.T, s nudge.Store) {
	cs := consoleStore(t, s)
	ctx := context.Background()
	day := 24 * time.Hour
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1"), Account("acme", "A-2"), Account("beta", "A-1")}, T0))

	// Five reminders of acme and one of beta.
	var rs []nudge.Reminder
	for i, acct := range []string{"A-1", "A-2", "A-1", "A-2", "A-1"} {
		rs = append(rs, Reminder("acme", acct, "s"+string(rune('1'+i)), T0.Add(time.Duration(i)*time.Hour)))
	}
	rs = append(rs, Reminder("beta", "A-1", "s1", T0))
	inserted, err := s.InsertReminders(ctx, rs)
	require.NoError(t, err)
	require.Len(t, inserted, len(rs))

	// Attempts: failed with 30007 and 21610, undelivered with 30003, an
	// unknown one, a delivered one; beta's failed one.
	type att struct {
		r      int
		status nudge.AttemptStatus
		code   string
		at     time.Duration
	}
	var attIDs []string
	for _, a := range []att{
		{0, nudge.AttemptFailed, "30007", time.Hour},
		{1, nudge.AttemptFailed, "21610", 2 * time.Hour},
		{2, nudge.AttemptUndelivered, "30003", 3 * time.Hour},
		{3, nudge.AttemptUnknown, "no_answer", 4 * time.Hour},
		{4, nudge.AttemptDelivered, "", 5 * time.Hour},
		{5, nudge.AttemptFailed, "30007", time.Hour},
	} {
		r := inserted[a.r]
		claimed, err := s.ClaimAttempt(ctx, nudge.Attempt{ReminderID: r.ID, Lender: r.Key.Lender, AccountID: r.Key.AccountID,
			Channel: nudge.SMS, Address: "+15125550100", Status: nudge.AttemptClaimed, CreatedAt: T0.Add(a.at)}, nil)
		require.NoError(t, err)
		_, err = s.UpdateAttempt(ctx, claimed.ID, nudge.AttemptUpdate{Status: a.status, ErrorCode: a.code,
			Body: "Acme: $412.50 was due", Template: "late_sms@en:0123456789ab", At: T0.Add(a.at)})
		require.NoError(t, err)
		attIDs = append(attIDs, claimed.ID)
	}
	got, err := s.GetAttempt(ctx, attIDs[0])
	require.NoError(t, err)
	require.Equal(t, "late_sms@en:0123456789ab", got.Template, "the template version is stored with the attempt")
	require.Equal(t, "Acme: $412.50 was due", got.Body)

	page := func(q store.AttemptQuery) []string {
		t.Helper()
		q.Lender, q.Since, q.Until = "acme", T0, T0.Add(day)
		if q.Limit == 0 {
			q.Limit = 10
		}
		as, err := cs.PageAttempts(ctx, q)
		require.NoError(t, err)
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	failed := []nudge.AttemptStatus{nudge.AttemptFailed, nudge.AttemptUndelivered}
	require.Equal(t, []string{attIDs[2], attIDs[1], attIDs[0]}, page(store.AttemptQuery{Statuses: failed, Newest: true}),
		"failed and undelivered, newest first, another lender's left out")
	require.Equal(t, []string{attIDs[0]}, page(store.AttemptQuery{Statuses: failed, ErrorCode: "30007"}))
	require.Equal(t, []string{attIDs[3]}, page(store.AttemptQuery{Status: nudge.AttemptUnknown}))
	require.Empty(t, page(store.AttemptQuery{Statuses: failed, Channel: nudge.Voice}))
	// Pages newest first, two at a time, join up without a gap or a repeat.
	first, err := cs.PageAttempts(ctx, store.AttemptQuery{Lender: "acme", Since: T0, Until: T0.Add(day), Newest: true, Limit: 2})
	require.NoError(t, err)
	require.Len(t, first, 2)
	second := page(store.AttemptQuery{Newest: true, Limit: 2, After: store.Cursor{At: first[1].CreatedAt, ID: first[1].ID}})
	require.Equal(t, []string{attIDs[2], attIDs[1]}, second)
	third := page(store.AttemptQuery{Newest: true, Limit: 2, After: store.Cursor{At: T0.Add(time.Hour), ID: attIDs[0]}})
	require.Empty(t, third)

	// Deferrals: two at planning time (quiet hours, one reminder twice),
	// one at send time; a retry's enqueued event is not a deferral;
	// a suppression.
	until := T0.Add(14 * time.Hour)
	pd, err := json.Marshal(map[string]any{"process_at": until, "channel": "sms"})
	require.NoError(t, err)
	sd, err := json.Marshal(map[string]any{"explanation": "Deferred until 8 am.", "until": until.Add(time.Hour)})
	require.NoError(t, err)
	for _, e := range []nudge.Event{
		{ReminderID: inserted[0].ID, AccountID: "A-1", Kind: nudge.EventEnqueued, Reason: nudge.ReasonQuietHours, Detail: pd, At: T0},
		{ReminderID: inserted[1].ID, AccountID: "A-2", Kind: nudge.EventEnqueued, Reason: nudge.ReasonQuietHours, Detail: pd, At: T0},
		{ReminderID: inserted[1].ID, AccountID: "A-2", Kind: nudge.EventDecision, Action: "defer", Reason: nudge.ReasonQuietHours,
			Rule: "window.us", Detail: sd, At: T0.Add(time.Hour)},
		{ReminderID: inserted[2].ID, AccountID: "A-1", Kind: nudge.EventEnqueued, Reason: nudge.ReasonRetried, At: T0},
		{ReminderID: inserted[3].ID, AccountID: "A-2", Kind: nudge.EventEnqueued, At: T0},
		{ReminderID: inserted[4].ID, AccountID: "A-1", Kind: nudge.EventDecision, Action: "suppress", Reason: nudge.ReasonOptedOut,
			Rule: "consent.opt_out", At: T0.Add(time.Hour)},
		{ReminderID: inserted[4].ID, AccountID: "A-1", Kind: nudge.EventDecision, Action: "defer", Reason: nudge.ReasonQuietHours,
			At: T0.Add(-day)}, // before the range
	} {
		e.Lender = "acme"
		require.NoError(t, s.AppendEvent(ctx, e))
	}
	require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "beta", AccountID: "A-1", ReminderID: inserted[5].ID,
		Kind: nudge.EventEnqueued, Reason: nudge.ReasonQuietHours, At: T0}))

	q := store.OpsQuery{Lender: "acme", Since: T0, Until: T0.Add(day)}
	sum, err := cs.OpsSummary(ctx, q)
	require.NoError(t, err)
	require.Equal(t, 2, sum.Deferred, "each deferred reminder once, planning deferrals included")
	require.Equal(t, 1, sum.Suppressed)
	require.Contains(t, sum.Decisions, store.DecisionCount{Action: "defer", Reason: nudge.ReasonQuietHours, Rule: store.RulePlanningWindow, N: 2})
	require.Contains(t, sum.Decisions, store.DecisionCount{Action: "defer", Reason: nudge.ReasonQuietHours, Rule: "window.us", N: 1})

	deferred, err := cs.PageDecided(ctx, store.DecidedQuery{Lender: "acme", Action: store.ActionDefer, Since: T0, Until: T0.Add(day), Limit: 10})
	require.NoError(t, err)
	require.Len(t, deferred, sum.Deferred, "the list is what the count counts")
	require.Equal(t, inserted[0].ID, deferred[0].Reminder.ID)
	require.Equal(t, store.RulePlanningWindow, deferred[0].Rule)
	require.Equal(t, nudge.ReasonQuietHours, deferred[0].Reason)
	require.True(t, until.Equal(deferred[0].Until), "a planning deferral's next time is its process time")
	require.Equal(t, inserted[1].ID, deferred[1].Reminder.ID)
	require.Equal(t, "window.us", deferred[1].Rule, "the last deferral wins")
	require.Equal(t, "Deferred until 8 am.", deferred[1].Explanation)
	require.True(t, until.Add(time.Hour).Equal(deferred[1].Until))

	paged, err := cs.PageDecided(ctx, store.DecidedQuery{Lender: "acme", Action: store.ActionDefer, Since: T0, Until: T0.Add(day), Offset: 1, Limit: 1})
	require.NoError(t, err)
	require.Len(t, paged, 1)
	require.Equal(t, inserted[1].ID, paged[0].Reminder.ID)

	suppressed, err := cs.PageDecided(ctx, store.DecidedQuery{Lender: "acme", Action: store.ActionSuppress, Since: T0, Until: T0.Add(day), Limit: 10})
	require.NoError(t, err)
	require.Len(t, suppressed, 1)
	require.Equal(t, nudge.ReasonOptedOut, suppressed[0].Reason)
	_, err = cs.PageDecided(ctx, store.DecidedQuery{Lender: "acme", Action: "send", Since: T0, Until: T0.Add(day), Limit: 10})
	require.ErrorContains(t, err, `action "send"`)
	_, err = cs.PageDecided(ctx, store.DecidedQuery{Lender: "acme", Action: store.ActionDefer, Since: T0, Until: T0.Add(day), Offset: -1, Limit: 10})
	require.ErrorContains(t, err, "offset -1")

	// Opt-outs with the accounts they stop.
	for _, o := range []nudge.OptOut{
		{Lender: "acme", Channel: nudge.SMS, Address: "+15125550100", Source: "sms_keyword", CreatedAt: T0.Add(time.Hour)},
		{Lender: "acme", Channel: nudge.Email, Address: "nobody@example.com", Source: "email_link", CreatedAt: T0.Add(2 * time.Hour)},
		{Lender: "beta", Channel: nudge.SMS, Address: "+15125550100", Source: "api", CreatedAt: T0.Add(time.Hour)},
	} {
		_, err := s.AddOptOut(ctx, o)
		require.NoError(t, err)
	}
	oos, err := cs.PageOptOuts(ctx, store.OptOutQuery{Lender: "acme", Since: T0, Until: T0.Add(day), Limit: 10})
	require.NoError(t, err)
	require.Len(t, oos, 2)
	require.Equal(t, "nobody@example.com", oos[0].Address, "newest first")
	require.Empty(t, oos[0].AccountIDs)
	require.Equal(t, []string{"A-1", "A-2"}, oos[1].AccountIDs)
	sms, err := cs.PageOptOuts(ctx, store.OptOutQuery{Lender: "acme", Since: T0, Until: T0.Add(day), Channel: nudge.SMS, Limit: 10})
	require.NoError(t, err)
	require.Len(t, sms, 1)
}

func testReplyQueue(t *testing.T, s nudge.Store) {
	cs := consoleStore(t, s)
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1"), Account("beta", "A-1")}, T0))
	for _, r := range []nudge.Reply{
		{ID: "rep_q1", Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, Body: "call me", Intent: nudge.IntentTalkToPerson,
			NeedsPerson: true, CreatedAt: T0},
		{ID: "rep_q2", Lender: "acme", AccountID: "A-1", Channel: nudge.Voice, Body: "1", Intent: nudge.IntentPromise, CreatedAt: T0.Add(time.Minute)},
		{ID: "rep_q3", Lender: "acme", Channel: nudge.SMS, Body: "who is this", Intent: nudge.IntentUnknown, NeedsPerson: true,
			CreatedAt: T0.Add(2 * time.Minute)},
		{ID: "rep_q4", Lender: "beta", AccountID: "A-1", Channel: nudge.SMS, Body: "lawyer", Intent: nudge.IntentLegalThreat,
			NeedsPerson: true, CreatedAt: T0},
	} {
		_, err := s.InsertReply(ctx, r)
		require.NoError(t, err)
	}
	require.NoError(t, s.InsertPromise(ctx, nudge.Promise{ID: "prm_q2", Lender: "acme", AccountID: "A-1", Amount: "300.00", Currency: "USD",
		Due: nudge.MustDate("2026-06-05"), Status: nudge.PromisePending, Channel: nudge.Voice, ReplyID: "rep_q2", CreatedAt: T0.Add(time.Minute)}))

	rng := store.OpsQuery{Lender: "acme", Since: T0, Until: T0.Add(time.Hour)}
	open := func() []string {
		t.Helper()
		rows, err := cs.PageReplies(ctx, store.ReplyQuery{Lender: "acme", Since: rng.Since, Until: rng.Until, Open: true, Limit: 10})
		require.NoError(t, err)
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		sum, err := cs.OpsSummary(ctx, rng)
		require.NoError(t, err)
		require.Equal(t, len(out), sum.NeedsPerson, "the count is the queue")
		return out
	}
	require.Equal(t, []string{"rep_q3", "rep_q1"}, open())

	all, err := cs.PageReplies(ctx, store.ReplyQuery{Lender: "acme", Since: rng.Since, Until: rng.Until, Limit: 10})
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, "rep_q2", all[1].ID)
	require.Equal(t, "300.00", all[1].Promise.Amount, "a reply comes with the promise it made")
	require.Equal(t, nudge.MustDate("2026-06-05"), all[1].Promise.Due)
	require.Empty(t, all[0].Promise.ID)
	voice, err := cs.PageReplies(ctx, store.ReplyQuery{Lender: "acme", Since: rng.Since, Until: rng.Until, Channel: nudge.Voice, Limit: 10})
	require.NoError(t, err)
	require.Len(t, voice, 1)

	at := T0.Add(10 * time.Minute)
	require.NoError(t, cs.AssignReply(ctx, "acme", "rep_q1", "key_ops", "key_ops", at))
	rows, err := cs.PageReplies(ctx, store.ReplyQuery{Lender: "acme", Since: rng.Since, Until: rng.Until, Open: true, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, "key_ops", rows[1].Assignee)
	require.Equal(t, at, rows[1].AssignedAt)
	require.Equal(t, []string{"rep_q3", "rep_q1"}, open(), "an assigned reply is still open")

	require.ErrorContains(t, cs.ResolveReply(ctx, "acme", "rep_q1", "key_ops", "  ", at), "note is required")
	require.NoError(t, cs.ResolveReply(ctx, "acme", "rep_q1", "key_ops", "Called back; she pays Friday.", at.Add(time.Minute)))
	require.Equal(t, []string{"rep_q3"}, open(), "a resolved reply leaves the queue")
	require.ErrorIs(t, cs.ResolveReply(ctx, "acme", "rep_q1", "key_ops", "again", at), nudge.ErrConflict)
	require.ErrorIs(t, cs.AssignReply(ctx, "acme", "rep_q1", "key_2", "key_2", at), nudge.ErrConflict)
	require.ErrorIs(t, cs.ResolveReply(ctx, "acme", "rep_q2", "key_ops", "no", at), nudge.ErrConflict, "a reply that needs no person")
	require.ErrorIs(t, cs.ResolveReply(ctx, "acme", "rep_q4", "key_ops", "not mine", at), nudge.ErrNotFound, "another lender's reply")
	require.ErrorIs(t, cs.AssignReply(ctx, "acme", "rep_missing", "key_ops", "key_ops", at), nudge.ErrNotFound)

	all, err = cs.PageReplies(ctx, store.ReplyQuery{Lender: "acme", Since: rng.Since, Until: rng.Until, Limit: 10})
	require.NoError(t, err)
	resolved := all[2]
	require.Equal(t, "rep_q1", resolved.ID)
	require.Equal(t, "key_ops", resolved.ResolvedBy)
	require.Equal(t, at.Add(time.Minute), resolved.ResolvedAt)
	require.Equal(t, "Called back; she pays Friday.", resolved.Resolution)
	require.False(t, resolved.Open())

	audit, err := s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, audit, 2, "both actions stay in the audit log")
	require.Equal(t, store.AuditAssignReply, audit[0].Action)
	require.Equal(t, "A-1", audit[0].Target)
	require.JSONEq(t, `{"reply": "rep_q1", "assignee": "key_ops"}`, audit[0].Detail)
	require.Equal(t, store.AuditResolveReply, audit[1].Action)
	require.Equal(t, "key_ops", audit[1].Actor)
	require.JSONEq(t, `{"reply": "rep_q1", "note": "Called back; she pays Friday."}`, audit[1].Detail)

	// An unmatched reply is resolved too; its audit entry names the reply.
	require.NoError(t, cs.ResolveReply(ctx, "acme", "rep_q3", "key_ops", "Wrong number, no account.", at))
	require.Empty(t, open())
	audit, err = s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "reply:rep_q3", audit[2].Target)

	beta, err := cs.NeedsPersonReplies(ctx, "beta", 10)
	require.NoError(t, err)
	require.Len(t, beta, 1, "another lender's queue is untouched")
}
