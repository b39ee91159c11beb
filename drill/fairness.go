package drill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// Fairness drill settings.
const (
	// DefaultBig is how many reminders the fairness drill's first lender
	// has due.
	DefaultBig = 100_000
	// DefaultSmall is how many reminders the fairness drill's second lender
	// has due.
	DefaultSmall = 100
	// MaxFairnessReminders bounds the fairness drill's first lender (its
	// phone numbers run from +18002000000 and must stay apart from the
	// second lender's, from +18009000000).
	MaxFairnessReminders = 1_000_000
	// FairnessBound is the share of its own reminders the big lender may
	// have sent when the small lender's are all sent.
	FairnessBound = 0.05
)

// Fairness is what the fairness drill measured at the provider.
type Fairness struct {
	// Big and Small are how many reminders each lender had due.
	Big, Small int
	// BigAtSmallDone is how many of the big lender's messages the provider
	// had accepted when it accepted the small lender's last one.
	BigAtSmallDone int
	// SmallDone is the time from the processes' start to the small
	// lender's last message at the provider.
	SmallDone time.Duration
}

// Share is BigAtSmallDone as a share of Big.
func (f Fairness) Share() float64 {
	if f.Big == 0 {
		return 0
	}
	return float64(f.BigAtSmallDone) / float64(f.Big)
}

// runFairness gives the drill lender Big due reminders and lenderB Small
// due at the same instant. Two workers and the scheduler start together, as
// in production when a tick finds both lenders due: the scheduler plans the
// lenders' pages in turn and the workers send while it plans. The
// provider's order of arrival is watched until every one of lenderB's
// messages has arrived. It
// passes when that happened before the big lender had FairnessBound of its
// own sent, nothing was sent twice, and lenderB's ledger says every
// reminder is sent. The big lender's backlog is not waited for.
func runFairness(ctx context.Context, o Options, res *Result) error {
	small := o.Small
	o.Reminders = o.Big
	e, err := newEnv(ctx, o, "fairness", envConfig{lenderB: small})
	if err != nil {
		return err
	}
	defer e.close()
	f := Fairness{Big: o.Reminders, Small: small}

	start := time.Now()
	if err := e.startAll([]roleCount{{"worker", 2}, {"scheduler", 1}}); err != nil {
		return err
	}
	done, err := e.waitSmallSent(ctx, small)
	if err != nil {
		return err
	}
	res.Duration = time.Since(start)
	f.SmallDone = res.Duration
	if !done {
		res.problemf("only part of %s's %d reminders reached the provider in %s", lenderB, small, o.Deadline)
	}
	// A late duplicate would show within a few poll intervals of a
	// redelivered task: give it the chance before counting.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	e.checkFairness(ctx, res, &f)
	res.Fairness = &f
	res.Chaos = fmt.Sprintf("%s's %d reminders all at the provider %s after the scheduler and workers started, when %s had %d of its %d there (%.2f%%; the bound is %.0f%%)",
		lenderB, small, f.SmallDone.Round(100*time.Millisecond), lender, f.BigAtSmallDone, f.Big, 100*f.Share(), 100*FairnessBound)
	return nil
}

// waitSmallSent polls the provider until it has accepted a message for
// each of lenderB's n accounts; false means the deadline came first.
func (e *env) waitSmallSent(ctx context.Context, n int) (bool, error) {
	deadline := time.Now().Add(e.opts.Deadline)
	for {
		seen := map[string]bool{}
		for _, m := range e.sim.Messages() {
			if m.Direction == "outbound-api" && isNumberB(m.To) {
				seen[m.To] = true
			}
		}
		if len(seen) >= n {
			return true, nil
		}
		if err := e.reviveExited(); err != nil {
			return false, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkFairness counts, in the provider's order of arrival, the big
// lender's messages before the small lender's last one, and checks that no
// number got two messages and that the small lender's ledger agrees.
func (e *env) checkFairness(ctx context.Context, res *Result, f *Fairness) {
	msgs := e.sim.Messages()
	accepted := map[string]int{}
	big, smallSeen := 0, 0
	for _, m := range msgs {
		if m.Direction != "outbound-api" {
			continue
		}
		accepted[m.To]++
		res.Sent++
		if isNumberB(m.To) {
			smallSeen++
			if smallSeen <= f.Small {
				f.BigAtSmallDone = big
			}
			continue
		}
		big++
	}
	res.ProviderCalls = len(e.sim.Requests())
	for to, n := range accepted {
		if n > 1 {
			res.Duplicates++
			res.problemf("%s: the provider accepted %d messages for one reminder", to, n)
		}
		res.MaxCalls = max(res.MaxCalls, n)
	}
	for i := range f.Small {
		if accepted[numberB(i)] == 0 {
			res.NeverSent++
			res.problemf("%s's account %s: the provider never received its reminder", lenderB, e.accountsB[i].ID)
		}
	}
	if limit := FairnessBound * float64(f.Big); float64(f.BigAtSmallDone) >= limit {
		res.problemf("%s had %d of %d reminders at the provider (%.1f%%) when %s's %d were all there: the bound is %.0f%%",
			lender, f.BigAtSmallDone, f.Big, 100*f.Share(), lenderB, f.Small, 100*FairnessBound)
	}
	// The ledger records a send once the provider has answered: allow it
	// a moment to catch up with what the provider shows.
	var sent int
	err := waitFor(ctx, 15*time.Second, lenderB+"'s ledger to show every reminder sent", func(ctx context.Context) error {
		counts, err := e.db.CountRemindersByStatus(ctx, lenderB)
		if err != nil {
			return err
		}
		if sent = counts[nudge.ReminderSent]; sent < f.Small {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil {
		res.problemf("%s's ledger shows %d of %d reminders sent: %v", lenderB, sent, f.Small, err)
	}
}

// isNumberB reports whether to is one of lenderB's numbers (numberB).
func isNumberB(to string) bool { return strings.HasPrefix(to, "+18009") }
