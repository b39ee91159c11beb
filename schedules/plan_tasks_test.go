package schedules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// taskCadence has two task steps on the due date at 06:00, before any
// call window opens.
const taskCadence = `name: tasks
profile: us
applies_to:
  portfolios: [auto]
  days_past_due: {min: 0, max: 30}
steps:
  - id: calls
    day: 0
    at: "06:00"
    channel: task
    kind: call_list
    instructions: Call the borrower.
  - id: letter
    day: 0
    at: "06:00"
    channel: task
    kind: letter
    instructions: Post the due-date letter.
`

func TestPlannerTaskSteps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	v, err := db.PutCadence(ctx, testLender, "tasks", []byte(taskCadence), t0)
	require.NoError(t, err)
	require.NoError(t, db.ActivateCadence(ctx, testLender, "tasks", v))
	// The account is in New York: at 07:00 there no call is allowed yet.
	at := time.Date(2026, 6, 2, 11, 0, 0, 0, time.UTC) // 07:00 in New York
	a := dueAccount("A-1", 1)
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{a}, at.Add(-time.Minute)))
	enq := newRecordingEnqueuer()
	_, err = newPlanner(db, nudge.NewFixedClock(at), enq).Tick(ctx)
	require.NoError(t, err)

	key := func(step string) string {
		return nudge.ReminderKey{Lender: testLender, AccountID: "A-1", Cadence: "tasks", Step: step, Cycle: today}.ID()
	}
	calls, err := db.GetReminder(ctx, key("calls"))
	require.NoError(t, err)
	require.Equal(t, nudge.Task, calls.Channel)
	require.Equal(t, nudge.WorkCallList, calls.Template, "a task step's reminder carries its kind")
	require.Equal(t, nudge.ReasonQuietHours, calls.Reason, "a call list waits for the call window")
	require.Equal(t, []time.Time{time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC)}, utc(enq.at(calls.ID)), "08:00 in New York")

	letter, err := db.GetReminder(ctx, key("letter"))
	require.NoError(t, err)
	require.Equal(t, nudge.WorkLetter, letter.Template)
	require.Equal(t, []time.Time{at}, utc(enq.at(letter.ID)), "a letter has no window: at once")
}
