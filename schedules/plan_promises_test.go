package schedules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/schedules"
)

// brokenCadence is testCadence with a broken-promise step on the day after
// a broken promise's date, at 13:00.
const brokenCadence = testCadence + `broken_promise:
  - {id: broken-sms, day: 1, at: "13:00", channel: sms, template: broken_promise_sms}
`

// TestPlannerPaymentPlan: a plan's next instalment pauses the cadence until
// the day after its date, as a promise does; when an instalment's date
// passes unpaid it is broken and the broken-promise steps start, though the
// plan's later instalments are still pending.
func TestPlannerPaymentPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plan := func(first string, at time.Time) []nudge.Promise {
		var out []nudge.Promise
		for i := range 3 {
			out = append(out, nudge.Promise{ID: "pln_1-" + string(rune('1'+i)), Lender: testLender, AccountID: "A-1",
				Amount: "137.50", Currency: "USD", Due: nudge.MustDate(first).AddDays(14 * i), Status: nudge.PromisePending,
				Channel: nudge.SMS, PlanID: "pln_1", CreatedAt: at, UpdatedAt: at})
		}
		return out
	}
	setup := func(t *testing.T, first string) (*schedules.Planner, *recordingEnqueuer, func(string) bool) {
		db := openStore(t, t.TempDir())
		v, err := db.PutCadence(ctx, testLender, cadenceName, []byte(brokenCadence), t0)
		require.NoError(t, err)
		require.NoError(t, db.ActivateCadence(ctx, testLender, cadenceName, v))
		a := dueAccount("A-1", 1)
		a.DueDate = nudge.MustDate("2026-05-30") // the plan is made for a cycle already late
		require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{a}, t0.Add(-time.Minute)))
		require.NoError(t, db.InsertPlan(ctx, plan(first, t0.Add(-72*time.Hour))))
		enq := newRecordingEnqueuer()
		due := func(at string) bool {
			ts, err := time.ParseInLocation("2006-01-02 15:04:05", at, newYork)
			require.NoError(t, err)
			return isDue(t, db, "A-1", ts)
		}
		return newPlanner(db, nudge.NewFixedClock(t0), enq), enq, due
	}

	t.Run("the next instalment pauses the cadence", func(t *testing.T) {
		t.Parallel()
		p, enq, due := setup(t, "2026-06-05")
		st, err := p.Tick(ctx)
		require.NoError(t, err)
		require.Equal(t, schedules.TickStats{Accounts: 1}, st)
		require.Zero(t, enq.count(), "nothing is sent before the instalment's date")
		require.False(t, due("2026-06-05 23:59:59"))
		require.True(t, due("2026-06-06 00:00:00"), "due again the day after the first instalment")
	})

	t.Run("a broken instalment starts the broken-promise steps", func(t *testing.T) {
		t.Parallel()
		p, _, due := setup(t, "2026-06-01")
		st, err := p.Tick(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, st.BrokenPromises, "the first instalment's date is over")
		require.False(t, due("2026-06-02 12:59:59"))
		require.True(t, due("2026-06-02 13:00:00"),
			"the broken-promise step is next, at 13:00 the day after the broken instalment: the later instalments, still pending, do not hold it back")
	})
}
