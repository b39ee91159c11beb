package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// PageStore is what the lender API reads beyond nudge.Store: keyset pages,
// an account's replies and a lender's keys. The suite checks it when the
// store under test implements it.
type PageStore interface {
	PageReminders(ctx context.Context, q store.ReminderQuery) ([]nudge.Reminder, error)
	PageAttempts(ctx context.Context, q store.AttemptQuery) ([]nudge.Attempt, error)
	PagePromises(ctx context.Context, q store.PromiseQuery) ([]nudge.Promise, error)
	AccountReplies(ctx context.Context, lender, accountID string) ([]nudge.Reply, error)
	ListAPIKeys(ctx context.Context, lender string) ([]nudge.APIKey, error)
}

// pageAll reads every page of size n through next and returns the ids seen.
func pageAll(t *testing.T, n int, next func(after store.Cursor, limit int) ([]string, store.Cursor)) []string {
	t.Helper()
	var (
		ids   []string
		after store.Cursor
	)
	for range 100 {
		page, last := next(after, n)
		require.LessOrEqual(t, len(page), n)
		ids = append(ids, page...)
		if len(page) < n {
			return ids
		}
		after = last
	}
	t.Fatal("pagination did not end")
	return nil
}

func testAPIPages(t *testing.T, s nudge.Store) {
	ps, ok := s.(PageStore)
	if !ok {
		t.Skip("the store does not implement PageStore")
	}
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1"), Account("acme", "A-2"), Account("beta", "A-1")}, T0))

	// Reminders: 7 for acme (two share a due time), 2 for beta.
	var rs []nudge.Reminder
	for i := range 7 {
		acct := "A-1"
		if i%2 == 1 {
			acct = "A-2"
		}
		due := T0.Add(time.Duration(i/2) * time.Hour)
		rs = append(rs, nudge.Reminder{Key: nudge.ReminderKey{Lender: "acme", AccountID: acct, Cadence: "c", Step: fmt.Sprintf("s%d", i),
			Cycle: nudge.MustDate("2026-06-05")}, Channel: nudge.SMS, DueAt: due, CreatedAt: T0})
	}
	for i := range 2 {
		rs = append(rs, nudge.Reminder{Key: nudge.ReminderKey{Lender: "beta", AccountID: "A-1", Cadence: "c", Step: fmt.Sprintf("b%d", i),
			Cycle: nudge.MustDate("2026-06-05")}, Channel: nudge.Email, DueAt: T0, CreatedAt: T0})
	}
	inserted, err := s.InsertReminders(ctx, rs)
	require.NoError(t, err)
	require.Len(t, inserted, 9)

	remPages := func(q store.ReminderQuery) func(store.Cursor, int) ([]string, store.Cursor) {
		return func(after store.Cursor, limit int) ([]string, store.Cursor) {
			q.After, q.Limit = after, limit
			got, err := ps.PageReminders(ctx, q)
			require.NoError(t, err)
			var ids []string
			var last store.Cursor
			for _, r := range got {
				require.Equal(t, q.Lender, r.Key.Lender, "a page never leaves its lender")
				ids = append(ids, r.ID)
				last = store.Cursor{At: r.DueAt, ID: r.ID}
			}
			return ids, last
		}
	}
	all := pageAll(t, 100, remPages(store.ReminderQuery{Lender: "acme"}))
	require.Len(t, all, 7)
	for _, n := range []int{1, 2, 3, 6, 7} {
		require.Equal(t, all, pageAll(t, n, remPages(store.ReminderQuery{Lender: "acme"})), "page size %d", n)
	}
	require.Len(t, pageAll(t, 2, remPages(store.ReminderQuery{Lender: "acme", AccountID: "A-2"})), 3)
	require.Empty(t, pageAll(t, 2, remPages(store.ReminderQuery{Lender: "acme", Channel: nudge.Email})))
	require.Len(t, pageAll(t, 2, remPages(store.ReminderQuery{Lender: "beta"})), 2)
	_, err = s.CancelReminders(ctx, "acme", "A-1", nudge.ReasonCanceled, T0)
	require.NoError(t, err)
	require.Len(t, pageAll(t, 3, remPages(store.ReminderQuery{Lender: "acme", Status: nudge.ReminderCanceled})), 4)
	_, err = ps.PageReminders(ctx, store.ReminderQuery{Lender: "acme", Limit: 0})
	require.Error(t, err, "a page needs a size")
	_, err = ps.PageReminders(ctx, store.ReminderQuery{Limit: 10})
	require.Error(t, err, "a page needs a lender")

	// Attempts: one per acme reminder, a minute apart.
	for i, r := range inserted[:7] {
		_, err := s.ClaimAttempt(ctx, nudge.Attempt{ReminderID: r.ID, Lender: "acme", AccountID: r.Key.AccountID, Channel: nudge.SMS,
			Address: "+15125550100", CreatedAt: T0.Add(time.Duration(i) * time.Minute)}, nil)
		require.NoError(t, err)
	}
	attPages := func(q store.AttemptQuery) func(store.Cursor, int) ([]string, store.Cursor) {
		return func(after store.Cursor, limit int) ([]string, store.Cursor) {
			q.After, q.Limit = after, limit
			got, err := ps.PageAttempts(ctx, q)
			require.NoError(t, err)
			var ids []string
			var last store.Cursor
			for i, a := range got {
				require.Equal(t, q.Lender, a.Lender)
				if i > 0 {
					require.False(t, a.CreatedAt.Before(got[i-1].CreatedAt), "oldest first")
				}
				ids = append(ids, a.ID)
				last = store.Cursor{At: a.CreatedAt, ID: a.ID}
			}
			return ids, last
		}
	}
	require.Len(t, pageAll(t, 2, attPages(store.AttemptQuery{Lender: "acme"})), 7)
	require.Len(t, pageAll(t, 2, attPages(store.AttemptQuery{Lender: "acme", Since: T0.Add(2 * time.Minute), Until: T0.Add(5 * time.Minute)})), 3)
	require.Len(t, pageAll(t, 2, attPages(store.AttemptQuery{Lender: "acme", AccountID: "A-1", Status: nudge.AttemptSending})), 4)
	require.Empty(t, pageAll(t, 2, attPages(store.AttemptQuery{Lender: "beta"})))

	// Promises, one without a creation time (sorted first).
	for i := range 5 {
		created := T0.Add(time.Duration(i) * time.Hour)
		if i == 4 {
			created = time.Time{}
		}
		require.NoError(t, s.InsertPromise(ctx, nudge.Promise{ID: fmt.Sprintf("p%d", i), Lender: "acme", AccountID: "A-1", Amount: "10",
			Currency: "USD", Due: nudge.MustDate("2026-06-10"), CreatedAt: created}))
	}
	require.NoError(t, s.InsertPromise(ctx, nudge.Promise{ID: "pb", Lender: "beta", AccountID: "A-1", Amount: "1", CreatedAt: T0}))
	require.NoError(t, s.SetPromiseStatus(ctx, "p1", nudge.PromiseKept, T0))
	prmPages := func(q store.PromiseQuery) func(store.Cursor, int) ([]string, store.Cursor) {
		return func(after store.Cursor, limit int) ([]string, store.Cursor) {
			q.After, q.Limit = after, limit
			got, err := ps.PagePromises(ctx, q)
			require.NoError(t, err)
			var ids []string
			var last store.Cursor
			for _, p := range got {
				ids = append(ids, p.ID)
				last = store.Cursor{At: p.CreatedAt, ID: p.ID}
			}
			return ids, last
		}
	}
	require.Equal(t, []string{"p4", "p0", "p1", "p2", "p3"}, pageAll(t, 2, prmPages(store.PromiseQuery{Lender: "acme"})))
	require.Equal(t, []string{"p1"}, pageAll(t, 2, prmPages(store.PromiseQuery{Lender: "acme", Status: nudge.PromiseKept})))
	require.Equal(t, []string{"pb"}, pageAll(t, 2, prmPages(store.PromiseQuery{Lender: "beta"})))
}

