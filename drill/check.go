package drill

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/dispatcher"
)

// progress is how far a run has come.
type progress struct {
	planned, final int
	byStatus       map[nudge.ReminderStatus]int
}

func (e *env) progress(ctx context.Context) (progress, error) {
	counts, err := e.db.CountRemindersByStatus(ctx, lender)
	if err != nil {
		return progress{}, err
	}
	p := progress{byStatus: counts}
	for s, n := range counts {
		p.planned += n
		// An unknown reminder is not settled: the reconciler resolves it.
		if s.Terminal() && s != nudge.ReminderUnknown {
			p.final += n
		}
	}
	return p, nil
}

// waitFinal polls until every reminder is planned and final, calling tick
// with the progress each time (a drill's chaos hangs there) and restarting
// processes that died by themselves. It returns an error only when ctx ends
// or tick fails; a deadline passing just stops the wait.
func (e *env) waitFinal(ctx context.Context, tick func(progress) error) error {
	deadline := time.Now().Add(e.opts.Deadline)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	lastLog := time.Now()
	for {
		p, err := e.progress(ctx)
		switch {
		case err != nil:
			// The drill's own connection may be cut too (Redis or the proxy
			// is not on its path, but PostgreSQL may be busy): try again.
		case p.planned >= e.opts.Reminders && p.final >= p.planned:
			return nil
		case tick != nil:
			if err := tick(p); err != nil {
				return err
			}
		}
		if time.Since(lastLog) >= 5*time.Second {
			fmt.Fprintf(e.opts.Log, "  %s: %d planned, %d final of %d\n", e.name, p.planned, p.final, e.opts.Reminders)
			lastLog = time.Now()
		}
		if err := e.reviveExited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// A live worker extends the leases of its tasks every five seconds to
// leaseAhead ahead (Asynq's heartbeat); a lease expiring within staleWithin
// has not been extended for leaseAhead-staleWithin and belongs to a dead
// worker.
const (
	leaseAhead  = 30 * time.Second
	staleWithin = 18 * time.Second
	// deadLeasesAged is how long after a worker dies ageStaleLeases has
	// aged every lease it held, polled every tick.
	deadLeasesAged = leaseAhead - staleWithin + time.Second
)

// ageStaleLeases makes Asynq's recoverer hand back, at the next worker's
// start, the tasks of workers that died: those whose leases have not been
// extended for leaseAhead-staleWithin. Asynq itself would recover them a
// minute or two later; ageing them stands in for that wait. It returns the
// ids of the tasks whose leases it aged.
func ageStaleLeases(ctx context.Context, rdb redis.UniversalClient, queue string, now time.Time) ([]string, error) {
	key := "asynq:{" + queue + "}:lease"
	ids, err := rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, ByScore: true, Start: "-inf", Stop: fmt.Sprint(now.Add(staleWithin).Unix())}).Result()
	if err != nil {
		return nil, fmt.Errorf("reading leases: %w", err)
	}
	past := float64(now.Add(-2 * time.Minute).Unix())
	for _, id := range ids {
		if err := rdb.ZAddXX(ctx, key, redis.Z{Score: past, Member: id}).Err(); err != nil {
			return nil, fmt.Errorf("ageing lease of %s: %w", id, err)
		}
	}
	return ids, nil
}

