package schedules_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
)

const (
	testLender  = "acme"
	cadenceName = "test-reminders"
	// testCadence has one SMS step on the due date and one the day after,
	// both at 10:00 in the borrower's zone.
	testCadence = `name: test-reminders
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-sms, day: 0, at: "10:00", channel: sms, template: due_sms}
  - {id: late-sms, day: 1, at: "10:00", channel: sms, template: late_sms}
`
	// redisTestDB is the database of NUDGE_TEST_REDIS_ADDR this package's
	// tests own (the dispatcher's use 13, the CLI's end-to-end tests 11, 12 and 14).
	redisTestDB = 15
)

// t0 is 12:00 in New York on the due date of the test accounts.
var (
	t0      = time.Date(2026, 6, 2, 16, 0, 0, 0, time.UTC)
	today   = nudge.MustDate("2026-06-02")
	newYork = mustLoad("America/New_York")
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// recordingEnqueuer remembers every Enqueue call; it is safe for concurrent use.
type recordingEnqueuer struct {
	mu    sync.Mutex
	calls map[string][]time.Time
}

func newRecordingEnqueuer() *recordingEnqueuer {
	return &recordingEnqueuer{calls: map[string][]time.Time{}}
}

func (e *recordingEnqueuer) Enqueue(_ context.Context, r nudge.Reminder, at time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls[r.ID] = append(e.calls[r.ID], at)
	return nil
}

func (e *recordingEnqueuer) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		n += len(c)
	}
	return n
}

func (e *recordingEnqueuer) at(id string) []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Time(nil), e.calls[id]...)
}

// openStore returns a migrated SQLite store in a file under dir.
func openStore(tb testing.TB, dir string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "nudge.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	require.NoError(tb, db.Migrate(ctx))
	return db
}

// activateCadence stores testCadence as the lender's active cadence.
func activateCadence(tb testing.TB, db *store.DB) {
	tb.Helper()
	ctx := context.Background()
	v, err := db.PutCadence(ctx, testLender, cadenceName, []byte(testCadence), t0)
	require.NoError(tb, err)
	require.NoError(tb, db.ActivateCadence(ctx, testLender, cadenceName, v))
}

// newPlanner returns a Planner over db with the real cadence library.
func newPlanner(db *store.DB, clock nudge.Clock, enq schedules.Enqueuer) *schedules.Planner {
	reg := compliance.NewRegistry()
	lib := schedules.NewLibrary(db, reg, schedules.WithTemplates(templates.Default()),
		schedules.WithProfiles(func(name string) bool { _, err := reg.Lookup(name); return err == nil }))
	return &schedules.Planner{Store: db, Cadences: lib, Enqueuer: enq, Clock: clock}
}

// dueAccount is an active New York account whose due date is today, with
// its own phone number.
func dueAccount(id string, n int) nudge.Account {
	return nudge.Account{
		ID: id, Lender: testLender, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: "Jane Doe", Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: fmt.Sprintf("+1212555%04d", n%10000), Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: today, Status: nudge.StatusActive,
	}
}

// dueAccounts returns n accounts like dueAccount, with ids prefix-00000 on.
func dueAccounts(prefix string, n int) []nudge.Account {
	accts := make([]nudge.Account, n)
	for i := range accts {
		accts[i] = dueAccount(fmt.Sprintf("%s-%05d", prefix, i), i)
	}
	return accts
}

