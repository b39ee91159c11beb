package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

type eventPage struct {
	Events     []nudge.PublicEvent `json:"events"`
	NextCursor string              `json:"next_cursor"`
	More       bool                `json:"more"`
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	return v
}

// TestEventsFeed reads the lender's events through the API: public types
// only, in order, filtered by type, paged by a cursor, another lender's
// never shown, bad parameters named.
func TestEventsFeed(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	code, body := b.do(t, "operator", "POST", "/v1/accounts/A-1/holds", "application/json", `{"kind": "dispute", "reason": "Ana disputes the amount"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = b.do(t, "operator", "DELETE", "/v1/accounts/A-1/holds/dispute?reason=resolved", "", "")
	require.Equal(t, http.StatusOK, code, body)

	code, body = b.do(t, "viewer", "GET", "/v1/events", "", "")
	require.Equal(t, http.StatusOK, code, body)
	page := decode[eventPage](t, body)
	var types []nudge.PublicEventType
	for _, e := range page.Events {
		types = append(types, e.Type)
		require.Equal(t, "A-1", e.AccountID)
	}
	require.Equal(t, []nudge.PublicEventType{nudge.PublicReminderSuppressed, nudge.PublicHoldPlaced, nudge.PublicHoldCleared}, types)
	require.Equal(t, "dispute", page.Events[1].Data["kind"])
	require.NotContains(t, body, "Ana", "no free text a person typed")
	require.NotContains(t, body, "+1212", "no number")
	require.False(t, page.More)

	code, body = b.do(t, "viewer", "GET", "/v1/events?type=hold.placed,hold.cleared&limit=1", "", "")
	require.Equal(t, http.StatusOK, code, body)
	first := decode[eventPage](t, body)
	require.Len(t, first.Events, 1)
	require.Equal(t, nudge.PublicHoldPlaced, first.Events[0].Type)
	require.True(t, first.More)
	code, body = b.do(t, "viewer", "GET", "/v1/events?type=hold.placed&type=hold.cleared&limit=1&after="+first.NextCursor, "", "")
	require.Equal(t, http.StatusOK, code, body)
	second := decode[eventPage](t, body)
	require.Len(t, second.Events, 1)
	require.Equal(t, nudge.PublicHoldCleared, second.Events[0].Type)
	code, body = b.do(t, "viewer", "GET", "/v1/events?after="+second.NextCursor, "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, decode[eventPage](t, body).Events, "nothing after the last cursor")

	code, body = b.do(t, "beta", "GET", "/v1/events", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, decode[eventPage](t, body).Events, "another lender's feed is its own")

	for _, bad := range []struct{ query, field string }{
		{"after=x", "after"}, {"after=-1", "after"}, {"type=reminder.exploded", "type"}, {"limit=0", "limit"},
	} {
		code, body = b.do(t, "viewer", "GET", "/v1/events?"+bad.query, "", "")
		require.Equal(t, http.StatusBadRequest, code, bad.query)
		require.Contains(t, body, `"field":"`+bad.field+`"`, bad.query)
	}
}

type endpointView struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"event_types"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason"`
	Secret         string   `json:"secret"`
}

// TestWebhookEndpointsAPI registers, lists, changes, rotates and deletes
// an endpoint as an admin; other roles and lenders cannot; bad URLs and
// types are refused by field; a failed delivery is listed and replayed.
func TestWebhookEndpointsAPI(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	ctx := context.Background()
	code, _ := b.do(t, "operator", "POST", "/v1/webhook-endpoints", "application/json", `{"url": "https://crm.example.com/hooks"}`)
	require.Equal(t, http.StatusForbidden, code, "admin only")
	for _, bad := range []struct{ body, field, msg string }{
		{`{"url": "http://crm.example.com/hooks"}`, "url", "https"},
		{`{"url": "https://10.0.0.7/hooks"}`, "url", "not public"},
		{`{}`, "url", "is required"},
		{`{"url": "https://crm.example.com/", "event_types": ["opt_out", "nope"]}`, "event_types", "nope"},
	} {
		code, body := b.do(t, "admin", "POST", "/v1/webhook-endpoints", "application/json", bad.body)
		require.Equal(t, http.StatusBadRequest, code, bad.body)
		require.Contains(t, body, `"field":"`+bad.field+`"`, bad.body)
		require.Contains(t, body, bad.msg, bad.body)
	}

	code, body := b.do(t, "admin", "POST", "/v1/webhook-endpoints", "application/json",
		`{"url": "https://crm.example.com/hooks", "event_types": ["opt_out", "reminder.sent"], "description": "CRM"}`)
	require.Equal(t, http.StatusCreated, code, body)
	ep := decode[endpointView](t, body)
	require.True(t, strings.HasPrefix(ep.Secret, "whsec_"), "the secret is shown once")
	require.True(t, ep.Enabled)
	require.Equal(t, []string{"opt_out", "reminder.sent"}, ep.EventTypes)
	stored, err := b.db.GetWebhookEndpoint(ctx, "acme", ep.ID)
	require.NoError(t, err)
	require.NotContains(t, stored.Secret, strings.TrimPrefix(ep.Secret, "whsec_"), "stored sealed")

	code, body = b.do(t, "admin", "GET", "/v1/webhook-endpoints", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, ep.ID)
	require.NotContains(t, body, "whsec_", "never listed with its secret")
	code, _ = b.do(t, "beta", "GET", "/v1/webhook-endpoints/"+ep.ID, "", "")
	require.Equal(t, http.StatusNotFound, code, "another lender's endpoint")

	code, body = b.do(t, "admin", "PATCH", "/v1/webhook-endpoints/"+ep.ID, "application/json", `{"enabled": false}`)
	require.Equal(t, http.StatusOK, code, body)
	off := decode[endpointView](t, body)
	require.False(t, off.Enabled)
	require.NotEmpty(t, off.DisabledReason)
	code, body = b.do(t, "admin", "PATCH", "/v1/webhook-endpoints/"+ep.ID, "application/json", `{"enabled": true, "event_types": []}`)
	require.Equal(t, http.StatusOK, code, body)
	on := decode[endpointView](t, body)
	require.True(t, on.Enabled)
	require.Empty(t, on.EventTypes, "every type")

	code, body = b.do(t, "admin", "POST", "/v1/webhook-endpoints/"+ep.ID+"/rotate-secret", "", "")
	require.Equal(t, http.StatusCreated, code, body)
	rotated := decode[endpointView](t, body)
	require.True(t, strings.HasPrefix(rotated.Secret, "whsec_"))
	require.NotEqual(t, ep.Secret, rotated.Secret)

	// A delivery that was given up is listed as failed and replayed.
	_, err = b.db.AddWebhookDeliveries(ctx, ep.ID, stored.Cursor, stored.Cursor+1, []nudge.WebhookDelivery{{ID: "msg_x", Lender: "acme",
		AccountID: "A-1", EventID: 1, Position: stored.Cursor + 1, EventType: nudge.PublicOptOut, NextAt: apiT0, GiveUpAt: apiT0, CreatedAt: apiT0}})
	require.NoError(t, err)
	_, _, err = b.db.RecordWebhookTry(ctx, nudge.WebhookTry{DeliveryID: "msg_x", Status: nudge.WebhookFailed, HTTPStatus: 500, Error: "500", At: apiT0})
	require.NoError(t, err)
	code, body = b.do(t, "admin", "GET", "/v1/webhook-endpoints/"+ep.ID+"/deliveries?status=failed", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"id":"msg_x"`)
	require.Contains(t, body, `"last_http_status":500`)
	code, body = b.do(t, "admin", "GET", "/v1/webhook-endpoints/"+ep.ID+"/deliveries?status=lost", "", "")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `"field":"status"`)
	code, body = b.do(t, "admin", "POST", "/v1/webhook-endpoints/"+ep.ID+"/deliveries/msg_x/replay", "", "")
	require.Equal(t, http.StatusAccepted, code, body)
	d, err := b.db.GetWebhookDelivery(ctx, "msg_x")
	require.NoError(t, err)
	require.Equal(t, nudge.WebhookPending, d.Status)
	require.Equal(t, apiT0.Add(72*time.Hour), d.GiveUpAt, "retried for another three days")
	code, _ = b.do(t, "admin", "POST", "/v1/webhook-endpoints/"+ep.ID+"/deliveries/msg_x/replay", "", "")
	require.Equal(t, http.StatusConflict, code, "already pending")

	code, _ = b.do(t, "admin", "DELETE", "/v1/webhook-endpoints/"+ep.ID, "", "")
	require.Equal(t, http.StatusNoContent, code)
	code, _ = b.do(t, "admin", "GET", "/v1/webhook-endpoints/"+ep.ID, "", "")
	require.Equal(t, http.StatusNotFound, code)
	require.Positive(t, b.auditCount(t, b.keyIDs["admin"]))
}

// webhookRouteCases are TestAPIRoutesAccess's cases for the events and
// webhook routes.
func webhookRouteCases() map[string]routeCase {
	const ep = "/v1/webhook-endpoints/whe_fixture"
	prepare := func(t *testing.T, b *apiBundle) {
		t.Helper()
		ctx := context.Background()
		sealed, err := b.api.Sealer.Seal("acme", "whsec_c2VjcmV0c2VjcmV0c2VjcmV0")
		require.NoError(t, err)
		e, err := b.db.CreateWebhookEndpoint(ctx, nudge.WebhookEndpoint{ID: "whe_fixture", Lender: "acme", URL: "https://crm.example.com/h",
			Secret: sealed, Enabled: true, CreatedAt: apiT0})
		require.NoError(t, err)
		_, err = b.db.AddWebhookDeliveries(ctx, e.ID, e.Cursor, e.Cursor+1, []nudge.WebhookDelivery{{ID: "msg_fixture", Lender: "acme",
			AccountID: "A-1", EventID: 1, Position: e.Cursor + 1, EventType: nudge.PublicOptOut, NextAt: apiT0, GiveUpAt: apiT0, CreatedAt: apiT0}})
		require.NoError(t, err)
		_, _, err = b.db.RecordWebhookTry(ctx, nudge.WebhookTry{DeliveryID: "msg_fixture", Status: nudge.WebhookFailed, At: apiT0})
		require.NoError(t, err)
	}
	return map[string]routeCase{
		"GET /v1/events": {method: "GET", path: "/v1/events", happy: 200, foreign: 200,
			check: func(t *testing.T, _ *apiBundle, body string) {
				require.Contains(t, body, `"type":"reminder.suppressed"`)
			}},
		"GET /v1/webhook-endpoints": {method: "GET", path: "/v1/webhook-endpoints", happy: 200, foreign: 200, prepare: prepare,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, "whe_fixture") }},
		"POST /v1/webhook-endpoints": {method: "POST", path: "/v1/webhook-endpoints", contentType: "application/json",
			body: `{"url": "https://crm.example.com/hooks"}`, happy: 201, foreign: 201},
		"GET /v1/webhook-endpoints/{id}":                {method: "GET", path: ep, happy: 200, foreign: 404, prepare: prepare},
		"PATCH /v1/webhook-endpoints/{id}":              {method: "PATCH", path: ep, contentType: "application/json", body: `{"description": "CRM"}`, happy: 200, foreign: 404, prepare: prepare},
		"DELETE /v1/webhook-endpoints/{id}":             {method: "DELETE", path: ep, happy: 204, foreign: 404, prepare: prepare},
		"POST /v1/webhook-endpoints/{id}/rotate-secret": {method: "POST", path: ep + "/rotate-secret", happy: 201, foreign: 404, prepare: prepare},
		"GET /v1/webhook-endpoints/{id}/deliveries": {method: "GET", path: ep + "/deliveries?status=failed", happy: 200, foreign: 404, prepare: prepare,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, "msg_fixture") }},
		"POST /v1/webhook-endpoints/{id}/deliveries/{delivery}/replay": {method: "POST", path: ep + "/deliveries/msg_fixture/replay",
			happy: 202, foreign: 404, prepare: prepare},
	}
}
