package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// RuleDispatcher names decisions the pipeline makes itself (a cap reached
// at claim time, no address to send to).
const RuleDispatcher = "nudge dispatcher"

// decide asks compliance, with what the account stage read (the account and
// the lender's profile), and applies the decision.
func (p *Pipeline) decide(ctx context.Context, j *job) (bool, error) {
	r := j.reminder
	now := p.cfg.Clock.Now()
	if j.profileErr != nil {
		return false, fmt.Errorf("load compliance profile for cadence %q: %w", r.Key.Cadence, j.profileErr)
	}
	if r.Channel == nudge.Task {
		return p.decideTask(ctx, j, now)
	}
	d := p.cfg.Decide(p.input(j, j.profile, now, j.optedOut))
	if d.Action == compliance.Send && j.address == "" {
		d = compliance.Decision{Action: compliance.Suppress, Reason: nudge.ReasonNoContact, Rule: RuleDispatcher,
			Explanation: fmt.Sprintf("The account has no %s contact.", j.channel), Zones: d.Zones, Profile: d.Profile}
	}
	return p.apply(ctx, j, d, now)
}

// input is the compliance input for j at now.
func (p *Pipeline) input(j *job, profile *compliance.Profile, now time.Time, optedOut bool) compliance.Input {
	return compliance.Input{
		Account:   j.account,
		Channel:   j.channel,
		Address:   j.address,
		At:        now,
		History:   j.history,
		OptedOut:  optedOut,
		Promise:   j.promise,
		Profile:   profile,
		EndMargin: p.cfg.EndMargins[j.channel],
	}
}

// apply records decision d and acts on it: Send goes on to the next stage;
// Suppress closes an attempt left by an earlier run and finishes the
// reminder with the reason; Defer marks the reminder deferred and returns a
// DelayError so the same task runs again at the allowed instant (or expires
// it when that instant is past its moment).
func (p *Pipeline) apply(ctx context.Context, j *job, d compliance.Decision, now time.Time) (bool, error) {
	r := j.reminder
	j.decision = d
	if d.Action == compliance.Send {
		// Written with the claim, in its transaction (or before whatever
		// the claim decides instead).
		e := p.decisionEvent(j, d)
		j.decided = &e
		return false, nil
	}
	if err := p.recordDecision(ctx, j, d); err != nil {
		return false, err
	}
	switch d.Action {
	case compliance.Suppress:
		if err := p.closePrior(ctx, j, d.Reason, d.Explanation); err != nil {
			return false, err
		}
		return true, p.finish(ctx, j, nudge.ReminderSuppressed, d.Reason)
	case compliance.Defer:
		if !r.ExpiresAt.IsZero() && d.Until.After(r.ExpiresAt) {
			return true, p.expire(ctx, j, "the next allowed instant is after the reminder's moment")
		}
		j.reminder.NextAt = d.Until
		err := p.cfg.Store.SetReminderStatus(ctx, r.ID, nudge.ReminderDeferred, d.Reason, d.Until, now)
		if errors.Is(err, nudge.ErrConflict) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("defer reminder until %s: %w", d.Until.Format(time.RFC3339), err)
		}
		return false, &DelayError{Kind: ErrDeferred, Delay: d.Until.Sub(now), Reason: d.Reason}
	}
	return false, fmt.Errorf("compliance returned unknown action %q", d.Action)
}
