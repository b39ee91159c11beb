package twilio

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sort"
	"sync"
	"time"

	nudge "github.com/nudgehq/nudge"
)

// VoiceHealthPrefix precedes a caller ID in the Health of voice pools (and
// so in SenderChange.Sender), keeping a number's calls apart from its
// messages: each channel has its own breaker and daily counter.
const VoiceHealthPrefix = "voice:"

// Defaults of a Breaker.
const (
	// DefaultBreakerThreshold is how many failures in a row open a sender's breaker.
	DefaultBreakerThreshold = 5
	// DefaultFilterShare, DefaultFilterMin and DefaultFilterWindow: a
	// sender is taken out when, within a window, at least FilterMin of its
	// messages were filtered by carriers and they are at least FilterShare
	// of those whose delivery was reported.
	DefaultFilterShare  = 0.3
	DefaultFilterMin    = 10
	DefaultFilterWindow = 10 * time.Minute
	// DefaultBreakerCooldown is how long an open breaker keeps its sender out
	// before traffic is tried on it again.
	DefaultBreakerCooldown = 30 * time.Second
)

// SenderOutcome is what one provider call said about the sender it used.
type SenderOutcome int

// Outcomes of a provider call, as a sender's health sees them.
const (
	// SenderAccepted means the provider took the message: the sender works.
	SenderAccepted SenderOutcome = iota + 1
	// SenderFailed means the call failed at the sender (a 5xx or 429 answer,
	// a transport error or a lost answer).
	SenderFailed
	// SenderNeutral means the call failed for reasons of the message or the
	// recipient, which say nothing about the sender.
	SenderNeutral
	// SenderDelivered is a status callback saying a message from the sender
	// was delivered.
	SenderDelivered
	// SenderFiltered is a status callback saying carriers filtered a message
	// from the sender (30007): above FilterShare of its recent deliveries,
	// the sender is taken out like one that fails.
	SenderFiltered
)

// Health tracks which senders of a pool may be used. Implementations must be
// safe for concurrent use.
type Health interface {
	// Usable reports whether sender may take a message now: its breaker is
	// not open (or its cool-down is over) and it has sent fewer than
	// dailyCap messages today (zero is no cap).
	Usable(ctx context.Context, sender string, dailyCap int) bool
	// Report records the outcome of one call through sender.
	Report(ctx context.Context, sender string, outcome SenderOutcome)
}

// SenderChange is a sender's breaker opening or closing, for the operator.
type SenderChange struct {
	Sender string
	// Tripped is true when the breaker opened, false when it closed again.
	Tripped bool
	// Failures is the run of failures that opened it.
	Failures int
	// Filtered is how many of its messages carriers had filtered when that
	// opened it (within the filter window).
	Filtered int
	At       time.Time
}

