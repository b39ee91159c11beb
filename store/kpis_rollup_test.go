package store_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// kpiRollupBackends opens a migrated store per backend: SQLite always,
// PostgreSQL when NUDGE_TEST_DATABASE_URL is set.
func kpiRollupBackends(t *testing.T) map[string]func(t *testing.T) *store.DB {
	backends := map[string]func(t *testing.T) *store.DB{
		"sqlite": func(t *testing.T) *store.DB {
			db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "kpi.db"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			require.NoError(t, db.Migrate(context.Background()))
			return db
		},
	}
	if os.Getenv("NUDGE_TEST_DATABASE_URL") != "" {
		backends["postgres"] = postgresOpener(t)
	}
	return backends
}

// requireRolledEqualsLive checks that the year's KPIs read through the
// rollups equal those computed live, grouped by every dimension.
func requireRolledEqualsLive(t *testing.T, db *store.DB, now time.Time, cureDays int) {
	t.Helper()
	ctx := context.Background()
	q := store.KPIQuery{Lender: "bench", From: nudge.DateOf(now).AddDays(-400), To: nudge.DateOf(now), Now: now, CureDays: cureDays,
		By: []kpi.Dimension{kpi.Day, kpi.CadenceVersion, kpi.Step, kpi.Channel, kpi.Language, kpi.Arm}}
	rolled, err := db.KPIs(ctx, q)
	require.NoError(t, err)
	q.Live = true
	live, err := db.KPIs(ctx, q)
	require.NoError(t, err)
	require.NotEmpty(t, live)
	require.Equal(t, live, rolled, "rolled up as of %s", now)
}

// TestKPIRollupPasses follows the rollup job over a seeded year: a first
// rollup stopped after two chunks resumes where it stopped; the passes of
// the same day recompute only its closed hours; the first pass of the next
// day recomputes the settle window; two passes at once (two replicas)
// leave the rows a single one would; a row an older binary left without an
// hour watermark is rebuilt. After each, the rollups plus the
// live hours equal a live computation.
func TestKPIRollupPasses(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 6, 30, 16, 20, 0, 0, time.UTC)
	for name, open := range kpiRollupBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := open(t)
			require.NoError(t, db.SeedKPIHistory(ctx, store.KPISeed{Lender: "bench", Accounts: 300, End: end}))
			// The seed's first attempt: a text three days before the first due date,
			// day 5 of the history.
			firstDay := nudge.DateOf(end.Add(-365 * 24 * time.Hour)).AddDays(2)

			// The first rollup stops after its second chunk (31 days each).
			stopped, stop := context.WithCancel(ctx)
			chunks := 0
			db.AfterKPIChunk(func() {
				if chunks++; chunks == 2 {
					stop()
				}
			})
			_, err := db.RollupKPIs(stopped, "bench", end, 0)
			require.ErrorIs(t, err, context.Canceled)
			requireRolledEqualsLive(t, db, end, 0)
			chunks = 0
			res, err := db.RollupKPIs(ctx, "bench", end, 0)
			require.NoError(t, err)
			require.Equal(t, firstDay.AddDays(62), res.From, "resumes after the two chunks done")
			require.False(t, res.Settled)
			require.Equal(t, end.Truncate(time.Hour), res.Through)
			require.Equal(t, 10, chunks, "the year's other 303 days")
			requireRolledEqualsLive(t, db, end, 0)

			// An hour later: only the current day, one chunk.
			chunks = 0
			later := end.Add(time.Hour)
			res, err = db.RollupKPIs(ctx, "bench", later, 0)
			require.NoError(t, err)
			require.Equal(t, store.RollupResult{From: nudge.DateOf(end), Until: nudge.DateOf(end), Through: later.Truncate(time.Hour),
				Rows: res.Rows}, res)
			require.Equal(t, 1, chunks)
			requireRolledEqualsLive(t, db, later, 0)

			// The next day's first pass recomputes the settle window.
			chunks = 0
			next := time.Date(2026, 7, 1, 0, 30, 0, 0, time.UTC)
			res, err = db.RollupKPIs(ctx, "bench", next, 0)
			require.NoError(t, err)
			require.True(t, res.Settled)
			require.Equal(t, nudge.DateOf(end).AddDays(-store.KPISettleDays), res.From)
			require.Equal(t, 4, chunks, "96 days")
			requireRolledEqualsLive(t, db, next, 0)

			// An older binary, running beside this one during the upgrade to
			// migration 0021, created the lender's row without an hour
			// watermark: the next pass rebuilds from the first attempt.
			require.NoError(t, db.RawExec(ctx, `UPDATE kpi_rollups SET rolled_hour = 0`))
			res, err = db.RollupKPIs(ctx, "bench", next, 0)
			require.NoError(t, err)
			require.Equal(t, firstDay, res.From, "rebuilt from the first attempt")
			require.True(t, res.Settled)
			requireRolledEqualsLive(t, db, next, 0)

			// Two replicas rebuild the rollups for other cure days at once.
			db.AfterKPIChunk(nil)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = db.RollupKPIs(ctx, "bench", next, 45)
				}()
			}
			wg.Wait()
			require.NoError(t, errs[0], "a pass another rebuilt under yields to it")
			require.NoError(t, errs[1])
			requireRolledEqualsLive(t, db, next, 45)

			// A rebuild with other cure days between two chunks of a pass:
			// the pass yields, and the rebuild's rows stand.
			var rebuilt atomic.Bool // the rebuild's own chunks call the hook too
			var other store.RollupResult
			var otherErr error
			db.AfterKPIChunk(func() {
				if rebuilt.CompareAndSwap(false, true) {
					other, otherErr = db.RollupKPIs(ctx, "bench", next, 60)
				}
			})
			res, err = db.RollupKPIs(ctx, "bench", next, 30)
			db.AfterKPIChunk(nil)
			require.NoError(t, err)
			require.True(t, res.Yielded, "the pass stopped at the rebuilt watermark")
			require.NoError(t, otherErr)
			require.False(t, other.Yielded)
			requireRolledEqualsLive(t, db, next, 60)
		})
	}
}
