package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/store"
)

// TestPostgresStatusReadsUseThePartialReminderIndexes checks that the
// catch-up's pending reminders, the reconciler's unknown ones and the dead
// letters can be read through the partial indexes of migration 0024 under
// a generic plan: each index's condition must follow from the literal
// statuses of the read, or PostgreSQL could only find such reminders by
// reading every reminder (or every reminder of the lender) once the plan
// cache goes generic. In a transaction that is rolled back, the reminders'
// other indexes are dropped and sequential scans disabled, so that the
// plan names the partial index exactly when the index can serve the read.
func TestPostgresStatusReadsUseThePartialReminderIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, raw := migratedPostgres(t)
	tx := genericPlansTx(ctx, t, raw)
	dropOtherReminderIndexes(ctx, t, tx, "reminders_pkey", "reminders_pending", "reminders_status_updated")

	cases := map[string]struct{ index, args string }{
		"pending":      {"reminders_pending", "('2026-12-01T00:00:00Z', 50)"},
		"unknown":      {"reminders_status_updated", "(50)"},
		"dead letters": {"reminders_status_updated", "('acme', '0001-01-01T00:00:00Z', 50)"},
	}
	reads := db.ReminderStatusReads()
	require.Len(t, reads, len(cases))
	for name, query := range reads {
		c, ok := cases[name]
		require.True(t, ok, name)
		stmt := "read_" + strings.ReplaceAll(name, " ", "_")
		_, err := tx.ExecContext(ctx, "PREPARE "+stmt+" AS "+query)
		require.NoError(t, err, name)
		plan, err := store.ExplainOn(ctx, tx, "EXECUTE "+stmt+c.args)
		require.NoError(t, err, name)
		require.Contains(t, plan, c.index, "the %s read's generic plan:\n%s", name, plan)
	}
}

// genericPlansTx begins a transaction on raw, rolled back when the test
// ends, whose plans are generic and avoid sequential scans: a plan then
// names an index whenever one can serve the statement, whatever the test's
// few rows would favour.
func genericPlansTx(ctx context.Context, t *testing.T, raw *sql.DB) *sql.Tx {
	t.Helper()
	tx, err := raw.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tx.Rollback()) })
	for _, s := range []string{"SET LOCAL plan_cache_mode = force_generic_plan", "SET LOCAL enable_seqscan = off"} {
		_, err := tx.ExecContext(ctx, s)
		require.NoError(t, err)
	}
	return tx
}

// dropOtherReminderIndexes drops, in tx, every index of reminders but keep
// (a unique constraint's with its constraint).
func dropOtherReminderIndexes(ctx context.Context, t *testing.T, tx *sql.Tx, keep ...string) {
	t.Helper()
	rows, err := tx.QueryContext(ctx, `SELECT i.relname, COALESCE(c.conname, '') FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
WHERE x.indrelid = 'reminders'::regclass`)
	require.NoError(t, err)
	var drops []string
	for rows.Next() {
		var index, constraint string
		require.NoError(t, rows.Scan(&index, &constraint))
		switch {
		case slices.Contains(keep, index):
		case constraint != "":
			drops = append(drops, `ALTER TABLE reminders DROP CONSTRAINT "`+constraint+`"`)
		default:
			drops = append(drops, `DROP INDEX "`+index+`"`)
		}
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, drops)
	for _, d := range drops {
		_, err := tx.ExecContext(ctx, d)
		require.NoError(t, err, d)
	}
}
