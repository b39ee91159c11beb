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
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	SetNextAction(ctx context.Context, lender, id string, at time.Time) error
	// PromisesOf returns every promise of the accounts, grouped by account
	// and oldest first within one: one read for a whole batch.
	PromisesOf(ctx context.Context, accts []nudge.Account) ([]nudge.Promise, error)
	// SavePlan inserts the reminders under their natural key (ignoring
	// those that exist), appends the events of the reminders it inserted,
	// and sets the accounts' next actions, in one transaction; it returns
	// the reminders it inserted.
	SavePlan(ctx context.Context, rs []nudge.Reminder, events []nudge.Event, next []nudge.Account) ([]nudge.Reminder, error)
	SetReminderStatus(ctx context.Context, id string, status nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) error
	PendingReminders(ctx context.Context, at time.Time, limit int) ([]nudge.Reminder, error)
	PendingPromisesDueBefore(ctx context.Context, d nudge.Date) ([]nudge.Promise, error)
	SetPromiseStatus(ctx context.Context, id string, status nudge.PromiseStatus, now time.Time, events ...nudge.Event) error
	AppendEvent(ctx context.Context, e nudge.Event) error
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
	// Metrics counts broken promises; nil counts nothing.
	Metrics metrics.Recorder
	// Batch is how many due accounts one query reads and one transaction
	// plans (DefaultBatch when 0).
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
// are planned.
func (p *Planner) breakPromises(ctx context.Context, now time.Time, st *TickStats) error {
	// Any zone is at most 14 hours ahead of UTC: a promise dated before
	// tomorrow (UTC) may be over somewhere.
	ps, err := p.Store.PendingPromisesDueBefore(ctx, nudge.DateOf(now).AddDays(1))
	if err != nil {
		return fmt.Errorf("reading promises: %w", err)
	}
	for _, pr := range ps {
		a, err := p.Store.GetAccount(ctx, pr.Lender, pr.AccountID)
		if err != nil {
			return fmt.Errorf("promise %s: %w", pr.ID, err)
		}
		loc := compliance.PrimaryLocationOf(a, p.profileFor(ctx, a))
		if now.Before(pr.Due.AddDays(1).In(loc, 0, 0)) {
			continue
		}
		// The status and its event are one transaction.
		detail, _ := json.Marshal(map[string]any{"promise_id": pr.ID, "due": pr.Due, "amount": pr.Amount, "status": nudge.PromiseBroken})
		if err := p.Store.SetPromiseStatus(ctx, pr.ID, nudge.PromiseBroken, now, nudge.Event{Lender: pr.Lender, AccountID: pr.AccountID,
			Kind: nudge.EventPromise, Action: string(nudge.PromiseBroken), Detail: detail, At: now}); err != nil {
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

// profileFor returns the profile of the account's cadence, or nil.
func (p *Planner) profileFor(ctx context.Context, a nudge.Account) *compliance.Profile {
	cads, err := p.Cadences.Cadences(ctx, a.Lender)
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
// moment has passed for good.
func (p *Planner) catchUp(ctx context.Context, now time.Time, batch int, st *TickStats) error {
	grace := p.CatchUpGrace
	if grace <= 0 {
		grace = DefaultCatchUpGrace
	}
	rs, err := p.Store.PendingReminders(ctx, now.Add(-grace), batch)
	if err != nil {
		return fmt.Errorf("reading pending reminders: %w", err)
	}
	for _, r := range rs {
		if !now.Before(r.ExpiresAt) {
			err := p.Store.SetReminderStatus(ctx, r.ID, nudge.ReminderExpired, nudge.ReasonExpired, time.Time{}, now)
			if errors.Is(err, nudge.ErrConflict) {
				continue
			}
			if err != nil {
				return err
			}
			st.Expired++
			if err := p.event(ctx, r, nudge.EventExpired, now, map[string]any{"expires_at": r.ExpiresAt, "caught_up": true}); err != nil {
				return err
			}
			continue
		}
		if err := p.enqueue(ctx, r, now, now); err != nil {
			return err
		}
		st.CaughtUp++
	}
	return nil
}

// enqueue puts r on its queue at at and records it in the ledger.
func (p *Planner) enqueue(ctx context.Context, r nudge.Reminder, at, now time.Time) error {
	if err := p.Enqueuer.Enqueue(ctx, r, at); err != nil {
		return fmt.Errorf("enqueueing %s: %w", r.ID, err)
	}
	err := p.Store.SetReminderStatus(ctx, r.ID, nudge.ReminderQueued, nudge.ReasonNone, at, now)
	if errors.Is(err, nudge.ErrConflict) {
		return nil // a worker finished it meanwhile
	}
	if err != nil {
		return err
	}
	return p.event(ctx, r, nudge.EventEnqueued, now, map[string]any{"process_at": at, "channel": r.Channel})
}

func (p *Planner) event(ctx context.Context, r nudge.Reminder, kind nudge.EventKind, now time.Time, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return p.Store.AppendEvent(ctx, nudge.Event{
		Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID,
		Kind: kind, Reason: r.Reason, Detail: b, At: now,
	})
}