// verify checks the invariants from the provider's side — what the
// simulator accepted, not what Nudge recorded — and fills res: every due
// reminder reached the provider exactly once (no duplicate, none never
// sent), nothing is left unknown after reconciliation, and nothing failed
// for a transient cause. injected is the number of failures the drill made
// the provider answer for each number; the refusals the simulator's random
// faults made are counted from its request log.
func (e *env) verify(ctx context.Context, res *Result, injected map[string]int) error {
	accepted := map[string]int{}
	for _, m := range e.sim.Messages() {
		if m.Direction == "outbound-api" {
			accepted[m.To]++
		}
	}
	for _, c := range e.sim.Calls() {
		accepted[c.To]++
	}
	refused := map[string]int{}
	for _, rq := range e.sim.Requests() {
		if rq.Kind == twiliosim.RequestMessage && (rq.ValidityPeriod < 60 || rq.ValidityPeriod > twiliosim.MaxValidityPeriod) {
			res.problemf("a message to %s carried ValidityPeriod %d: every SMS must expire with its window (60 to %d s)",
				rq.To, rq.ValidityPeriod, twiliosim.MaxValidityPeriod)
		}
		switch rq.Fault {
		case twiliosim.FaultRefuse429, twiliosim.FaultRefuse500, twiliosim.FaultRefuse:
			refused[rq.To]++
		case twiliosim.FaultAcceptDrop, twiliosim.FaultAcceptSlow:
			res.AnswersLost++
		}
	}
	attempts, err := e.db.ListAttempts(ctx, lender, time.Time{})
	if err != nil {
		return err
	}
	perReminder := map[string]int{}
	for _, a := range attempts {
		perReminder[a.ReminderID]++
	}
	for i, a := range e.accounts {
		n := number(i)
		rs, err := e.db.ListReminders(ctx, lender, a.ID)
		if err != nil {
			return err
		}
		calls := e.sim.CreateCount(n)
		refusals := max(injected[n], refused[n])
		res.ProviderCalls += calls
		res.Injected += refusals
		res.MaxCalls = max(res.MaxCalls, calls)
		switch {
		case accepted[n] > 1:
			res.Duplicates++
			res.problemf("%s: the provider accepted %d messages for one reminder", a.ID, accepted[n])
		case accepted[n] == 0:
			res.NeverSent++
			res.problemf("%s: the provider never received its reminder", a.ID)
		}
		if allowed := refusals + 1; calls > allowed {
			res.problemf("%s: %d provider calls, at most %d allowed (%d refused): a send was repeated blind", a.ID, calls, allowed, refusals)
		}
		if len(rs) != 1 {
			res.Lost++
			res.problemf("%s has %d reminders, want 1", a.ID, len(rs))
			continue
		}
		r := rs[0]
		if perReminder[r.ID] > 1 {
			res.problemf("reminder %s has %d attempts on one channel", r.ID, perReminder[r.ID])
		}
		switch {
		case r.Status == nudge.ReminderUnknown:
			res.Unknown++
			res.UnknownIDs = append(res.UnknownIDs, r.ID)
		case !r.Status.Terminal():
			res.Lost++
			res.problemf("reminder of %s is still %s after %s", a.ID, r.Status, e.opts.Deadline)
		case r.Status == nudge.ReminderSent:
			res.Sent++
			if accepted[n] != 1 {
				res.problemf("reminder of %s is sent but the provider accepted %d messages", a.ID, accepted[n])
			}
		case r.Status == nudge.ReminderFailed:
			// Every number in a drill is valid: any failure had a transient cause.
			res.FailedTransient++
			res.problemf("reminder of %s failed (%s) for a transient cause", a.ID, r.Reason)
		default:
			res.OtherFinal++
		}
		if accepted[n] == 1 && r.Status != nudge.ReminderSent && r.Status != nudge.ReminderUnknown && r.Status.Terminal() {
			res.problemf("the provider accepted a message for %s but its reminder is %s (%s)", a.ID, r.Status, r.Reason)
		}
	}
	if res.Unknown > 0 {
		res.problemf("%d reminders left unknown after reconciliation", res.Unknown)
	}
	slices.Sort(res.UnknownIDs)
	return nil
}

// maxListedProblems caps the problems a Result keeps (the count goes on).
const maxListedProblems = 20

func (r *Result) problemf(format string, args ...any) {
	switch {
	case len(r.Problems) < maxListedProblems:
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	case len(r.Problems) == maxListedProblems:
		r.Problems = append(r.Problems, "… more problems not listed")
	}
}

// WriteTable prints the results as a table, counted from the provider's
// side, then every problem and every unknown reminder under it.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "drill\treminders\tsent\tsent twice\tnever sent\tunknown\tfailed transient\tother\tlost\tprovider calls\trefused\tanswers lost\tmax calls/number\tduration\tresult\t")
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tskipped\t\n", r.Name, r.Reminders)
			continue
		}
		verdict := "ok"
		if !r.Passed() {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", r.Name, r.Reminders, r.Sent, r.Duplicates,
			r.NeverSent, r.Unknown, r.FailedTransient, r.OtherFinal, r.Lost, r.ProviderCalls, r.Injected, r.AnswersLost, r.MaxCalls,
			r.Duration.Round(100*time.Millisecond), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, r := range results {
		switch {
		case r.Skipped != "":
			fmt.Fprintf(&b, "\n%s: skipped: %s\n", r.Name, r.Skipped)
			continue
		case r.Chaos != "":
			fmt.Fprintf(&b, "\n%s: %s\n", r.Name, r.Chaos)
		}
		if len(r.UnknownIDs) > 0 {
			fmt.Fprintf(&b, "  left unknown after reconciliation: %s\n", strings.Join(r.UnknownIDs, ", "))
		}
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  PROBLEM: %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// smsQueue is the queue the drills' reminders go through: the drill
// lender's SMS queue (dispatcher.QueueFor).
const smsQueue = dispatcher.QueueSMS + ":" + lender
