package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web/api"
)

// workItemsOf is the API's work items as runtime.go wires them.
type workItemsOf struct {
	*store.DB
	replies *response.Handler
}

func (w workItemsOf) Complete(ctx context.Context, lender, id string, c nudge.WorkCompletion) (nudge.WorkItem, error) {
	return w.replies.CompleteWorkItem(ctx, w.DB, lender, id, c)
}

// workItemFixture gives A-1 a field visit work item, wi_fixture.
func workItemFixture(t *testing.T, b *apiBundle) {
	t.Helper()
	ctx := context.Background()
	rs, err := b.db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: "A-1", Cadence: "minimal",
		Step: "visit", Cycle: nudge.MustDate("2026-06-04")}, Channel: nudge.Task, Template: nudge.WorkFieldVisit, DueAt: apiT0,
		Status: nudge.ReminderQueued, CreatedAt: apiT0}})
	require.NoError(t, err)
	_, err = b.db.CreateWorkItem(ctx, nudge.WorkItem{ID: "wi_fixture", Lender: "acme", AccountID: "A-1", ReminderID: rs[0].ID,
		Cadence: "minimal", Step: "visit", Kind: nudge.WorkFieldVisit, Instructions: "Visit the borrower.", CreatedAt: apiT0},
		nudge.Event{Lender: "acme", AccountID: "A-1", ReminderID: rs[0].ID, Kind: nudge.EventWorkItem, Action: "created", At: apiT0})
	require.NoError(t, err)
}

// workItemRouteCases are TestAPIRoutesAccess's cases for the work item routes.
func workItemRouteCases() map[string]routeCase {
	return map[string]routeCase{
		"GET /v1/work-items": {method: "GET", path: "/v1/work-items?kind=field_visit&status=pending", happy: 200, foreign: 200,
			prepare: workItemFixture,
			check: func(t *testing.T, _ *apiBundle, body string) {
				var page struct {
					Data []struct {
						ID, Kind, Status, Instructions string
					} `json:"data"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &page))
				require.Len(t, page.Data, 1)
				require.Equal(t, "wi_fixture", page.Data[0].ID)
				require.Equal(t, "open", page.Data[0].Status)
				require.Equal(t, "Visit the borrower.", page.Data[0].Instructions)
			}},
		"POST /v1/work-items/{id}/assign": {method: "POST", path: "/v1/work-items/wi_fixture/assign", contentType: "application/json",
			body: `{"assignee": "collector.maria"}`, happy: 200, foreign: 404,
			prepare: workItemFixture,
			check: func(t *testing.T, b *apiBundle, body string) {
				require.Contains(t, body, `"status":"assigned"`)
				require.Contains(t, body, `"assignee":"collector.maria"`)
				w, err := b.db.GetWorkItem(context.Background(), "acme", "wi_fixture")
				require.NoError(t, err)
				require.Equal(t, nudge.WorkAssigned, w.Status)
				require.Equal(t, "collector.maria", w.Assignee)
			}},
		"POST /v1/work-items/{id}/unassign": {method: "POST", path: "/v1/work-items/wi_fixture/unassign", happy: 200, foreign: 404,
			prepare: func(t *testing.T, b *apiBundle) {
				workItemFixture(t, b)
				_, err := b.db.AssignWorkItem(context.Background(), "acme", "wi_fixture", "collector.maria", apiT0)
				require.NoError(t, err)
			},
			check: func(t *testing.T, b *apiBundle, body string) {
				require.Contains(t, body, `"status":"open"`)
				require.NotContains(t, body, `"assignee"`)
				w, err := b.db.GetWorkItem(context.Background(), "acme", "wi_fixture")
				require.NoError(t, err)
				require.Equal(t, nudge.WorkOpen, w.Status)
				require.Empty(t, w.Assignee)
				require.True(t, w.AssignedAt.IsZero())
			}},
		"POST /v1/work-items/{id}/complete": {method: "POST", path: "/v1/work-items/wi_fixture/complete", contentType: "application/json",
			body: `{"outcome": "promise", "promise_amount": "200.00", "promise_date": "2026-06-12", "note": "at the door"}`, happy: 200, foreign: 404,
			prepare: workItemFixture,
			check: func(t *testing.T, b *apiBundle, body string) {
				require.Contains(t, body, `"status":"completed"`)
				p, err := b.db.ActivePromise(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				require.Equal(t, "200.00", p.Amount)
				require.Equal(t, nudge.MustDate("2026-06-12"), p.Due)
				r, err := b.db.GetReminder(context.Background(), b.reminderID)
				require.NoError(t, err)
				require.Equal(t, nudge.ReminderCanceled, r.Status, "the promise pauses the cadence")
				require.Equal(t, nudge.ReasonPromiseActive, r.Reason)
			}},
	}
}

func TestAPIWorkItemCompletionErrors(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	workItemFixture(t, b)
	for _, tc := range []struct {
		name, body, field string
		code              int
	}{
		{name: "outcome", body: `{"outcome": "maybe"}`, field: "outcome", code: http.StatusBadRequest},
		{name: "promise without date", body: `{"outcome": "promise"}`, field: "promise_date", code: http.StatusBadRequest},
		{name: "bad date", body: `{"outcome": "promise", "promise_date": "Friday"}`, field: "promise_date", code: http.StatusBadRequest},
		{name: "bad amount", body: `{"outcome": "promise", "promise_date": "2026-06-12", "promise_amount": "lots"}`, field: "promise_amount", code: http.StatusBadRequest},
		{name: "date without promise", body: `{"outcome": "refused", "promise_date": "2026-06-12"}`, field: "promise_date", code: http.StatusBadRequest},
	} {
		code, body := b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/complete", "application/json", tc.body)
		require.Equal(t, tc.code, code, "%s: %s", tc.name, body)
		var e struct {
			Problems []struct{ Field string } `json:"problems"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &e))
		require.NotEmpty(t, e.Problems, tc.name)
		require.Equal(t, tc.field, e.Problems[0].Field, tc.name)
	}
	code, body := b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/complete", "application/json", `{"outcome": "refused"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/complete", "application/json", `{"outcome": "refused"}`)
	require.Equal(t, http.StatusOK, code, "the same outcome again changes nothing: %s", body)
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/complete", "application/json", `{"outcome": "reached"}`)
	require.Equal(t, http.StatusConflict, code, body)
	code, body = b.do(t, "viewer", "GET", "/v1/work-items?kind=Bad-Kind", "", "")
	require.Equal(t, http.StatusBadRequest, code, body)
}

