package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// PlanStore is what set-based planning needs beyond nudge.Store: the
// promises of a batch of accounts in one read, and a batch's reminders,
// events and next actions in one transaction. The suite checks it when the
// store under test implements it.
type PlanStore interface {
	DueLenders(ctx context.Context, at time.Time) ([]string, error)
	DueAccountsAfter(ctx context.Context, lender string, at time.Time, after nudge.Account, limit int) ([]nudge.Account, error)
	PromisesOf(ctx context.Context, accts []nudge.Account) ([]nudge.Promise, error)
	SavePlan(ctx context.Context, rs []nudge.Reminder, events []nudge.Event, next []nudge.Account) ([]nudge.Reminder, error)
}

func testPlan(t *testing.T, s nudge.Store) {
	ps, ok := s.(PlanStore)
	if !ok {
		t.Skip("the store does not implement PlanStore")
	}
	t.Run("DueAccountsAfter", func(t *testing.T) { testDueAccountsAfter(t, s, ps) })
	t.Run("PromisesOf", func(t *testing.T) { testPromisesOf(t, s, ps) })
	t.Run("SavePlan", func(t *testing.T) { testSavePlan(t, s, ps) })
	t.Run("SavePlanConcurrent", func(t *testing.T) { testSavePlanConcurrent(t, s, ps) })
	t.Run("SavePlanLargeBatch", func(t *testing.T) { testSavePlanLargeBatch(t, s, ps) })
}

// testDueAccountsAfter reads each lender's due accounts page by page, each
// page after the last account of the one before, while the pages already
// read are planned: every due account is read once, in DueAccounts' order
// within its lender.
func testDueAccountsAfter(t *testing.T, s nudge.Store, ps PlanStore) {
	ctx := context.Background()
	var accts []nudge.Account
	for _, lender := range []string{"due-b", "due-a"} {
		for i := range 4 {
			accts = append(accts, Account(lender, fmt.Sprintf("K-%d", i)))
		}
	}
	// Every account is marked at T0 (ties broken by lender and id), then
	// two are moved earlier, one later and one never.
	require.NoError(t, s.UpsertAccounts(ctx, accts, T0))
	require.NoError(t, s.SetNextAction(ctx, "due-b", "K-3", T0.Add(-2*time.Minute)))
	require.NoError(t, s.SetNextAction(ctx, "due-a", "K-2", T0.Add(-time.Minute)))
	require.NoError(t, s.SetNextAction(ctx, "due-a", "K-0", T0.Add(time.Hour)))
	require.NoError(t, s.SetNextAction(ctx, "due-b", "K-1", time.Time{}))
	all, err := s.DueAccounts(ctx, T0, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"due-b/K-3", "due-a/K-2", "due-a/K-1", "due-a/K-3", "due-b/K-0", "due-b/K-2"}, keysOf(all))

	lenders, err := ps.DueLenders(ctx, T0)
	require.NoError(t, err)
	require.Subset(t, lenders, []string{"due-a", "due-b"})
	later, err := ps.DueLenders(ctx, T0.Add(-90*time.Second))
	require.NoError(t, err)
	require.Contains(t, later, "due-b", "due-b/K-3 is due 2 minutes before T0")
	require.NotContains(t, later, "due-a", "due-a's first is due a minute before T0")

	want := map[string][]string{
		"due-a": {"due-a/K-2", "due-a/K-1", "due-a/K-3"},
		"due-b": {"due-b/K-3", "due-b/K-0", "due-b/K-2"},
	}
	for lender, keys := range want {
		first, err := ps.DueAccountsAfter(ctx, lender, T0, nudge.Account{}, 100)
		require.NoError(t, err)
		require.Equal(t, keys, keysOf(first), "a zero after reads from the lender's first due account")
		none, err := ps.DueAccountsAfter(ctx, lender, T0, nudge.Account{}, 0)
		require.NoError(t, err)
		require.Empty(t, none)
	}
	for lender, keys := range want {
		var (
			got   []string
			after nudge.Account
		)
		for range 10 {
			page, err := ps.DueAccountsAfter(ctx, lender, T0, after, 2)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			require.LessOrEqual(t, len(page), 2)
			got = append(got, keysOf(page)...)
			// The page is planned meanwhile: its accounts are next due later.
			var next []nudge.Account
			for _, a := range page {
				require.NotEmpty(t, a.Contacts, "accounts come with their contacts")
				next = append(next, nudge.Account{Lender: a.Lender, ID: a.ID, NextActionAt: T0.Add(24 * time.Hour)})
			}
			_, err = ps.SavePlan(ctx, nil, nil, next)
			require.NoError(t, err)
			after = page[len(page)-1]
		}
		require.Equal(t, keys, got, "each of %s's due accounts once, in order", lender)
	}
}

