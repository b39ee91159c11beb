// Package schedules holds reminder cadences: the YAML format lenders write to
// say which reminder goes out on which day, on which channel and with which
// template; the strict parser that reports every mistake of a file as
// file:line:col; the JSON Schema of the format; and the pure step planning
// that turns a cadence and an account into the reminders due now.
//
// A cadence counts days from the account's due date (day -3 is three days
// before it, day 5 five days after it) and places each step at a preferred
// local time in the borrower's time zone. Compliance moves that instant into
// the allowed window when the reminder is planned and again when it is sent;
// the cadence only says what the lender would prefer. See docs/cadences.md.
package schedules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/invopop/jsonschema"

	"github.com/nudgehq/nudge"
)

// Patterns shared by the parser and the JSON Schema.
const (
	// NamePattern is the pattern of cadence names and step ids.
	NamePattern = `^[a-z0-9]+(-[a-z0-9]+)*$`
	// TemplatePattern is the pattern of template names.
	TemplatePattern = `^[a-z0-9][a-z0-9_.-]*$`
	// ClockPattern is the pattern of a local time of day written HH:MM.
	ClockPattern = `^([01][0-9]|2[0-3]):[0-5][0-9]$`
	// MaxNameLength is the longest cadence name or step id accepted.
	MaxNameLength = 64
)

var (
	nameRE     = regexp.MustCompile(NamePattern)
	templateRE = regexp.MustCompile(TemplatePattern)
	kindRE     = regexp.MustCompile(nudge.WorkKindPattern)
	clockRE    = regexp.MustCompile(ClockPattern)
)

// Cadence is one reminder plan a lender writes in YAML: which accounts it
// applies to, which steps it sends on which days, what stops it, and which
// steps follow a broken promise to pay.
type Cadence struct {
	// Name identifies the cadence within the lender; lowercase letters, digits and dashes.
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z0-9]+(-[a-z0-9]+)*$,maxLength=64"`
	// Description is free text for the people who maintain the cadence.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Profile is the compliance profile whose rules apply: us, cn, or a lender profile name.
	Profile string `yaml:"profile" json:"profile"`
	// AppliesTo selects the accounts the cadence covers.
	AppliesTo AppliesTo `yaml:"applies_to" json:"applies_to"`
	// Language is the BCP 47 language used for borrowers who state none (for example en or zh-CN); empty means the lender default.
	Language string `yaml:"language,omitempty" json:"language,omitempty"`
	// Steps are the reminders of a cycle, each on a day counted from the due date.
	Steps []Step `yaml:"steps" json:"steps" jsonschema:"minItems=1"`
	// StopWhen lists the conditions that stop or pause the cadence for an account; omitted means every known condition.
	StopWhen []StopCondition `yaml:"stop_when,omitempty" json:"stop_when,omitempty" jsonschema:"uniqueItems=true"`
	// BrokenPromise are the steps that follow a broken promise to pay, each on a day counted from the promised date (1 is the day after it).
	BrokenPromise []Step `yaml:"broken_promise,omitempty" json:"broken_promise,omitempty"`
	// Experiment, when set, compares variants of the steps (arms) on the accounts the cadence plans.
	Experiment *Experiment `yaml:"experiment,omitempty" json:"experiment,omitempty"`
}

// AppliesTo selects the accounts a cadence covers.
type AppliesTo struct {
	// Portfolios lists the portfolios covered (for example auto); empty means all portfolios.
	Portfolios []string `yaml:"portfolios,omitempty" json:"portfolios,omitempty"`
	// DaysPastDue is the range of days past the due date the cadence covers; every regular step day lies in it.
	DaysPastDue DayRange `yaml:"days_past_due" json:"days_past_due"`
}

// DayRange is an inclusive range of days relative to a due date; negative
// days are before it.
type DayRange struct {
	// Min is the first day covered (negative: before the due date).
	Min int `yaml:"min" json:"min"`
	// Max is the last day covered; it is not before Min.
	Max int `yaml:"max" json:"max"`
}

// Contains reports whether day lies in the range, bounds included.
func (r DayRange) Contains(day int) bool { return day >= r.Min && day <= r.Max }

// String formats the range as [min, max].
func (r DayRange) String() string { return fmt.Sprintf("[%d, %d]", r.Min, r.Max) }

// Step is one reminder of a cadence.
type Step struct {
	// ID names the step; unique across steps and broken-promise steps; lowercase letters, digits and dashes.
	ID string `yaml:"id" json:"id" jsonschema:"pattern=^[a-z0-9]+(-[a-z0-9]+)*$,maxLength=64"`
	// Day is counted from the due date (regular steps) or from the promised date (broken-promise steps, at least 1).
	Day int `yaml:"day" json:"day"`
	// At is the preferred local time in the borrower's time zone, HH:MM from 00:00 to 23:59.
	At ClockTime `yaml:"at" json:"at"`
	// Channel is the channel the step sends on, or task for a work item a person carries out.
	Channel nudge.ChannelKind `yaml:"channel" json:"channel" jsonschema:"enum=sms,enum=voice,enum=email,enum=task"`
	// Template is the name of the template rendered for Channel; it must exist in the lender's template pack. A task step has none.
	Template string `yaml:"template,omitempty" json:"template,omitempty" jsonschema:"pattern=^[a-z0-9][a-z0-9_.-]*$"`
	// Kind is the kind of work item a task step creates: call_list, field_visit, legal_review, letter, or a lender-defined kind.
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty" jsonschema:"pattern=^[a-z][a-z0-9_]+$,minLength=2,maxLength=32"`
	// Instructions tell the person who takes a task step's work item what to do.
	Instructions string `yaml:"instructions,omitempty" json:"instructions,omitempty"`
	// Fallback is the channel used when the account has no usable address on Channel; it differs from Channel.
	Fallback nudge.ChannelKind `yaml:"fallback,omitempty" json:"fallback,omitempty" jsonschema:"enum=sms,enum=voice,enum=email"`
	// FallbackTemplate is the template rendered on the fallback channel; omitted means Template, which must then exist for the fallback channel.
	FallbackTemplate string `yaml:"fallback_template,omitempty" json:"fallback_template,omitempty" jsonschema:"pattern=^[a-z0-9][a-z0-9_.-]*$"`
}

