package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web/ops"
)

// fieldCadence visits the borrower on the due date and texts the next day.
const fieldCadence = `name: field-work
profile: us
applies_to:
  portfolios: [field]
  days_past_due: {min: 0, max: 30}
steps:
  - id: visit
    day: 0
    at: "09:00"
    channel: task
    kind: field_visit
    instructions: Visit the borrower at the address on file and ask for a payment date.
  - id: next-sms
    day: 1
    at: "10:00"
    channel: sms
    template: late_sms
`

// noCancel is the answer handler's task canceler: the tests read the ledger.
type noCancel struct{}

func (noCancel) Cancel(context.Context, string, nudge.ChannelKind, ...string) error { return nil }

// workItemsOf is the console's work items as runtime.go wires them.
type workItemsOf struct {
	*store.DB
	replies *response.Handler
}

func (w workItemsOf) Complete(ctx context.Context, lender, id string, c nudge.WorkCompletion) (nudge.WorkItem, error) {
	return w.replies.CompleteWorkItem(ctx, w.DB, lender, id, c)
}

// taskFlow is the path of a task step: the real planner over a stored
// cadence, the real pipeline, and the console.
type taskFlow struct {
	*opsBundle
	planner *schedules.Planner
	pipe    *dispatcher.Pipeline
}

func setupTaskFlow(t *testing.T) *taskFlow {
	t.Helper()
	ctx := context.Background()
	f := &taskFlow{}
	replies := &response.Handler{Tasks: noCancel{}}
	f.opsBundle = opsSetup(t, func(c *ops.OpsConfig) {
		replies.Store, replies.Clock = c.Store.(*store.DB), c.Clock
		c.WorkItems = workItemsOf{DB: c.Store.(*store.DB), replies: replies}
	})
	reg := compliance.NewRegistry()
	lib := schedules.NewLibrary(f.db, reg, schedules.WithTemplates(templates.Default()),
		schedules.WithProfiles(func(name string) bool { _, err := reg.Lookup(name); return err == nil }))
	v, err := f.db.PutCadence(ctx, "acme", "field-work", []byte(fieldCadence), opsT0)
	require.NoError(t, err)
	require.NoError(t, f.db.ActivateCadence(ctx, "acme", "field-work", v))
	f.planner = &schedules.Planner{Store: f.db, Cadences: lib, Enqueuer: noEnqueue{}, Clock: f.clock}
	f.pipe, err = dispatcher.NewPipeline(dispatcher.PipelineConfig{
		Store:    f.db,
		Profiles: dispatcher.ProfilesFunc(func(context.Context, string, string) (*compliance.Profile, error) { return reg.Lookup("us") }),
		Renderer: dispatcher.RendererFunc(func(context.Context, dispatcher.RenderInput) (*nudge.Message, error) {
			return nil, fmt.Errorf("a task step renders no message")
		}),
		WorkItems: f.db,
		Instructions: func(ctx context.Context, r nudge.Reminder) (string, error) {
			c, err := lib.Cadence(ctx, r.Key.Lender, r.Key.Cadence, r.CadenceVersion)
			if err != nil {
				return "", err
			}
			s, _, ok := c.Step(r.Key.Step)
			if !ok {
				return "", fmt.Errorf("no step %s", r.Key.Step)
			}
			return s.Instructions, nil
		},
		Clock: f.clock,
	})
	require.NoError(t, err)
	return f
}

// addAccount stores a field-portfolio account due today with holds.
func (f *taskFlow) addAccount(t *testing.T, id, phone string, holds ...nudge.Hold) {
	t.Helper()
	a := opsAccount("acme", id, phone)
	a.Portfolio = "field"
	a.Holds = append(a.Holds, holds...)
	require.NoError(t, f.db.UpsertAccounts(context.Background(), []nudge.Account{a}, opsT0))
}

// reminderOf returns the account's reminder for step.
func (f *taskFlow) reminderOf(t *testing.T, id, step string) (nudge.Reminder, bool) {
	t.Helper()
	rs, err := f.db.ListReminders(context.Background(), "acme", id)
	require.NoError(t, err)
	for _, r := range rs {
		if r.Key.Step == step {
			return r, true
		}
	}
	return nudge.Reminder{}, false
}

