package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

// WorkItems lists the work items of task steps and completes them with
// their consequences (response.Handler.CompleteWorkItem over the store).
type WorkItems interface {
	ListWorkItems(ctx context.Context, q nudge.WorkItemQuery) ([]nudge.WorkItem, error)
	AssignWorkItem(ctx context.Context, lender, id, assignee string, now time.Time) (nudge.WorkItem, error)
	UnassignWorkItem(ctx context.Context, lender, id string) (nudge.WorkItem, error)
	Complete(ctx context.Context, lender, id string, c nudge.WorkCompletion) (nudge.WorkItem, error)
}

// workItemRoutes are the routes of work items; Routes lists them.
func (a *API) workItemRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/v1/work-items", Role: nudge.RoleViewer, Summary: "List work items of task steps, oldest first", handle: a.listWorkItems},
		{Method: http.MethodPost, Path: "/v1/work-items/{id}/assign", Role: nudge.RoleOperator, Write: true, Summary: "Assign a work item to a person", handle: a.assignWorkItem},
		{Method: http.MethodPost, Path: "/v1/work-items/{id}/unassign", Role: nudge.RoleOperator, Write: true, Summary: "Put an assigned work item back in its queue", handle: a.unassignWorkItem},
		{Method: http.MethodPost, Path: "/v1/work-items/{id}/complete", Role: nudge.RoleOperator, Write: true, Summary: "Complete a work item with its outcome (a promise pauses the cadence)", handle: a.completeWorkItem},
	}
}

// MaxAssigneeLength bounds an assignee's name.
const MaxAssigneeLength = 100

// workAssignRequest is the body of POST /v1/work-items/{id}/assign.
type workAssignRequest struct {
	Assignee string `json:"assignee"`
}

// assignWorkItem serves POST /v1/work-items/{id}/assign: the item goes to
// the person named (a collector's login, a desk), as /ops's "take" gives it
// to the acting user.
func (a *API) assignWorkItem(c *call) error {
	wi, err := a.workItems()
	if err != nil {
		return err
	}
	var req workAssignRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	who := strings.TrimSpace(req.Assignee)
	switch {
	case who == "":
		return badField("assignee", "is required")
	case len(who) > MaxAssigneeLength:
		return badField("assignee", "is longer than %d characters", MaxAssigneeLength)
	case strings.ContainsFunc(who, unicode.IsControl):
		return badField("assignee", "contains a control character")
	}
	w, err := wi.AssignWorkItem(c.ctx, c.lender(), c.r.PathValue("id"), who, a.now())
	if err := workItemError(err); err != nil {
		return err
	}
	if err := a.audit(c, "work_item.assign", w.ID, map[string]string{"account_id": w.AccountID, "kind": w.Kind, "assignee": w.Assignee}); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, workItemView(w))
	return nil
}

// unassignWorkItem serves POST /v1/work-items/{id}/unassign.
func (a *API) unassignWorkItem(c *call) error {
	wi, err := a.workItems()
	if err != nil {
		return err
	}
	w, err := wi.UnassignWorkItem(c.ctx, c.lender(), c.r.PathValue("id"))
	if err := workItemError(err); err != nil {
		return err
	}
	if err := a.audit(c, "work_item.unassign", w.ID, map[string]string{"account_id": w.AccountID, "kind": w.Kind}); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, workItemView(w))
	return nil
}

// workItemError maps the store's errors about a work item that is not the
// key's lender's or is completed.
func workItemError(err error) error {
	switch {
	case errors.Is(err, nudge.ErrNotFound):
		return errorf(http.StatusNotFound, "no such work item")
	case errors.Is(err, nudge.ErrConflict):
		return errorf(http.StatusConflict, "the work item is completed")
	}
	return err
}

// workItemJSON is a work item as the API shows it (not the contact's address).
type workItemJSON struct {
	ID            string     `json:"id"`
	AccountID     string     `json:"account_id"`
	ReminderID    string     `json:"reminder_id"`
	Cadence       string     `json:"cadence"`
	Step          string     `json:"step"`
	Kind          string     `json:"kind"`
	Instructions  string     `json:"instructions"`
	Status        string     `json:"status"`
	Assignee      string     `json:"assignee,omitempty"`
	Outcome       string     `json:"outcome,omitempty"`
	Note          string     `json:"note,omitempty"`
	PromiseAmount string     `json:"promise_amount,omitempty"`
	PromiseDate   string     `json:"promise_date,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	AssignedAt    *time.Time `json:"assigned_at,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
}