// BreakerConfig configures a Breaker.
type BreakerConfig struct {
	// Threshold is how many failures in a row open a breaker
	// (DefaultBreakerThreshold when zero).
	Threshold int
	// Cooldown is how long an open breaker keeps its sender out before
	// the sender is tried again (DefaultBreakerCooldown when zero).
	Cooldown time.Duration
	// FilterShare, FilterMin and FilterWindow take a sender out when carriers
	// filter too many of its messages (DefaultFilterShare, DefaultFilterMin
	// and DefaultFilterWindow when zero).
	FilterShare  float64
	FilterMin    int
	FilterWindow time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OnChange, when set, is called (outside the breaker's lock) when a
	// sender's breaker opens or closes; without it an ALERT is logged.
	OnChange func(SenderChange)
}

// Breaker is an in-process Health: a circuit breaker and a daily counter per
// sender.
type Breaker struct {
	cfg     BreakerConfig
	mu      sync.Mutex
	senders map[string]*senderState
}

type senderState struct {
	failures  int
	open      bool
	openUntil time.Time
	day       string
	sent      int
	// delivered and filtered count the delivery reports since windowStart.
	delivered, filtered int
	windowStart         time.Time
}

var _ Health = (*Breaker)(nil)

// NewBreaker returns a Breaker with cfg's empty fields defaulted.
func NewBreaker(cfg BreakerConfig) *Breaker {
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultBreakerThreshold
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = DefaultBreakerCooldown
	}
	if cfg.FilterShare <= 0 {
		cfg.FilterShare = DefaultFilterShare
	}
	if cfg.FilterMin <= 0 {
		cfg.FilterMin = DefaultFilterMin
	}
	if cfg.FilterWindow <= 0 {
		cfg.FilterWindow = DefaultFilterWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnChange == nil {
		cfg.OnChange = logChange
	}
	return &Breaker{cfg: cfg, senders: map[string]*senderState{}}
}

func logChange(c SenderChange) {
	if c.Tripped {
		slog.Error("ALERT: sender failing: traffic moves to the pool's other senders", "sender", c.Sender, "failures", c.Failures, "filtered", c.Filtered)
		return
	}
	slog.Warn("sender recovered: its borrowers return to it", "sender", c.Sender)
}

func (b *Breaker) state(sender string, now time.Time) *senderState {
	st, ok := b.senders[sender]
	if !ok {
		st = &senderState{}
		b.senders[sender] = st
	}
	if day := now.UTC().Format(time.DateOnly); st.day != day {
		st.day, st.sent = day, 0
	}
	return st
}

// Usable implements Health. After the cool-down an open breaker is on
// trial: traffic returns to the sender, its first failure opens the breaker
// again for another cool-down and its first success closes it.
func (b *Breaker) Usable(_ context.Context, sender string, dailyCap int) bool {
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.state(sender, now)
	if dailyCap > 0 && st.sent >= dailyCap {
		return false
	}
	return !st.open || !now.Before(st.openUntil)
}

// Report implements Health.
func (b *Breaker) Report(_ context.Context, sender string, outcome SenderOutcome) {
	now := b.cfg.Now()
	var change *SenderChange
	b.mu.Lock()
	st := b.state(sender, now)
	switch outcome {
	case SenderAccepted:
		st.sent++
		st.failures = 0
		if st.open {
			st.open = false
			change = &SenderChange{Sender: sender, At: now}
		}
	case SenderFailed:
		st.failures++
		switch {
		case st.open:
			st.openUntil = now.Add(b.cfg.Cooldown)
		case st.failures >= b.cfg.Threshold:
			st.open, st.openUntil = true, now.Add(b.cfg.Cooldown)
			change = &SenderChange{Sender: sender, Tripped: true, Failures: st.failures, At: now}
		}
	case SenderDelivered, SenderFiltered:
		if now.Sub(st.windowStart) >= b.cfg.FilterWindow {
			st.windowStart, st.delivered, st.filtered = now, 0, 0
		}
		if outcome == SenderDelivered {
			st.delivered++
			break
		}
		st.filtered++
		if st.filtered >= b.cfg.FilterMin && float64(st.filtered) >= b.cfg.FilterShare*float64(st.filtered+st.delivered) {
			n := st.filtered
			st.windowStart, st.delivered, st.filtered = now, 0, 0
			st.openUntil = now.Add(b.cfg.Cooldown)
			if !st.open {
				st.open = true
				change = &SenderChange{Sender: sender, Tripped: true, Filtered: n, At: now}
			}
		}
	case SenderNeutral:
	}
	b.mu.Unlock()
	if change != nil {
		b.cfg.OnChange(*change)
	}
}

// ReportDelivery records a status callback's news about a message sent from
// sender (a Messaging Service SID or a number) in its health when sender
// belongs to a pool of more than one: filtered when carriers filtered the
// message (30007), else it was delivered. Senders outside the pools are not
// tracked: there is nowhere to move their traffic.
func (s *SMS) ReportDelivery(ctx context.Context, sender string, filtered bool) {
	if sender == "" || !s.inPool(sender) {
		return
	}
	outcome := SenderDelivered
	if filtered {
		outcome = SenderFiltered
	}
	s.health.Report(ctx, sender, outcome)
}

// inPool reports whether sender is a member of a pool of several senders.
func (s *SMS) inPool(sender string) bool {
	for _, r := range s.cfg.Senders {
		if len(r.Pool) < 2 {
			continue
		}
		for _, p := range r.Pool {
			if p.ID() == sender {
				return true
			}
		}
	}
	return false
}

// WithHealth sets the health of the pools' senders (default: a Breaker
// with default settings, in process).
func WithHealth(h Health) Option {
	return func(s *SMS) { s.health = h }
}

// pick chooses the sender of m from the route's pool (see pickSender).
func (s *SMS) pick(ctx context.Context, m *nudge.Message, r SenderRoute) PoolSender {
	return pickSender(ctx, s.health, "", m, r)
}

// pickSender chooses the sender of m from the route's pool. A message whose
// From already names a member (SenderRate chose it) keeps it. Otherwise the
// sender is the highest-scoring usable member by rendezvous hashing of the
// lender, the recipient and the sender, so a borrower keeps one sender while
// it is healthy and returns to it when it recovers; when no member is
// usable the borrower's sticky sender is used anyway. Members are known to
// h by prefix followed by their ID.
func pickSender(ctx context.Context, h Health, prefix string, m *nudge.Message, r SenderRoute) PoolSender {
	pool := r.members()
	if len(pool) == 1 {
		return pool[0]
	}
	if m.From != "" {
		for _, p := range pool {
			if p.ID() == m.From {
				return p
			}
		}
	}
	ranked := append([]PoolSender(nil), pool...)
	sort.SliceStable(ranked, func(i, j int) bool {
		return rendezvous(m.Lender, m.To, ranked[i].ID()) > rendezvous(m.Lender, m.To, ranked[j].ID())
	})
	// Ask in the borrower's order and stop at the first usable sender.
	for _, p := range ranked {
		if h.Usable(ctx, prefix+p.ID(), p.DailyCap) {
			return p
		}
	}
	return ranked[0]
}

// StickySender returns the sender of the pool a borrower's messages go out
// from while every sender is healthy: the highest rendezvous score of
// (lender, to, sender).
func StickySender(lender, to string, pool []PoolSender) PoolSender {
	var best PoolSender
	var bestScore uint64
	for i, p := range pool {
		if sc := rendezvous(lender, to, p.ID()); i == 0 || sc > bestScore {
			best, bestScore = p, sc
		}
	}
	return best
}

func rendezvous(lender, to, sender string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(lender + "\x00" + to + "\x00" + sender))
	// fnv's low bits mix poorly for keys that differ at the end.
	return nudge.Mix64(h.Sum64())
}

