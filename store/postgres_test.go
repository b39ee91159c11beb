package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

// postgresURL returns NUDGE_TEST_DATABASE_URL, skipping the test when it is
// unset unless NUDGE_TEST_REQUIRE_SERVICES=1.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("NUDGE_TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("NUDGE_TEST_DATABASE_URL is unset and NUDGE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("NUDGE_TEST_DATABASE_URL is unset")
	}
	return u
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

// postgresDatabase creates a uniquely named database from the admin URL,
// drops it when t ends, and returns its URL.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	return storetest.PostgresDatabase(t, postgresURL(t), "nudge_test_")
}

// migratedPostgres opens a store on a fresh database, migrated, and a plain
// connection pool to the same database for what the test does beside the
// store; both are closed when t ends.
func migratedPostgres(t *testing.T) (*store.DB, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	dbURL := postgresDatabase(t)
	db, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	raw, err := sql.Open("pgx", dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	return db, raw
}

// postgresOpener returns an open function giving each caller a fresh schema
// in one database created for the test.
func postgresOpener(t *testing.T) func(t *testing.T) *store.DB {
	dbURL := postgresDatabase(t)
	var mu sync.Mutex
	n := 0
	return func(t *testing.T) *store.DB {
		t.Helper()
		ctx := context.Background()
		mu.Lock()
		n++
		schema := fmt.Sprintf("s%d_%s", n, randomSuffix(t))
		mu.Unlock()
		admin, err := sql.Open("pgx", dbURL)
		require.NoError(t, err)
		defer admin.Close()
		_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
		require.NoError(t, err)

		u, err := url.Parse(dbURL)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("pool_max_conns", "4")
		u.RawQuery = q.Encode()
		db, err := store.Open(ctx, u.String(), store.WithSecret([]byte(hashSecret)))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		require.NoError(t, db.Migrate(ctx))
		return db
	}
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	open := postgresOpener(t)
	storetest.Run(t, func(t *testing.T) nudge.Store { return open(t) }, storetest.WithPortfolioSize(20_000))
}

func TestPostgresMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dbURL := postgresDatabase(t)
	ctx := context.Background()
	const n = 4
	dbs := make([]*store.DB, n)
	for i := range dbs {
		db, err := store.Open(ctx, dbURL)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		dbs[i] = db
	}
	errs := make(chan error, n)
	for _, db := range dbs {
		go func() { errs <- db.Migrate(ctx) }()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	v, err := dbs[0].SchemaVersion(ctx)
	require.NoError(t, err)
	migs, err := store.Migrations(store.Postgres)
	require.NoError(t, err)
	require.Equal(t, migs[len(migs)-1].Version, v)
}

// TestPostgresAutovacuumOff reads the setting nudge serve warns about: it
// must agree with the server's own catalog, and SQLite never has it off.
func TestPostgresAutovacuumOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgresOpener(t)(t)
	off, err := db.AutovacuumOff(ctx)
	require.NoError(t, err)
	var setting string
	require.NoError(t, db.RawQueryRow(ctx, "SELECT setting FROM pg_settings WHERE name = 'autovacuum'").Scan(&setting))
	require.Equal(t, setting == "off", off)

	lite, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, lite.Close()) })
	off, err = lite.AutovacuumOff(ctx)
	require.NoError(t, err)
	require.False(t, off)
}

func TestPostgresDueAccountsUsesIndex(t *testing.T) {
	t.Parallel()
	db := postgresOpener(t)(t)
	ctx := context.Background()
	accts := make([]nudge.Account, 0, 5000)
	for i := range 5000 {
		accts = append(accts, nudge.Account{ID: fmt.Sprintf("L-%05d", i), Lender: "acme", Currency: "USD", AmountDue: "1.00"})
	}
	require.NoError(t, db.UpsertAccounts(ctx, accts, storetest.T0.Add(24*time.Hour)))
	require.NoError(t, db.Analyze(ctx))
	plan, err := db.ExplainDueAccounts(ctx, storetest.T0, 100)
	require.NoError(t, err)
	require.Contains(t, plan, "accounts_next_action", "plan:\n%s", plan)
	require.NotContains(t, plan, "Seq Scan", "plan:\n%s", plan)
}

