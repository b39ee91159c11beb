package dispatcher_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

// sqlStores are the SQL stores the dispatcher's SQL tests run on: SQLite
// always, PostgreSQL (a database created for the test and dropped after it)
// when NUDGE_TEST_DATABASE_URL is set, which NUDGE_TEST_REQUIRE_SERVICES=1
// demands.
func sqlStores(t *testing.T) map[string]func(t *testing.T) *store.DB {
	t.Helper()
	open := func(t *testing.T, dbURL string) *store.DB {
		ctx := context.Background()
		db, err := store.Open(ctx, dbURL)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		require.NoError(t, db.Migrate(ctx))
		return db
	}
	stores := map[string]func(t *testing.T) *store.DB{
		"sqlite": func(t *testing.T) *store.DB { return open(t, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db")) },
	}
	admin := os.Getenv("NUDGE_TEST_DATABASE_URL")
	if admin == "" {
		require.NotEqual(t, "1", os.Getenv("NUDGE_TEST_REQUIRE_SERVICES"), "NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_DATABASE_URL is not set")
		return stores
	}
	stores["postgres"] = func(t *testing.T) *store.DB {
		return open(t, storetest.PostgresDatabase(t, admin, "nudge_dispatcher_"))
	}
	return stores
}

// unknownAttempt stores storetest's account A-1 of acme with a reminder on
// channel whose send's answer was lost at storetest.T0: the reminder and
// its attempt are unknown, for the reconciler.
func unknownAttempt(t *testing.T, db *store.DB, channel nudge.ChannelKind) nudge.Attempt {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{storetest.Account("acme", "A-1")}, storetest.T0))
	r := storetest.Reminder("acme", "A-1", "d0", storetest.T0)
	r.Status, r.Channel = nudge.ReminderUnknown, channel
	_, err := db.InsertReminders(ctx, []nudge.Reminder{r})
	require.NoError(t, err)
	a := storetest.Attempt(r.ID, "A-1", channel, storetest.T0)
	a.ID, a.Body = dispatcher.AttemptID(r.ID, channel), "A payment of $412.50 is due."
	_, err = db.ClaimAttempt(ctx, a, nil)
	require.NoError(t, err)
	_, err = db.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{From: nudge.AttemptSending, Status: nudge.AttemptUnknown,
		Reason: nudge.ReasonUnknownOutcome, SendingAt: storetest.T0, At: storetest.T0})
	require.NoError(t, err)
	return a
}

// meetingProber answers every look-up with rec once n look-ups have
// arrived, so that n reconciler runs all find the send before any of them
// records it (two schedulers at once).
type meetingProber struct {
	rec     nudge.ProviderRecord
	arrived sync.WaitGroup
}

func (p *meetingProber) Lookup(context.Context, nudge.ProviderQuery) (nudge.ProviderRecord, error) {
	p.arrived.Done()
	done := make(chan struct{})
	go func() { p.arrived.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	return p.rec, nil
}

// TestReconcileFoundWritesTheDeliveryOnce: a send whose answer was lost and
// whose status callback never came is found at the provider by two
// reconciler runs at once, then by a third. The lender's feed learns of it
// once, as reminder.sent and, when the provider's status says so,
// reminder.delivered or reminder.failed, written with the attempt's update.
func TestReconcileFoundWritesTheDeliveryOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		channel nudge.ChannelKind
		status  nudge.AttemptStatus
		want    map[nudge.PublicEventType]int
	}{
		{name: "sms delivered", channel: nudge.SMS, status: nudge.AttemptDelivered,
			want: map[nudge.PublicEventType]int{nudge.PublicReminderSent: 1, nudge.PublicReminderDelivered: 1}},
		{name: "sms sent", channel: nudge.SMS, status: nudge.AttemptSent,
			want: map[nudge.PublicEventType]int{nudge.PublicReminderSent: 1}},
		{name: "sms undelivered", channel: nudge.SMS, status: nudge.AttemptUndelivered,
			want: map[nudge.PublicEventType]int{nudge.PublicReminderSent: 1, nudge.PublicReminderFailed: 1}},
		{name: "call completed", channel: nudge.Voice, status: nudge.AttemptCompleted,
			want: map[nudge.PublicEventType]int{nudge.PublicReminderSent: 1, nudge.PublicReminderDelivered: 1}},
	}
	for name, open := range sqlStores(t) {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				db := open(t)
				now := storetest.T0.Add(time.Hour)
				clock := nudge.NewFixedClock(now)
				a := unknownAttempt(t, db, tc.channel)

				prober := &meetingProber{rec: nudge.ProviderRecord{Found: true, ProviderID: "XX-found", Status: tc.status}}
				prober.arrived.Add(2)
				rc, err := dispatcher.NewReconciler(dispatcher.ReconcilerConfig{Store: db,
					Queue:   queueFunc(func(nudge.Reminder) { t.Error("found: never resent") }),
					Probers: map[nudge.ChannelKind]nudge.Prober{tc.channel: prober}, Clock: clock,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				require.NoError(t, err)
				var wg sync.WaitGroup
				reports := make([]dispatcher.ReconcileReport, 2)
				for i := range reports {
					wg.Go(func() {
						rep, err := rc.Run(ctx, false)
						require.NoError(t, err)
						reports[i] = rep
					})
				}
				wg.Wait()
				for _, rep := range reports {
					require.Empty(t, rep.Errors)
					require.Equal(t, 1, rep.Counts[dispatcher.OutcomeFound], "both runs found the send")
				}
				rep, err := rc.Run(ctx, false)
				require.NoError(t, err)
				require.Zero(t, rep.Checked, "nothing is left unknown")

				got, err := db.GetAttempt(ctx, a.ID)
				require.NoError(t, err)
				require.Equal(t, tc.status, got.Status)
				require.Equal(t, "XX-found", got.ProviderID)
				events, err := db.Events(ctx, "acme", "A-1")
				require.NoError(t, err)
				public := map[nudge.PublicEventType]int{}
				reconciled := 0
				for _, e := range events {
					if p, ok := nudge.PublicEventOf(nudge.FeedEntry{Event: e}); ok {
						public[p.Type]++
						require.Equal(t, a.ID, p.Data["attempt_id"])
						require.Equal(t, string(nudge.ReasonReconciled), p.Data["reason"])
					}
					if e.Kind == nudge.EventReconcile {
						reconciled++
						require.Equal(t, dispatcher.OutcomeFound, e.Action)
					}
				}
				require.Equal(t, tc.want, public)
				require.Equal(t, 1, reconciled, "one run moved the reminder")
			})
		}
	}
}