func TestPlannerTick(t *testing.T) {
	t.Parallel()
	dueStep := nudge.ReminderKey{Lender: testLender, AccountID: "A-1", Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID()
	tomorrow10 := time.Date(2026, 6, 3, 10, 0, 0, 0, newYork)
	tests := []struct {
		name string
		// prepare changes the account and the store before the first tick.
		prepare func(t *testing.T, db *store.DB, a *nudge.Account)
		want    schedules.TickStats
		// wantEnqueuedAt is when the due step is put on the queue (nil: never).
		wantEnqueuedAt *time.Time
		// wantStatus and wantReason are the due step's in the ledger: queued,
		// or deferred with the reason it was held back for.
		wantStatus nudge.ReminderStatus
		wantReason nudge.Reason
		// wantNext is the account's next action after the tick (zero: never).
		wantNext time.Time
	}{
		{
			name:           "due step is planned, enqueued at once and the account waits for the next step",
			want:           schedules.TickStats{Accounts: 1, Planned: 1, Enqueued: 1},
			wantEnqueuedAt: &t0,
			wantStatus:     nudge.ReminderQueued,
			wantNext:       tomorrow10,
		},
		{
			name: "enqueue time is moved into the window of every candidate zone",
			prepare: func(_ *testing.T, _ *store.DB, a *nudge.Account) {
				// A Honolulu number: 06:00 there at t0; 08:00 there is 18:00 UTC.
				a.Contacts[0].Address = "+18085550123"
			},
			want:           schedules.TickStats{Accounts: 1, Planned: 1, Enqueued: 1},
			wantEnqueuedAt: ptr(time.Date(2026, 6, 2, 18, 0, 0, 0, time.UTC)),
			wantStatus:     nudge.ReminderDeferred,
			wantReason:     nudge.ReasonQuietHours,
			wantNext:       tomorrow10,
		},
		{
			name:    "paid account is not planned and is never due again",
			prepare: func(_ *testing.T, _ *store.DB, a *nudge.Account) { a.Status = nudge.StatusPaid },
			want:    schedules.TickStats{Accounts: 1},
		},
		{
			name: "pending promise pauses the cadence until the day after its date",
			prepare: func(t *testing.T, db *store.DB, a *nudge.Account) {
				t.Helper()
				require.NoError(t, db.InsertPromise(context.Background(), nudge.Promise{
					ID: "prm-1", Lender: testLender, AccountID: a.ID, Amount: "412.50", Currency: "USD",
					Due: nudge.MustDate("2026-06-05"), Status: nudge.PromisePending, Channel: nudge.SMS,
					CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour),
				}))
			},
			want:     schedules.TickStats{Accounts: 1},
			wantNext: time.Date(2026, 6, 6, 0, 0, 0, 0, newYork),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openStore(t, t.TempDir())
			activateCadence(t, db)
			a := dueAccount("A-1", 1)
			// The account's upsert marks it due; promises need it stored first.
			require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{a}, t0.Add(-time.Minute)))
			if tc.prepare != nil {
				tc.prepare(t, db, &a)
				require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{a}, t0.Add(-time.Minute)))
			}
			clock := nudge.NewFixedClock(t0)
			enq := newRecordingEnqueuer()
			p := newPlanner(db, clock, enq)

			st, err := p.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, tc.want, st)
			if tc.wantEnqueuedAt != nil {
				require.Equal(t, []time.Time{tc.wantEnqueuedAt.UTC()}, utc(enq.at(dueStep)))
				r, err := db.GetReminder(ctx, dueStep)
				require.NoError(t, err)
				require.Equal(t, tc.wantStatus, r.Status)
				require.Equal(t, tc.wantReason, r.Reason)
				require.Equal(t, tc.wantEnqueuedAt.UTC(), r.NextAt.UTC())
			} else {
				rs, err := db.ListReminders(ctx, testLender, a.ID)
				require.NoError(t, err)
				require.Empty(t, rs)
			}
			// The account is next due at wantNext: not a second before.
			if tc.wantNext.IsZero() {
				require.False(t, isDue(t, db, a.ID, t0.AddDate(1, 0, 0)), "the account is never due again")
			} else {
				require.False(t, isDue(t, db, a.ID, tc.wantNext.Add(-time.Second)))
				require.True(t, isDue(t, db, a.ID, tc.wantNext))
			}

			// A tick a minute later finds nothing to do: the account is not
			// due and nothing is enqueued twice.
			before := enq.count()
			clock.Advance(time.Minute)
			st, err = p.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, schedules.TickStats{}, st)
			require.Equal(t, before, enq.count())
		})
	}
}

