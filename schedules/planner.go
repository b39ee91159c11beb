package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/metrics"
)

// Planner defaults.
const (
	// DefaultBatch is how many due accounts one query reads.
	DefaultBatch = 1000
	// DefaultCatchUpGrace is how long past its run time a non-terminal reminder
	// may sit before a tick re-enqueues it from the ledger.
	DefaultCatchUpGrace = 2 * time.Minute
)

// PlannerStore is the part of the store the Planner uses.
type PlannerStore interface {
	DueAccounts(ctx context.Context, at time.Time, limit int) ([]nudge.Account, error)
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	SetNextAction(ctx context.Context, lender, id string, at time.Time) error
	InsertReminders(ctx context.Context, rs []nudge.Reminder) ([]nudge.Reminder, error)
	SetReminderStatus(ctx context.Context, id string, status nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) error
	PendingReminders(ctx context.Context, at time.Time, limit int) ([]nudge.Reminder, error)
	ActivePromise(ctx context.Context, lender, accountID string) (nudge.Promise, error)
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
	PendingPromisesDueBefore(ctx context.Context, d nudge.Date) ([]nudge.Promise, error)
	SetPromiseStatus(ctx context.Context, id string, status nudge.PromiseStatus, now time.Time) error
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
type Planner struct {
	Store    PlannerStore
	Cadences CadenceSource
	Enqueuer Enqueuer
	Clock    nudge.Clock
	Logger   *slog.Logger
	// Metrics counts broken promises; nil counts nothing.
	Metrics metrics.Recorder
	// Batch is how many due accounts one query reads (DefaultBatch when 0).
	Batch int
	// CatchUpGrace is DefaultCatchUpGrace when 0.
	CatchUpGrace time.Duration
	// Concurrency is how many due accounts of a batch are planned at once
	// (one at a time when 0 or 1). Each account's writes are their own
	// transactions: on a database whose commits wait for the disk, planning
	// several accounts at once lets their commits share one flush.
	Concurrency int
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
	for {
		accts, err := p.Store.DueAccounts(ctx, now, batch)
		if err != nil {
			return st, fmt.Errorf("reading due accounts: %w", err)
		}
		if err := p.planBatch(ctx, accts, now, &st); err != nil {
			return st, err
		}
		st.Accounts += len(accts)
		if len(accts) < batch || ctx.Err() != nil {
			break
		}
	}
	if err := p.catchUp(ctx, now, batch, &st); err != nil {
		return st, err
	}
	return st, ctx.Err()
}

// planBatch plans one batch of due accounts, Concurrency at a time. The
// first failure stops the batch and is returned once the accounts already
// being planned are done.
func (p *Planner) planBatch(ctx context.Context, accts []nudge.Account, now time.Time, st *TickStats) error {
	if p.Concurrency <= 1 {
		for i := range accts {
			if err := p.planAccount(ctx, &accts[i], now, st); err != nil {
				return fmt.Errorf("planning account %s/%s: %w", accts[i].Lender, accts[i].ID, err)
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, p.Concurrency)
	)
	for i := range accts {
		sem <- struct{}{}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			var local TickStats
			err := p.planAccount(ctx, &accts[i], now, &local)
			mu.Lock()
			defer mu.Unlock()
			st.Planned += local.Planned
			st.Enqueued += local.Enqueued
			st.Expired += local.Expired
			if err != nil && first == nil {
				first = fmt.Errorf("planning account %s/%s: %w", accts[i].Lender, accts[i].ID, err)
				cancel()
			}
		})
	}
	wg.Wait()
	return first
}

func (p *Planner) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// planAccount plans one due account and sets when it is next due.
func (p *Planner) planAccount(ctx context.Context, a *nudge.Account, now time.Time, st *TickStats) error {
	if a.Status != nudge.StatusActive {
		return p.Store.SetNextAction(ctx, a.Lender, a.ID, time.Time{})
	}
	cads, err := p.Cadences.Cadences(ctx, a.Lender)
	if err != nil {
		return err
	}
	c, ok := p.cadenceFor(cads, a)
	if !ok {
		return p.Store.SetNextAction(ctx, a.Lender, a.ID, time.Time{})
	}
	profile, err := p.Cadences.Profiles().Lookup(c.Profile)
	if err != nil {
		return err
	}
	loc := compliance.PrimaryLocationOf(*a, profile)
	if a.HasHold(nudge.HoldPaymentClaimed) && c.StopsOn(StopPaymentClaimed) {
		// Paused until the lender posts the payment or clears the claim.
		return p.Store.SetNextAction(ctx, a.Lender, a.ID, time.Time{})
	}

	if c.StopsOn(StopPromise) {
		promise, err := p.Store.ActivePromise(ctx, a.Lender, a.ID)
		switch {
		case err == nil:
			// A promise pauses the cadence until the day after its date.
			resume := promise.Due.AddDays(1).In(loc, 0, 0)
			return p.Store.SetNextAction(ctx, a.Lender, a.ID, resume)
		case !errors.Is(err, nudge.ErrNotFound):
			return err
		}
	}
	broken, err := p.brokenPromiseDate(ctx, a)
	if err != nil {
		return err
	}
	res := c.Due(DueInput{
		Account:        *a,
		Location:       loc,
		Since:          a.NextActionAt,
		Now:            now,
		BrokenPromise:  broken,
		CadenceVersion: c.Version,
	})
	inserted, err := p.Store.InsertReminders(ctx, append(res.Due, res.Expired...))
	if err != nil {
		return err
	}
	for _, r := range inserted {
		if r.Status == nudge.ReminderExpired {
			st.Expired++
			if err := p.event(ctx, r, nudge.EventExpired, now, map[string]any{"due_at": r.DueAt, "expires_at": r.ExpiresAt}); err != nil {
				return err
			}
			continue
		}
		st.Planned++
		at := r.DueAt
		if at.Before(now) {
			at = now
		}
		// Move the preferred time into the allowed window; the worker checks
		// again at send time, so an error here only means "try at once".
		if next, err := compliance.NextAllowed(profile, *a, r.Channel, at); err == nil && next.After(at) {
			at = next
			r.Reason = nudge.ReasonQuietHours // held back until the window opens
		}
		if err := p.enqueue(ctx, r, at, now); err != nil {
			return err
		}
		st.Enqueued++
	}
	return p.Store.SetNextAction(ctx, a.Lender, a.ID, res.Next)
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

// brokenPromiseDate returns the date of the latest broken promise of the
// account's current cycle, if any.
func (p *Planner) brokenPromiseDate(ctx context.Context, a *nudge.Account) (*nudge.Date, error) {
	ps, err := p.Store.ListPromises(ctx, a.Lender, a.ID)
	if err != nil {
		return nil, err
	}
	if pr, ok := nudge.LatestBrokenPromise(ps, a.DueDate); ok {
		return &pr.Due, nil
	}
	return nil, nil
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
		if err := p.Store.SetPromiseStatus(ctx, pr.ID, nudge.PromiseBroken, now); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"promise_id": pr.ID, "due": pr.Due, "amount": pr.Amount, "status": nudge.PromiseBroken})
		if err := p.Store.AppendEvent(ctx, nudge.Event{Lender: pr.Lender, AccountID: pr.AccountID, Kind: nudge.EventPromise, Action: string(nudge.PromiseBroken), Detail: detail, At: now}); err != nil {
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
