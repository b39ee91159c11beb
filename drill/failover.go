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

// The SMS pool of the sender-failover drill: two toll-free numbers.
const (
	failoverSender1 = "+18005550111"
	failoverSender2 = "+18005550112"
	// failoverMPS is each pool sender's rate: high enough that the rate
	// limit does not set the pace.
	failoverMPS = 50
)

// The voice pool of sender-failover-voice: two caller IDs, each allowed
// failoverMPS calls a second (twilio.voice_senders[0].pool[i].mps).
const (
	failoverCaller1 = "+18005550121"
	failoverCaller2 = "+18005550122"
)

// failover is what a sender-failover drill varies by channel.
type failover struct {
	// first and second are the pool's senders; first fails.
	first, second string
	// kind is the simulator's request kind the drill counts.
	kind string
	// voice sends calls instead of messages.
	voice bool
	// what names a sender in the report ("sender", "caller ID").
	what string
}

// runSenderFailover runs the failover drill on an SMS pool (see
// runFailover).
func runSenderFailover(ctx context.Context, o Options, res *Result) error {
	return runFailover(ctx, o, res, "sender-failover", failover{
		first: failoverSender1, second: failoverSender2, kind: twiliosim.RequestMessage, what: "sender"})
}

// runSenderFailoverVoice runs the failover drill on a voice pool of two
// caller IDs (twilio.voice_senders), counting calls at the provider per
// caller ID (see runFailover).
func runSenderFailoverVoice(ctx context.Context, o Options, res *Result) error {
	return runFailover(ctx, o, res, "sender-failover-voice", failover{
		first: failoverCaller1, second: failoverCaller2, kind: twiliosim.RequestCall, voice: true, what: "caller ID"})
}

// runFailover sends through a pool of two senders (SMS senders or voice
// caller IDs) while the first fails every create request (500) for
// o.SenderFailure, counted from the first request to reach the provider.
// Half the accounts are due at the start; the other half
// are stored once the failure and a breaker cool-down are over. Counted at
// the provider, per sender: every reminder accepted once; during the
// failure nothing accepted from the first sender (its borrowers moved to
// the second); afterwards every borrower of the second half served by its
// sticky sender.
func runFailover(ctx context.Context, o Options, res *Result, name string, f failover) error {
	var (
		failEnd  time.Time
		seededAt time.Time
		seedErr  error
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
	if f.voice {
		twilioYAML = fmt.Sprintf(`  breaker_cooldown: %s
  voice_senders:
    - lender: %s
      pool:
        - from: %q
          mps: %d
        - from: %q
          mps: %d
`, o.BreakerCooldown, lender, failoverCaller1, failoverMPS, failoverCaller2, failoverMPS)
	}
	pool := []twilio.PoolSender{{From: f.first}, {From: f.second}}
	return scenario{
		env:     envConfig{holdBack: o.Reminders / 2, twilio: twilioYAML, voice: f.voice},
		roles:   []roleCount{{"scheduler", 1}, {"worker", 2}},
		allSent: true,
		before: func(_ context.Context, e *env) (map[string]int, error) {
			// The first sender fails from the start; how long is counted
			// from the first request to reach the provider (tick), so a
			// slow start of the processes does not eat the failure.
			e.sim.FailSender(f.first, time.Now().Add(24*time.Hour))
			return nil, nil
		},
		tick: func(ctx context.Context, e *env, _ progress) error {
			if failEnd.IsZero() {
				reqs := e.sim.Requests()
				if len(reqs) == 0 {
					return nil
				}
				failEnd = reqs[0].Time.Add(o.SenderFailure)
				e.sim.FailSender(f.first, failEnd)
			}
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
			var moved, duringFirst, sticky, stickyFirst, refusedFirst int
			from := map[string]string{}
			perSender := map[string]int{}
			for _, rq := range e.sim.Requests() {
				if rq.Kind != f.kind {
					continue
				}
				if rq.SID == "" {
					if rq.From == f.first && rq.Status >= 500 {
						refusedFirst++
					}
					continue
				}
				from[rq.To] = rq.From
				perSender[rq.From]++
				if rq.Time.Before(failEnd) && rq.From == f.first {
					duringFirst++
				}
			}
			if other := len(perSender) - 2; other > 0 || perSender[f.first] == 0 || perSender[f.second] == 0 {
				res.problemf("accepted per %s %v: want both of the pool's and no other", f.what, perSender)
			}
			held := map[string]bool{}
			for _, a := range e.held {
				held[a.ID] = true
			}
			for i, a := range e.accounts {
				n := number(i)
				want := twilio.StickySender(lender, n, pool).From
				got, ok := from[n]
				switch {
				case !ok:
					// verify reports it as never sent.
				case !held[a.ID]:
					if want == f.first && got == f.second {
						moved++
					}
				case got != want:
					res.problemf("%s: sent after the failure from %s, not its sticky %s %s", a.ID, got, f.what, want)
				default:
					sticky++
					if want == f.first {
						stickyFirst++
					}
				}
			}
			if duringFirst > 0 {
				res.problemf("%d accepted from the failing %s during its failure", duringFirst, f.what)
			}
			if refusedFirst == 0 {
				res.problemf("the failing %s was never tried: the failure was not exercised", f.what)
			}
			if moved == 0 {
				res.problemf("no borrower of the failing %s was moved to the other: the failover was not exercised (shorten the cool-down or lengthen the failure)", f.what)
			}
			if stickyFirst == 0 {
				res.problemf("no reminder after the failure went out from the first %s: its return was not exercised", f.what)
			}
			res.Chaos = fmt.Sprintf("%s %s refused every create request (500) for %s (breaker cool-down %s; %d refusals); %d of its borrowers moved to %s during the failure, %d accepted from it then; after the failure %d of %d reminders went out from their sticky %s (%d from %s); accepted per %s: %s %d, %s %d",
				f.what, f.first, o.SenderFailure, o.BreakerCooldown, refusedFirst, moved, f.second, duringFirst, sticky, len(e.held), f.what, stickyFirst, f.first,
				f.what, f.first, perSender[f.first], f.second, perSender[f.second])
			return nil
		},
	}.run(ctx, o, name, res)
}
