package dispatcher

import (
	"context"
	"fmt"
)

// maxRateRounds bounds the in-process waits for one token.
const maxRateRounds = 8

// rateLimit takes a token from the sender's bucket. A short wait happens in
// process; a longer one reschedules the task without counting a failure.
func (p *Pipeline) rateLimit(ctx context.Context, j *job) (bool, error) {
	if p.cfg.Limiter == nil || p.cfg.SenderRate == nil {
		return false, nil
	}
	key, rate := p.cfg.SenderRate(j.message)
	if key == "" || rate <= 0 {
		return false, nil
	}
	for range maxRateRounds {
		ok, wait, err := p.cfg.Limiter.Take(ctx, key, rate, p.cfg.RateBurst)
		if err != nil {
			return false, fmt.Errorf("take send token: %w", err)
		}
		if ok {
			return false, nil
		}
		if wait > p.cfg.MaxRateWait {
			return false, &DelayError{Kind: ErrRateLimited, Delay: wait}
		}
		if err := p.sleep(ctx, wait); err != nil {
			return false, fmt.Errorf("wait for send token: %w", err)
		}
	}
	return false, &DelayError{Kind: ErrRateLimited, Delay: p.cfg.MaxRateWait}
}
