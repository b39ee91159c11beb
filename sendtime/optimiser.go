package sendtime

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// Defaults for Optimiser.
const (
	// DefaultSettle is how long after a contact its response is awaited
	// before the contact is counted: a contact younger than this is not in
	// the counts yet, so a reply on its way is not mistaken for silence.
	DefaultSettle = 6 * time.Hour
	// DefaultPriorWeight caps how many pseudo-contacts the pooled counts of
	// similar borrowers weigh in an hour's prior: the borrower's own
	// contacts soon outweigh them.
	DefaultPriorWeight = 1.0
	// DefaultPoolTTL is how long the pooled counts of a lender are reused
	// before they are read again.
	DefaultPoolTTL = time.Hour
)

// Count is what the contacts in one hour bucket led to.
type Count struct {
	// Trials are the contacts the provider accepted at that hour.
	Trials int `json:"trials"`
	// Successes are those that got a response: a reply, an answered call
	// or a promise.
	Successes int `json:"successes"`
}

// Segment groups similar borrowers; their pooled counts are each one's
// prior.
type Segment struct {
	Portfolio string `json:"portfolio"`
	Language  string `json:"language"`
	Zone      string `json:"zone"`
}

// Row holds the counts of one account, or pooled over a segment (AccountID
// empty), on one channel at one local hour (0-23).
type Row struct {
	AccountID string
	Segment
	Channel nudge.ChannelKind
	Hour    int
	Count
}

// Source keeps the counts: the store's rollup of the ledger.
type Source interface {
	// RollupSendTimes folds the lender's contacts made before until into
	// the counts, each once, a contact counting as a success when a
	// response came within window of it.
	RollupSendTimes(ctx context.Context, lender string, until time.Time, window time.Duration) error
	// SendTimeCounts returns the counts of the lender's accounts ids.
	SendTimeCounts(ctx context.Context, lender string, ids []string) ([]Row, error)
	// SendTimePool returns the lender's counts summed per segment, channel
	// and hour.
	SendTimePool(ctx context.Context, lender string) ([]Row, error)
}

// Optimiser chooses send hours for the lenders that have the switch on. It
// is safe for concurrent use.
type Optimiser struct {
	// Source is required.
	Source Source
	// Enabled says whether a lender has send-time optimisation on; nil
	// means no lender has.
	Enabled func(lender string) bool
	// Seed seeds every choice's draws (with the choice's key).
	Seed uint64
	// Rand, when set, returns the generator for the choice with key (a
	// reminder id), replacing the one derived from Seed.
	Rand func(key string) *rand.Rand
	// Settle is DefaultSettle when 0.
	Settle time.Duration
	// PriorWeight is DefaultPriorWeight when 0.
	PriorWeight float64
	// PoolTTL is DefaultPoolTTL when 0.
	PoolTTL time.Duration

	mu    sync.Mutex
	pools map[string]pool
}

// pool is a lender's pooled counts as read at an instant.
type pool struct {
	at     time.Time
	counts map[poolKey]Count
}

type poolKey struct {
	Segment
	channel nudge.ChannelKind
	hour    int
}

type ownKey struct {
	account string
	channel nudge.ChannelKind
	hour    int
}

// On reports whether the lender has send-time optimisation on.
func (o *Optimiser) On(lender string) bool {
	return o != nil && o.Enabled != nil && o.Enabled(lender)
}

// Batch is what the optimiser knows about one batch of accounts: their own
// counts and their lenders' pooled counts, read once.
type Batch struct {
	o     *Optimiser
	own   map[string]map[ownKey]Count // by lender
	pools map[string]map[poolKey]Count
}

