package bench

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/nudgehq/nudge/dispatcher"
)

// Defaults of a full run.
const (
	// DefaultRedisAddr is the Redis the harness uses.
	DefaultRedisAddr = "127.0.0.1:6379"
	// DefaultRedisDB is the Redis database the harness owns and flushes
	// before and after the run.
	DefaultRedisDB = 8
	// DefaultDue is how many accounts are due in each planning tick.
	DefaultDue = 1000
	// DefaultRepeat is how many ticks are measured per portfolio size; the
	// median is reported.
	DefaultRepeat = 3
	// DefaultDispatch is how many reminders the dispatch runs process.
	DefaultDispatch = 20000
	// DefaultConcurrency is the tasks each Asynq server runs at once: the
	// worker's default.
	DefaultConcurrency = dispatcher.DefaultConcurrency
	// DefaultWebhookClients is how many HTTP clients post callbacks at once.
	DefaultWebhookClients = 8
	// DefaultQueued is how many scheduled reminders the Redis memory
	// measurement enqueues.
	DefaultQueued = 20000
	// DefaultKPIAccounts is the portfolio the KPI measurement seeds: the
	// issue's million accounts with a year of history.
	DefaultKPIAccounts = 1_000_000
	// DefaultPlanConcurrency is how many due accounts a tick plans at once
	// (schedules.Planner.Concurrency).
	DefaultPlanConcurrency = 8
	// DefaultLoadChunk is how many accounts one UpsertAccounts call writes
	// while loading a portfolio.
	DefaultLoadChunk = 10000
)

// DefaultSizes are the portfolio sizes of a full run.
var DefaultSizes = []int{10_000, 100_000, 1_000_000}

// Config says what a run measures and against what.
type Config struct {
	// Database is sqlite:///path/bench.db or postgres://…; required.
	Database string
	// ResetDatabase drops and recreates a PostgreSQL database before the
	// run (its name must contain "bench"); a missing one is always created.
	ResetDatabase bool
	// RedisAddr is DefaultRedisAddr when empty.
	RedisAddr string
	// RedisDB is the Redis database number; it is flushed before and after
	// the run, so 0 is refused.
	RedisDB int
	// Sizes are the portfolio sizes planned, smallest first.
	Sizes []int
	// Due is how many accounts are due in each measured tick.
	Due int
	// Repeat is how many ticks are measured per size.
	Repeat int
	// LoadChunk is how many accounts one UpsertAccounts call writes.
	LoadChunk int
	// PlanConcurrency is how many due accounts a tick plans at once; 1
	// plans them one after another.
	PlanConcurrency int
	// Dispatch is how many reminders each dispatch run processes.
	Dispatch int
	// Concurrency is how many tasks each Asynq server runs at once.
	Concurrency int
	// Servers is how many Asynq servers the worker runs in its process.
	Servers int
	// Workers, when set, adds a scale-out run per count: the reminders are
	// worked off by that many `nudge worker` processes (each with
	// Concurrency) instead of the bench process. Each count is 1 to
	// MaxWorkers; empty runs only the in-process dispatch.
	Workers []int
	// WorkerExe is the nudge binary the worker processes run; empty means
	// this process's executable (the bench is run by the nudge binary).
	WorkerExe string
	// WorkerEnv is added to the worker processes' environment (which holds
	// no NUDGE_* variable of the bench's own).
	WorkerEnv []string
	// Webhooks is how many status callbacks are posted (at most one per
	// dispatched reminder); 0 means one per dispatched reminder.
	Webhooks int
	// WebhookClients is how many HTTP clients post at once.
	WebhookClients int
	// Queued is how many scheduled reminders the Redis memory measurement
	// enqueues.
	Queued int
	// KPIAccounts is how many accounts the KPI measurement gives a year
	// of history.
	KPIAccounts int
	// RedisBenchmark is the redis-benchmark binary: empty looks it up on
	// PATH, "none" measures EVALSHA with go-redis instead.
	RedisBenchmark string
	// CPUProfile, when set, is where the CPU profile of the dispatch run is
	// written.
	CPUProfile string
	// Micro runs the hot-function benchmarks (testing.Benchmark, about a
	// second each).
	Micro bool
	// SQLite, when the database is PostgreSQL, runs the dispatch step a
	// second time over a fresh SQLite store in a temporary directory (the
	// same code path with one writer), reported as a row of its own.
	SQLite bool
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
	// Logger receives the pipeline's and Asynq's logs; nil discards them.
	Logger *slog.Logger
}

// QuickConfig returns a small smoke run over database: small portfolios,
// a few hundred reminders and callbacks, no hot-function benchmarks.
func QuickConfig(database string) Config {
	return Config{
		Database: database, Sizes: []int{200, 2000}, Due: 50, Repeat: 1, LoadChunk: 1000,
		Dispatch: 300, Concurrency: 4, Servers: 1, WebhookClients: 4, Queued: 300, KPIAccounts: 2000,
	}
}

// WithDefaults returns c with zero fields set to the full run's defaults.
func (c Config) WithDefaults() Config {
	if c.RedisAddr == "" {
		c.RedisAddr = DefaultRedisAddr
	}
	if len(c.Sizes) == 0 {
		c.Sizes = DefaultSizes
	}
	if c.Due <= 0 {
		c.Due = DefaultDue
	}
	if c.Repeat <= 0 {
		c.Repeat = DefaultRepeat
	}
	if c.PlanConcurrency <= 0 {
		c.PlanConcurrency = DefaultPlanConcurrency
	}
	if c.LoadChunk <= 0 {
		c.LoadChunk = DefaultLoadChunk
	}
	if c.Dispatch <= 0 {
		c.Dispatch = DefaultDispatch
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Servers <= 0 {
		c.Servers = 1
	}
	if c.Webhooks <= 0 || c.Webhooks > c.Dispatch {
		c.Webhooks = c.Dispatch
	}
	if c.WebhookClients <= 0 {
		c.WebhookClients = DefaultWebhookClients
	}
	if c.Queued <= 0 {
		c.Queued = DefaultQueued
	}
	if c.KPIAccounts <= 0 {
		c.KPIAccounts = DefaultKPIAccounts
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Database == "":
		return errors.New("bench config: database is required (sqlite:///path or postgres://…)")
	case c.RedisDB <= 0:
		return fmt.Errorf("bench config: redis db %d: use a dedicated database number above 0, it is flushed", c.RedisDB)
	case c.ResetDatabase && !strings.Contains(databaseName(c.Database), "bench"):
		return fmt.Errorf("bench config: reset database: refusing to drop %q, whose name does not contain \"bench\"", databaseName(c.Database))
	}
	for i, w := range c.Workers {
		if w < 1 || w > MaxWorkers {
			return fmt.Errorf("bench config: workers[%d] = %d: each count of worker processes must be 1 to %d", i, w, MaxWorkers)
		}
	}
	for i, s := range c.Sizes {
		if s < c.Due {
			return fmt.Errorf("bench config: sizes[%d] = %d is smaller than due = %d", i, s, c.Due)
		}
		if i > 0 && s <= c.Sizes[i-1] {
			return fmt.Errorf("bench config: sizes must grow: sizes[%d] = %d after %d", i, s, c.Sizes[i-1])
		}
	}
	return nil
}
