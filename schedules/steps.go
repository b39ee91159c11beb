package schedules

import (
	"slices"
	"time"

	"github.com/nudgehq/nudge"
)

// Applies reports whether the cadence covers account a on the day today: the
// account is active, has a due date, is in one of the cadence's portfolios
// (any portfolio when none are listed) and today's days past due lie in the
// cadence's days_past_due range.
func (c *Cadence) Applies(a nudge.Account, today nudge.Date) bool {
	if a.Status != nudge.StatusActive || a.DueDate.IsZero() {
		return false
	}
	if !c.CoversPortfolio(a.Portfolio) {
		return false
	}
	return c.AppliesTo.DaysPastDue.Contains(a.DaysPastDue(today))
}

// CoversPortfolio reports whether the cadence covers accounts of the given
// portfolio: it lists the portfolio, or lists none.
func (c *Cadence) CoversPortfolio(portfolio string) bool {
	return len(c.AppliesTo.Portfolios) == 0 || slices.Contains(c.AppliesTo.Portfolios, portfolio)
}

// AccountState is what the planner knows about an account beyond the account
// document, for deciding whether a stop condition holds.
type AccountState struct {
	// Promise is the account's pending promise to pay, if any.
	Promise *nudge.Promise
	// PaymentClaimed is true when the borrower says they paid and the payment awaits reconciliation.
	PaymentClaimed bool
	// OptedOut is true when the borrower has opted out on at least one channel.
	OptedOut bool
}

// Stopped returns the first of the cadence's stop conditions that holds for
// account a on the day today, in the order of AllStopConditions. A pending
// promise holds up to and including its promised date.
func (c *Cadence) Stopped(a nudge.Account, st AccountState, today nudge.Date) (StopCondition, bool) {
	for _, cond := range AllStopConditions {
		if !c.StopsOn(cond) {
			continue
		}
		var holds bool
		switch cond {
		case StopPaid:
			holds = a.Status != nudge.StatusActive
		case StopPromise:
			holds = st.Promise != nil && st.Promise.Status == nudge.PromisePending && !today.After(st.Promise.Due)
		case StopPaymentClaimed:
			holds = st.PaymentClaimed
		case StopHold:
			holds = len(a.Holds) > 0
		case StopOptOut:
			holds = st.OptedOut
		}
		if holds {
			return cond, true
		}
	}
	return "", false
}

// DueInput is what Due needs to plan one account; Due does no I/O.
type DueInput struct {
	// Account is the account being planned; its DueDate is the cycle of the regular steps.
	Account nudge.Account
	// Location is the borrower's primary time zone, in which each step's
	// preferred local time is read; nil means UTC.
	Location *time.Location
	// Since is where the previous planning left off: the previous planning
	// instant or the Next it returned. Steps whose instant is at or after
	// Since and whose day is over are reported expired; one that was already
	// planned gets the same reminder key, so reporting it again is harmless.
	// Zero for an account planned for the first time, which then gets no
	// expired backlog.
	Since time.Time
	// Now is the planning instant.
	Now time.Time
	// BrokenPromise is the promised date of a broken promise that started the
	// cadence's broken-promise steps; nil when none did.
	BrokenPromise *nudge.Date
	// Lender is the lender in the reminder keys; empty means Account.Lender.
	Lender string
	// CadenceVersion is the stored version of the cadence, copied into each reminder.
	CadenceVersion int
}

// DueResult is what Due found for one account at one instant.
type DueResult struct {
	// Due are the steps whose preferred instant has come (at or before Now)
	// and whose day is not over, with status planned.
	Due []nudge.Reminder
	// Expired are the steps whose preferred instant fell in [Since, Now]
	// but whose day was already over at Now, with status expired and
	// reason expired: a scheduler that was down records them instead of
	// sending them late.
	Expired []nudge.Reminder
	// Next is the earliest preferred instant after Now of a step of the
	// current cycles, or zero when no step remains.
	Next time.Time
}