// Prepare reads the counts the choices for accts need: it first folds the
// contacts that have settled by now into the counts (once per lender and
// call), then reads the accounts' own counts in one query per lender and
// the lenders' pooled counts (cached for PoolTTL). Accounts of lenders with
// the switch off are skipped; with none on, it reads nothing.
func (o *Optimiser) Prepare(ctx context.Context, accts []nudge.Account, now time.Time) (*Batch, error) {
	b := &Batch{o: o, own: map[string]map[ownKey]Count{}, pools: map[string]map[poolKey]Count{}}
	ids := map[string][]string{}
	var lenders []string
	for _, a := range accts {
		if !o.On(a.Lender) {
			continue
		}
		if _, ok := ids[a.Lender]; !ok {
			lenders = append(lenders, a.Lender)
		}
		ids[a.Lender] = append(ids[a.Lender], a.ID)
	}
	for _, lender := range lenders {
		p, err := o.pool(ctx, lender, now)
		if err != nil {
			return nil, err
		}
		b.pools[lender] = p
		rows, err := o.Source.SendTimeCounts(ctx, lender, ids[lender])
		if err != nil {
			return nil, fmt.Errorf("send time: reading the counts of %d accounts of %s: %w", len(ids[lender]), lender, err)
		}
		own := make(map[ownKey]Count, len(rows))
		for _, r := range rows {
			own[ownKey{r.AccountID, r.Channel, r.Hour}] = r.Count
		}
		b.own[lender] = own
	}
	return b, nil
}

// pool rolls the lender's settled contacts up and returns its pooled
// counts, read again once they are PoolTTL old.
func (o *Optimiser) pool(ctx context.Context, lender string, now time.Time) (map[poolKey]Count, error) {
	settle, ttl := o.Settle, o.PoolTTL
	if settle <= 0 {
		settle = DefaultSettle
	}
	if ttl <= 0 {
		ttl = DefaultPoolTTL
	}
	if err := o.Source.RollupSendTimes(ctx, lender, now.Add(-settle), settle); err != nil {
		return nil, fmt.Errorf("send time: rolling up the contacts of %s: %w", lender, err)
	}
	o.mu.Lock()
	p, ok := o.pools[lender]
	o.mu.Unlock()
	if ok && !now.Before(p.at) && now.Sub(p.at) < ttl {
		return p.counts, nil
	}
	rows, err := o.Source.SendTimePool(ctx, lender)
	if err != nil {
		return nil, fmt.Errorf("send time: reading the pooled counts of %s: %w", lender, err)
	}
	counts := make(map[poolKey]Count, len(rows))
	for _, r := range rows {
		counts[poolKey{r.Segment, r.Channel, r.Hour}] = r.Count
	}
	o.mu.Lock()
	if o.pools == nil {
		o.pools = map[string]pool{}
	}
	o.pools[lender] = pool{at: now, counts: counts}
	o.mu.Unlock()
	return counts, nil
}

// Request is one reminder's send to place.
type Request struct {
	// Key seeds the draws (the reminder's id).
	Key      string
	Account  nudge.Account
	Channel  nudge.ChannelKind
	Profile  *compliance.Profile
	Location *time.Location
	// From is the earliest instant (the step's time, or now when that has
	// passed) and Until the end of the step's day: the chosen instant lies
	// in [From, Until).
	From, Until time.Time
}

// HourEvidence is what one candidate hour had for it.
type HourEvidence struct {
	// Hour is the local hour (0-23) and At the instant a send in it would go.
	Hour int       `json:"hour"`
	At   time.Time `json:"at"`
	// Own are the borrower's counts at this hour on the channel; Pool those
	// of similar borrowers (the borrower's own left out).
	Own  Count `json:"own"`
	Pool Count `json:"pool"`
	// Alpha and Beta are the hour's Beta posterior; Mean its mean; Sample
	// the value drawn from it.
	Alpha  float64 `json:"alpha"`
	Beta   float64 `json:"beta"`
	Mean   float64 `json:"mean"`
	Sample float64 `json:"sample"`
}

// Choice is the chosen send instant with its evidence.
type Choice struct {
	// At is the chosen instant, Hour its local hour in Zone.
	At   time.Time `json:"at"`
	Hour int       `json:"hour"`
	Zone string    `json:"zone"`
	// Best is the candidate hour with the highest posterior mean: what the
	// optimiser believes is the borrower's best hour (the draw explores
	// around it).
	Best    int     `json:"best"`
	Segment Segment `json:"segment"`
	// Hours are the candidate hours, in order.
	Hours []HourEvidence `json:"hours"`
}

