package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/nudgehq/nudge"
)

// OptOutSourceProvider is the opt-out source recorded when a provider
// reports that the recipient opted out (Twilio error 21610).
const OptOutSourceProvider = "provider_21610"

// send calls the provider at once (the last gate has just marked the
// attempt sending) and records the outcome, classified by whether the
// provider may have accepted the message:
//   - accepted: the attempt is sent with the provider's id;
//   - may have been accepted (the answer was lost, a timeout or an error the
//     sender did not classify): the attempt is unknown, never resent blind;
//     the reconciler resolves it from the provider's records;
//   - refused before acceptance, transiently: the attempt is retrying and the
//     task is retried with back-off;
//   - the sender identity refused (SenderRefused): the lender's channel is
//     paused, an operator alerted, and the reminder waits;
//   - refused for good: the attempt fails (recording an opt-out or an
//     undeliverable address when the provider says so), never retried.
func (p *Pipeline) send(ctx context.Context, j *job) (bool, error) {
	sender := p.cfg.Senders[j.channel]
	sctx, cancel := context.WithTimeout(ctx, p.cfg.SendTimeout)
	began := time.Now()
	res, err := sender.Send(sctx, j.message)
	p.cfg.Metrics.ProviderLatency(j.channel, time.Since(began))
	cancel()
	if err == nil {
		return true, p.sent(ctx, j, res)
	}
	pe, ok := nudge.AsProviderError(err)
	switch {
	case !ok || pe.MaybeAccepted:
		return true, p.unknownOutcome(ctx, j, err)
	case pe.SenderRefused:
		return false, p.senderRefused(ctx, j, pe, err)
	case pe.Retry:
		return false, p.transient(ctx, j, pe, err)
	}
	return true, p.permanent(ctx, j, pe, err)
}

func (p *Pipeline) sent(ctx context.Context, j *job, res nudge.SendResult) error {
	status := res.Status
	if status == "" {
		status = nudge.AttemptSent
	}
	a, err := p.conclude(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		Status: status, ProviderID: res.ProviderID, SentAt: p.cfg.Clock.Now(), Segments: res.Segments,
	}, attemptDetail{ProviderID: res.ProviderID, From: j.message.From}, p.reminderChange(j, nudge.ReminderSent, nudge.ReasonNone))
	if err != nil {
		return err
	}
	// A status callback that outran this record was kept and has just been
	// applied to the attempt: what its error code says about the address
	// is recorded as the callback itself would have recorded it.
	if err := RecordProviderCode(ctx, p.cfg.Store, a, codeOf(p.cfg.Senders[j.channel], a), p.cfg.Clock.Now(), p.cfg.Metrics); err != nil {
		j.log.Error("record the provider's code", "code", a.ErrorCode, "err", err)
		return err
	}
	return nil
}

func (p *Pipeline) unknownOutcome(ctx context.Context, j *job, sendErr error) error {
	_, err := p.conclude(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		From: nudge.AttemptSending, Status: nudge.AttemptUnknown, Reason: nudge.ReasonUnknownOutcome,
	}, attemptDetail{Error: sendErr.Error(), From: j.message.From, Note: "the provider's answer was lost after the request reached it; reconciliation will ask the provider"},
		p.reminderChange(j, nudge.ReminderUnknown, nudge.ReasonUnknownOutcome))
	return err
}

func (p *Pipeline) transient(ctx context.Context, j *job, pe *nudge.ProviderError, sendErr error) error {
	retried, maxRetry, known := retryState(ctx)
	if known && retried >= maxRetry {
		if _, err := p.conclude(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
			From: nudge.AttemptSending, Status: nudge.AttemptFailed, Reason: nudge.ReasonRetriesExhausted, ErrorCode: pe.Code,
		}, attemptDetail{Error: sendErr.Error()}, p.reminderChange(j, nudge.ReminderFailed, nudge.ReasonRetriesExhausted)); err != nil {
			return err
		}
		return fmt.Errorf("send attempt %s, retries exhausted: %w: %w", j.attempt.ID, asynq.SkipRetry, sendErr)
	}
	if err := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		From: nudge.AttemptSending, Status: nudge.AttemptRetrying, Reason: nudge.ReasonProviderRetry, ErrorCode: pe.Code,
	}, attemptDetail{Error: sendErr.Error(), From: j.message.From}); err != nil {
		return err
	}
	return fmt.Errorf("send attempt %s: %w", j.attempt.ID, sendErr)
}

