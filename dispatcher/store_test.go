package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
)

// memStore is a hand-written in-memory Store with the semantics the
// pipeline relies on: terminal reminders refuse changes, attempts are unique
// by id, claims check caps, updates never lower an attempt's rank and honour
// From as compare-and-set.
type memStore struct {
	mu        sync.Mutex
	reminders map[string]nudge.Reminder
	accounts  map[string]nudge.Account
	attempts  map[string]nudge.Attempt
	byAccount map[string][]string
	optOuts   map[string]nudge.OptOut
	promises  map[string]nudge.Promise
	events    []nudge.Event
	pauses    []nudge.Pause
	// claimErr, when set, is returned by ClaimAttempt for a new attempt.
	claimErr error
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		reminders: map[string]nudge.Reminder{},
		accounts:  map[string]nudge.Account{},
		attempts:  map[string]nudge.Attempt{},
		byAccount: map[string][]string{},
		optOuts:   map[string]nudge.OptOut{},
		promises:  map[string]nudge.Promise{},
	}
}

func acctKey(lender, id string) string { return lender + "/" + id }

func optKey(lender string, ch nudge.ChannelKind, addr string) string {
	return lender + "|" + string(ch) + "|" + addr
}

func (s *memStore) putReminder(r nudge.Reminder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reminders[r.ID] = r
}

func (s *memStore) putAccount(a nudge.Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[acctKey(a.Lender, a.ID)] = a
}

func (s *memStore) putAttempt(a nudge.Attempt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[a.ID] = a
	s.byAccount[acctKey(a.Lender, a.AccountID)] = append(s.byAccount[acctKey(a.Lender, a.AccountID)], a.ID)
}

func (s *memStore) reminder(id string) nudge.Reminder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reminders[id]
}

func (s *memStore) attempt(id string) (nudge.Attempt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attempts[id]
	return a, ok
}

func (s *memStore) eventsOf(kind nudge.EventKind) []nudge.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []nudge.Event
	for _, e := range s.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (s *memStore) GetReminder(_ context.Context, id string) (nudge.Reminder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reminders[id]
	if !ok {
		return nudge.Reminder{}, fmt.Errorf("reminder %s: %w", id, nudge.ErrNotFound)
	}
	return r, nil
}

func (s *memStore) SetReminderStatus(_ context.Context, id string, status nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reminders[id]
	if !ok {
		return nudge.ErrNotFound
	}
	if r.Status.Terminal() {
		return fmt.Errorf("reminder %s is %s: %w", id, r.Status, nudge.ErrConflict)
	}
	r.Status, r.Reason, r.NextAt, r.UpdatedAt = status, reason, nextAt, now
	s.reminders[id] = r
	return nil
}

