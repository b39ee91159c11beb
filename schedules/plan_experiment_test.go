package schedules_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
)

// experimentCadence is testCadence with an experiment on its due step: the
// "firm" arm sends late_firm_sms instead of due_sms, from start (days
// from today) to end.
func experimentCadence(start, end int) string {
	return testCadence + fmt.Sprintf(`experiment:
  name: firm-due
  start: %s
  primary_metric: promise_rate
  stop: {end: %s}
  arms:
    - {name: kind, weight: 1}
    - name: firm
      weight: 1
      steps: [{id: due-sms, template: late_firm_sms}]
`, today.AddDays(start), today.AddDays(end))
}

func TestPlannerExperimentArms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 200
	plan := func(t *testing.T, db *store.DB, src string, clock time.Time) map[string]nudge.Reminder {
		t.Helper()
		v, err := db.PutCadence(ctx, testLender, cadenceName, []byte(src), clock)
		require.NoError(t, err)
		require.NoError(t, db.ActivateCadence(ctx, testLender, cadenceName, v))
		p := newPlanner(db, nudge.NewFixedClock(clock), newRecordingEnqueuer())
		_, err = p.Tick(ctx)
		require.NoError(t, err)
		out := map[string]nudge.Reminder{}
		for i := range n {
			id := fmt.Sprintf("A-%d", i)
			r, err := db.GetReminder(ctx, nudge.ReminderKey{Lender: testLender, AccountID: id, Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID())
			require.NoError(t, err)
			out[id] = r
		}
		return out
	}
	seed := func(t *testing.T, db *store.DB) {
		t.Helper()
		var accts []nudge.Account
		for i := range n {
			accts = append(accts, dueAccount(fmt.Sprintf("A-%d", i), i))
		}
		require.NoError(t, db.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))
	}

	t.Run("running: each account gets its arm's steps, recorded once", func(t *testing.T) {
		t.Parallel()
		db := openStore(t, t.TempDir())
		seed(t, db)
		src := experimentCadence(-1, 10)
		c, err := schedules.Parse("c.yaml", []byte(src))
		require.NoError(t, err)
		rs := plan(t, db, src, t0)
		counts := map[string]int{}
		for id, r := range rs {
			arm := c.Experiment.Assign(testLender, id)
			require.Equal(t, arm, r.Arm, id)
			counts[arm]++
			want := map[string]string{"kind": "due_sms", "firm": "late_firm_sms"}[arm]
			require.Equal(t, want, r.Template, id)
		}
		require.InDelta(t, n/2, counts["firm"], 30)
		got, err := db.ArmCounts(ctx, testLender, "firm-due")
		require.NoError(t, err)
		require.Equal(t, map[string]int64{"kind": int64(counts["kind"]), "firm": int64(counts["firm"])}, got)

		// The weights change: the recorded arms stay, the next step keeps them.
		changed := experimentCadence(-1, 10)
		changed = changed[:len(changed)-len("steps: [{id: due-sms, template: late_firm_sms}]\n")] + "steps: [{id: late-sms, template: late_firm_sms}]\n"
		changed = strings.Replace(changed, "{name: kind, weight: 1}", "{name: kind, weight: 100}", 1)
		tomorrow := t0.Add(24 * time.Hour)
		_, err = newPlanner(db, nudge.NewFixedClock(tomorrow), newRecordingEnqueuer()).Tick(ctx) // plan the late step on the old version
		require.NoError(t, err)
		_ = plan(t, db, changed, tomorrow.Add(time.Minute))
		got2, err := db.ArmCounts(ctx, testLender, "firm-due")
		require.NoError(t, err)
		require.Equal(t, got, got2, "assignments never change")
		for id, r := range rs {
			late, err := db.GetReminder(ctx, nudge.ReminderKey{Lender: testLender, AccountID: id, Cadence: cadenceName, Step: "late-sms", Cycle: today}.ID())
			require.NoError(t, err)
			require.Equal(t, r.Arm, late.Arm, id)
		}
	})
	t.Run("not started: no arm, the champion's steps", func(t *testing.T) {
		t.Parallel()
		db := openStore(t, t.TempDir())
		seed(t, db)
		for id, r := range plan(t, db, experimentCadence(1, 10), t0) {
			require.Empty(t, r.Arm, id)
			require.Equal(t, "due_sms", r.Template, id)
		}
		got, err := db.ArmCounts(ctx, testLender, "firm-due")
		require.NoError(t, err)
		require.Empty(t, got)
	})
	t.Run("ended: accounts never assigned get no arm", func(t *testing.T) {
		t.Parallel()
		db := openStore(t, t.TempDir())
		seed(t, db)
		for id, r := range plan(t, db, experimentCadence(-10, -1), t0) {
			require.Empty(t, r.Arm, id)
			require.Equal(t, "due_sms", r.Template, id)
		}
	})
}