// senderRefused pauses the lender's channel when the provider refuses the
// sending identity itself (every message from it would fail), alerts an
// operator, and hands the attempt back: the reminder waits at the last gate
// until the pause is lifted or its moment passes.
func (p *Pipeline) senderRefused(ctx context.Context, j *job, pe *nudge.ProviderError, sendErr error) error {
	r := j.reminder
	now := p.cfg.Clock.Now()
	if err := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		From: nudge.AttemptSending, Status: nudge.AttemptRetrying, Reason: nudge.ReasonPaused, ErrorCode: pe.Code,
	}, attemptDetail{Error: sendErr.Error(), Note: "the provider refused the sender; the channel is paused"}); err != nil {
		return err
	}
	why := fmt.Sprintf("the provider refused the %s sender (code %s): %v", j.channel, pe.Code, pe.Err)
	added, err := p.cfg.Store.SetPause(ctx, nudge.Pause{Lender: r.Key.Lender, Scope: nudge.PauseChannel, Target: string(j.channel),
		Reason: why, Actor: "system", CreatedAt: now})
	if err != nil {
		return fmt.Errorf("pause %s for %s: %w", j.channel, r.Key.Lender, err)
	}
	if added {
		j.log.Error("ALERT: channel paused: the provider refused the sender; fix the sender and lift the pause",
			"channel", j.channel, "code", pe.Code, "err", pe.Err)
		p.cfg.Metrics.Paused(j.channel)
		p.recordAfterSend(ctx, j, p.event(j, nudge.EventPause, nudge.ReasonPaused,
			map[string]any{"scope": nudge.PauseChannel, "target": j.channel, "code": pe.Code, "note": why}))
	}
	j.reminder.NextAt = now.Add(p.cfg.PauseRecheck)
	if err := p.cfg.Store.SetReminderStatus(ctx, r.ID, nudge.ReminderDeferred, nudge.ReasonPaused, j.reminder.NextAt, now); err != nil && !errors.Is(err, nudge.ErrConflict) {
		return fmt.Errorf("defer reminder %s while paused: %w", r.ID, err)
	}
	return &DelayError{Kind: ErrDeferred, Delay: p.cfg.PauseRecheck, Reason: nudge.ReasonPaused}
}

func (p *Pipeline) permanent(ctx context.Context, j *job, pe *nudge.ProviderError, sendErr error) error {
	reason := pe.Reason
	if reason == "" {
		reason = nudge.ReasonProviderFailed
	}
	if err := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		From: nudge.AttemptSending, Status: nudge.AttemptFailed, Reason: reason, ErrorCode: pe.Code,
	}, attemptDetail{Error: sendErr.Error()}); err != nil {
		return err
	}
	// Each record below is attempted even when another fails; a failure is
	// returned so the task shows it (the next run only settles the reminder,
	// and the provider refuses the address again until the record is made).
	var errs []error
	r := j.reminder
	now := p.cfg.Clock.Now()
	if pe.OptOut {
		// A new opt-out and its event are one transaction; an address
		// opted out before gets its event (new false) on its own.
		added, err := p.cfg.Store.AddOptOut(ctx, nudge.OptOut{
			Lender: r.Key.Lender, Channel: j.channel, Address: j.address,
			Source: OptOutSourceProvider, Reason: "provider error " + pe.Code, CreatedAt: now,
		}, p.event(j, nudge.EventOptOut, nudge.ReasonOptedOut,
			map[string]any{"source": OptOutSourceProvider, "channel": j.channel, "code": pe.Code, "new": true}))
		switch {
		case err != nil:
			j.log.Error("record provider opt-out", "code", pe.Code, "err", err)
			errs = append(errs, fmt.Errorf("record provider opt-out: %w", err))
		case added:
			p.cfg.Metrics.OptOut(OptOutSourceProvider)
		default:
			p.recordAfterSend(ctx, j, p.event(j, nudge.EventOptOut, nudge.ReasonOptedOut,
				map[string]any{"source": OptOutSourceProvider, "channel": j.channel, "code": pe.Code, "new": false}))
		}
	}
	if pe.Undeliverable {
		if err := p.cfg.Store.SetContactState(ctx, r.Key.Lender, r.Key.AccountID, j.channel, j.address, nudge.ContactUndeliverable); err != nil {
			j.log.Error("mark contact undeliverable", "code", pe.Code, "err", err)
			errs = append(errs, fmt.Errorf("mark contact undeliverable: %w", err))
		} else {
			p.recordAfterSend(ctx, j, p.attemptEvent(j, nudge.ReasonUndeliverable,
				attemptDetail{Status: nudge.AttemptFailed, ErrorCode: pe.Code, Note: "contact marked undeliverable"}))
		}
	}
	errs = append(errs, p.finish(ctx, j, nudge.ReminderFailed, reason))
	return errors.Join(errs...)
}
