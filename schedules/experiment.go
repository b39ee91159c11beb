package schedules

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/nudgehq/nudge"
)

// Experiment is a champion/challenger test a cadence may declare: every
// account the cadence plans while the experiment runs is assigned one arm,
// for good, by a hash of the lender, the account and the experiment's name,
// and gets that arm's variant of the steps. The first arm is the champion.
// See docs/experiments.md.
type Experiment struct {
	// Name identifies the experiment (lowercase letters, digits and dashes); renaming it reassigns every account.
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z0-9]+(-[a-z0-9]+)*$,maxLength=64"`
	// Start is the first day (UTC, YYYY-MM-DD) accounts are assigned.
	Start nudge.Date `yaml:"start" json:"start"`
	// PrimaryMetric is the KPI the arms are compared on (a rate of docs/kpis.md, such as promise_rate).
	PrimaryMetric string `yaml:"primary_metric" json:"primary_metric"`
	// Stop is the stop rule: when the result may be read and when assignment ends.
	Stop StopRule `yaml:"stop" json:"stop"`
	// Arms are the variants compared, at least two; the first is the champion.
	Arms []Arm `yaml:"arms" json:"arms" jsonschema:"minItems=2"`
}

// StopRule says when an experiment is over. At least one field is set.
type StopRule struct {
	// MinPerArm is the sample (attempts counted by the primary metric's denominator) every arm needs before a better arm is named.
	MinPerArm int `yaml:"min_per_arm,omitempty" json:"min_per_arm,omitempty" jsonschema:"minimum=1"`
	// End is the last day (UTC, YYYY-MM-DD) new accounts are assigned; after it they get the champion's steps and no arm.
	End nudge.Date `yaml:"end,omitempty" json:"end,omitempty"`
}

// Arm is one variant of an experiment.
type Arm struct {
	// Name identifies the arm within the experiment (lowercase letters, digits and dashes; not "none").
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z0-9]+(-[a-z0-9]+)*$,maxLength=64"`
	// Weight is the arm's share of accounts relative to the other arms' weights, at least 1.
	Weight int `yaml:"weight" json:"weight" jsonschema:"minimum=1"`
	// Steps change steps of the cadence for the arm's accounts, each naming a step by id; steps not named are the cadence's.
	Steps []StepChange `yaml:"steps,omitempty" json:"steps,omitempty"`
}

// StepChange is an arm's variant of one step: the fields set replace the
// step's.
type StepChange struct {
	// ID names the regular or broken-promise step changed.
	ID string `yaml:"id" json:"id" jsonschema:"pattern=^[a-z0-9]+(-[a-z0-9]+)*$,maxLength=64"`
	// Day replaces the step's day.
	Day *int `yaml:"day,omitempty" json:"day,omitempty"`
	// At replaces the step's preferred local time.
	At *ClockTime `yaml:"at,omitempty" json:"at,omitempty"`
	// Channel replaces the step's channel (sms, voice or email).
	Channel nudge.ChannelKind `yaml:"channel,omitempty" json:"channel,omitempty" jsonschema:"enum=sms,enum=voice,enum=email"`
	// Template replaces the step's template.
	Template string `yaml:"template,omitempty" json:"template,omitempty" jsonschema:"pattern=^[a-z0-9][a-z0-9_.-]*$"`
	// Fallback replaces the step's fallback channel.
	Fallback nudge.ChannelKind `yaml:"fallback,omitempty" json:"fallback,omitempty" jsonschema:"enum=sms,enum=voice,enum=email"`
	// FallbackTemplate replaces the step's fallback template.
	FallbackTemplate string `yaml:"fallback_template,omitempty" json:"fallback_template,omitempty" jsonschema:"pattern=^[a-z0-9][a-z0-9_.-]*$"`
}

// apply returns s with the change's fields.
func (ch StepChange) apply(s Step) Step {
	if ch.Day != nil {
		s.Day = *ch.Day
	}
	if ch.At != nil {
		s.At = *ch.At
	}
	if ch.Channel != "" {
		s.Channel = ch.Channel
	}
	if ch.Template != "" {
		s.Template = ch.Template
	}
	if ch.Fallback != "" {
		s.Fallback = ch.Fallback
	}
	if ch.FallbackTemplate != "" {
		s.FallbackTemplate = ch.FallbackTemplate
	}
	return s
}

// Champion is the name of the first arm.
func (e *Experiment) Champion() string {
	if e == nil || len(e.Arms) == 0 {
		return ""
	}
	return e.Arms[0].Name
}

// ArmNames lists the arms' names, champion first.
func (e *Experiment) ArmNames() []string {
	if e == nil {
		return nil
	}
	out := make([]string, len(e.Arms))
	for i, a := range e.Arms {
		out[i] = a.Name
	}
	return out
}

// Running reports whether accounts are assigned at now: from the start day
// through the end day (UTC), when there is one.
func (e *Experiment) Running(now time.Time) bool {
	if e == nil {
		return false
	}
	today := nudge.DateOf(now.UTC())
	return !today.Before(e.Start) && (e.Stop.End.IsZero() || !today.After(e.Stop.End))
}

