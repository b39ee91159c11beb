package compliance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// maxDeferSteps bounds the search for an instant that satisfies the window,
// every cap and the conversation block at once.
const maxDeferSteps = 64

// Decide answers whether the reminder described by in may go out at in.At:
// Send (with the caps the attempt claim must respect in Limits), Defer (with
// the instant it becomes allowed in Until) or Suppress (with the reason).
// Every outcome names the rule behind it and explains itself in one sentence
// in the profile's language.
//
// The lender's profile is applied together with every jurisdiction profile
// that governs the borrower (Jurisdictions: the borrower's state, region or
// city, from the postal address or else the phone numbers), and the strictest
// wins: windows are intersected, every cap is enforced with its own reason
// and rule, a hold stops a channel when any profile says it does, consent is
// needed when any profile needs it. Decision.Applied names the profiles and
// Decision.DecidedBy the one whose rule gave the answer; on a tie the
// earlier profile (the lender's first) decides.
//
// Checks run in this order, and the first that refuses gives the reason:
// account status, holds, opt-out, contact (missing, wrong party,
// undeliverable, workplace email, consent), claimed payment, pending promise,
// time zones, then the time window, blackout dates, frequency caps and the
// Regulation F conversation block. Those last four defer rather than
// suppress: Until is the first instant at which all of them are satisfied
// at once, given the same history. A nil Profile means the built-in us profile.
func Decide(in Input) Decision {
	p := in.Profile
	if p == nil {
		p = usProfile()
	}
	a := in.Account
	ch := in.Channel
	ls := layersFor(p, a)
	e := explainer{lang: p.Language, channel: ch}
	d := Decision{Profile: p.Name, Applied: ls.names(), Overrides: relevantOverrides(p, a, ch)}

	pl, zoneErr := place(ls, a, ch)
	full := pl.window
	if zoneErr == nil && in.EndMargin > 0 {
		pl.window.End -= marginMinutes(in.EndMargin)
		if pl.window.validate() != nil {
			zoneErr = &ReasonError{Reason: nudge.ReasonNoCommonWindow,
				Detail: fmt.Sprintf("the %s window %s leaves no time before its end margin of %s", ch, full, in.EndMargin)}
		}
	}
	d.Zones = pl.zones
	e.zones = pl.zones
	e.window = pl.window

	suppress := func(reason nudge.Reason, rule string, by *Profile) Decision {
		d.Action = Suppress
		d.Reason = reason
		d.Rule = rule
		d.DecidedBy = by.Name
		d.Explanation = e.sentence(reason, Suppress)
		return d
	}

	b, claimed := blockedBy(ls, p, a, ch)
	if b != nil {
		e.hold = b.hold
		return suppress(b.reason, b.rule, b.by)
	}
	claimed = claimed || in.PaymentClaimed
	if in.OptedOut {
		return suppress(nudge.ReasonOptedOut, p.rule(nudge.ReasonOptedOut, ch), p)
	}
	ct, found := findContact(a, ch, in.Address)
	if !found || !ch.Valid() {
		return suppress(nudge.ReasonNoContact, RuleContactState, p)
	}
	switch ct.State {
	case nudge.ContactWrongParty:
		return suppress(nudge.ReasonWrongParty, RuleContactState, p)
	case nudge.ContactUndeliverable:
		return suppress(nudge.ReasonUndeliverable, RuleContactState, p)
	}
	if ch == nudge.Email && ct.Workplace {
		return suppress(nudge.ReasonWorkplaceEmail, p.rule(nudge.ReasonWorkplaceEmail, ch), p)
	}
	if by := ls.consentBy(ch); by != nil && !ct.Consent {
		return suppress(nudge.ReasonNoConsent, by.rule(nudge.ReasonNoConsent, ch), by)
	}
	if claimed {
		return suppress(nudge.ReasonPaymentClaimed, RulePaymentClaimed, p)
	}
	if promiseActive(in.Promise, pl.locs, in.At) {
		e.date = in.Promise.Due.String()
		return suppress(nudge.ReasonPromiseActive, RulePromise, p)
	}
	if zoneErr != nil {
		r := ReasonOf(zoneErr)
		if r == nudge.ReasonUnknownTimezone {
			e.zone = strings.TrimSpace(a.Borrower.Timezone)
			return suppress(r, RuleTimezone, p)
		}
		by := pl.by
		if by == nil {
			by = p
		}
		return suppress(r, by.rule(r, ch), by)
	}

	var (
		first     nudge.Reason
		firstRule string
		firstBy   *Profile
		t         = in.At
	)
	block := func(reason nudge.Reason, rule string, by *Profile) {
		if first == "" {
			first, firstRule, firstBy = reason, rule, by
		}
	}
	caps, owners := ls.caps(ch)
	convDays, convBy := ls.conversation()
	stable := false
	for range maxDeferSteps {
		n, err := openAt(p, pl, t)
		if err != nil {
			if first != "" {
				// The window closes for good only after another limit: report that limit.
				return suppress(first, firstRule, firstBy)
			}
			r := ReasonOf(err)
			by := p
			if r == nudge.ReasonNoCommonWindow {
				by = ls.windowBy(pl, ch, in.EndMargin, t)
			}
			return suppress(r, by.rule(r, ch), by)
		}
		if n.After(t) {
			switch {
			case first != "":
			case inWindow(pl, t):
				block(nudge.ReasonBlackout, RuleLenderBlackout, p)
			default:
				by := ls.windowBy(pl, ch, in.EndMargin, t)
				block(nudge.ReasonQuietHours, by.rule(nudge.ReasonQuietHours, ch), by)
			}
			t = n
		}
		if i, free, ok := capBlocks(caps, in.History, in.Address, t); ok {
			l := caps[i]
			block(l.Reason, l.Rule, owners.of(ls, i))
			if first == l.Reason && e.capLimit == nil {
				e.capLimit = &l
				e.collectorCalls = collectorCalls(l, in.History, in.Address, t)
			}
			t = free
			continue
		}
		if ch == nudge.Voice && convDays > 0 {
			if end, ok := conversationBlock(in.History, pl.locs, convDays, t); ok {
				block(nudge.ReasonConversation, convBy.rule(nudge.ReasonConversation, ch), convBy)
				e.days = convDays
				t = end
				continue
			}
		}
		stable = true
		break
	}
	if !stable {
		return suppress(first, firstRule, firstBy)
	}
	if first == "" {
		by := ls.windowEndBy(pl, ch, in.At)
		d.Action = Send
		d.WindowEnd = windowEnd(pl.locs, full, in.At)
		d.Limits = slices.Clone(caps)
		d.Rule = by.rule(nudge.ReasonQuietHours, ch)
		d.DecidedBy = by.Name
		d.Explanation = e.sentence("", Send)
		return d
	}
	d.Action = Defer
	d.Until = t.UTC()
	d.Reason = first
	d.Rule = firstRule
	d.DecidedBy = firstBy.Name
	e.until = t
	if len(pl.locs) > 0 {
		e.untilLoc = pl.locs[0]
	}
	d.Explanation = e.sentence(first, Defer)
	return d
}

