package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// seedResult is what one backend's seed left: its rows per table and a
// year of live KPIs by channel and step.
type seedResult struct {
	rows string
	kpis []store.KPIRow
}

// seedAndCheck seeds n accounts of history on db and checks that the
// indexes and constraints of the tables are exactly as the migrations
// left them, and that a second seed of the same lender (duplicate ids)
// fails as a whole: no row added, every index still there.
func seedAndCheck(t *testing.T, db *store.DB, n int) seedResult {
	t.Helper()
	ctx := context.Background()
	before, err := db.SeedTablesCatalog(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, before)
	require.NoError(t, db.SeedKPIHistory(ctx, store.KPISeed{Lender: "seed", Accounts: n, End: kpiBenchEnd}))
	after, err := db.SeedTablesCatalog(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "the seed must leave the indexes as the migrations define them")
	rows, err := db.SeedTablesRows(ctx)
	require.NoError(t, err)

	err = db.SeedKPIHistory(ctx, store.KPISeed{Lender: "seed", Accounts: n, End: kpiBenchEnd})
	require.ErrorContains(t, err, "seed kpi history of seed")
	again, err := db.SeedTablesRows(ctx)
	require.NoError(t, err)
	require.Equal(t, rows, again, "a failed seed writes nothing")
	after, err = db.SeedTablesCatalog(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "a failed seed leaves the indexes")

	kpis, err := db.KPIs(ctx, store.KPIQuery{Lender: "seed", From: nudge.DateOf(kpiBenchEnd).AddDays(-364),
		To: nudge.DateOf(kpiBenchEnd), By: []kpi.Dimension{kpi.Channel, kpi.Step}, Now: kpiBenchEnd, Live: true})
	require.NoError(t, err)
	return seedResult{rows: rows, kpis: kpis}
}

// TestSeedKPIHistory checks the seed on both backends: the schema is left
// as it was, a failed seed is rolled back whole, and SQLite (recursive
// counters) and PostgreSQL (generate_series, indexes rebuilt after the
// load) write the same history, down to every KPI counter.
func TestSeedKPIHistory(t *testing.T) {
	t.Parallel()
	const n = 90
	lite := seedAndCheck(t, openSQLite(t), n)
	// The counts the seed wrote before it rebuilt indexes (recursive
	// counters on both backends).
	require.Equal(t, "accounts: 90\nreminders: 2148\nattempts: 2148\nreplies: 108\npromises: 54\nevents: 808\n", lite.rows)
	var sent int64
	for _, r := range lite.kpis {
		sent += r.Counts.Sent
	}
	require.Positive(t, sent)

	pg := seedAndCheck(t, postgresOpener(t)(t), n)
	require.Equal(t, lite.rows, pg.rows)
	require.Equal(t, lite.kpis, pg.kpis)
}