// Assign returns the arm of the lender's account: a hash of the lender, the
// account and the experiment's name, spread over the arms by weight. It
// depends on nothing else, so every scheduler replica computes the same
// arm; the planner records the first assignment and keeps it.
func (e *Experiment) Assign(lender, accountID string) string {
	total := 0
	for _, a := range e.Arms {
		total += max(a.Weight, 0)
	}
	if total == 0 {
		return e.Champion()
	}
	h := fnv.New64a()
	for _, s := range []string{lender, accountID, e.Name} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	// Mix64 spreads fnv's weak low bits.
	pick := int(nudge.Mix64(h.Sum64()) % uint64(total))
	for _, a := range e.Arms {
		if pick < max(a.Weight, 0) {
			return a.Name
		}
		pick -= max(a.Weight, 0)
	}
	return e.Champion()
}

// ForArm returns the cadence as the accounts of the experiment's arm get
// it: the steps the arm changes replaced, and no experiment. An empty or
// unknown arm, or a cadence without an experiment, returns c itself.
func (c *Cadence) ForArm(arm string) *Cadence {
	if c.Experiment == nil || arm == "" {
		return c
	}
	i := slices.IndexFunc(c.Experiment.Arms, func(a Arm) bool { return a.Name == arm })
	if i < 0 {
		return c
	}
	out := *c
	out.Experiment = nil
	out.Steps = slices.Clone(c.Steps)
	out.BrokenPromise = slices.Clone(c.BrokenPromise)
	for _, ch := range c.Experiment.Arms[i].Steps {
		for _, steps := range [][]Step{out.Steps, out.BrokenPromise} {
			for j := range steps {
				if steps[j].ID == ch.ID {
					steps[j] = ch.apply(steps[j])
				}
			}
		}
	}
	return &out
}

// ArmStore records experiment assignments. A PlannerStore that implements
// it (the SQL store does) has every assignment recorded the first time the
// account is planned while the experiment runs, and kept from then on;
// without it the planner uses Experiment.Assign alone, which gives the same
// arm as long as the experiment's name and arms do not change.
type ArmStore interface {
	// AssignArms returns the recorded arms of the assignments' accounts,
	// recording those not yet recorded first when record is true.
	AssignArms(ctx context.Context, as []nudge.ArmAssignment, record bool) ([]nudge.ArmAssignment, error)
}

// arms returns the experiment arm of each candidate whose cadence declares
// an experiment: while it runs, the recorded arm, recording Assign's for
// accounts new to it; before its start, none; after its end, the recorded
// arm of accounts assigned while it ran, and none for the others.
func (p *Planner) arms(ctx context.Context, cands []candidate, now time.Time) (map[accountKey]string, error) {
	var assign, lookup []nudge.ArmAssignment
	for _, cd := range cands {
		e := cd.c.Experiment
		if e == nil || nudge.DateOf(now.UTC()).Before(e.Start) {
			continue
		}
		a := nudge.ArmAssignment{Lender: cd.a.Lender, AccountID: cd.a.ID, Experiment: e.Name, Cadence: cd.c.Name, AssignedAt: now}
		if e.Running(now) {
			a.Arm = e.Assign(cd.a.Lender, cd.a.ID)
			assign = append(assign, a)
		} else {
			lookup = append(lookup, a)
		}
	}
	out := make(map[accountKey]string, len(assign))
	st, ok := p.Store.(ArmStore)
	if !ok {
		for _, a := range assign {
			out[accountKey{a.Lender, a.AccountID}] = a.Arm
		}
		return out, nil
	}
	for _, batch := range []struct {
		as     []nudge.ArmAssignment
		record bool
	}{{assign, true}, {lookup, false}} {
		if len(batch.as) == 0 {
			continue
		}
		got, err := st.AssignArms(ctx, batch.as, batch.record)
		if err != nil {
			return nil, fmt.Errorf("assigning the experiment arms of %d accounts: %w", len(batch.as), err)
		}
		for _, a := range got {
			out[accountKey{a.Lender, a.AccountID}] = a.Arm
		}
	}
	return out, nil
}

// Errors of Promote, wrapped with the cadence and the arm.
var (
	// ErrNoExperiment is the promotion of a cadence without an experiment.
	ErrNoExperiment = errors.New("no experiment to promote")
	// ErrUnknownArm is the promotion of an arm the experiment does not have.
	ErrUnknownArm = errors.New("no such arm")
)

// Promote returns the source of the cadence version that makes arm the
// cadence for every account: the arm's step changes written into the
// steps, and the experiment removed. The source is checked with opts (the
// template pack and profiles) as any new version is; comments of the
// original file are not kept.
func (c *Cadence) Promote(arm string, opts ...Option) ([]byte, error) {
	if c.Experiment == nil {
		return nil, fmt.Errorf("cadence %s has no experiment: %w", c.Name, ErrNoExperiment)
	}
	if !slices.Contains(c.Experiment.ArmNames(), arm) {
		return nil, fmt.Errorf("experiment %s of cadence %s has no arm %q (arms: %v): %w", c.Experiment.Name, c.Name, arm, c.Experiment.ArmNames(), ErrUnknownArm)
	}
	out := c.ForArm(arm)
	desc := strings.TrimSpace(out.Description)
	if desc != "" {
		desc += "\n"
	}
	promoted := *out
	promoted.Description = desc + fmt.Sprintf("Arm %s of experiment %s promoted.", arm, c.Experiment.Name)
	src, err := yaml.MarshalWithOptions(&promoted, yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("promote arm %s of cadence %s: %w", arm, c.Name, err)
	}
	if _, err := Parse(c.Name+".yaml", src, opts...); err != nil {
		return nil, fmt.Errorf("promote arm %s of cadence %s: the new version does not parse: %w", arm, c.Name, err)
	}
	return src, nil
}
