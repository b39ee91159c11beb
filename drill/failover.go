package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

// Defaults of the sender-failover drill.
const (
	// DefaultSenderFailure is how long the first sender of the pool fails
	// every create request.
	DefaultSenderFailure = 60 * time.Second
	// DefaultBreakerCooldown is how long the processes keep a failing
	// sender out before they try it again (twilio.breaker_cooldown).
	DefaultBreakerCooldown = twilio.DefaultBreakerCooldown
)

// The pool of the sender-failover drill: two toll-free numbers.
const (
	failoverSender1 = "+18005550111"
	failoverSender2 = "+18005550112"
	// failoverMPS is each pool sender's rate: high enough that the rate
	// limit does not set the pace.
	failoverMPS = 50
)

// failoverPool is the drill's pool as the processes see it.
var failoverPool = []twilio.PoolSender{{From: failoverSender1, MPS: failoverMPS}, {From: failoverSender2, MPS: failoverMPS}}

// runSenderFailover sends through a pool of two senders while the first
// fails every create request (500) for o.SenderFailure. Half the accounts
// are due at the start; the other half are stored once the failure and a
// breaker cool-down are over. Counted at the provider: every reminder
// accepted once; during the failure nothing accepted from the first sender
// (its borrowers moved to the second); afterwards every borrower of the
// second half served by its sticky sender.
func runSenderFailover(ctx context.Context, o Options, res *Result) error {
	var (
		failStart, failEnd time.Time
		seededAt           time.Time
		seedErr            error
	)
	twilioYAML := fmt.Sprintf(`  breaker_cooldown: %s
  senders:
    - lender: %s
      pool:
        - from: %q
          mps: %d
          class: toll_free
        - from: %q
          mps: %d
          class: toll_free
`, o.BreakerCooldown, lender, failoverSender1, failoverMPS, failoverSender2, failoverMPS)
	return scenario{
		env:     envConfig{holdBack: o.Reminders / 2, twilio: twilioYAML},
		roles:   []roleCount{{"scheduler", 1}, {"worker", 2}},
		allSent: true,
		before: func(_ context.Context, e *env) (map[string]int, error) {
			failStart = time.Now()
			failEnd = failStart.Add(o.SenderFailure)
			e.sim.FailSender(failoverSender1, failEnd)
			return nil, nil
		},
		tick: func(ctx context.Context, e *env, _ progress) error {
			// The second half is due once every process's breaker has had
			// its cool-down after the failure's end: the first sender is
			// usable again everywhere.
			if !seededAt.IsZero() || time.Now().Before(failEnd.Add(o.BreakerCooldown+time.Second)) {
				return nil
			}
			// The database may be busy: a failure is tried again at the
			// next tick, and reported after the run if it never succeeds.
			if seedErr = e.seedHeld(ctx); seedErr == nil {
				seededAt = time.Now()
			}
			return nil
		},
		after: func(_ context.Context, e *env, res *Result) error {
			if seededAt.IsZero() {
				res.problemf("the second half of the accounts was never stored (last error: %v)", seedErr)
				return nil
			}
			var moved, duringFirst, sticky, stickyFirst int
			from := map[string]string{}
			for _, rq := range e.sim.Requests() {
				if rq.Kind != twiliosim.RequestMessage || rq.SID == "" {
					continue
				}
				from[rq.To] = rq.From
				if rq.Time.Before(failEnd) && rq.From == failoverSender1 {
					duringFirst++
				}
			}
			held := map[string]bool{}
			for _, a := range e.held {
				held[a.ID] = true
			}
			for i, a := range e.accounts {
				n := number(i)
				want := twilio.StickySender(lender, n, failoverPool).From
				got, ok := from[n]
				switch {
				case !ok:
					// verify reports it as never sent.
				case !held[a.ID]:
					if want == failoverSender1 && got == failoverSender2 {
						moved++
					}
				case got != want:
					res.problemf("%s: sent after the failure from %s, not its sticky sender %s", a.ID, got, want)
				default:
					sticky++
					if want == failoverSender1 {
						stickyFirst++
					}
				}
			}
			if duringFirst > 0 {
				res.problemf("%d messages accepted from the failing sender during its failure", duringFirst)
			}
			if moved == 0 {
				res.problemf("no borrower of the failing sender was moved to the other: the failover was not exercised (shorten the cool-down or lengthen the failure)")
			}
			if stickyFirst == 0 {
				res.problemf("no reminder after the failure went out from the first sender: its return was not exercised")
			}
			res.Chaos = fmt.Sprintf("sender %s refused every create request (500) for %s (breaker cool-down %s); %d of its borrowers moved to %s during the failure, %d from it then; after the failure %d of %d reminders went out from their sticky sender (%d from %s)",
				failoverSender1, o.SenderFailure, o.BreakerCooldown, moved, failoverSender2, duringFirst, sticky, len(e.held), stickyFirst, failoverSender1)
			return nil
		},
	}.run(ctx, o, "sender-failover", res)
}
