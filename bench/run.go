package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nudgehq/nudge/store"
)

// Report is everything one run measured.
type Report struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Machine  Machine       `json:"machine"`
	// Database is the backend's name (the URL is not kept: it may hold a password).
	Database string           `json:"database"`
	Config   Config           `json:"-"`
	Planning []PlanningResult `json:"planning"`
	Dispatch DispatchResult   `json:"dispatch"`
	// SQLite is the dispatch step over SQLite when Config.SQLite was set
	// and the database is PostgreSQL.
	SQLite *DispatchResult `json:"sqlite_dispatch,omitempty"`
	// Scale holds one run per count of Config.Workers: the dispatch worked
	// off by real worker processes.
	Scale    []ScaleRun    `json:"scale,omitempty"`
	EvalSHA  EvalResult    `json:"evalsha"`
	Webhooks WebhookResult `json:"webhooks"`
	Redis    MemoryResult  `json:"redis_memory"`
	KPIs     KPIResult     `json:"kpis"`
	// Micro is empty unless Config.Micro was set.
	Micro []MicroResult `json:"micro,omitempty"`
}

// Run measures everything Config asks for and returns the report. It
// flushes its Redis database before and after, and on PostgreSQL creates
// the database when it is missing.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e, err := openEnv(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, e.close(context.WithoutCancel(ctx))) }()
	rep = &Report{Started: time.Now().UTC(), Config: cfg, Database: string(e.db.Backend())}
	rep.Machine = describeMachine(ctx, e.rdb, e.pg)
	began := time.Now()

	step := func(name string, f func() error) error {
		fmt.Fprintf(cfg.Progress, "== %s\n", name)
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"planning", func() (err error) { rep.Planning, err = measurePlanning(ctx, e); return err }},
		{"dispatch", func() (err error) { rep.Dispatch, err = measureDispatch(ctx, e); return err }},
		{"dispatch on SQLite", func() (err error) {
			if cfg.SQLite && e.db.Backend() == store.Postgres {
				rep.SQLite, err = measureSQLiteDispatch(ctx, cfg)
			}
			return err
		}},
		{"scale-out", func() (err error) {
			if len(cfg.Workers) > 0 {
				rep.Scale, err = measureScale(ctx, e)
			}
			return err
		}},
		{"redis evalsha", func() (err error) { rep.EvalSHA, err = measureEvalSHA(ctx, e, evalCount(cfg)); return err }},
		{"webhooks", func() (err error) {
			rep.Webhooks, err = measureWebhooks(ctx, e, rep.Dispatch.ProviderIDs)
			return err
		}},
		{"redis memory", func() (err error) { rep.Redis, err = measureRedisMemory(ctx, e, cfg.Queued); return err }},
		{"kpis", func() (err error) { rep.KPIs, err = measureKPIs(ctx, e); return err }},
	}
	if cfg.Micro {
		steps = append(steps, struct {
			name string
			f    func() error
		}{"hot functions", func() (err error) { rep.Micro, err = measureMicro(); return err }})
	}
	for _, s := range steps {
		if err := step(s.name, s.f); err != nil {
			return rep, err
		}
	}
	rep.Duration = time.Since(began)
	rep.Machine.LoadAfter = loadAvg()
	return rep, nil
}

// evalCount is how many EVALSHA calls the Redis ceiling makes: ten per
// dispatched reminder, at least a thousand.
func evalCount(cfg Config) int {
	return max(10*cfg.Dispatch, 1000)
}

// measureSQLiteDispatch runs the dispatch step over a fresh SQLite store in
// a temporary directory, on the same Redis database, raw Asynq included.
func measureSQLiteDispatch(ctx context.Context, cfg Config) (_ *DispatchResult, err error) {
	dir, err := os.MkdirTemp("", "nudge-bench-sqlite-")
	if err != nil {
		return nil, fmt.Errorf("sqlite dir: %w", err)
	}
	defer os.RemoveAll(dir)
	cfg.Database, cfg.CPUProfile = "sqlite://"+filepath.Join(dir, "bench.db"), ""
	e, err := openEnv(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, e.close(context.WithoutCancel(ctx))) }()
	res, err := measureDispatch(ctx, e)
	return &res, err
}
