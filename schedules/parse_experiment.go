package schedules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
)

// date decodes a day written YYYY-MM-DD.
func (d *decoder) date(path string, n ast.Node, dst *nudge.Date) {
	var raw string
	if _, ok := d.resolve(n).(*ast.StringNode); !ok {
		d.loc.addf(path, n, "want a date like 2026-12-01 (YYYY-MM-DD), got %s", kindOf(d.resolve(n)))
		return
	}
	d.str(path, n, &raw)
	v, err := nudge.ParseDate(raw)
	if err != nil {
		d.loc.addf(path, n, "%q is not a date like 2026-12-01 (YYYY-MM-DD)", raw)
		return
	}
	*dst = v
}

func (d *decoder) experiment(path string, n ast.Node, c *Cadence) {
	e := &Experiment{}
	c.Experiment = e
	d.mapping(path, n, []field{
		{"name", func(p string, v ast.Node) { d.str(p, v, &e.Name) }},
		{"start", func(p string, v ast.Node) { d.date(p, v, &e.Start) }},
		{"primary_metric", func(p string, v ast.Node) { d.str(p, v, &e.PrimaryMetric) }},
		{"stop", func(p string, v ast.Node) {
			d.mapping(p, v, []field{
				{"min_per_arm", func(p string, v ast.Node) { d.integer(p, v, &e.Stop.MinPerArm) }},
				{"end", func(p string, v ast.Node) { d.date(p, v, &e.Stop.End) }},
			})
		}},
		{"arms", func(p string, v ast.Node) {
			d.list(p, v, func(ip string, v ast.Node) {
				var a Arm
				d.mapping(ip, v, []field{
					{"name", func(p string, v ast.Node) { d.str(p, v, &a.Name) }},
					{"weight", func(p string, v ast.Node) { d.integer(p, v, &a.Weight) }},
					{"steps", func(p string, v ast.Node) {
						d.list(p, v, func(ip string, v ast.Node) {
							var ch StepChange
							d.stepChange(ip, v, &ch)
							a.Steps = append(a.Steps, ch)
						})
					}},
				})
				e.Arms = append(e.Arms, a)
			})
		}},
	})
}

func (d *decoder) stepChange(path string, n ast.Node, ch *StepChange) {
	d.mapping(path, n, []field{
		{"id", func(p string, v ast.Node) { d.str(p, v, &ch.ID) }},
		{"day", func(p string, v ast.Node) {
			var day int
			d.integer(p, v, &day)
			ch.Day = &day
		}},
		{"at", func(p string, v ast.Node) {
			if x, ok := d.resolve(v).(*ast.IntegerNode); ok {
				d.loc.addf(p, v, "want a time of day like \"09:30\" (HH:MM), got the number %s", x.String())
				return
			}
			var raw string
			d.str(p, v, &raw)
			t, err := ParseClockTime(raw)
			if err != nil {
				d.loc.add(p, v, err.Error())
				return
			}
			ch.At = &t
		}},
		{"channel", func(p string, v ast.Node) {
			var raw string
			d.str(p, v, &raw)
			ch.Channel = nudge.ChannelKind(raw)
		}},
		{"template", func(p string, v ast.Node) { d.str(p, v, &ch.Template) }},
		{"fallback", func(p string, v ast.Node) {
			var raw string
			d.str(p, v, &raw)
			ch.Fallback = nudge.ChannelKind(raw)
		}},
		{"fallback_template", func(p string, v ast.Node) { d.str(p, v, &ch.FallbackTemplate) }},
	})
}

// metricNames lists the KPI rates an experiment may compare.
func metricNames() []string {
	out := make([]string, len(kpi.Definitions))
	for i, d := range kpi.Definitions {
		out[i] = d.Name
	}
	return out
}

