package schedules

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultSpec is the default planning schedule: every minute.
const DefaultSpec = "@every 1m"

// Runner runs the Planner on a cron schedule, recovering from panics and
// skipping a tick while the previous one still runs.
type Runner struct {
	cron    *cron.Cron
	job     cron.Job
	planner *Planner
	logger  *slog.Logger
	ctx     context.Context
}

// NewRunner returns a Runner that ticks p on spec (robfig/cron syntax, with
// CRON_TZ= prefixes honoured) in loc. It does not start.
func NewRunner(ctx context.Context, spec string, loc *time.Location, p *Planner) (*Runner, error) {
	if spec == "" {
		spec = DefaultSpec
	}
	if loc == nil {
		loc = time.UTC
	}
	r := &Runner{planner: p, logger: p.logger(), ctx: ctx}
	cl := cronLogger{r.logger}
	r.cron = cron.New(cron.WithLocation(loc), cron.WithLogger(cl))
	// One wrapped job serves the schedule and the tick at start, so the two
	// never run at once.
	r.job = cron.NewChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)).Then(cron.FuncJob(r.tick))
	if _, err := r.cron.AddJob(spec, r.job); err != nil {
		return nil, fmt.Errorf("scheduler.spec %q: %w", spec, err)
	}
	return r, nil
}

// Start starts ticking in the background and runs one tick at once, so a
// scheduler that was down catches up without waiting for the first tick.
func (r *Runner) Start() {
	r.cron.Start()
	go r.job.Run()
}

// Stop stops ticking and waits for a running tick to end.
func (r *Runner) Stop() {
	<-r.cron.Stop().Done()
}

func (r *Runner) tick() {
	if r.ctx.Err() != nil {
		return
	}
	st, err := r.planner.Tick(r.ctx)
	if err != nil {
		r.logger.Error("planning tick failed", "err", err)
		return
	}
	if st != (TickStats{}) {
		r.logger.Info("planning tick", "accounts", st.Accounts, "planned", st.Planned, "enqueued", st.Enqueued,
			"expired", st.Expired, "caught_up", st.CaughtUp, "broken_promises", st.BrokenPromises)
	}
}

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
