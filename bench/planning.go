package bench

import (
	"context"
	"fmt"
	"slices"
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
}

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
	return out, e.flush(ctx)
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
