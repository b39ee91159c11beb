package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/logmask"
)

const erasePath = "/v1/accounts/A-1/personal-data"

// erasureRouteCase is the route-access case of the erasure route.
func erasureRouteCase() routeCase {
	return routeCase{method: "DELETE", path: erasePath, happy: 200, foreign: 404,
		check: func(t *testing.T, b *apiBundle, body string) {
			a, err := b.db.GetAccount(context.Background(), "acme", "A-1")
			require.NoError(t, err)
			require.Empty(t, a.Borrower.Name)
			require.Equal(t, nudge.StatusClosed, a.Status)
			require.Contains(t, body, `"status":"closed"`)
		}}
}

func TestErasePersonalDataRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, path string
		code            int
		erased          bool
	}{
		{name: "no key", path: erasePath, code: http.StatusUnauthorized},
		{name: "viewer", key: "viewer", path: erasePath, code: http.StatusForbidden},
		{name: "operator", key: "operator", path: erasePath, code: http.StatusForbidden},
		{name: "another lender", key: "beta", path: erasePath, code: http.StatusNotFound},
		{name: "unknown account", key: "admin", path: "/v1/accounts/A-404/personal-data", code: http.StatusNotFound},
		{name: "admin", key: "admin", path: erasePath, code: http.StatusOK, erased: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupAPI(t)
			code, body := b.do(t, tt.key, "DELETE", tt.path, "", "")
			require.Equal(t, tt.code, code, body)
			a, err := b.db.GetAccount(context.Background(), "acme", "A-1")
			require.NoError(t, err)
			if tt.erased {
				require.Empty(t, a.Borrower.Name)
				return
			}
			require.Equal(t, "Ana Diaz", a.Borrower.Name, "a refused erasure changes nothing")
			require.NotContains(t, body, "Ana")
		})
	}
}

func TestErasePersonalData(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	ctx := context.Background()
	const number, email = "+12125550123", "ana@example.com"
	_, err := b.db.AddOptOut(ctx, nudge.OptOut{Lender: "acme", Channel: nudge.SMS, Address: number, Source: "sms_keyword",
		Reason: "STOP", CreatedAt: apiT0})
	require.NoError(t, err)
	_, err = b.db.InsertReply(ctx, nudge.Reply{Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, From: number,
		To: "+18005550100", Body: "this is Ana, I will pay on the 10th", Intent: nudge.IntentPromise, ProviderID: "SM1", CreatedAt: apiT0})
	require.NoError(t, err)
	require.NoError(t, b.db.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventReply,
		Detail: json.RawMessage(`{"intent": "promise", "input": "this is Ana", "from": "+12125550123"}`), At: apiT0}))
	self, err := b.db.IssueLink(ctx, link.Link{Token: link.NewToken(), Purpose: link.SelfService, Lender: "acme", AccountID: "A-1",
		Channel: nudge.SMS, Address: number, CreatedAt: apiT0, ExpiresAt: apiT0.Add(time.Hour)}, apiT0)
	require.NoError(t, err)
	code, body := b.do(t, "admin", "POST", "/v1/opt-outs", "application/json",
		`{"channel": "email", "address": "`+email+`", "reason": "Ana Diaz asked by phone, call +14155550876"}`)
	require.Equal(t, http.StatusCreated, code, body)

	code, body = b.do(t, "admin", "DELETE", erasePath, "", "")
	require.Equal(t, http.StatusOK, code, body)
	var got struct {
		AccountID string         `json:"account_id"`
		Status    string         `json:"status"`
		Canceled  int            `json:"canceled"`
		Erased    map[string]int `json:"erased"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, "A-1", got.AccountID)
	require.Equal(t, "closed", got.Status)
	require.Equal(t, 1, got.Canceled, "the queued reminder is canceled")
	require.Equal(t, map[string]int{"contacts": 3, "holds": 1, "attempts": 1, "replies": 1, "opt_outs": 2, "events": 2, "audit": 1,
		"links": 1, "early_callbacks": 0}, got.Erased)
	_, err = b.db.GetLink(ctx, self.Token)
	require.ErrorIs(t, err, nudge.ErrNotFound, "the borrower's links are revoked")

	code, body = b.do(t, "viewer", "GET", "/v1/accounts/A-1", "", "")
	require.Equal(t, http.StatusOK, code, body)
	for _, pii := range []string{"Ana", "Diaz", "2125550123", "555-0123", email, "this is"} {
		require.NotContains(t, body, pii, "the account JSON keeps no personal data")
	}
	var acct struct {
		Account nudge.Account `json:"account"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &acct))
	require.Len(t, acct.Account.Contacts, 3, "the contacts keep their shape")
	require.Equal(t, nudge.StatusClosed, acct.Account.Status)

	out, err := b.db.IsOptedOut(ctx, "acme", nudge.SMS, number)
	require.NoError(t, err)
	require.True(t, out, "the opt-out of the original number still suppresses")
	r, err := b.db.GetReminder(ctx, b.reminderID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderCanceled, r.Status)
	require.Equal(t, nudge.ReasonAccountClosed, r.Reason)

	audit, err := b.db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	var entries []nudge.AuditEntry
	for _, e := range audit {
		if e.Action == "erase_personal_data" {
			entries = append(entries, e)
		}
	}
	require.Len(t, entries, 1, "one audit line")
	require.Equal(t, b.keyIDs["admin"], entries[0].Actor)
	require.Equal(t, "A-1", entries[0].Target)
	require.Equal(t, apiT0, entries[0].At)
	require.NotContains(t, entries[0].Detail, "2125550123")
	for _, e := range audit {
		require.Empty(t, logmask.Leaks(e.Target+" "+e.Detail, number, email, "Ana Diaz", "+14155550876"), "audit %s", e.Action)
	}

	code, body = b.do(t, "admin", "DELETE", erasePath, "", "")
	require.Equal(t, http.StatusOK, code, "erasing again is harmless: %s", body)
}
