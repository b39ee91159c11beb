package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtpsink"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/examples"
	"github.com/nudgehq/nudge/forecast"
)

// forecastAccountsEnv sets the portfolio size of TestForecastMatchesRun
// (default forecastCIAccounts); forecastDaysEnv its days (default
// forecastCIDays: every step of the example cadences falls in two weeks of
// a portfolio whose due dates are spread over 50 days).
const (
	forecastAccountsEnv = "NUDGE_FORECAST_ACCOUNTS"
	forecastDaysEnv     = "NUDGE_FORECAST_DAYS"
	forecastCIAccounts  = 100
	forecastCIDays      = 5
	// forecastTolerance is how far the run's daily sends per channel may
	// be from the forecast's: 5 %.
	forecastTolerance = 0.05
)

// dayChannel keys per-day counts.
type dayChannel struct {
	day nudge.Date
	ch  nudge.ChannelKind
}

// runCounts is what the actual run did, counted at the provider (sends,
// segments) and from the worker's results (suppressions, deferrals).
type runCounts struct {
	mu         sync.Mutex
	planned    map[dayChannel]int
	sent       map[dayChannel]int
	segments   map[dayChannel]int
	suppressed map[dayChannel]map[nudge.Reason]int
	deferred   map[dayChannel]int
	// finished are the reminders whose end was counted.
	finished map[string]bool
	reruns   int
	// due are the instants the run's reminders are due at the simulated
	// clock, by reminder id: where the worker would take them.
	due map[string]dueTask
}

type dueTask struct {
	queue string
	at    time.Time
}

func newRunCounts() *runCounts {
	return &runCounts{planned: map[dayChannel]int{}, sent: map[dayChannel]int{}, segments: map[dayChannel]int{},
		suppressed: map[dayChannel]map[nudge.Reason]int{}, deferred: map[dayChannel]int{}, due: map[string]dueTask{},
		finished: map[string]bool{}}
}

func (c *runCounts) setDue(id, queue string, at time.Time) {
	c.mu.Lock()
	c.due[id] = dueTask{queue: queue, at: at}
	c.mu.Unlock()
}

// takeDue removes and returns the tasks due at now.
func (c *runCounts) takeDue(now time.Time) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for id, d := range c.due {
		if !d.at.After(now) {
			out[id] = d.queue
			delete(c.due, id)
		}
	}
	return out
}

// watchingEnqueuer is the planner's real Enqueuer, noting each reminder's
// simulated process instant and its first planning.
type watchingEnqueuer struct {
	inner  *dispatcher.Enqueuer
	clock  nudge.Clock
	counts *runCounts
	seen   map[string]bool
}

func (w *watchingEnqueuer) Enqueue(ctx context.Context, r nudge.Reminder, at time.Time) error {
	q, err := dispatcher.QueueFor(r.Channel, r.Key.Lender)
	if err != nil {
		return err
	}
	// The planner enqueues a batch's reminders concurrently.
	w.counts.mu.Lock()
	if !w.seen[r.ID] {
		w.seen[r.ID] = true
		w.counts.planned[dayChannel{nudge.DateOf(w.clock.Now()), r.Channel}]++
	}
	w.counts.mu.Unlock()
	w.counts.setDue(r.ID, q, at)
	return w.inner.Enqueue(ctx, r, at)
}

