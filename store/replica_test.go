package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

// TestReplicaServesDashboardsOnly points the replica at a different
// database with different content: the dashboard reads show the replica's
// content, while writes and the send path's reads stay on the primary.
func TestReplicaServesDashboardsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	primaryURL, replicaURL := postgresDatabase(t), postgresDatabase(t)

	// The "replica" holds one failed reminder the primary does not have.
	rep, err := store.Open(ctx, replicaURL)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rep.Close()) })
	require.NoError(t, rep.Migrate(ctx))
	onReplica := storetest.Reminder("acme", "R-1", "d0", storetest.T0)
	_, err = rep.InsertReminders(ctx, []nudge.Reminder{onReplica})
	require.NoError(t, err)
	require.NoError(t, rep.SetReminderStatus(ctx, onReplica.ID, nudge.ReminderFailed, nudge.ReasonProviderFailed, storetest.T0, storetest.T0))

	db, err := store.Open(ctx, primaryURL, store.WithReplica(replicaURL))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx), "migrations are writes: they run on the primary")
	require.True(t, db.HasReplica())
	onPrimary := storetest.Reminder("acme", "P-1", "d0", storetest.T0)
	_, err = db.InsertReminders(ctx, []nudge.Reminder{onPrimary})
	require.NoError(t, err)
	require.NoError(t, db.SetReminderStatus(ctx, onPrimary.ID, nudge.ReminderFailed, nudge.ReasonProviderFailed, storetest.T0, storetest.T0))

	dead, err := db.PageDeadLetters(ctx, store.DeadLetterQuery{Lender: "acme", Limit: 10})
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, onReplica.ID, dead[0].Reminder.ID, "the dead-letter list reads the replica")
	counts, err := db.QueueCounts(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, []store.QueueCount{{Status: nudge.ReminderFailed, Channel: nudge.SMS, N: 1}}, counts, "the queue counts read the replica")

	// Reads that come before writes, and the writes, use the primary.
	got, err := db.GetReminder(ctx, onPrimary.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderFailed, got.Status)
	_, err = db.GetReminder(ctx, onReplica.ID)
	require.ErrorIs(t, err, nudge.ErrNotFound, "the send path never reads the replica")
	replayed, err := db.ReplayReminder(ctx, "acme", onPrimary.ID, "key_1", "fixed", storetest.T0)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, replayed.Status)
	_, err = db.ReplayReminder(ctx, "acme", onReplica.ID, "key_1", "fixed", storetest.T0)
	require.ErrorIs(t, err, nudge.ErrNotFound, "a replay checks the primary, not the list it was picked from")

	onReplicaNow, err := rep.GetReminder(ctx, onReplica.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderFailed, onReplicaNow.Status, "nothing was written to the replica")
	_, err = rep.GetReminder(ctx, onPrimary.ID)
	require.ErrorIs(t, err, nudge.ErrNotFound, "nothing was written to the replica")
	audit, err := rep.ListAudit(ctx, "")
	require.NoError(t, err)
	require.Empty(t, audit, "the replay's audit entry went to the primary")
	audit, err = db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, audit, 1)
}

func TestReplicaURLChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := store.Open(ctx, "sqlite::memory:", store.WithReplica("postgres://u@h/db"))
	require.ErrorContains(t, err, "needs a PostgreSQL primary")
	for _, tc := range []struct{ name, url, want string }{
		{"scheme", "mysql://u@h/db", "want postgres://"},
		{"host", "postgres:///db", "missing host"},
		{"database", "postgres://u@h:5432/", "missing database name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorContains(t, store.CheckReplicaURL(tc.url), tc.want)
		})
	}
	require.NoError(t, store.CheckReplicaURL("postgresql://u:secret@replica:5432/nudge?sslmode=require"))
	err = store.CheckReplicaURL("mysql://u:hunter2@h/db")
	require.NotContains(t, err.Error(), "hunter2", "the password is redacted")
}