// poolHealth is where a create request reports what it said about the pool
// sender it went out through (Health.Report under sender, the ID with its
// channel's prefix). Only members of a pool of several senders are tracked:
// a lone sender has nowhere to move its traffic.
type poolHealth struct {
	health Health
	sender string
	pooled bool
}

// report records outcome for the sender when it is pooled.
func (h poolHealth) report(ctx context.Context, outcome SenderOutcome) {
	if h.pooled {
		h.health.Report(ctx, h.sender, outcome)
	}
}

// fail classifies err from the create request c made (call.fail), reports
// the classified outcome (outcomeOf) to the sender's health and returns the
// classified error. what names the request in the error.
func (h poolHealth) fail(c *call, what string, err error) error {
	ferr := c.fail(what, err)
	if pe, ok := nudge.AsProviderError(ferr); ok {
		h.report(c.ctx, outcomeOf(pe))
	} else {
		h.report(c.ctx, SenderFailed)
	}
	return ferr
}

// noSid reports a failure to the sender's health for an answer of c that
// names no resource and returns its classified error (call.noSid).
func (h poolHealth) noSid(c *call, what string) error {
	h.report(c.ctx, SenderFailed)
	return c.noSid(what)
}

// outcomeOf classifies a Send error for the sender's health.
func outcomeOf(pe *nudge.ProviderError) SenderOutcome {
	if pe.MaybeAccepted || pe.Retry || pe.SenderRefused {
		return SenderFailed
	}
	return SenderNeutral
}