// marginMinutes is an end margin in whole minutes, rounded up.
func marginMinutes(margin time.Duration) ClockTime {
	return ClockTime((margin + time.Minute - 1) / time.Minute)
}

// findContact returns the account's contact at address on channel ch.
func findContact(a nudge.Account, ch nudge.ChannelKind, address string) (nudge.Contact, bool) {
	for _, c := range a.Contacts {
		if c.Channel == ch && sameAddress(ch, c.Address, address) {
			return c, true
		}
	}
	return nudge.Contact{}, false
}

func sameAddress(ch nudge.ChannelKind, a, b string) bool {
	if ch == nudge.Email {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

// promiseActive reports whether a pending promise's date has not yet passed
// at instant at in some candidate zone (reminders pause through the promised date).
func promiseActive(pr *nudge.Promise, locs []*time.Location, at time.Time) bool {
	if pr == nil || pr.Status != nudge.PromisePending || pr.Due.IsZero() {
		return false
	}
	if len(locs) == 0 {
		locs = []*time.Location{time.UTC}
	}
	for _, loc := range locs {
		if !nudge.DateOf(at.In(loc)).After(pr.Due) {
			return true
		}
	}
	return false
}

// inWindow reports whether t lies inside the window in every candidate zone,
// ignoring blackout dates.
func inWindow(pl placement, t time.Time) bool {
	n, ok := nextOpen(pl.locs, pl.window, nil, t, t)
	return ok && n.Equal(t)
}

// windowEnd returns the first instant after t at which w closes in any of
// locs (t lies inside w in each of them).
func windowEnd(locs []*time.Location, w Window, t time.Time) time.Time {
	var first time.Time
	for _, loc := range locs {
		day := nudge.DateOf(t.In(loc)).AddDays(-1)
		for range 3 {
			end := day.In(loc, int(w.End)/60, int(w.End)%60)
			if t.Before(end) {
				if first.IsZero() || end.Before(first) {
					first = end
				}
				break
			}
			day = day.AddDays(1)
		}
	}
	return first.UTC()
}

// Counts reports whether attempt a counts toward limit l for a send to
// address. A limit with an empty Channel counts the attempts on every
// channel (a jurisdiction's cap across all channels, such as us-nyc's).
func Counts(l nudge.CapLimit, a nudge.Attempt, address string) bool {
	if l.Channel != "" && a.Channel != l.Channel {
		return false
	}
	if l.PerAddress && !sameAddress(a.Channel, a.Address, address) {
		return false
	}
	switch l.Count {
	case nudge.CountCalls:
		return a.Status.CountsAsCall()
	case nudge.CountUnanswered:
		return a.Unanswered()
	}
	return true
}

func attemptTime(a nudge.Attempt) time.Time {
	if a.CreatedAt.IsZero() {
		return a.SentAt
	}
	return a.CreatedAt
}

// capBlocks reports which limit history already fills at t and the instant
// at which enough counted attempts have left its window; when several are
// full, the one that frees last (the first of those on a tie). An attempt
// counts toward a window ending at t while t-Window < CreatedAt.
func capBlocks(limits []nudge.CapLimit, history []nudge.Attempt, address string, t time.Time) (int, time.Time, bool) {
	found, latest := -1, time.Time{}
	var times []time.Time
	for i, l := range limits {
		if l.Max < 0 || l.Window <= 0 {
			continue
		}
		from := t.Add(-l.Window)
		times = times[:0]
		for _, a := range history {
			at := attemptTime(a)
			if at.After(from) && Counts(l, a, address) {
				times = append(times, at)
			}
		}
		if len(times) < l.Max {
			continue
		}
		var free time.Time
		if l.Max > 0 {
			slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
			free = times[len(times)-l.Max].Add(l.Window)
		}
		if l.Max == 0 || !free.After(t) {
			// Max 0 never frees; keep the channel closed for a full window.
			free = t.Add(l.Window)
		}
		if found < 0 || free.After(latest) {
			found, latest = i, free
		}
	}
	return found, latest, found >= 0
}

// collectorCalls counts the attempts of history that limit l counts in its
// window ending at t and that a collector placed from a call list.
func collectorCalls(l nudge.CapLimit, history []nudge.Attempt, address string, t time.Time) int {
	n := 0
	from := t.Add(-l.Window)
	for _, a := range history {
		if a.ByCollector() && attemptTime(a).After(from) && Counts(l, a, address) {
			n++
		}
	}
	return n
}

// conversationBlock reports whether t falls within days (the conversation day
// being day 1) after a voice conversation in history, in any candidate zone,
// and when the block ends.
func conversationBlock(history []nudge.Attempt, locs []*time.Location, days int, t time.Time) (time.Time, bool) {
	var end time.Time
	for _, a := range history {
		if a.Channel != nudge.Voice || !a.Conversation {
			continue
		}
		at := attemptTime(a)
		for _, loc := range locs {
			e := nudge.DateOf(at.In(loc)).AddDays(days).In(loc, 0, 0)
			if e.After(end) {
				end = e
			}
		}
	}
	if t.Before(end) {
		return end, true
	}
	return time.Time{}, false
}

// relevantOverrides lists the profile's overrides that bear on a decision for
// account a on channel ch.
func relevantOverrides(p *Profile, a nudge.Account, ch nudge.ChannelKind) []Override {
	prefixes := []string{"windows." + string(ch), "caps." + string(ch), "require_consent." + string(ch), "fallback"}
	if ch == nudge.Voice {
		prefixes = append(prefixes, "conversation_block_days", "limited_content_voicemail")
	}
	for _, h := range a.Holds {
		prefixes = append(prefixes, "hold_scope."+string(h.Kind))
	}
	return p.overridesFor(prefixes...)
}

// holdRule names the rule behind a hold of kind k.
// block is what stops every contact with an account on some channel before
// the channel's own rules: its status, or a hold (hold names it).
type block struct {
	reason nudge.Reason
	rule   string
	by     *Profile
	hold   string
}

// blockedBy checks the account's status, then its holds on any of chans;
// claimed reports a payment-claimed hold, which refuses later in the order.
func blockedBy(ls layers, p *Profile, a nudge.Account, chans ...nudge.ChannelKind) (b *block, claimed bool) {
	switch a.Status {
	case nudge.StatusPaid:
		return &block{reason: nudge.ReasonAccountPaid, rule: RuleAccountStatus, by: p}, false
	case nudge.StatusClosed, nudge.StatusChargedOff:
		return &block{reason: nudge.ReasonAccountClosed, rule: RuleAccountStatus, by: p}, false
	}
	for _, h := range a.Holds {
		if h.Kind == nudge.HoldPaymentClaimed {
			claimed = true
			continue
		}
		for _, ch := range chans {
			if by := ls.holdBy(h.Kind, ch); by != nil {
				return &block{reason: nudge.ReasonHold, rule: holdRule(by, h.Kind), by: by, hold: string(h.Kind)}, claimed
			}
		}
	}
	return nil, claimed
}

func holdRule(p *Profile, k nudge.HoldKind) string {
	if p.Base == "us" {
		switch k {
		case nudge.HoldCeaseCommunication:
			return "12 CFR 1006.6(c)(1)"
		case nudge.HoldAttorney:
			return "12 CFR 1006.6(b)(2)"
		case nudge.HoldDispute:
			return "15 U.S.C. 1692g(b)"
		case nudge.HoldBankruptcy:
			return "11 U.S.C. 362(a)"
		}
	}
	return RuleLenderHold + " (" + string(k) + ")"
}

// rule names the rule behind a reason on channel ch under profile p.
func (p *Profile) rule(r nudge.Reason, ch nudge.ChannelKind) string {
	if p.Overlay {
		return p.overlayRule(r)
	}
	us := p.Base != "cn"
	switch r {
	case nudge.ReasonQuietHours, nudge.ReasonNoCommonWindow:
		if us {
			return RuleUSTime
		}
		if ch == nudge.Voice {
			return RuleCNTime
		}
		return RuleCNTimeNIFA
	case nudge.ReasonBlackout:
		return RuleLenderBlackout
	case nudge.ReasonConversation:
		return RuleUSConversation
	case nudge.ReasonOptedOut:
		if !us {
			return RuleCNOptOut
		}
		if ch == nudge.Voice {
			return RuleUSOptOutVoice
		}
		return RuleUSOptOutText
	case nudge.ReasonNoConsent:
		if !us {
			return RuleCNConsent
		}
		if ch == nudge.Voice {
			return RuleUSCallConsent
		}
		return RuleUSTextConsent
	case nudge.ReasonWorkplaceEmail:
		if us {
			return RuleUSWorkplace
		}
		return "Nudge policy: no workplace email"
	}
	return "Nudge policy: " + string(r)
}

// overlayRule names the rule behind a reason under a jurisdiction overlay.
func (p *Profile) overlayRule(r nudge.Reason) string {
	window := r == nudge.ReasonQuietHours || r == nudge.ReasonNoCommonWindow
	switch {
	case p.Base == "us-ma" && window:
		return RuleMATime
	case p.Base == "us-ma" && r == nudge.ReasonCallCap:
		return RuleMACalls
	case p.Base == "us-wa":
		return RuleWA
	case p.Base == "us-nyc":
		return RuleNYC
	case p.Base == "in":
		return RuleIN
	}
	return "profile " + p.Name + ": " + string(r)
}
