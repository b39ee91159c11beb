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

// send calls the provider with a timeout and records the outcome. Transient
// errors leave the attempt retrying and return the error so the task is
// retried with back-off, until the last retry fails it; permanent errors fail
// the attempt (recording an opt-out or an undeliverable address when the
// provider says so) and are never retried. An error the sender did not
// classify is transient, except a timeout or cancellation: the provider may
// have accepted the message, so the attempt is marked unknown.
func (p *Pipeline) send(ctx context.Context, j *job) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("before send: %w", err)
	}
	sender := p.cfg.Senders[j.channel]
	sctx, cancel := context.WithTimeout(ctx, p.cfg.SendTimeout)
	began := time.Now()
	res, err := sender.Send(sctx, j.message)
	p.cfg.Metrics.ProviderLatency(j.channel, time.Since(began))
	cancel()
	// From here the provider may have been called: never hand the attempt back.
	j.claimed = false
	if err == nil {
		return true, p.sent(ctx, j, res)
	}
	pe, ok := nudge.AsProviderError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return true, p.unknownOutcome(ctx, j, err)
		}
		pe = &nudge.ProviderError{Retry: true, Reason: nudge.ReasonProviderRetry, Err: err}
	}
	if pe.Retry {
		return false, p.transient(ctx, j, pe, err)
	}
	return true, p.permanent(ctx, j, pe, err)
}

func (p *Pipeline) sent(ctx context.Context, j *job, res nudge.SendResult) error {
	status := res.Status
	if status == "" {
		status = nudge.AttemptSent
	}
	now := p.cfg.Clock.Now()
	if err := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		Status: status, ProviderID: res.ProviderID, SentAt: now,
	}, attemptDetail{ProviderID: res.ProviderID}); err != nil {
		return err
	}
	return p.finish(ctx, j, nudge.ReminderSent, nudge.ReasonNone)
}

func (p *Pipeline) unknownOutcome(ctx context.Context, j *job, sendErr error) error {
	if err := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		From: nudge.AttemptSending, Status: nudge.AttemptUnknown, Reason: nudge.ReasonUnknownOutcome,
	}, attemptDetail{Error: sendErr.Error(), Note: "the provider call did not finish; it may have been accepted"}); err != nil {
		return err
	}
	return p.finish(ctx, j, nudge.ReminderUnknown, nudge.ReasonUnknownOutcome)
}

func (p *Pipeline) transient(ctx context.Context, j *job, pe *nudge.ProviderError, sendErr error) error {
	retried, maxRetry, known := retryState(ctx)
	if known && retried >= maxRetry {
		if err := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
			From: nudge.AttemptSending, Status: nudge.AttemptFailed, Reason: nudge.ReasonRetriesExhausted, ErrorCode: pe.Code,
		}, attemptDetail{Error: sendErr.Error()}); err != nil {
			return err
		}
		if err := p.finish(ctx, j, nudge.ReminderFailed, nudge.ReasonRetriesExhausted); err != nil {
			return err
		}
		return fmt.Errorf("send attempt %s, retries exhausted: %w: %w", j.attempt.ID, asynq.SkipRetry, sendErr)
	}
	if err := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
		From: nudge.AttemptSending, Status: nudge.AttemptRetrying, Reason: nudge.ReasonProviderRetry, ErrorCode: pe.Code,
	}, attemptDetail{Error: sendErr.Error()}); err != nil {
		return err
	}
	return fmt.Errorf("send attempt %s: %w", j.attempt.ID, sendErr)
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
		added, err := p.cfg.Store.AddOptOut(ctx, nudge.OptOut{
			Lender: r.Key.Lender, Channel: j.channel, Address: j.address,
			Source: OptOutSourceProvider, Reason: "provider error " + pe.Code, CreatedAt: now,
		})
		if err != nil {
			j.log.Error("record provider opt-out", "code", pe.Code, "err", err)
			errs = append(errs, fmt.Errorf("record provider opt-out: %w", err))
		} else {
			if added {
				p.cfg.Metrics.OptOut(OptOutSourceProvider)
			}
			p.recordAfterSend(ctx, j, p.event(j, nudge.EventOptOut, nudge.ReasonOptedOut,
				map[string]any{"source": OptOutSourceProvider, "channel": j.channel, "code": pe.Code, "new": added}))
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