// TestForecastMatchesRun forecasts the example cadences over the demo's
// synthetic portfolio and then runs the same portfolio for real, from the
// same seed: the demo's runtime (SQLite, an in-process Redis, the real
// planner and the real Asynq worker and pipeline) sending through twilio-go
// to twiliosim and through SMTP to a sink, with a fixed clock moved a
// minute at a time through the days. Sends are counted where they arrive
// (the simulator's messages and calls, the sink's mail). Each day's sends
// per channel must be within 5 % of the forecast, and the suppressions for
// holds and opt-outs equal to it.
func TestForecastMatchesRun(t *testing.T) {
	n := forecastCIAccounts
	if v := os.Getenv(forecastAccountsEnv); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err, forecastAccountsEnv)
	}
	days := forecastCIDays
	if v := os.Getenv(forecastDaysEnv); v != "" {
		var err error
		days, err = strconv.Atoi(v)
		require.NoError(t, err, forecastDaysEnv)
	}
	if testing.Short() {
		n, days = 60, 3
	}
	ctx := t.Context()
	dir := t.TempDir()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const seed = 7

	p, err := genPortfolio(n, seed, start)
	require.NoError(t, err)
	accountsFile, optOutsFile, promisesFile := writePortfolioFiles(t, dir, p)

	// The actual run's clock; the simulator stamps with it.
	clock := nudge.NewFixedClock(start)
	sim := twiliosim.New(twiliosim.Config{AccountSID: demoTwilioSID, AuthToken: demoTwilioToken, Seed: seed,
		Clock: clock, Speed: 1000,
		Mix: []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}}})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(func() { sim.Close() })
	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	publicURL := "http://" + ln.Addr().String()
	secret, err := demoSecret()
	require.NoError(t, err)
	cfg := Config{
		Database: "sqlite://" + filepath.Join(dir, "run.db"), Addr: ln.Addr().String(), PublicURL: publicURL, Secret: secret,
		Lenders: []LenderConfig{
			{ID: demoLenderUS, Name: "Acme Auto Finance", Language: "en", Timezone: "America/New_York", HelpPhone: "+18005550100",
				AgentPhone: "+18005550101", VoicemailBusinessName: "Acme Auto", VoicemailCallerName: "Sam Rivera"},
			{ID: demoLenderCN, Name: "华夏汽车金融", Language: "zh-CN", Timezone: "Asia/Shanghai", HelpPhone: "+864008200000",
				AgentPhone: "+864008200001", VoicemailCallerName: "李明"},
		},
		Worker: WorkerConfig{Concurrency: 16, ShutdownTimeout: 5 * time.Second},
		// Senders fast enough that no send waits for a token in real time.
		Twilio: TwilioConfig{AccountSID: demoTwilioSID, AuthToken: demoTwilioToken, From: demoTwilioFrom, BaseURL: sim.URL(),
			Timeout: 10 * time.Second, MPS: 5000, VoiceCPS: 5000},
		SMTP:   SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "Acme Auto Finance <reminders@demo.example>", TLS: "none", MPS: 5000},
		Prices: PricesConfig{Currency: "USD", SMS: SMSPriceConfig{PerSegment: "0.0079"}, Voice: VoicePriceConfig{PerMinute: "0.014"}, Email: EmailPriceConfig{PerMessage: "0.001"}},
		Log:    LogConfig{Level: "error", Format: "text"},
	}.WithDefaults()
	us, err := examples.FS.ReadFile("us-auto.yaml")
	require.NoError(t, err)
	cn, err := examples.FS.ReadFile("cn-auto.yaml")
	require.NoError(t, err)
	cads := map[string][]cadenceSource{
		demoLenderUS: {{name: "examples/us-auto.yaml", data: us}},
		demoLenderCN: {{name: "examples/cn-auto.yaml", data: cn}},
	}

	// The forecast, from the files, as `nudge forecast` reads them.
	a := &app{stdout: io.Discard, stderr: io.Discard}
	req := forecastRequest{cadences: cads, start: start, days: days, callMinutes: 1, loc: time.UTC}
	f, err := os.Open(accountsFile)
	require.NoError(t, err)
	req.accounts, err = parseForecastAccounts(accountsFile, f)
	f.Close()
	require.NoError(t, err)
	req.optOuts, err = readInputNDJSON(optOutsFile, forecast.ParseOptOuts)
	require.NoError(t, err)
	req.promises, err = readInputNDJSON(promisesFile, forecast.ParsePromises)
	require.NoError(t, err)
	began := time.Now()
	rep, err := a.forecast(ctx, cfg, req)
	require.NoError(t, err)
	require.Empty(t, rep.Errors)
	t.Logf("forecast of %d accounts over %d days: %s", n, days, time.Since(began).Round(time.Second))

	// The actual run.
	began = time.Now()
	run := actualRun(t, ctx, a, cfg, cads, p, clock, days, ln, sim, sink, rep)
	t.Logf("actual run: %s (%d runs of a reminder already suppressed)", time.Since(began).Round(time.Second), run.reruns)

	compareForecast(t, rep, run)
}

