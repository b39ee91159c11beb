package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
)

// Defaults of Options.
const (
	// DefaultReminders is how many reminders a full drill sends.
	DefaultReminders = 2000
	// DefaultDeadline bounds each drill's wait for every reminder to be
	// final; the Redis drill needs more than the scheduler's two-minute
	// catch-up grace after its flush.
	DefaultDeadline = 8 * time.Minute
	// DefaultKillEvery is how often the worker-kill drill kills a worker.
	DefaultKillEvery = 3 * time.Second
	// DefaultBurst is the longest run of provider failures per number in
	// the provider-bursts drill.
	DefaultBurst = 3
	// DefaultConcurrency is each worker process's concurrency.
	DefaultConcurrency = 8
	// DefaultOutage is how long the database drill keeps PostgreSQL away.
	DefaultOutage = 10 * time.Second
	// MaxProviderCalls is the most provider calls one reminder may cause:
	// the first try and dispatcher.DefaultMaxRetry retries.
	MaxProviderCalls = dispatcher.DefaultMaxRetry + 1
	// DefaultFaultShare is the share of create requests the provider-faults
	// drill spoils.
	DefaultFaultShare = 0.10
	// DefaultDBKills is how many times the db-kill drill kills every
	// database connection, DefaultDBKillEvery apart.
	DefaultDBKills     = 20
	DefaultDBKillEvery = 3500 * time.Millisecond
	// reconcileSettle and providerTimeout are the processes' reconcile.settle
	// and twilio.timeout: short, so that a drill sees lost answers resolved.
	reconcileSettle = 10 * time.Second
	providerTimeout = 2 * time.Second
)

// Options configure a run of drills.
type Options struct {
	// Exe is the nudge binary the processes run (its scheduler, worker and
	// api subcommands).
	Exe string
	// Env is added to the processes' environment (the drill's own NUDGE_*
	// variables are not passed on).
	Env []string
	// Database is an admin URL of a PostgreSQL server on which each drill
	// creates (and drops) a fresh database; empty uses SQLite files, and the
	// database drill is skipped.
	Database string
	// RedisAddr, when set, is a Redis whose database RedisDB the drills use
	// (flushing it before and after each drill). When empty each drill
	// starts its own redis-server (RedisServer, or redis-server from PATH),
	// or an in-process miniredis when there is none. The Redis drill always
	// starts its own redis-server, which it restarts and flushes.
	RedisAddr   string
	RedisDB     int
	RedisServer string
	// Miniredis, with RedisAddr empty, runs each drill (but redis-restart)
	// on an in-process miniredis instead of a redis-server.
	Miniredis bool
	// Reminders is how many accounts (one reminder each) a drill runs.
	Reminders int
	// Dir holds the drills' databases, configs and process logs; empty
	// uses a temporary directory removed at the end.
	Dir string
	// Log receives progress lines (default: discarded).
	Log io.Writer
	// Clock gives the dates the accounts are due on (default the system clock).
	Clock nudge.Clock
	// Deadline bounds each drill's wait for every reminder to be final.
	Deadline time.Duration
	// KillEvery is how often the worker-kill drill kills a worker.
	KillEvery time.Duration
	// Burst is the longest run of 500/429 answers per number in the
	// provider-bursts drill (at most MaxProviderCalls-1).
	Burst int
	// Concurrency is each worker process's concurrency.
	Concurrency int
	// Outage is how long the database drill keeps PostgreSQL away.
	Outage time.Duration
	// FaultShare is the share of create requests provider-faults spoils.
	FaultShare float64
	// DBKills and DBKillEvery say how often db-kill kills every connection.
	DBKills     int
	DBKillEvery time.Duration
	// Big and Small are how many reminders the fairness drill's two lenders
	// have due at the same instant (defaults DefaultBig and DefaultSmall).
	Big, Small int
	// SenderFailure is how long sender-failover's first sender fails, and
	// BreakerCooldown the processes' twilio.breaker_cooldown (defaults
	// DefaultSenderFailure and DefaultBreakerCooldown).
	SenderFailure, BreakerCooldown time.Duration
}

