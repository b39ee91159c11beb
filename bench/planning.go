package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/schedules"
)

// PlanningResult is one portfolio size's planning measurement.
type PlanningResult struct {
	// Accounts is the portfolio size.
	Accounts int `json:"accounts"`
	// Due is how many accounts were due in each tick.
	Due int `json:"due"`
	// Load is how long loading the accounts added for this size took (not
	// counted in the tick).
	Load time.Duration `json:"load"`
	// Tick is the median wall time of one tick.
	Tick time.Duration `json:"tick"`
	// RowsRead is the median number of account rows one tick read.
	RowsRead int64 `json:"rows_read"`
	// Planned is the median number of reminders a tick planned and enqueued.
	Planned int `json:"planned"`
	// Large is the tick in which a tenth of the portfolio came due at once;
	// it is measured at the largest size only (nil at the others).
	Large *LargeTick `json:"large,omitempty"`
}

// PlanningRateTarget is the least rate, in reminders planned and enqueued
// per second, the large tick must reach: 100,000 due reminders in 30 s.
const PlanningRateTarget = 100_000.0 / 30

// LargeTickShare is the share of the portfolio that comes due in the large
// tick: one account in LargeTickShare (100,000 of 1,000,000).
const LargeTickShare = 10

// LargeTick is one tick in which many accounts came due at once, beside the
// time the same Enqueuer takes to put as many stand-in tasks on the queue
// with the same concurrency and no database.
type LargeTick struct {
	// Due is how many accounts were due.
	Due int `json:"due"`
	// Load is how long making them due took (not counted in the tick).
	Load time.Duration `json:"load"`
	// Tick is the tick's wall time.
	Tick time.Duration `json:"tick"`
	// RowsRead is how many account rows the tick read.
	RowsRead int64 `json:"rows_read"`
	// Planned is how many reminders the tick planned and enqueued.
	Planned int `json:"planned"`
	// Concurrency is schedules.Planner.Concurrency in the tick and the
	// number of goroutines of the enqueue ceiling.
	Concurrency int `json:"concurrency"`
	// Enqueue is how long enqueuing Due stand-in tasks took.
	Enqueue time.Duration `json:"enqueue"`
	// SelfCPU, RedisCPU and PostgresCPU are the CPU time the tick took in
	// the bench process, the Redis server and the PostgreSQL backends of the
	// bench database (zero on SQLite), per reminder planned.
	SelfCPU     time.Duration `json:"self_cpu_per_reminder"`
	RedisCPU    time.Duration `json:"redis_cpu_per_reminder"`
	PostgresCPU time.Duration `json:"postgres_cpu_per_reminder"`
	// CaughtUp is how many reminders the catch-up put back on the queue
	// after it was flushed (every reminder planned in the run), CatchUp the
	// wall time of its ticks and CatchUpTicks how many ticks it took.
	CaughtUp     int           `json:"caught_up"`
	CatchUp      time.Duration `json:"catch_up"`
	CatchUpTicks int           `json:"catch_up_ticks"`
}

// CatchUpPerSecond is how many reminders the catch-up re-enqueued per
// second of its ticks.
func (t LargeTick) CatchUpPerSecond() float64 { return rate(t.CaughtUp, t.CatchUp) }

// PerSecond is how many reminders the tick planned and enqueued per second.
func (t LargeTick) PerSecond() float64 { return rate(t.Planned, t.Tick) }

// EnqueuePerSecond is the concurrent enqueue rate of the stand-in tasks.
func (t LargeTick) EnqueuePerSecond() float64 { return rate(t.Due, t.Enqueue) }

