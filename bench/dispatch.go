package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
)

// WorkerRun is one run of the worker over a full queue.
type WorkerRun struct {
	// Done is how many tasks the handler finished without error.
	Done int `json:"done"`
	// Failed is how many handler calls returned an error.
	Failed int `json:"failed"`
	// Elapsed is the time from the servers' start to the last task done.
	Elapsed time.Duration `json:"elapsed"`
	// PeakRSS is this process's peak resident memory during the run, in bytes.
	PeakRSS int64 `json:"peak_rss"`
	// CPU per task done: this process, Redis, and the PostgreSQL backends
	// connected to the bench database (zero on SQLite; other users of a
	// shared server are left out).
	SelfCPU     time.Duration `json:"self_cpu_per_task"`
	RedisCPU    time.Duration `json:"redis_cpu_per_task"`
	PostgresCPU time.Duration `json:"postgres_cpu_per_task"`
}

// PerSecond is the tasks done per second.
func (r WorkerRun) PerSecond() float64 { return rate(r.Done, r.Elapsed) }

// DispatchResult compares the full pipeline with a do-nothing handler.
type DispatchResult struct {
	Reminders   int `json:"reminders"`
	Concurrency int `json:"concurrency"`
	Servers     int `json:"servers"`
	// Enqueue is how long enqueuing the raw tasks one by one took.
	Enqueue time.Duration `json:"enqueue"`
	// Raw is the do-nothing handler's run; Pipeline the full pipeline's.
	Raw      WorkerRun `json:"raw"`
	Pipeline WorkerRun `json:"pipeline"`
	// Sent is how many reminders the database holds as sent afterwards.
	Sent int `json:"sent"`
	// Calls says where a reminder's time went, most expensive first.
	Calls []StoreCall `json:"calls"`
	// Transactions, Writes and WALSyncs are PostgreSQL's committed
	// transactions (read-only ones included: each statement outside a
	// transaction is one), write transactions (transaction ids assigned) and
	// WAL flushes to disk (what a durable commit waits for; concurrent
	// commits share one) per reminder during the pipeline run; zero on
	// SQLite.
	Transactions float64 `json:"transactions_per_reminder"`
	Writes       float64 `json:"write_transactions_per_reminder"`
	WALSyncs     float64 `json:"wal_syncs_per_reminder"`
	// RoundTrips is the store's round trips to the database per reminder
	// (store.DB.RoundTrips: statements, read batches, begins and commits).
	RoundTrips float64 `json:"round_trips_per_reminder"`
	// ProviderIDs are the ids the provider gave the sent messages.
	ProviderIDs []string `json:"-"`
}

// EnqueuePerSecond is the sequential Asynq enqueue rate through the Enqueuer.
func (r DispatchResult) EnqueuePerSecond() float64 { return rate(r.Reminders, r.Enqueue) }

// instantSender accepts every message at once and remembers the ids it gave.
type instantSender struct {
	mu  sync.Mutex
	ids []string
}

// Send implements nudge.Sender.
func (s *instantSender) Send(_ context.Context, _ *nudge.Message) (nudge.SendResult, error) {
	id := nextSID()
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
	return nudge.SendResult{ProviderID: id, Status: nudge.AttemptSent}, nil
}