// experiment checks the experiment: its name, start, metric, stop rule and
// arms, and every arm's step changes against the cadence's steps.
func (v *validator) experiment(c *Cadence, rangeOK bool) {
	e := c.Experiment
	const p = "experiment"
	if e == nil || v.loc.reported[p] {
		return
	}
	v.name(p+".name", e.Name, "experiment name")
	if v.required(p+".start", false) && !v.loc.reported[p+".start"] && e.Start.IsZero() {
		v.add(p+".start", "start must be a date like 2026-12-01 (YYYY-MM-DD)")
	}
	if v.required(p+".primary_metric", e.PrimaryMetric == "") && !slices.Contains(metricNames(), e.PrimaryMetric) {
		v.addf(p+".primary_metric", "unknown metric %q (want one of %s)", e.PrimaryMetric, strings.Join(metricNames(), ", "))
	}
	if v.required(p+".stop", false) && !v.loc.reported[p+".stop"] {
		switch {
		case e.Stop.MinPerArm == 0 && e.Stop.End.IsZero():
			v.add(p+".stop", "the stop rule needs min_per_arm (the sample each arm needs), end (the last day of assignment), or both")
		case e.Stop.MinPerArm < 0:
			v.addf(p+".stop.min_per_arm", "min_per_arm %d must be at least 1", e.Stop.MinPerArm)
		case !e.Stop.End.IsZero() && !e.Start.IsZero() && e.Stop.End.Before(e.Start):
			v.addf(p+".stop.end", "end %s is before start %s", e.Stop.End, e.Start)
		}
	}
	if !v.required(p+".arms", len(e.Arms) == 0) {
		return
	}
	if len(e.Arms) < 2 {
		v.addf(p+".arms", "an experiment compares at least 2 arms (the first is the champion); found %d", len(e.Arms))
	}
	names := map[string]string{}
	for i, a := range e.Arms {
		ap := fmt.Sprintf("%s.arms[%d]", p, i)
		if v.loc.reported[ap] {
			continue
		}
		v.name(ap+".name", a.Name, "arm name")
		switch first, dup := names[a.Name]; {
		case a.Name == "":
		case a.Name == kpi.NoArm:
			v.addf(ap+".name", "arm name %q is reserved for attempts outside an experiment", a.Name)
		case dup:
			v.addf(ap+".name", "duplicate arm name %q (first used at %s)", a.Name, first)
		default:
			names[a.Name] = ap
		}
		if v.required(ap+".weight", false) && !v.loc.reported[ap+".weight"] && a.Weight < 1 {
			v.addf(ap+".weight", "weight %d must be at least 1", a.Weight)
		}
		changed := map[string]bool{}
		for j, ch := range a.Steps {
			cp := fmt.Sprintf("%s.steps[%d]", ap, j)
			if v.loc.reported[cp] {
				continue
			}
			v.stepChange(c, cp, ch, changed, rangeOK)
		}
	}
}

// stepChange checks one arm's change of a step: the step exists and is
// changed once by the arm, and the changed step is a valid step.
func (v *validator) stepChange(c *Cadence, path string, ch StepChange, changed map[string]bool, rangeOK bool) {
	if !v.required(path+".id", ch.ID == "") {
		return
	}
	step, broken, ok := c.Step(ch.ID)
	switch {
	case !ok:
		v.addf(path+".id", "the cadence has no step %q", ch.ID)
		return
	case changed[ch.ID]:
		v.addf(path+".id", "step %q is changed twice by this arm; merge the changes", ch.ID)
		return
	case step.Channel == nudge.Task:
		v.addf(path+".id", "step %q is a task step; an arm changes message steps only", ch.ID)
		return
	}
	changed[ch.ID] = true
	if ch.Day == nil && ch.At == nil && ch.Channel == "" && ch.Template == "" && ch.Fallback == "" && ch.FallbackTemplate == "" {
		v.addf(path, "the change of step %q changes nothing; set day, at, channel, template, fallback or fallback_template", ch.ID)
		return
	}
	s := ch.apply(step)
	if ch.Day != nil {
		switch {
		case broken && s.Day < 1:
			v.addf(path+".day", "day %d: a broken-promise step counts days after the promised date and starts at 1", s.Day)
		case !broken && rangeOK && !c.AppliesTo.DaysPastDue.Contains(s.Day):
			v.addf(path+".day", "day %d is outside the cadence's days_past_due range %s", s.Day, c.AppliesTo.DaysPastDue)
		}
	}
	chOK := true
	if ch.Channel != "" && (!ch.Channel.Valid() || ch.Channel == nudge.Task) {
		v.addf(path+".channel", "unknown channel %q (want sms, voice or email)", ch.Channel)
		chOK = false
	}
	if ch.Template != "" || ch.Channel != "" {
		tp := path + ".template"
		if ch.Template == "" {
			tp = path + ".channel" // the step's own template must exist on the new channel
		}
		if !templateRE.MatchString(s.Template) {
			v.addf(tp, "template name %q may hold only lowercase letters, digits, '_', '.' and '-'", s.Template)
		} else if chOK && v.cfg.templates != nil && !v.cfg.templates.Has(s.Template, s.Channel) {
			v.addf(tp, "unknown template %q for channel %s", s.Template, s.Channel)
		}
	}
	if s.Fallback != "" && (ch.Fallback != "" || ch.Channel != "" || ch.FallbackTemplate != "") {
		switch {
		case !s.Fallback.Valid() || s.Fallback == nudge.Task:
			v.addf(path+".fallback", "unknown fallback channel %q (want sms, voice or email)", s.Fallback)
		case s.Fallback == s.Channel:
			v.addf(path+".fallback", "fallback %q is the step's own channel", s.Fallback)
		case v.cfg.templates != nil && !v.cfg.templates.Has(s.TemplateFor(s.Fallback), s.Fallback):
			v.addf(path+".fallback_template", "unknown template %q for channel %s", s.TemplateFor(s.Fallback), s.Fallback)
		}
	} else if ch.FallbackTemplate != "" {
		v.add(path+".fallback_template", "fallback_template is set but the step has no fallback channel")
	}
}
