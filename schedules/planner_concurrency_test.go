package schedules_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// failingEnqueuer refuses one reminder id and accepts the others.
type failingEnqueuer struct {
	*recordingEnqueuer
	refuse string
}

func (e failingEnqueuer) Enqueue(ctx context.Context, r nudge.Reminder, at time.Time) error {
	if r.ID == e.refuse {
		return errors.New("queue unavailable")
	}
	return e.recordingEnqueuer.Enqueue(ctx, r, at)
}

func TestPlannerConcurrency(t *testing.T) {
	t.Parallel()
	const due = 60
	tests := []struct {
		name        string
		concurrency int
		refuse      int // index of the account whose reminder fails to enqueue, or -1
	}{
		{name: "sequential", concurrency: 0, refuse: -1},
		{name: "eight at once", concurrency: 8, refuse: -1},
		{name: "more workers than accounts", concurrency: 100, refuse: -1},
		{name: "a failure stops the tick", concurrency: 8, refuse: 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openStore(t, t.TempDir())
			activateCadence(t, db)
			accts := dueAccounts("C", due)
			require.NoError(t, db.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))
			rec := newRecordingEnqueuer()
			enq := failingEnqueuer{recordingEnqueuer: rec}
			if tt.refuse >= 0 {
				enq.refuse = nudge.ReminderKey{Lender: testLender, AccountID: accts[tt.refuse].ID, Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID()
			}
			p := newPlanner(db, nudge.NewFixedClock(t0), enq)
			p.Batch, p.Concurrency = 25, tt.concurrency
			st, err := p.Tick(ctx)
			if tt.refuse >= 0 {
				require.ErrorContains(t, err, "queue unavailable")
				require.ErrorContains(t, err, accts[tt.refuse].ID)
				require.Less(t, rec.count(), due)
				return
			}
			require.NoError(t, err)
			require.Equal(t, due, st.Accounts)
			require.Equal(t, due, st.Planned)
			require.Equal(t, due, st.Enqueued)
			require.Equal(t, due, rec.count())
			for _, a := range accts {
				rs, err := db.ListReminders(ctx, testLender, a.ID)
				require.NoError(t, err)
				require.Len(t, rs, 1, a.ID)
				require.Equal(t, nudge.ReminderQueued, rs[0].Status, a.ID)
			}
			again, err := p.Tick(ctx)
			require.NoError(t, err)
			require.Zero(t, again.Planned, "a second tick finds nothing due")
		})
	}
}
