package ops

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
)

// KPIReader computes KPI counters; *store.DB is one.
type KPIReader interface {
	KPIs(ctx context.Context, q store.KPIQuery) ([]store.KPIRow, error)
}

// ExperimentView is one experiment of a lender's active cadence with its
// result so far.
type ExperimentView struct {
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

// Experiments evaluates the experiments of the lender's active cadences:
// the KPIs of each arm's attempts from the experiment's start day to now's
// (UTC), across the cadence's versions, with Wilson intervals, the z-test
// of the primary metric and the better arm once the stop rule's sample is
// reached and p is below 0.05. cureDays 0 is store.DefaultCureDays.
func Experiments(ctx context.Context, kpis KPIReader, cads OpsCadences, lender string, now time.Time, cureDays int) ([]ExperimentView, error) {
	vs, err := cads.Cadences(ctx, lender)
	if err != nil {
		return nil, err
	}
	var out []ExperimentView
	for _, c := range vs {
		e := c.Experiment
		if e == nil {
			continue
		}
		view := ExperimentView{Lender: lender, Cadence: c.Name, Version: c.Version, Name: e.Name, Start: e.Start, Running: e.Running(now)}
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

// CadenceWriter stores and activates a cadence version; *store.DB is one.
type CadenceWriter interface {
	PutCadence(ctx context.Context, lender, name string, source []byte, now time.Time) (int, error)
	ActivateCadence(ctx context.Context, lender, name string, version int) error
}

// PromoteArm makes arm of the experiment of the lender's active cadence
// name the cadence: a new version whose steps are the arm's, without the
// experiment, stored, activated and audited (action cadence.promote) under
// actor. It returns the new version.
func PromoteArm(ctx context.Context, w CadenceWriter, audit func(context.Context, nudge.AuditEntry) error, cads OpsCadences,
	lender, name, arm, actor string, now time.Time, opts ...schedules.Option) (int, error) {
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
		v, err := w.PutCadence(ctx, lender, name, src, now)
		if err != nil {
			return 0, err
		}
		if err := w.ActivateCadence(ctx, lender, name, v); err != nil {
			return 0, err
		}
		detail := fmt.Sprintf("arm %s of experiment %s (version %d) promoted to version %d", arm, c.Experiment.Name, c.Version, v)
		if err := audit(ctx, nudge.AuditEntry{Lender: lender, Actor: actor, Action: "cadence.promote", Target: name, Detail: detail, At: now}); err != nil {
			return 0, err
		}
		return v, nil
	}
	return 0, fmt.Errorf("lender %s has no active cadence %q", lender, name)
}

// experimentsData is the experiments page.
type experimentsData struct {
	Experiments []experimentView
	CanPromote  bool
	Promoted    string
}

type experimentView struct {
	ExperimentView
	MetricTitle string
	Rows        []experimentRow
	P           string
	Verdict     string
}

type experimentRow struct {
	Arm, Rate, Interval, Fraction string
	Sent                          int64
	Champion, Better              bool
}

// experiments shows each experiment of the lender's active cadences: per
// arm the primary metric with its 95% Wilson interval, the z-test's p and
// the verdict, and a promote form for admins.
func (o *Ops) experiments(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	return o.experimentsPage(r, p, v, "")
}

func (o *Ops) experimentsPage(r *http.Request, p *opsPrincipal, v *opsView, promoted string) (string, error) {
	v.Title, v.Nav = v.T("Experiments"), "experiments"
	d := experimentsData{Promoted: promoted}
	_, writable := o.cfg.Store.(CadenceWriter)
	d.CanPromote = writable && p.Key.Role == nudge.RoleAdmin
	if o.cfg.Cadences != nil {
		views, err := Experiments(r.Context(), o.cfg.Store, o.cfg.Cadences, p.Lender, v.Now, o.cfg.CureDays)
		if err != nil {
			return "", err
		}
		for _, ev := range views {
			x := experimentView{ExperimentView: ev, MetricTitle: v.T(kpiTitles[ev.Metric])}
			for i, a := range ev.Arms {
				iv := a.Rates[ev.Metric]
				row := experimentRow{Arm: a.Arm, Sent: a.Counts.Sent, Champion: i == 0, Better: a.Arm == ev.Better,
					Rate: pct(int(iv.Num), int(iv.Den)), Fraction: fmt.Sprintf("%d / %d", iv.Num, iv.Den)}
				if iv.Den > 0 {
					row.Interval = fmt.Sprintf("%.1f–%.1f%%", 100*iv.Low, 100*iv.High)
				}
				x.Rows = append(x.Rows, row)
			}
			var ps []string
			for _, t := range ev.Comparison.Tests {
				ps = append(ps, fmt.Sprintf("%s: z = %.2f, p = %.3g", t.Challenger, t.Z, t.P))
			}
			x.P = strings.Join(ps, "; ")
			switch {
			case ev.Better != "":
				x.Verdict = fmt.Sprintf(v.T("%s is better (p < %g)."), ev.Better, ev.Comparison.Alpha)
			case !ev.SampleReached:
				x.Verdict = fmt.Sprintf(v.T("Not decided: every arm needs %d in the primary metric's denominator."), ev.MinPerArm)
			default:
				x.Verdict = v.T("No arm is better so far (p ≥ 0.05).")
			}
			d.Experiments = append(d.Experiments, x)
		}
	}
	v.Data = d
	return "experiments", nil
}

// promoteArm promotes the arm posted (cadence, arm) to a new cadence
// version; admins only.
func (o *Ops) promoteArm(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	w, ok := o.cfg.Store.(CadenceWriter)
	if !ok || o.cfg.Cadences == nil {
		return "", opsErrorf(http.StatusNotFound, "promotion is not available here")
	}
	if p.Key.Role != nudge.RoleAdmin {
		return "", opsErrorf(http.StatusForbidden, "the %s role may look at experiments but not promote an arm", p.Key.Role)
	}
	if err := r.ParseForm(); err != nil {
		return "", opsErrorf(http.StatusBadRequest, "the form could not be read: %v", err)
	}
	name, arm := r.PostFormValue("cadence"), r.PostFormValue("arm")
	ver, err := PromoteArm(r.Context(), w, o.cfg.Store.AppendAudit, o.cfg.Cadences, p.Lender, name, arm, actor(p.Key), v.Now, o.cfg.CadenceOptions...)
	if err != nil {
		return "", opsErrorf(http.StatusBadRequest, "the promotion was refused: %v", err)
	}
	return o.experimentsPage(r, p, v, fmt.Sprintf(v.T("Arm %s is now cadence %s version %d."), arm, name, ver))
}