// TestPostgresReadBatchesShareRoundTrips reads for several callers in one
// round trip: a caller whose query fails gets its error, the callers before
// it keep their rows, and those after it are read again and get theirs,
// each exactly once.
func TestPostgresReadBatchesShareRoundTrips(t *testing.T) {
	t.Parallel()
	db := postgresOpener(t)(t)
	ctx := context.Background()
	before := db.RoundTrips()
	got, errs := db.ReadInts(ctx, [][]string{
		{"SELECT 1", "SELECT g FROM generate_series(2, 3) g"},
		{"SELECT 4"},
	})
	require.Equal(t, [][]int{{1, 2, 3}, {4}}, got)
	require.Equal(t, []error{nil, nil}, errs)
	require.Equal(t, int64(1), db.RoundTrips()-before, "two callers, one round trip")

	got, errs = db.ReadInts(ctx, [][]string{
		{"SELECT 1"},
		{"SELECT 2", "SELECT 1/0"},
		{"SELECT 5"},
		{"SELECT 6", "SELECT 7"},
	})
	require.NoError(t, errs[0])
	require.ErrorContains(t, errs[1], "division by zero")
	require.NoError(t, errs[2])
	require.NoError(t, errs[3])
	require.Equal(t, []int{1}, got[0])
	require.Equal(t, []int{5}, got[2], "read again after the failure, once")
	require.Equal(t, []int{6, 7}, got[3])
}

// TestPostgresReadBatchesShareStatements reads for several callers whose
// queries have the same text in one shared statement: each caller gets its
// own rows in its query's order; when the shared statement fails, the
// queries it handed nothing are read again one by one and only the caller
// whose arguments fail gets the error, but a caller handed a row of it
// before it failed gets the error too; and a caller's later queries are read
// again after another caller's failure, its earlier rows kept, each once.
func TestPostgresReadBatchesShareStatements(t *testing.T) {
	t.Parallel()
	db := postgresOpener(t)(t)
	ctx := context.Background()
	q := func(sql string, args ...any) store.IntQuery { return store.IntQuery{SQL: sql, Args: args} }
	const series = "SELECT ? * 10 + g FROM generate_series(1, 3) g ORDER BY g DESC"

	before, shared := db.RoundTrips(), db.SharedReads()
	got, errs := db.ReadIntsWith(ctx, [][]store.IntQuery{
		{q(series, 1), q("SELECT ? + 100", 1)},
		{q(series, 2), q("SELECT ? + 100", 2)},
		{q(series, 3)},
		{q("SELECT 7")},
	})
	require.Equal(t, []error{nil, nil, nil, nil}, errs)
	require.Equal(t, [][]int{{13, 12, 11, 101}, {23, 22, 21, 102}, {33, 32, 31}, {7}}, got)
	require.Equal(t, int64(1), db.RoundTrips()-before)
	require.Equal(t, int64(5), db.SharedReads()-shared, "three callers' series and two callers' sums shared")

	got, errs = db.ReadIntsWith(ctx, [][]store.IntQuery{
		{q("SELECT 10 / ?", 0)}, {q("SELECT 10 / ?", 1)}, {q("SELECT 10 / ?", 5)},
	})
	require.ErrorContains(t, errs[0], "division by zero")
	require.NoError(t, errs[1])
	require.NoError(t, errs[2])
	require.Equal(t, [][]int{nil, {10}, {2}}, got, "the shared statement failed first thing; each query read again alone")

	// The second caller's rows fail after its first was handed over: it
	// gets the error, and so does the first, whose rows came before (the
	// batch cannot tell it had them all); the third had none and is read
	// again.
	const countdown = "SELECT 12 / (? - g) FROM generate_series(1, 2) g ORDER BY g"
	got, errs = db.ReadIntsWith(ctx, [][]store.IntQuery{{q(countdown, 5)}, {q(countdown, 2)}, {q(countdown, 7)}})
	require.Error(t, errs[0])
	require.ErrorContains(t, errs[1], "division by zero")
	require.NoError(t, errs[2])
	require.Equal(t, []int{2, 2}, got[2], "read again once")

	got, errs = db.ReadIntsWith(ctx, [][]store.IntQuery{
		{q("SELECT ?", 1), q("SELECT 1/0")},
		{q("SELECT ?", 2), q("SELECT 7")},
	})
	require.ErrorContains(t, errs[0], "division by zero")
	require.NoError(t, errs[1])
	require.Equal(t, []int{2, 7}, got[1], "the shared rows kept, the query after the failure read again")
}

