package main

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge/drill"
)

// drillCmd runs the reliability drills against nudge processes started from
// this very binary.
func (a *app) drillCmd() *cobra.Command {
	var (
		only      []string
		o         drill.Options
		keep      bool
		showTitle bool
		st        = sendTimeDrillOptions{accounts: 200, days: 27, seed: 1, concurrency: 8}
		stStart   string
		seeds     int
		firstSeed int64
		lift      float64
	)
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Run the reliability drills: kill workers, restart Redis, cut the database, fail the provider, replay webhooks",
		Long: `Run the reliability drills on this machine. Each drill starts real scheduler, worker
(and api) processes from this binary against a fresh database and a Redis of its own,
with a simulated Twilio in-process, disturbs them while the reminders go out, and
checks that none was lost and none was sent twice. It prints one table row per drill
and exits non-zero if an invariant broke. Drills: ` + fmt.Sprint(drill.Names()) + `.

PostgreSQL (--database, an admin URL on which nudge_drill_<random> databases are
created and dropped; default NUDGE_TEST_DATABASE_URL) is needed by db-outage and
db-kill; without it the others use SQLite. Every drill counts from the provider's side:
a reminder sent twice, never sent, left unknown after reconciliation, or failed for a
transient cause is a failure. Redis is a redis-server each drill starts on a free port
(from PATH), or database --redis-db of --redis when given; redis-restart always starts
its own. Shared services are never restarted or flushed. The fairness drill gives one
lender --big reminders and another --small due at the same instant and counts, at the
provider, how many of the first lender's had arrived when the second's were all there
(docs/fairness.md).

The send-time drill (--only send-time; not part of the default run) runs in this
process instead: the real planner with send-time optimisation on, the real send
pipeline and webhooks, and simulated borrowers who each answer mostly at a hidden best
hour, on a simulated clock moved a quarter of an hour at a time over --st-days days.
From the provider's calls it checks that none started outside 08:00-21:00 in the
borrower's local time and that the optimiser's chosen hour is the best hour for at
least 80% of the borrowers called 10 times or more (docs/send-time.md).

--only experiment runs the champion/challenger drill instead (docs/experiments.md): the
whole product in-process (scheduler, workers and API, the simulated Twilio with its
borrower model; SQLite and an in-process Redis, or a fresh database of --database and
database --redis-db of --redis when given) over --reminders accounts, whose firm arm's
true promise rate is --lift higher, --seeds times; each run prints the /ops experiment
view's figures beside the provider's counts, and the drill fails if a run names the worse
arm or its view counts other deliveries or promises than the provider's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(only) == 1 && only[0] == "experiment" {
				return a.experimentDrill(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o.Reminders, seeds, firstSeed, lift,
					experimentBackends{Database: o.Database, RedisAddr: o.RedisAddr, RedisDB: o.RedisDB})
			}
			if showTitle {
				for _, n := range drill.Names() {
					fmt.Fprintf(cmd.OutOrStdout(), "%-16s %s\n", n, drill.Title(n))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-16s %s\n", sendTimeDrillName, "send-time optimisation finds each simulated borrower's best hour, inside the window")
				fmt.Fprintf(cmd.OutOrStdout(), "%-16s %s\n", "experiment", "the champion/challenger view names the arm with the higher true promise rate, never the worse")
				return nil
			}
			if i := slices.Index(only, sendTimeDrillName); i >= 0 {
				only = slices.Delete(only, i, i+1)
				st.start = time.Date(2026, 4, 6, 4, 0, 0, 0, time.UTC)
				if stStart != "" {
					t, err := time.Parse(time.RFC3339, stStart)
					if err != nil {
						return fmt.Errorf("--st-start: %w", err)
					}
					st.start = t
				}
				st.dir = o.Dir
				rep, err := a.runSendTimeDrill(cmd.Context(), st)
				if err != nil {
					return err
				}
				if err := rep.write(cmd.OutOrStdout()); err != nil {
					return err
				}
				if len(rep.Problems) > 0 {
					return fmt.Errorf("drill %s: %d problems", sendTimeDrillName, len(rep.Problems))
				}
				if len(only) == 0 {
					return nil
				}
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the nudge binary: %w", err)
			}
			o.Exe = exe
			o.Log = cmd.ErrOrStderr()
			if o.Database == "" {
				o.Database = os.Getenv("NUDGE_TEST_DATABASE_URL")
			}
			if keep && o.Dir == "" {
				if o.Dir, err = os.MkdirTemp("", "nudge-drill-"); err != nil {
					return err
				}
				fmt.Fprintln(cmd.ErrOrStderr(), "drill: logs and databases kept in", o.Dir)
			}
			results, runErr := drill.Run(cmd.Context(), o, only...)
			if err := drill.WriteTable(cmd.OutOrStdout(), results); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&only, "only", nil, "run only these drills (comma-separated; default all); experiment runs the champion/challenger drill alone, in-process")
	f.IntVar(&seeds, "seeds", 1, "experiment drill: how many seeded runs")
	f.Int64Var(&firstSeed, "seed", 1, "experiment drill: the first run's seed (the next runs count up)")
	f.Float64Var(&lift, "lift", DefaultExperimentLift, "experiment drill: the firm arm's true extra promise chance")
	f.BoolVar(&showTitle, "list", false, "list the drills and exit")
	f.IntVar(&o.Reminders, "reminders", drill.DefaultReminders, "reminders (accounts) per drill")
	f.StringVar(&o.Database, "database", "", "admin URL of a PostgreSQL server for fresh drill databases (default $NUDGE_TEST_DATABASE_URL; SQLite without)")
	f.StringVar(&o.RedisAddr, "redis", "", "use database --redis-db of this Redis instead of a redis-server per drill (it is flushed)")
	f.IntVar(&o.RedisDB, "redis-db", 0, "Redis database number with --redis")
	f.StringVar(&o.RedisServer, "redis-server", "", "redis-server binary (default: from PATH)")
	f.StringVar(&o.Dir, "dir", "", "directory for the drills' files (default: a temporary one, removed)")
	f.BoolVar(&keep, "keep", false, "keep the drills' files (process logs, configs) in a temporary directory")
	f.DurationVar(&o.Deadline, "deadline", drill.DefaultDeadline, "longest wait for every reminder of a drill to be final")
	f.DurationVar(&o.KillEvery, "kill-every", drill.DefaultKillEvery, "how often worker-kill kills a worker")
	f.IntVar(&o.Burst, "burst", drill.DefaultBurst, "longest run of 500/429 answers per number in provider-bursts")
	f.DurationVar(&o.Outage, "outage", drill.DefaultOutage, "how long db-outage keeps PostgreSQL away")
	f.IntVar(&o.Concurrency, "concurrency", drill.DefaultConcurrency, "concurrency of each worker process")
	f.Float64Var(&o.FaultShare, "fault-share", drill.DefaultFaultShare, "share of create requests provider-faults spoils (dropped after acceptance, answered late, refused)")
	f.IntVar(&o.DBKills, "db-kills", drill.DefaultDBKills, "how many times db-kill kills every database connection")
	f.DurationVar(&o.DBKillEvery, "db-kill-every", drill.DefaultDBKillEvery, "how often db-kill kills them")
	f.IntVar(&o.Big, "big", drill.DefaultBig, "reminders the fairness drill's first lender has due (--reminders sizes the other drills)")
	f.IntVar(&o.Small, "small", drill.DefaultSmall, "reminders the fairness drill's second lender has due at the same instant")
	f.DurationVar(&o.SenderFailure, "sender-failure", drill.DefaultSenderFailure, "how long sender-failover's first sender (sender-failover-voice's first caller ID) fails every request")
	f.DurationVar(&o.BreakerCooldown, "breaker-cooldown", drill.DefaultBreakerCooldown, "how long sender-failover's processes keep a failing sender out")
	f.IntVar(&st.accounts, "st-accounts", st.accounts, "borrowers of the send-time drill")
	f.IntVar(&st.days, "st-days", st.days, "simulated days of the send-time drill (a call a day but every seventh)")
	f.Int64Var(&st.seed, "st-seed", st.seed, "seed of the send-time drill's borrowers and sampler")
	f.StringVar(&stStart, "st-start", "", "simulated start of the send-time drill (RFC 3339; default 2026-04-06T04:00:00Z)")
	f.Float64Var(&st.priorWeight, "st-prior-weight", 0, "send_time.prior_weight of the send-time drill (0: the default)")
	f.BoolVar(&st.off, "st-off", false, "run the send-time drill with the optimiser off (the baseline)")
	f.StringVar(&st.export, "st-export", "", "write the provider's calls of the send-time drill, with local times, to this CSV file")
	return cmd
}