func TestAPIPreviewTaskStep(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	const cad = `name: field
profile: us
applies_to:
  days_past_due: {min: 0, max: 30}
steps:
  - id: visit
    day: 10
    at: "11:00"
    channel: task
    kind: field_visit
    instructions: Visit the borrower.
  - id: calls
    day: 12
    at: "06:00"
    channel: task
    kind: call_list
    instructions: Call the borrower.
`
	code, body := b.do(t, "operator", "PUT", "/v1/cadences/field", "application/yaml", cad)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = b.do(t, "operator", "POST", "/v1/cadences/field/preview", "application/json", `{"account_id": "A-1", "version": 1}`)
	require.Equal(t, http.StatusOK, code, body)
	var got struct {
		Steps []struct {
			Step, Channel, Kind, Text, Preferred string
			SendsAt                              string `json:"sends_at"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Len(t, got.Steps, 2)
	require.Equal(t, "task", got.Steps[0].Channel)
	require.Equal(t, "field_visit", got.Steps[0].Kind)
	require.Equal(t, "Visit the borrower.", got.Steps[0].Text)
	require.Equal(t, "call_list", got.Steps[1].Kind)
	require.NotEmpty(t, got.Steps[1].SendsAt)
	require.NotEqual(t, got.Steps[1].Preferred, got.Steps[1].SendsAt, "a call list at 06:00 waits for the call window")
	require.Equal(t, got.Steps[0].Preferred, got.Steps[0].SendsAt, "a visit is made when the step says")
}

func TestAPIWorkItemAssign(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	workItemFixture(t, b)
	for _, tc := range []struct{ name, body, field string }{
		{name: "no assignee", body: `{}`, field: "assignee"},
		{name: "blank assignee", body: `{"assignee": "  "}`, field: "assignee"},
		{name: "control character", body: `{"assignee": "a\u0007b"}`, field: "assignee"},
		{name: "too long", body: `{"assignee": "` + strings.Repeat("x", api.MaxAssigneeLength+1) + `"}`, field: "assignee"},
	} {
		code, body := b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/assign", "application/json", tc.body)
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", tc.name, body)
		require.Contains(t, body, `"field":"`+tc.field+`"`, tc.name)
	}
	code, body := b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/assign", "application/json", `{"assignee": "x", "extra": 1}`)
	require.Equal(t, http.StatusBadRequest, code, "unknown fields are refused: %s", body)
	code, body = b.do(t, "viewer", "POST", "/v1/work-items/wi_fixture/assign", "application/json", `{"assignee": "x"}`)
	require.Equal(t, http.StatusForbidden, code, body)
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_missing/assign", "application/json", `{"assignee": "x"}`)
	require.Equal(t, http.StatusNotFound, code, body)

	// Assign, reassign, unassign: each audited under the acting key.
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/assign", "application/json", `{"assignee": "collector.maria"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/assign", "application/json", `{"assignee": "desk.north"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"assignee":"desk.north"`)
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/unassign", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"status":"open"`)
	entries, err := b.db.ListAudit(context.Background(), "acme")
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		if e.Target == "wi_fixture" {
			actions = append(actions, e.Action)
			if e.Action == "work_item.assign" {
				require.Contains(t, e.Detail, `"assignee"`)
			}
		}
	}
	require.Equal(t, []string{"work_item.assign", "work_item.assign", "work_item.unassign"}, actions)

	// A completed item can be neither assigned nor unassigned.
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/complete", "application/json", `{"outcome": "reached"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/assign", "application/json", `{"assignee": "x"}`)
	require.Equal(t, http.StatusConflict, code, body)
	code, body = b.do(t, "operator", "POST", "/v1/work-items/wi_fixture/unassign", "", "")
	require.Equal(t, http.StatusConflict, code, body)
}
