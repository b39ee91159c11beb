package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// testReleaseAndResolve covers what reconciliation writes: an unknown
// attempt handed back (a compare-and-set may move a non-final status
// anywhere, never a final one), its text and last-gate instant, and a
// reminder moved out of unknown.
func testReleaseAndResolve(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	a, err := s.ClaimAttempt(ctx, Attempt("rem_1", "A-1", nudge.SMS, T0), nil)
	require.NoError(t, err)
	changed, err := s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{From: nudge.AttemptSending, Status: nudge.AttemptUnknown,
		Body: "Your payment of $412.50 is due", SendingAt: T0.Add(time.Second), At: T0.Add(time.Second)})
	require.NoError(t, err)
	require.True(t, changed)
	got, err := s.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "Your payment of $412.50 is due", got.Body)
	require.Equal(t, T0.Add(time.Second), got.SendingAt)

	changed, err = s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{From: nudge.AttemptUnknown, Status: nudge.AttemptRetrying, Reason: nudge.ReasonReconciled, At: T0.Add(time.Minute)})
	require.NoError(t, err)
	require.True(t, changed, "a release moves unknown back to retrying")
	changed, err = s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{From: nudge.AttemptUnknown, Status: nudge.AttemptRetrying, At: T0.Add(2 * time.Minute)})
	require.NoError(t, err)
	require.False(t, changed, "a second release finds it moved")

	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", "A-1", "d0", T0)})
	require.NoError(t, err)
	r := rs[0]
	require.NoError(t, s.SetReminderStatus(ctx, r.ID, nudge.ReminderUnknown, nudge.ReasonUnknownOutcome, time.Time{}, T0))
	unknown, err := s.RemindersInStatus(ctx, nudge.ReminderUnknown, 10)
	require.NoError(t, err)
	require.Len(t, unknown, 1)
	require.Equal(t, r.ID, unknown[0].ID)

	moved, err := s.MoveReminder(ctx, r.ID, nudge.ReminderQueued, nudge.ReminderSent, nudge.ReasonReconciled, time.Time{}, T0.Add(time.Minute))
	require.NoError(t, err)
	require.False(t, moved, "only from the named status")
	moved, err = s.MoveReminder(ctx, r.ID, nudge.ReminderUnknown, nudge.ReminderQueued, nudge.ReasonReconciled, T0.Add(time.Minute), T0.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, moved, "out of a terminal status")
	got2, err := s.GetReminder(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, got2.Status)
	require.Equal(t, T0.Add(time.Minute), got2.NextAt)
	_, err = s.MoveReminder(ctx, "rem_missing", nudge.ReminderUnknown, nudge.ReminderSent, "", time.Time{}, T0)
	require.ErrorIs(t, err, nudge.ErrNotFound)
}

// testEarlyCallbacks covers status callbacks that outrun the record of the
// send: kept, then applied in the update that records the provider id.
func testEarlyCallbacks(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	a, err := s.ClaimAttempt(ctx, Attempt("rem_1", "A-1", nudge.SMS, T0), nil)
	require.NoError(t, err)
	require.NoError(t, s.KeepEarlyCallback(ctx, "SM1", nudge.AttemptDelivered, "", T0))
	require.NoError(t, s.KeepEarlyCallback(ctx, "SM1", nudge.AttemptSent, "", T0))

	changed, err := s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SM1", SentAt: T0, At: T0})
	require.NoError(t, err)
	require.True(t, changed)
	got, err := s.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptDelivered, got.Status, "the highest kept status applies")

	err = s.KeepEarlyCallback(ctx, "SM1", nudge.AttemptUndelivered, "30003", T0)
	require.ErrorIs(t, err, nudge.ErrConflict, "an id already recorded is applied by the caller, not kept")
}

