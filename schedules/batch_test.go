package schedules_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
)

// batchCadence is testCadence with a broken-promise step.
const batchCadence = `name: batch-reminders
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-sms, day: 0, at: "10:00", channel: sms, template: due_sms}
  - {id: late-sms, day: 1, at: "10:00", channel: sms, template: late_sms}
broken_promise:
  - {id: bp-sms, day: 1, at: "10:00", channel: sms, template: broken_promise_sms}
`

// wantReminder is what a tick must leave in the ledger for one reminder,
// and the one event it must record for it.
type wantReminder struct {
	step   string
	cycle  nudge.Date
	status nudge.ReminderStatus
	// nextAt is when it goes on the queue (queued) or was due (expired).
	nextAt time.Time
	broken bool
	// event is the kind of its event, with the event's reason.
	event  nudge.EventKind
	reason nudge.Reason
	// detail is the event's detail.
	detail map[string]any
}

// TestPlannerBatchTimeline plans accounts of every kind in one tick, in
// batches of different sizes and with different enqueue concurrencies, and
// checks each account's reminders, events and next action: a batch plans
// every account exactly as it would be planned alone.
func TestPlannerBatchTimeline(t *testing.T) {
	t.Parallel()
	yesterday := today.AddDays(-1)
	tomorrow10 := time.Date(2026, 6, 3, 10, 0, 0, 0, newYork)
	queuedNow := func(step string, cycle nudge.Date) wantReminder {
		return wantReminder{step: step, cycle: cycle, status: nudge.ReminderQueued, nextAt: t0, event: nudge.EventEnqueued,
			detail: map[string]any{"process_at": t0.Format(time.RFC3339), "channel": "sms", "planned": true,
				"cadence": "batch-reminders", "step": step}}
	}
	hawaii8 := time.Date(2026, 6, 2, 18, 0, 0, 0, time.UTC)
	missedDue := time.Date(2026, 6, 1, 10, 0, 0, 0, newYork).UTC()
	brokenBP := queuedNow("bp-sms", yesterday)
	brokenBP.broken = true

	accounts := []struct {
		id string
		// prepare changes the account before it is stored and stores what
		// else it needs; markedAt is when the account was marked for planning.
		prepare  func(t *testing.T, db *store.DB, a *nudge.Account)
		markedAt time.Time
		want     []wantReminder
		wantNext time.Time // zero: never due again
	}{
		{id: "B-due", want: []wantReminder{queuedNow("due-sms", today)}, wantNext: tomorrow10},
		{
			id: "B-hawaii",
			// 06:00 in Honolulu at t0: held back until 08:00 there.
			prepare: func(_ *testing.T, _ *store.DB, a *nudge.Account) { a.Contacts[0].Address = "+18085550123" },
			want: []wantReminder{{step: "due-sms", cycle: today, status: nudge.ReminderDeferred, nextAt: hawaii8,
				event: nudge.EventEnqueued, reason: nudge.ReasonQuietHours,
				detail: map[string]any{"process_at": hawaii8.Format(time.RFC3339), "channel": "sms", "planned": true,
					"cadence": "batch-reminders", "step": "due-sms"}}},
			wantNext: tomorrow10,
		},
		{id: "B-paid", prepare: func(_ *testing.T, _ *store.DB, a *nudge.Account) { a.Status = nudge.StatusPaid }},
		{
			id: "B-claimed",
			prepare: func(_ *testing.T, _ *store.DB, a *nudge.Account) {
				a.Holds = []nudge.Hold{{Kind: nudge.HoldPaymentClaimed, Reason: "paid at the branch"}}
			},
		},
		{
			id: "B-promise",
			prepare: func(t *testing.T, db *store.DB, a *nudge.Account) {
				t.Helper()
				insertPromise(t, db, a.ID, "prm-pending", nudge.MustDate("2026-06-05"), nudge.PromisePending)
			},
			wantNext: time.Date(2026, 6, 6, 0, 0, 0, 0, newYork),
		},
		{
			// Marked a day ago and due yesterday: yesterday's step was missed
			// for good, today's is due.
			id:       "B-missed",
			prepare:  func(_ *testing.T, _ *store.DB, a *nudge.Account) { a.DueDate = yesterday },
			markedAt: t0.Add(-27 * time.Hour),
			want: []wantReminder{
				queuedNow("late-sms", yesterday),
				{step: "due-sms", cycle: yesterday, status: nudge.ReminderExpired, nextAt: missedDue,
					event: nudge.EventExpired, reason: nudge.ReasonExpired,
					detail: map[string]any{"due_at": missedDue.Format(time.RFC3339),
						"expires_at": time.Date(2026, 6, 2, 0, 0, 0, 0, newYork).UTC().Format(time.RFC3339)}},
			},
		},
		{
			// A promise for yesterday was broken: the broken-promise step
			// runs today beside the regular one.
			id: "B-broken",
			prepare: func(t *testing.T, db *store.DB, a *nudge.Account) {
				t.Helper()
				a.DueDate = yesterday
				insertPromise(t, db, a.ID, "prm-broken", yesterday, nudge.PromiseBroken)
			},
			want: []wantReminder{queuedNow("late-sms", yesterday), brokenBP},
		},
	}
	configs := []struct {
		name                      string
		batch, lanes, concurrency int
	}{
		{name: "one batch, one enqueue at a time", lanes: 1},
		{name: "batches of two, one at a time, three enqueues at once", batch: 2, lanes: 1, concurrency: 3},
		{name: "batches of two, three at once, one enqueue at a time", batch: 2, lanes: 3},
		{name: "one account per batch, default lanes, eight enqueues at once", batch: 1, concurrency: 8},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openStore(t, t.TempDir())
			v, err := db.PutCadence(ctx, testLender, "batch-reminders", []byte(batchCadence), t0)
			require.NoError(t, err)
			require.NoError(t, db.ActivateCadence(ctx, testLender, "batch-reminders", v))
			want := schedules.TickStats{Accounts: len(accounts)}
			for i, ac := range accounts {
				a := dueAccount(ac.id, i)
				marked := ac.markedAt
				if marked.IsZero() {
					marked = t0.Add(-time.Minute)
				}
				// Promises need the account stored first.
				require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{a}, marked))
				if ac.prepare != nil {
					ac.prepare(t, db, &a)
					require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{a}, marked))
				}
				for _, w := range ac.want {
					if w.status == nudge.ReminderExpired {
						want.Expired++
					} else {
						want.Planned++
						want.Enqueued++
					}
				}
			}
			clock := nudge.NewFixedClock(t0)
			enq := newRecordingEnqueuer()
			p := newPlanner(db, clock, enq)
			p.Batch, p.Lanes, p.Concurrency = cfg.batch, cfg.lanes, cfg.concurrency
			st, err := p.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, want, st)

			for _, ac := range accounts {
				rs, err := db.ListReminders(ctx, testLender, ac.id)
				require.NoError(t, err)
				require.Len(t, rs, len(ac.want), ac.id)
				evs, err := db.Events(ctx, testLender, ac.id)
				require.NoError(t, err)
				require.Len(t, evs, len(ac.want), "%s: one event per reminder", ac.id)
				for _, w := range ac.want {
					id := nudge.ReminderKey{Lender: testLender, AccountID: ac.id, Cadence: "batch-reminders", Step: w.step, Cycle: w.cycle}.ID()
					r, err := db.GetReminder(ctx, id)
					require.NoError(t, err, "%s %s", ac.id, w.step)
					require.Equal(t, w.status, r.Status, "%s %s", ac.id, w.step)
					require.Equal(t, w.nextAt.UTC(), r.NextAt, "%s %s", ac.id, w.step)
					require.Equal(t, w.broken, r.BrokenPromise, "%s %s", ac.id, w.step)
					require.Equal(t, t0, r.UpdatedAt, "%s %s", ac.id, w.step)
					switch w.status {
					case nudge.ReminderQueued:
						require.Equal(t, nudge.ReasonNone, r.Reason, "%s %s: the ledger keeps no reason for a queued reminder", ac.id, w.step)
						require.Equal(t, []time.Time{w.nextAt.UTC()}, utc(enq.at(id)), "%s %s is enqueued once, at its process time", ac.id, w.step)
					case nudge.ReminderDeferred:
						require.Equal(t, w.reason, r.Reason, "%s %s: a reminder held back keeps why", ac.id, w.step)
						require.Equal(t, []time.Time{w.nextAt.UTC()}, utc(enq.at(id)), "%s %s is enqueued once, at its process time", ac.id, w.step)
					default:
						require.Equal(t, w.reason, r.Reason, "%s %s", ac.id, w.step)
						require.Empty(t, enq.at(id), "%s %s is never enqueued", ac.id, w.step)
					}
					ev := eventOf(t, evs, id)
					require.Equal(t, w.event, ev.Kind, "%s %s", ac.id, w.step)
					require.Equal(t, w.reason, ev.Reason, "%s %s", ac.id, w.step)
					require.Equal(t, t0, ev.At.UTC(), "%s %s", ac.id, w.step)
					require.Equal(t, w.detail, detailOf(t, ev), "%s %s", ac.id, w.step)
				}
				if ac.wantNext.IsZero() {
					require.False(t, isDue(t, db, ac.id, t0.AddDate(1, 0, 0)), "%s is never due again", ac.id)
				} else {
					require.False(t, isDue(t, db, ac.id, ac.wantNext.Add(-time.Second)), ac.id)
					require.True(t, isDue(t, db, ac.id, ac.wantNext), ac.id)
				}
			}

			// A tick a minute later has nothing to do and writes nothing.
			clock.Advance(time.Minute)
			before := enq.count()
			st, err = p.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, schedules.TickStats{}, st)
			require.Equal(t, before, enq.count())
		})
	}
}