func TestWorkItemFieldVisitPromisePausesCadence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupTaskFlow(t)
	f.addAccount(t, "T-1", "+12145550171")
	f.addAccount(t, "T-2", "+12145550172", nudge.Hold{Kind: nudge.HoldCeaseCommunication})

	// The planner plans the due visit of both accounts on the tasks queue.
	_, err := f.planner.Tick(ctx)
	require.NoError(t, err)
	visit, ok := f.reminderOf(t, "T-1", "visit")
	require.True(t, ok, "the field visit is planned")
	require.Equal(t, nudge.Task, visit.Channel)
	queue, err := dispatcher.QueueFor(visit.Channel, visit.Key.Lender)
	require.NoError(t, err)
	require.Equal(t, dispatcher.QueueTasks+":"+visit.Key.Lender, queue, "task steps go on the lender's tasks queue")
	ceased, ok := f.reminderOf(t, "T-2", "visit")
	require.True(t, ok)

	// The worker creates the work item; run twice, it creates one.
	for range 2 {
		require.NoError(t, f.pipe.Process(ctx, visit.ID))
	}
	got, err := f.db.GetReminder(ctx, visit.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, got.Status)
	items, err := f.db.ListWorkItems(ctx, nudge.WorkItemQuery{Lender: "acme"})
	require.NoError(t, err)
	require.Len(t, items, 1)
	item := items[0]
	require.Equal(t, nudge.WorkFieldVisit, item.Kind)
	require.Equal(t, "T-1", item.AccountID)

	// A cease-communication hold keeps the other account's item from being made.
	require.NoError(t, f.pipe.Process(ctx, ceased.ID))
	got, err = f.db.GetReminder(ctx, ceased.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSuppressed, got.Status)
	require.Equal(t, nudge.ReasonHold, got.Reason)
	evs, err := f.db.Events(ctx, "acme", "T-2")
	require.NoError(t, err)
	explained := false
	for _, e := range evs {
		require.NotEqual(t, nudge.EventWorkItem, e.Kind, "no work item for an account under cease-communication")
		if e.Kind == nudge.EventDecision && e.ReminderID == ceased.ID {
			var d compliance.Decision
			require.NoError(t, json.Unmarshal(e.Detail, &d))
			require.Equal(t, "12 CFR 1006.6(c)(1)", d.Rule)
			require.Contains(t, d.Explanation, "cease_communication")
			explained = true
		}
	}
	require.True(t, explained, "the decision says why")

	// The console lists it under its kind; an operator takes and completes it.
	c := f.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(f.keys[nudge.RoleOperator]).StatusCode)
	_, page := c.do(http.MethodGet, "/ops/tasks?kind=field_visit", nil, nil)
	require.Contains(t, page, `id="task-`+item.ID+`"`)
	require.Contains(t, page, "Visit the borrower at the address on file")
	require.Contains(t, page, `Field visit (1)`)
	require.NotContains(t, page, "+12145550171", "the number is masked")
	csrf := opsCSRF(t, page)
	resp, body := c.do(http.MethodPost, "/ops/tasks/"+item.ID+"/complete", url.Values{"csrf": {"forged"}, "outcome": {"promise"}}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, _ = c.do(http.MethodPost, "/ops/tasks/"+item.ID+"/assign", url.Values{"csrf": {csrf}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, body = c.do(http.MethodPost, "/ops/tasks/"+item.ID+"/complete",
		url.Values{"csrf": {csrf}, "outcome": {"promise"}, "promise_amount": {"150.00"}}, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, "promise_date")
	resp, _ = c.do(http.MethodPost, "/ops/tasks/"+item.ID+"/complete", url.Values{"csrf": {csrf}, "outcome": {"promise"},
		"promise_amount": {"150.00"}, "promise_date": {"2026-06-20"}, "note": {"Met her at home."}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = c.do(http.MethodGet, resp.Header.Get("Location"), nil, nil)
	require.Contains(t, page, `id="done"`)
	require.NotContains(t, page, `id="task-`+item.ID+`"`, "a completed item leaves the queue")
	_, page = c.do(http.MethodGet, "/ops/tasks?kind=field_visit&view=done", nil, nil)
	require.Contains(t, page, `id="task-`+item.ID+`"`)
	require.Contains(t, page, "Taken by "+f.keyIDs[nudge.RoleOperator])

	// The promise is recorded as a texted one would be ...
	p, err := f.db.ActivePromise(ctx, "acme", "T-1")
	require.NoError(t, err)
	require.Equal(t, "150.00", p.Amount)
	require.Equal(t, nudge.MustDate("2026-06-20"), p.Due)
	require.Equal(t, response.PromiseIDOfWorkItem(item.ID), p.ID)

	// ... and pauses the cadence: the next day's text is not sent.
	f.clock.Set(opsT0.Add(24 * time.Hour))
	_, err = f.planner.Tick(ctx)
	require.NoError(t, err)
	_, planned := f.reminderOf(t, "T-1", "next-sms")
	require.False(t, planned, "nothing is planned while the promise is pending")
	a, err := f.db.GetAccount(ctx, "acme", "T-1")
	require.NoError(t, err)
	require.True(t, a.NextActionAt.After(time.Date(2026, 6, 20, 23, 0, 0, 0, time.UTC)),
		"the account is set aside until the day after the promised date, not %s", a.NextActionAt)

	// The events name the work item, never the number.
	evs, err = f.db.Events(ctx, "acme", "T-1")
	require.NoError(t, err)
	var kinds []string
	for _, e := range evs {
		if pe, ok := nudge.PublicEventOf(nudge.FeedEntry{Event: e}); ok && strings.HasPrefix(string(pe.Type), "work_item.") {
			kinds = append(kinds, string(pe.Type))
			require.Equal(t, item.ID, pe.Data["work_item_id"])
			b, err := json.Marshal(pe)
			require.NoError(t, err)
			require.NotContains(t, string(b), "2145550171")
		}
	}
	require.Equal(t, []string{"work_item.created", "work_item.completed"}, kinds)
}

func TestWorkItemWrongPartyMarksTheNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupTaskFlow(t)
	f.addAccount(t, "T-3", "+12145550173")
	_, err := f.planner.Tick(ctx)
	require.NoError(t, err)
	visit, ok := f.reminderOf(t, "T-3", "visit")
	require.True(t, ok)
	require.NoError(t, f.pipe.Process(ctx, visit.ID))
	items, err := f.db.ListWorkItems(ctx, nudge.WorkItemQuery{Lender: "acme", Kind: nudge.WorkFieldVisit})
	require.NoError(t, err)
	require.Len(t, items, 1)

	c := f.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(f.keys[nudge.RoleViewer]).StatusCode)
	_, page := c.do(http.MethodGet, "/ops/tasks", nil, nil)
	require.Contains(t, page, `id="task-`+items[0].ID+`"`, "the first kind with open items is shown")
	require.NotContains(t, page, "/complete", "a viewer may not work items")
	resp, _ := c.do(http.MethodPost, "/ops/tasks/"+items[0].ID+"/complete", url.Values{"csrf": {opsCSRF(t, page)}, "outcome": {"wrong_party"}}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// Without a promise the cadence goes on: the next day's text is planned.
	f.clock.Set(opsT0.Add(24 * time.Hour))
	_, err = f.planner.Tick(ctx)
	require.NoError(t, err)
	_, planned := f.reminderOf(t, "T-3", "next-sms")
	require.True(t, planned)

	c = f.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(f.keys[nudge.RoleAdmin]).StatusCode)
	_, page = c.do(http.MethodGet, "/ops/tasks", nil, nil)
	resp, _ = c.do(http.MethodPost, "/ops/tasks/"+items[0].ID+"/complete", url.Values{"csrf": {opsCSRF(t, page)}, "outcome": {"wrong_party"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	audit, err := f.db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "work_item.complete", audit[len(audit)-1].Action)
	require.Equal(t, items[0].ID, audit[len(audit)-1].Target)
	require.Equal(t, f.keyIDs[nudge.RoleAdmin], audit[len(audit)-1].Actor)
	a, err := f.db.GetAccount(ctx, "acme", "T-3")
	require.NoError(t, err)
	for _, ct := range a.Contacts {
		if ct.Channel.IsPhone() {
			require.Equal(t, nudge.ContactWrongParty, ct.State, "the %s number is marked", ct.Channel)
		}
	}
}
