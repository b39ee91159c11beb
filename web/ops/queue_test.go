package ops_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web/ops"
)

// withControl gives the dashboard its queue actions over the bundle's Redis.
func withControl() opsOption {
	return func(c *ops.OpsConfig) {
		enq := dispatcher.NewEnqueuer(c.Redis, dispatcher.EnqueuerConfig{Clock: c.Clock})
		c.Control = &dispatcher.Control{Store: c.Store.(*store.DB), Queue: enq, Clock: c.Clock}
	}
}

// reminderIn returns one of lender's reminders in status.
func reminderIn(t *testing.T, db *store.DB, lender string, status nudge.ReminderStatus) nudge.Reminder {
	t.Helper()
	rs, err := db.PageReminders(context.Background(), store.ReminderQuery{Lender: lender, Status: status, Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, rs, "lender %s has a %s reminder", lender, status)
	return rs[0]
}

// failOne marks one of lender's reminders failed, with a refused attempt.
func failOne(t *testing.T, db *store.DB, lender string) nudge.Reminder {
	t.Helper()
	r := reminderIn(t, db, lender, nudge.ReminderSent)
	_, err := db.MoveReminder(context.Background(), r.ID, nudge.ReminderSent, nudge.ReminderFailed, nudge.ReasonProviderFailed, opsT0, opsT0)
	require.NoError(t, err)
	return r
}

func TestOpsLenderQueueViewAndActions(t *testing.T) {
	t.Parallel()
	b := opsSetup(t, withControl())
	ctx := context.Background()
	acmeFailed, betaFailed := failOne(t, b.db, "acme"), failOne(t, b.db, "beta")

	op := b.client(t)
	require.Equal(t, http.StatusSeeOther, op.login(b.keys[nudge.RoleOperator]).StatusCode)
	resp, page := op.do(http.MethodGet, "/ops/queue", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Contains(t, page, `id="queue-counts"`)
	require.Contains(t, page, acmeFailed.ID, "the lender's failed reminder is listed with a retry")
	require.NotContains(t, page, betaFailed.ID, "another lender's reminders are never shown")
	csrf := opsCSRF(t, page)

	post := func(c *opsClient, path string, form url.Values) (*http.Response, string) {
		form.Set("csrf", csrf)
		return c.do(http.MethodPost, path, form, nil)
	}
	t.Run("actions on another lender's reminders are not found", func(t *testing.T) {
		for _, action := range []string{"retry", "cancel"} {
			resp, body := post(op, "/ops/queue/reminders/"+betaFailed.ID+"/"+action, url.Values{"reason": {"fixed"}})
			require.Equal(t, http.StatusNotFound, resp.StatusCode, body)
		}
		got, err := b.db.GetReminder(ctx, betaFailed.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderFailed, got.Status, "beta's reminder is untouched")
	})
	t.Run("a reason is required", func(t *testing.T) {
		resp, _ := post(op, "/ops/queue/reminders/"+acmeFailed.ID+"/retry", url.Values{})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("retry", func(t *testing.T) {
		resp, body := post(op, "/ops/queue/reminders/"+acmeFailed.ID+"/retry", url.Values{"reason": {"number fixed"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
		got, err := b.db.GetReminder(ctx, acmeFailed.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderQueued, got.Status)
		info, err := asynq.NewInspectorFromRedisClient(b.rdb).GetTaskInfo(string(got.Channel)+":"+got.Key.Lender, got.ID)
		require.NoError(t, err, "the retried reminder is on its queue")
		require.Equal(t, got.ID, info.ID)
		resp, _ = post(op, "/ops/queue/reminders/"+acmeFailed.ID+"/retry", url.Values{"reason": {"again"}})
		require.Equal(t, http.StatusConflict, resp.StatusCode, "only a failed reminder is retried")
	})
	t.Run("cancel", func(t *testing.T) {
		resp, body := post(op, "/ops/queue/reminders/"+acmeFailed.ID+"/cancel", url.Values{"reason": {"borrower called"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
		got, err := b.db.GetReminder(ctx, acmeFailed.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderCanceled, got.Status)
	})
	t.Run("pause and resume a channel", func(t *testing.T) {
		resp, body := post(op, "/ops/queue/pauses/pause", url.Values{"scope": {"channel"}, "target": {"voice"}, "reason": {"carrier review"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
		acme, err := b.db.ListPauses(ctx, "acme")
		require.NoError(t, err)
		require.Len(t, acme, 1)
		beta, err := b.db.ListPauses(ctx, "beta")
		require.NoError(t, err)
		require.Empty(t, beta, "a lender's pause stops that lender only")
		_, page := op.do(http.MethodGet, "/ops/queue", nil, nil)
		require.Contains(t, page, "carrier review")

		resp, _ = post(op, "/ops/queue/pauses/pause", url.Values{"scope": {"planet"}, "target": {"x"}, "reason": {"?"}})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		resp, body = post(op, "/ops/queue/pauses/resume", url.Values{"scope": {"channel"}, "target": {"voice"}, "reason": {"review done"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
		acme, err = b.db.ListPauses(ctx, "acme")
		require.NoError(t, err)
		require.Empty(t, acme)
	})
	t.Run("every action is in the audit log with who and why", func(t *testing.T) {
		audit, err := b.db.ListAudit(ctx, "acme")
		require.NoError(t, err)
		var got []string
		for _, a := range audit {
			require.Equal(t, b.keyIDs[nudge.RoleOperator], a.Actor)
			got = append(got, a.Action+" "+a.Detail)
		}
		require.Equal(t, []string{
			`reminder.retry {"why":"number fixed"}`, `reminder.cancel {"why":"borrower called"}`,
			`pause.set {"why":"carrier review"}`, `pause.clear {"why":"review done"}`,
		}, got)
		beta, err := b.db.ListAudit(ctx, "beta")
		require.NoError(t, err)
		require.Empty(t, beta)
	})
	t.Run("a viewer looks but does not act", func(t *testing.T) {
		v := b.client(t)
		require.Equal(t, http.StatusSeeOther, v.login(b.keys[nudge.RoleViewer]).StatusCode)
		_, page := v.do(http.MethodGet, "/ops/queue", nil, nil)
		require.NotContains(t, page, "/ops/queue/pauses/pause")
		form := url.Values{"csrf": {opsCSRF(t, page)}, "scope": {"lender"}, "reason": {"no"}}
		resp, _ := v.do(http.MethodPost, "/ops/queue/pauses/pause", form, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
}

func TestOpsPlatformKeyPicksTheLender(t *testing.T) {
	t.Parallel()
	b := opsSetup(t, withControl())
	betaFailed := failOne(t, b.db, "beta")
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.platform[nudge.RoleAdmin]).StatusCode)
	resp, page := c.do(http.MethodGet, "/ops/queue?lender=beta", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Contains(t, page, betaFailed.ID)
	require.Contains(t, page, "platform · Beta Auto")
	// The choice is remembered for the next pages and actions.
	resp, body := c.do(http.MethodPost, "/ops/queue/reminders/"+betaFailed.ID+"/retry",
		url.Values{"csrf": {opsCSRF(t, page)}, "reason": {"platform fix"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	audit, err := b.db.ListAudit(context.Background(), "beta")
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.True(t, strings.HasPrefix(audit[0].Actor, "platform:"), audit[0].Actor)
	resp, _ = c.do(http.MethodGet, "/ops/?lender=nope", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
