package drill

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

// scenario is the shape every drill shares: build the world, start the
// processes, disturb them while the reminders go out, check.
type scenario struct {
	env envConfig
	// roles are the processes to run.
	roles []roleCount
	// before runs before the processes start; it returns the provider
	// failures injected per number.
	before func(ctx context.Context, e *env) (map[string]int, error)
	// tick runs at every poll until every reminder is final.
	tick func(ctx context.Context, e *env, p progress) error
	// after runs once every reminder is final, before the checks.
	after func(ctx context.Context, e *env, res *Result) error
	// allSent requires every reminder to end sent (no crash was caused).
	allSent bool
	// chaos describes what was done, for the report.
	chaos func() string
}

func (s scenario) run(ctx context.Context, o Options, name string, res *Result) error {
	e, err := newEnv(ctx, o, name, s.env)
	if err != nil {
		return err
	}
	defer e.close()
	injected := map[string]int{}
	if s.before != nil {
		if injected, err = s.before(ctx, e); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := e.startAll(s.roles); err != nil {
		return err
	}
	var tick func(progress) error
	if s.tick != nil {
		tick = func(p progress) error { return s.tick(ctx, e, p) }
	}
	if err := e.waitFinal(ctx, tick); err != nil {
		return err
	}
	res.Duration = time.Since(start)
	// A late duplicate would show within a few poll intervals of a
	// redelivered task: give it the chance before counting.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.after != nil {
		if err := s.after(ctx, e, res); err != nil {
			return err
		}
	}
	if err := e.verify(ctx, res, injected); err != nil {
		return err
	}
	if s.allSent && res.Sent != res.Reminders {
		res.problemf("%d of %d reminders sent; with no crash every one must be", res.Sent, res.Reminders)
	}
	e.mu.Lock()
	for _, x := range e.exits {
		res.problemf("%s", x)
	}
	e.mu.Unlock()
	if s.chaos != nil {
		res.Chaos = s.chaos()
	}
	return nil
}

// runWorkerKill kills a worker with SIGKILL every KillEvery and starts a
// replacement; the tasks of the dead worker come back through Asynq's lease
// recovery, and a send it left half-done is marked unknown, never repeated
// blind: the reconciler finds it at the provider or releases it.
func runWorkerKill(ctx context.Context, o Options, res *Result) error {
	var (
		kills, held int
		finalAtKill = 0
		aged        = map[string]bool{}
		lastKill    time.Time
		replace     bool // the last worker killed is still to be replaced
	)
	return scenario{
		// A short hold on every create request puts sends in flight when
		// the worker dies, the case the claim protects.
		env:   envConfig{sim: twiliosim.Config{CreateDelay: 200 * time.Millisecond}},
		roles: []roleCount{{"scheduler", 1}, {"worker", 2}},
		tick: func(ctx context.Context, e *env, p progress) error {
			ids, err := ageStaleLeases(ctx, e.q.rdb, smsQueue, time.Now())
			if err != nil {
				return err
			}
			for _, id := range ids {
				aged[id] = true
			}
			// The replacement starts once the dead worker's leases are
			// aged, so that its recoverer hands them back as it starts
			// (Asynq's next look is a minute later).
			if replace {
				if time.Since(lastKill) < deadLeasesAged {
					return nil
				}
				replace = false
				_, err := e.start("worker")
				return err
			}
			// A worker is killed while the provider holds a create request
			// it sent, one worker down at a time, at most once every
			// KillEvery and only once the run has moved on since the last
			// kill: on a slow or loaded machine, killing workers before
			// they work would test nothing and starve the run.
			moved := p.final+p.byStatus[nudge.ReminderUnknown] > finalAtKill
			if time.Since(lastKill) < o.KillEvery || !moved {
				return nil
			}
			for _, w := range e.live("worker") {
				n, err := e.heldFrom(w, 2*o.KillEvery)
				if err != nil {
					return err
				}
				if n == 0 {
					continue
				}
				finalAtKill, lastKill = p.final+p.byStatus[nudge.ReminderUnknown], time.Now()
				if err := e.kill(w); err != nil {
					return err
				}
				kills, held, replace = kills+1, held+n, true
				return nil
			}
			return nil
		},
		after: func(_ context.Context, _ *env, res *Result) error {
			if kills == 0 {
				res.problemf("the run ended before a worker could be killed with a send in flight: raise --reminders")
			}
			return nil
		},
		chaos: func() string {
			return fmt.Sprintf("%d worker(s) killed with SIGKILL while the provider held create requests they had sent (%d in all), each replaced %s later; the leases of %d tasks they held handed back",
				kills, held, deadLeasesAged, len(aged))
		},
	}.run(ctx, o, "worker-kill", res)
}

