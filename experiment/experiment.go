// Package experiment evaluates a lender's cadence experiments from the
// KPIs of their arms and promotes an arm to be the cadence: what the
// operator console (/ops/experiments), the lender API (/v1/experiments) and
// the experiment drill share (docs/experiments.md).
package experiment

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
)

// ActionPromote is the audit action of a promotion.
const ActionPromote = "cadence.promote"

// KPIReader computes KPI counters; *store.DB is one.
type KPIReader interface {
	KPIs(ctx context.Context, q store.KPIQuery) ([]store.KPIRow, error)
}

// Cadences reads a lender's active cadences; *schedules.Library is one.
type Cadences interface {
	Cadences(ctx context.Context, lender string) ([]schedules.Versioned, error)
}

var _ Cadences = (*schedules.Library)(nil)

// View is one experiment of a lender's active cadence with its result so
// far.
type View struct {
	Lender  string `json:"lender"`
	Cadence string `json:"cadence"`
	Version int    `json:"version"`
	Name    string `json:"experiment"`
	// Start and End are the experiment's assignment days (End zero: open).
	Start nudge.Date  `json:"start"`
	End   *nudge.Date `json:"end,omitempty"`
	// Running is true while accounts are assigned.
	Running bool `json:"running"`
	kpi.ExperimentResult
}

// Evaluate evaluates the experiments of the lender's active cadences: the
// KPIs of each arm's attempts from the experiment's start day to now's
// (UTC), across the cadence's versions, with Wilson intervals, the z-test
// of the primary metric and the better arm once the stop rule's sample is
// reached and p is below 0.05. cureDays 0 is store.DefaultCureDays.
func Evaluate(ctx context.Context, kpis KPIReader, cads Cadences, lender string, now time.Time, cureDays int) ([]View, error) {
	vs, err := cads.Cadences(ctx, lender)
	if err != nil {
		return nil, err
	}
	var out []View
	for _, c := range vs {
		e := c.Experiment
		if e == nil {
			continue
		}
		view := View{Lender: lender, Cadence: c.Name, Version: c.Version, Name: e.Name, Start: e.Start, Running: e.Running(now)}
		if !e.Stop.End.IsZero() {
			end := e.Stop.End
			view.End = &end
		}
		counts := map[string]kpi.Counts{}
		today := nudge.DateOf(now.UTC())
		if !today.Before(e.Start) {
			from := e.Start
			if today.DaysSince(from) >= store.MaxKPIDays {
				from = today.AddDays(1 - store.MaxKPIDays)
			}
			rows, err := kpis.KPIs(ctx, store.KPIQuery{Lender: lender, From: from, To: today, Now: now, CureDays: cureDays,
				By: []kpi.Dimension{kpi.CadenceVersion, kpi.Arm}})
			if err != nil {
				return nil, fmt.Errorf("experiment %s of cadence %s: %w", e.Name, c.Name, err)
			}
			for _, r := range rows {
				if strings.HasPrefix(r.Dims[0], c.Name+"@") {
					sum := counts[r.Dims[1]]
					sum.Add(r.Counts)
					counts[r.Dims[1]] = sum
				}
			}
		}
		arms := make([]kpi.ArmCounts, len(e.Arms))
		for i, a := range e.Arms {
			arms[i] = kpi.ArmCounts{Arm: a.Name, Counts: counts[a.Name]}
		}
		view.ExperimentResult, err = kpi.Evaluate(e.PrimaryMetric, e.Stop.MinPerArm, arms, kpi.DefaultAlpha)
		if err != nil {
			return nil, fmt.Errorf("experiment %s of cadence %s: %w", e.Name, c.Name, err)
		}
		out = append(out, view)
	}
	return out, nil
}

// Writer stores, activates and audits a cadence version in one
// transaction; *store.DB is one.
type Writer interface {
	PutCadenceVersion(ctx context.Context, lender, name string, source []byte, now time.Time, activate bool,
		audit func(version int) nudge.AuditEntry) (int, error)
}

var _ Writer = (*store.DB)(nil)

// Promote makes arm of the experiment of the lender's active cadence name
// the cadence: a new version whose steps are the arm's, without the
// experiment, stored, activated and audited (action ActionPromote) under
// actor in one transaction. It returns the new version. A lender without
// an active cadence name gets an error wrapping nudge.ErrNotFound; a
// cadence without an experiment, or an arm the experiment does not have,
// one wrapping schedules.ErrNoExperiment or schedules.ErrUnknownArm.
func Promote(ctx context.Context, w Writer, cads Cadences, lender, name, arm, actor string, now time.Time,
	opts ...schedules.Option) (int, error) {
	vs, err := cads.Cadences(ctx, lender)
	if err != nil {
		return 0, err
	}
	for _, c := range vs {
		if c.Name != name {
			continue
		}
		src, err := c.Promote(arm, opts...)
		if err != nil {
			return 0, err
		}
		return w.PutCadenceVersion(ctx, lender, name, src, now, true, func(v int) nudge.AuditEntry {
			return nudge.AuditEntry{Lender: lender, Actor: actor, Action: ActionPromote, Target: name, At: now,
				Detail: fmt.Sprintf("arm %s of experiment %s (version %d) promoted to version %d", arm, c.Experiment.Name, c.Version, v)}
		})
	}
	return 0, fmt.Errorf("lender %s has no active cadence %q: %w", lender, name, nudge.ErrNotFound)
}
