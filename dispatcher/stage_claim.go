package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// claim records the attempt as claimed, counting it against the decision's
// caps atomically in the store. The provider is not called yet: the last
// gate marks the attempt sending just before that. An attempt that already
// exists is resumed when an earlier run left it claimed or retrying, and
// otherwise settles the reminder without calling the provider again.
func (p *Pipeline) claim(ctx context.Context, j *job) (bool, error) {
	r := j.reminder
	if _, ok := p.cfg.Senders[j.channel]; !ok {
		if err := p.recordDecided(ctx, j); err != nil {
			return false, err
		}
		why := fmt.Sprintf("no sender is configured for channel %s", j.channel)
		if err := p.record(ctx, p.event(j, nudge.EventAttempt, nudge.ReasonProviderFailed,
			attemptDetail{Status: nudge.AttemptFailed, Channel: j.channel, ErrorCode: "no_sender", Note: why})); err != nil {
			return false, err
		}
		if err := p.closePrior(ctx, j, nudge.ReasonProviderFailed, why); err != nil {
			return false, err
		}
		return true, p.finish(ctx, j, nudge.ReminderFailed, nudge.ReasonProviderFailed)
	}
	if j.prior != nil && j.prior.Channel != j.channel {
		if err := p.recordDecided(ctx, j); err != nil {
			return false, err
		}
		if err := p.closePrior(ctx, j, nudge.ReasonCanceled, "the reminder moved to channel "+string(j.channel)); err != nil {
			return false, err
		}
	}
	now := p.cfg.Clock.Now()
	want := nudge.Attempt{
		ID:         AttemptID(r.ID, j.channel),
		ReminderID: r.ID,
		Lender:     r.Key.Lender,
		AccountID:  r.Key.AccountID,
		Channel:    j.channel,
		Address:    j.address,
		Status:     nudge.AttemptClaimed,
		Zones:      j.decision.Zones,
		Profile:    j.decision.Profile,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	// The claim, the send decision and the claim's event: one transaction,
	// shared with the claims of other handlers that arrive together.
	claimed := p.event(j, nudge.EventAttempt, nudge.ReasonNone, attemptDetail{Status: nudge.AttemptClaimed, Channel: j.channel})
	claimed.AttemptID = want.ID
	events := []nudge.Event{claimed}
	if j.decided != nil {
		events = []nudge.Event{*j.decided, claimed}
	}
	res := p.claims.Do(ctx, nudge.Claim{Attempt: want, Limits: j.decision.Limits, Events: events})
	got, err := res.Attempt, res.Err
	if err == nil {
		j.decided = nil
		j.attempt = got
		return false, nil
	}
	if errors.Is(err, nudge.ErrCapReached) || errors.Is(err, nudge.ErrAlreadyClaimed) {
		if err := p.recordDecided(ctx, j); err != nil {
			return false, err
		}
	}
	switch {
	case errors.Is(err, nudge.ErrCapReached):
		return true, p.capReached(ctx, j, err)
	case errors.Is(err, nudge.ErrAlreadyClaimed):
		switch got.Status {
		case nudge.AttemptClaimed:
			// An earlier run stopped before the last gate (or another run is
			// racing this one: the gate's compare-and-set picks one).
		case nudge.AttemptRetrying:
			changed, err := p.cfg.Store.UpdateAttempt(ctx, got.ID, nudge.AttemptUpdate{
				From: nudge.AttemptRetrying, Status: nudge.AttemptClaimed, At: now,
			})
			if err != nil {
				return false, fmt.Errorf("resume attempt %s: %w", got.ID, err)
			}
			if !changed {
				cur, err := p.cfg.Store.GetAttempt(ctx, got.ID)
				if err != nil {
					return false, fmt.Errorf("reload attempt %s: %w", got.ID, err)
				}
				return true, p.settle(ctx, j, cur)
			}
			got.Status = nudge.AttemptClaimed
		default:
			return true, p.settle(ctx, j, got)
		}
		j.prior = nil
		j.attempt = got
		return false, p.record(ctx, p.attemptEvent(j, nudge.ReasonNone,
			attemptDetail{Status: nudge.AttemptClaimed, Note: "resumed: the provider was not called or refused it"}))
	}
	return false, fmt.Errorf("claim attempt %s: %w", want.ID, err)
}

// capReached records the store's refusal as a suppress decision.
func (p *Pipeline) capReached(ctx context.Context, j *job, err error) error {
	reason, rule := capReason(err, j.decision.Limits)
	d := compliance.Decision{
		Action:      compliance.Suppress,
		Reason:      reason,
		Rule:        rule,
		Explanation: "A frequency cap was reached when the attempt was claimed: " + err.Error(),
		Zones:       j.decision.Zones,
		Profile:     j.decision.Profile,
	}
	j.decision = d
	if err := p.recordDecision(ctx, j, d); err != nil {
		return err
	}
	if err := p.closePrior(ctx, j, reason, d.Explanation); err != nil {
		return err
	}
	return p.finish(ctx, j, nudge.ReminderSuppressed, reason)
}

// capReason finds which cap the store reported: the store wraps
// ErrCapReached with the limit's reason, so the first limit whose reason
// appears in the message is it; frequency_cap when none does.
func capReason(err error, limits []nudge.CapLimit) (nudge.Reason, string) {
	msg := err.Error()
	for _, l := range limits {
		if l.Reason != "" && strings.Contains(msg, string(l.Reason)) {
			return l.Reason, l.Rule
		}
	}
	for _, r := range []nudge.Reason{nudge.ReasonCallCap, nudge.ReasonUnansweredCap, nudge.ReasonConversation} {
		if strings.Contains(msg, string(r)) {
			return r, RuleDispatcher
		}
	}
	return nudge.ReasonFrequencyCap, RuleDispatcher
}