// measureDispatch works off cfg.Dispatch tasks twice on the same Redis with
// the same servers and concurrency: first stand-in tasks with a handler that
// does nothing (the raw Asynq rate), then real reminders, planned for fresh
// due accounts, through the full pipeline over the database.
func measureDispatch(ctx context.Context, e *env) (DispatchResult, error) {
	cfg := e.cfg
	n := cfg.Dispatch
	res := DispatchResult{Reminders: n, Concurrency: cfg.Concurrency, Servers: cfg.Servers}
	if err := e.flush(ctx); err != nil {
		return res, err
	}
	var err error
	if res.Enqueue, err = enqueueRaw(ctx, e, n); err != nil {
		return res, fmt.Errorf("enqueue raw tasks: %w", err)
	}
	fmt.Fprintf(cfg.Progress, "dispatch: %d raw tasks enqueued in %s\n", n, res.Enqueue.Round(time.Millisecond))
	noop := asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return nil })
	if res.Raw, err = runWorkers(ctx, e, noop, n, ""); err != nil {
		return res, fmt.Errorf("raw run: %w", err)
	}
	fmt.Fprintf(cfg.Progress, "dispatch: raw Asynq %d tasks in %s (%.0f/s)\n", res.Raw.Done, res.Raw.Elapsed.Round(time.Millisecond), res.Raw.PerSecond())
	if err := e.flush(ctx); err != nil {
		return res, err
	}

	if err := planDispatch(ctx, e, n); err != nil {
		return res, err
	}
	ts := newTimedStore(e.db)
	pipe, sender, err := newPipeline(e, ts)
	if err != nil {
		return res, err
	}
	stopAnalyze := e.autoAnalyze(ctx)
	commitsBefore := e.commitCounters(ctx)
	tripsBefore := e.db.RoundTrips()
	res.Pipeline, err = runWorkers(ctx, e, pipe, n, cfg.CPUProfile)
	stopAnalyze()
	if err != nil {
		return res, fmt.Errorf("pipeline run: %w", err)
	}
	done := float64(max(res.Pipeline.Done, 1))
	res.RoundTrips = float64(e.db.RoundTrips()-tripsBefore) / done
	if e.pg != nil {
		res.Transactions, res.Writes, res.WALSyncs = commitsBefore.per(e.commitCounters(ctx), done)
	}
	fmt.Fprintf(cfg.Progress, "dispatch: pipeline %d reminders in %s (%.0f/s; %.1f round trips, %.2f write transactions of %.1f and %.2f WAL syncs per reminder)\n",
		res.Pipeline.Done, res.Pipeline.Elapsed.Round(time.Millisecond), res.Pipeline.PerSecond(), res.RoundTrips, res.Writes, res.Transactions, res.WALSyncs)
	counts, err := e.db.CountRemindersByStatus(ctx, e.lender)
	if err != nil {
		return res, err
	}
	res.Sent = counts[nudge.ReminderSent]
	res.Calls = ts.breakdown(max(res.Pipeline.Done, 1))
	sender.mu.Lock()
	res.ProviderIDs = append([]string(nil), sender.ids...)
	sender.mu.Unlock()
	return res, e.flush(ctx)
}

// planDispatch stores n fresh accounts with one SMS reminder each, due now,
// and enqueues the reminders as the planner would. The reminders are written
// in batches rather than through a planning tick: planning is measured on
// its own, and this keeps the setup short.
func planDispatch(ctx context.Context, e *env, n int) error {
	now := e.clock.Now()
	today := nudge.DateOf(now)
	cads, err := e.lib.Cadences(ctx, e.lender)
	if err != nil || len(cads) == 0 {
		return fmt.Errorf("dispatch reminders: the bench cadence is not active: %w", err)
	}
	enq := dispatcher.NewEnqueuer(e.rdb, dispatcher.EnqueuerConfig{Clock: e.clock})
	start := time.Now()
	if err := storeDue(ctx, e, enq, cads[0], now, n, "dispatch", func(k int) nudge.Account {
		return account(e.lender, fmt.Sprintf("X-%07d", k), k, today)
	}); err != nil {
		return err
	}
	fmt.Fprintf(e.cfg.Progress, "dispatch: %d reminders stored and enqueued in %s\n", n, time.Since(start).Round(time.Millisecond))
	// As autovacuum would have by the time a real queue is worked off.
	return e.analyze(ctx)
}