func workItemView(w nudge.WorkItem) workItemJSON {
	out := workItemJSON{ID: w.ID, AccountID: w.AccountID, ReminderID: w.ReminderID, Cadence: w.Cadence, Step: w.Step,
		Kind: w.Kind, Instructions: w.Instructions, Status: string(w.Status), Assignee: w.Assignee, Outcome: string(w.Outcome),
		Note: w.Note, PromiseAmount: w.PromiseAmount, CreatedAt: w.CreatedAt}
	if !w.PromiseDue.IsZero() {
		out.PromiseDate = w.PromiseDue.String()
	}
	if !w.AssignedAt.IsZero() {
		t := w.AssignedAt
		out.AssignedAt = &t
	}
	if !w.CompletedAt.IsZero() {
		t := w.CompletedAt
		out.CompletedAt = &t
	}
	return out
}

func (a *API) workItems() (WorkItems, error) {
	if a.WorkItems == nil {
		return nil, errorf(http.StatusNotFound, "work items are not enabled")
	}
	return a.WorkItems, nil
}

// listWorkItems serves GET /v1/work-items?kind=&status=&cursor=&limit=.
func (a *API) listWorkItems(c *call) error {
	wi, err := a.workItems()
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	wq := nudge.WorkItemQuery{Lender: c.lender(), Kind: strings.TrimSpace(q.Get("kind")), After: q.Get("cursor"), Limit: DefaultPageSize}
	if wq.Kind != "" && !nudge.ValidWorkKind(wq.Kind) {
		return badParam("kind", "%q is not a work item kind", wq.Kind)
	}
	status, err := enumParam(c, "status", "open", "assigned", "completed", "pending")
	if err != nil {
		return err
	}
	wq.Status = nudge.WorkStatus(status)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return badParam("limit", "%q is not a number from 1 to %d", v, MaxPageSize)
		}
		wq.Limit = n
	}
	limit := wq.Limit
	wq.Limit++
	items, err := wi.ListWorkItems(c.ctx, wq)
	if err != nil {
		return err
	}
	page := pageJSON[workItemJSON]{Data: []workItemJSON{}}
	if len(items) > limit {
		items = items[:limit]
		page.NextCursor = items[len(items)-1].ID
	}
	page.Data = mapSlice(items, workItemView)
	web.WriteJSON(c.w, http.StatusOK, page)
	return nil
}

// workCompletionRequest is the body of POST /v1/work-items/{id}/complete.
type workCompletionRequest struct {
	Outcome       nudge.WorkOutcome `json:"outcome"`
	Note          string            `json:"note"`
	PromiseAmount string            `json:"promise_amount"`
	PromiseDate   string            `json:"promise_date"`
}

// completeWorkItem serves POST /v1/work-items/{id}/complete.
func (a *API) completeWorkItem(c *call) error {
	wi, err := a.workItems()
	if err != nil {
		return err
	}
	var req workCompletionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	comp := nudge.WorkCompletion{Outcome: req.Outcome, Note: strings.TrimSpace(req.Note), Actor: c.key.ID,
		PromiseAmount: strings.TrimSpace(req.PromiseAmount)}
	if !req.Outcome.Valid() {
		return badField("outcome", "%q is not an outcome (reached, promise, no_contact, refused or wrong_party)", req.Outcome)
	}
	if s := strings.TrimSpace(req.PromiseDate); s != "" {
		if comp.PromiseDue, err = nudge.ParseDate(s); err != nil {
			return badField("promise_date", "%q is not a date like 2026-06-30", s)
		}
	}
	if comp.PromiseAmount != "" {
		if _, err := strconv.ParseFloat(comp.PromiseAmount, 64); err != nil || strings.ContainsAny(comp.PromiseAmount, "eE+-") {
			return badField("promise_amount", "%q is not an amount like 120.50", comp.PromiseAmount)
		}
	}
	if err := comp.Validate(); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		return badField(field, "%s", msg)
	}
	w, err := wi.Complete(c.ctx, c.lender(), c.r.PathValue("id"), comp)
	switch {
	case errors.Is(err, nudge.ErrNotFound):
		return errorf(http.StatusNotFound, "no such work item")
	case errors.Is(err, nudge.ErrConflict):
		return errorf(http.StatusConflict, "the work item was already completed with another outcome")
	case err != nil:
		return err
	}
	if err := a.audit(c, "work_item.complete", w.ID, map[string]string{"account_id": w.AccountID, "kind": w.Kind, "outcome": string(w.Outcome)}); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, workItemView(w))
	return nil
}

// badField is a 400 naming a field of the request body.
func badField(name, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: "invalid request body",
		problems: []problemJSON{{Field: name, Message: fmt.Sprintf(format, args...)}}}
}
