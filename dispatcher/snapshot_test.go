package dispatcher

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/nudgehq/nudge"
)

// LoadReminder is GetReminder with the reminder's attempts.
func (s *memStore) LoadReminder(ctx context.Context, id string) (nudge.Reminder, []nudge.Attempt, error) {
	r, err := s.GetReminder(ctx, id)
	if err != nil {
		return r, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []nudge.Attempt
	for _, a := range s.attempts {
		if a.ReminderID == id {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return r, out, nil
}

// AccountSnapshot composes the separate reads, as the SQL stores' suite
// checks theirs against.
func (s *memStore) AccountSnapshot(ctx context.Context, lender, id string, q nudge.AccountSnapshotQuery) (nudge.AccountSnapshot, error) {
	var snap nudge.AccountSnapshot
	var err error
	if snap.Account, err = s.GetAccount(ctx, lender, id); err != nil {
		return snap, err
	}
	if !q.HistorySince.IsZero() {
		if snap.History, err = s.AttemptHistory(ctx, lender, id, q.HistorySince); err != nil {
			return snap, err
		}
	}
	if q.Promise {
		p, err := s.ActivePromise(ctx, lender, id)
		switch {
		case err == nil:
			snap.Promise = &p
		case !errors.Is(err, nudge.ErrNotFound):
			return snap, err
		}
	}
	if q.Pauses {
		if snap.Pauses, err = s.ListPauses(ctx, lender); err != nil {
			return snap, err
		}
	}
	if q.ContactedBesides != "" {
		all, err := s.AttemptHistory(ctx, lender, id, time.Time{})
		if err != nil {
			return snap, err
		}
		snap.Contacted = slices.ContainsFunc(all, func(a nudge.Attempt) bool {
			return a.ReminderID != q.ContactedBesides && a.ProviderID != ""
		})
	}
	snap.OptedOut, err = s.OptedOut(ctx, lender, q.OptOuts)
	return snap, err
}

// OptedOut is IsOptedOut over refs.
func (s *memStore) OptedOut(ctx context.Context, lender string, refs []nudge.ContactRef) ([]nudge.ContactRef, error) {
	var out []nudge.ContactRef
	for _, r := range refs {
		opted, err := s.IsOptedOut(ctx, lender, r.Channel, r.Address)
		if err != nil {
			return nil, err
		}
		if opted {
			out = append(out, r)
		}
	}
	return out, nil
}
