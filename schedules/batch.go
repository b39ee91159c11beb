package schedules

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/sendtime"
)

// batchPlan is what planning decided for one batch of due accounts, before
// anything is written.
type batchPlan struct {
	// reminders are the reminders to insert: the due ones already queued at
	// their process time, the missed ones expired.
	reminders []nudge.Reminder
	// events are the reminders' events, written only for those inserted.
	events []nudge.Event
	// next holds every account of the batch with its next action.
	next []nudge.Account
	// jobs are the enqueues of the due reminders, by reminder id.
	jobs map[string]enqueueJob
}

// enqueueJob is one reminder to put on its queue at an instant.
type enqueueJob struct {
	r  nudge.Reminder
	at time.Time
}

// candidate is a due account that may have steps to plan, with what the
// first pass learned about it.
type candidate struct {
	a       *nudge.Account
	c       Versioned
	profile *compliance.Profile
	loc     *time.Location
}

// accountKey identifies an account across lenders.
type accountKey struct{ lender, id string }

// planDue plans every account due at now, batch accounts at a time. One
// goroutine reads the due accounts page by page, the lenders taking turns
// (each lender's page after the last account of its page before, so a page
// is read while the pages before it are still being planned), and hands the
// pages to Lanes goroutines that plan them. The first failure stops the reading and the lanes, and is returned
// once the batches being planned are done.
func (p *Planner) planDue(ctx context.Context, now time.Time, batch int, st *TickStats) error {
	lanes := p.Lanes
	if lanes <= 0 {
		lanes = DefaultLanes
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		pages = make(chan []nudge.Account)
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			cancel()
		}
	}
	for range lanes {
		wg.Go(func() {
			for accts := range pages {
				var local TickStats
				err := p.planBatch(ctx, accts, now, &local)
				mu.Lock()
				st.Planned += local.Planned
				st.Enqueued += local.Enqueued
				st.Expired += local.Expired
				mu.Unlock()
				if err != nil {
					fail(err)
				}
			}
		})
	}
	// The lenders take turns: a page of each lender with accounts still
	// due, then the next page of each, so that one lender's large backlog
	// is not planned and enqueued before another lender's first page
	// (docs/fairness.md).
	lenders, err := p.Store.DueLenders(ctx, now)
	if err != nil {
		fail(fmt.Errorf("reading the lenders with due accounts: %w", err))
	}
	after := make(map[string]nudge.Account, len(lenders))
	for len(lenders) > 0 && ctx.Err() == nil {
		var more []string
		for _, lender := range lenders {
			accts, err := p.Store.DueAccountsAfter(ctx, lender, now, after[lender], batch)
			if err != nil {
				fail(fmt.Errorf("reading due accounts of %s: %w", lender, err))
				break
			}
			if len(accts) == 0 {
				continue
			}
			mu.Lock()
			st.Accounts += len(accts)
			mu.Unlock()
			select {
			case pages <- accts:
			case <-ctx.Done():
			}
			if len(accts) == batch {
				last := accts[len(accts)-1]
				after[lender] = nudge.Account{ID: last.ID, NextActionAt: last.NextActionAt}
				more = append(more, lender)
			}
		}
		lenders = more
	}
	close(pages)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return first
}

// planBatch plans one batch of due accounts: it decides every account's
// reminders, events and next action from one read of the batch, writes them
// in one transaction, and then enqueues the new due reminders. The first
// failure stops the batch and is returned.
func (p *Planner) planBatch(ctx context.Context, accts []nudge.Account, now time.Time, st *TickStats) error {
	if len(accts) == 0 {
		return nil
	}
	plan, err := p.decide(ctx, accts, now)
	if err != nil {
		return err
	}
	inserted, err := p.Store.SavePlan(ctx, plan.reminders, plan.events, plan.next)
	if err != nil {
		return fmt.Errorf("saving the plan of %d accounts: %w", len(accts), err)
	}
	jobs := make([]enqueueJob, 0, len(inserted))
	for _, r := range inserted {
		if r.Status == nudge.ReminderExpired {
			st.Expired++
			continue
		}
		st.Planned++
		jobs = append(jobs, plan.jobs[r.ID])
	}
	n, err := p.enqueueAll(ctx, jobs)
	st.Enqueued += n
	return err
}