// heldFrom returns how many create requests the provider is holding (not
// yet answered) that came from p's connections. Where there is no /proc to
// read them from (any system but Linux), it counts every held request once
// p has run for minAge, time enough to have started and taken work.
func (e *env) heldFrom(p *proc, minAge time.Duration) (int, error) {
	var ports map[int]bool
	if _, err := os.Stat("/proc/self/net/tcp"); err == nil {
		if ports, err = tcpPorts(p.cmd.Process.Pid); err != nil {
			if p.exited() {
				return 0, nil
			}
			return 0, err
		}
	} else if time.Since(p.started) < minAge {
		return 0, nil
	}
	n := 0
	for _, rq := range e.sim.Requests() {
		if rq.Status == 0 && rq.SID == "" && (ports == nil || ports[portOf(rq.RemoteAddr)]) {
			n++
		}
	}
	return n, nil
}

// runProviderFaults spoils a share of the provider's create requests: it
// accepts and drops the connection, accepts and answers after the client's
// timeout, or refuses with 429 or 500 before accepting. Every reminder must
// still reach the provider exactly once.
func runProviderFaults(ctx context.Context, o Options, res *Result) error {
	faults := twiliosim.Faults{Share: o.FaultShare, SlowFor: 2 * providerTimeout,
		Kinds: []twiliosim.FaultKind{twiliosim.FaultAcceptDrop, twiliosim.FaultAcceptSlow, twiliosim.FaultRefuse429, twiliosim.FaultRefuse500}}
	return scenario{
		env:     envConfig{sim: twiliosim.Config{Faults: faults}},
		roles:   []roleCount{{"scheduler", 1}, {"worker", 2}},
		allSent: true,
		chaos: func() string {
			return fmt.Sprintf("%.0f%% of create requests spoiled: accepted then the connection dropped, accepted then answered after %s (the client gives up at %s), or refused with 429/500",
				100*o.FaultShare, faults.SlowFor, providerTimeout)
		},
	}.run(ctx, o, "provider-faults", res)
}

// runDBKill kills every database connection of the processes DBKills
// times, DBKillEvery apart, while the reminders go out.
func runDBKill(ctx context.Context, o Options, res *Result) error {
	var (
		kills, killed int
		last          = time.Now()
	)
	return scenario{
		env:     envConfig{killableDB: true},
		roles:   []roleCount{{"scheduler", 1}, {"worker", 2}},
		allSent: true,
		tick: func(ctx context.Context, e *env, p progress) error {
			// The kills start once the processes are up and planning.
			if kills >= o.DBKills || p.planned == 0 || time.Since(last) < o.DBKillEvery {
				return nil
			}
			last = time.Now()
			n, err := e.killConnections(ctx)
			if err != nil {
				return err
			}
			kills++
			killed += n
			return nil
		},
		after: func(_ context.Context, _ *env, res *Result) error {
			if kills == 0 {
				res.problemf("the run ended before the first kill: raise --reminders")
			}
			return nil
		},
		chaos: func() string {
			return fmt.Sprintf("every database connection killed %d times, %s apart (%d connections in all)", kills, o.DBKillEvery, killed)
		},
	}.run(ctx, o, "db-kill", res)
}

// runRedisRestart crashes Redis and starts it again from its append-only
// file when a third of the reminders are final, and flushes it when two
// thirds are: what the flush lost comes back from the ledger.
func runRedisRestart(ctx context.Context, o Options, res *Result) error {
	var (
		restarted, flushed bool
		downtime           time.Duration
		lostTasks          int64
	)
	return scenario{
		env:   envConfig{ownRedis: true},
		roles: []roleCount{{"scheduler", 1}, {"worker", 2}},
		tick: func(ctx context.Context, e *env, p progress) error {
			switch {
			case !restarted && p.final >= o.Reminders/3:
				restarted = true
				t := time.Now()
				if err := e.q.own.restart(ctx, true, 2*time.Second); err != nil {
					return err
				}
				downtime = time.Since(t)
			case restarted && !flushed && p.final >= 2*o.Reminders/3:
				flushed = true
				n, err := e.q.rdb.DBSize(ctx).Result()
				if err != nil {
					return fmt.Errorf("counting keys before the flush: %w", err)
				}
				lostTasks = n
				if err := e.q.rdb.FlushAll(ctx).Err(); err != nil {
					return fmt.Errorf("flushing redis: %w", err)
				}
			}
			return nil
		},
		after: func(_ context.Context, _ *env, res *Result) error {
			if !restarted || !flushed {
				res.problemf("the run ended before the restart and the flush (restarted %t, flushed %t)", restarted, flushed)
			}
			return nil
		},
		chaos: func() string {
			return fmt.Sprintf("redis-server killed (SIGKILL) and restarted from its AOF (down %s) at 1/3 final; FLUSHALL of %d keys at 2/3 final",
				downtime.Round(100*time.Millisecond), lostTasks)
		},
	}.run(ctx, o, "redis-restart", res)
}