// Choose picks the hour of the step's day with the highest draw from its
// posterior, among the hours whose start (or From, or the window's opening
// within the hour) the compliance window allows and that lie in
// [From, Until). ok is false when the lender has the switch off or no hour
// is left; the caller then keeps its own time.
func (b *Batch) Choose(req Request) (c Choice, ok bool) {
	if b == nil || req.Profile == nil || req.Location == nil || !b.o.On(req.Account.Lender) {
		return Choice{}, false
	}
	switch req.Channel {
	case nudge.SMS, nudge.Voice, nudge.Email:
	default:
		return Choice{}, false
	}
	weight := b.o.PriorWeight
	if weight <= 0 {
		weight = DefaultPriorWeight
	}
	seg := SegmentOf(req.Account, req.Location)
	own, pooled := b.own[req.Account.Lender], b.pools[req.Account.Lender]
	r := b.o.rand(req.Key)
	local := req.From.In(req.Location)
	c = Choice{Zone: req.Location.String(), Segment: seg, Hour: -1, Best: -1}
	bestSample, bestMean := -1.0, -1.0
	for h := range 24 {
		start := time.Date(local.Year(), local.Month(), local.Day(), h, 0, 0, 0, req.Location)
		if start.Hour() != h || start.In(req.Location).Day() != local.Day() {
			continue // skipped by a DST change
		}
		end := start.Add(time.Hour)
		at := start
		if at.Before(req.From) {
			at = req.From
		}
		if !at.Before(end) || !at.Before(req.Until) {
			continue
		}
		next, err := compliance.NextAllowed(req.Profile, req.Account, req.Channel, at)
		if err != nil || !next.Before(end) || !next.Before(req.Until) {
			continue
		}
		mine := own[ownKey{req.Account.ID, req.Channel, h}]
		all := pooled[poolKey{seg, req.Channel, h}]
		others := Count{Trials: max(all.Trials-mine.Trials, 0), Successes: max(all.Successes-mine.Successes, 0)}
		rate := (float64(others.Successes) + 1) / (float64(others.Trials) + 2)
		w := min(float64(others.Trials), weight)
		e := HourEvidence{Hour: h, At: next.UTC(), Own: mine, Pool: others,
			Alpha: 1 + w*rate + float64(mine.Successes),
			Beta:  1 + w*(1-rate) + float64(max(mine.Trials-mine.Successes, 0))}
		e.Mean = e.Alpha / (e.Alpha + e.Beta)
		e.Sample = Beta(r, e.Alpha, e.Beta)
		if e.Sample > bestSample {
			bestSample, c.Hour, c.At = e.Sample, h, e.At
		}
		if e.Mean > bestMean {
			bestMean, c.Best = e.Mean, h
		}
		c.Hours = append(c.Hours, e)
	}
	if c.Hour < 0 {
		return Choice{}, false
	}
	return c, true
}

// SegmentOf is the segment of similar borrowers a belongs to, placed in loc.
func SegmentOf(a nudge.Account, loc *time.Location) Segment {
	return Segment{Portfolio: a.Portfolio, Language: a.Borrower.Language, Zone: loc.String()}
}

// rand returns the generator of the choice with key.
func (o *Optimiser) rand(key string) *rand.Rand {
	if o.Rand != nil {
		return o.Rand(key)
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(o.Seed, h.Sum64()))
}

// Explain is the choice the optimiser would make, with its evidence, for a
// send of acct on ch on the local day of at (from at on), whether or not
// the lender has the switch on: what `nudge explain --send-time` and the
// console's account page show. It folds the contacts settled by at into
// the counts first, as planning does. ok is false when no hour of that day
// is left in the window.
func (o *Optimiser) Explain(ctx context.Context, acct nudge.Account, ch nudge.ChannelKind, profile *compliance.Profile,
	at time.Time) (Choice, bool, error) {
	every := &Optimiser{Source: o.Source, Enabled: func(string) bool { return true }, Seed: o.Seed, Rand: o.Rand,
		Settle: o.Settle, PriorWeight: o.PriorWeight, PoolTTL: o.PoolTTL}
	b, err := every.Prepare(ctx, []nudge.Account{acct}, at)
	if err != nil {
		return Choice{}, false, err
	}
	loc := compliance.PrimaryLocationOf(acct, profile)
	day := nudge.DateOf(at.In(loc))
	c, ok := b.Choose(Request{Key: "explain/" + acct.ID, Account: acct, Channel: ch, Profile: profile,
		Location: loc, From: at, Until: day.AddDays(1).In(loc, 0, 0)})
	return c, ok, nil
}
