package kpi

import (
	"fmt"
	"slices"
)

// ArmCounts are the KPI counters of one experiment arm.
type ArmCounts struct {
	Arm    string `json:"arm"`
	Counts Counts `json:"counts"`
}

// ArmRates is one arm's rates, each with its 95% Wilson interval.
type ArmRates struct {
	Arm    string              `json:"arm"`
	Counts Counts              `json:"counts"`
	Rates  map[string]Interval `json:"rates"`
}

// Interval is a rate with its 95% Wilson interval; Low and High are 0 when
// the rate has no denominator.
type Interval struct {
	Rate
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// ExperimentResult is what an experiment shows: every arm's KPIs with
// intervals, the comparison on the primary metric, and whether the stop
// rule's sample is reached.
type ExperimentResult struct {
	Metric    string     `json:"primary_metric"`
	MinPerArm int        `json:"min_per_arm,omitempty"`
	Arms      []ArmRates `json:"arms"`
	// Comparison tests the arms on Metric; its Better is cleared until
	// SampleReached, so that a result is not read early.
	Comparison Comparison `json:"comparison"`
	// SampleReached is true when every arm's Metric denominator is at
	// least MinPerArm.
	SampleReached bool `json:"sample_reached"`
	// Better is the arm found better on Metric (p below the level, the
	// sample reached), or "".
	Better string `json:"better,omitempty"`
}

// Evaluate computes an experiment's result from its arms' counters, in
// the experiment's order (champion first); metric is a Definitions name
// and minPerArm the stop rule's sample (0: none).
func Evaluate(metric string, minPerArm int, arms []ArmCounts, alpha float64) (ExperimentResult, error) {
	i := slices.IndexFunc(Definitions, func(d Definition) bool { return d.Name == metric })
	if i < 0 {
		return ExperimentResult{}, fmt.Errorf("evaluate: unknown metric %q", metric)
	}
	def := Definitions[i]
	res := ExperimentResult{Metric: metric, MinPerArm: minPerArm, SampleReached: true}
	rates := make([]ArmRate, len(arms))
	for j, a := range arms {
		ar := ArmRates{Arm: a.Arm, Counts: a.Counts, Rates: map[string]Interval{}}
		for name, r := range Rates(a.Counts) {
			iv := Interval{Rate: r}
			iv.Low, iv.High, _ = Wilson(r.Num, r.Den, Z95)
			ar.Rates[name] = iv
		}
		res.Arms = append(res.Arms, ar)
		rates[j] = ArmRate{Arm: a.Arm, Rate: Rate{Num: def.Num(a.Counts), Den: def.Den(a.Counts)}}
		if rates[j].Rate.Den < int64(minPerArm) || rates[j].Rate.Den == 0 {
			res.SampleReached = false
		}
	}
	c, err := Compare(metric, rates, alpha)
	if err != nil {
		return ExperimentResult{}, err
	}
	res.Comparison = c
	if res.SampleReached {
		res.Better = c.Better
	}
	return res, nil
}