// TemplateFor returns the template the step renders on channel ch: Template
// on the step's channel, FallbackTemplate (or Template when it is empty) on
// the fallback channel, and "" on any other channel.
func (s Step) TemplateFor(ch nudge.ChannelKind) string {
	switch {
	case ch == s.Channel:
		return s.Template
	case s.Fallback != "" && ch == s.Fallback:
		if s.FallbackTemplate != "" {
			return s.FallbackTemplate
		}
		return s.Template
	}
	return ""
}

// Step returns the step with the given id among the regular and the
// broken-promise steps, and whether it is a broken-promise step.
func (c *Cadence) Step(id string) (step Step, brokenPromise bool, ok bool) {
	for _, s := range c.Steps {
		if s.ID == id {
			return s, false, true
		}
	}
	for _, s := range c.BrokenPromise {
		if s.ID == id {
			return s, true, true
		}
	}
	return Step{}, false, false
}

// StopConditions returns the cadence's stop conditions: StopWhen, or every
// known condition when StopWhen is empty.
func (c *Cadence) StopConditions() []StopCondition {
	if len(c.StopWhen) == 0 {
		return slices.Clone(AllStopConditions)
	}
	return slices.Clone(c.StopWhen)
}

// StopsOn reports whether cond stops or pauses the cadence.
func (c *Cadence) StopsOn(cond StopCondition) bool {
	return len(c.StopWhen) == 0 || slices.Contains(c.StopWhen, cond)
}

// StopCondition names a state of the account that stops or pauses a cadence.
type StopCondition string

// Stop conditions. Send-time compliance applies whether or not a condition is
// listed (an opted-out address, an account on hold, a paid account is never
// contacted); listing a condition also stops planning, so nothing is queued.
const (
	// StopPaid ends the cycle when the account is no longer active (paid,
	// closed, charged off) or a payment is posted; queued reminders are canceled.
	StopPaid StopCondition = "paid"
	// StopPromise pauses the cadence while a promise to pay is pending, up to
	// and including the promised date; a broken promise starts the
	// broken-promise steps and resumes the regular ones.
	StopPromise StopCondition = "promise"
	// StopPaymentClaimed pauses the cadence while the borrower says they have
	// paid and the payment awaits reconciliation.
	StopPaymentClaimed StopCondition = "payment_claimed"
	// StopHold stops the cadence while the account carries any hold
	// (dispute, bankruptcy, cease communication, …).
	StopHold StopCondition = "hold"
	// StopOptOut stops the whole cadence once the borrower has opted out on
	// any channel, not only on the channel they opted out of.
	StopOptOut StopCondition = "opt_out"
)

// AllStopConditions lists every known stop condition in a stable order.
var AllStopConditions = []StopCondition{StopPaid, StopPromise, StopPaymentClaimed, StopHold, StopOptOut}

// Valid reports whether s is a known stop condition.
func (s StopCondition) Valid() bool { return slices.Contains(AllStopConditions, s) }

// JSONSchema describes a stop condition as an enum of the known names.
func (StopCondition) JSONSchema() *jsonschema.Schema {
	enum := make([]any, len(AllStopConditions))
	for i, s := range AllStopConditions {
		enum[i] = string(s)
	}
	return &jsonschema.Schema{
		Type:        "string",
		Enum:        enum,
		Description: "A state of the account that stops or pauses the cadence: paid, promise, payment_claimed, hold or opt_out.",
	}
}

// ClockTime is a local time of day with minute precision, written HH:MM.
type ClockTime struct {
	Hour   int
	Minute int
}

// ParseClockTime parses a time of day written HH:MM, from 00:00 to 23:59.
func ParseClockTime(s string) (ClockTime, error) {
	if !clockRE.MatchString(s) {
		return ClockTime{}, fmt.Errorf("%q is not a time of day like 09:30 (HH:MM, 00:00 to 23:59)", s)
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return ClockTime{Hour: h, Minute: m}, nil
}

// String formats t as HH:MM.
func (t ClockTime) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// Minutes returns the number of minutes since midnight.
func (t ClockTime) Minutes() int { return t.Hour*60 + t.Minute }

// MarshalText implements encoding.TextMarshaler.
func (t ClockTime) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *ClockTime) UnmarshalText(b []byte) error {
	p, err := ParseClockTime(string(b))
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// JSONSchema describes a ClockTime as an HH:MM string.
func (ClockTime) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     ClockPattern,
		Description: "A local time of day, HH:MM from 00:00 to 23:59.",
		Examples:    []any{"09:30", "18:00"},
	}
}

// Templates tells whether a template pack has a template for a channel. The
// templates package's *Pack satisfies it.
type Templates interface {
	Has(name string, ch nudge.ChannelKind) bool
}

// TemplatesFunc adapts a function to Templates.
type TemplatesFunc func(name string, ch nudge.ChannelKind) bool

// Has calls f.
func (f TemplatesFunc) Has(name string, ch nudge.ChannelKind) bool { return f(name, ch) }