// writePortfolioFiles writes the portfolio as the forecast's input files.
func writePortfolioFiles(t *testing.T, dir string, p demoPortfolio) (accounts, optOuts, promises string) {
	t.Helper()
	write := func(name string, each func(enc *json.Encoder) error) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		require.NoError(t, err)
		defer f.Close()
		enc := json.NewEncoder(f)
		enc.SetEscapeHTML(false)
		require.NoError(t, each(enc))
		return path
	}
	accounts = write("accounts.ndjson", func(enc *json.Encoder) error {
		for _, a := range p.Accounts {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	})
	optOuts = write("opt-outs.ndjson", func(enc *json.Encoder) error {
		for _, o := range p.OptOuts {
			if err := enc.Encode(forecast.OptOutLine{Lender: o.Lender, Channel: o.Channel, Address: o.Address}); err != nil {
				return err
			}
		}
		return nil
	})
	promises = write("promises.ndjson", func(enc *json.Encoder) error {
		for _, pr := range p.Promises {
			if err := enc.Encode(forecast.PromiseLine{Lender: pr.Lender, AccountID: pr.AccountID, Due: pr.Due, Amount: pr.Amount}); err != nil {
				return err
			}
		}
		return nil
	})
	return accounts, optOuts, promises
}

// actualRun runs the portfolio on the demo's runtime with real workers and
// returns what reached the providers.
func actualRun(t *testing.T, ctx context.Context, a *app, cfg Config, cads map[string][]cadenceSource, p demoPortfolio,
	clock *nudge.FixedClock, days int, ln net.Listener, sim *twiliosim.Sim, sink *smtpsink.Sink, rep forecast.Report) *runCounts {
	t.Helper()
	start := clock.Now()
	mr := miniredis.NewMiniRedis()
	require.NoError(t, mr.Start())
	t.Cleanup(mr.Close)
	stopFF := fastForward(mr)
	t.Cleanup(stopFF)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	rt, err := a.newRuntime(ctx, cfg, runtimeOptions{clock: clock, rdb: rdb, cadences: cads})
	require.NoError(t, err)
	t.Cleanup(rt.Close)
	require.NoError(t, seedPortfolio(ctx, rt, p, start))

	// The HTTP role: the simulator fetches call TwiML and posts callbacks.
	h, err := rt.handler()
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	counts := newRunCounts()
	// The worker: the runtime's pipeline behind the real Asynq server. The
	// handler only watches: it notes when a deferred task is due on the
	// simulated clock and what became of each reminder.
	pipeline, err := rt.pipeline()
	require.NoError(t, err)
	handler := asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		err := pipeline.ProcessTask(ctx, task)
		pl, perr := dispatcher.ParsePayload(task.Payload())
		if perr != nil {
			return err
		}
		now := clock.Now()
		queue, _ := asynq.GetQueueName(ctx)
		r, _, lerr := rt.db.LoadReminder(ctx, pl.ReminderID)
		if lerr != nil {
			return errors.Join(err, lerr)
		}
		key := dayChannel{nudge.DateOf(now), r.Channel}
		var d *dispatcher.DelayError
		switch {
		case errors.As(err, &d):
			counts.setDue(pl.ReminderID, queue, now.Add(d.Delay))
			if errors.Is(d.Kind, dispatcher.ErrDeferred) {
				counts.mu.Lock()
				counts.deferred[key]++
				counts.mu.Unlock()
			}
		case err == nil && r.Status == nudge.ReminderSuppressed:
			counts.mu.Lock()
			defer counts.mu.Unlock()
			if counts.finished[r.ID] {
				counts.reruns++
				break // a second run of a finished reminder
			}
			counts.finished[r.ID] = true
			if counts.suppressed[key] == nil {
				counts.suppressed[key] = map[nudge.Reason]int{}
			}
			counts.suppressed[key][r.Reason]++
		}
		return err
	})
	weight, _, err := lenderFairness(cfg.Lenders)
	require.NoError(t, err)
	worker := dispatcher.NewServer(rt.rdb, handler, dispatcher.ServerConfig{
		Concurrency: cfg.Worker.Concurrency, ShutdownTimeout: cfg.Worker.ShutdownTimeout, Logger: rt.logger,
		LenderWeight: weight, Lenders: lenderIDs(cfg.Lenders), TaskCheckInterval: 5 * time.Millisecond,
		DiscoverEvery: 50 * time.Millisecond,
	})
	wctx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Run(wctx) }()
	t.Cleanup(func() {
		stopWorker()
		if err := <-workerDone; err != nil {
			t.Log("worker:", err)
		}
	})

	planner := rt.planner()
	planner.Enqueuer = &watchingEnqueuer{inner: rt.enq, clock: clock, counts: counts, seen: map[string]bool{}}
	insp := rt.enq.Inspector()
	var msgs, calls, mails, segs int
	end := start.Add(time.Duration(days) * 24 * time.Hour)
	for now := start; now.Before(end); now = now.Add(forecast.DefaultTick) {
		if now.After(start) && now.Sub(start)%(24*time.Hour) == 0 {
			logDay(t, rep, counts, nudge.DateOf(now.Add(-time.Minute)))
		}
		clock.Set(now)
		st, err := planner.Tick(ctx)
		require.NoError(t, err)
		due := counts.takeDue(now)
		for id, q := range due {
			// Scheduled or retrying at a real instant: it is due now on
			// the simulated clock. A task already pending is left as is.
			if err := insp.RunTask(q, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !strings.Contains(err.Error(), "already") {
				require.NoError(t, err, "run task %s on %s", id, q)
			}
		}
		if st.Planned+st.Enqueued+st.CaughtUp+st.Expired+st.BrokenPromises == 0 && len(due) == 0 {
			continue
		}
		waitDrained(t, ctx, insp)
		// What reached the providers since the last busy minute.
		var nm, ns int
		for _, m := range sim.Messages() {
			if m.Direction == "outbound-api" {
				nm++
				ns += m.NumSegments
			}
		}
		nc, ne := len(sim.Calls()), sink.Count()
		day := nudge.DateOf(now)
		counts.sent[dayChannel{day, nudge.SMS}] += nm - msgs
		counts.segments[dayChannel{day, nudge.SMS}] += ns - segs
		counts.sent[dayChannel{day, nudge.Voice}] += nc - calls
		counts.sent[dayChannel{day, nudge.Email}] += ne - mails
		msgs, segs, calls, mails = nm, ns, nc, ne
	}
	logDay(t, rep, counts, nudge.DateOf(end.Add(-time.Minute)))
	return counts
}

