package payment

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bojanz/currency"

	"github.com/nudgehq/nudge"
)

// MinInstalments is the fewest instalments a plan has.
const MinInstalments = 2

// MaxPlanInstalments bounds nudge.PlanRules.MaxInstalments.
const MaxPlanInstalments = 24

// Instalment is one payment of a plan.
type Instalment struct {
	// Due is the instalment's date in the borrower's time zone.
	Due nudge.Date
	// Amount is a decimal string with the currency's digits ("137.50").
	Amount string
}

// Plan is a payment plan: the amount due split into instalments, earliest
// first.
type Plan struct {
	Currency    string
	Instalments []Instalment
}

// PlanProblem says what is wrong with a plan; the page words it in the
// borrower's language.
type PlanProblem string

// Plan problems.
const (
	// ProblemNoPlans: the lender offers no plans, or none fits the amount.
	ProblemNoPlans PlanProblem = "no_plans"
	// ProblemCount: the number of instalments is not from MinInstalments to
	// the rules' MaxInstalments.
	ProblemCount PlanProblem = "count"
	// ProblemFirstDate: the first date is before today or after the horizon.
	ProblemFirstDate PlanProblem = "first_date"
	// ProblemHorizon: the last instalment falls after the horizon.
	ProblemHorizon PlanProblem = "horizon"
	// ProblemOrder: the dates are not one after another.
	ProblemOrder PlanProblem = "order"
	// ProblemMinimum: an instalment is below the rules' minimum.
	ProblemMinimum PlanProblem = "minimum"
	// ProblemSum: the instalments do not add up to the amount due.
	ProblemSum PlanProblem = "sum"
	// ProblemAmount: an amount is not a valid amount of the currency.
	ProblemAmount PlanProblem = "amount"
)

// PlanError is a plan that breaks the rules, with what the borrower needs
// to fix it.
type PlanError struct {
	Problem PlanProblem
	// Field is the form field at fault: "count", "first" or "" for the plan.
	Field string
	// Latest is the latest date a plan may reach (today + MaxDays).
	Latest nudge.Date
	// Earliest is the earliest date (today).
	Earliest nudge.Date
	// Minimum is the smallest instalment allowed, as a decimal string.
	Minimum string
	// Max is the most instalments allowed.
	Max int
	// Detail says more, in English, for logs and the API.
	Detail string
}

func (e *PlanError) Error() string { return "payment plan: " + string(e.Problem) + ": " + e.Detail }

// ValidateRules checks a lender's plan rules. Errors name the rule's field
// as the configuration spells it (max_instalments, min_instalment,
// interval_days, max_days). The zero value (no plans) is valid.
func ValidateRules(r nudge.PlanRules) error {
	if r == (nudge.PlanRules{}) {
		return nil
	}
	var errs []error
	if r.MaxInstalments < MinInstalments || r.MaxInstalments > MaxPlanInstalments {
		errs = append(errs, fmt.Errorf("max_instalments: %d: want %d to %d", r.MaxInstalments, MinInstalments, MaxPlanInstalments))
	}
	if r.IntervalDays < 1 || r.IntervalDays > 366 {
		errs = append(errs, fmt.Errorf("interval_days: %d: want 1 to 366", r.IntervalDays))
	}
	if r.MaxDays < 1 || r.MaxDays > 3*366 {
		errs = append(errs, fmt.Errorf("max_days: %d: want 1 to %d", r.MaxDays, 3*366))
	} else if r.IntervalDays >= 1 && r.IntervalDays > r.MaxDays {
		errs = append(errs, fmt.Errorf("interval_days: %d is more than max_days (%d): no second instalment could fall within the horizon", r.IntervalDays, r.MaxDays))
	}
	if r.MinInstalment != "" {
		if n, err := strconv.ParseFloat(r.MinInstalment, 64); err != nil || !amountLike(r.MinInstalment) || n < 0 {
			errs = append(errs, fmt.Errorf("min_instalment: %q is not a decimal amount like \"50.00\"", r.MinInstalment))
		}
	}
	return errors.Join(errs...)
}

