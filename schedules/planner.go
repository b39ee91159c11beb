package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/sendtime"
)

// Planner defaults.
const (
	// DefaultBatch is how many due accounts one query reads.
	DefaultBatch = 1000
	// DefaultLanes is how many batches a tick plans at once.
	DefaultLanes = 2
	// DefaultCatchUpGrace is how long past its run time a non-terminal reminder
	// may sit before a tick re-enqueues it from the ledger.
	DefaultCatchUpGrace = 2 * time.Minute
)

// PlannerStore is the part of the store the Planner uses.
type PlannerStore interface {
	// DueLenders lists the lenders with accounts due at at.
	DueLenders(ctx context.Context, at time.Time) ([]string, error)
	// DueAccountsAfter reads a page of lender's accounts due at at, in next
	// action and id order, after the account after (from the first when
	// after is zero), with their contacts and holds.
	DueAccountsAfter(ctx context.Context, lender string, at time.Time, after nudge.Account, limit int) ([]nudge.Account, error)
	// GetAccounts returns those of the lender's accounts ids names that
	// exist, with their contacts and holds.
	GetAccounts(ctx context.Context, lender string, ids []string) ([]nudge.Account, error)
	SetNextAction(ctx context.Context, lender, id string, at time.Time) error
	// PromisesOf returns every promise of the accounts, grouped by account
	// and oldest first within one: one read for a whole batch.
	PromisesOf(ctx context.Context, accts []nudge.Account) ([]nudge.Promise, error)
	// SavePlan inserts the reminders under their natural key (ignoring
	// those that exist), appends the events of the reminders it inserted,
	// and sets the accounts' next actions, in one transaction; it returns
	// the reminders it inserted.
	SavePlan(ctx context.Context, rs []nudge.Reminder, events []nudge.Event, next []nudge.Account) ([]nudge.Reminder, error)
	PendingReminders(ctx context.Context, at time.Time, limit int) ([]nudge.Reminder, error)
	// MoveOpenReminders applies the changes to the reminders still open and
	// appends the events of those it moved, in one transaction; it returns
	// the ids it moved.
	MoveOpenReminders(ctx context.Context, changes []nudge.ReminderChange, events []nudge.Event) ([]string, error)
	PendingPromisesDueBefore(ctx context.Context, d nudge.Date) ([]nudge.Promise, error)
	SetPromiseStatus(ctx context.Context, id string, status nudge.PromiseStatus, now time.Time, events ...nudge.Event) error
}

// Enqueuer puts a reminder on its channel's queue to run at an instant. A
// reminder that is already queued is not an error.
type Enqueuer interface {
	Enqueue(ctx context.Context, r nudge.Reminder, at time.Time) error
}

// CadenceSource gives a lender's active cadences and looks up profiles.
type CadenceSource interface {
	Cadences(ctx context.Context, lender string) ([]Versioned, error)
	Profiles() *compliance.Registry
}

// Planner turns due accounts into reminders on the queues. It reads only
// accounts whose next action has come, so a tick costs O(due), and it is safe
// to run in several processes at once: reminders are inserted under their
// natural key and enqueued with their id as the TaskID.
//
// A tick plans the due accounts set-based, a batch at a time and Lanes
// batches at once: one read of the batch with what planning needs (the
// accounts with their contacts and holds, then the promises of those that
// may be planned), one transaction that inserts the batch's reminders with
// their events and sets every account's next action, and then the enqueues,
// Concurrency at a time. The ledger comes first: a reminder is committed,
// as queued at its process time, before it is enqueued, and a reminder the
// queue never got (a crash, a Redis flush, a failed enqueue) is put back by
// the catch-up of a later tick once it is CatchUpGrace late.
type Planner struct {
	Store    PlannerStore
	Cadences CadenceSource
	Enqueuer Enqueuer
	Clock    nudge.Clock
	Logger   *slog.Logger
	// Metrics counts broken promises and what the catch-up requeued or
	// expired; nil counts nothing.
	Metrics metrics.Recorder
	// Batch is how many due accounts one query reads and one transaction
	// plans, and how many overdue reminders one page of the catch-up takes
	// (DefaultBatch when 0).
	Batch int
	// Lanes is how many batches are planned at once, each with its own
	// transaction and enqueues, while the next batch is read (DefaultLanes
	// when 0; 1 plans one batch after another). On SQLite the transactions
	// take turns at the one writer.
	Lanes int
	// CatchUpGrace is DefaultCatchUpGrace when 0.
	CatchUpGrace time.Duration
	// Concurrency is how many reminders of a batch are put on the queues at
	// once (one at a time when 0 or 1). The Enqueuer must then be safe for
	// concurrent use.
	Concurrency int
	// SendTimes, when set, places the SMS, calls and emails of the lenders
	// with send-time optimisation on at the hour of the step's day with the
	// best expected response (docs/send-time.md); nil, or a lender with
	// the switch off, keeps the step's time.
	SendTimes *sendtime.Optimiser
}

