package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

func TestAPIQueueActionsStayWithinTheLender(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	ctx := context.Background()
	// A failed reminder of beta's, to show acme's keys never reach it.
	rs, err := b.db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "beta", AccountID: "B-1", Cadence: "minimal",
		Step: "predue-sms", Cycle: nudge.MustDate("2026-06-04")}, Channel: nudge.SMS, DueAt: apiT0, Status: nudge.ReminderFailed, CreatedAt: apiT0}})
	require.NoError(t, err)
	betaID := rs[0].ID
	acmeID := b.reminderID
	reason := `{"reason":"fixed the sender"}`

	tests := []struct {
		name   string
		key    string
		path   string
		body   string
		status int
	}{
		{"acme cannot retry beta's reminder", "operator", "/v1/reminders/" + betaID + "/retry", reason, http.StatusNotFound},
		{"acme cannot cancel beta's reminder", "admin", "/v1/reminders/" + betaID + "/cancel", reason, http.StatusNotFound},
		{"beta cannot cancel acme's reminder", "beta", "/v1/reminders/" + acmeID + "/cancel", reason, http.StatusNotFound},
		{"beta cannot retry acme's reminder", "beta", "/v1/reminders/" + acmeID + "/retry", reason, http.StatusNotFound},
		{"a viewer cannot act", "viewer", "/v1/reminders/" + acmeID + "/cancel", reason, http.StatusForbidden},
		{"a reason is required", "operator", "/v1/reminders/" + acmeID + "/cancel", `{}`, http.StatusBadRequest},
		{"only a failed reminder is retried", "operator", "/v1/reminders/" + acmeID + "/retry", reason, http.StatusConflict},
		{"acme cancels its own", "operator", "/v1/reminders/" + acmeID + "/cancel", reason, http.StatusOK},
		{"a final reminder is not canceled again", "operator", "/v1/reminders/" + acmeID + "/cancel", reason, http.StatusConflict},
		{"beta retries its own", "beta", "/v1/reminders/" + betaID + "/retry", reason, http.StatusOK},
		{"a bad pause", "operator", "/v1/pauses", `{"scope":"channel","target":"fax","reason":"x"}`, http.StatusBadRequest},
		{"acme pauses its voice", "operator", "/v1/pauses", `{"scope":"channel","target":"voice","reason":"carrier review"}`, http.StatusCreated},
		{"the same pause again", "operator", "/v1/pauses", `{"scope":"channel","target":"voice","reason":"again"}`, http.StatusOK},
	}
	for _, tc := range tests {
		code, body := b.do(t, tc.key, http.MethodPost, tc.path, "application/json", tc.body)
		require.Equal(t, tc.status, code, "%s: %s", tc.name, body)
	}
	acme, err := b.db.GetReminder(ctx, acmeID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderCanceled, acme.Status)
	beta, err := b.db.GetReminder(ctx, betaID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, beta.Status)

	code, body := b.do(t, "beta", http.MethodGet, "/v1/pauses", "", "")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"pauses":[]}`, body, "acme's pause is not beta's")
	code, body = b.do(t, "viewer", http.MethodGet, "/v1/pauses", "", "")
	require.Equal(t, http.StatusOK, code)
	var list struct {
		Pauses []struct{ Scope, Target, Reason, By string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.Pauses, 1)
	require.Equal(t, "carrier review", list.Pauses[0].Reason)
	require.Equal(t, b.keyIDs["operator"], list.Pauses[0].By)

	code, body = b.do(t, "beta", http.MethodPost, "/v1/pauses/resume", "application/json", `{"scope":"channel","target":"voice","reason":"x"}`)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"changed":false`, "beta cannot lift acme's pause")
	code, body = b.do(t, "operator", http.MethodPost, "/v1/pauses/resume", "application/json", `{"scope":"channel","target":"voice","reason":"done"}`)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"changed":true`)

	audit, err := b.db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	require.Subset(t, actions, []string{"reminder.cancel", "pause.set", "pause.clear"})
	betaAudit, err := b.db.ListAudit(ctx, "beta")
	require.NoError(t, err)
	require.Len(t, betaAudit, 1)
	require.Equal(t, "reminder.retry", betaAudit[0].Action)
}

func TestAPIRefusesPlatformKeys(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	token, key, err := web.NewAPIKey(nudge.PlatformLender, nudge.RoleAdmin, apiT0)
	require.NoError(t, err)
	require.NoError(t, b.db.CreateAPIKey(context.Background(), key))
	b.keys["platform"] = token
	code, body := b.do(t, "platform", http.MethodGet, "/v1/reminders", "", "")
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "operator console")
	_, _, err = web.NewAPIKey(nudge.PlatformLender, nudge.RoleOperator, apiT0)
	require.Error(t, err, "a platform key is admin or viewer")
}
