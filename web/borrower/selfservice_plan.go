package borrower

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/response"
)

// Actions of the payment-plan forms: the first shows the plan's dates and
// amounts, the second records it.
const (
	ActionPlanPreview = "plan_preview"
	ActionPlan        = "plan"
)

// DefaultPlanLeadDays is how many days from today the plan form offers as
// the first payment's date (earlier when the rules leave less room).
const DefaultPlanLeadDays = 7

// ssPlanRow is one instalment as the page shows it.
type ssPlanRow struct {
	Label  string
	Date   string
	Amount string
	// Status is the instalment's status in words; Class names its colour
	// (kept, pending, broken, canceled); both empty in a preview.
	Status string
	Class  string
}

// ssPlanView is a plan shown on the page: a preview to confirm or the
// borrower's plan with each instalment's status.
type ssPlanView struct {
	Rows []ssPlanRow
	// Count and First are what the preview was made from, carried by the
	// confirm form.
	Count int
	First string
	// Note says where the plan stands (active, a payment missed).
	Note string
}

// ssPlanOption is one number of instalments the borrower may choose.
type ssPlanOption struct {
	N       int
	Label   string
	Checked bool
}

// ssPlanOffer is the plan form.
type ssPlanOffer struct {
	Intro     string
	Options   []ssPlanOption
	First     string
	MinFirst  string
	MaxFirst  string
	FirstHint string
}

// offer builds the plan form, or nil when the lender offers no plan that
// fits the amount due. chosen and first are what the borrower last chose.
func (p *SelfService) offer(q *ssRequest, chosen int, first string) *ssPlanOffer {
	rules := q.lender.Plans
	plans := payment.Options(rules, q.acct.AmountDue, q.acct.Currency, q.today, q.today)
	if len(plans) == 0 {
		return nil
	}
	latest := payment.Latest(rules, q.today)
	if first == "" {
		lead := min(DefaultPlanLeadDays, rules.MaxDays-rules.IntervalDays*(len(plans[0].Instalments)-1))
		first = q.today.AddDays(max(lead, 0)).String()
	}
	from, _ := q.f.Date(q.today)
	to, _ := q.f.Date(latest)
	o := &ssPlanOffer{Intro: fmt.Sprintf(q.p.PlanIntro, rules.IntervalDays), First: first,
		MinFirst: q.today.String(), MaxFirst: latest.String(), FirstHint: fmt.Sprintf(q.p.PlanFirstHint, from, to)}
	for _, plan := range plans {
		n := len(plan.Instalments)
		each, err := q.f.Money(plan.Instalments[n-1].Amount, q.acct.Currency)
		if err != nil {
			each = plan.Instalments[n-1].Amount
		}
		o.Options = append(o.Options, ssPlanOption{N: n, Label: fmt.Sprintf(q.p.PlanOption, n, each), Checked: n == chosen})
	}
	return o
}

// buildPlan reads the plan form and builds the plan, or returns the form's
// errors by field in the borrower's language.
func (p *SelfService) buildPlan(q *ssRequest, r *http.Request) (payment.Plan, int, string, map[string]string) {
	countIn, first := strings.TrimSpace(r.PostForm.Get("count")), strings.TrimSpace(r.PostForm.Get("first"))
	count, err := strconv.Atoi(countIn)
	if err != nil {
		return payment.Plan{}, 0, first, map[string]string{"plan_count": q.p.ErrPlanCount}
	}
	date, err := nudge.ParseDate(first)
	if err != nil {
		date = nudge.Date{}
	}
	plan, err := payment.Build(q.lender.Plans, q.acct.AmountDue, q.acct.Currency, q.today, date, count)
	if err != nil {
		return payment.Plan{}, count, first, p.planErrors(q, count, err)
	}
	return plan, count, first, nil
}

// planErrors words a plan's *payment.PlanError for the page.
func (p *SelfService) planErrors(q *ssRequest, count int, err error) map[string]string {
	var pe *payment.PlanError
	if !errors.As(err, &pe) {
		return map[string]string{"plan": q.p.ErrPlanNone}
	}
	from, _ := q.f.Date(pe.Earliest)
	to, _ := q.f.Date(pe.Latest)
	switch pe.Problem {
	case payment.ProblemCount:
		return map[string]string{"plan_count": q.p.ErrPlanCount}
	case payment.ProblemFirstDate:
		return map[string]string{"plan_first": fmt.Sprintf(q.p.ErrPlanFirst, from, to)}
	case payment.ProblemHorizon:
		return map[string]string{"plan_first": fmt.Sprintf(q.p.ErrPlanHorizon, count, to)}
	case payment.ProblemMinimum:
		least, ferr := q.f.Money(pe.Minimum, q.acct.Currency)
		if ferr != nil {
			least = pe.Minimum
		}
		return map[string]string{"plan_count": fmt.Sprintf(q.p.ErrPlanMinimum, least)}
	}
	return map[string]string{"plan": q.p.ErrPlanNone}
}