// runDBOutage cuts the processes off from PostgreSQL for Outage when a
// third of the reminders are final.
func runDBOutage(ctx context.Context, o Options, res *Result) error {
	var cutAt, restoredAt time.Time
	return scenario{
		env:   envConfig{proxyDB: true},
		roles: []roleCount{{"scheduler", 1}, {"worker", 2}},
		tick: func(_ context.Context, e *env, p progress) error {
			switch {
			case cutAt.IsZero() && p.final >= o.Reminders/3:
				cutAt = time.Now()
				e.proxy.SetDown(true)
			case !cutAt.IsZero() && restoredAt.IsZero() && time.Since(cutAt) >= o.Outage:
				restoredAt = time.Now()
				e.proxy.SetDown(false)
			}
			return nil
		},
		after: func(_ context.Context, e *env, res *Result) error {
			if cutAt.IsZero() {
				res.problemf("the run ended before the outage")
			}
			if restoredAt.IsZero() {
				e.proxy.SetDown(false)
			}
			return nil
		},
		chaos: func() string {
			return fmt.Sprintf("PostgreSQL unreachable for %s at 1/3 final (every connection through the proxy dropped, new ones refused)",
				restoredAt.Sub(cutAt).Round(100*time.Millisecond))
		},
	}.run(ctx, o, "db-outage", res)
}

// runProviderBursts makes the provider answer 500 to a quarter of the
// numbers and 429 to another quarter, up to Burst times in a row each.
func runProviderBursts(ctx context.Context, o Options, res *Result) error {
	var n500, n429 int
	return scenario{
		roles: []roleCount{{"scheduler", 1}, {"worker", 2}},
		before: func(_ context.Context, e *env) (map[string]int, error) {
			injected := map[string]int{}
			for i := range e.accounts {
				k := bursts(i, o.Burst)
				switch {
				case k == 0:
					continue
				case i%4 == 1:
					e.sim.FailCreates(number(i), k, http.StatusInternalServerError, 20500)
					n500 += k
				default:
					e.sim.FailCreates(number(i), k, http.StatusTooManyRequests, 20429)
					n429 += k
				}
				injected[number(i)] = k
			}
			return injected, nil
		},
		after: func(_ context.Context, e *env, res *Result) error {
			for i, a := range e.accounts {
				// (verify counts calls beyond the failures; fewer means the
				// dispatcher gave up early on a transient failure.)
				if c, want := e.sim.CreateCount(number(i)), bursts(i, o.Burst)+1; c < want {
					res.problemf("%s: %d provider calls, want %d (a transient failure was not retried)", a.ID, c, want)
				}
			}
			return nil
		},
		allSent: true,
		chaos: func() string {
			return fmt.Sprintf("%d answers 500 (code 20500) and %d answers 429 (code 20429), up to %d in a row per number", n500, n429, o.Burst)
		},
	}.run(ctx, o, "provider-bursts", res)
}

// bursts is how many failures the provider-bursts drill gives account i:
// none to even accounts, and from 1 to burst to odd ones (answered 500 when
// i%4 is 1, 429 when it is 3).
func bursts(i, burst int) int {
	if i%2 == 0 {
		return 0
	}
	return 1 + (i/4)%burst
}

// runReplicas runs two schedulers and three workers on one Redis and one
// database: every reminder is planned once and sent once.
func runReplicas(ctx context.Context, o Options, res *Result) error {
	return scenario{
		roles:   []roleCount{{"scheduler", 2}, {"worker", 3}},
		allSent: true,
		chaos:   func() string { return "2 schedulers and 3 workers on one Redis and one database" },
	}.run(ctx, o, "replicas", res)
}

