package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/store"
)

// TestAnalyzeChangedOncePerDoubling checks AutoAnalyze's threshold from the
// server's own statistics: a table analyzed at 1,000 rows is left alone
// after 1,000 more (not more than 50 plus its size) and analyzed after one
// more row, with its small sample (a histogram of at most 11 bounds, where
// the server's default target gave 101).
func TestAnalyzeChangedOncePerDoubling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := sql.Open("pgx", postgresDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	// One connection: the inserts' statistics are flushed by the session
	// that made them before the round reads them.
	conn.SetMaxOpenConns(1)
	exec := func(q string) {
		t.Helper()
		_, err := conn.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	insert := func(n int) {
		t.Helper()
		_, err := conn.ExecContext(ctx, "INSERT INTO grown SELECT generate_series(1, $1)", n)
		require.NoError(t, err)
		exec("SELECT pg_stat_force_next_flush()")
	}
	changed := func() int64 {
		t.Helper()
		exec("SELECT pg_stat_clear_snapshot()")
		var n int64
		require.NoError(t, conn.QueryRowContext(ctx, "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'grown'").Scan(&n))
		return n
	}

	exec("CREATE TABLE grown (n int)")
	insert(1000)
	exec("ANALYZE grown")
	insert(1000)
	require.NoError(t, store.AnalyzeChanged(ctx, conn))
	require.Equal(t, int64(1000), changed(), "analyzed before changing by 50 rows plus its size")
	bounds := func() int {
		t.Helper()
		var n int
		require.NoError(t, conn.QueryRowContext(ctx, `SELECT COALESCE(array_length(histogram_bounds::text::int[], 1), 0)
FROM pg_stats WHERE tablename = 'grown' AND attname = 'n'`).Scan(&n))
		return n
	}
	require.Equal(t, 101, bounds(), "the server's default statistics target")
	insert(51)
	require.NoError(t, store.AnalyzeChanged(ctx, conn))
	require.Zero(t, changed(), "not analyzed after changing by more than 50 rows plus its size")
	require.LessOrEqual(t, bounds(), 11, "analyzed with the server's default sample, not AutoAnalyze's")
}