func keysOf(accts []nudge.Account) []string {
	out := make([]string, len(accts))
	for i, a := range accts {
		out[i] = a.Lender + "/" + a.ID
	}
	return out
}

// testPromisesOf checks that one read of a batch returns every promise of
// its accounts, and only theirs, as ListPromises returns each account's.
func testPromisesOf(t *testing.T, s nudge.Store, ps PlanStore) {
	ctx := context.Background()
	promise := func(id, lender, acct string, created time.Time, status nudge.PromiseStatus) {
		t.Helper()
		require.NoError(t, s.InsertPromise(ctx, nudge.Promise{ID: id, Lender: lender, AccountID: acct, Amount: "10.00",
			Currency: "USD", Due: nudge.MustDate("2026-06-10"), Status: status, Channel: nudge.SMS, CreatedAt: created}))
	}
	// Created out of order, with a tie broken by id.
	promise("prm_p3", "acme", "P-1", T0.Add(2*time.Hour), nudge.PromisePending)
	promise("prm_p1", "acme", "P-1", T0, nudge.PromiseBroken)
	promise("prm_p2", "acme", "P-1", T0, nudge.PromiseKept)
	promise("prm_p4", "acme", "P-2", T0, nudge.PromisePending)
	promise("prm_p5", "beta", "P-1", T0, nudge.PromisePending)
	promise("prm_p6", "acme", "P-3", T0, nudge.PromisePending) // not asked for

	none, err := ps.PromisesOf(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, none)

	batch := []nudge.Account{{Lender: "beta", ID: "P-1"}, {Lender: "acme", ID: "P-2"}, {Lender: "acme", ID: "P-1"}, {Lender: "acme", ID: "P-0"}}
	got, err := ps.PromisesOf(ctx, batch)
	require.NoError(t, err)
	var want []nudge.Promise
	for _, k := range [][2]string{{"acme", "P-1"}, {"acme", "P-2"}, {"beta", "P-1"}} {
		one, err := s.ListPromises(ctx, k[0], k[1])
		require.NoError(t, err)
		want = append(want, one...)
	}
	require.Equal(t, want, got, "grouped by lender and account, oldest first within one")
	ids := make([]string, len(got))
	for i, p := range got {
		ids[i] = p.ID
	}
	require.Equal(t, []string{"prm_p1", "prm_p2", "prm_p3", "prm_p4", "prm_p5"}, ids)
}

// planned is a reminder of the account as planning stores it: queued at
// its process time.
func planned(lender, acct, step string, processAt time.Time) nudge.Reminder {
	r := Reminder(lender, acct, step, T0.Add(-time.Minute))
	r.Status, r.NextAt, r.UpdatedAt = nudge.ReminderQueued, processAt, T0
	return r
}

// enqueuedEvent is the event planning writes for r.
func enqueuedEvent(r nudge.Reminder, reason nudge.Reason) nudge.Event {
	detail, _ := json.Marshal(map[string]any{"process_at": r.NextAt, "channel": r.Channel})
	return nudge.Event{Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID, Kind: nudge.EventEnqueued,
		Reason: reason, Detail: detail, At: T0}
}

// dueIDs returns the lender/id of the accounts of acme and beta due at at.
func dueIDs(t *testing.T, s nudge.Store, at time.Time) []string {
	t.Helper()
	due, err := s.DueAccounts(context.Background(), at, 1000)
	require.NoError(t, err)
	var ids []string
	for _, a := range due {
		if a.Lender == "acme" || a.Lender == "beta" {
			ids = append(ids, a.Lender+"/"+a.ID)
		}
	}
	return ids
}

