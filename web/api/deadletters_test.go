package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestAPIDeadLetters(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	ctx := context.Background()
	// Three more failed reminders of acme: one whose attempt reached the
	// provider, two that failed before a claim; and one of beta's.
	var rs []nudge.Reminder
	for i, lender := range []string{"acme", "acme", "acme", "beta"} {
		r := nudge.Reminder{Key: nudge.ReminderKey{Lender: lender, AccountID: "A-1", Cadence: "minimal", Step: "s" + strconv.Itoa(i),
			Cycle: nudge.MustDate("2026-06-04")}, Channel: nudge.SMS, DueAt: apiT0, Status: nudge.ReminderQueued, CreatedAt: apiT0}
		got, err := b.db.InsertReminders(ctx, []nudge.Reminder{r})
		require.NoError(t, err)
		rs = append(rs, got[0])
	}
	reached, early, early2, beta := rs[0], rs[1], rs[2], rs[3]
	_, err := b.db.ClaimAttempt(ctx, nudge.Attempt{ID: "att-sent", ReminderID: reached.ID, Lender: "acme", AccountID: "A-1", Channel: nudge.SMS,
		Address: "+12125550123", CreatedAt: apiT0}, nil)
	require.NoError(t, err)
	_, err = b.db.UpdateAttempt(ctx, "att-sent", nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SM1", At: apiT0})
	require.NoError(t, err)
	for i, r := range rs {
		_, err := b.db.MoveReminder(ctx, r.ID, nudge.ReminderQueued, nudge.ReminderFailed, nudge.ReasonProviderFailed, time.Time{}, apiT0.Add(time.Duration(i)*time.Minute))
		require.NoError(t, err)
	}

	// Two per page, newest failure first; beta's never shows.
	var seen []string
	path := "/v1/dead-letters?limit=2"
	for range 5 {
		code, body := b.do(t, "viewer", http.MethodGet, path, "", "")
		require.Equal(t, http.StatusOK, code, body)
		var page struct {
			Data []struct {
				Reminder   struct{ ID string }
				Replayable bool `json:"replayable"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		for _, d := range page.Data {
			seen = append(seen, d.Reminder.ID)
			require.Equal(t, d.Reminder.ID != reached.ID, d.Replayable, "only the one that reached the provider is not replayable")
		}
		if page.NextCursor == "" {
			break
		}
		path = "/v1/dead-letters?limit=2&cursor=" + page.NextCursor
	}
	require.Equal(t, []string{early2.ID, early.ID, reached.ID}, seen)
	code, body := b.do(t, "viewer", http.MethodGet, "/v1/dead-letters?cursor=nope", "", "")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `"field":"cursor"`)

	reqBody := func(reason string, ids ...string) string {
		b, err := json.Marshal(map[string]any{"ids": ids, "reason": reason})
		require.NoError(t, err)
		return string(b)
	}
	tooMany := make([]string, 501)
	for i := range tooMany {
		tooMany[i] = "rem_" + strconv.Itoa(i)
	}
	for _, tc := range []struct{ name, body, field string }{
		{"no ids", reqBody("fixed"), "ids"},
		{"too many ids", reqBody("fixed", tooMany...), "ids"},
		{"no reason", reqBody(" ", early.ID), "reason"},
	} {
		code, body := b.do(t, "admin", http.MethodPost, "/v1/dead-letters/replay", "application/json", tc.body)
		require.Equal(t, http.StatusBadRequest, code, tc.name)
		require.Contains(t, body, `"field":"`+tc.field+`"`, tc.name)
	}
	code, _ = b.do(t, "operator", http.MethodPost, "/v1/dead-letters/replay", "application/json", reqBody("fixed", early.ID))
	require.Equal(t, http.StatusForbidden, code, "replay is for admins")

	code, body = b.do(t, "admin", http.MethodPost, "/v1/dead-letters/replay", "application/json",
		reqBody("template fixed", early.ID, reached.ID, beta.ID, "rem_nope", b.reminderID, early.ID))
	require.Equal(t, http.StatusOK, code, body)
	var got struct {
		Results []struct {
			ID       string `json:"id"`
			Outcome  string `json:"outcome"`
			Note     string `json:"note"`
			Reminder *struct{ Status string }
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	outcomes := make([]string, len(got.Results))
	for i, r := range got.Results {
		outcomes[i] = r.ID + "=" + r.Outcome
	}
	require.Equal(t, []string{early.ID + "=replayed", reached.ID + "=reached_provider", beta.ID + "=not_found",
		"rem_nope=not_found", b.reminderID + "=not_failed"}, outcomes)
	require.Equal(t, "queued", got.Results[0].Reminder.Status)
	require.Nil(t, got.Results[1].Reminder)

	r, err := b.db.GetReminder(ctx, beta.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderFailed, r.Status, "acme's admin cannot replay beta's reminder")
	r, err = b.db.GetReminder(ctx, reached.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderFailed, r.Status)
	a, err := b.db.GetAttempt(ctx, "att-sent")
	require.NoError(t, err)
	require.Equal(t, "SM1", a.ProviderID, "an attempt that reached the provider is never set aside")

	audit, err := b.db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	var replays []nudge.AuditEntry
	for _, e := range audit {
		if e.Action == "dead_letter.replay" {
			replays = append(replays, e)
		}
	}
	require.Len(t, replays, 1)
	require.Equal(t, early.ID, replays[0].Target)
	require.Equal(t, b.keyIDs["admin"], replays[0].Actor)
	require.Contains(t, replays[0].Detail, "template fixed")
}