func ptr[T any](v T) *T { return &v }

// isDue reports whether the account is among those due at at.
func isDue(t *testing.T, db *store.DB, id string, at time.Time) bool {
	t.Helper()
	due, err := db.DueAccounts(context.Background(), at, 100)
	require.NoError(t, err)
	for _, a := range due {
		if a.ID == id {
			return true
		}
	}
	return false
}

func utc(ts []time.Time) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.UTC()
	}
	return out
}

// TestPlannerDowntimeExpiresMissedSteps stops the scheduler for two days:
// on its return the step whose whole day it missed is recorded expired
// (from the account's next action, not sent late), and the reminder left
// open on the queue is expired by the catch-up.
func TestPlannerDowntimeExpiresMissedSteps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	activateCadence(t, db)
	a := dueAccount("A-1", 1)
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{a}, t0.Add(-time.Minute)))
	clock := nudge.NewFixedClock(t0)
	enq := newRecordingEnqueuer()
	p := newPlanner(db, clock, enq)
	st, err := p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, schedules.TickStats{Accounts: 1, Planned: 1, Enqueued: 1}, st)

	clock.Set(t0.Add(48 * time.Hour))
	st, err = p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, schedules.TickStats{Accounts: 1, Expired: 2}, st)
	require.Equal(t, 1, enq.count(), "nothing is enqueued late")
	rs, err := db.ListReminders(ctx, testLender, a.ID)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	for _, r := range rs {
		require.Equal(t, nudge.ReminderExpired, r.Status, "step %s", r.Key.Step)
		require.Equal(t, nudge.ReasonExpired, r.Reason, "step %s", r.Key.Step)
	}
}