func testAccountRepliesAndKeys(t *testing.T, s nudge.Store) {
	ps, ok := s.(PageStore)
	if !ok {
		t.Skip("the store does not implement PageStore")
	}
	ctx := context.Background()
	for i, r := range []nudge.Reply{
		{ID: "r1", Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, Body: "STOP", CreatedAt: T0.Add(time.Minute)},
		{ID: "r2", Lender: "acme", AccountID: "A-2", Channel: nudge.SMS, Body: "?", CreatedAt: T0},
		{ID: "r3", Lender: "beta", AccountID: "A-1", Channel: nudge.SMS, Body: "PAID", CreatedAt: T0},
		{ID: "r0", Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, Body: "HELP", CreatedAt: T0},
	} {
		ok, err := s.InsertReply(ctx, r)
		require.NoError(t, err, "reply %d", i)
		require.True(t, ok)
	}
	got, err := ps.AccountReplies(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "r0", got[0].ID)
	require.Equal(t, "r1", got[1].ID)

	require.NoError(t, s.CreateAPIKey(ctx, nudge.APIKey{ID: "k2", Lender: "acme", Role: nudge.RoleViewer, Hash: "h2", CreatedAt: T0.Add(time.Hour)}))
	require.NoError(t, s.CreateAPIKey(ctx, nudge.APIKey{ID: "k1", Lender: "acme", Role: nudge.RoleAdmin, Hash: "h1", CreatedAt: T0}))
	require.NoError(t, s.CreateAPIKey(ctx, nudge.APIKey{ID: "k3", Lender: "beta", Role: nudge.RoleAdmin, Hash: "h3", CreatedAt: T0}))
	keys, err := ps.ListAPIKeys(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.Equal(t, "k1", keys[0].ID)
	require.Equal(t, nudge.RoleAdmin, keys[0].Role)
	require.Equal(t, "k2", keys[1].ID)
	require.Equal(t, T0.Add(time.Hour), keys[1].CreatedAt)
}