// TickStats counts what one tick did.
type TickStats struct {
	Accounts       int `json:"accounts"`
	Planned        int `json:"planned"`
	Enqueued       int `json:"enqueued"`
	Expired        int `json:"expired"`
	CaughtUp       int `json:"caught_up"`
	BrokenPromises int `json:"broken_promises"`
}

// Tick plans everything due now: it marks promises whose date has passed as
// broken, plans the due accounts, and re-enqueues reminders from the ledger
// that should have run by now (after downtime or a lost queue).
func (p *Planner) Tick(ctx context.Context) (TickStats, error) {
	var st TickStats
	now := p.Clock.Now().UTC()
	if err := p.breakPromises(ctx, now, &st); err != nil {
		return st, err
	}
	batch := p.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	if err := p.planDue(ctx, now, batch, &st); err != nil {
		return st, err
	}
	if err := p.catchUp(ctx, now, batch, &st); err != nil {
		return st, err
	}
	return st, ctx.Err()
}

func (p *Planner) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// cadenceFor picks the cadence that plans the account (see Covering).
func (p *Planner) cadenceFor(cads []Versioned, a *nudge.Account) (Versioned, bool) {
	return Covering(cads, a.Portfolio)
}

// Covering picks the first active cadence (in name order) covering the
// portfolio. The days-past-due range is the cadence's own business: steps
// outside the account's current range are simply not due yet.
func Covering(cads []Versioned, portfolio string) (Versioned, bool) {
	for _, c := range cads {
		if c.CoversPortfolio(portfolio) {
			return c, true
		}
	}
	return Versioned{}, false
}

// breakPromises marks pending promises whose date is over in the borrower's
// zone as broken and makes their accounts due, so the broken-promise steps
// are planned. Every tick reads the promises dated up to today (UTC) with
// their accounts in one read per lender, and the lenders' cadences once: most
// of them are not over yet, and each was read one at a time before. A
// promise kept or canceled since the read is left as it is.
func (p *Planner) breakPromises(ctx context.Context, now time.Time, st *TickStats) error {
	// Any zone is at most 14 hours ahead of UTC: a promise dated before
	// tomorrow (UTC) may be over somewhere.
	ps, err := p.Store.PendingPromisesDueBefore(ctx, nudge.DateOf(now).AddDays(1))
	if err != nil {
		return fmt.Errorf("reading promises: %w", err)
	}
	if len(ps) == 0 {
		return nil
	}
	accounts, err := p.promiseAccounts(ctx, ps)
	if err != nil {
		return err
	}
	cadences := map[string][]Versioned{}
	for _, pr := range ps {
		a, ok := accounts[accountKey{pr.Lender, pr.AccountID}]
		if !ok {
			p.logger().Warn("promise of an account that does not exist", "promise", pr.ID, "lender", pr.Lender, "account", pr.AccountID)
			continue
		}
		loc := compliance.PrimaryLocationOf(a, p.profileFor(ctx, cadences, a))
		if now.Before(pr.Due.AddDays(1).In(loc, 0, 0)) {
			continue
		}
		// The status and its event are one transaction.
		detail, _ := json.Marshal(map[string]any{"promise_id": pr.ID, "due": pr.Due, "amount": pr.Amount, "status": nudge.PromiseBroken})
		err := p.Store.SetPromiseStatus(ctx, pr.ID, nudge.PromiseBroken, now, nudge.Event{Lender: pr.Lender, AccountID: pr.AccountID,
			Kind: nudge.EventPromise, Action: string(nudge.PromiseBroken), Detail: detail, At: now})
		if errors.Is(err, nudge.ErrConflict) {
			continue // kept or canceled since the read
		}
		if err != nil {
			return err
		}
		if err := p.Store.SetNextAction(ctx, pr.Lender, pr.AccountID, now); err != nil {
			return err
		}
		st.BrokenPromises++
		if p.Metrics != nil {
			p.Metrics.Promise(nudge.PromiseBroken)
		}
	}
	return nil
}

// promiseAccounts reads the accounts of the promises, one read per lender.
func (p *Planner) promiseAccounts(ctx context.Context, ps []nudge.Promise) (map[accountKey]nudge.Account, error) {
	ids := map[string][]string{}
	for _, pr := range ps {
		ids[pr.Lender] = append(ids[pr.Lender], pr.AccountID)
	}
	out := make(map[accountKey]nudge.Account, len(ps))
	for lender, list := range ids {
		accts, err := p.Store.GetAccounts(ctx, lender, list)
		if err != nil {
			return nil, fmt.Errorf("reading the accounts of promises: %w", err)
		}
		for _, a := range accts {
			out[accountKey{a.Lender, a.ID}] = a
		}
	}
	return out, nil
}