// amountLike reports whether s is digits with an optional fraction.
func amountLike(s string) bool {
	whole, frac, _ := strings.Cut(s, ".")
	digits := func(p string) bool { return !strings.ContainsFunc(p, func(r rune) bool { return r < '0' || r > '9' }) }
	return whole != "" && digits(whole) && digits(frac) && (!strings.Contains(s, ".") || frac != "")
}

// Latest is the latest date a plan made today may reach.
func Latest(r nudge.PlanRules, today nudge.Date) nudge.Date { return today.AddDays(r.MaxDays) }

// Build splits amountDue into count instalments, the first on first and each
// next one r.IntervalDays later; the amounts are equal in the currency's
// digits, the first taking the remainder. The result is checked with Check,
// whose *PlanError it returns.
func Build(r nudge.PlanRules, amountDue, currencyCode string, today, first nudge.Date, count int) (Plan, error) {
	base := PlanError{Latest: Latest(r, today), Earliest: today, Minimum: r.MinInstalment, Max: r.MaxInstalments}
	fail := func(p PlanProblem, field, detail string) (Plan, error) {
		e := base
		e.Problem, e.Field, e.Detail = p, field, detail
		return Plan{}, &e
	}
	if !r.Offered() {
		return fail(ProblemNoPlans, "", "the lender offers no payment plans")
	}
	if count < MinInstalments || count > r.MaxInstalments {
		return fail(ProblemCount, "count", fmt.Sprintf("%d instalments: want %d to %d", count, MinInstalments, r.MaxInstalments))
	}
	if first.IsZero() || first.Before(today) || first.After(base.Latest) {
		return fail(ProblemFirstDate, "first", fmt.Sprintf("first date %s: want %s to %s", first, today, base.Latest))
	}
	due, digits, err := parseAmount(amountDue, currencyCode)
	if err != nil || !due.IsPositive() {
		return fail(ProblemAmount, "", fmt.Sprintf("amount due %q %s is not a positive amount", amountDue, currencyCode))
	}
	minor, err := due.RoundTo(digits, currency.RoundHalfUp).Int64()
	if err != nil {
		return fail(ProblemAmount, "", err.Error())
	}
	each := minor / int64(count)
	p := Plan{Currency: currencyCode}
	for i := range count {
		n := each
		if i == 0 {
			n += minor - each*int64(count)
		}
		a, err := currency.NewAmountFromInt64(n, currencyCode)
		if err != nil {
			return fail(ProblemAmount, "", err.Error())
		}
		p.Instalments = append(p.Instalments, Instalment{Due: first.AddDays(i * r.IntervalDays), Amount: a.Number()})
	}
	if err := Check(r, p, amountDue, today); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// Check validates a plan against the rules, the amount due and today: from
// MinInstalments to r.MaxInstalments instalments, dates from today to
// today + r.MaxDays, each after the one before, each amount a valid amount
// of the currency of at least r.MinInstalment, adding up to the amount due.
// It returns a *PlanError.
func Check(r nudge.PlanRules, p Plan, amountDue string, today nudge.Date) error {
	base := PlanError{Latest: Latest(r, today), Earliest: today, Minimum: r.MinInstalment, Max: r.MaxInstalments}
	fail := func(pr PlanProblem, field, detail string) error {
		e := base
		e.Problem, e.Field, e.Detail = pr, field, detail
		return &e
	}
	if !r.Offered() {
		return fail(ProblemNoPlans, "", "the lender offers no payment plans")
	}
	n := len(p.Instalments)
	if n < MinInstalments || n > r.MaxInstalments {
		return fail(ProblemCount, "count", fmt.Sprintf("%d instalments: want %d to %d", n, MinInstalments, r.MaxInstalments))
	}
	due, _, err := parseAmount(amountDue, p.Currency)
	if err != nil {
		return fail(ProblemAmount, "", fmt.Sprintf("amount due %q: %v", amountDue, err))
	}
	var minimum *currency.Amount
	if r.MinInstalment != "" {
		m, err := currency.NewAmount(r.MinInstalment, p.Currency)
		if err != nil {
			return fail(ProblemAmount, "", fmt.Sprintf("minimum instalment %q: %v", r.MinInstalment, err))
		}
		minimum = &m
	}
	sum, _ := currency.NewAmount("0", p.Currency)
	for i, in := range p.Instalments {
		switch {
		case in.Due.IsZero() || in.Due.Before(today):
			return fail(ProblemFirstDate, "first", fmt.Sprintf("instalment %d on %s is before today, %s", i+1, in.Due, today))
		case in.Due.After(base.Latest):
			return fail(ProblemHorizon, "", fmt.Sprintf("instalment %d on %s is after %s", i+1, in.Due, base.Latest))
		case i > 0 && !in.Due.After(p.Instalments[i-1].Due):
			return fail(ProblemOrder, "", fmt.Sprintf("instalment %d on %s is not after instalment %d", i+1, in.Due, i))
		}
		a, _, err := parseAmount(in.Amount, p.Currency)
		if err != nil || !a.IsPositive() {
			return fail(ProblemAmount, "", fmt.Sprintf("instalment %d: %q is not a positive amount", i+1, in.Amount))
		}
		if minimum != nil {
			if c, _ := a.Cmp(*minimum); c < 0 {
				return fail(ProblemMinimum, "count", fmt.Sprintf("instalment %d of %s is less than %s", i+1, in.Amount, r.MinInstalment))
			}
		}
		if sum, err = sum.Add(a); err != nil {
			return fail(ProblemAmount, "", err.Error())
		}
	}
	if c, _ := sum.Cmp(due); c != 0 {
		return fail(ProblemSum, "", fmt.Sprintf("the instalments add up to %s, not the amount due %s", sum.Number(), due.Number()))
	}
	return nil
}

// Options returns the plans a borrower may choose today for amountDue, a
// first instalment on first: for each number of instalments, fewest first,
// the plan Build accepts.
func Options(r nudge.PlanRules, amountDue, currencyCode string, today, first nudge.Date) []Plan {
	if !r.Offered() {
		return nil
	}
	var out []Plan
	for n := MinInstalments; n <= r.MaxInstalments; n++ {
		if p, err := Build(r, amountDue, currencyCode, today, first, n); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Promises turns a plan into its instalments as promises of account a,
// pending, under planID: instalment i (from 1) has the id planID-i.
func (p Plan) Promises(planID string, a nudge.Account, ch nudge.ChannelKind, replyID string, now time.Time) []nudge.Promise {
	out := make([]nudge.Promise, 0, len(p.Instalments))
	for i, in := range p.Instalments {
		out = append(out, nudge.Promise{
			ID: fmt.Sprintf("%s-%d", planID, i+1), Lender: a.Lender, AccountID: a.ID, Amount: in.Amount, Currency: p.Currency,
			Due: in.Due, Status: nudge.PromisePending, Channel: ch, ReplyID: replyID, PlanID: planID, CreatedAt: now, UpdatedAt: now,
		})
	}
	return out
}

// parseAmount reads a decimal amount of the currency, refusing more
// fraction digits than the currency has; it returns the currency's digits.
func parseAmount(s, code string) (currency.Amount, uint8, error) {
	digits, ok := currency.GetDigits(code)
	if !ok {
		return currency.Amount{}, 0, fmt.Errorf("unknown currency %q", code)
	}
	s = strings.TrimSpace(s)
	if !amountLike(s) {
		return currency.Amount{}, 0, fmt.Errorf("%q is not a decimal amount", s)
	}
	if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > int(digits) {
		return currency.Amount{}, 0, fmt.Errorf("%q has more than %d decimals", s, digits)
	}
	a, err := currency.NewAmount(s, code)
	return a, digits, err
}
