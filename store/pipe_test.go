package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store/storetest"
)

// TestPostgresPipelinedWriteRollsBack runs pipelined write transactions whose
// last batch fails at its last statement, or whose Go side gives up after the
// first step, and checks that neither leaves a row written, that the error
// names the statement, and that the pool serves the next transactions.
func TestPostgresPipelinedWriteRollsBack(t *testing.T) {
	t.Parallel()
	db := postgresOpener(t)(t)
	ctx := context.Background()
	require.NoError(t, db.ExecWrite(ctx, `CREATE TABLE pipe_rows (n int PRIMARY KEY)`))
	count := func() int {
		n, err := db.CountRows(ctx, `SELECT count(*) FROM pipe_rows`)
		require.NoError(t, err)
		return n
	}

	err := db.PipeWrite(ctx, []string{"first: INSERT INTO pipe_rows VALUES (1)"},
		[]string{"second: INSERT INTO pipe_rows VALUES (2)", "divide: SELECT 1/0", "third: INSERT INTO pipe_rows VALUES (3)"}, nil)
	require.ErrorContains(t, err, "divide: ")
	require.ErrorContains(t, err, "division by zero")
	require.Zero(t, count(), "a failed statement in the last batch leaves nothing of the transaction written")

	err = db.PipeWrite(ctx, []string{"first: INSERT INTO pipe_rows VALUES (1)", "again: INSERT INTO pipe_rows VALUES (1)"},
		[]string{"second: INSERT INTO pipe_rows VALUES (2)"}, nil)
	require.ErrorContains(t, err, "again: ")
	require.Zero(t, count(), "a failed statement in the first batch leaves nothing written")

	giveUp := errors.New("the decision refuses")
	err = db.PipeWrite(ctx, []string{"first: INSERT INTO pipe_rows VALUES (1)"}, []string{"second: INSERT INTO pipe_rows VALUES (2)"}, giveUp)
	require.ErrorIs(t, err, giveUp)
	require.Zero(t, count(), "a transaction its caller gives up is rolled back")

	// The pool holds 4 connections: more transactions than that run on the
	// ones the failures above used (or, had one been left inside its
	// transaction, on the new one pgx's pool would open in its place).
	for i := range 8 {
		before := db.RoundTrips()
		require.NoError(t, db.PipeWrite(ctx, []string{"lock: SELECT n FROM pipe_rows FOR UPDATE"},
			[]string{"insert: INSERT INTO pipe_rows VALUES (" + string(rune('1'+i)) + ")"}, nil))
		require.Equal(t, int64(2), db.RoundTrips()-before, "BEGIN with the first batch, COMMIT with the last")
	}
	require.Equal(t, 8, count())
}

// TestPostgresWritesInFewRoundTrips counts the round trips of a batch of
// claims and of a batch of outcomes (sends recording provider ids, moving
// reminders, with events): two and three whatever the batch's size.
func TestPostgresWritesInFewRoundTrips(t *testing.T) {
	t.Parallel()
	db := postgresOpener(t)(t)
	ctx := context.Background()
	var claims []nudge.Claim
	var rems []nudge.Reminder
	for i, acct := range []string{"A-1", "A-2", "A-3", "A-4"} {
		rs, err := db.InsertReminders(ctx, []nudge.Reminder{storetest.Reminder("acme", acct, "d0", storetest.T0.Add(time.Duration(i)*time.Minute))})
		require.NoError(t, err)
		rems = append(rems, rs[0])
		claims = append(claims, nudge.Claim{Attempt: storetest.Attempt(rs[0].ID, acct, nudge.SMS, storetest.T0),
			Limits: []nudge.CapLimit{{Channel: nudge.SMS, Max: 3, Window: 24 * time.Hour}},
			Events: []nudge.Event{{Lender: "acme", AccountID: acct, ReminderID: rs[0].ID, Kind: nudge.EventAttempt, At: storetest.T0}}})
	}
	before := db.RoundTrips()
	res := db.ClaimAttempts(ctx, claims)
	require.Equal(t, int64(2), db.RoundTrips()-before, "locks and history with BEGIN; attempts, events and COMMIT")
	var outcomes []nudge.Outcome
	at := storetest.T0.Add(time.Minute)
	for i, r := range res {
		require.NoError(t, r.Err)
		outcomes = append(outcomes, nudge.Outcome{AttemptID: r.Attempt.ID,
			Attempt:  nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SM" + r.Attempt.ID, SentAt: at, At: at},
			Reminder: nudge.ReminderChange{ID: rems[i].ID, Status: nudge.ReminderSent, At: at},
			Events:   []nudge.Event{{Lender: "acme", AccountID: r.Attempt.AccountID, ReminderID: rems[i].ID, AttemptID: r.Attempt.ID, Kind: nudge.EventAttempt, At: at}}})
	}
	before = db.RoundTrips()
	for _, r := range db.RecordOutcomes(ctx, outcomes) {
		require.NoError(t, r.Err)
		require.True(t, r.AttemptChanged)
		require.False(t, r.ReminderFinal)
	}
	require.Equal(t, int64(3), db.RoundTrips()-before, "attempts locked; provider ids locked and early callbacks taken; writes and COMMIT")
	for i, r := range res {
		a, err := db.GetAttempt(ctx, r.Attempt.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.AttemptSent, a.Status)
		got, err := db.GetReminder(ctx, rems[i].ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderSent, got.Status)
		es, err := db.Events(ctx, "acme", r.Attempt.AccountID)
		require.NoError(t, err)
		require.Len(t, es, 2, "the claim's event and the send's")
	}
}