func insertPromise(t *testing.T, db *store.DB, acct, id string, due nudge.Date, status nudge.PromiseStatus) {
	t.Helper()
	require.NoError(t, db.InsertPromise(context.Background(), nudge.Promise{
		ID: id, Lender: testLender, AccountID: acct, Amount: "412.50", Currency: "USD", Due: due,
		Status: status, Channel: nudge.SMS, CreatedAt: t0.Add(-48 * time.Hour),
	}))
}

// eventOf returns the one event of the reminder among evs.
func eventOf(t *testing.T, evs []nudge.Event, reminderID string) nudge.Event {
	t.Helper()
	var found []nudge.Event
	for _, e := range evs {
		if e.ReminderID == reminderID {
			found = append(found, e)
		}
	}
	require.Len(t, found, 1, "events of %s", reminderID)
	return found[0]
}

// detailOf decodes an event's detail, with instants in UTC.
func detailOf(t *testing.T, e nudge.Event) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(e.Detail, &m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
				m[k] = ts.UTC().Format(time.RFC3339)
			}
		}
	}
	return m
}

// countingStore counts the store calls a Planner makes.
type countingStore struct {
	*store.DB
	mu    sync.Mutex
	calls map[string]int
	// planned is the lender of each batch SavePlan wrote, in order.
	planned []string
	// afterGetAccounts, when set, runs after each GetAccounts.
	afterGetAccounts func()
}

