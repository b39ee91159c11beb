package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nudgehq/nudge"
)

// load reads the reminder with its attempts (one round trip) and drops it
// when it is gone or final. An attempt
// left by an earlier run decides the outcome before any rule is re-checked:
// a message that may have gone out must not be reported as suppressed. A
// reminder past its moment is expired.
func (p *Pipeline) load(ctx context.Context, j *job) (bool, error) {
	r, attempts, err := p.cfg.Store.LoadReminder(ctx, j.reminderID)
	if errors.Is(err, nudge.ErrNotFound) {
		j.log.Warn("reminder not found; task dropped")
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("load reminder: %w", err)
	}
	j.reminder = r
	j.log = j.log.With("lender", r.Key.Lender, "account", r.Key.AccountID)
	if r.Status.Terminal() {
		j.log.Debug("reminder already final; task done", "status", r.Status)
		return true, nil
	}
	for _, ch := range candidateChannels(r) {
		i := slices.IndexFunc(attempts, func(a nudge.Attempt) bool { return a.ID == AttemptID(r.ID, ch) })
		if i < 0 {
			continue
		}
		a := attempts[i]
		if !a.Status.Resumable() {
			return true, p.settle(ctx, j, a)
		}
		j.prior = &a
		break
	}
	if now := p.cfg.Clock.Now(); !r.ExpiresAt.IsZero() && now.After(r.ExpiresAt) {
		return true, p.expire(ctx, j, "the reminder's moment passed before it could be sent")
	}
	return false, nil
}

// expire records why the reminder will not be sent late, closes an attempt
// left retrying, and marks the reminder expired.
func (p *Pipeline) expire(ctx context.Context, j *job, why string) error {
	detail := map[string]any{"expires_at": j.reminder.ExpiresAt, "note": why}
	if err := p.record(ctx, p.event(j, nudge.EventExpired, nudge.ReasonExpired, detail)); err != nil {
		return err
	}
	if err := p.closePrior(ctx, j, nudge.ReasonExpired, why); err != nil {
		return err
	}
	return p.finish(ctx, j, nudge.ReminderExpired, nudge.ReasonExpired)
}

// closePrior fails an attempt an earlier run left claimed or retrying, when
// this run will not send it.
func (p *Pipeline) closePrior(ctx context.Context, j *job, reason nudge.Reason, why string) error {
	if j.prior == nil {
		return nil
	}
	prior := j.prior
	j.prior = nil
	return p.updateAttempt(ctx, j, prior.ID, nudge.AttemptUpdate{
		From: prior.Status, Status: nudge.AttemptFailed, Reason: reason,
	}, attemptDetail{Channel: prior.Channel, Note: why})
}

// settle finishes the reminder from an attempt an earlier run claimed and
// that this run will not send: it was sent, it may have been sent (a crash
// between claim and outcome), or it ended.
func (p *Pipeline) settle(ctx context.Context, j *job, a nudge.Attempt) error {
	j.attempt = a
	switch {
	case a.Status.Resumable():
		return fmt.Errorf("attempt %s is being retried by another run", a.ID)
	case a.ProviderID != "":
		return p.finish(ctx, j, nudge.ReminderSent, nudge.ReasonNone)
	case a.Status == nudge.AttemptSending:
		if err := p.updateAttempt(ctx, j, a.ID, nudge.AttemptUpdate{
			From: nudge.AttemptSending, Status: nudge.AttemptUnknown, Reason: nudge.ReasonUnknownOutcome,
		}, attemptDetail{Note: "an earlier run stopped after the last gate, while the provider may have been called; reconciliation will ask the provider"}); err != nil {
			return err
		}
		return p.finish(ctx, j, nudge.ReminderUnknown, nudge.ReasonUnknownOutcome)
	case a.Status == nudge.AttemptUnknown:
		return p.finish(ctx, j, nudge.ReminderUnknown, nudge.ReasonUnknownOutcome)
	case a.Status == nudge.AttemptFailed || a.Status == nudge.AttemptCanceled:
		reason := a.Reason
		if reason == "" {
			reason = nudge.ReasonProviderFailed
		}
		return p.finish(ctx, j, nudge.ReminderFailed, reason)
	}
	return p.finish(ctx, j, nudge.ReminderSent, nudge.ReasonNone)
}

// candidateChannels returns the reminder's channel and its fallback, if any.
func candidateChannels(r nudge.Reminder) []nudge.ChannelKind {
	out := []nudge.ChannelKind{r.Channel}
	if r.Fallback.Valid() && r.Fallback != r.Channel {
		out = append(out, r.Fallback)
	}
	return out
}
