package bench

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
)

// callStat counts the calls of one store method and the time they took.
type callStat struct {
	calls atomic.Int64
	nanos atomic.Int64
}

// timedStore is the store the dispatch run's pipeline uses: it forwards to
// the database and times every call, so the report can say where a
// reminder's time goes.
type timedStore struct {
	db    *store.DB
	mu    sync.Mutex
	stats map[string]*callStat
}

var (
	_ dispatcher.Store         = (*timedStore)(nil)
	_ dispatcher.RendererStore = (*timedStore)(nil)
	_ schedules.CadenceStore   = (*timedStore)(nil)
)

func newTimedStore(db *store.DB) *timedStore {
	return &timedStore{db: db, stats: map[string]*callStat{}}
}

// observe records one call of method that began at start.
func (s *timedStore) observe(method string, start time.Time) {
	d := time.Since(start)
	s.mu.Lock()
	st, ok := s.stats[method]
	if !ok {
		st = &callStat{}
		s.stats[method] = st
	}
	s.mu.Unlock()
	st.calls.Add(1)
	st.nanos.Add(int64(d))
}

// StoreCall is one store method's share of the dispatch run.
type StoreCall struct {
	Method string `json:"method"`
	// PerReminder is how many calls one reminder made.
	PerReminder float64 `json:"per_reminder"`
	// Mean is the mean duration of one call.
	Mean time.Duration `json:"mean"`
}

// breakdown returns the calls per reminder of each method, most expensive
// per reminder first.
func (s *timedStore) breakdown(reminders int) []StoreCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StoreCall, 0, len(s.stats))
	for m, st := range s.stats {
		calls := st.calls.Load()
		if calls == 0 {
			continue
		}
		out = append(out, StoreCall{Method: m, PerReminder: float64(calls) / float64(reminders),
			Mean: time.Duration(st.nanos.Load() / calls)})
	}
	sort.Slice(out, func(i, j int) bool {
		ci := out[i].PerReminder * float64(out[i].Mean)
		cj := out[j].PerReminder * float64(out[j].Mean)
		if ci != cj {
			return ci > cj
		}
		return out[i].Method < out[j].Method
	})
	return out
}

func (s *timedStore) GetReminder(ctx context.Context, id string) (nudge.Reminder, error) {
	defer s.observe("GetReminder", time.Now())
	return s.db.GetReminder(ctx, id)
}

func (s *timedStore) LoadReminder(ctx context.Context, id string) (nudge.Reminder, []nudge.Attempt, error) {
	defer s.observe("LoadReminder", time.Now())
	return s.db.LoadReminder(ctx, id)
}

func (s *timedStore) AccountSnapshot(ctx context.Context, lender, id string, q nudge.AccountSnapshotQuery) (nudge.AccountSnapshot, error) {
	defer s.observe("AccountSnapshot", time.Now())
	return s.db.AccountSnapshot(ctx, lender, id, q)
}

func (s *timedStore) OptedOut(ctx context.Context, lender string, refs []nudge.ContactRef) ([]nudge.ContactRef, error) {
	defer s.observe("OptedOut", time.Now())
	return s.db.OptedOut(ctx, lender, refs)
}

func (s *timedStore) SetReminderStatus(ctx context.Context, id string, status nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) error {
	defer s.observe("SetReminderStatus", time.Now())
	return s.db.SetReminderStatus(ctx, id, status, reason, nextAt, now)
}

func (s *timedStore) GetAccount(ctx context.Context, lender, id string) (nudge.Account, error) {
	defer s.observe("GetAccount", time.Now())
	return s.db.GetAccount(ctx, lender, id)
}

func (s *timedStore) SetContactState(ctx context.Context, lender, id string, channel nudge.ChannelKind, address string, state nudge.ContactState) error {
	defer s.observe("SetContactState", time.Now())
	return s.db.SetContactState(ctx, lender, id, channel, address, state)
}

func (s *timedStore) ClaimAttempts(ctx context.Context, claims []nudge.Claim) []nudge.ClaimResult {
	defer s.observe("ClaimAttempts", time.Now())
	return s.db.ClaimAttempts(ctx, claims)
}

func (s *timedStore) GetAttempt(ctx context.Context, id string) (nudge.Attempt, error) {
	defer s.observe("GetAttempt", time.Now())
	return s.db.GetAttempt(ctx, id)
}

func (s *timedStore) UpdateAttempt(ctx context.Context, id string, u nudge.AttemptUpdate) (bool, error) {
	defer s.observe("UpdateAttempt", time.Now())
	return s.db.UpdateAttempt(ctx, id, u)
}

func (s *timedStore) RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult {
	defer s.observe("RecordOutcomes", time.Now())
	return s.db.RecordOutcomes(ctx, outcomes)
}

func (s *timedStore) AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error) {
	defer s.observe("AttemptHistory", time.Now())
	return s.db.AttemptHistory(ctx, lender, accountID, since)
}

func (s *timedStore) ActivePromise(ctx context.Context, lender, accountID string) (nudge.Promise, error) {
	defer s.observe("ActivePromise", time.Now())
	return s.db.ActivePromise(ctx, lender, accountID)
}

func (s *timedStore) AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error) {
	defer s.observe("AddOptOut", time.Now())
	return s.db.AddOptOut(ctx, o, events...)
}

func (s *timedStore) IsOptedOut(ctx context.Context, lender string, channel nudge.ChannelKind, address string) (bool, error) {
	defer s.observe("IsOptedOut", time.Now())
	return s.db.IsOptedOut(ctx, lender, channel, address)
}

func (s *timedStore) AppendEvent(ctx context.Context, e nudge.Event) error {
	defer s.observe("AppendEvent", time.Now())
	return s.db.AppendEvent(ctx, e)
}

func (s *timedStore) GetLender(ctx context.Context, id string) (nudge.Lender, error) {
	defer s.observe("GetLender", time.Now())
	return s.db.GetLender(ctx, id)
}

func (s *timedStore) ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error) {
	defer s.observe("ListPromises", time.Now())
	return s.db.ListPromises(ctx, lender, accountID)
}

func (s *timedStore) ActiveCadences(ctx context.Context, lender string) ([]nudge.CadenceVersion, error) {
	defer s.observe("ActiveCadences", time.Now())
	return s.db.ActiveCadences(ctx, lender)
}

func (s *timedStore) GetCadence(ctx context.Context, lender, name string, version int) (nudge.CadenceVersion, error) {
	defer s.observe("GetCadence", time.Now())
	return s.db.GetCadence(ctx, lender, name, version)
}

// timedLimiter times the rate limiter's Redis round trips.
type timedLimiter struct {
	l    dispatcher.Limiter
	stat *timedStore
}

func (t timedLimiter) Take(ctx context.Context, key string, perSecond float64, burst int) (bool, time.Duration, error) {
	defer t.stat.observe("RateLimiter.Take (Redis)", time.Now())
	return t.l.Take(ctx, key, perSecond, burst)
}

func (s *timedStore) ListPauses(ctx context.Context, lender string) ([]nudge.Pause, error) {
	defer s.observe("ListPauses", time.Now())
	return s.db.ListPauses(ctx, lender)
}

func (s *timedStore) SetPause(ctx context.Context, p nudge.Pause) (bool, error) {
	defer s.observe("SetPause", time.Now())
	return s.db.SetPause(ctx, p)
}