// TestPlannersOnTwoHandlesPlanOnce runs two planners, each with its own
// connection to the same database as two scheduler processes would have,
// at the same instant: every reminder is planned and enqueued by one of them.
func TestPlannersOnTwoHandlesPlanOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db1, db2 := openStore(t, dir), openStore(t, dir)
	activateCadence(t, db1)
	const n = 60
	accts := dueAccounts("A", n)
	require.NoError(t, db1.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))

	clock := nudge.NewFixedClock(t0)
	enqs := []*recordingEnqueuer{newRecordingEnqueuer(), newRecordingEnqueuer()}
	planners := []*schedules.Planner{newPlanner(db1, clock, enqs[0]), newPlanner(db2, clock, enqs[1])}
	stats := make([]schedules.TickStats, len(planners))
	errs := make([]error, len(planners))
	var wg sync.WaitGroup
	for i, p := range planners {
		wg.Go(func() { stats[i], errs[i] = p.Tick(ctx) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Equal(t, n, stats[0].Planned+stats[1].Planned, "stats: %+v", stats)
	require.Equal(t, n, enqs[0].count()+enqs[1].count())
	counts, err := db1.CountRemindersByStatus(ctx, testLender)
	require.NoError(t, err)
	require.Equal(t, map[nudge.ReminderStatus]int{nudge.ReminderQueued: n}, counts)
	for _, a := range accts {
		id := nudge.ReminderKey{Lender: testLender, AccountID: a.ID, Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID()
		require.Len(t, append(enqs[0].at(id), enqs[1].at(id)...), 1, "reminder %s", id)
	}
}

// TestPlannerTickReadsOnlyDueAccounts checks that a tick's cost follows what
// is due, not the size of the portfolio, by counting the account rows the
// store reads.
func TestPlannerTickReadsOnlyDueAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	activateCadence(t, db)
	const due = 100
	idle := make([]nudge.Account, 0, portfolioSize-due)
	for i := range portfolioSize - due {
		idle = append(idle, nudge.Account{ID: fmt.Sprintf("I-%06d", i), Lender: testLender, Portfolio: "auto",
			Currency: "USD", AmountDue: "100.00", DueDate: today.AddDays(20), Status: nudge.StatusActive})
	}
	// Marked for planning tomorrow: not due at t0.
	require.NoError(t, db.UpsertAccounts(ctx, idle, t0.Add(24*time.Hour)))
	dueAccts := dueAccounts("D", due)
	require.NoError(t, db.UpsertAccounts(ctx, dueAccts, t0.Add(-time.Minute)))

	enq := newRecordingEnqueuer()
	p := newPlanner(db, nudge.NewFixedClock(t0), enq)
	before := db.RowsRead()
	st, err := p.Tick(ctx)
	require.NoError(t, err)
	read := db.RowsRead() - before
	require.Equal(t, due, st.Accounts)
	require.Equal(t, due, st.Planned)
	require.Equal(t, due, enq.count())
	require.GreaterOrEqual(t, read, int64(due))
	require.LessOrEqual(t, read, int64(2*due), "a tick over %d accounts with %d due read %d account rows", portfolioSize, due, read)

	// The next tick finds nothing due and reads nothing.
	before = db.RowsRead()
	st, err = p.Tick(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Accounts)
	require.Zero(t, db.RowsRead()-before)
}

// testRedis returns a client on an empty Redis database: the server at
// NUDGE_TEST_REDIS_ADDR (database redisTestDB, flushed before and after)
// or a fresh miniredis.
func testRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	ctx := context.Background()
	if addr := os.Getenv("NUDGE_TEST_REDIS_ADDR"); addr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: redisTestDB})
		require.NoError(t, rdb.Ping(ctx).Err(), "NUDGE_TEST_REDIS_ADDR=%s is set but Redis does not answer", addr)
		require.NoError(t, rdb.FlushDB(ctx).Err())
		t.Cleanup(func() {
			_ = rdb.FlushDB(context.Background()).Err()
			_ = rdb.Close()
		})
		return rdb
	}
	if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_REDIS_ADDR is not set")
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// taskState returns the state of the reminder's task on the SMS queue, or
// ok=false when there is none.
func taskState(t *testing.T, ins *asynq.Inspector, id string) (asynq.TaskState, bool) {
	t.Helper()
	info, err := ins.GetTaskInfo(dispatcher.QueueSMS+":"+testLender, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return 0, false
	}
	require.NoError(t, err)
	return info.State, true
}