// decide works out, without writing anything, what planning does for each
// account of the batch. It reads each lender's cadences once and the
// promises of every account that may be planned at once.
func (p *Planner) decide(ctx context.Context, accts []nudge.Account, now time.Time) (*batchPlan, error) {
	plan := &batchPlan{next: make([]nudge.Account, 0, len(accts)), jobs: make(map[string]enqueueJob, len(accts))}
	setNext := func(a *nudge.Account, at time.Time) {
		plan.next = append(plan.next, nudge.Account{Lender: a.Lender, ID: a.ID, NextActionAt: at})
	}
	cadences := map[string][]Versioned{}
	var (
		cands []candidate
		read  []nudge.Account
	)
	for i := range accts {
		a := &accts[i]
		if a.Status != nudge.StatusActive {
			setNext(a, time.Time{})
			continue
		}
		cads, err := p.cadencesOf(ctx, cadences, a.Lender)
		if err != nil {
			return nil, fmt.Errorf("planning account %s/%s: %w", a.Lender, a.ID, err)
		}
		c, ok := p.cadenceFor(cads, a)
		if !ok {
			setNext(a, time.Time{})
			continue
		}
		profile, err := p.Cadences.Profiles().Lookup(c.Profile)
		if err != nil {
			return nil, fmt.Errorf("planning account %s/%s: %w", a.Lender, a.ID, err)
		}
		loc := compliance.PrimaryLocationOf(*a, profile)
		if a.HasHold(nudge.HoldPaymentClaimed) && c.StopsOn(StopPaymentClaimed) {
			// Paused until the lender posts the payment or clears the claim.
			setNext(a, time.Time{})
			continue
		}
		cands = append(cands, candidate{a: a, c: c, profile: profile, loc: loc})
		read = append(read, nudge.Account{Lender: a.Lender, ID: a.ID})
	}
	promises := map[accountKey][]nudge.Promise{}
	if len(read) > 0 {
		ps, err := p.Store.PromisesOf(ctx, read)
		if err != nil {
			return nil, fmt.Errorf("reading the promises of %d accounts: %w", len(read), err)
		}
		for _, pr := range ps {
			k := accountKey{pr.Lender, pr.AccountID}
			promises[k] = append(promises[k], pr)
		}
	}
	arms, err := p.arms(ctx, cands, now)
	if err != nil {
		return nil, err
	}
	var times *sendtime.Batch
	if p.SendTimes != nil && len(cands) > 0 {
		as := make([]nudge.Account, len(cands))
		for i, cd := range cands {
			as[i] = *cd.a
		}
		if times, err = p.SendTimes.Prepare(ctx, as, now); err != nil {
			return nil, err
		}
	}
	for _, cd := range cands {
		a := cd.a
		ps := promises[accountKey{a.Lender, a.ID}]
		if cd.c.StopsOn(StopPromise) {
			if promise, ok := nudge.ActivePromise(ps); ok {
				// A promise (a plan's next instalment) pauses the cadence
				// until the day after its date.
				setNext(a, promise.Due.AddDays(1).In(cd.loc, 0, 0))
				continue
			}
		}
		var broken *nudge.Date
		if pr, ok := nudge.LatestBrokenPromise(ps, a.DueDate); ok {
			broken = &pr.Due
		}
		arm := arms[accountKey{a.Lender, a.ID}]
		res := cd.c.ForArm(arm).Due(DueInput{
			Account:        *a,
			Location:       cd.loc,
			Since:          a.NextActionAt,
			Now:            now,
			BrokenPromise:  broken,
			CadenceVersion: cd.c.Version,
		})
		for i := range res.Due {
			res.Due[i].Arm = arm
		}
		for i := range res.Expired {
			res.Expired[i].Arm = arm
		}
		for _, r := range res.Due {
			at := r.DueAt
			if at.Before(now) {
				at = now
			}
			queued := r
			// Move the preferred time into the allowed window; the worker
			// checks again at send time, so an error here only means "try at
			// once". A call list's work item waits for the call window; other
			// work items have none.
			ch := r.Channel
			if ch == nudge.Task && r.Template == nudge.WorkCallList {
				ch = nudge.Voice
			}
			detail := map[string]any{"process_at": at, "channel": r.Channel, "planned": true,
				"cadence": r.Key.Cadence, "step": r.Key.Step}
			// With send-time optimisation on, the hour of the step's day
			// with the best expected response (always one the window
			// allows).
			if choice, ok := times.Choose(sendtime.Request{Key: r.ID, Account: *a, Channel: r.Channel,
				Profile: cd.profile, Location: cd.loc, From: at, Until: r.ExpiresAt}); ok {
				at = choice.At
				detail["send_time"] = choice
			}
			if next, err := compliance.NextAllowed(cd.profile, *a, ch, at); err == nil && next.After(at) {
				at = next
				queued.Reason = nudge.ReasonQuietHours // held back until the window opens
			}
			// planned marks the first enqueue of a new reminder: the public
			// feed shows it as reminder.planned.
			detail["process_at"] = at
			b, err := json.Marshal(detail)
			if err != nil {
				return nil, err
			}
			plan.events = append(plan.events, nudge.Event{
				Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID,
				Kind: nudge.EventEnqueued, Reason: queued.Reason, Detail: b, At: now,
			})
			plan.jobs[r.ID] = enqueueJob{r: queued, at: at}
			// Stored as queued at its process time: what enqueueing it
			// records; one held back until the window opens is stored as
			// deferred, with the reason and its next time, as a deferral
			// at send time is.
			r.Status, r.Reason, r.NextAt, r.UpdatedAt = nudge.ReminderQueued, nudge.ReasonNone, at, now
			if queued.Reason != nudge.ReasonNone {
				r.Status, r.Reason = nudge.ReminderDeferred, queued.Reason
			}
			plan.reminders = append(plan.reminders, r)
		}
		for _, r := range res.Expired {
			detail, err := json.Marshal(map[string]any{"due_at": storedTime(r.DueAt), "expires_at": storedTime(r.ExpiresAt)})
			if err != nil {
				return nil, err
			}
			plan.events = append(plan.events, nudge.Event{
				Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID,
				Kind: nudge.EventExpired, Reason: r.Reason, Detail: detail, At: now,
			})
			plan.reminders = append(plan.reminders, r)
		}
		setNext(a, res.Next)
	}
	return plan, nil
}

// storedTime is t as the store keeps it: UTC, to the microsecond.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// enqueueAll puts the jobs on their queues, Concurrency at a time, and
// returns how many it enqueued. The first failure stops the others and is
// returned.
func (p *Planner) enqueueAll(ctx context.Context, jobs []enqueueJob) (int, error) {
	fail := func(j enqueueJob, err error) error {
		return fmt.Errorf("enqueueing reminder %s of account %s/%s: %w", j.r.ID, j.r.Key.Lender, j.r.Key.AccountID, err)
	}
	workers := min(max(p.Concurrency, 1), len(jobs))
	if workers <= 1 {
		for i, j := range jobs {
			if err := p.Enqueuer.Enqueue(ctx, j.r, j.at); err != nil {
				return i, fail(j, err)
			}
		}
		return len(jobs), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		once       sync.Once
		first      error
		wg         sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				if err := p.Enqueuer.Enqueue(ctx, jobs[i].r, jobs[i].at); err != nil {
					once.Do(func() { first = fail(jobs[i], err); cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if first == nil {
		// A cancellation from outside stops the workers without an error of
		// their own.
		if err := ctx.Err(); err != nil && int(done.Load()) < len(jobs) {
			first = err
		}
	}
	return int(done.Load()), first
}
