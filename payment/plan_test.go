package payment_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
)

var rules = nudge.PlanRules{MaxInstalments: 4, MinInstalment: "50.00", IntervalDays: 14, MaxDays: 60}

func TestBuild(t *testing.T) {
	t.Parallel()
	today := nudge.MustDate("2026-12-02")
	p, err := payment.Build(rules, "412.51", "USD", today, today.AddDays(3), 3)
	require.NoError(t, err)
	require.Equal(t, payment.Plan{Currency: "USD", Instalments: []payment.Instalment{
		{Due: nudge.MustDate("2026-12-05"), Amount: "137.51"},
		{Due: nudge.MustDate("2026-12-19"), Amount: "137.50"},
		{Due: nudge.MustDate("2027-01-02"), Amount: "137.50"},
	}}, p, "equal instalments, the first taking the remainder, interval_days apart")

	jpy, err := payment.Build(rules, "1000", "JPY", today, today, 3)
	require.NoError(t, err)
	require.Equal(t, "334", jpy.Instalments[0].Amount, "in the currency's digits")
	require.Equal(t, "333", jpy.Instalments[2].Amount)

	tests := []struct {
		name    string
		rules   nudge.PlanRules
		amount  string
		first   nudge.Date
		count   int
		problem payment.PlanProblem
		field   string
	}{
		{name: "no plans", rules: nudge.PlanRules{}, amount: "412.50", first: today, count: 2, problem: payment.ProblemNoPlans},
		{name: "one instalment", rules: rules, amount: "412.50", first: today, count: 1, problem: payment.ProblemCount, field: "count"},
		{name: "too many", rules: rules, amount: "412.50", first: today, count: 5, problem: payment.ProblemCount, field: "count"},
		{name: "first date in the past", rules: rules, amount: "412.50", first: today.AddDays(-1), count: 2, problem: payment.ProblemFirstDate, field: "first"},
		{name: "first date past the horizon", rules: rules, amount: "412.50", first: today.AddDays(61), count: 2, problem: payment.ProblemFirstDate, field: "first"},
		{name: "last past the horizon", rules: rules, amount: "412.50", first: today.AddDays(40), count: 3, problem: payment.ProblemHorizon},
		{name: "below the minimum", rules: rules, amount: "150.00", first: today, count: 4, problem: payment.ProblemMinimum, field: "count"},
		{name: "no amount due", rules: rules, amount: "0.00", first: today, count: 2, problem: payment.ProblemAmount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := payment.Build(tc.rules, tc.amount, "USD", today, tc.first, tc.count)
			var pe *payment.PlanError
			require.True(t, errors.As(err, &pe), "want a *PlanError, got %v", err)
			require.Equal(t, tc.problem, pe.Problem)
			require.Equal(t, tc.field, pe.Field)
			require.Equal(t, payment.Latest(tc.rules, today), pe.Latest)
		})
	}
}

// TestCheck refuses plans Build would never make: the page's form could be
// altered, and the amount due can change between showing and confirming.
func TestCheck(t *testing.T) {
	t.Parallel()
	today := nudge.MustDate("2026-12-02")
	good, err := payment.Build(rules, "412.50", "USD", today, today, 3)
	require.NoError(t, err)
	require.NoError(t, payment.Check(rules, good, "412.50", today))
	require.ErrorContains(t, payment.Check(rules, good, "500.00", today), "add up to 412.50, not the amount due 500.00")

	swapped := clonePlan(good)
	swapped.Instalments[0].Due, swapped.Instalments[1].Due = swapped.Instalments[1].Due, swapped.Instalments[0].Due
	requireProblem(t, payment.Check(rules, swapped, "412.50", today), payment.ProblemOrder)
	cents := clonePlan(good)
	cents.Instalments[0].Amount = "137.505"
	requireProblem(t, payment.Check(rules, cents, "412.50", today), payment.ProblemAmount)
	uneven := clonePlan(good)
	uneven.Instalments[0].Amount, uneven.Instalments[1].Amount = "40.00", "235.00"
	requireProblem(t, payment.Check(rules, uneven, "412.50", today), payment.ProblemMinimum)
	late := clonePlan(good)
	late.Instalments[2].Due = today.AddDays(61)
	requireProblem(t, payment.Check(rules, late, "412.50", today), payment.ProblemHorizon)

	require.Equal(t, []int{2, 3, 4}, counts(payment.Options(rules, "412.50", "USD", today, today)))
	require.Equal(t, []int{2}, counts(payment.Options(rules, "412.50", "USD", today, today.AddDays(40))), "three would end past the horizon")
	require.Equal(t, []int{2, 3}, counts(payment.Options(rules, "150.00", "USD", today, today)), "four would be below the minimum")
	require.Empty(t, payment.Options(nudge.PlanRules{}, "412.50", "USD", today, today))
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	require.NoError(t, payment.ValidateRules(rules))
	require.NoError(t, payment.ValidateRules(nudge.PlanRules{}), "no plans")
	err := payment.ValidateRules(nudge.PlanRules{MaxInstalments: 1, MinInstalment: "fifty", IntervalDays: 0, MaxDays: 60})
	require.ErrorContains(t, err, "max_instalments: 1: want 2 to 24")
	require.ErrorContains(t, err, "interval_days: 0")
	require.ErrorContains(t, err, `min_instalment: "fifty" is not a decimal amount`)
	require.ErrorContains(t, payment.ValidateRules(nudge.PlanRules{MaxInstalments: 3, IntervalDays: 30, MaxDays: 20}), "interval_days: 30 is more than max_days (20)")
}

func clonePlan(p payment.Plan) payment.Plan {
	p.Instalments = append([]payment.Instalment(nil), p.Instalments...)
	return p
}

func requireProblem(t *testing.T, err error, want payment.PlanProblem) {
	t.Helper()
	var pe *payment.PlanError
	require.True(t, errors.As(err, &pe), "want a *PlanError, got %v", err)
	require.Equal(t, want, pe.Problem, pe.Detail)
}

// counts is the number of instalments of each plan.
func counts(plans []payment.Plan) []int {
	out := make([]int, len(plans))
	for i, p := range plans {
		out[i] = len(p.Instalments)
	}
	return out
}
