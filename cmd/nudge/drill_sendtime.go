package main

import (
	"container/heap"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/sendtime"
)

// The send-time drill's simulated world.
const (
	sendTimeDrillName   = "send-time"
	sendTimeLender      = "sto"
	sendTimeTwilioSID   = "AC00000000000000000000000000000577"
	sendTimeTwilioToken = "stotoken0123456789abcdef"
	sendTimeTwilioFrom  = "+15005550007"
	// sendTimeStep is how far the simulated clock moves between ticks.
	sendTimeStep = 15 * time.Minute
	// sendTimeWindowStart and sendTimeWindowEnd are the calling hours the
	// export is checked against: Regulation F's 08:00-21:00 in the
	// borrower's local time (12 CFR 1006.6(b)(1)(i)), read from the rule,
	// not from Nudge's profile.
	sendTimeWindowStart = 8 * 60
	sendTimeWindowEnd   = 21 * 60
)

// sendTimePlaces are the drill's borrowers' homes: a state without a
// stricter overlay, an area code and the state's zone.
var sendTimePlaces = []struct{ region, area, zone string }{
	{"GA", "404", "America/New_York"},
	{"IL", "312", "America/Chicago"},
	{"CO", "303", "America/Denver"},
	{"CA", "213", "America/Los_Angeles"},
}

// sendTimeDrillOptions are the flags of `nudge drill --only send-time`.
type sendTimeDrillOptions struct {
	accounts int
	days     int
	seed     int64
	start    time.Time
	// off runs the same simulation with the optimiser off (the baseline).
	off bool
	// export, when set, is the CSV file the provider's calls are written to.
	export string
	// dir keeps the database and the log (a temporary directory when empty).
	dir string
	// concurrency is how many reminders the simulated workers process at once.
	concurrency int
	// priorWeight is send_time.prior_weight (0: the default).
	priorWeight float64
	// step is how far the clock moves between ticks (sendTimeStep when 0).
	step time.Duration
}

// sendTimeReport is what the send-time drill measured, from the provider's
// side.
type sendTimeReport struct {
	Accounts  int  `json:"accounts"`
	Days      int  `json:"days"`
	Optimiser bool `json:"optimiser"`
	// Calls is every call the provider received; Answered those a person
	// picked up; Outside those whose local start time was outside
	// 08:00-21:00.
	Calls, Answered, Outside int
	// Eligible are the borrowers with at least 10 calls; Matched those of
	// them whose chosen hour (the optimiser's best estimate after the
	// run) is their hidden best hour; LastMatched those whose last call
	// was placed in their best hour.
	Eligible, Matched, LastMatched int
	// Problems are the checks that failed.
	Problems []string
	Duration time.Duration
}

// MatchRate is Matched/Eligible.
func (r sendTimeReport) MatchRate() float64 {
	if r.Eligible == 0 {
		return 0
	}
	return float64(r.Matched) / float64(r.Eligible)
}

