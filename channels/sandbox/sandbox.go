// Package sandbox is a scriptable nudge.Sender for tests and the demo. It
// records every call it receives, so a test can prove that a message was
// never sent twice, and it can be told to fail for given addresses or for the
// next calls.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/nudgehq/nudge"
)

// Call is one recorded call to Send.
type Call struct {
	// Message is a copy of the message that was passed in.
	Message nudge.Message
	// ProviderID is the id returned, empty when the call failed.
	ProviderID string
	// Err is the error returned, nil on success.
	Err error
}

// Sender records calls and returns scripted results. The zero value is not
// usable; call New. It is safe for concurrent use.
type Sender struct {
	mu        sync.Mutex
	calls     []Call
	byAttempt map[string]int
	byAddress map[string]error
	next      []error
	status    nudge.AttemptStatus
}

var _ nudge.Sender = (*Sender)(nil)

// New returns a Sender that accepts every message until told otherwise.
func New() *Sender {
	return &Sender{byAttempt: map[string]int{}, byAddress: map[string]error{}, status: nudge.AttemptSent}
}

// Send records the call and returns the scripted error, if any, or a
// provider id of the form "sbx-<n>". A canceled ctx is recorded and returned
// as an error, as a real provider call would fail.
func (s *Sender) Send(ctx context.Context, m *nudge.Message) (nudge.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Call{Message: copyMessage(m)}
	switch {
	case ctx.Err() != nil:
		c.Err = fmt.Errorf("sandbox send of attempt %s: %w", m.AttemptID, ctx.Err())
	case len(s.next) > 0:
		c.Err = s.next[0]
		s.next = s.next[1:]
	case s.byAddress[m.To] != nil:
		c.Err = s.byAddress[m.To]
	default:
		c.ProviderID = fmt.Sprintf("sbx-%d", len(s.calls)+1)
	}
	s.calls = append(s.calls, c)
	s.byAttempt[m.AttemptID]++
	if c.Err != nil {
		return nudge.SendResult{}, c.Err
	}
	return nudge.SendResult{ProviderID: c.ProviderID, Status: s.status}, nil
}

// FailAddress makes every later send to address return err; a nil err
// clears the rule.
func (s *Sender) FailAddress(address string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.byAddress, address)
		return
	}
	s.byAddress[address] = err
}

// FailNext makes the next n sends return err, before any address rule applies.
func (s *Sender) FailNext(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.next = append(s.next, err)
	}
}

// Calls returns copies of every call received, in order.
func (s *Sender) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = Call{Message: copyMessage(&c.Message), ProviderID: c.ProviderID, Err: c.Err}
	}
	return out
}

// Count returns how many calls were received.
func (s *Sender) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// CallsFor returns how many calls were received for the attempt id.
func (s *Sender) CallsFor(attemptID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byAttempt[attemptID]
}

// Sent returns how many calls succeeded.
func (s *Sender) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Err == nil {
			n++
		}
	}
	return n
}

// Permanent returns a provider error that must never be retried, like
// Twilio's 21610 (optOut) or 21211 (undeliverable).
func Permanent(code string, reason nudge.Reason, optOut, undeliverable bool) *nudge.ProviderError {
	return &nudge.ProviderError{Code: code, Reason: reason, OptOut: optOut, Undeliverable: undeliverable,
		Err: errors.New("sandbox: permanent failure " + code)}
}

// Transient returns a provider error that may succeed when retried, like a
// 429 or Twilio's 30003.
func Transient(code string) *nudge.ProviderError {
	return &nudge.ProviderError{Retry: true, Code: code, Reason: nudge.ReasonProviderRetry,
		Err: errors.New("sandbox: transient failure " + code)}
}

func copyMessage(m *nudge.Message) nudge.Message {
	c := *m
	c.Headers = maps.Clone(m.Headers)
	return c
}
