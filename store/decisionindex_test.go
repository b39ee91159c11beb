package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// TestPostgresDecisionReadsUseTheKindIndex checks that the console's
// decision reads (OpsSummary's counts, PageDecided) can use the partial
// index events_lender_kind_at (migration 0023) under a generic plan: the
// kinds its predicate names must follow from the literal kinds of
// decidedWhere, or PostgreSQL could only read such a lender's events
// through another index or the whole table once the plan cache goes
// generic. Sequential scans are disabled so that the plan shows whether the
// index can be used, whatever the test's few rows would favour.
func TestPostgresDecisionReadsUseTheKindIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, raw := migratedPostgres(t)
	conn := genericPlansTx(ctx, t, raw)
	for _, action := range []string{store.ActionDefer, store.ActionSuppress} {
		_, err := conn.ExecContext(ctx, `PREPARE decided_`+action+`(text, text, text, timestamptz, timestamptz) AS
SELECT reminder_id FROM events WHERE lender = $1 AND kind IN ($2, $3) AND at >= $4 AND at < $5 AND `+store.DecidedWhere(action))
		require.NoError(t, err)
		plan, err := store.ExplainOn(ctx, conn, `EXECUTE decided_`+action+`('acme', '`+string(nudge.EventDecision)+`', '`+
			string(nudge.EventEnqueued)+`', '2026-12-01', '2026-12-02')`)
		require.NoError(t, err)
		require.Contains(t, plan, "events_lender_kind_at", "the %s reads' generic plan:\n%s", action, plan)
	}
}