// PerSecond is how many reminders a tick planned and enqueued per second.
func (r PlanningResult) PerSecond() float64 { return rate(r.Planned, r.Tick) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// measurePlanning grows one portfolio through cfg.Sizes and, at each size,
// measures cfg.Repeat ticks that each find cfg.Due fresh accounts due. Idle
// accounts are next due years from now, as a real portfolio's accounts sit
// between their steps; the reminders go to the real Asynq queues.
func measurePlanning(ctx context.Context, e *env) ([]PlanningResult, error) {
	cfg := e.cfg
	enq := dispatcher.NewEnqueuer(e.rdb, dispatcher.EnqueuerConfig{Clock: e.clock})
	p := &schedules.Planner{
		Store: e.db, Cadences: e.lib, Enqueuer: enq, Clock: e.clock, Logger: cfg.Logger,
		// Earlier ticks' reminders stay queued (nothing works them off):
		// catching them up is not what this measures.
		CatchUpGrace: idleHorizon,
		Concurrency:  cfg.PlanConcurrency,
	}
	today := nudge.DateOf(e.clock.Now())
	var (
		out    []PlanningResult
		loaded int
	)
	for _, size := range cfg.Sizes {
		began := time.Now()
		for loaded < size-cfg.Due {
			n := min(cfg.LoadChunk, size-cfg.Due-loaded)
			chunk := make([]nudge.Account, n)
			for i := range chunk {
				chunk[i] = account(e.lender, fmt.Sprintf("I-%07d", loaded+i), loaded+i, today.AddDays(20))
			}
			if err := e.db.UpsertAccounts(ctx, chunk, e.clock.Now().Add(idleHorizon)); err != nil {
				return nil, fmt.Errorf("loading portfolio of %d: %w", size, err)
			}
			loaded += n
			// Every tenfold growth, and at the end, refresh the statistics.
			if loaded%(10*cfg.LoadChunk) == 0 || loaded == size-cfg.Due {
				if err := e.analyze(ctx); err != nil {
					return nil, err
				}
			}
		}
		res := PlanningResult{Accounts: size, Due: cfg.Due, Load: time.Since(began)}
		fmt.Fprintf(cfg.Progress, "planning: %d accounts loaded in %s\n", size, res.Load.Round(time.Millisecond))
		var (
			ticks   []time.Duration
			rows    []int64
			planned []int
		)
		for r := range cfg.Repeat {
			due := make([]nudge.Account, cfg.Due)
			for i := range due {
				due[i] = account(e.lender, fmt.Sprintf("D-%07d-%d-%05d", size, r, i), i, today)
			}
			if err := e.db.UpsertAccounts(ctx, due, e.clock.Now().Add(-time.Minute)); err != nil {
				return nil, fmt.Errorf("making %d accounts due: %w", cfg.Due, err)
			}
			before := e.db.RowsRead()
			start := time.Now()
			st, err := p.Tick(ctx)
			elapsed := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("tick over %d accounts: %w", size, err)
			}
			if st.Planned != cfg.Due || st.Enqueued != cfg.Due {
				return nil, fmt.Errorf("tick over %d accounts planned %d and enqueued %d reminders, want %d", size, st.Planned, st.Enqueued, cfg.Due)
			}
			ticks, rows, planned = append(ticks, elapsed), append(rows, e.db.RowsRead()-before), append(planned, st.Planned)
			fmt.Fprintf(cfg.Progress, "planning: tick over %d accounts, %d due: %s, %d rows read\n", size, cfg.Due, elapsed.Round(time.Millisecond), rows[len(rows)-1])
		}
		res.Tick, res.RowsRead, res.Planned = median(ticks), median(rows), median(planned)
		out = append(out, res)
	}
	if n := len(out); n > 0 {
		large, err := measureLargeTick(ctx, e, p, min(cfg.Sizes[n-1]/LargeTickShare, loaded))
		if err != nil {
			return nil, err
		}
		out[n-1].Large = &large
	}
	return out, e.flush(ctx)
}

// measureLargeTick makes the first due idle accounts of the portfolio due
// today (their due date moves to today, so each has one step to plan),
// measures one tick over them, and then enqueues as many stand-in tasks
// through the same Enqueuer, Concurrency at a time, as the ceiling.
func measureLargeTick(ctx context.Context, e *env, p *schedules.Planner, due int) (LargeTick, error) {
	cfg := e.cfg
	res := LargeTick{Due: due, Concurrency: max(p.Concurrency, 1)}
	today := nudge.DateOf(e.clock.Now())
	began := time.Now()
	for start := 0; start < due; start += cfg.LoadChunk {
		chunk := make([]nudge.Account, min(cfg.LoadChunk, due-start))
		for i := range chunk {
			chunk[i] = account(e.lender, fmt.Sprintf("I-%07d", start+i), start+i, today)
		}
		if err := e.db.UpsertAccounts(ctx, chunk, e.clock.Now().Add(-time.Minute)); err != nil {
			return res, fmt.Errorf("making %d accounts due: %w", due, err)
		}
	}
	if err := e.analyze(ctx); err != nil {
		return res, err
	}
	res.Load = time.Since(began)
	before, cpu, dbCPU := e.db.RowsRead(), takeCPU(ctx, e.rdb), e.databaseCPU(ctx)
	start := time.Now()
	st, err := p.Tick(ctx)
	res.Tick = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("large tick over %d due accounts: %w", due, err)
	}
	used := takeCPU(ctx, e.rdb).since(cpu)
	n := time.Duration(max(st.Planned, 1))
	res.SelfCPU, res.RedisCPU, res.PostgresCPU = used.self/n, used.redis/n, (e.databaseCPU(ctx)-dbCPU)/n
	res.RowsRead, res.Planned = e.db.RowsRead()-before, st.Planned
	if st.Planned != due || st.Enqueued != due {
		return res, fmt.Errorf("large tick planned %d and enqueued %d reminders, want %d", st.Planned, st.Enqueued, due)
	}
	fmt.Fprintf(cfg.Progress, "planning: large tick, %d of the portfolio due: %s, %d rows read\n", due, res.Tick.Round(time.Millisecond), res.RowsRead)
	if res.Enqueue, err = enqueueConcurrently(ctx, e, due, res.Concurrency); err != nil {
		return res, err
	}
	fmt.Fprintf(cfg.Progress, "planning: %d stand-in tasks enqueued %d at a time in %s\n", due, res.Concurrency, res.Enqueue.Round(time.Millisecond))
	res.CaughtUp, res.CatchUp, res.CatchUpTicks, err = measureCatchUp(ctx, e, p)
	return res, err
}