// TestPostgresSharedSnapshotsEqualSeparateReads reads the send path's
// snapshots (a reminder with its attempts, an account with its contacts,
// holds, history, promise, pauses, opt-outs and first-contact probe) for
// many accounts at once, until their read batches shared statements, and
// checks that each equals the same read made alone.
func TestPostgresSharedSnapshotsEqualSeparateReads(t *testing.T) {
	t.Parallel()
	db := postgresOpener(t)(t)
	ctx := context.Background()
	const n = 16
	var accts []nudge.Account
	for i := range n {
		a := storetest.Account("acme", fmt.Sprintf("A-%02d", i))
		a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.SMS, Address: fmt.Sprintf("+1512555%04d", i), Consent: true})
		accts = append(accts, a)
	}
	require.NoError(t, db.UpsertAccounts(ctx, accts, storetest.T0))
	var reminders []string
	for i, a := range accts {
		rs, err := db.InsertReminders(ctx, []nudge.Reminder{storetest.Reminder("acme", a.ID, "d0", storetest.T0),
			storetest.Reminder("acme", a.ID, "d1", storetest.T0.Add(time.Hour))})
		require.NoError(t, err)
		reminders = append(reminders, rs[1].ID)
		for k := range i % 3 {
			at := storetest.Attempt(rs[k%2].ID, a.ID, []nudge.ChannelKind{nudge.SMS, nudge.Email}[k], storetest.T0.Add(time.Duration(k)*time.Minute))
			_, err := db.ClaimAttempt(ctx, at, nil)
			require.NoError(t, err)
		}
		if i%2 == 0 {
			require.NoError(t, db.AddHold(ctx, "acme", a.ID, nudge.Hold{Kind: nudge.HoldDispute, Reason: "says paid"}, storetest.T0))
			require.NoError(t, db.InsertPromise(ctx, nudge.Promise{ID: "prm_" + a.ID, Lender: "acme", AccountID: a.ID, Amount: "10.00",
				Currency: "USD", Due: nudge.MustDate("2026-06-10"), Channel: nudge.SMS, CreatedAt: storetest.T0}))
		}
		if i%4 == 0 {
			_, err := db.AddOptOut(ctx, nudge.OptOut{Lender: "acme", Channel: nudge.SMS, Address: a.Contacts[3].Address, Source: "sms_keyword", CreatedAt: storetest.T0})
			require.NoError(t, err)
		}
	}
	type read struct {
		snap     nudge.AccountSnapshot
		reminder nudge.Reminder
		attempts []nudge.Attempt
	}
	readOne := func(i int) read {
		a := accts[i]
		snap, err := db.AccountSnapshot(ctx, "acme", a.ID, nudge.AccountSnapshotQuery{HistorySince: storetest.T0.Add(-time.Hour),
			Promise: true, Pauses: true, ContactedBesides: reminders[i],
			OptOuts: []nudge.ContactRef{{Channel: nudge.SMS, Address: a.Contacts[3].Address}, {Channel: nudge.Email, Address: "ana@example.com"}}})
		require.NoError(t, err)
		r, atts, err := db.LoadReminder(ctx, reminders[i])
		require.NoError(t, err)
		return read{snap, r, atts}
	}
	want := make([]read, n)
	for i := range n {
		want[i] = readOne(i)
	}
	shared := db.SharedReads()
	for round := 0; db.SharedReads() == shared; round++ {
		require.Less(t, round, 50, "the concurrent reads never shared a statement")
		got := make([]read, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i] = readOne(i) })
		}
		wg.Wait()
		require.Equal(t, want, got)
	}
}

// TestPostgresFeedOutOfOrderCommit commits an event with a smaller id after
// one with a larger id was read: paging by id would skip it, the feed's
// positions do not.
func TestPostgresFeedOutOfOrderCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, raw := migratedPostgres(t)

	tx, err := raw.BeginTx(ctx, nil)
	require.NoError(t, err)
	var slow int64
	require.NoError(t, tx.QueryRowContext(ctx, `INSERT INTO events (lender, account_id, kind, action, at)
VALUES ('acme', 'A-1', 'planned', 'slow', now()) RETURNING id`).Scan(&slow))
	require.NoError(t, db.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-2", Kind: nudge.EventPlanned, Action: "fast", At: storetest.T0}))

	first, err := db.Feed(ctx, "acme", 0, 10)
	require.NoError(t, err)
	require.Len(t, first, 1, "the uncommitted event is not read")
	require.Equal(t, "fast", first[0].Event.Action)
	require.Greater(t, first[0].Event.ID, slow, "the event read has the larger id")

	require.NoError(t, tx.Commit())
	next, err := db.Feed(ctx, "acme", first[0].Position, 10)
	require.NoError(t, err)
	require.Len(t, next, 1, "resuming after the cursor finds the event committed late")
	require.Equal(t, slow, next[0].Event.ID)
	require.Greater(t, next[0].Position, first[0].Position)
}