// cadencesOf returns the lender's active cadences from seen, reading them
// into it when the lender has none there yet: one read per lender for a
// tick's promises or a batch's accounts.
func (p *Planner) cadencesOf(ctx context.Context, seen map[string][]Versioned, lender string) ([]Versioned, error) {
	if cads, ok := seen[lender]; ok {
		return cads, nil
	}
	cads, err := p.Cadences.Cadences(ctx, lender)
	if err != nil {
		return nil, err
	}
	seen[lender] = cads
	return cads, nil
}

// profileFor returns the profile of the account's cadence, or nil.
func (p *Planner) profileFor(ctx context.Context, cadences map[string][]Versioned, a nudge.Account) *compliance.Profile {
	cads, err := p.cadencesOf(ctx, cadences, a.Lender)
	if err != nil {
		return nil
	}
	c, ok := p.cadenceFor(cads, &a)
	if !ok {
		return nil
	}
	prof, err := p.Cadences.Profiles().Lookup(c.Profile)
	if err != nil {
		return nil
	}
	return prof
}

// catchUp re-enqueues non-terminal reminders that should have run a while ago
// (the queue lost them, or nothing was running), and expires those whose
// moment has passed for good. It works through every such reminder a page
// (batch) at a time, as planning does: the page's enqueues, Concurrency at
// a time, then one transaction that expires or re-queues the page's
// reminders that are still open, with their events. A reminder it handled
// runs next at now, so the next page's read does not return it again. The
// ledger comes after the queue, as before: when an enqueue fails the tick
// stops, and the page's reminders not expired are read again by the next
// tick (an enqueue of a reminder already queued is not an error).
func (p *Planner) catchUp(ctx context.Context, now time.Time, batch int, st *TickStats) error {
	grace := p.CatchUpGrace
	if grace <= 0 {
		grace = DefaultCatchUpGrace
	}
	for {
		rs, err := p.Store.PendingReminders(ctx, now.Add(-grace), batch)
		if err != nil {
			return fmt.Errorf("reading pending reminders: %w", err)
		}
		if err := p.catchUpPage(ctx, rs, now, st); err != nil {
			return err
		}
		if len(rs) < batch || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// catchUpPage expires or re-enqueues one page of overdue reminders.
func (p *Planner) catchUpPage(ctx context.Context, rs []nudge.Reminder, now time.Time, st *TickStats) error {
	if len(rs) == 0 {
		return nil
	}
	var (
		expired, queued []nudge.ReminderChange
		events          []nudge.Event
		jobs            []enqueueJob
		isExpired       = map[string]bool{}
	)
	for _, r := range rs {
		if !now.Before(r.ExpiresAt) {
			isExpired[r.ID] = true
			expired = append(expired, nudge.ReminderChange{ID: r.ID, Status: nudge.ReminderExpired, Reason: nudge.ReasonExpired, At: now})
			events = append(events, reminderEvent(r, nudge.EventExpired, now, map[string]any{"expires_at": r.ExpiresAt, "caught_up": true}))
			continue
		}
		jobs = append(jobs, enqueueJob{r: r, at: now})
		queued = append(queued, nudge.ReminderChange{ID: r.ID, Status: nudge.ReminderQueued, NextAt: now, At: now})
		events = append(events, reminderEvent(r, nudge.EventEnqueued, now, map[string]any{"process_at": now, "channel": r.Channel}))
	}
	_, enqErr := p.enqueueAll(ctx, jobs)
	changes := expired
	if enqErr == nil {
		changes = append(changes, queued...)
	}
	moved, err := p.Store.MoveOpenReminders(ctx, changes, events)
	if err != nil {
		return errors.Join(enqErr, fmt.Errorf("catching up %d reminders: %w", len(changes), err))
	}
	// A reminder not moved was finished meanwhile (a worker sent it, an
	// operator canceled it).
	for _, id := range moved {
		outcome := "requeued"
		if isExpired[id] {
			outcome = "expired"
			st.Expired++
		} else {
			st.CaughtUp++
		}
		if p.Metrics != nil {
			p.Metrics.CaughtUp(outcome)
		}
	}
	return enqErr
}

// reminderEvent is an event of the reminder r with detail.
func reminderEvent(r nudge.Reminder, kind nudge.EventKind, now time.Time, detail map[string]any) nudge.Event {
	b, _ := json.Marshal(detail) // times, strings, booleans and channels always marshal
	return nudge.Event{
		Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID,
		Kind: kind, Reason: r.Reason, Detail: b, At: now,
	}
}