func (r sendTimeReport) write(w io.Writer) error {
	verdict := "ok"
	if len(r.Problems) > 0 {
		verdict = "FAIL"
	}
	last := 0.0
	if r.Eligible > 0 {
		last = float64(r.LastMatched) / float64(r.Eligible)
	}
	_, err := fmt.Fprintf(w, `drill send-time: %d borrowers, %d simulated days, optimiser %s
  calls at the provider:   %d (answered %d, %.1f%%)
  outside 08:00-21:00 local: %d
  borrowers with >=10 calls: %d
  chosen hour = best hour:   %d (%.1f%%)
  last call in best hour:    %d (%.1f%%)
  duration: %s  result: %s
`, r.Accounts, r.Days, onOff(r.Optimiser), r.Calls, r.Answered, pct(r.Answered, r.Calls), r.Outside, r.Eligible,
		r.Matched, 100*r.MatchRate(), r.LastMatched, 100*last, r.Duration.Round(100*time.Millisecond), verdict)
	for _, p := range r.Problems {
		if _, err := fmt.Fprintln(w, "  problem:", p); err != nil {
			return err
		}
	}
	return err
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func pct(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}

// sendTimeCadence calls every day from day 1 to days, except every
// seventh (Regulation F's 7 calls in 7 days would defer the seventh), at
// local midnight: the whole day is the optimiser's to choose from.
func sendTimeCadence(days int) []byte {
	var b strings.Builder
	b.WriteString(`name: sto-daily-calls
profile: us
applies_to:
  days_past_due: {min: 0, max: 90}
stop_when: [paid, hold, opt_out]
steps:
`)
	for d := 1; d <= days; d++ {
		if d%7 == 0 {
			continue
		}
		fmt.Fprintf(&b, "  - {id: call-%02d, day: %d, at: \"00:00\", channel: voice, template: late_voice}\n", d, d)
	}
	return []byte(b.String())
}

// sendTimeNumber is borrower i's number, in its place's area code.
func sendTimeNumber(i int) string {
	return fmt.Sprintf("+1%s555%04d", sendTimePlaces[i%len(sendTimePlaces)].area, i)
}

// runSendTimeDrill runs the send-time drill: the real planner (with the
// optimiser), the real send pipeline and webhooks, and twiliosim's
// borrowers with hidden best hours, on a simulated clock moved
// sendTimeStep at a time over the days. The queue between planner and
// workers is simulated (a heap by process time, as the Asynq scheduler
// would release the tasks at those simulated instants); everything else
// is the code a deployment runs. The figures are counted at the provider.
func (a *app) runSendTimeDrill(ctx context.Context, o sendTimeDrillOptions) (sendTimeReport, error) {
	rep := sendTimeReport{Accounts: o.accounts, Days: o.days, Optimiser: !o.off}
	began := time.Now()
	if o.accounts <= 0 || o.days <= 0 {
		return rep, fmt.Errorf("send-time drill: --accounts and --days must be positive, got %d and %d", o.accounts, o.days)
	}
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "nudge-sendtime-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	logFile, err := os.Create(filepath.Join(dir, "nudge.log"))
	if err != nil {
		return rep, err
	}
	defer logFile.Close()
	clock := nudge.NewFixedClock(o.start)

	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return rep, fmt.Errorf("in-process redis: %w", err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	defer ln.Close()
	publicURL := "http://" + ln.Addr().String()

	zones := map[string]*time.Location{}
	for i := range o.accounts {
		loc, err := nudge.LoadLocation(sendTimePlaces[i%len(sendTimePlaces)].zone)
		if err != nil {
			return rep, err
		}
		zones[sendTimeNumber(i)] = loc
	}
	// Every borrower picks up (a person, who presses nothing), mostly at
	// their hidden best hour.
	sim := twiliosim.New(twiliosim.Config{
		AccountSID: sendTimeTwilioSID, AuthToken: sendTimeTwilioToken, Seed: o.seed, Clock: clock,
		InboundURL: publicURL + twilio.InboundPath, Speed: 2000,
		Mix:   []twiliosim.Weight{{Behaviour: twiliosim.BehaviourPaid, Weight: 1}},
		Keys:  map[twiliosim.Behaviour]string{},
		Hours: twiliosim.Hours{Enabled: true, Zone: func(n string) *time.Location { return zones[n] }},
	})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return rep, fmt.Errorf("twilio simulator: %w", err)
	}
	defer sim.Close()

	cfg := Config{
		Database:  "sqlite://" + filepath.Join(dir, "nudge.db"),
		Addr:      ln.Addr().String(),
		PublicURL: publicURL,
		Secret:    strings.Repeat("s", 40),
		Lenders: []LenderConfig{{ID: sendTimeLender, Name: "STO Auto Finance", Language: "en", Timezone: "America/New_York",
			HelpPhone: "+18005550100", AgentPhone: "+18005550101", VoicemailCallerName: "Sam Rivera",
			SendTimeOptimisation: !o.off}},
		Worker: WorkerConfig{Concurrency: o.concurrency, ShutdownTimeout: 5 * time.Second},
		Twilio: TwilioConfig{AccountSID: sendTimeTwilioSID, AuthToken: sendTimeTwilioToken, From: sendTimeTwilioFrom,
			BaseURL: sim.URL(), Timeout: 10 * time.Second, MPS: 10000, VoiceCPS: 10000},
		// Calls are answered at once: count them an hour later.
		SendTime: SendTimeConfig{Seed: uint64(o.seed), Settle: time.Hour, PriorWeight: o.priorWeight},
		Log:      LogConfig{Level: "warn", Format: "json"},
	}.WithDefaults()
	drillApp := *a
	drillApp.stderr = logFile
	rt, err := drillApp.newRuntime(ctx, cfg, runtimeOptions{
		clock: clock, rdb: rdb,
		cadences: map[string][]cadenceSource{sendTimeLender: {{name: "sto-daily-calls.yaml", data: sendTimeCadence(o.days)}}},
	})
	if err != nil {
		return rep, err
	}
	defer rt.Close()
	h, err := rt.handler()
	if err != nil {
		return rep, err
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	srvDone := make(chan error, 1)
	go func() { srvDone <- rt.serveHTTP(srvCtx, ln, h) }()
	defer func() {
		stopSrv()
		if err := <-srvDone; err != nil && !errors.Is(err, net.ErrClosed) {
			fmt.Fprintln(logFile, "send-time drill: http server:", err)
		}
	}()

	start := clock.Now()
	accts := make([]nudge.Account, o.accounts)
	for i := range accts {
		p := sendTimePlaces[i%len(sendTimePlaces)]
		lang := "en"
		if i%3 == 2 {
			lang = "es"
		}
		num := sendTimeNumber(i)
		accts[i] = nudge.Account{
			ID: fmt.Sprintf("STO-%05d", i+1), Lender: sendTimeLender, Portfolio: "auto",
			Borrower: nudge.Borrower{Name: "Borrower " + strconv.Itoa(i+1), Language: lang, Timezone: p.zone},
			Address:  &nudge.Address{Country: "US", Region: p.region},
			Contacts: []nudge.Contact{{Channel: nudge.Voice, Address: num, Consent: true}},
			Currency: "USD", AmountDue: "250.00", Status: nudge.StatusActive,
			DueDate: nudge.DateOf(start.In(zones[num])),
		}
	}
	if err := rt.db.UpsertAccounts(ctx, accts, start); err != nil {
		return rep, err
	}
	pipe, err := rt.pipeline()
	if err != nil {
		return rep, err
	}
	q := &simQueue{}
	planner := rt.planner()
	planner.Enqueuer = q
	end := start.Add(time.Duration(o.days+1) * 24 * time.Hour)
	step := o.step
	if step <= 0 {
		step = sendTimeStep
	}
	for t := start; t.Before(end); t = t.Add(step) {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		clock.Set(t)
		if _, err := planner.Tick(ctx); err != nil {
			return rep, fmt.Errorf("planning at %s: %w", t.Format(time.RFC3339), err)
		}
		if err := q.runDue(ctx, t, pipe, max(o.concurrency, 1)); err != nil {
			return rep, fmt.Errorf("sending at %s: %w", t.Format(time.RFC3339), err)
		}
		idleCtx, cancel := context.WithTimeout(ctx, time.Minute)
		err := sim.Idle(idleCtx)
		cancel()
		if err != nil {
			return rep, fmt.Errorf("waiting for the simulated calls at %s: %w", t.Format(time.RFC3339), err)
		}
	}
	calls := sim.Calls()
	if o.export != "" {
		if err := exportSendTimeCalls(o.export, calls, zones, sim); err != nil {
			return rep, err
		}
	}
	if err := rep.check(ctx, rt, accts, calls, zones, sim, clock.Now()); err != nil {
		return rep, err
	}
	rep.Duration = time.Since(began)
	return rep, nil
}

// check counts, at the provider, the calls, those outside the window and
// the borrowers whose chosen hour is their best hour.
func (r *sendTimeReport) check(ctx context.Context, rt *runtime, accts []nudge.Account, calls []twiliosim.Call,
	zones map[string]*time.Location, sim *twiliosim.Sim, now time.Time) error {
	byNumber := map[string][]twiliosim.Call{}
	for _, c := range calls {
		r.Calls++
		if c.AnsweredBy == "human" || (c.Status == "completed" && c.Duration > 0) {
			r.Answered++
		}
		local := c.StartTime.In(zones[c.To])
		if m := local.Hour()*60 + local.Minute(); m < sendTimeWindowStart || m >= sendTimeWindowEnd {
			r.Outside++
		}
		byNumber[c.To] = append(byNumber[c.To], c)
	}
	if r.Outside > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d calls started outside 08:00-21:00 local", r.Outside))
	}
	// The chosen hour: the optimiser's best estimate for a call the day
	// after the run, from the counts of the whole run.
	opt := rt.sendTimes()
	if opt == nil {
		opt = &sendtime.Optimiser{Source: rt.db, Enabled: func(string) bool { return true },
			Seed: rt.cfg.SendTime.Seed, Settle: rt.cfg.SendTime.Settle}
	}
	batch, err := opt.Prepare(ctx, accts, now)
	if err != nil {
		return err
	}
	profile, err := rt.reg.Lookup("us")
	if err != nil {
		return err
	}
	for _, a := range accts {
		num := a.Contacts[0].Address
		cs := byNumber[num]
		if len(cs) < 10 {
			continue
		}
		r.Eligible++
		best, _ := sim.BestHour(num)
		sort.Slice(cs, func(i, j int) bool { return cs[i].StartTime.Before(cs[j].StartTime) })
		if cs[len(cs)-1].StartTime.In(zones[num]).Hour() == best {
			r.LastMatched++
		}
		loc := compliance.PrimaryLocationOf(a, profile)
		day := nudge.DateOf(now.In(loc)).AddDays(1)
		from := day.In(loc, 0, 0)
		ch, ok := batch.Choose(sendtime.Request{Key: "drill/" + a.ID, Account: a, Channel: nudge.Voice, Profile: profile,
			Location: loc, From: from, Until: day.AddDays(1).In(loc, 0, 0)})
		if ok && ch.Best == best {
			r.Matched++
		}
	}
	if r.Optimiser && r.MatchRate() < 0.8 {
		r.Problems = append(r.Problems, fmt.Sprintf("the chosen hour is the best hour for %.1f%% of %d borrowers with 10 calls or more, under 80%%",
			100*r.MatchRate(), r.Eligible))
	}
	if r.Eligible == 0 {
		r.Problems = append(r.Problems, "no borrower got 10 calls")
	}
	return nil
}

// exportSendTimeCalls writes what reached the provider: one row per call
// with its start in UTC and in the borrower's local time.
func exportSendTimeCalls(path string, calls []twiliosim.Call, zones map[string]*time.Location, sim *twiliosim.Sim) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"call_sid", "to", "zone", "start_utc", "start_local", "local_hour", "status", "answered_by", "best_hour"})
	sort.Slice(calls, func(i, j int) bool { return calls[i].StartTime.Before(calls[j].StartTime) })
	for _, c := range calls {
		loc := zones[c.To]
		best, _ := sim.BestHour(c.To)
		local := c.StartTime.In(loc)
		_ = w.Write([]string{c.SID, c.To, loc.String(), c.StartTime.UTC().Format(time.RFC3339), local.Format("2006-01-02T15:04:05"),
			strconv.Itoa(local.Hour()), c.Status, c.AnsweredBy, strconv.Itoa(best)})
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}

