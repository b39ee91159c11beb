package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// KPIsTarget is the longest a year of one lender's KPIs may take to answer.
const KPIsTarget = 2 * time.Second

// kpiLender is the lender the KPI measurement seeds; no other step uses it.
const kpiLender = "bench-kpis"

// KPIResult is a year of KPIs over a synthetic history.
type KPIResult struct {
	Accounts int `json:"accounts"`
	// Attempts counts the accepted attempts of the year.
	Attempts int64 `json:"attempts"`
	// Seed and Rollup are the set-up: the history written, the first
	// rollup over the whole year (up to an hour before the measurement).
	Seed   time.Duration `json:"seed"`
	Rollup time.Duration `json:"rollup"`
	// Year is the median query over the year by channel and step: the
	// rollups plus the hours since the last hourly pass, live; LiveDay
	// the current day alone, all live.
	Year    time.Duration `json:"year"`
	LiveDay time.Duration `json:"live_day"`
	// HourlyPass is the scheduler's next rollup pass, run after the
	// queries: the current day's closed hours recomputed.
	HourlyPass time.Duration `json:"hourly_pass"`
}

// measureKPIs seeds a year of history for cfg.KPIAccounts accounts
// (store.DB.SeedKPIHistory), rolls it up as the scheduler's hourly pass
// would have an hour ago, times the year's KPIs and the live day alone,
// cfg.Repeat times each (medians), then times the next hourly pass.
//
// The rollup ends an hour before now, not at now: the scheduler rolls up
// every kpis.rollup_every (an hour by default) up to the pass's whole hour,
// so a query computes live between one and two hours of attempts at most.
// Rolling up at now would leave only the minutes since the hour began and
// flatter the figure.
func measureKPIs(ctx context.Context, e *env) (KPIResult, error) {
	r := KPIResult{Accounts: e.cfg.KPIAccounts}
	now := time.Now().UTC()
	start := time.Now()
	if err := e.db.SeedKPIHistory(ctx, store.KPISeed{Lender: kpiLender, Accounts: r.Accounts, End: now}); err != nil {
		return r, err
	}
	r.Seed = time.Since(start)
	fmt.Fprintf(e.cfg.Progress, "kpis: a year of history for %d accounts seeded in %s\n", r.Accounts, r.Seed.Round(time.Millisecond))
	start = time.Now()
	if _, err := e.db.RollupKPIs(ctx, kpiLender, now.Add(-time.Hour), 0); err != nil {
		return r, err
	}
	r.Rollup = time.Since(start)
	fmt.Fprintf(e.cfg.Progress, "kpis: first rollup (whole year, up to an hour ago) in %s\n", r.Rollup.Round(time.Millisecond))
	q := store.KPIQuery{Lender: kpiLender, From: nudge.DateOf(now).AddDays(-364), To: nudge.DateOf(now),
		By: []kpi.Dimension{kpi.Channel, kpi.Step}, Now: now}
	var year, live []time.Duration
	for range e.cfg.Repeat {
		start = time.Now()
		rows, err := e.db.KPIs(ctx, q)
		if err != nil {
			return r, err
		}
		year = append(year, time.Since(start))
		r.Attempts = 0
		for _, row := range rows {
			r.Attempts += row.Counts.Sent
		}
		day := q
		day.From, day.Live = day.To, true
		start = time.Now()
		if _, err := e.db.KPIs(ctx, day); err != nil {
			return r, err
		}
		live = append(live, time.Since(start))
	}
	r.Year, r.LiveDay = median(year), median(live)
	fmt.Fprintf(e.cfg.Progress, "kpis: the year by channel and step in %s (%d accepted attempts), the live day alone in %s\n",
		r.Year.Round(time.Millisecond), r.Attempts, r.LiveDay.Round(time.Millisecond))
	start = time.Now()
	if _, err := e.db.RollupKPIs(ctx, kpiLender, now, 0); err != nil {
		return r, err
	}
	r.HourlyPass = time.Since(start)
	fmt.Fprintf(e.cfg.Progress, "kpis: the next hourly rollup pass in %s\n", r.HourlyPass.Round(time.Millisecond))
	return r, nil
}

// kpiRow is the KPI line of the results table.
func (r *Report) kpiRow() Row {
	k := r.KPIs
	return Row{Measure: RowNames[len(RowNames)-1],
		Result:  fmt.Sprintf("%s (%s accounts, %d attempts)", dur(k.Year), size(k.Accounts), k.Attempts),
		Ceiling: "live day alone " + dur(k.LiveDay) + ", hourly rollup " + dur(k.HourlyPass), Ratio: ratioText(ratio(float64(k.Year), float64(KPIsTarget))),
		Target: "≤ " + dur(KPIsTarget), Verdict: verdict(k.Year > 0 && k.Year <= KPIsTarget)}
}
