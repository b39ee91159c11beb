package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

// MaxWorkNote is the longest note a person may write on completing a work item.
const MaxWorkNote = 2000

// OpsWorkItems lists and assigns the work items of task steps, and
// completes them with their consequences (a promise, a wrong number);
// nil hides the work items page.
type OpsWorkItems interface {
	ListWorkItems(ctx context.Context, q nudge.WorkItemQuery) ([]nudge.WorkItem, error)
	WorkItemCounts(ctx context.Context, lender string) (map[string]int, error)
	AssignWorkItem(ctx context.Context, lender, id, assignee string, now time.Time) (nudge.WorkItem, error)
	// Complete records c on item id and lets it change what is sent next
	// (response.Handler.CompleteWorkItem).
	Complete(ctx context.Context, lender, id string, c nudge.WorkCompletion) (nudge.WorkItem, error)
}

// workKindWords names the built-in kinds in English words the templates translate.
var workKindWords = map[string]string{
	nudge.WorkCallList:    msg("Call list"),
	nudge.WorkFieldVisit:  msg("Field visit"),
	nudge.WorkLegalReview: msg("Legal review"),
	nudge.WorkLetter:      msg("Letter"),
}

// workOutcomeWords says each outcome in English words.
var workOutcomeWords = map[nudge.WorkOutcome]string{
	nudge.OutcomeReached:    msg("Reached the borrower"),
	nudge.OutcomePromise:    msg("Promise to pay"),
	nudge.OutcomeNoContact:  msg("No contact"),
	nudge.OutcomeRefused:    msg("Refused"),
	nudge.OutcomeWrongParty: msg("Wrong party"),
}

// workTab is one queue of the page: a kind and its open items.
type workTab struct {
	Kind, Name string
	Open       int
}

// workRow is a work item as the page shows it.
type workRow struct {
	nudge.WorkItem
	OutcomeText string
}

// workOutcome is a choice of the completion form.
type workOutcome struct{ Value, Text string }

// tasksData is the work items page: a tab per kind, the chosen kind's
// open (or completed) items, oldest first.
type tasksData struct {
	Tabs     []workTab
	Kind     string
	Done     bool
	Rows     []workRow
	Outcomes []workOutcome
	CanAct   bool
	Me       string
	Message  string
	// Next continues the list after its last item ("" on the last page).
	Next string
}