// WithDefaults returns o with every empty setting filled with its default.
func (o Options) WithDefaults() Options {
	if o.Reminders <= 0 {
		o.Reminders = DefaultReminders
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Clock == nil {
		o.Clock = nudge.SystemClock
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	if o.KillEvery <= 0 {
		o.KillEvery = DefaultKillEvery
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Outage <= 0 {
		o.Outage = DefaultOutage
	}
	if o.FaultShare <= 0 {
		o.FaultShare = DefaultFaultShare
	}
	if o.DBKills <= 0 {
		o.DBKills = DefaultDBKills
	}
	if o.DBKillEvery <= 0 {
		o.DBKillEvery = DefaultDBKillEvery
	}
	if o.Big <= 0 {
		o.Big = DefaultBig
	}
	if o.Small <= 0 {
		o.Small = DefaultSmall
	}
	if o.SenderFailure <= 0 {
		o.SenderFailure = DefaultSenderFailure
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = DefaultBreakerCooldown
	}
	return o
}

func (o Options) validate() error {
	if o.Exe == "" {
		return errors.New("drill: Exe (the nudge binary) is required")
	}
	if o.Reminders > 10000 {
		return fmt.Errorf("drill: reminders %d: at most 10000 (one phone number each)", o.Reminders)
	}
	if o.Big > MaxFairnessReminders {
		return fmt.Errorf("drill: big lender's reminders %d: at most %d", o.Big, MaxFairnessReminders)
	}
	if o.Small > 10000 {
		return fmt.Errorf("drill: small lender's reminders %d: at most 10000", o.Small)
	}
	if o.FaultShare >= 1 {
		return fmt.Errorf("drill: fault share %g: below 1, or nothing is ever answered", o.FaultShare)
	}
	if o.Burst >= MaxProviderCalls {
		return fmt.Errorf("drill: burst %d: at most %d, or the retries run out", o.Burst, MaxProviderCalls-1)
	}
	return nil
}

// Result is what one drill found.
type Result struct {
	Name string
	// Skipped, when set, says why the drill did not run.
	Skipped string
	// Reminders is how many reminders the drill expected.
	Reminders int
	// Sent and OtherFinal (suppressed, expired, canceled) count the
	// reminders by final status; Unknown those left unknown after
	// reconciliation; FailedTransient those that failed although every
	// number was valid (the cause was transient).
	Sent, Unknown, FailedTransient, OtherFinal int
	// Lost counts reminders never planned or not final by the deadline.
	Lost int
	// Duplicates counts numbers the provider accepted more than one
	// message for; NeverSent those it accepted none for.
	Duplicates, NeverSent int
	// ProviderCalls counts create requests the provider saw (accepted or
	// not); Injected counts those it refused on the drill's orders (before
	// accepting); AnswersLost those it accepted and whose answer it dropped
	// or held past the client's timeout.
	ProviderCalls, Injected, AnswersLost int
	// MaxCalls is the most provider calls any one number got.
	MaxCalls int
	// Duration is from the first process start to every reminder final.
	Duration time.Duration
	// Chaos says what the drill did (kills, restarts, outages, replays).
	Chaos string
	// Fairness is what the fairness drill measured (nil for the others).
	Fairness *Fairness
	// UnknownIDs lists the reminders left unknown for an operator.
	UnknownIDs []string
	// Problems are the broken invariants; empty means the drill passed.
	Problems []string
}

// Passed reports whether the drill ran and found no problem.
func (r Result) Passed() bool { return r.Skipped == "" && len(r.Problems) == 0 }

// drill is one scenario.
type drill struct {
	name  string
	title string
	run   func(ctx context.Context, o Options, res *Result) error
}

// drills are the scenarios in the order they run.
var drills = []drill{
	{"worker-kill", "kill -9 a worker every few seconds", runWorkerKill},
	{"provider-faults", "the provider loses answers after accepting, answers late, or refuses with 429/500", runProviderFaults},
	{"db-kill", "every database connection killed, again and again, mid-run", runDBKill},
	{"redis-restart", "restart Redis, then flush it, mid-run", runRedisRestart},
	{"db-outage", "PostgreSQL unreachable for a while mid-run", runDBOutage},
	{"provider-bursts", "the provider answers 500 and 429 in bursts", runProviderBursts},
	{"webhooks", "duplicated, out-of-order and forged webhooks", runWebhooks},
	{"replicas", "two schedulers and three workers at once", runReplicas},
	{"redis-sentinel", "kill the Sentinel-managed Redis primary mid-run", runRedisSentinel},
	{"redis-cluster", "kill a Redis Cluster primary mid-run", runRedisCluster},
	{"fairness", "one lender's big backlog and another's few reminders due at the same instant", runFairness},
	{"sender-failover", "one sender of a pool of two fails every request for a while, then recovers", runSenderFailover},
	{"sender-failover-voice", "one caller ID of a voice pool of two fails every call for a while, then recovers", runSenderFailoverVoice},
}

// Names returns the drills' names in the order Run runs them.
func Names() []string {
	out := make([]string, len(drills))
	for i, d := range drills {
		out[i] = d.name
	}
	return out
}

// Title returns the one-line description of the drill called name.
func Title(name string) string {
	for _, d := range drills {
		if d.name == name {
			return d.title
		}
	}
	return ""
}

// Run runs the drills named (every drill when none is) one after another
// and returns their results. The error joins a line for every drill that
// failed to run or broke an invariant; skipped drills are not errors.
func Run(ctx context.Context, o Options, names ...string) ([]Result, error) {
	o = o.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	selected := drills
	if len(names) > 0 {
		selected = nil
		for _, n := range names {
			i := slices.IndexFunc(drills, func(d drill) bool { return d.name == n })
			if i < 0 {
				return nil, fmt.Errorf("drill: no drill %q (want one of %s)", n, strings.Join(Names(), ", "))
			}
			selected = append(selected, drills[i])
		}
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "nudge-drill-")
		if err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	var (
		results []Result
		errs    []error
	)
	for _, d := range selected {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		n := o.Reminders
		if d.name == "fairness" {
			n = o.Big + o.Small
		}
		fmt.Fprintf(o.Log, "drill %s: %s (%d reminders)\n", d.name, d.title, n)
		res := Result{Name: d.name, Reminders: n}
		err := d.run(ctx, o, &res)
		var skip errSkip
		switch {
		case errors.As(err, &skip):
			res.Skipped = skip.why
			fmt.Fprintf(o.Log, "drill %s: skipped: %s\n", d.name, skip.why)
		case err != nil:
			res.Problems = append(res.Problems, err.Error())
		}
		if len(res.Problems) > 0 {
			errs = append(errs, fmt.Errorf("drill %s: %d problem(s), the first: %s", d.name, len(res.Problems), res.Problems[0]))
		}
		fmt.Fprintf(o.Log, "drill %s: done in %s, %d problem(s)\n", d.name, res.Duration.Round(100*time.Millisecond), len(res.Problems))
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}
