package store_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/store"
)

// TestKPISourceEquivalent checks that the set-based KPI query gives the
// rows of the correlated one it replaced (kpiSourceCorrelated, kept as the
// reference), over a seeded year (store.SeedKPIHistory) and ranges that
// cut cycles at their edges: a rollup chunk, a day, a few hours, observed
// at the end of the history and before days 31 and 61 of its cycles, with
// two cure windows. NUDGE_KPI_EQUIVALENCE_ACCOUNTS sizes the portfolio
// (default 1,000). SQLite always; PostgreSQL when NUDGE_TEST_DATABASE_URL
// is set.
func TestKPISourceEquivalent(t *testing.T) {
	t.Parallel()
	n := 1000
	if s := os.Getenv("NUDGE_KPI_EQUIVALENCE_ACCOUNTS"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(t, err, "NUDGE_KPI_EQUIVALENCE_ACCOUNTS")
	}
	end := time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for name, open := range kpiRollupBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := open(t)
			require.NoError(t, db.SeedKPIHistory(ctx, store.KPISeed{Lender: "bench", Accounts: n, End: end}))
			today := end.Truncate(day)
			for _, tc := range []struct {
				name         string
				since, until time.Time
				asOf         time.Time
				cureDays     int
			}{
				{"a rollup chunk", today.Add(-120 * day), today.Add(-89 * day), end, 30},
				{"a chunk observed before its day 61", today.Add(-120 * day), today.Add(-89 * day), today.Add(-60 * day), 30},
				{"a chunk with 45 cure days", today.Add(-120 * day), today.Add(-89 * day), end, 45},
				{"a chunk with 5 cure days", today.Add(-200 * day), today.Add(-169 * day), today.Add(-140 * day), 5},
				{"the current day", today, today.Add(day), end, 30},
				{"hours of the current day", today.Add(10 * time.Hour), end.Truncate(time.Hour), end, 30},
				{"a week ending a month ago", today.Add(-37 * day), today.Add(-30 * day), end, 30},
			} {
				want, err := db.KPISourceRows(ctx, true, "bench", tc.since, tc.until, tc.asOf, tc.cureDays)
				require.NoError(t, err, tc.name)
				require.NotEmpty(t, want, tc.name)
				got, err := db.KPISourceRows(ctx, false, "bench", tc.since, tc.until, tc.asOf, tc.cureDays)
				require.NoError(t, err, tc.name)
				require.Equal(t, want, got, tc.name)
			}
		})
	}
}
