package nudge

import "time"

// Intent is what a borrower's answer means.
type Intent string

// Intents understood from SMS replies, keypad input, speech and web forms.
const (
	IntentOptOut       Intent = "opt_out"
	IntentOptIn        Intent = "opt_in"
	IntentHelp         Intent = "help"
	IntentPromise      Intent = "promise"
	IntentPaid         Intent = "paid"
	IntentWrongNumber  Intent = "wrong_number"
	IntentTalkToPerson Intent = "talk_to_person"
	IntentUnknown      Intent = "unknown" // needs a person
)

// Reply is one answer from a borrower on any channel.
type Reply struct {
	ID        string
	Lender    string
	AccountID string
	Channel   ChannelKind
	From      string
	To        string
	Body      string
	Intent    Intent
	// ProviderID de-duplicates provider retries (Twilio MessageSid, …).
	ProviderID  string
	NeedsPerson bool
	CreatedAt   time.Time
	// Assignee is the operator (API key id) working a reply that needs a
	// person, empty while nobody has taken it.
	Assignee   string
	AssignedAt time.Time
	// ResolvedBy, ResolvedAt and Resolution say who handled a reply that
	// needed a person, when, and the note they left; a resolved reply
	// leaves the queue. The note is erased with the borrower.
	ResolvedBy string
	ResolvedAt time.Time
	Resolution string
}

// Open reports whether the reply waits in the queue of replies needing a
// person: it needs one and nobody has resolved it.
func (r Reply) Open() bool { return r.NeedsPerson && r.ResolvedAt.IsZero() }

// PromiseStatus is where a promise to pay stands.
type PromiseStatus string

// Promise statuses.
const (
	PromisePending  PromiseStatus = "pending"
	PromiseKept     PromiseStatus = "kept"
	PromiseBroken   PromiseStatus = "broken"
	PromiseCanceled PromiseStatus = "canceled"
)

// Promise is a borrower's promise to pay an amount by a date.
type Promise struct {
	ID        string
	Lender    string
	AccountID string
	// Amount is a decimal string; it equals the amount due when the borrower named none.
	Amount   string
	Currency string
	// Due is the promised date in the borrower's time zone.
	Due     Date
	Status  PromiseStatus
	Channel ChannelKind
	ReplyID string
	// PlanID names the payment plan the promise is an instalment of; empty
	// for a single promise.
	PlanID    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OptOut stops one address on one channel for one lender, until an opt-in
// from the same address. After erasure only AddressHash remains.
type OptOut struct {
	Lender      string
	Channel     ChannelKind
	Address     string
	AddressHash string
	Source      string // sms_keyword, voice_keypad, email_link, web, api, provider_21610
	Reason      string
	CreatedAt   time.Time
}

// ActivePromise returns the pending promise that pauses the account's
// cadence, from the account's promises ps: the earliest-dated pending one
// (a plan's next instalment), ties going to the most recent. An instalment
// of a plan with a broken instalment does not pause anything: once a plan
// is broken, the broken-promise steps run, and its later instalments stay
// pending only to be kept by a payment or broken in their turn.
func ActivePromise(ps []Promise) (Promise, bool) {
	brokenPlans := map[string]bool{}
	for _, p := range ps {
		if p.PlanID != "" && p.Status == PromiseBroken {
			brokenPlans[p.PlanID] = true
		}
	}
	var (
		best  Promise
		found bool
	)
	for _, p := range ps {
		if p.Status != PromisePending || (p.PlanID != "" && brokenPlans[p.PlanID]) {
			continue
		}
		switch {
		case !found, p.Due.Before(best.Due):
			best, found = p, true
		case p.Due == best.Due && (p.CreatedAt.After(best.CreatedAt) || p.CreatedAt.Equal(best.CreatedAt) && p.ID > best.ID):
			best = p
		}
	}
	return best, found
}

// LatestBrokenPromise returns the latest broken promise of the cycle that
// started on dueDate (promises dated before it belong to an earlier cycle):
// the one whose date the cadence's broken-promise steps count from.
func LatestBrokenPromise(ps []Promise, dueDate Date) (Promise, bool) {
	var (
		latest Promise
		found  bool
	)
	for _, p := range ps {
		if p.Status != PromiseBroken || p.Due.Before(dueDate) {
			continue
		}
		if !found || p.Due.After(latest.Due) {
			latest, found = p, true
		}
	}
	return latest, found
}