// measureCatchUp flushes the queue, as a lost Redis would, and times the
// ticks of a scheduler whose clock is past the catch-up grace until every
// reminder the planning ticks queued is back on the queue. It returns how
// many it re-enqueued, in how long and in how many ticks (a scheduler ticks
// once a minute).
func measureCatchUp(ctx context.Context, e *env, p *schedules.Planner) (int, time.Duration, int, error) {
	if err := e.flush(ctx); err != nil {
		return 0, 0, 0, err
	}
	counts, err := e.db.CountRemindersByStatus(ctx, e.lender)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("catch-up: %w", err)
	}
	want := counts[nudge.ReminderQueued]
	late := *p
	late.CatchUpGrace = schedules.DefaultCatchUpGrace
	late.Clock = nudge.ClockFunc(func() time.Time { return e.clock.Now().Add(schedules.DefaultCatchUpGrace + time.Minute) })
	var (
		caught, ticks int
		took          time.Duration
	)
	for caught < want {
		start := time.Now()
		st, err := late.Tick(ctx)
		took += time.Since(start)
		ticks++
		if err != nil {
			return caught, took, ticks, fmt.Errorf("catch-up tick: %w", err)
		}
		if st.CaughtUp == 0 || st.Planned != 0 || st.Expired != 0 {
			return caught, took, ticks, fmt.Errorf("catch-up tick %d re-enqueued %d reminders (planned %d, expired %d); %d of %d so far",
				ticks, st.CaughtUp, st.Planned, st.Expired, caught, want)
		}
		caught += st.CaughtUp
	}
	fmt.Fprintf(e.cfg.Progress, "planning: the queue flushed, %d catch-up tick(s) re-enqueued %d reminders in %s\n", ticks, caught, took.Round(time.Millisecond))
	return caught, took, ticks, nil
}

// enqueueConcurrently puts n stand-in reminders (no ledger rows) on the SMS
// queue through the product's Enqueuer from workers goroutines, and returns
// how long it took.
func enqueueConcurrently(ctx context.Context, e *env, n, workers int) (time.Duration, error) {
	enq := dispatcher.NewEnqueuer(e.rdb, dispatcher.EnqueuerConfig{Clock: e.clock})
	now := e.clock.Now()
	ids := make(chan int)
	errs := make(chan error, workers)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range ids {
				r := nudge.Reminder{Key: nudge.ReminderKey{Lender: e.lender, AccountID: fmt.Sprintf("E-%07d", i), Cadence: "enqueue-ceiling",
					Step: "due-sms", Cycle: nudge.DateOf(now)}, Channel: nudge.SMS}
				r.ID = r.Key.ID()
				if err := enq.Enqueue(ctx, r, now); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case ids <- i:
		case err = <-errs:
			break feed
		}
	}
	close(ids)
	wg.Wait()
	elapsed := time.Since(start)
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		return elapsed, fmt.Errorf("enqueue ceiling: %w", err)
	}
	return elapsed, nil
}

// median returns the middle value of vs (the upper one of an even count).
func median[T int | int64 | time.Duration | float64](vs []T) T {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}

// databaseCPU is the CPU time used so far by the PostgreSQL backends
// connected to the bench database (zero on SQLite): unlike the server's
// total, it leaves out other users of a shared server.
func (e *env) databaseCPU(ctx context.Context) time.Duration {
	if e.pg == nil {
		return 0
	}
	rows, err := e.pg.QueryContext(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return 0
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			total += pidCPU(pid)
		}
	}
	if rows.Err() != nil {
		return 0
	}
	return total
}

