package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nudgehq/nudge/bench"
)

// benchOptions are the flags of `nudge bench` beyond bench.Config's.
type benchOptions struct {
	quick   bool
	out     string
	notes   string
	workers []int
}

func (a *app) benchCmd() *cobra.Command {
	var (
		o   benchOptions
		cfg bench.Config
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure planning, dispatch, webhooks and memory against the real Redis and database",
		Long: `bench measures what Nudge adds on top of Redis, Asynq and the database, each figure beside
its ceiling measured in the same run: planning ticks over growing portfolios, reminders fully
processed per second beside the raw Asynq rate and Redis's EVALSHA rate, Twilio status callbacks
per second beside a bare handler, the worker's memory and Redis bytes per queued reminder, and the
hot functions. It prints one table and, with --out, writes the report (docs/benchmarks.md).

With --workers N (or a list such as 1,2,4) it also works the dispatch off with N real
` + "`nudge worker`" + ` processes started from this binary, once per count, and reports the rate, the speed-up
and the CPU per reminder of the workers, PostgreSQL and Redis (docs/operations.md, "Sizing a fleet").

It flushes its Redis database (--redis-db, never 0) before and after. With a postgres:// database
it creates the database when missing; without --database it uses SQLite in a temporary directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			workers, err := workerCounts(o.workers)
			if err != nil {
				return err
			}
			cfg.Workers = workers
			if o.quick {
				q := bench.QuickConfig(cfg.Database)
				f := cmd.Flags()
				// Flags given explicitly win over the quick defaults.
				q.RedisAddr, q.RedisDB, q.ResetDatabase, q.Workers = cfg.RedisAddr, cfg.RedisDB, cfg.ResetDatabase, cfg.Workers
				q.RedisBenchmark, q.CPUProfile, q.Micro = cfg.RedisBenchmark, cfg.CPUProfile, f.Changed("micro") && cfg.Micro
				for name, set := range map[string]func(){
					"sizes": func() { q.Sizes = cfg.Sizes }, "due": func() { q.Due = cfg.Due }, "repeat": func() { q.Repeat = cfg.Repeat },
					"plan-concurrency": func() { q.PlanConcurrency = cfg.PlanConcurrency },
					"dispatch":         func() { q.Dispatch = cfg.Dispatch }, "concurrency": func() { q.Concurrency = cfg.Concurrency },
					"servers": func() { q.Servers = cfg.Servers }, "webhooks": func() { q.Webhooks = cfg.Webhooks },
					"webhook-clients": func() { q.WebhookClients = cfg.WebhookClients }, "queued": func() { q.Queued = cfg.Queued },
					"kpi-accounts": func() { q.KPIAccounts = cfg.KPIAccounts }, "sqlite": func() { q.SQLite = cfg.SQLite },
				} {
					if f.Changed(name) {
						set()
					}
				}
				cfg = q
			}
			if cfg.Database == "" {
				dir, err := os.MkdirTemp("", "nudge-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				cfg.Database = "sqlite://" + filepath.Join(dir, "bench.db")
			}
			cfg.Progress = a.stderr
			rep, err := bench.Run(ctx, cfg)
			if err != nil {
				return err
			}
			if err := rep.WriteTable(cmd.OutOrStdout()); err != nil {
				return err
			}
			if o.out == "" {
				return nil
			}
			// The notes are read once the run is over, so they may be written meanwhile.
			var notes string
			if o.notes != "" {
				b, err := os.ReadFile(o.notes)
				if err != nil {
					return fmt.Errorf("--notes: %w", err)
				}
				notes = string(b)
			}
			var b strings.Builder
			if err := rep.WriteMarkdown(&b, commandLine(cmd), notes); err != nil {
				return err
			}
			if err := os.WriteFile(o.out, []byte(b.String()), 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(a.stderr, "report written to %s\n", o.out)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.quick, "quick", false, "a small smoke run (small portfolios, a few hundred reminders, no hot-function benchmarks)")
	f.StringVar(&o.out, "out", "", "write the Markdown report here (docs/benchmarks.md)")
	f.StringVar(&o.notes, "notes", "", "a Markdown file whose text becomes the report's Analysis section")
	f.StringVar(&cfg.Database, "database", "", "postgres://… or sqlite://… (default: SQLite in a temporary directory)")
	f.BoolVar(&cfg.ResetDatabase, "reset-database", false, "drop and recreate the PostgreSQL database first (its name must contain \"bench\")")
	f.StringVar(&cfg.RedisAddr, "redis-addr", bench.DefaultRedisAddr, "Redis address")
	f.IntVar(&cfg.RedisDB, "redis-db", bench.DefaultRedisDB, "Redis database number the bench owns and flushes (never 0)")
	f.IntSliceVar(&cfg.Sizes, "sizes", bench.DefaultSizes, "portfolio sizes to plan, smallest first")
	f.IntVar(&cfg.Due, "due", bench.DefaultDue, "accounts due in each planning tick")
	f.IntVar(&cfg.Repeat, "repeat", bench.DefaultRepeat, "ticks measured per portfolio size (the median is reported)")
	f.IntVar(&cfg.PlanConcurrency, "plan-concurrency", bench.DefaultPlanConcurrency, "due accounts a planning tick plans at once")
	f.IntVar(&cfg.Dispatch, "dispatch", bench.DefaultDispatch, "reminders processed by each dispatch run")
	f.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "tasks each Asynq server runs at once")
	f.IntVar(&cfg.Servers, "servers", 1, "Asynq servers in the worker process")
	f.IntSliceVar(&o.workers, "workers", []int{0}, "also work the dispatch off with this many nudge worker processes (a list such as 1,2,4 runs once per count; 0: the in-process worker only)")
	f.IntVar(&cfg.Webhooks, "webhooks", 0, "status callbacks posted (default: one per dispatched reminder)")
	f.IntVar(&cfg.WebhookClients, "webhook-clients", bench.DefaultWebhookClients, "HTTP clients posting callbacks at once")
	f.IntVar(&cfg.Queued, "queued", bench.DefaultQueued, "scheduled reminders enqueued to measure Redis memory")
	f.IntVar(&cfg.KPIAccounts, "kpi-accounts", bench.DefaultKPIAccounts, "accounts given a year of history to measure the KPIs over")
	f.StringVar(&cfg.RedisBenchmark, "redis-benchmark", "", `redis-benchmark binary (default: from PATH; "none" measures EVALSHA with go-redis)`)
	f.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the CPU profile of the pipeline's dispatch run here")
	f.BoolVar(&cfg.Micro, "micro", true, "run the hot-function benchmarks (about a second each)")
	f.BoolVar(&cfg.SQLite, "sqlite", true, "with a postgres:// database, also run the dispatch over a fresh SQLite store")
	return cmd
}

// workerCounts checks the --workers list: a single 0 (the default) means
// no scale-out run; otherwise every count is 1 to bench.MaxWorkers.
func workerCounts(v []int) ([]int, error) {
	if len(v) == 0 || len(v) == 1 && v[0] == 0 {
		return nil, nil
	}
	for _, n := range v {
		if n < 1 || n > bench.MaxWorkers {
			return nil, fmt.Errorf("--workers %s: each count of worker processes must be 1 to %d (0 alone runs the in-process worker only)",
				strings.Trim(strings.Join(strings.Fields(fmt.Sprint(v)), ","), "[]"), bench.MaxWorkers)
		}
	}
	return v, nil
}

// commandLine rebuilds the command as run, with the flags that were set.
func commandLine(cmd *cobra.Command) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		v := f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			v = strings.Join(sv.GetSlice(), ",")
		}
		parts = append(parts, shellQuote("--"+f.Name+"="+v))
	})
	return strings.Join(parts, " ")
}

// shellQuote single-quotes s for a POSIX shell when it holds anything but
// plain word characters.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		word := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=/.,:@+", r)
		return !word
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