// planPreview shows the dates and amounts of the chosen plan with a form to
// confirm it, or answers 422 with the form's errors. It records nothing.
func (p *SelfService) planPreview(q *ssRequest, r *http.Request, v *ssView) int {
	if !v.Active || v.Offer == nil {
		return http.StatusConflict
	}
	plan, count, first, errs := p.buildPlan(q, r)
	v.Offer = p.offer(q, count, first)
	if errs != nil {
		v.Errors = errs
		return http.StatusUnprocessableEntity
	}
	v.PlanPreview = &ssPlanView{Count: count, First: first, Rows: p.planRows(q, plan)}
	return http.StatusOK
}

// plan records the chosen plan through Answers, or answers 422 with the
// form's errors (the rules are checked again: the amount due or the day may
// have changed since the preview).
func (p *SelfService) plan(ctx context.Context, q *ssRequest, nonce string, r *http.Request, v *ssView) (int, error) {
	if !v.Active || v.Offer == nil {
		return http.StatusConflict, nil
	}
	plan, count, first, errs := p.buildPlan(q, r)
	if errs != nil {
		v.Offer, v.Errors = p.offer(q, count, first), errs
		return http.StatusUnprocessableEntity, nil
	}
	if _, err := p.Answers.Apply(ctx, response.Answer{Account: q.acct, Channel: q.link.Channel, Address: q.link.Address,
		Intent: nudge.IntentPromise, Plan: &plan, ProviderID: providerID(q, ActionPlan, nonce),
		Body: fmt.Sprintf("self-service page: plan of %d payments", count), Source: response.SourceWeb}); err != nil {
		return 0, err
	}
	v.Notice = fmt.Sprintf(q.p.DonePlan, count)
	p.logger().Info("self-service payment plan", "lender", q.acct.Lender, "account", q.acct.ID, "instalments", count, "first", first)
	return http.StatusOK, nil
}

// planRows are a preview's rows.
func (p *SelfService) planRows(q *ssRequest, plan payment.Plan) []ssPlanRow {
	rows := make([]ssPlanRow, 0, len(plan.Instalments))
	for i, in := range plan.Instalments {
		rows = append(rows, p.row(q, i+1, in.Due, in.Amount, ""))
	}
	return rows
}

func (p *SelfService) row(q *ssRequest, n int, due nudge.Date, amount string, status nudge.PromiseStatus) ssPlanRow {
	day, err := q.f.Date(due)
	if err != nil {
		day = due.String()
	}
	money, err := q.f.Money(amount, q.acct.Currency)
	if err != nil {
		money = amount
	}
	r := ssPlanRow{Label: fmt.Sprintf(q.p.PlanNumber, n), Date: day, Amount: money, Class: string(status)}
	switch status {
	case nudge.PromiseKept:
		r.Status = q.p.StatusKept
	case nudge.PromisePending:
		r.Status = q.p.StatusDue
	case nudge.PromiseBroken:
		r.Status = q.p.StatusBroken
	case nudge.PromiseCanceled:
		r.Status = q.p.StatusCanceled
	}
	return r
}

// currentPlan returns the account's most recent plan of the current cycle
// (its last instalment on or after the due date) that was not replaced,
// with each instalment's status, or nil; broken says whether an instalment
// was missed.
func (p *SelfService) currentPlan(q *ssRequest, ps []nudge.Promise) (view *ssPlanView, broken bool) {
	var (
		id     string
		latest nudge.Promise
	)
	for _, pr := range ps {
		if pr.PlanID != "" && pr.Status != nudge.PromiseCanceled && (id == "" || !pr.CreatedAt.Before(latest.CreatedAt)) {
			id, latest = pr.PlanID, pr
		}
	}
	if id == "" {
		return nil, false
	}
	var rows []nudge.Promise
	current := false
	for _, pr := range ps {
		if pr.PlanID == id {
			rows = append(rows, pr)
			current = current || !pr.Due.Before(q.acct.DueDate)
		}
	}
	if !current {
		return nil, false
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Due.Before(rows[j].Due) })
	view = &ssPlanView{}
	for i, pr := range rows {
		view.Rows = append(view.Rows, p.row(q, i+1, pr.Due, pr.Amount, pr.Status))
		broken = broken || pr.Status == nudge.PromiseBroken
	}
	return view, broken
}

// payURL is the lender's payment link for what the borrower owes next: the
// active promise's or instalment's amount, else the amount due; "" when the
// lender has none.
func payURL(q *ssRequest, active *nudge.Promise) string {
	a := q.acct
	if active != nil && active.Amount != "" {
		a.AmountDue = active.Amount
	}
	return payment.LinkFor(q.lender, a)
}
