package dispatcher

import (
	"context"
	"fmt"

	"github.com/nudgehq/nudge"
)

// maxRateRounds bounds the in-process waits for one token.
const maxRateRounds = 8

// LenderRateKey is the rate-limit bucket of lender's sends on channel ch.
func LenderRateKey(lender string, ch nudge.ChannelKind) string {
	return "lender:" + lender + ":" + string(ch)
}

// rateLimit takes a token from the lender's bucket, when the lender has a
// maximum rate, then from the sender's. A short wait happens in process; a
// longer one reschedules the task without counting a failure. The lender's
// bucket comes first so that a lender over its rate does not spend the
// sender's tokens, which other lenders share.
func (p *Pipeline) rateLimit(ctx context.Context, j *job) (bool, error) {
	if p.cfg.Limiter == nil {
		return false, nil
	}
	if p.cfg.LenderRate != nil {
		lender := j.reminder.Key.Lender
		if rate := p.cfg.LenderRate(lender, j.channel); rate > 0 {
			if err := p.takeToken(ctx, LenderRateKey(lender, j.channel), rate); err != nil {
				return false, err
			}
		}
	}
	if p.cfg.SenderRate == nil {
		return false, nil
	}
	key, rate := p.cfg.SenderRate(j.message)
	if key == "" || rate <= 0 {
		return false, nil
	}
	return false, p.takeToken(ctx, key, rate)
}

// takeToken takes one token from bucket key, refilled rate a second,
// waiting in process up to MaxRateWait at a time, or returns a DelayError.
// With a Reserver it reserves the next token within maxRateRounds ×
// MaxRateWait (the longest the take loop may wait) and waits for it, so
// that waiting tasks are served in turn; a slow sender (one call a second)
// keeps as many tasks waiting for it as before, and so never idles while
// tasks are due.
func (p *Pipeline) takeToken(ctx context.Context, key string, rate float64) error {
	if r, ok := p.cfg.Limiter.(Reserver); ok {
		ok, wait, err := r.Reserve(ctx, key, rate, p.cfg.RateBurst, maxRateRounds*p.cfg.MaxRateWait)
		switch {
		case err != nil:
			return fmt.Errorf("take send token: %w", err)
		case !ok:
			return &DelayError{Kind: ErrRateLimited, Delay: wait}
		case wait > 0:
			if err := p.sleep(ctx, wait); err != nil {
				return fmt.Errorf("wait for send token: %w", err)
			}
		}
		return nil
	}
	for range maxRateRounds {
		ok, wait, err := p.cfg.Limiter.Take(ctx, key, rate, p.cfg.RateBurst)
		if err != nil {
			return fmt.Errorf("take send token: %w", err)
		}
		if ok {
			return nil
		}
		if wait > p.cfg.MaxRateWait {
			return &DelayError{Kind: ErrRateLimited, Delay: wait}
		}
		if err := p.sleep(ctx, wait); err != nil {
			return fmt.Errorf("wait for send token: %w", err)
		}
	}
	return &DelayError{Kind: ErrRateLimited, Delay: p.cfg.MaxRateWait}
}