// simQueue stands in for the Asynq queues on a simulated clock: it holds
// each reminder until its process instant, as the Asynq scheduler would.
type simQueue struct {
	mu sync.Mutex
	h  simHeap
	// queued de-duplicates by reminder id, as a TaskID does.
	queued map[string]bool
}

// Enqueue implements schedules.Enqueuer.
func (q *simQueue) Enqueue(_ context.Context, r nudge.Reminder, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queued == nil {
		q.queued = map[string]bool{}
	}
	if q.queued[r.ID] {
		return nil
	}
	q.queued[r.ID] = true
	heap.Push(&q.h, simTask{id: r.ID, at: at})
	return nil
}

// runDue runs every task due by now through the pipeline, workers at a
// time; a deferral puts the task back at its new instant, a failure a
// simulated minute later.
func (q *simQueue) runDue(ctx context.Context, now time.Time, pipe *dispatcher.Pipeline, workers int) error {
	q.mu.Lock()
	var due []simTask
	for q.h.Len() > 0 && !q.h[0].at.After(now) {
		t := heap.Pop(&q.h).(simTask)
		delete(q.queued, t.id)
		due = append(due, t)
	}
	q.mu.Unlock()
	var (
		wg   sync.WaitGroup
		next = make(chan simTask)
	)
	for range workers {
		wg.Go(func() {
			for t := range next {
				err := pipe.Process(ctx, t.id)
				var d *dispatcher.DelayError
				switch {
				case err == nil:
				case errors.As(err, &d):
					q.push(simTask{id: t.id, at: now.Add(d.Delay), tries: t.tries})
				case t.tries < 3:
					q.push(simTask{id: t.id, at: now.Add(time.Minute), tries: t.tries + 1})
				}
			}
		})
	}
	for _, t := range due {
		select {
		case next <- t:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

func (q *simQueue) push(t simTask) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queued == nil {
		q.queued = map[string]bool{}
	}
	q.queued[t.id] = true
	heap.Push(&q.h, t)
}

// simTask is one queued reminder.
type simTask struct {
	id    string
	at    time.Time
	tries int
}

// simHeap orders tasks by process instant.
type simHeap []simTask

func (h simHeap) Len() int           { return len(h) }
func (h simHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h simHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *simHeap) Push(x any)        { *h = append(*h, x.(simTask)) }
func (h *simHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