// Due works out which steps of the cadence are due for the account at
// in.Now. Regular steps count their day from the account's due date (the
// cycle); broken-promise steps count theirs from in.BrokenPromise. Each
// step's preferred instant is its At on its day in in.Location, moved
// forward when that local time does not exist on the day (02:30 on a
// spring-forward day is 03:30); its day ends at the next local midnight.
//
// Due does not check Applies or the stop conditions: the caller does.
// Compliance later moves each instant into the allowed window.
func (c *Cadence) Due(in DueInput) DueResult {
	var res DueResult
	now := in.Now
	for _, r := range c.Timeline(in) {
		switch {
		case r.DueAt.After(now):
			if res.Next.IsZero() || r.DueAt.Before(res.Next) {
				res.Next = r.DueAt
			}
		case now.Before(r.ExpiresAt):
			res.Due = append(res.Due, r)
		case !in.Since.IsZero() && !r.DueAt.Before(in.Since):
			r.Status = nudge.ReminderExpired
			r.Reason = nudge.ReasonExpired
			res.Expired = append(res.Expired, r)
		}
	}
	return res
}

// Timeline returns a planned reminder for every step of the account's
// current cycles (the regular steps from its due date and, when
// in.BrokenPromise is set, the broken-promise steps from that date), ordered
// by preferred instant, whatever in.Now and in.Since are. It is what a
// preview shows; Due selects from it.
func (c *Cadence) Timeline(in DueInput) []nudge.Reminder {
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	lender := in.Lender
	if lender == "" {
		lender = in.Account.Lender
	}
	stamp := in.Now.UTC()
	make1 := func(s Step, cycle nudge.Date, brokenPromise bool) nudge.Reminder {
		day := cycle.AddDays(s.Day)
		key := nudge.ReminderKey{Lender: lender, AccountID: in.Account.ID, Cadence: c.Name, Step: s.ID, Cycle: cycle}
		due := LocalTime(day, s.At, loc).UTC()
		template := s.Template
		if s.Channel == nudge.Task {
			template = s.Kind // a task step's reminder carries the kind of its work item
		}
		return nudge.Reminder{
			ID:             key.ID(),
			Key:            key,
			CadenceVersion: in.CadenceVersion,
			Channel:        s.Channel,
			Fallback:       s.Fallback,
			Template:       template,
			BrokenPromise:  brokenPromise,
			DueAt:          due,
			ExpiresAt:      EndOfDay(day, loc).UTC(),
			Status:         nudge.ReminderPlanned,
			NextAt:         due,
			CreatedAt:      stamp,
			UpdatedAt:      stamp,
		}
	}
	var out []nudge.Reminder
	if !in.Account.DueDate.IsZero() {
		for _, s := range c.Steps {
			out = append(out, make1(s, in.Account.DueDate, false))
		}
	}
	if in.BrokenPromise != nil && !in.BrokenPromise.IsZero() {
		for _, s := range c.BrokenPromise {
			out = append(out, make1(s, *in.BrokenPromise, true))
		}
	}
	slices.SortStableFunc(out, func(a, b nudge.Reminder) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		if a.Key.Step < b.Key.Step {
			return -1
		}
		if a.Key.Step > b.Key.Step {
			return 1
		}
		return 0
	})
	return out
}

// LocalTime returns the instant the wall clock in loc shows t on day d. A
// time that does not exist on that day (skipped by a daylight-saving change)
// is moved forward by the length of the gap, so 02:30 on a spring-forward
// day is 03:30; a time that occurs twice (a fall-back day) is its first
// occurrence.
func LocalTime(d nudge.Date, t ClockTime, loc *time.Location) time.Time {
	return d.In(loc, t.Hour, t.Minute)
}

// EndOfDay returns the instant day d ends in loc: the first instant of the
// next day.
func EndOfDay(d nudge.Date, loc *time.Location) time.Time {
	return LocalTime(d.AddDays(1), ClockTime{}, loc)
}