// TestPlannerCatchUpAfterRedisFlush loses the queue in the middle of a run:
// the reminders the ledger still holds open are put back on the queue once
// they are CatchUpGrace late and reach a worker, a finished one does not,
// and those whose moment has passed are expired instead. (After the flush
// the re-enqueued tasks are observed through a worker rather than the
// Inspector: Asynq's client registers a queue in Redis only the first time
// it uses it, so the Inspector does not see the queue again.)
func TestPlannerCatchUpAfterRedisFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	activateCadence(t, db)
	rdb := testRedis(t)
	clock := nudge.NewFixedClock(t0)
	enq := dispatcher.NewEnqueuer(rdb, dispatcher.EnqueuerConfig{Clock: clock})
	ins := enq.Inspector()
	p := newPlanner(db, clock, enq)
	p.CatchUpGrace = time.Minute
	reg := metrics.New(nil)
	p.Metrics = reg

	const n = 3
	ids := make([]string, n)
	accts := make([]nudge.Account, n)
	for i := range accts {
		accts[i] = dueAccount(fmt.Sprintf("F-%d", i), i)
		ids[i] = nudge.ReminderKey{Lender: testLender, AccountID: accts[i].ID, Cadence: cadenceName, Step: "due-sms", Cycle: today}.ID()
	}
	require.NoError(t, db.UpsertAccounts(ctx, accts, t0.Add(-time.Minute)))
	st, err := p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, n, st.Enqueued)
	for _, id := range ids {
		state, ok := taskState(t, ins, id)
		require.True(t, ok, "task %s is queued", id)
		require.Equal(t, asynq.TaskStatePending, state)
	}
	// A worker finishes the first reminder; then the queue is lost.
	require.NoError(t, db.SetReminderStatus(ctx, ids[0], nudge.ReminderSent, nudge.ReasonNone, time.Time{}, t0.Add(time.Second)))
	require.NoError(t, rdb.FlushDB(ctx).Err())
	for _, id := range ids {
		_, ok := taskState(t, ins, id)
		require.False(t, ok, "task %s is gone with the queue", id)
	}

	// A worker runs from now on and records the reminders it is handed.
	got := runRecordingWorker(t, rdb)

	steps := []struct {
		name    string
		advance time.Duration
		want    schedules.TickStats
		status  []nudge.ReminderStatus
	}{
		{
			name: "within the grace nothing is re-enqueued", advance: 30 * time.Second,
			status: []nudge.ReminderStatus{nudge.ReminderSent, nudge.ReminderQueued, nudge.ReminderQueued},
		},
		{
			name: "past the grace the open reminders are re-enqueued", advance: 45 * time.Second,
			want:   schedules.TickStats{CaughtUp: n - 1},
			status: []nudge.ReminderStatus{nudge.ReminderSent, nudge.ReminderQueued, nudge.ReminderQueued},
		},
		{
			name: "a re-enqueued reminder waits another grace", advance: 10 * time.Second,
			status: []nudge.ReminderStatus{nudge.ReminderSent, nudge.ReminderQueued, nudge.ReminderQueued},
		},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		st, err := p.Tick(ctx)
		require.NoError(t, err, s.name)
		require.Equal(t, s.want, st, s.name)
		for i, id := range ids {
			r, err := db.GetReminder(ctx, id)
			require.NoError(t, err)
			require.Equal(t, s.status[i], r.Status, "%s: reminder %d", s.name, i)
		}
	}
	// The worker is handed each open reminder once, and never the finished one.
	require.Eventually(t, func() bool { return len(got.ids()) == n-1 }, 15*time.Second, 20*time.Millisecond,
		"the worker got %v", got.ids())
	require.ElementsMatch(t, ids[1:], got.ids())

	// The queue is lost again and nobody runs until after midnight in New
	// York: the reminders' day is over, so they are expired, not sent late.
	require.NoError(t, rdb.FlushDB(ctx).Err())
	clock.Set(time.Date(2026, 6, 3, 1, 0, 0, 0, newYork))
	st, err = p.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, schedules.TickStats{Expired: n - 1}, st)
	for _, id := range ids[1:] {
		r, err := db.GetReminder(ctx, id)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderExpired, r.Status)
		require.Equal(t, nudge.ReasonExpired, r.Reason)
	}
	require.ElementsMatch(t, ids[1:], got.ids(), "nothing more was enqueued")
	// An operator's dashboard sees both catch-ups.
	require.Equal(t, map[string]float64{"requeued": n - 1, "expired": n - 1}, caughtUp(t, reg))
}

// caughtUp returns nudge_caught_up_total by outcome.
func caughtUp(t *testing.T, reg *metrics.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gatherer().Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != metrics.Namespace+"_caught_up_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// received records the reminder ids a worker was handed.
type received struct {
	mu   sync.Mutex
	list []string
}

func (r *received) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.list...)
}

// runRecordingWorker runs an Asynq worker over rdb, until the test ends,
// that records the reminder of every task it is handed.
func runRecordingWorker(t *testing.T, rdb redis.UniversalClient) *received {
	t.Helper()
	got := &received{}
	h := asynq.HandlerFunc(func(_ context.Context, task *asynq.Task) error {
		pl, err := dispatcher.ParsePayload(task.Payload())
		if err != nil {
			return err
		}
		got.mu.Lock()
		got.list = append(got.list, pl.ReminderID)
		got.mu.Unlock()
		return nil
	})
	srv := dispatcher.NewServer(rdb, h, dispatcher.ServerConfig{
		Concurrency: 2, ShutdownTimeout: time.Second, DelayedTaskCheckInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return got
}
