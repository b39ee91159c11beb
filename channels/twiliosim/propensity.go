package twiliosim

import "strings"

// Propensity is the hidden borrower model: the chances, unknown to Nudge,
// that a generated borrower promises to pay after a delivered reminder
// (depending on what the reminder says), keeps that promise, and pays.
// With it, a test, the demo or a drill can let an experiment find the
// reminder that really works better. Config.Propensity nil (the default)
// leaves every borrower to its Behaviour alone.
//
// It applies to generated borrowers whose Behaviour is silent or promise
// (the "responsive" ones); the others (STOP, paid, wrong number, carrier
// failures) and scripted borrowers keep their fixed behaviour. Every draw is
// a hash of the seed, the number and the reminder's place in the
// borrower's conversation, so a run is reproducible.
type Propensity struct {
	// Promise is the chance that a responsive borrower answers a
	// delivered reminder with a promise to pay (0 to 1); otherwise they
	// stay silent.
	Promise float64
	// Lifts add to Promise for reminders whose body contains their marker
	// (all that match add up; the sum is kept within 0 and 1).
	Lifts []Lift
	// Keep is the chance that a borrower who promised keeps the promise.
	Keep float64
	// Pay is the chance that a borrower pays without promising first.
	Pay float64
}

// Lift raises (or, when negative, lowers) the promise chance of reminders
// whose body contains Marker, such as a phrase only one template uses.
type Lift struct {
	Marker  string
	Promise float64
}

// Salts of the propensity draws, apart from those of generateBorrower and
// replyFor.
const (
	saltPromise = 1 << 20 // + the reply's index
	saltKeep    = 1<<20 - 1
	saltPay     = 1<<20 - 2
)

// chance turns a hash into a uniform draw in [0, 1).
func chance(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// PromiseChance is the chance that a responsive borrower promises after a
// reminder with this body.
func (p *Propensity) PromiseChance(body string) float64 {
	c := p.Promise
	for _, l := range p.Lifts {
		if l.Marker != "" && strings.Contains(body, l.Marker) {
			c += l.Promise
		}
	}
	return min(max(c, 0), 1)
}

// responsive reports whether the model decides b's answers.
func (p *Propensity) responsive(b Borrower) bool {
	return p != nil && b.Replies == nil && (b.Behaviour == BehaviourSilent || b.Behaviour == BehaviourPromise)
}

// reply is the n-th answer (0-based) of a responsive borrower to a
// delivered reminder with the given body: a promise with the chance
// PromiseChance(body), drawn once per reminder, and otherwise nothing.
func (p *Propensity) reply(seed int64, b Borrower, body string, n int) (string, bool) {
	if chance(hash64(seed, b.Number, saltPromise+uint64(n))) >= p.PromiseChance(body) {
		return "", false
	}
	b.Behaviour = BehaviourPromise
	return b.withoutModel().replyFor(seed, body, n)
}

// withoutModel returns b answering by its Behaviour alone.
func (b Borrower) withoutModel() Borrower {
	b.model = nil
	return b
}

// KeepsPromise reports whether the borrower behind number keeps a promise
// to pay (Propensity.Keep), deterministically from the seed and the number;
// false without a Propensity.
func (s *Sim) KeepsPromise(number string) bool {
	p := s.cfg.Propensity
	return p != nil && chance(hash64(s.cfg.Seed, number, saltKeep)) < p.Keep
}

// Pays reports whether the borrower behind number pays without promising
// first (Propensity.Pay); false without a Propensity.
func (s *Sim) Pays(number string) bool {
	p := s.cfg.Propensity
	return p != nil && chance(hash64(s.cfg.Seed, number, saltPay)) < p.Pay
}
