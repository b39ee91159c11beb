package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/drill"
	"github.com/nudgehq/nudge/experiment"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// The experiment drill's borrower model: a responsive borrower promises
// after the kind late SMS with chance experimentBase, after the firm one
// (the only template saying "Please pay now") with experimentBase + lift.
const (
	experimentLender = "exp-drill"
	experimentBase   = 0.20
	experimentMarker = "Please pay now"
	// DefaultExperimentLift is the firm arm's true extra promise chance.
	DefaultExperimentLift = 0.05
)

// experimentCadence is the drill's cadence: one late SMS a day after the
// due date, kind (the champion) or firm, half the accounts each.
func experimentCadence(start nudge.Date, minPerArm int) string {
	return fmt.Sprintf(`name: exp-drill
profile: us
applies_to:
  days_past_due: {min: 0, max: 30}
steps:
  - {id: late-sms, day: 1, at: "10:00", channel: sms, template: late_sms}
experiment:
  name: firm-late-sms
  start: %s
  primary_metric: promise_rate
  stop: {min_per_arm: %d}
  arms:
    - {name: kind, weight: 1}
    - name: firm
      weight: 1
      steps: [{id: late-sms, template: late_firm_sms}]
`, start, minPerArm)
}

// experimentRun is what one run of the experiment drill found.
type experimentRun struct {
	Seed     int64
	Accounts int
	// Provider counts what reached the simulated Twilio per arm (by the
	// template's wording): reminders delivered and promises answered.
	Delivered, Replies map[string]int
	// View is the /ops experiment view computed from the ledger.
	View    experiment.View
	Elapsed time.Duration
}

// experimentBackends are where an experiment drill run keeps its state:
// by default a SQLite file and an in-process Redis; with Database (an admin
// URL) a fresh PostgreSQL database per run, dropped after it, and with
// RedisAddr database RedisDB of that Redis, flushed before and after.
type experimentBackends struct {
	Database  string
	RedisAddr string
	RedisDB   int
}