// testPauses covers lender, cadence and channel pauses.
func testPauses(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	added, err := s.SetPause(ctx, nudge.Pause{Lender: "acme", Scope: nudge.PauseChannel, Target: "email", Reason: "550 relay denied", Actor: "system", CreatedAt: T0})
	require.NoError(t, err)
	require.True(t, added)
	added, err = s.SetPause(ctx, nudge.Pause{Lender: "acme", Scope: nudge.PauseChannel, Target: "email", Reason: "again", CreatedAt: T0.Add(time.Minute)})
	require.NoError(t, err)
	require.False(t, added, "the first pause and its reason stay")
	_, err = s.SetPause(ctx, nudge.Pause{Lender: "zenith", Scope: nudge.PauseLender, CreatedAt: T0})
	require.NoError(t, err)
	_, err = s.SetPause(ctx, nudge.Pause{Lender: "acme", Scope: "galaxy", Target: "x", CreatedAt: T0})
	require.ErrorContains(t, err, "unknown scope")

	ps, err := s.ListPauses(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, "550 relay denied", ps[0].Reason)
	require.True(t, ps[0].Covers("any", nudge.Email))
	require.False(t, ps[0].Covers("any", nudge.SMS))
	all, err := s.ListPauses(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 2)

	cleared, err := s.ClearPause(ctx, "acme", nudge.PauseChannel, "email")
	require.NoError(t, err)
	require.True(t, cleared)
	ps, err = s.ListPauses(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, ps)
}

// testQueueControl covers the lender-scoped queue actions: retry a failed
// reminder (its refused attempt reopened), cancel one, counts by status and
// channel; another lender's reminder is never found.
func testQueueControl(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", "A-1", "d0", T0), Reminder("acme", "A-1", "d1", T0)})
	require.NoError(t, err)
	failed, open := rs[0], rs[1]
	a, err := s.ClaimAttempt(ctx, Attempt(failed.ID, "A-1", nudge.SMS, T0), nil)
	require.NoError(t, err)
	_, err = s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: nudge.AttemptFailed, ProviderID: "SM1", ErrorCode: "30007", At: T0})
	require.NoError(t, err)
	require.NoError(t, s.SetReminderStatus(ctx, failed.ID, nudge.ReminderFailed, nudge.ReasonProviderFailed, time.Time{}, T0))

	type control interface {
		RetryReminder(ctx context.Context, lender, id string, now time.Time) (bool, error)
		CancelReminder(ctx context.Context, lender, id string, reason nudge.Reason, now time.Time) (bool, error)
	}
	c, ok := s.(control)
	require.True(t, ok, "the store carries out queue actions")
	_, err = c.RetryReminder(ctx, "beta", failed.ID, T0)
	require.ErrorIs(t, err, nudge.ErrNotFound, "another lender's reminder")
	_, err = c.CancelReminder(ctx, "beta", open.ID, nudge.ReasonCanceled, T0)
	require.ErrorIs(t, err, nudge.ErrNotFound, "another lender's reminder")

	retried, err := c.RetryReminder(ctx, "acme", failed.ID, T0.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, retried)
	got, err := s.GetReminder(ctx, failed.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, got.Status)
	require.Equal(t, nudge.ReasonRetried, got.Reason)
	att, err := s.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptRetrying, att.Status)
	require.Empty(t, att.ProviderID, "the next send records its own id")
	retried, err = c.RetryReminder(ctx, "acme", failed.ID, T0.Add(time.Minute))
	require.NoError(t, err)
	require.False(t, retried, "only a failed reminder")

	canceled, err := c.CancelReminder(ctx, "acme", open.ID, nudge.ReasonCanceled, T0)
	require.NoError(t, err)
	require.True(t, canceled)
	canceled, err = c.CancelReminder(ctx, "acme", open.ID, nudge.ReasonCanceled, T0)
	require.NoError(t, err)
	require.False(t, canceled, "a final reminder stays as it is")
}

// testCapAcrossChannels covers a cap that names no channel: it counts the
// account's attempts on every channel (Washington, New York City).
func testCapAcrossChannels(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	limit := nudge.CapLimit{Window: 7 * 24 * time.Hour, Max: 2, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap, Rule: "RCW 19.16.250"}
	_, err := s.ClaimAttempt(ctx, Attempt("rem_1", "A-1", nudge.SMS, T0), []nudge.CapLimit{limit})
	require.NoError(t, err)
	_, err = s.ClaimAttempt(ctx, Attempt("rem_2", "A-1", nudge.Email, T0.Add(time.Hour)), []nudge.CapLimit{limit})
	require.NoError(t, err)
	_, err = s.ClaimAttempt(ctx, Attempt("rem_3", "A-1", nudge.Voice, T0.Add(2*time.Hour)), []nudge.CapLimit{limit})
	require.ErrorIs(t, err, nudge.ErrCapReached, "an SMS and an email count against a call")
	_, err = s.ClaimAttempt(ctx, Attempt("rem_4", "A-2", nudge.Voice, T0.Add(2*time.Hour)), []nudge.CapLimit{limit})
	require.NoError(t, err, "another account's cap is its own")
}