func (s *countingStore) count(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[name]++
}

func (s *countingStore) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

func (s *countingStore) DueLenders(ctx context.Context, at time.Time) ([]string, error) {
	s.count("DueLenders")
	return s.DB.DueLenders(ctx, at)
}

func (s *countingStore) DueAccountsAfter(ctx context.Context, lender string, at time.Time, after nudge.Account, limit int) ([]nudge.Account, error) {
	s.count("DueAccountsAfter")
	return s.DB.DueAccountsAfter(ctx, lender, at, after, limit)
}

func (s *countingStore) GetAccounts(ctx context.Context, lender string, ids []string) ([]nudge.Account, error) {
	s.count("GetAccounts")
	if s.afterGetAccounts != nil {
		defer s.afterGetAccounts()
	}
	return s.DB.GetAccounts(ctx, lender, ids)
}

func (s *countingStore) SetNextAction(ctx context.Context, lender, id string, at time.Time) error {
	s.count("SetNextAction")
	return s.DB.SetNextAction(ctx, lender, id, at)
}

func (s *countingStore) PromisesOf(ctx context.Context, accts []nudge.Account) ([]nudge.Promise, error) {
	s.count("PromisesOf")
	return s.DB.PromisesOf(ctx, accts)
}

func (s *countingStore) SavePlan(ctx context.Context, rs []nudge.Reminder, events []nudge.Event, next []nudge.Account) ([]nudge.Reminder, error) {
	s.count("SavePlan")
	if len(next) > 0 {
		s.mu.Lock()
		s.planned = append(s.planned, next[0].Lender)
		s.mu.Unlock()
	}
	return s.DB.SavePlan(ctx, rs, events, next)
}