// tasks is the work items page (/ops/tasks).
func (o *Ops) tasks(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	if o.cfg.WorkItems == nil {
		return "", opsErrorf(http.StatusNotFound, "work items are not kept by this deployment")
	}
	q := r.URL.Query()
	counts, err := o.cfg.WorkItems.WorkItemCounts(r.Context(), p.Lender)
	if err != nil {
		return "", err
	}
	d := tasksData{Kind: strings.TrimSpace(q.Get("kind")), Done: q.Get("view") == "done", CanAct: canAct(p.Key), Me: actor(p.Key)}
	kinds := slices.Clone(nudge.WorkKinds)
	var extra []string
	for k := range counts {
		if !slices.Contains(kinds, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	kinds = append(kinds, extra...)
	if d.Kind == "" {
		d.Kind = kinds[0]
		for _, k := range kinds {
			if counts[k] > 0 {
				d.Kind = k
				break
			}
		}
	}
	if !nudge.ValidWorkKind(d.Kind) {
		return "", opsErrorf(http.StatusBadRequest, "kind: %q is not a work item kind", d.Kind)
	}
	if !slices.Contains(kinds, d.Kind) {
		kinds = append(kinds, d.Kind)
	}
	for _, k := range kinds {
		d.Tabs = append(d.Tabs, workTab{Kind: k, Name: workKindName(k), Open: counts[k]})
	}
	for _, oc := range nudge.WorkOutcomes {
		d.Outcomes = append(d.Outcomes, workOutcome{Value: string(oc), Text: workOutcomeWords[oc]})
	}
	switch q.Get("done") {
	case "assign":
		d.Message = msg("Assigned to you.")
	case "complete":
		d.Message = msg("Completed: the outcome is recorded and the item left the queue.")
	}
	wq := nudge.WorkItemQuery{Lender: p.Lender, Kind: d.Kind, Status: nudge.WorkPending, After: q.Get("after"), Limit: OpsListPageSize + 1}
	if d.Done {
		wq.Status = nudge.WorkCompleted
	}
	items, err := o.cfg.WorkItems.ListWorkItems(r.Context(), wq)
	if err != nil {
		return "", err
	}
	if len(items) > OpsListPageSize {
		items = items[:OpsListPageSize]
		next := url.Values{"kind": {d.Kind}, "after": {items[len(items)-1].ID}}
		if d.Done {
			next.Set("view", "done")
		}
		d.Next = web.OpsPath + "/tasks?" + next.Encode()
	}
	for _, w := range items {
		d.Rows = append(d.Rows, workRow{WorkItem: w, OutcomeText: workOutcomeWords[w.Outcome]})
	}
	v.Title, v.Nav, v.Data = v.T("Work items"), "tasks", d
	return "tasks", nil
}

// workKindName is a kind in words: a built-in kind's name, else the kind.
func workKindName(k string) string {
	if s, ok := workKindWords[k]; ok {
		return s
	}
	return k
}

// taskAction assigns a work item to the acting key or completes it with an
// outcome (a promise with its amount and date).
func (o *Ops) taskAction(w http.ResponseWriter, r *http.Request, p *opsPrincipal, _ *opsView) (string, error) {
	if o.cfg.WorkItems == nil {
		return "", opsErrorf(http.StatusNotFound, "work items are not kept by this deployment")
	}
	if !canAct(p.Key) {
		return "", opsErrorf(http.StatusForbidden, "the %s role may read the work items but not work them", p.Key.Role)
	}
	id, who := r.PathValue("id"), actor(p.Key)
	var (
		item nudge.WorkItem
		err  error
	)
	switch r.PathValue("action") {
	case "assign":
		item, err = o.cfg.WorkItems.AssignWorkItem(r.Context(), p.Lender, id, who, o.now())
	case "complete":
		c, cerr := workCompletionForm(r, who)
		if cerr != nil {
			return "", cerr
		}
		item, err = o.cfg.WorkItems.Complete(r.Context(), p.Lender, id, c)
	default:
		return "", opsErrorf(http.StatusNotFound, "no action %q", r.PathValue("action"))
	}
	switch {
	case errors.Is(err, nudge.ErrNotFound):
		return "", opsErrorf(http.StatusNotFound, "no such work item for this lender")
	case errors.Is(err, nudge.ErrConflict):
		return "", opsErrorf(http.StatusConflict, "this work item was already completed with another outcome")
	case err != nil:
		return "", err
	}
	detail, err := json.Marshal(map[string]string{"account_id": item.AccountID, "kind": item.Kind, "outcome": string(item.Outcome)})
	if err != nil {
		return "", err
	}
	if err := o.cfg.Store.AppendAudit(r.Context(), nudge.AuditEntry{Lender: p.Lender, Actor: who, Action: "work_item." + r.PathValue("action"),
		Target: item.ID, Detail: string(detail), At: o.now()}); err != nil {
		return "", err
	}
	back := url.Values{"done": {r.PathValue("action")}, "kind": {item.Kind}}
	http.Redirect(w, r, web.OpsPath+"/tasks?"+back.Encode(), http.StatusSeeOther)
	return "", nil
}

// workCompletionForm reads the completion form, naming the field of a mistake.
func workCompletionForm(r *http.Request, who string) (nudge.WorkCompletion, error) {
	c := nudge.WorkCompletion{Outcome: nudge.WorkOutcome(r.PostFormValue("outcome")), Note: strings.TrimSpace(r.PostFormValue("note")), Actor: who}
	if len([]rune(c.Note)) > MaxWorkNote {
		return c, opsErrorf(http.StatusBadRequest, "note: longer than %d characters", MaxWorkNote)
	}
	if c.Outcome == nudge.OutcomePromise {
		c.PromiseAmount = strings.TrimSpace(r.PostFormValue("promise_amount"))
		if c.PromiseAmount != "" && !validAmount(c.PromiseAmount) {
			return c, opsErrorf(http.StatusBadRequest, "promise_amount: %q is not an amount like 120.50", c.PromiseAmount)
		}
		s := strings.TrimSpace(r.PostFormValue("promise_date"))
		due, err := nudge.ParseDate(s)
		if err != nil {
			return c, opsErrorf(http.StatusBadRequest, "promise_date: %q is not a date like 2026-06-30", s)
		}
		c.PromiseDue = due
	}
	if err := c.Validate(); err != nil {
		return c, opsErrorf(http.StatusBadRequest, "the completion is not valid: %s", err.Error())
	}
	return c, nil
}

// validAmount reports whether s is a positive decimal amount with at most
// two decimals.
func validAmount(s string) bool {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || len(whole) > 12 {
		return false
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return false
		}
	}
	return strings.Trim(whole+frac, "0") != ""
}
