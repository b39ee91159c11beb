package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
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

// optimiser is the send-time optimiser of these settings over src; no
// lender has the switch on until Enabled is set.
func (c SendTimeConfig) optimiser(src sendtime.Source) *sendtime.Optimiser {
	return &sendtime.Optimiser{Source: src, Seed: c.Seed, Settle: c.Settle, PriorWeight: c.PriorWeight}
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
	o := rt.cfg.SendTime.optimiser(rt.db)
	o.Enabled = func(lender string) bool { return on[lender] }
	return o
}

// explainSendTime asks the optimiser, with the counts in the configured
// database, for the send time of acct on ch on the local day of at (from
// at on), whether or not the lender has the switch on. ok is false when no
// hour of that day is left in the window.
func explainSendTime(ctx context.Context, cfg Config, acct nudge.Account, ch nudge.ChannelKind, profile *compliance.Profile,
	at time.Time) (sendtime.Choice, bool, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return sendtime.Choice{}, false, err
	}
	defer db.Close()
	return cfg.SendTime.optimiser(db).Explain(ctx, acct, ch, profile, at)
}

// writeSendTimeText prints the choice and a line of evidence per hour.
func writeSendTimeText(w io.Writer, c sendtime.Choice, ok bool) error {
	if !ok {
		_, err := fmt.Fprintln(w, "Send time: no hour of the day is left in the window.")
		return err
	}
	if _, err := fmt.Fprintf(w, "Send time: %s (hour %02d in %s); best estimate hour %02d.\nhour  own s/n  pool s/n  mean   sample\n",
		c.At.In(mustLoad(c.Zone)).Format(time.RFC3339), c.Hour, c.Zone, c.Best); err != nil {
		return err
	}
	for _, e := range c.Hours {
		mark := ""
		if e.Hour == c.Hour {
			mark = "  <- chosen"
		}
		if _, err := fmt.Fprintf(w, "%02d    %3d/%-3d  %4d/%-4d %.3f  %.3f%s\n", e.Hour, e.Own.Successes, e.Own.Trials,
			e.Pool.Successes, e.Pool.Trials, e.Mean, e.Sample, mark); err != nil {
			return err
		}
	}
	return nil
}

// mustLoad loads a zone the optimiser named, falling back to UTC.
func mustLoad(zone string) *time.Location {
	loc, err := nudge.LoadLocation(zone)
	if err != nil {
		return time.UTC
	}
	return loc
}