func (s *memStore) CancelReminders(_ context.Context, lender, accountID string, reason nudge.Reason, now time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, r := range s.reminders {
		if r.Key.Lender == lender && r.Key.AccountID == accountID && !r.Status.Terminal() {
			r.Status, r.Reason, r.UpdatedAt = nudge.ReminderCanceled, reason, now
			s.reminders[id] = r
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *memStore) GetAccount(_ context.Context, lender, id string) (nudge.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[acctKey(lender, id)]
	if !ok {
		return nudge.Account{}, nudge.ErrNotFound
	}
	a.Contacts = slices.Clone(a.Contacts)
	return a, nil
}

func (s *memStore) SetContactState(_ context.Context, lender, id string, channel nudge.ChannelKind, address string, state nudge.ContactState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[acctKey(lender, id)]
	if !ok {
		return nudge.ErrNotFound
	}
	a.Contacts = slices.Clone(a.Contacts)
	for i, c := range a.Contacts {
		if c.Channel == channel && c.Address == address {
			a.Contacts[i].State = state
		}
	}
	s.accounts[acctKey(lender, id)] = a
	return nil
}

func (s *memStore) ClaimAttempt(ctx context.Context, a nudge.Attempt, limits []nudge.CapLimit, events ...nudge.Event) (nudge.Attempt, error) {
	got, err := s.claimAttempt(a, limits)
	if err == nil {
		for _, e := range events {
			_ = s.AppendEvent(ctx, e)
		}
	}
	return got, err
}

func (s *memStore) ClaimAttempts(ctx context.Context, claims []nudge.Claim) []nudge.ClaimResult {
	out := make([]nudge.ClaimResult, len(claims))
	for i, c := range claims {
		out[i].Attempt, out[i].Err = s.ClaimAttempt(ctx, c.Attempt, c.Limits, c.Events...)
	}
	return out
}

func (s *memStore) claimAttempt(a nudge.Attempt, limits []nudge.CapLimit) (nudge.Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.attempts[a.ID]; ok {
		return cur, nudge.ErrAlreadyClaimed
	}
	if s.claimErr != nil {
		return nudge.Attempt{}, s.claimErr
	}
	for _, l := range limits {
		n := 0
		for _, id := range s.byAccount[acctKey(a.Lender, a.AccountID)] {
			o := s.attempts[id]
			if o.Lender != a.Lender || o.AccountID != a.AccountID || (l.Channel != "" && o.Channel != l.Channel) ||
				!o.CreatedAt.After(a.CreatedAt.Add(-l.Window)) || (l.PerAddress && o.Address != a.Address) {
				continue
			}
			switch {
			case l.Count == nudge.CountCalls && !o.Status.CountsAsCall():
			case l.Count == nudge.CountUnanswered && !o.Unanswered():
			default:
				n++
			}
		}
		if n >= l.Max {
			return nudge.Attempt{}, fmt.Errorf("claim %s: %w: %s (%s)", a.ID, nudge.ErrCapReached, l.Reason, l.Rule)
		}
	}
	if a.Status == "" {
		a.Status = nudge.AttemptClaimed
	}
	s.attempts[a.ID] = a
	s.byAccount[acctKey(a.Lender, a.AccountID)] = append(s.byAccount[acctKey(a.Lender, a.AccountID)], a.ID)
	return a, nil
}

func (s *memStore) GetAttempt(_ context.Context, id string) (nudge.Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attempts[id]
	if !ok {
		return nudge.Attempt{}, fmt.Errorf("attempt %s: %w", id, nudge.ErrNotFound)
	}
	return a, nil
}

func (s *memStore) UpdateAttempt(_ context.Context, id string, u nudge.AttemptUpdate) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attempts[id]
	if !ok {
		return false, nudge.ErrNotFound
	}
	if u.From != "" && (a.Status != u.From || a.Status.Final()) {
		return false, nil
	}
	if u.From == "" && u.Status != "" && u.Status.Rank() <= a.Status.Rank() && u.Status != a.Status {
		return false, nil
	}
	if u.Status != "" {
		a.Status = u.Status
	}
	if u.ProviderID != "" {
		a.ProviderID = u.ProviderID
	}
	if u.Reason != "" {
		a.Reason = u.Reason
	}
	if u.ErrorCode != "" {
		a.ErrorCode = u.ErrorCode
	}
	if !u.SentAt.IsZero() {
		a.SentAt = u.SentAt
	}
	if u.Segments > 0 {
		a.Segments = u.Segments
	}
	if u.Body != "" {
		a.Body = u.Body
	}
	if u.Template != "" {
		a.Template = u.Template
	}
	if !u.SendingAt.IsZero() {
		a.SendingAt = u.SendingAt
	}
	a.UpdatedAt = u.At
	s.attempts[id] = a
	return true, nil
}

func (s *memStore) AttemptHistory(_ context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []nudge.Attempt
	for _, id := range s.byAccount[acctKey(lender, accountID)] {
		a := s.attempts[id]
		if !a.CreatedAt.Before(since) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *memStore) ActivePromise(_ context.Context, lender, accountID string) (nudge.Promise, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.promises[acctKey(lender, accountID)]
	if !ok || p.Status != nudge.PromisePending {
		return nudge.Promise{}, nudge.ErrNotFound
	}
	return p, nil
}

func (s *memStore) AddOptOut(_ context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := optKey(o.Lender, o.Channel, o.Address)
	if _, ok := s.optOuts[k]; ok {
		return false, nil
	}
	s.optOuts[k] = o
	for _, e := range events {
		e.ID = int64(len(s.events) + 1)
		s.events = append(s.events, e)
	}
	return true, nil
}

func (s *memStore) optOut(lender string, ch nudge.ChannelKind, addr string) (nudge.OptOut, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.optOuts[optKey(lender, ch, addr)]
	return o, ok
}

func (s *memStore) IsOptedOut(_ context.Context, lender string, channel nudge.ChannelKind, address string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.optOuts[optKey(lender, channel, address)]
	return ok, nil
}

func (s *memStore) AppendEvent(_ context.Context, e nudge.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.ID = int64(len(s.events) + 1)
	s.events = append(s.events, e)
	return nil
}

func (s *memStore) ListPauses(_ context.Context, lender string) ([]nudge.Pause, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []nudge.Pause
	for _, p := range s.pauses {
		if lender == "" || p.Lender == lender {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *memStore) SetPause(_ context.Context, p nudge.Pause) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.pauses {
		if q.Lender == p.Lender && q.Scope == p.Scope && q.Target == p.Target {
			return false, nil
		}
	}
	s.pauses = append(s.pauses, p)
	return true, nil
}

func (s *memStore) RemindersInStatus(_ context.Context, status nudge.ReminderStatus, limit int) ([]nudge.Reminder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []nudge.Reminder
	for _, r := range s.reminders {
		if r.Status == status {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b nudge.Reminder) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *memStore) MoveReminder(_ context.Context, id string, from, to nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reminders[id]
	if !ok {
		return false, nudge.ErrNotFound
	}
	if r.Status != from {
		return false, nil
	}
	r.Status, r.Reason, r.UpdatedAt = to, reason, now
	if !nextAt.IsZero() {
		r.NextAt = nextAt
	}
	s.reminders[id] = r
	return true, nil
}

func (s *memStore) Events(_ context.Context, lender, accountID string) ([]nudge.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []nudge.Event
	for _, e := range s.events {
		if e.Lender == lender && e.AccountID == accountID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memStore) RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult {
	out := make([]nudge.OutcomeResult, len(outcomes))
	for i, o := range outcomes {
		r := &out[i]
		if o.AttemptID != "" {
			if r.AttemptChanged, r.Err = s.UpdateAttempt(ctx, o.AttemptID, o.Attempt); r.Err != nil {
				continue
			}
		}
		if rc := o.Reminder; rc.ID != "" {
			err := s.SetReminderStatus(ctx, rc.ID, rc.Status, rc.Reason, rc.NextAt, rc.At)
			switch {
			case errors.Is(err, nudge.ErrConflict):
				r.ReminderFinal = true
			case err != nil:
				r.Err = err
				continue
			}
		}
		if o.EventsIfChanged && !r.AttemptChanged {
			continue
		}
		for _, e := range o.Events {
			_ = s.AppendEvent(ctx, e)
		}
	}
	return out
}