// largeTickRow is the results row of the large tick over a portfolio of
// accounts accounts.
func largeTickRow(accounts int, l LargeTick) Row {
	v, enq := l.PerSecond(), l.EnqueuePerSecond()
	return Row{
		Measure: fmt.Sprintf("planning %s accounts, %s due: reminders planned+enqueued/s", size(accounts), size(l.Due)),
		Result:  fmt.Sprintf("%s (%s)", perSec(v), dur(l.Tick)),
		Ceiling: fmt.Sprintf("Asynq enqueue ×%d %s", l.Concurrency, perSec(enq)), Ratio: ratioText(ratio(v, enq)),
		Target: fmt.Sprintf("≥ %s (100k in 30 s)", perSec(PlanningRateTarget)), Verdict: verdict(v >= PlanningRateTarget),
	}
}

// writePlanning writes the report's planning section.
func (r *Report) writePlanning(b *strings.Builder) {
	b.WriteString("\n## Planning\n\n")
	fmt.Fprintf(b, "One portfolio grows through the sizes; idle accounts are next due years ahead. Each tick finds %d fresh accounts\n"+
		"due (one SMS reminder each) and plans them set-based, %d accounts a batch (`schedules.Planner.Batch`), %d batches at\n"+
		"once (`schedules.Planner.Lanes`): one read of the batch (accounts with contacts and holds, then promises), one\n"+
		"transaction that inserts the reminders with their events and sets every account's next action, then the\n"+
		"enqueues on the real Asynq queues, %d at a time (`schedules.Planner.Concurrency`). The median of %d ticks is shown.\n"+
		"Loading (UpsertAccounts in chunks of %d, then ANALYZE on PostgreSQL) is timed apart and not counted. Rows read is\n"+
		"`store.DB.RowsRead()` (account rows).\n",
		r.Config.Due, schedules.DefaultBatch, schedules.DefaultLanes, r.Config.PlanConcurrency, r.Config.Repeat, r.Config.LoadChunk)
	if n := len(r.Planning); n > 0 && r.Planning[n-1].Large != nil {
		fmt.Fprintf(b, "\nAt the largest size one more tick finds a tenth of the portfolio due (the first idle accounts, their due\n"+
			"date moved to today); its ceiling is the same Enqueuer putting as many stand-in tasks on the queue from\n"+
			"%d goroutines, without the database.\n", r.Planning[n-1].Large.Concurrency)
	}
	b.WriteString("\n| Accounts | Due | Load (not counted) | Tick wall | Rows read | Planned | Planned+enqueued/s |\n|---|---|---|---|---|---|---|\n")
	for _, p := range r.Planning {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %d | %s |\n", size(p.Accounts), size(p.Due), dur(p.Load), dur(p.Tick), p.RowsRead, p.Planned, perSec(p.PerSecond()))
	}
	if n := len(r.Planning); n > 0 && r.Planning[n-1].Large != nil {
		l := r.Planning[n-1].Large
		fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %d | %s |\n", size(r.Planning[n-1].Accounts), size(l.Due), dur(l.Load), dur(l.Tick), l.RowsRead, l.Planned, perSec(l.PerSecond()))
		fmt.Fprintf(b, "\nEnqueue ceiling: %d stand-in tasks from %d goroutines in %s (%s).\n", l.Due, l.Concurrency, dur(l.Enqueue), perSec(l.EnqueuePerSecond()))
		if l.CaughtUp > 0 {
			fmt.Fprintf(b, "\nA lost queue: the Redis database flushed after that, a scheduler a minute past the catch-up grace\n"+
				"(`schedules.DefaultCatchUpGrace`) put all %d queued reminders back on it in %d tick(s) taking %s (%s), a page\n"+
				"of %d at a time.\n", l.CaughtUp, l.CatchUpTicks, dur(l.CatchUp), perSec(l.CatchUpPerSecond()), schedules.DefaultBatch)
		}
		cpu := l.SelfCPU + l.RedisCPU + l.PostgresCPU
		fmt.Fprintf(b, "\nCPU per reminder in the large tick: bench process %s, Redis %s (the whole server), PostgreSQL %s (the\n"+
			"backends of the bench database); %s in all, so %d idle cores would plan and enqueue about %s.\n",
			dur(l.SelfCPU), dur(l.RedisCPU), dur(l.PostgresCPU), dur(cpu), r.Machine.Cores, perSec(float64(r.Machine.Cores)/max(cpu.Seconds(), 1e-9)))
	}
}
