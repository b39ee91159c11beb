package dispatcher

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// event returns an event about j's reminder (and attempt, once claimed).
func (p *Pipeline) event(j *job, kind nudge.EventKind, reason nudge.Reason, detail any) nudge.Event {
	e := nudge.Event{
		Lender:     j.reminder.Key.Lender,
		AccountID:  j.reminder.Key.AccountID,
		ReminderID: j.reminder.ID,
		AttemptID:  j.attempt.ID,
		Kind:       kind,
		Reason:     reason,
		At:         p.cfg.Clock.Now(),
	}
	if detail != nil {
		if b, err := json.Marshal(detail); err == nil {
			e.Detail = b
		}
	}
	return e
}

// record appends e to the event log.
func (p *Pipeline) record(ctx context.Context, e nudge.Event) error {
	if res := p.outcomes.Do(ctx, nudge.Outcome{Events: []nudge.Event{e}}); res.Err != nil {
		return fmt.Errorf("record %s event: %w", e.Kind, res.Err)
	}
	return nil
}

// recordAfterSend appends e once the provider may have been called: the
// outcome is already on the attempt, so a failed log write is logged rather
// than retried (a retry could only mirror the attempt).
func (p *Pipeline) recordAfterSend(ctx context.Context, j *job, e nudge.Event) {
	if err := p.record(ctx, e); err != nil {
		j.log.Error("record event after send", "kind", e.Kind, "err", err)
	}
}

// recordDecision appends a decision event: the action, reason, rule, and
// the decision's explanation and zones as detail.
func (p *Pipeline) recordDecision(ctx context.Context, j *job, d compliance.Decision) error {
	switch d.Action {
	case compliance.Suppress:
		p.cfg.Metrics.Suppressed(d.Reason)
	case compliance.Defer:
		p.cfg.Metrics.Deferred(d.Reason)
	}
	return p.record(ctx, p.decisionEvent(j, d))
}

// decisionEvent is the event of decision d.
func (p *Pipeline) decisionEvent(j *job, d compliance.Decision) nudge.Event {
	e := p.event(j, nudge.EventDecision, d.Reason, d)
	e.Action = string(d.Action)
	e.Rule = d.Rule
	return e
}

// recordDecided appends the event of a send decision kept for the claim,
// when the claim did not write it.
func (p *Pipeline) recordDecided(ctx context.Context, j *job) error {
	if j.decided == nil {
		return nil
	}
	e := *j.decided
	j.decided = nil
	return p.record(ctx, e)
}

// attemptDetail is the detail of an attempt event.
type attemptDetail struct {
	Status     nudge.AttemptStatus `json:"status"`
	Channel    nudge.ChannelKind   `json:"channel,omitempty"`
	ProviderID string              `json:"provider_id,omitempty"`
	// From is the sender the message went out from (or may have), as the
	// provider's sender set it on the message (a pool's chosen number).
	From      string `json:"from,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
	Note      string `json:"note,omitempty"`
}

// attemptEvent returns an attempt event for j's attempt.
func (p *Pipeline) attemptEvent(j *job, reason nudge.Reason, d attemptDetail) nudge.Event {
	if d.Channel == "" {
		d.Channel = j.attempt.Channel
	}
	return p.event(j, nudge.EventAttempt, reason, d)
}

// finish moves the reminder to status. A reminder that another run already
// finished is left as it is.
func (p *Pipeline) finish(ctx context.Context, j *job, status nudge.ReminderStatus, reason nudge.Reason) error {
	res := p.outcomes.Do(ctx, nudge.Outcome{Reminder: p.reminderChange(j, status, reason)})
	if res.Err != nil {
		return fmt.Errorf("set reminder %s %s: %w", j.reminder.ID, status, res.Err)
	}
	if res.ReminderFinal {
		j.log.Info("reminder already final", "want", status)
	}
	return nil
}

// reminderChange moves j's reminder to status now.
func (p *Pipeline) reminderChange(j *job, status nudge.ReminderStatus, reason nudge.Reason) nudge.ReminderChange {
	return nudge.ReminderChange{ID: j.reminder.ID, Status: status, Reason: reason, NextAt: j.reminder.NextAt, At: p.cfg.Clock.Now()}
}

// updateAttempt applies u to the attempt with id and records an attempt event.
func (p *Pipeline) updateAttempt(ctx context.Context, j *job, id string, u nudge.AttemptUpdate, d attemptDetail) error {
	_, err := p.conclude(ctx, j, id, u, d, nudge.ReminderChange{})
	return err
}

// conclude writes the update u of attempt id with the event that records it
// (detail d) and, when rc names the reminder, the reminder's change: one
// outcome, committed together and in a transaction shared with the outcomes
// of other handlers (PipelineConfig.Batch). It returns the attempt as
// written.
func (p *Pipeline) conclude(ctx context.Context, j *job, id string, u nudge.AttemptUpdate, d attemptDetail, rc nudge.ReminderChange) (nudge.Attempt, error) {
	u.At = p.cfg.Clock.Now()
	d.Status = u.Status
	if d.ErrorCode == "" {
		d.ErrorCode = u.ErrorCode
	}
	e := p.attemptEvent(j, u.Reason, d)
	e.AttemptID = id
	res := p.outcomes.Do(ctx, nudge.Outcome{AttemptID: id, Attempt: u, Reminder: rc, Events: []nudge.Event{e}})
	if res.Err != nil {
		return nudge.Attempt{}, fmt.Errorf("update attempt %s to %s: %w", id, u.Status, res.Err)
	}
	if res.AttemptChanged && u.Status != "" {
		p.cfg.Metrics.Attempt(j.channel, u.Status, u.Reason)
	}
	if res.ReminderFinal {
		j.log.Info("reminder already final", "want", rc.Status)
	}
	return res.Attempt, nil
}
