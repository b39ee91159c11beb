package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/sendtime"
)

// SendTimeConfig tunes send-time optimisation (docs/send-time.md).
type SendTimeConfig struct {
	// Seed seeds the Thompson sampler's draws (with each reminder's id),
	// so a plan can be reproduced.
	Seed uint64 `yaml:"seed"`
	// Settle is how long after a contact its response is awaited before it
	// is counted (default 6h, at least 1m).
	Settle time.Duration `yaml:"settle"`
	// PriorWeight caps how many contacts of similar borrowers weigh in an
	// hour's prior (default 1, 0 to 100).
	PriorWeight float64 `yaml:"prior_weight"`
}

// sendTimeSettings checks send_time. Errors name the setting, and its file
// and line when it was read from a file.
func (c Config) sendTimeSettings() error {
	var errs []error
	if s := c.SendTime.Settle; s != 0 && s < time.Minute {
		errs = append(errs, &settingError{field: "send_time.settle", err: fmt.Errorf("must be at least 1m, not %s", s)})
	}
	if w := c.SendTime.PriorWeight; w < 0 || w > 100 {
		errs = append(errs, &settingError{field: "send_time.prior_weight", err: fmt.Errorf("must be between 0 and 100, not %g", w)})
	}
	return c.src.locate(errors.Join(errs...))
}

// sendTimes builds the planner's send-time optimiser, or nil when no lender
// has send_time_optimisation on.
func (rt *runtime) sendTimes() *sendtime.Optimiser {
	on := map[string]bool{}
	for _, l := range rt.cfg.Lenders {
		if l.SendTimeOptimisation {
			on[l.ID] = true
		}
	}
	if len(on) == 0 {
		return nil
	}
	return &sendtime.Optimiser{
		Source:      rt.db,
		Enabled:     func(lender string) bool { return on[lender] },
		Seed:        rt.cfg.SendTime.Seed,
		Settle:      rt.cfg.SendTime.Settle,
		PriorWeight: rt.cfg.SendTime.PriorWeight,
	}
}