// runWebhooks lets the simulator's status callbacks reach an api process,
// then replays every one duplicated and out of order, posts forged ones,
// and sends some inbound STOPs twice.
func runWebhooks(ctx context.Context, o Options, res *Result) error {
	var w webhookStats
	return scenario{
		env:     envConfig{api: true},
		roles:   []roleCount{{"api", 1}, {"scheduler", 1}, {"worker", 1}},
		allSent: true,
		after: func(ctx context.Context, e *env, res *Result) error {
			return replayWebhooks(ctx, e, res, &w)
		},
		chaos: func() string {
			return fmt.Sprintf("%d status callbacks replayed (%d duplicates, %d out of order), %d forged refused with 403; "+
				"%d inbound STOPs each posted twice gave %d opt-outs", w.replayed, w.duplicates, w.outOfOrder, w.forged, w.stops, w.optOuts)
		},
	}.run(ctx, o, "webhooks", res)
}

// webhookStats counts what replayWebhooks posted.
type webhookStats struct {
	mu                               sync.Mutex
	replayed, duplicates, outOfOrder int
	forged, stops, optOuts           int
}

func (w *webhookStats) add(dup, ooo, forged int) {
	w.mu.Lock()
	w.replayed += dup + ooo
	w.duplicates += dup
	w.outOfOrder += ooo
	w.forged += forged
	w.mu.Unlock()
}

// webhookClient posts signed (or forged) forms to the api process.
type webhookClient struct {
	e    *env
	http *http.Client
}

// post sends form to path signed with token ("" sends no signature) and
// returns the status code.
func (c webhookClient) post(ctx context.Context, path string, form url.Values, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.e.publicURL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set(twilio.SignatureHeader, twilio.SignRequest(token, c.e.publicURL+path, form))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting %s: %w", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func statusForm(m twiliosim.Message, status string, code int) url.Values {
	f := url.Values{
		"AccountSid": {accountSID}, "ApiVersion": {"2010-04-01"}, "From": {m.From}, "To": {m.To},
		"MessageSid": {m.SID}, "SmsSid": {m.SID}, "MessageStatus": {status}, "SmsStatus": {status},
	}
	if code != 0 {
		f.Set("ErrorCode", strconv.Itoa(code))
	}
	return f
}

