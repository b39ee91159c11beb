package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

// kpiBenchEnd is the benchmark's now: the end of its year of history.
var kpiBenchEnd = time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC)

// kpiBenchAccounts is the synthetic portfolio's size:
// NUDGE_BENCH_KPI_ACCOUNTS, or 2,000 (a quick run).
func kpiBenchAccounts(b *testing.B) int {
	n := 2000
	if s := os.Getenv("NUDGE_BENCH_KPI_ACCOUNTS"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(b, err, "NUDGE_BENCH_KPI_ACCOUNTS")
	}
	return n
}

// BenchmarkKPIs measures a year of KPIs for one lender, grouped by channel
// and step, over a synthetic year of history (store.SeedKPIHistory) rolled
// up to the benchmark's hour: the rollup rows plus the live computation of
// the hours since. "live-day" measures the current day alone, all live,
// "hourly-pass" a rollup pass later the same day (the day's closed hours
// recomputed), "settle-pass" the first pass of a day (the settle window
// recomputed).
// SQLite always; PostgreSQL when NUDGE_TEST_DATABASE_URL is set.
func BenchmarkKPIs(b *testing.B) {
	backends := map[string]func(b *testing.B) *store.DB{
		"sqlite": func(b *testing.B) *store.DB {
			db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(b.TempDir(), "kpi.db"))
			require.NoError(b, err)
			b.Cleanup(func() { _ = db.Close() })
			require.NoError(b, db.Migrate(context.Background()))
			return db
		},
	}
	if url := os.Getenv("NUDGE_TEST_DATABASE_URL"); url != "" {
		backends["postgres"] = func(b *testing.B) *store.DB { return freshPostgres(b, url) }
	}
	n := kpiBenchAccounts(b)
	for name, open := range backends {
		b.Run(name+"/accounts="+strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			db := open(b)
			start := time.Now()
			require.NoError(b, db.SeedKPIHistory(ctx, store.KPISeed{Lender: "bench", Accounts: n, End: kpiBenchEnd}))
			seeded := time.Since(start)
			start = time.Now()
			_, err := db.RollupKPIs(ctx, "bench", kpiBenchEnd, 0)
			require.NoError(b, err)
			b.Logf("seeded %d accounts in %s, first rollup (whole year) in %s", n, seeded, time.Since(start))
			q := store.KPIQuery{Lender: "bench", From: nudge.DateOf(kpiBenchEnd).AddDays(-364), To: nudge.DateOf(kpiBenchEnd),
				By: []kpi.Dimension{kpi.Channel, kpi.Step}, Now: kpiBenchEnd}
			rows, err := db.KPIs(ctx, q)
			require.NoError(b, err)
			require.NotEmpty(b, rows)
			var sent int64
			for _, r := range rows {
				sent += r.Counts.Sent
			}
			b.Logf("%d accepted attempts in the year", sent)
			b.Run("year", func(b *testing.B) {
				for b.Loop() {
					_, err := db.KPIs(ctx, q)
					require.NoError(b, err)
				}
			})
			b.Run("live-day", func(b *testing.B) {
				live := q
				live.From, live.Live = live.To, true
				for b.Loop() {
					_, err := db.KPIs(ctx, live)
					require.NoError(b, err)
				}
			})
			b.Run("hourly-pass", func(b *testing.B) {
				for b.Loop() {
					_, err := db.RollupKPIs(ctx, "bench", kpiBenchEnd, 0)
					require.NoError(b, err)
				}
			})
			b.Run("settle-pass", func(b *testing.B) {
				// Each pass is the first of a later day, so it recomputes the
				// settle window; the history does not grow.
				next := kpiBenchEnd.Truncate(24 * time.Hour)
				for b.Loop() {
					next = next.Add(24 * time.Hour)
					res, err := db.RollupKPIs(ctx, "bench", next.Add(30*time.Minute), 0)
					require.NoError(b, err)
					require.True(b, res.Settled)
				}
			})
		})
	}
}

// freshPostgres creates a database named for the benchmark from the admin
// URL, drops it when b ends, and returns the migrated store on it.
func freshPostgres(b *testing.B, admin string) *store.DB {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.PostgresDatabase(b, admin, "nudge_bench_kpi_"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	require.NoError(b, db.Migrate(ctx))
	return db
}