func (s *countingStore) PendingReminders(ctx context.Context, at time.Time, limit int) ([]nudge.Reminder, error) {
	s.count("PendingReminders")
	return s.DB.PendingReminders(ctx, at, limit)
}

func (s *countingStore) MoveOpenReminders(ctx context.Context, changes []nudge.ReminderChange, events []nudge.Event) ([]string, error) {
	s.count("MoveOpenReminders")
	return s.DB.MoveOpenReminders(ctx, changes, events)
}

var _ schedules.PlannerStore = (*countingStore)(nil)

// TestPlannerTickIsSetBased checks that a tick's store calls follow the
// number of batches, not the number of accounts: per batch one read of the
// accounts, one of their promises and one write, and nothing per account,
// whether the batches are planned one after another or several at once.
func TestPlannerTickIsSetBased(t *testing.T) {
	t.Parallel()
	for _, lanes := range []int{1, 3} {
		t.Run(fmt.Sprintf("lanes=%d", lanes), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openStore(t, t.TempDir())
			activateCadence(t, db)
			const due, batch = 60, 25
			accts := dueAccounts("S", due)
			require.NoError(t, db.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))
			cs := &countingStore{DB: db, calls: map[string]int{}}
			enq := newRecordingEnqueuer()
			p := newPlanner(db, nudge.NewFixedClock(t0), enq)
			p.Store, p.Batch, p.Lanes, p.Concurrency = cs, batch, lanes, 4

			st, err := p.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, schedules.TickStats{Accounts: due, Planned: due, Enqueued: due}, st)
			require.Equal(t, due, enq.count())
			// Batches of 25, 25 and 10: the short one ends the tick.
			require.Equal(t, map[string]int{"DueLenders": 1, "DueAccountsAfter": 3, "PromisesOf": 3, "SavePlan": 3, "PendingReminders": 1}, cs.snapshot())
			for _, a := range accts {
				id := nudge.ReminderKey{Lender: testLender, AccountID: a.ID, Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID()
				require.Len(t, enq.at(id), 1, "account %s is planned once", a.ID)
			}
		})
	}
}

// ledgerCheckingEnqueuer fails the test's expectations when a reminder
// reaches the queue before the ledger holds it as queued, and refuses the
// reminders in refuse.
type ledgerCheckingEnqueuer struct {
	*recordingEnqueuer
	db     *store.DB
	refuse map[string]bool
	mu     sync.Mutex
	early  []string
}

func (e *ledgerCheckingEnqueuer) Enqueue(ctx context.Context, r nudge.Reminder, at time.Time) error {
	stored, err := e.db.GetReminder(ctx, r.ID)
	if err != nil || stored.Status != nudge.ReminderQueued {
		e.mu.Lock()
		e.early = append(e.early, r.ID)
		e.mu.Unlock()
	}
	if e.refuse[r.ID] {
		return errors.New("redis is down")
	}
	return e.recordingEnqueuer.Enqueue(ctx, r, at)
}

