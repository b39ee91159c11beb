package ops_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// deadLetter makes a failed reminder of lender for account, its attempt
// refused before the provider accepted it (replayable) unless reached.
func deadLetter(t *testing.T, db *store.DB, lender, account string, reached bool) nudge.Reminder {
	t.Helper()
	ctx := context.Background()
	rs, err := db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: lender, AccountID: account, Cadence: "dead",
		Step: "letter", Cycle: nudge.MustDate("2026-06-01")}, Channel: nudge.SMS, DueAt: opsT0, Status: nudge.ReminderQueued, CreatedAt: opsT0}})
	require.NoError(t, err)
	r := rs[0]
	a, err := db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: r.ID, Lender: lender, AccountID: account, Channel: nudge.SMS,
		Address: "+15125550001", CreatedAt: opsT0}, nil)
	require.NoError(t, err)
	up := nudge.AttemptUpdate{Status: nudge.AttemptFailed, ErrorCode: "21211", Reason: nudge.ReasonProviderFailed, At: opsT0}
	if reached {
		up = nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SMdead", At: opsT0}
	}
	_, err = db.UpdateAttempt(ctx, a.ID, up)
	require.NoError(t, err)
	_, err = db.MoveReminder(ctx, r.ID, nudge.ReminderQueued, nudge.ReminderFailed, nudge.ReasonProviderFailed, time.Time{}, opsT0)
	require.NoError(t, err)
	return r
}

func TestOpsDeadLetters(t *testing.T) {
	t.Parallel()
	b := opsSetup(t, withControl())
	ctx := context.Background()
	mine := deadLetter(t, b.db, "acme", "A-001", false)
	reached := deadLetter(t, b.db, "acme", "A-002", true)
	theirs := deadLetter(t, b.db, "beta", "A-001", false)

	admin := b.client(t)
	require.Equal(t, http.StatusSeeOther, admin.login(b.keys[nudge.RoleAdmin]).StatusCode)
	resp, page := admin.do(http.MethodGet, "/ops/dead-letters", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Contains(t, page, `href="/ops/dead-letters" aria-current="page"`, "the page is in the nav")
	require.Contains(t, page, `id="pick-`+mine.ID+`"`, "a replayable dead letter can be picked")
	require.Contains(t, page, reached.ID)
	require.NotContains(t, page, `id="pick-`+reached.ID+`"`, "one that reached the provider cannot")
	require.Contains(t, page, "21211", "the last attempt's error code")
	require.NotContains(t, page, theirs.ID, "another lender's dead letters are never shown")
	csrf := opsCSRF(t, page)

	t.Run("a reason and ids are required", func(t *testing.T) {
		resp, _ := admin.do(http.MethodPost, "/ops/dead-letters/replay", url.Values{"csrf": {csrf}, "id": {mine.ID}}, nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		resp, _ = admin.do(http.MethodPost, "/ops/dead-letters/replay", url.Values{"csrf": {csrf}, "reason": {"fixed"}}, nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("without the form's token nothing happens", func(t *testing.T) {
		resp, _ := admin.do(http.MethodPost, "/ops/dead-letters/replay", url.Values{"id": {mine.ID}, "reason": {"fixed"}}, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		got, err := b.db.GetReminder(ctx, mine.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderFailed, got.Status)
	})
	t.Run("an operator looks but does not replay", func(t *testing.T) {
		op := b.client(t)
		require.Equal(t, http.StatusSeeOther, op.login(b.keys[nudge.RoleOperator]).StatusCode)
		_, page := op.do(http.MethodGet, "/ops/dead-letters", nil, nil)
		require.Contains(t, page, mine.ID)
		require.NotContains(t, page, `id="pick-`)
		resp, _ := op.do(http.MethodPost, "/ops/dead-letters/replay", url.Values{"csrf": {opsCSRF(t, page)}, "id": {mine.ID}, "reason": {"x"}}, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
	t.Run("replay", func(t *testing.T) {
		form := url.Values{"csrf": {csrf}, "id": {mine.ID, reached.ID, theirs.ID}, "reason": {"sender number fixed"}}
		resp, page := admin.do(http.MethodPost, "/ops/dead-letters/replay", form, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, page)
		require.Contains(t, page, `id="replay-results"`)
		require.Contains(t, page, "Replayed 1 of 3.")
		require.Contains(t, page, `data-outcome="replayed"`)
		require.Contains(t, page, `data-outcome="reached_provider"`)
		require.Contains(t, page, `data-outcome="not_found"`)

		got, err := b.db.GetReminder(ctx, mine.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderQueued, got.Status)
		info, err := asynq.NewInspectorFromRedisClient(b.rdb).GetTaskInfo(string(got.Channel)+":"+got.Key.Lender, got.ID)
		require.NoError(t, err, "the replayed reminder is on its queue")
		require.Equal(t, got.ID, info.ID)
		for _, id := range []string{reached.ID, theirs.ID} {
			got, err := b.db.GetReminder(ctx, id)
			require.NoError(t, err)
			require.Equal(t, nudge.ReminderFailed, got.Status, "left alone")
		}
		audit, err := b.db.ListAudit(ctx, "acme")
		require.NoError(t, err)
		require.Len(t, audit, 1)
		require.Equal(t, "dead_letter.replay", audit[0].Action)
		require.Equal(t, b.keyIDs[nudge.RoleAdmin], audit[0].Actor)
		require.Equal(t, mine.ID, audit[0].Target)
		require.Contains(t, audit[0].Detail, "sender number fixed")
	})
	t.Run("in Spanish", func(t *testing.T) {
		resp, page := admin.do(http.MethodGet, "/ops/dead-letters?lang=es", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, page, "Mensajes fallidos")
	})
}
