package ops

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/experiment"
)

// experimentsData is the experiments page.
type experimentsData struct {
	Experiments []experimentView
	CanPromote  bool
	Promoted    string
}

type experimentView struct {
	experiment.View
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
	_, writable := o.cfg.Store.(experiment.Writer)
	d.CanPromote = writable && p.Key.Role == nudge.RoleAdmin
	if o.cfg.Cadences != nil {
		views, err := experiment.Evaluate(r.Context(), o.cfg.Store, o.cfg.Cadences, p.Lender, v.Now, o.cfg.CureDays)
		if err != nil {
			return "", err
		}
		for _, ev := range views {
			x := experimentView{View: ev, MetricTitle: v.T(kpiTitles[ev.Metric])}
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
	w, ok := o.cfg.Store.(experiment.Writer)
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
	ver, err := experiment.Promote(r.Context(), w, o.cfg.Cadences, p.Lender, name, arm, actor(p.Key), v.Now, o.cfg.CadenceOptions...)
	if err != nil {
		return "", opsErrorf(http.StatusBadRequest, "the promotion was refused: %v", err)
	}
	return o.experimentsPage(r, p, v, fmt.Sprintf(v.T("Arm %s is now cadence %s version %d."), arm, name, ver))
}
