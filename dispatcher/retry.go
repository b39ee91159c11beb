package dispatcher

import (
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/nudgehq/nudge"
)

// Kinds of DelayError.
var (
	// ErrDeferred marks a task that compliance deferred to a later instant.
	ErrDeferred = errors.New("deferred by compliance")
	// ErrRateLimited marks a task that found its sender's token bucket empty.
	ErrRateLimited = errors.New("sender rate limited")
	// ErrBusy marks a task that found another run sending its attempt.
	ErrBusy = errors.New("another run is sending the attempt")
)

// DelayError asks the worker Server to run the same task again after Delay.
// It is not a failure: it does not consume one of the task's retries.
type DelayError struct {
	// Kind is ErrDeferred, ErrRateLimited or ErrBusy.
	Kind error
	// Delay is how long to wait from the moment the error was made.
	Delay time.Duration
	// Reason says why (quiet_hours, …); empty for a rate limit.
	Reason nudge.Reason
}

// Error describes the delay.
func (e *DelayError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%v (%s) for %v", e.Kind, e.Reason, e.Delay)
	}
	return fmt.Sprintf("%v for %v", e.Kind, e.Delay)
}

// Unwrap returns the kind, so errors.Is(err, ErrDeferred) works.
func (e *DelayError) Unwrap() error { return e.Kind }

// IsFailure reports whether a handler error counts as a failure: deferrals
// and rate limits do not.
func IsFailure(err error) bool {
	var d *DelayError
	return err != nil && !errors.As(err, &d)
}

// Default back-off for transient errors.
const (
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffMax  = 10 * time.Minute
)

// Backoff computes how long to wait before a task runs again.
type Backoff struct {
	// Base is the wait after the first failure; it doubles with each failure.
	Base time.Duration
	// Max caps the wait.
	Max time.Duration
}

// WithDefaults returns b with zero fields set to the defaults.
func (b Backoff) WithDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = DefaultBackoffBase
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	return b
}

// RetryDelay is an asynq.RetryDelayFunc. A DelayError waits exactly its Delay
// (plus one second, because Asynq stores the due time in whole seconds and
// would otherwise run the task up to a second early). A task whose worker
// died (its lease expired, which takes 30 s and more) waits Base: the crash
// says nothing about the task, and its reminder should not wait minutes
// because workers died while it was theirs. Any other error waits Base·2^n,
// capped at Max, where n is the number of failures so far.
func (b Backoff) RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var d *DelayError
	if errors.As(err, &d) {
		return max(d.Delay, 0) + time.Second
	}
	b = b.WithDefaults()
	if errors.Is(err, asynq.ErrLeaseExpired) {
		return min(b.Base, b.Max)
	}
	wait := b.Base
	for range n {
		wait *= 2
		if wait >= b.Max {
			return b.Max
		}
	}
	return min(wait, b.Max)
}