// storeDue stores n accounts made by account (k from 0), idle after this
// reminder so that the planner never picks them up, each with one SMS
// reminder of the cadence's due-sms step due now, in chunks of LoadChunk,
// and enqueues the reminders; what names the run in errors.
func storeDue(ctx context.Context, e *env, enq *dispatcher.Enqueuer, cad schedules.Versioned, now time.Time, n int, what string,
	account func(k int) nudge.Account) error {
	for first := 0; first < n; first += e.cfg.LoadChunk {
		chunk := make([]nudge.Account, min(e.cfg.LoadChunk, n-first))
		rs := make([]nudge.Reminder, len(chunk))
		for i := range chunk {
			a := account(first + i)
			chunk[i] = a
			rs[i] = nudge.Reminder{
				Key:            nudge.ReminderKey{Lender: a.Lender, AccountID: a.ID, Cadence: cad.Name, Step: "due-sms", Cycle: a.DueDate},
				CadenceVersion: cad.Version, Channel: nudge.SMS, Template: "due_sms",
				DueAt: now.Add(-time.Minute), ExpiresAt: now.Add(12 * time.Hour), CreatedAt: now,
			}
		}
		if err := e.db.UpsertAccounts(ctx, chunk, now.Add(idleHorizon)); err != nil {
			return fmt.Errorf("%s accounts: %w", what, err)
		}
		inserted, err := e.db.InsertReminders(ctx, rs)
		if err != nil {
			return fmt.Errorf("%s reminders: %w", what, err)
		}
		if len(inserted) != len(rs) {
			return fmt.Errorf("%s reminders: inserted %d of %d", what, len(inserted), len(rs))
		}
		for _, r := range inserted {
			if err := enq.Enqueue(ctx, r, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// newPipeline builds the worker's pipeline as `nudge worker` does, over ts,
// with a provider that answers at once and a rate limit far above the run's
// rate.
func newPipeline(e *env, ts *timedStore) (*dispatcher.Pipeline, *instantSender, error) {
	lib := schedules.NewLibrary(ts, e.reg, schedules.WithTemplates(e.pack),
		schedules.WithProfiles(func(name string) bool { _, err := e.reg.Lookup(name); return err == nil }))
	lib.CacheActive(10*time.Second, nudge.SystemClock) // as the worker role does
	profiles := dispatcher.ProfilesFunc(lib.ActiveProfile)
	templateFor := func(ctx context.Context, r nudge.Reminder, ch nudge.ChannelKind) (string, error) {
		c, err := lib.Cadence(ctx, r.Key.Lender, r.Key.Cadence, r.CadenceVersion)
		if err != nil {
			return "", err
		}
		step, _, ok := c.Step(r.Key.Step)
		if !ok {
			return "", fmt.Errorf("cadence %s has no step %s", c.Name, r.Key.Step)
		}
		return step.TemplateFor(ch), nil
	}
	sender := &instantSender{}
	pipe, err := dispatcher.NewPipeline(dispatcher.PipelineConfig{
		Store:    ts,
		Profiles: profiles,
		Renderer: &dispatcher.TemplateRenderer{Pack: e.pack, Store: ts, Profiles: profiles, Links: e.links,
			PublicURL: "https://nudge.bench.example", Clock: e.clock, TemplateFor: templateFor},
		Senders: map[nudge.ChannelKind]nudge.Sender{nudge.SMS: sender, nudge.Voice: sender, nudge.Email: sender},
		Limiter: timedLimiter{l: dispatcher.NewRateLimiter(e.rdb, nil), stat: ts},
		SenderRate: func(m *nudge.Message) (string, float64) {
			return "bench:" + string(m.Channel), 1e6
		},
		Clock:  e.clock,
		Logger: e.cfg.Logger,
	})
	if err != nil {
		return nil, nil, err
	}
	return pipe, sender, nil
}

// runWorkers starts cfg.Servers Asynq servers over the full queue with h,
// and stops them once n tasks are done (or the run times out).
func runWorkers(ctx context.Context, e *env, h asynq.Handler, n int, profile string) (WorkerRun, error) {
	cfg := e.cfg
	var (
		run        WorkerRun
		done, fail atomic.Int64
		finished   = make(chan struct{})
		once       sync.Once
		last       atomic.Int64
	)
	began := time.Now()
	counting := asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		err := h.ProcessTask(ctx, t)
		if err != nil {
			fail.Add(1)
			return err
		}
		if done.Add(1) >= int64(n) {
			last.Store(int64(time.Since(began)))
			once.Do(func() { close(finished) })
		}
		return nil
	})
	runtime.GC()
	debug.FreeOSMemory()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return run, fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return run, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rss := startRSS()
	cpu0, db0 := takeCPU(ctx, e.rdb), e.databaseCPU(ctx)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make([]error, cfg.Servers)
	began = time.Now()
	for i := range cfg.Servers {
		srv := dispatcher.NewServer(e.rdb, counting, dispatcher.ServerConfig{
			Concurrency: cfg.Concurrency, ShutdownTimeout: 5 * time.Second, Logger: cfg.Logger,
		})
		wg.Go(func() { errs[i] = srv.Run(runCtx) })
	}
	timeout := 2*time.Minute + time.Duration(n)*10*time.Millisecond
	timer := time.NewTimer(timeout)
	var runErr error
	select {
	case <-finished:
	case <-timer.C:
		runErr = fmt.Errorf("%d of %d tasks done after %s (%d failed)", done.Load(), n, timeout, fail.Load())
	case <-ctx.Done():
		runErr = ctx.Err()
	}
	timer.Stop()
	elapsed := time.Duration(last.Load())
	if elapsed == 0 {
		elapsed = time.Since(began)
	}
	cpu, dbCPU := takeCPU(ctx, e.rdb).since(cpu0), e.databaseCPU(ctx)-db0
	cancel()
	wg.Wait()
	run = WorkerRun{Done: int(done.Load()), Failed: int(fail.Load()), Elapsed: elapsed, PeakRSS: rss.done()}
	if run.Done > 0 {
		d := time.Duration(run.Done)
		run.SelfCPU, run.RedisCPU = cpu.self/d, cpu.redis/d
		if e.db.Backend() == store.Postgres {
			run.PostgresCPU = dbCPU / d
		}
	}
	return run, errors.Join(append(errs, runErr)...)
}