// TestPlannerLedgerFirst checks the crash-safety order: every reminder is
// committed before it is enqueued, so a reminder whose enqueue fails (or
// that Redis loses) is still in the ledger, and a later tick's catch-up puts
// it on the queue once it is CatchUpGrace late.
func TestPlannerLedgerFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	activateCadence(t, db)
	const due = 12
	accts := dueAccounts("L", due)
	require.NoError(t, db.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))
	lost := nudge.ReminderKey{Lender: testLender, AccountID: accts[5].ID, Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID()
	enq := &ledgerCheckingEnqueuer{recordingEnqueuer: newRecordingEnqueuer(), db: db, refuse: map[string]bool{lost: true}}
	clock := nudge.NewFixedClock(t0)
	p := newPlanner(db, clock, enq)
	p.Concurrency, p.CatchUpGrace = 1, time.Minute

	_, err := p.Tick(ctx)
	require.ErrorContains(t, err, "redis is down")
	require.ErrorContains(t, err, accts[5].ID)
	require.Empty(t, enq.early, "every reminder is in the ledger before it is enqueued")
	r, err := db.GetReminder(ctx, lost)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, r.Status, "the ledger keeps the reminder the queue refused")
	require.Less(t, enq.count(), due)

	// Redis is back. Within the grace nothing is re-enqueued; past it the
	// catch-up puts every open reminder the queue does not have back on it
	// (the queue ignores those it has: same TaskID).
	delete(enq.refuse, lost)
	clock.Advance(30 * time.Second)
	st, err := p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, schedules.TickStats{}, st)
	require.Empty(t, enq.at(lost))
	clock.Advance(45 * time.Second)
	st, err = p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, due, st.CaughtUp)
	require.Len(t, enq.at(lost), 1, "the refused reminder reaches the queue")
	require.Empty(t, enq.early)
}

// finishingEnqueuer finishes the reminder finish, as a worker would, while
// the catch-up enqueues it.
type finishingEnqueuer struct {
	*recordingEnqueuer
	db     *store.DB
	finish string
}

func (e *finishingEnqueuer) Enqueue(ctx context.Context, r nudge.Reminder, at time.Time) error {
	if err := e.recordingEnqueuer.Enqueue(ctx, r, at); err != nil {
		return err
	}
	if r.ID != e.finish || len(e.at(r.ID)) < 2 {
		return nil
	}
	return e.db.SetReminderStatus(ctx, r.ID, nudge.ReminderSent, nudge.ReasonNone, time.Time{}, at)
}

// TestPlannerCatchUpIsSetBased: after a lost queue one tick re-enqueues
// every overdue reminder, a page at a time with one read and one write
// transaction per page, however many there are; a reminder a worker
// finishes while its page is enqueued keeps the worker's status and gets no
// event of the catch-up.
func TestPlannerCatchUpIsSetBased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	activateCadence(t, db)
	const due, batch = 60, 25
	accts := make([]nudge.Account, due)
	ids := make([]string, due)
	for i := range accts {
		accts[i] = dueAccount(fmt.Sprintf("C-%03d", i), i)
		ids[i] = nudge.ReminderKey{Lender: testLender, AccountID: accts[i].ID, Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID()
	}
	require.NoError(t, db.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))
	finished := 30
	enq := &finishingEnqueuer{recordingEnqueuer: newRecordingEnqueuer(), db: db, finish: ids[finished]}
	clock := nudge.NewFixedClock(t0)
	p := newPlanner(db, clock, enq)
	p.Batch, p.Concurrency, p.CatchUpGrace = batch, 4, time.Minute
	st, err := p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, due, st.Enqueued)

	// The queue is lost; nothing runs for two minutes.
	clock.Advance(2 * time.Minute)
	cs := &countingStore{DB: db, calls: map[string]int{}}
	p.Store = cs
	st, err = p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, schedules.TickStats{CaughtUp: due - 1}, st)
	// Pages of 25, 25 and 10: the short one ends the catch-up.
	require.Equal(t, map[string]int{"DueLenders": 1, "PendingReminders": 3, "MoveOpenReminders": 3}, cs.snapshot())
	for i, id := range ids {
		require.Len(t, enq.at(id), 2, "reminder %d is enqueued by the planning and by the catch-up", i)
		r, err := db.GetReminder(ctx, id)
		require.NoError(t, err)
		events, err := db.Events(ctx, testLender, accts[i].ID)
		require.NoError(t, err)
		enqueued := 0
		for _, e := range events {
			if e.Kind == nudge.EventEnqueued {
				enqueued++
			}
		}
		if i == finished {
			require.Equal(t, nudge.ReminderSent, r.Status, "the worker's status stands")
			require.Equal(t, 1, enqueued, "the catch-up records nothing for a reminder finished meanwhile")
			continue
		}
		require.Equal(t, nudge.ReminderQueued, r.Status)
		require.Equal(t, clock.Now(), r.NextAt, "a caught-up reminder waits another grace")
		require.Equal(t, 2, enqueued)
	}

	// Within the grace of the catch-up the next tick reads one empty page.
	clock.Advance(30 * time.Second)
	st, err = p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, schedules.TickStats{}, st)
}

