package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/nudgehq/nudge"
)

// FairnessConfig is a lender's share of the workers (docs/fairness.md).
type FairnessConfig struct {
	// Weight multiplies the weight of each of the lender's queues (sms 3,
	// voice 2, email 1): with two lenders' queues busy, each is served in
	// proportion to its weight. Default 1; at most MaxLenderWeight.
	Weight int `yaml:"weight"`
	// MaxPerSecond caps the lender's sends a second on each channel, across
	// every worker (a token bucket in Redis); 0 means no cap beyond the
	// sender's own rate.
	MaxPerSecond float64 `yaml:"max_per_second"`
}

// MaxLenderWeight bounds a lender's fairness weight: Asynq draws queues from
// a list holding each queue as many times as its weight.
const MaxLenderWeight = 100

// validate checks lender i's fairness settings; errors name the field.
func (f FairnessConfig) validate(i int) error {
	var errs []error
	if f.Weight < 0 || f.Weight > MaxLenderWeight {
		errs = append(errs, fmt.Errorf("lenders[%d].fairness.weight: %d must be between 1 and %d (0 or unset means 1)", i, f.Weight, MaxLenderWeight))
	}
	if f.MaxPerSecond < 0 || math.IsNaN(f.MaxPerSecond) || math.IsInf(f.MaxPerSecond, 0) {
		errs = append(errs, fmt.Errorf("lenders[%d].fairness.max_per_second: %v must be a positive number (0 or unset means no cap)", i, f.MaxPerSecond))
	}
	return errors.Join(errs...)
}

// lenderFairness checks every lender's fairness settings and returns the
// worker's lender weights and the pipeline's per-lender rates.
func lenderFairness(lenders []LenderConfig) (weight func(string) int, rate func(string, nudge.ChannelKind) float64, err error) {
	weights, rates := map[string]int{}, map[string]float64{}
	var errs []error
	for i, lc := range lenders {
		if err := lc.Fairness.validate(i); err != nil {
			errs = append(errs, err)
			continue
		}
		if lc.Fairness.Weight > 0 {
			weights[lc.ID] = lc.Fairness.Weight
		}
		if lc.Fairness.MaxPerSecond > 0 {
			rates[lc.ID] = lc.Fairness.MaxPerSecond
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return func(l string) int { return weights[l] }, func(l string, _ nudge.ChannelKind) float64 { return rates[l] }, nil
}

// lenderIDs returns the configured lenders' ids, whose queues the worker
// serves from its start.
func lenderIDs(lenders []LenderConfig) []string {
	out := make([]string, 0, len(lenders))
	for _, lc := range lenders {
		if lc.ID != "" {
			out = append(out, lc.ID)
		}
	}
	return out
}
