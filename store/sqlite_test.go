package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

// openSQLite returns a migrated store in a fresh file under t.TempDir,
// keyed with a secret as a deployment's is.
func openSQLite(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"), store.WithSecret([]byte(hashSecret)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	return db
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) nudge.Store { return openSQLite(t) }, storetest.WithPortfolioSize(portfolioSize))
}

func TestSQLiteMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite::memory:")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{storetest.Account("acme", "A-1")}, storetest.T0))
	due, err := db.DueAccounts(ctx, storetest.T0, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
}

func TestSQLiteDueAccountsUsesIndex(t *testing.T) {
	t.Parallel()
	db := openSQLite(t)
	plan, err := db.ExplainDueAccounts(context.Background(), storetest.T0, 100)
	require.NoError(t, err)
	require.Contains(t, plan, "accounts_next_action")
	require.NotContains(t, plan, "SCAN accounts\n", "no full scan of the portfolio")
	require.NotContains(t, strings.ToUpper(plan), "TEMP B-TREE", "the index gives the order")
}

// TestSQLiteAccountSnapshotUsesAccountIndexes checks the plans of the reads
// the dispatcher makes for every reminder it sends, on a store that was
// never analyzed (the store never runs ANALYZE): each is a look-up by the
// account or the address, never a walk through the lender's attempts,
// promises or opt-outs, which grow with its traffic.
func TestSQLiteAccountSnapshotUsesAccountIndexes(t *testing.T) {
	t.Parallel()
	db := openSQLite(t)
	refs := []nudge.ContactRef{{Channel: nudge.SMS, Address: "+15125550100"}, {Channel: nudge.Email, Address: "ana@example.com"},
		{Channel: nudge.SMS, Address: "+15125550199"}}
	plans, err := db.ExplainAccountSnapshot(context.Background(), "acme", "A-1", storetest.T0, refs)
	require.NoError(t, err)
	require.Contains(t, plans["history"], "attempts_account (lender=? AND account_id=? AND created_at>?)", "plan:\n%s", plans["history"])
	require.NotContains(t, plans["history"], "TEMP B-TREE", "the index gives the order")
	require.Contains(t, plans["promise"], "promises_account (lender=? AND account_id=?)", "plan:\n%s", plans["promise"])
	require.NotContains(t, plans["promise"], "TEMP B-TREE", "the index gives the order")
	require.Contains(t, plans["opt-outs"], "(lender=? AND channel=? AND address_hash=?)", "plan:\n%s", plans["opt-outs"])
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	db, err := store.Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })

	v, err := db.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Zero(t, v, "Open does not migrate")
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.Migrate(ctx))
	migs, err := store.Migrations(store.SQLite)
	require.NoError(t, err)
	v, err = db.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, migs[len(migs)-1].Version, v)

	// A second process migrating the same file finds nothing to do.
	other, err := store.Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, other.Close()) })
	require.NoError(t, other.Migrate(ctx))
}

func TestCapErrorCarriesLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSQLite(t)
	limit := nudge.CapLimit{Channel: nudge.SMS, Window: time.Hour, Max: 1, Count: nudge.CountAll,
		Reason: nudge.ReasonFrequencyCap, Rule: "sms_per_hour"}
	_, err := db.ClaimAttempt(ctx, storetest.Attempt("rem_1", "A-1", nudge.SMS, storetest.T0), []nudge.CapLimit{limit})
	require.NoError(t, err)
	_, err = db.ClaimAttempt(ctx, storetest.Attempt("rem_2", "A-1", nudge.SMS, storetest.T0.Add(time.Minute)), []nudge.CapLimit{limit})
	require.ErrorIs(t, err, nudge.ErrCapReached)
	var capErr *store.CapError
	require.True(t, errors.As(err, &capErr))
	require.Equal(t, limit, capErr.Limit)
	require.Equal(t, 1, capErr.Count)
	require.Contains(t, err.Error(), "sms_per_hour")

	// An hour later the first attempt has left the window.
	_, err = db.ClaimAttempt(ctx, storetest.Attempt("rem_3", "A-1", nudge.SMS, storetest.T0.Add(time.Hour)), []nudge.CapLimit{limit})
	require.NoError(t, err)
}

func TestOpenURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		want    string
		wantErr bool
	}{
		{name: "absolute", url: "sqlite:///var/lib/nudge/nudge.db", want: "/var/lib/nudge/nudge.db"},
		{name: "relative", url: "sqlite:nudge.db", want: "nudge.db"},
		{name: "relative with slashes", url: "sqlite://data/nudge.db", want: "data/nudge.db"},
		{name: "localhost", url: "sqlite://localhost/var/nudge.db", want: "/var/nudge.db"},
		{name: "file", url: "file:/tmp/x.db", want: "/tmp/x.db"},
		{name: "file triple slash", url: "file:///tmp/x.db", want: "/tmp/x.db"},
		{name: "memory", url: "sqlite::memory:", want: ":memory:"},
		{name: "memory slashes", url: "sqlite://:memory:", want: ":memory:"},
		{name: "escaped", url: "sqlite:///tmp/my%20db.db", want: "/tmp/my db.db"},
		{name: "empty", url: "sqlite://", wantErr: true},
		{name: "query", url: "sqlite:///tmp/x.db?_pragma=foo", wantErr: true},
		{name: "other scheme", url: "mysql://x", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := store.SQLitePath(tc.url)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := store.Open(context.Background(), "mysql://localhost/nudge")
	require.ErrorContains(t, err, "unsupported")
}

// TestSQLiteClaimAcrossProcesses claims through two handles on one file, as
// two processes would: BEGIN IMMEDIATE must serialise the check and insert.
func TestSQLiteClaimAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	var handles []*store.DB
	for range 2 {
		db, err := store.Open(ctx, "sqlite://"+path)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		require.NoError(t, db.Migrate(ctx))
		handles = append(handles, db)
	}
	limit := nudge.CapLimit{Channel: nudge.Voice, Window: 24 * time.Hour, Max: 1, Count: nudge.CountCalls, Reason: nudge.ReasonCallCap}
	const n = 10
	errs := make(chan error, 2*n)
	for h, db := range handles {
		for i := range n {
			go func() {
				a := storetest.Attempt(fmt.Sprintf("rem_%d_%d", h, i), "A-1", nudge.Voice, storetest.T0)
				_, err := db.ClaimAttempt(ctx, a, []nudge.CapLimit{limit})
				errs <- err
			}()
		}
	}
	claimed := 0
	for range 2 * n {
		err := <-errs
		if err == nil {
			claimed++
			continue
		}
		require.ErrorIs(t, err, nudge.ErrCapReached)
	}
	require.Equal(t, 1, claimed)
}