// TestPlannerBreaksPromisesSetBased: a tick reads the accounts of all the
// promises that may be over in one read per lender, breaks those whose date
// is over in the borrower's zone, leaves those of today pending, and leaves
// a promise kept after the read as it is, without failing the tick.
func TestPlannerBreaksPromisesSetBased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	activateCadence(t, db)
	const n = 20
	accts := dueAccounts("P", n)
	// Not due: only the promises bring them up.
	require.NoError(t, db.UpsertAccounts(ctx, accts, t0.AddDate(1, 0, 0)))
	for i, a := range accts {
		due := today // not over in New York at t0
		if i%2 == 0 {
			due = today.AddDays(-1)
		}
		insertPromise(t, db, a.ID, fmt.Sprintf("prm-%03d", i), due, nudge.PromisePending)
	}
	const kept = "prm-004" // dated yesterday, but paid after the tick read it
	cs := &countingStore{DB: db, calls: map[string]int{}}
	cs.afterGetAccounts = func() {
		require.NoError(t, db.SetPromiseStatus(ctx, kept, nudge.PromiseKept, t0))
	}
	p := newPlanner(db, nudge.NewFixedClock(t0), newRecordingEnqueuer())
	p.Store = cs

	st, err := p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, n/2-1, st.BrokenPromises)
	require.Equal(t, n/2-1, st.Accounts, "the accounts of the broken promises are due, and planned in the same tick")
	require.Equal(t, 1, cs.snapshot()["GetAccounts"], "one read of the accounts for the lender's promises")
	for i, a := range accts {
		ps, err := db.ListPromises(ctx, testLender, a.ID)
		require.NoError(t, err)
		require.Len(t, ps, 1)
		want := nudge.PromisePending
		switch {
		case ps[0].ID == kept:
			want = nudge.PromiseKept
		case i%2 == 0:
			want = nudge.PromiseBroken
		}
		require.Equal(t, want, ps[0].Status, "promise %s", ps[0].ID)
	}
}

// TestPlannerTickTakesLendersInTurn: a lender's large backlog is planned a
// page at a time with the other lenders' pages between, so a small lender
// due at the same instant is planned (and enqueued) after one page of the
// large one, not after all of it.
func TestPlannerTickTakesLendersInTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	activateCadence(t, db)
	const small = "zeta" // sorts after testLender: it would come last in one list
	v, err := db.PutCadence(ctx, small, cadenceName, []byte(testCadence), t0)
	require.NoError(t, err)
	require.NoError(t, db.ActivateCadence(ctx, small, cadenceName, v))
	var accts []nudge.Account
	for i := range 70 {
		accts = append(accts, dueAccount(fmt.Sprintf("L-%03d", i), i))
	}
	for i := range 3 {
		a := dueAccount(fmt.Sprintf("Z-%d", i), 100+i)
		a.Lender = small
		accts = append(accts, a)
	}
	require.NoError(t, db.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))
	cs := &countingStore{DB: db, calls: map[string]int{}}
	p := newPlanner(db, nudge.NewFixedClock(t0), newRecordingEnqueuer())
	p.Store, p.Batch, p.Lanes = cs, 25, 1

	st, err := p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 73, st.Planned)
	require.Equal(t, []string{testLender, small, testLender, testLender}, cs.planned,
		"the small lender's page is planned second, between the large lender's first and second")
}