// logDay logs one day's sends per channel, forecast against run, as the
// run goes.
func logDay(t *testing.T, rep forecast.Report, counts *runCounts, day nudge.Date) {
	t.Helper()
	counts.mu.Lock()
	defer counts.mu.Unlock()
	var parts []string
	for _, r := range rep.Rows {
		if r.Date == day {
			k := dayChannel{day, r.Channel}
			parts = append(parts, fmt.Sprintf("%s sent %d/%d planned %d/%d hold %d/%d opted_out %d/%d", r.Channel, r.Sent, counts.sent[k],
				r.Planned, counts.planned[k], r.Suppressed[nudge.ReasonHold], counts.suppressed[k][nudge.ReasonHold],
				r.Suppressed[nudge.ReasonOptedOut], counts.suppressed[k][nudge.ReasonOptedOut]))
		}
	}
	t.Logf("%s forecast/run: %s", day, strings.Join(parts, "; "))
}

// waitDrained waits until no task is pending or running on any queue. It
// fails when the queues stop moving for two minutes (a large portfolio's
// due day takes longer than that to work off on a loaded machine, but
// never without progress).
func waitDrained(t *testing.T, ctx context.Context, insp *asynq.Inspector) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	quiet, last := 0, -1
	for {
		left := 0
		qs, err := insp.Queues()
		require.NoError(t, err)
		for _, q := range qs {
			info, err := insp.GetQueueInfo(q)
			require.NoError(t, err)
			left += info.Pending + info.Active
		}
		if left != last {
			last, deadline = left, time.Now().Add(2*time.Minute)
		}
		if left == 0 {
			// Twice in a row: a task between its dequeue and its lease
			// shows in neither count for an instant.
			if quiet++; quiet >= 2 {
				return
			}
		} else {
			quiet = 0
		}
		require.True(t, time.Now().Before(deadline), "queues did not drain: %d tasks pending or running for two minutes", left)
		// Look again soon when the queues look empty, less often while
		// many tasks are left (each look reads every queue's figures).
		wait := 3 * time.Millisecond
		if left > 100 {
			wait = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(wait):
		}
	}
}