func testSavePlan(t *testing.T, s nudge.Store, ps PlanStore) {
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "S-1"), Account("acme", "S-2"), Account("beta", "S-1")}, T0))

	held := planned("acme", "S-1", "d0", T0.Add(3*time.Hour)) // held back until the window opens
	expired := Reminder("acme", "S-2", "d-3", T0.Add(-72*time.Hour))
	expired.Status, expired.Reason = nudge.ReminderExpired, nudge.ReasonExpired
	expiredEvent := nudge.Event{Lender: "acme", AccountID: "S-2", ReminderID: expired.ID, Kind: nudge.EventExpired,
		Reason: nudge.ReasonExpired, Detail: json.RawMessage(`{"due_at":"2026-05-29T15:00:00Z"}`), At: T0}
	note := nudge.Event{Lender: "beta", AccountID: "S-1", Kind: nudge.EventHold, Action: "note", At: T0}
	got, err := ps.SavePlan(ctx, []nudge.Reminder{held, expired},
		[]nudge.Event{enqueuedEvent(held, nudge.ReasonQuietHours), expiredEvent, note},
		[]nudge.Account{
			{Lender: "acme", ID: "S-1", NextActionAt: T0.Add(24 * time.Hour)},
			{Lender: "acme", ID: "S-2"},                                      // never
			{Lender: "beta", ID: "S-1", NextActionAt: T0.Add(time.Hour)},     // replaced by the next entry
			{Lender: "beta", ID: "S-1", NextActionAt: T0.Add(2 * time.Hour)}, // the last one wins
			{Lender: "acme", ID: "S-missing", NextActionAt: T0},              // gone: skipped
		})
	require.NoError(t, err)
	require.Equal(t, []nudge.Reminder{held, expired}, got, "inserted, in the order given")
	for _, r := range got {
		stored, err := s.GetReminder(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, stored)
	}

	evs, err := s.Events(ctx, "acme", "S-1")
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, nudge.EventEnqueued, evs[0].Kind)
	require.Equal(t, held.ID, evs[0].ReminderID)
	require.Equal(t, nudge.ReasonQuietHours, evs[0].Reason)
	require.JSONEq(t, `{"process_at":"2026-06-01T18:00:00Z","channel":"sms"}`, string(evs[0].Detail))
	require.True(t, T0.Equal(evs[0].At))
	evs, err = s.Events(ctx, "acme", "S-2")
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, nudge.EventExpired, evs[0].Kind)
	evs, err = s.Events(ctx, "beta", "S-1")
	require.NoError(t, err)
	require.Len(t, evs, 1, "an event of no reminder is appended")

	require.Empty(t, dueIDs(t, s, T0.Add(time.Hour)))
	require.Equal(t, []string{"beta/S-1"}, dueIDs(t, s, T0.Add(2*time.Hour)))
	require.Equal(t, []string{"beta/S-1", "acme/S-1"}, dueIDs(t, s, T0.Add(24*time.Hour)))
	require.Equal(t, []string{"beta/S-1", "acme/S-1"}, dueIDs(t, s, T0.AddDate(10, 0, 0)), "S-2 is never due again")

	// A second replica planned the same account: its reminder and its
	// events are not written again; a new step of the same batch is.
	again := held
	again.Template = "changed"
	more := planned("acme", "S-1", "d+1", T0.Add(25*time.Hour))
	more.ID, more.UpdatedAt = "", time.Time{}
	got, err = ps.SavePlan(ctx, []nudge.Reminder{again, more},
		[]nudge.Event{enqueuedEvent(again, nudge.ReasonNone), enqueuedEvent(planned("acme", "S-1", "d+1", T0.Add(25*time.Hour)), nudge.ReasonNone)},
		[]nudge.Account{{Lender: "acme", ID: "S-1", NextActionAt: T0.Add(48 * time.Hour)}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, more.Key.ID(), got[0].ID, "the id defaults to the key's")
	require.Equal(t, T0, got[0].UpdatedAt, "updated at defaults to created at")
	stored, err := s.GetReminder(ctx, held.ID)
	require.NoError(t, err)
	require.Equal(t, held, stored, "the first plan wins")
	evs, err = s.Events(ctx, "acme", "S-1")
	require.NoError(t, err)
	require.Len(t, evs, 2, "one event per reminder inserted")
	require.Equal(t, more.Key.ID(), evs[1].ReminderID)
	require.NotContains(t, dueIDs(t, s, T0.Add(47*time.Hour)), "acme/S-1")
	require.Contains(t, dueIDs(t, s, T0.Add(48*time.Hour)), "acme/S-1")

	// Nothing is written when any part is refused.
	bad := planned("acme", "S-2", "", T0)
	_, err = ps.SavePlan(ctx, []nudge.Reminder{planned("acme", "S-2", "d+9", T0), bad}, nil, nil)
	require.Error(t, err, "a reminder needs a step")
	_, err = ps.SavePlan(ctx, []nudge.Reminder{planned("acme", "S-2", "d+9", T0)},
		[]nudge.Event{{Lender: "acme", AccountID: "S-2", Kind: nudge.EventEnqueued, Detail: json.RawMessage(`{`), At: T0}}, nil)
	require.Error(t, err, "an event's detail must be JSON")
	list, err := s.ListReminders(ctx, "acme", "S-2")
	require.NoError(t, err)
	require.Len(t, list, 1, "only the expired reminder of the first plan")

	got, err = ps.SavePlan(ctx, nil, nil, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

// testSavePlanConcurrent runs one batch's plan from several replicas at once:
// each reminder and its event is written once, by one of them.
func testSavePlanConcurrent(t *testing.T, s nudge.Store, ps PlanStore) {
	ctx := context.Background()
	const (
		accounts = 40
		replicas = 4
	)
	accts := make([]nudge.Account, accounts)
	var (
		rs     []nudge.Reminder
		events []nudge.Event
		next   []nudge.Account
	)
	for i := range accts {
		accts[i] = Account("acme", fmt.Sprintf("C-%03d", i))
		r := planned("acme", accts[i].ID, "d0", T0)
		rs = append(rs, r)
		events = append(events, enqueuedEvent(r, nudge.ReasonNone))
		next = append(next, nudge.Account{Lender: "acme", ID: accts[i].ID, NextActionAt: T0.Add(24 * time.Hour)})
	}
	require.NoError(t, s.UpsertAccounts(ctx, accts, T0))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		won   = map[string]int{}
		errs  []error
		start = make(chan struct{})
	)
	for w := range replicas {
		// Each replica lists the batch in its own order.
		mine := make([]nudge.Reminder, len(rs))
		for i := range rs {
			mine[i] = rs[(i+w*7)%len(rs)]
		}
		wg.Go(func() {
			<-start
			got, err := ps.SavePlan(ctx, mine, events, next)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for _, r := range got {
				won[r.ID]++
			}
		})
	}
	close(start)
	wg.Wait()
	require.Empty(t, errs)
	require.Len(t, won, accounts)
	for id, n := range won {
		require.Equal(t, 1, n, "reminder %s inserted by one replica", id)
	}
	for _, a := range accts {
		evs, err := s.Events(ctx, "acme", a.ID)
		require.NoError(t, err)
		require.Len(t, evs, 1, "account %s", a.ID)
	}
	require.Empty(t, dueIDs(t, s, T0.Add(time.Hour)))
}

// testSavePlanLargeBatch writes a batch larger than one statement holds.
func testSavePlanLargeBatch(t *testing.T, s nudge.Store, ps PlanStore) {
	ctx := context.Background()
	const accounts = 1800 // two reminders and two events each: over one statement's rows
	accts := make([]nudge.Account, accounts)
	var (
		rs     []nudge.Reminder
		events []nudge.Event
		next   []nudge.Account
	)
	for i := range accts {
		accts[i] = nudge.Account{Lender: "big", ID: fmt.Sprintf("L-%04d", i), Status: nudge.StatusActive}
		for _, step := range []string{"d0", "d1"} {
			r := planned("big", accts[i].ID, step, T0)
			rs = append(rs, r)
			events = append(events, enqueuedEvent(r, nudge.ReasonNone))
		}
		next = append(next, nudge.Account{Lender: "big", ID: accts[i].ID})
	}
	require.NoError(t, s.UpsertAccounts(ctx, accts, T0))
	got, err := ps.SavePlan(ctx, rs, events, next)
	require.NoError(t, err)
	require.Len(t, got, len(rs))
	counts, err := s.CountRemindersByStatus(ctx, "big")
	require.NoError(t, err)
	require.Equal(t, map[nudge.ReminderStatus]int{nudge.ReminderQueued: len(rs)}, counts)
	for _, i := range []int{0, accounts / 2, accounts - 1} {
		evs, err := s.Events(ctx, "big", accts[i].ID)
		require.NoError(t, err)
		require.Len(t, evs, 2, "account %s", accts[i].ID)
	}
	due, err := s.DueAccounts(ctx, T0.AddDate(10, 0, 0), accounts)
	require.NoError(t, err)
	for _, a := range due {
		require.NotEqual(t, "big", a.Lender, "every account of the batch is never due again")
	}
}