// runExperimentDrill runs the whole product in-process (the real scheduler,
// workers and API, twiliosim with the borrower model, over the backends)
// over accounts borrowers due yesterday, waits until every reminder is
// delivered and every answer recorded, and returns the experiment view.
func (a *app) runExperimentDrill(ctx context.Context, accounts int, seed int64, lift float64, be experimentBackends, logw io.Writer) (experimentRun, error) {
	began := time.Now()
	run := experimentRun{Seed: seed, Accounts: accounts, Delivered: map[string]int{}, Replies: map[string]int{}}
	// Noon in New York, inside the window whatever the real hour.
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), now.Day(), 17, 0, 0, 0, time.UTC)
	offset := time.Until(start)
	clock := nudge.ClockFunc(func() time.Time { return time.Now().Add(offset).UTC() })
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		return run, err
	}
	today := nudge.DateOf(start.In(ny))

	dir, err := os.MkdirTemp("", "nudge-exp-drill-")
	if err != nil {
		return run, err
	}
	if os.Getenv("NUDGE_EXPERIMENT_DRILL_KEEP") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(logw, "experiment drill: files kept in", dir)
	}
	rdb, closeRedis, err := experimentRedis(ctx, be)
	if err != nil {
		return run, err
	}
	defer closeRedis()
	dbURL := "sqlite://" + filepath.Join(dir, "nudge.db")
	if be.Database != "" {
		dsn, drop, err := drill.FreshDatabase(ctx, be.Database, 16)
		if err != nil {
			return run, err
		}
		defer drop()
		dbURL = dsn
		// The run's tables grow from empty: keep their statistics fresh as
		// autovacuum would, also on a server where it is off.
		u, err := store.PostgresDriverURL(dsn)
		if err != nil {
			return run, err
		}
		conn, err := sql.Open("pgx", u)
		if err != nil {
			return run, err
		}
		defer conn.Close()
		defer store.AutoAnalyze(ctx, conn, nil)()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return run, err
	}
	defer ln.Close()
	publicURL := "http://" + ln.Addr().String()
	sim := twiliosim.New(twiliosim.Config{
		AccountSID: demoTwilioSID, AuthToken: demoTwilioToken, Seed: seed, Clock: clock, Speed: 50,
		InboundURL: publicURL + twilio.InboundPath,
		// Every borrower is reachable and answers by the model alone.
		Mix:        []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}},
		Languages:  []string{"en"},
		Propensity: &twiliosim.Propensity{Promise: experimentBase, Lifts: []twiliosim.Lift{{Marker: experimentMarker, Promise: lift}}},
	})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return run, fmt.Errorf("twilio simulator: %w", err)
	}
	defer sim.Close()
	secret, err := demoSecret()
	if err != nil {
		return run, err
	}
	logFile, err := os.Create(filepath.Join(dir, "nudge.log"))
	if err != nil {
		return run, err
	}
	defer logFile.Close()
	cfg := Config{
		Database: dbURL, Addr: ln.Addr().String(), PublicURL: publicURL, Secret: secret,
		Lenders: []LenderConfig{{ID: experimentLender, Name: "Drill Auto", Language: "en", Timezone: "America/New_York",
			HelpPhone: "+18005550100", AgentPhone: "+18005550101"}},
		Scheduler: SchedulerConfig{Spec: "@every 1s"},
		Reconcile: ReconcileConfig{Every: 5 * time.Second, Settle: demoSettle},
		Worker:    WorkerConfig{ShutdownTimeout: 5 * time.Second}, // the default concurrency
		Twilio: TwilioConfig{AccountSID: demoTwilioSID, AuthToken: demoTwilioToken, From: demoTwilioFrom, BaseURL: sim.URL(),
			Timeout: demoTwilioTimeout, MPS: 1000}, // the simulator has no carrier limit: the product's own pace is measured
		Log: LogConfig{Level: "warn", Format: "json"},
	}.WithDefaults()
	drillApp := *a
	drillApp.stderr = logFile
	minPerArm := max(1, accounts*2/5)
	rt, err := drillApp.newRuntime(ctx, cfg, runtimeOptions{clock: clock, rdb: rdb,
		cadences: map[string][]cadenceSource{experimentLender: {{name: "exp-drill.yaml", data: []byte(experimentCadence(today.AddDays(-1), minPerArm))}}}})
	if err != nil {
		return run, err
	}
	defer rt.Close()
	accts := make([]nudge.Account, accounts)
	for i := range accts {
		accts[i] = nudge.Account{
			ID: fmt.Sprintf("S%d-%06d", seed, i), Lender: experimentLender, Portfolio: "auto",
			Borrower: nudge.Borrower{Name: fmt.Sprintf("Borrower %d", i), Language: "en", Timezone: "America/New_York"},
			Address:  &nudge.Address{Country: "US", Region: "NY"},
			Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: fmt.Sprintf("+1212%03d%04d", 200+(i/10000)%800, i%10000), Consent: true}},
			Currency: "USD", AmountDue: "250.00", DueDate: today.AddDays(-1), Status: nudge.StatusActive,
		}
	}
	if err := rt.db.UpsertAccounts(ctx, accts, clock.Now().Add(-time.Second)); err != nil {
		return run, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runRoles(runCtx, func(ctx context.Context) error { return rt.runAPI(ctx, ln) }, rt.runScheduler, rt.runWorker)
	}()
	// Wait, counting at the provider, until every reminder is final and
	// every answer posted, then until the ledger's promises stop growing.
	last, stable := int64(-1), 0
	for stable < 3 {
		select {
		case err := <-done:
			return run, fmt.Errorf("the product stopped early: %w", err)
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(time.Second):
		}
		final := 0
		for _, m := range sim.Messages() {
			if m.Direction != "inbound" && (m.Status == "delivered" || m.Status == "undelivered" || m.Status == "failed") {
				final++
			}
		}
		if final < accounts {
			fmt.Fprintf(logw, "\rexperiment drill seed %d: %d/%d reminders final (messages %v)", seed, final, accounts, statusCounts(sim.Messages()))
			continue
		}
		if err := sim.Idle(ctx); err != nil {
			return run, err
		}
		rows, err := rt.db.KPIs(ctx, experimentQuery(today, clock.Now()))
		if err != nil {
			return run, err
		}
		var promised int64
		for _, r := range rows {
			promised += r.Counts.Promised
		}
		if promised == last {
			stable++
		} else {
			last, stable = promised, 0
		}
	}
	fmt.Fprintln(logw)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return run, err
	}
	// The provider's view: which wording each borrower got, and who answered.
	armOf := map[string]string{}
	for _, m := range sim.Messages() {
		if m.Direction == "inbound" {
			continue
		}
		arm := "kind"
		if strings.Contains(m.Body, experimentMarker) {
			arm = "firm"
		}
		armOf[m.To] = arm
		if m.Status == "delivered" {
			run.Delivered[arm]++
		}
	}
	for _, m := range sim.Messages() {
		if m.Direction == "inbound" {
			run.Replies[armOf[m.From]]++
		}
	}
	views, err := experiment.Evaluate(ctx, rt.db, rt.lib, experimentLender, clock.Now(), 0)
	if err != nil {
		return run, err
	}
	if len(views) != 1 {
		return run, fmt.Errorf("want the drill's one experiment in the view, got %d", len(views))
	}
	run.View = views[0]
	run.Elapsed = time.Since(began)
	return run, nil
}