// compareForecast checks the run against the forecast and logs both.
func compareForecast(t *testing.T, rep forecast.Report, run *runCounts) {
	t.Helper()
	var lines []string
	var totF, totR = map[nudge.ChannelKind]int{}, map[nudge.ChannelKind]int{}
	for _, row := range rep.Rows {
		k := dayChannel{row.Date, row.Channel}
		got := run.sent[k]
		totF[row.Channel] += row.Sent
		totR[row.Channel] += got
		lines = append(lines, fmt.Sprintf("%s %-5s planned %5d/%5d sent %5d/%5d segments %5d/%5d hold %3d/%3d opted_out %3d/%3d deferred %4d/%4d",
			row.Date, row.Channel, row.Planned, run.planned[k], row.Sent, got, row.Segments, run.segments[k],
			row.Suppressed[nudge.ReasonHold], run.suppressed[k][nudge.ReasonHold],
			row.Suppressed[nudge.ReasonOptedOut], run.suppressed[k][nudge.ReasonOptedOut], row.DeferredTotal(), run.deferred[k]))
		within := func(what string, f, r int) {
			diff := f - r
			if diff < 0 {
				diff = -diff
			}
			require.LessOrEqualf(t, float64(diff), forecastTolerance*float64(r),
				"%s %s %s: forecast %d, run %d (more than 5 %% apart)", row.Date, row.Channel, what, f, r)
		}
		defer within("sent", row.Sent, got)
		defer within("planned", row.Planned, run.planned[k])
		for _, reason := range []nudge.Reason{nudge.ReasonHold, nudge.ReasonOptedOut} {
			defer require.Equalf(t, row.Suppressed[reason], run.suppressed[k][reason], "%s %s suppressed %s", row.Date, row.Channel, reason)
		}
	}
	for k, v := range run.sent {
		if v > 0 && !hasRow(rep, k) {
			t.Errorf("%s %s: the run sent %d, the forecast has no row", k.day, k.ch, v)
		}
	}
	sort.Strings(lines)
	t.Logf("forecast/run per day and channel:\n%s", strings.Join(lines, "\n"))
	t.Logf("totals sent forecast/run: sms %d/%d voice %d/%d email %d/%d", totF[nudge.SMS], totR[nudge.SMS],
		totF[nudge.Voice], totR[nudge.Voice], totF[nudge.Email], totR[nudge.Email])
}

func hasRow(rep forecast.Report, k dayChannel) bool {
	for _, r := range rep.Rows {
		if r.Date == k.day && r.Channel == k.ch {
			return true
		}
	}
	return false
}
