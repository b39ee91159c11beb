// Package kpi defines Nudge's key performance indicators once: the counters
// the store keeps per day and dimension (Counts), the rates computed from
// them (Definitions, each a numerator over a denominator) and the cost per
// cure under a price list. docs/kpis.md mirrors these definitions.
package kpi

import (
	"fmt"
	"slices"
	"strings"
)

// Dimension is what KPI rows can be grouped by.
type Dimension string

// The dimensions.
const (
	// Day is the UTC day the attempts were created (YYYY-MM-DD).
	Day Dimension = "day"
	// CadenceVersion is the cadence and its version ("due@3").
	CadenceVersion Dimension = "cadence_version"
	// Step is the cadence step.
	Step Dimension = "step"
	// Channel is sms, voice or email.
	Channel Dimension = "channel"
	// Language is the borrower's language ("" when unknown).
	Language Dimension = "language"
	// Arm is the experiment arm of the attempt's reminder, NoArm outside experiments.
	Arm Dimension = "arm"
)

// NoArm is the arm of every attempt made outside an experiment.
const NoArm = "none"

// Dimensions lists every dimension in a stable order.
var Dimensions = []Dimension{Day, CadenceVersion, Step, Channel, Language, Arm}

// ParseDimensions reads a comma-separated list of dimensions ("channel,step");
// the empty string is none. Unknown or repeated names are errors.
func ParseDimensions(s string) ([]Dimension, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Dimension
	for _, part := range strings.Split(s, ",") {
		d := Dimension(strings.TrimSpace(part))
		if !slices.Contains(Dimensions, d) {
			return nil, fmt.Errorf("unknown dimension %q (want one of %s)", d, joinDims(Dimensions))
		}
		if slices.Contains(out, d) {
			return nil, fmt.Errorf("dimension %q is repeated", d)
		}
		out = append(out, d)
	}
	return out, nil
}

func joinDims(ds []Dimension) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = string(d)
	}
	return strings.Join(parts, ", ")
}

// Counts are the counters every KPI is computed from, summed over the
// attempts of a group. An attempt counts when the provider accepted it
// (sent, and every later status: delivered, undelivered, ringing, answered,
// completed, busy, no-answer).
type Counts struct {
	// Sent counts accepted attempts.
	Sent int64 `json:"sent"`
	// Delivered counts those that arrived: a delivered SMS or email, a
	// completed call.
	Delivered int64 `json:"delivered"`
	// Contactable counts accepted SMS and calls (email cannot show a
	// contact: opens are not tracked).
	Contactable int64 `json:"contactable"`
	// Contacted counts delivered SMS and answered calls (completed, not
	// answered by a machine).
	Contacted int64 `json:"contacted"`
	// RightParty counts attempts that reached the borrower: a call in which
	// the borrower confirmed their identity, or any attempt followed by a
	// reply of the borrower (other than "wrong number") within the window.
	RightParty int64 `json:"right_party"`
	// Replied counts attempts followed by a reply of the account within
	// the window; Promised by a promise; PromiseKept by a promise that was
	// kept; OptedOut by an opt-out; Complained by a complaint.
	Replied     int64 `json:"replied"`
	Promised    int64 `json:"promised"`
	PromiseKept int64 `json:"promise_kept"`
	OptedOut    int64 `json:"opted_out"`
	Complained  int64 `json:"complained"`
	// Cycles counts the first accepted attempts of the accounts' cycles
	// (account and due date); Cured those followed by a payment within
	// the cure days.
	Cycles int64 `json:"cycles"`
	Cured  int64 `json:"cured"`
	// Roll1Base counts cycles past due on day 1 whose day 31 has come;
	// Roll1 those still unpaid on day 31. Roll2Base counts cycles unpaid on
	// day 31 whose day 61 has come; Roll2 those still unpaid on day 61.
	Roll1Base int64 `json:"roll1_base"`
	Roll1     int64 `json:"roll1"`
	Roll2Base int64 `json:"roll2_base"`
	Roll2     int64 `json:"roll2"`
	// Segments sums the SMS segments billed, CallMinutes the minutes of
	// calls (each call rounded up to the minute), Emails counts accepted
	// emails: the quantities the price list prices.
	Segments    int64 `json:"segments"`
	CallMinutes int64 `json:"call_minutes"`
	Emails      int64 `json:"emails"`
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	f, g := c.Fields(), o.Fields()
	for i := range f {
		*f[i] += *g[i]
	}
}

// Fields returns pointers to every counter, in the order of CounterNames.
func (c *Counts) Fields() []*int64 {
	return []*int64{&c.Sent, &c.Delivered, &c.Contactable, &c.Contacted, &c.RightParty, &c.Replied, &c.Promised,
		&c.PromiseKept, &c.OptedOut, &c.Complained, &c.Cycles, &c.Cured, &c.Roll1Base, &c.Roll1, &c.Roll2Base, &c.Roll2,
		&c.Segments, &c.CallMinutes, &c.Emails}
}

// CounterNames names the counters of Counts.Fields, as the store's columns
// and the CSV's headers do.
var CounterNames = []string{"sent", "delivered", "contactable", "contacted", "right_party", "replied", "promised",
	"promise_kept", "opted_out", "complained", "cycles", "cured", "roll1_base", "roll1", "roll2_base", "roll2",
	"segments", "call_minutes", "emails"}