// experimentRedis opens the run's Redis: database be.RedisDB of be.RedisAddr,
// flushed before and after, or an in-process one whose clock follows the
// wall clock.
func experimentRedis(ctx context.Context, be experimentBackends) (*redis.Client, func(), error) {
	if be.RedisAddr != "" {
		if be.RedisDB == 0 {
			return nil, nil, errors.New("experiment drill: --redis-db must not be 0 (the drill flushes it)")
		}
		rdb := redis.NewClient(&redis.Options{Addr: be.RedisAddr, DB: be.RedisDB})
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			rdb.Close()
			return nil, nil, fmt.Errorf("redis %s: %w", be.RedisAddr, err)
		}
		return rdb, func() {
			_ = rdb.FlushDB(context.Background()).Err() // best effort at teardown
			rdb.Close()
		}, nil
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, nil, fmt.Errorf("in-process redis: %w", err)
	}
	stopFF := fastForward(mr)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	return rdb, func() { rdb.Close(); stopFF(); mr.Close() }, nil
}

func experimentQuery(today nudge.Date, now time.Time) store.KPIQuery {
	return store.KPIQuery{Lender: experimentLender, From: today.AddDays(-1), To: today.AddDays(1), Now: now, Live: true,
		By: []kpi.Dimension{kpi.Arm}}
}

// writeExperimentRun prints one line per run.
func writeExperimentRun(w io.Writer, r experimentRun) {
	v := r.View
	line := fmt.Sprintf("seed %-4d accounts %-6d", r.Seed, r.Accounts)
	for _, a := range v.Arms {
		iv := a.Rates[v.Metric]
		val, _ := iv.Value()
		line += fmt.Sprintf(" %s %d/%d=%.3f [%.3f,%.3f] (provider: %d delivered, %d promises)", a.Arm, iv.Num, iv.Den, val, iv.Low, iv.High,
			r.Delivered[a.Arm], r.Replies[a.Arm])
	}
	t := v.Comparison.Tests[0]
	better := v.Better
	if better == "" {
		better = "none"
	}
	fmt.Fprintf(w, "%s z %.2f p %.3g better %s (%s)\n", line, t.Z, t.P, better, r.Elapsed.Round(time.Second))
}

// experimentDrill runs the experiment drill seeds times and fails when a
// run names the worse arm (kind) as better.
func (a *app) experimentDrill(ctx context.Context, stdout, stderr io.Writer, accounts, seeds int, first int64, lift float64, be experimentBackends) error {
	if accounts < 10 || seeds < 1 || lift < 0 || experimentBase+lift > 1 {
		return fmt.Errorf("experiment drill: want --reminders of at least 10, --seeds of at least 1 and --lift between 0 and %.2f", 1-experimentBase)
	}
	named := map[string]int{}
	var miscounted []string
	for i := range seeds {
		r, err := a.runExperimentDrill(ctx, accounts, first+int64(i), lift, be, stderr)
		if err != nil {
			return fmt.Errorf("experiment drill, seed %d: %w", first+int64(i), err)
		}
		writeExperimentRun(stdout, r)
		named[r.View.Better]++
		miscounted = append(miscounted, r.miscounts()...)
	}
	fmt.Fprintf(stdout, "runs %d: firm (true +%.0f points) named better %d, kind (worse) named %d, none %d\n",
		seeds, 100*lift, named["firm"], named["kind"], named[""])
	if named["kind"] > 0 {
		return fmt.Errorf("experiment drill: the worse arm was named better in %d of %d runs", named["kind"], seeds)
	}
	if len(miscounted) > 0 {
		return fmt.Errorf("experiment drill: the view does not count what the provider carried: %s", strings.Join(miscounted, "; "))
	}
	return nil
}

// miscounts names each arm whose view credits it with other numbers of
// delivered reminders or promises than the provider delivered and carried
// back (seed, arm, view against provider).
func (r experimentRun) miscounts() []string {
	var out []string
	for _, arm := range r.View.Arms {
		iv := arm.Rates[r.View.Metric]
		if iv.Den != int64(r.Delivered[arm.Arm]) || iv.Num != int64(r.Replies[arm.Arm]) {
			out = append(out, fmt.Sprintf("seed %d, %s: %d promises of %d delivered in the view, %d of %d at the provider",
				r.Seed, arm.Arm, iv.Num, iv.Den, r.Replies[arm.Arm], r.Delivered[arm.Arm]))
		}
	}
	return out
}

// statusCounts counts messages by direction and status, for the progress line.
func statusCounts(ms []twiliosim.Message) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		out[m.Direction+":"+m.Status]++
	}
	return out
}