// replayWebhooks is the webhooks drill's disturbance and its checks.
func replayWebhooks(ctx context.Context, e *env, res *Result, w *webhookStats) error {
	ictx, cancel := context.WithTimeout(ctx, time.Minute)
	err := e.sim.Idle(ictx) // every callback the simulator owes has been posted
	cancel()
	if err != nil {
		return err
	}
	c := webhookClient{e: e, http: &http.Client{Timeout: 10 * time.Second}}
	var out []twiliosim.Message
	for _, m := range e.sim.Messages() {
		if m.Direction == "outbound-api" {
			out = append(out, m)
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		jobs = make(chan twiliosim.Message)
	)
	for range 8 {
		wg.Go(func() {
			for m := range jobs {
				if err := replayOne(ctx, c, m, res, &mu, w); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range out {
		jobs <- m
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return inboundStops(ctx, c, e, res, w)
}

// replayOne posts m's final status twice, its earlier statuses after it,
// and forged failures, and checks the attempt ends as the provider says.
func replayOne(ctx context.Context, c webhookClient, m twiliosim.Message, res *Result, mu *sync.Mutex, w *webhookStats) error {
	path := twilio.StatusCallbackPath
	problem := func(format string, args ...any) {
		mu.Lock()
		res.problemf(format, args...)
		mu.Unlock()
	}
	final := statusForm(m, m.Status, m.ErrorCode)
	for range 2 {
		code, err := c.post(ctx, path, final, authToken)
		if err != nil {
			return err
		}
		if code/100 != 2 {
			problem("duplicate %s callback of %s answered %d", m.Status, m.SID, code)
		}
	}
	for _, earlier := range []string{"sent", "queued"} {
		code, err := c.post(ctx, path, statusForm(m, earlier, 0), authToken)
		if err != nil {
			return err
		}
		if code/100 != 2 {
			problem("late %s callback of %s answered %d", earlier, m.SID, code)
		}
	}
	forged := statusForm(m, "undelivered", 30005)
	for _, token := range []string{authToken + "x", ""} {
		code, err := c.post(ctx, path, forged, token)
		if err != nil {
			return err
		}
		if !refused(code) {
			problem("forged callback of %s answered %d, want 403 (or 429 once the address is over its limit)", m.SID, code)
		}
	}
	w.add(2, 2, 2)
	att, err := c.e.db.AttemptByProviderID(ctx, m.SID)
	if err != nil {
		return fmt.Errorf("attempt of %s: %w", m.SID, err)
	}
	if want := twilio.StatusFromTwilio(m.Status); att.Status != want {
		problem("attempt %s is %s after the replays; the provider says %s", att.ID, att.Status, want)
	}
	return nil
}

// inboundStops posts STOP twice (same MessageSid) from every tenth
// borrower and a forged STOP from others: each real one opts out once, the
// forged ones not at all.
func inboundStops(ctx context.Context, c webhookClient, e *env, res *Result, w *webhookStats) error {
	want := map[string]bool{}
	for i := range e.accounts {
		var token string
		switch i % 10 {
		case 0:
			token = authToken
			want[number(i)] = true
		case 5:
			token = authToken + "x"
		default:
			continue
		}
		f := url.Values{"AccountSid": {accountSID}, "MessageSid": {fmt.Sprintf("SMdrillstop%05d", i)}, "From": {number(i)},
			"To": {from}, "Body": {"STOP"}, "NumMedia": {"0"}}
		for range 2 {
			code, err := c.post(ctx, twilio.InboundPath, f, token)
			if err != nil {
				return err
			}
			switch {
			case token == authToken && code/100 != 2:
				res.problemf("inbound STOP from %s answered %d", e.accounts[i].ID, code)
			case token != authToken && !refused(code):
				res.problemf("forged inbound STOP from %s answered %d, want 403 (or 429 once the address is over its limit)", e.accounts[i].ID, code)
			}
		}
		if token == authToken {
			w.stops++
		} else {
			w.forged += 2
		}
	}
	oos, err := e.db.ListOptOuts(ctx, lender)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, oo := range oos {
		if oo.Channel == nudge.SMS {
			seen[oo.Address]++
		}
	}
	w.optOuts = len(oos)
	for n := range want {
		if seen[n] != 1 {
			res.problemf("%s sent STOP twice and has %d opt-outs, want 1", n, seen[n])
		}
	}
	for n, k := range seen {
		if !want[n] {
			res.problemf("%s has %d opt-outs but only a forged STOP came from it", n, k)
		}
	}
	return nil
}

// refused reports whether a forged webhook was refused without effect: 403
// for its signature, or 429 once the sender's address has sent too many
// requests without a valid signature.
func refused(code int) bool {
	return code == http.StatusForbidden || code == http.StatusTooManyRequests
}

// runRedisSentinel runs the reminders through a Sentinel set and kills its
// primary with SIGKILL when a third of them are final: the sentinels promote
// the replica, every process follows it, and what the asynchronous
// replication lost comes back from the ledger.
func runRedisSentinel(ctx context.Context, o Options, res *Result) error {
	return runRedisFailover(ctx, o, res, "redis-sentinel", topologySentinel)
}

// runRedisCluster is runRedisSentinel on a three-primary Redis Cluster,
// killing the primary that serves the reminder queues' slot.
func runRedisCluster(ctx context.Context, o Options, res *Result) error {
	return runRedisFailover(ctx, o, res, "redis-cluster", topologyCluster)
}

func runRedisFailover(ctx context.Context, o Options, res *Result, name, topology string) error {
	var (
		killed   string
		promoted time.Duration
	)
	return scenario{
		env:     envConfig{topology: topology},
		roles:   []roleCount{{"scheduler", 1}, {"worker", 2}},
		allSent: true,
		tick: func(ctx context.Context, e *env, p progress) error {
			if killed != "" || p.final < o.Reminders/3 {
				return nil
			}
			var err error
			killed, promoted, err = e.q.set.killPrimary(ctx, smsQueue)
			return err
		},
		after: func(_ context.Context, _ *env, res *Result) error {
			if killed == "" {
				res.problemf("the run ended before the primary was killed: raise --reminders")
			}
			return nil
		},
		chaos: func() string {
			return fmt.Sprintf("the %s primary serving the queues (%s) killed with SIGKILL at 1/3 final; a replica took over in %s",
				topology, killed, promoted.Round(100*time.Millisecond))
		},
	}.run(ctx, o, name, res)
}
