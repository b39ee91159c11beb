package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// deadLetterStore is what the dead-letter tests need beyond nudge.Store.
type deadLetterStore interface {
	PageDeadLetters(ctx context.Context, q store.DeadLetterQuery) ([]store.DeadLetter, error)
	ReplayReminder(ctx context.Context, lender, id, actor, why string, now time.Time) (nudge.Reminder, error)
}

// failReminder makes r failed, with an attempt in status st (and provider
// id pid) when st is set.
func failReminder(t *testing.T, s nudge.Store, r nudge.Reminder, st nudge.AttemptStatus, pid, code string, at time.Time) nudge.Attempt {
	t.Helper()
	ctx := context.Background()
	var a nudge.Attempt
	if st != "" {
		var err error
		a = Attempt(r.ID, r.Key.AccountID, r.Channel, at)
		a.Lender = r.Key.Lender
		a, err = s.ClaimAttempt(ctx, a, nil)
		require.NoError(t, err)
		_, err = s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: st, ProviderID: pid, ErrorCode: code, Reason: nudge.ReasonProviderFailed, At: at})
		require.NoError(t, err)
		a, err = s.GetAttempt(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, st, a.Status)
	}
	require.NoError(t, s.SetReminderStatus(ctx, r.ID, nudge.ReminderFailed, nudge.ReasonProviderFailed, time.Time{}, at))
	return a
}

// testDeadLetters covers listing a lender's failed reminders with their
// last attempt, paged newest first, and replaying them: a failed reminder
// becomes queued, its refused attempt is set aside (on the timeline) so a
// new attempt can be claimed, and the replay is audited; one whose attempt
// may have reached the provider is refused and left as it was; another
// lender's reminder is not found.
func testDeadLetters(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	dl, ok := s.(deadLetterStore)
	require.True(t, ok, "the store lists and replays dead letters")
	rs, err := s.InsertReminders(ctx, []nudge.Reminder{
		Reminder("acme", "A-1", "d0", T0), Reminder("acme", "A-2", "d1", T0),
		Reminder("acme", "A-3", "d2", T0), Reminder("acme", "A-4", "d3", T0),
		Reminder("beta", "B-1", "d0", T0),
	})
	require.NoError(t, err)
	refused, noAttempt, reached, open, other := rs[0], rs[1], rs[2], rs[3], rs[4]
	refusedAttempt := failReminder(t, s, refused, nudge.AttemptFailed, "", "21211", T0.Add(3*time.Minute))
	failReminder(t, s, noAttempt, "", "", "", T0.Add(2*time.Minute))
	failReminder(t, s, reached, nudge.AttemptFailed, "SM9", "30007", T0.Add(time.Minute))
	failReminder(t, s, other, nudge.AttemptFailed, "", "21211", T0.Add(4*time.Minute))

	// One per page: newest failure first, lender-scoped.
	var got []store.DeadLetter
	q := store.DeadLetterQuery{Lender: "acme", Limit: 1}
	for {
		page, err := dl.PageDeadLetters(ctx, q)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.Len(t, page, 1)
		got = append(got, page...)
		q.After = page[0].Cursor()
	}
	require.Len(t, got, 3, "acme's failed reminders, not beta's nor the open one")
	require.Equal(t, []string{refused.ID, noAttempt.ID, reached.ID}, []string{got[0].Reminder.ID, got[1].Reminder.ID, got[2].Reminder.ID})
	require.Equal(t, refusedAttempt.ID, got[0].Attempt.ID)
	require.Equal(t, "21211", got[0].Attempt.ErrorCode)
	require.Equal(t, nudge.SMS, got[0].Attempt.Channel)
	require.True(t, got[0].Replayable)
	require.Empty(t, got[1].Attempt.ID, "it failed before a claim")
	require.True(t, got[1].Replayable)
	require.False(t, got[2].Replayable, "its attempt has a provider id")
	_, err = dl.PageDeadLetters(ctx, store.DeadLetterQuery{Limit: 10})
	require.ErrorContains(t, err, "lender is required")
	byChannel, err := dl.PageDeadLetters(ctx, store.DeadLetterQuery{Lender: "acme", Channel: nudge.Email, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, byChannel)

	now := T0.Add(time.Hour)
	_, err = dl.ReplayReminder(ctx, "beta", refused.ID, "key_1", "sender fixed", now)
	require.ErrorIs(t, err, nudge.ErrNotFound, "another lender's reminder")
	_, err = dl.ReplayReminder(ctx, "acme", open.ID, "key_1", "sender fixed", now)
	require.ErrorIs(t, err, store.ErrNotFailed)
	_, err = dl.ReplayReminder(ctx, "acme", refused.ID, "key_1", " ", now)
	require.ErrorContains(t, err, "reason is required")

	_, err = dl.ReplayReminder(ctx, "acme", reached.ID, "key_1", "sender fixed", now)
	require.ErrorIs(t, err, store.ErrReachedProvider)
	require.ErrorIs(t, err, nudge.ErrConflict)
	still, err := s.GetReminder(ctx, reached.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderFailed, still.Status, "a refused replay changes nothing")

	rep, err := dl.ReplayReminder(ctx, "acme", refused.ID, "key_1", "sender fixed", now)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, rep.Status)
	r, err := s.GetReminder(ctx, refused.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, r.Status)
	require.Equal(t, nudge.ReasonRetried, r.Reason)
	require.True(t, r.NextAt.Equal(now))
	_, err = s.GetAttempt(ctx, refusedAttempt.ID)
	require.ErrorIs(t, err, nudge.ErrNotFound, "the refused attempt is set aside")
	fresh := Attempt(refused.ID, "A-1", nudge.SMS, now)
	fresh.ID = refusedAttempt.ID
	claimed, err := s.ClaimAttempt(ctx, fresh, nil)
	require.NoError(t, err, "the replay's run claims a new attempt")
	require.Equal(t, nudge.AttemptSending, claimed.Status)
	_, err = dl.ReplayReminder(ctx, "acme", refused.ID, "key_1", "again", now)
	require.ErrorIs(t, err, store.ErrNotFailed, "a replayed reminder is queued, not failed")

	events, err := s.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	var setAside, replayed bool
	for _, e := range events {
		switch e.Action {
		case store.ActionSetAside:
			setAside = true
			require.Equal(t, refusedAttempt.ID, e.AttemptID)
			require.Contains(t, string(e.Detail), "21211", "the old attempt's details stay on the timeline")
		case store.ActionReplay:
			replayed = true
			require.Contains(t, string(e.Detail), "sender fixed")
		}
	}
	require.True(t, setAside)
	require.True(t, replayed)
	audit, err := s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	var audited []nudge.AuditEntry
	for _, a := range audit {
		if a.Action == store.ActionReplay {
			audited = append(audited, a)
		}
	}
	require.Len(t, audited, 1, "one replay, refusals are not audited")
	require.Equal(t, "key_1", audited[0].Actor)
	require.Equal(t, refused.ID, audited[0].Target)
	require.Contains(t, audited[0].Detail, "sender fixed")

	rep, err = dl.ReplayReminder(ctx, "acme", noAttempt.ID, "key_1", "template fixed", now)
	require.NoError(t, err)
	require.Equal(t, noAttempt.ID, rep.ID)
	left, err := dl.PageDeadLetters(ctx, store.DeadLetterQuery{Lender: "acme", Limit: 10})
	require.NoError(t, err)
	require.Len(t, left, 1)
	require.Equal(t, reached.ID, left[0].Reminder.ID)
}
