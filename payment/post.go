package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/bojanz/currency"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
)

// Store is the part of the store Post uses; *store.DB is one.
type Store interface {
	dispatcher.ReminderCanceler
	SetAccountStatus(ctx context.Context, lender, id string, status nudge.AccountStatus, now time.Time) error
	ClearHold(ctx context.Context, lender, id string, kind nudge.HoldKind, now time.Time, events ...nudge.Event) error
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
	SetPromiseStatus(ctx context.Context, id string, status nudge.PromiseStatus, now time.Time, events ...nudge.Event) error
	RecordPayment(ctx context.Context, p nudge.Payment, events ...nudge.Event) (nudge.Payment, bool, error)
	GetPayment(ctx context.Context, lender, id string) (nudge.Payment, error)
	ListPayments(ctx context.Context, lender, accountID string) ([]nudge.Payment, error)
}

// ErrCurrency is a payment in another currency than the account's.
var ErrCurrency = errors.New("payment: the currency is not the account's")

// Result is what Post did.
type Result struct {
	// Payment is the payment as recorded (first recorded, for a repeat).
	Payment nudge.Payment
	// Duplicate is true when the payment id had been recorded before.
	Duplicate bool
	// CycleEnded is true when the account is now paid.
	CycleEnded bool
	// Status is the account's status after Post: paid when the cycle
	// ended, otherwise what it was (a repeat changes nothing).
	Status nudge.AccountStatus
	// Canceled counts the reminders canceled.
	Canceled int
	// Kept are the promises (plan instalments) this call marked kept.
	Kept []string
	// PlanID is the plan the payment went to, if any; PlanRemaining counts
	// its instalments not yet covered.
	PlanID        string
	PlanRemaining int
	// HoldCleared is true when a payment_claimed hold was lifted.
	HoldCleared bool
}

// Post records payment p on account a and acts on it; both the lender API
// and the payment webhook call it.
//
// A payment id already recorded for the lender is a repeat: Post returns
// the payment as first recorded, with Duplicate set, and changes nothing.
// Otherwise:
//
//   - With a pending payment plan, the payments received since the plan was
//     made (this one included) cover its instalments in date order: each
//     instalment covered is kept. When they cover all of them the cycle
//     ends; otherwise the plan goes on and the cadence stays paused until
//     the next instalment's date.
//   - Without one, the payment ends the cycle and keeps the pending promise,
//     as it always has.
//
// Ending the cycle makes the account paid. Either way what is queued is
// canceled and a payment_claimed hold is cleared. Every action is
// idempotent and comes before the payment is recorded (as answers are
// handled in package response): a call that fails half way is finished by
// its retry, and a repeat after success changes nothing. Events record each
// instalment kept, each cancellation and the payment.
func Post(ctx context.Context, s Store, tasks dispatcher.TaskCanceler, a nudge.Account, p nudge.Payment, now time.Time) (Result, error) {
	if p.Currency == "" {
		p.Currency = a.Currency
	}
	if p.Currency != a.Currency {
		return Result{}, fmt.Errorf("%w: %s, the account's is %s", ErrCurrency, p.Currency, a.Currency)
	}
	p.Lender, p.AccountID, p.ReceivedAt = a.Lender, a.ID, now
	switch prev, err := s.GetPayment(ctx, a.Lender, p.ID); {
	case err == nil:
		return Result{Payment: prev, Duplicate: true, Status: a.Status}, nil
	case !errors.Is(err, nudge.ErrNotFound):
		return Result{}, err
	}
	ps, err := s.ListPromises(ctx, a.Lender, a.ID)
	if err != nil {
		return Result{}, err
	}
	res := Result{Payment: p, Status: a.Status}
	plan := pendingPlan(ps)
	covered := map[string]bool{}
	if plan != nil {
		res.PlanID = plan[0].PlanID
		payments, err := s.ListPayments(ctx, a.Lender, a.ID)
		if err != nil {
			return res, err
		}
		if covered, err = coveredInstalments(plan, append(payments, p)); err != nil {
			return res, err
		}
		for _, in := range plan {
			if !covered[in.ID] && in.Status != nudge.PromiseCanceled {
				res.PlanRemaining++
			}
		}
	}
	res.CycleEnded = plan == nil || res.PlanRemaining == 0
	// Keep what the payment covers: the plan's covered instalments, or the
	// pending promise when there is no plan.
	var keep []nudge.Promise
	if plan != nil {
		for _, in := range plan {
			if covered[in.ID] && in.Status == nudge.PromisePending {
				keep = append(keep, in)
			}
		}
	} else if pr, ok := nudge.ActivePromise(ps); ok {
		keep = append(keep, pr)
	}
	for _, pr := range keep {
		// The status and its event are one transaction; a repeated post
		// finds the promise kept and records nothing twice.
		if err := s.SetPromiseStatus(ctx, pr.ID, nudge.PromiseKept, now, accountEvent(a, nudge.EventPromise, string(nudge.PromiseKept), "",
			map[string]string{"promise": pr.ID, "plan": pr.PlanID, "status": string(nudge.PromiseKept), "payment": p.ID}, now)); err != nil {
			return res, err
		}
		res.Kept = append(res.Kept, pr.ID)
	}
	reason := nudge.ReasonPromiseActive
	if res.CycleEnded {
		reason = nudge.ReasonCycleEnded
		if err := s.SetAccountStatus(ctx, a.Lender, a.ID, nudge.StatusPaid, now); err != nil {
			return res, err
		}
		res.Status = nudge.StatusPaid
	}
	if res.Canceled, err = dispatcher.CancelAccount(ctx, s, tasks, a.Lender, a.ID, reason, now); err != nil {
		return res, err
	}
	if a.HasHold(nudge.HoldPaymentClaimed) {
		if err := s.ClearHold(ctx, a.Lender, a.ID, nudge.HoldPaymentClaimed, now, accountEvent(a, nudge.EventHold, "", "",
			map[string]string{"action": "clear", "kind": string(nudge.HoldPaymentClaimed), "by": "payment", "payment": p.ID}, now)); err != nil {
			return res, err
		}
		res.HoldCleared = true
	}
	detail := map[string]any{"payment": p.ID, "amount": p.Amount, "currency": p.Currency, "source": p.Source,
		"cycle_ended": res.CycleEnded}
	if !p.PaidAt.IsZero() {
		detail["paid_at"] = p.PaidAt.UTC().Truncate(time.Microsecond) // as the store keeps it
	}
	if res.PlanID != "" {
		detail["plan"], detail["plan_remaining"] = res.PlanID, res.PlanRemaining
	}
	// The payment and its event are one transaction.
	got, fresh, err := s.RecordPayment(ctx, p, accountEvent(a, nudge.EventPayment, "", reason, detail, now))
	if err != nil {
		return res, err
	}
	res.Payment = got
	if !fresh {
		// Recorded, with its event, by a call that ran at the same time.
		res.Duplicate = true
	}
	return res, nil
}

// pendingPlan returns the instalments, earliest first, of the most recent
// plan that still has a pending instalment, or nil.
func pendingPlan(ps []nudge.Promise) []nudge.Promise {
	var (
		id string
		at time.Time
	)
	for _, p := range ps {
		if p.PlanID != "" && p.Status == nudge.PromisePending && (id == "" || !p.CreatedAt.Before(at)) {
			id, at = p.PlanID, p.CreatedAt
		}
	}
	if id == "" {
		return nil
	}
	var out []nudge.Promise
	for _, p := range ps {
		if p.PlanID == id {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out
}

// coveredInstalments returns the instalments, in date order, that the
// payments received since the plan was made pay for in full: the sum of
// those payments is spent on each instalment in turn (canceled ones aside)
// until it no longer covers the next. The result depends only on what is
// recorded, so a repeated call covers the same.
func coveredInstalments(plan []nudge.Promise, payments []nudge.Payment) (map[string]bool, error) {
	code := plan[0].Currency
	paid, err := currency.NewAmount("0", code)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", plan[0].PlanID, err)
	}
	for _, p := range payments {
		if p.ReceivedAt.Before(plan[0].CreatedAt) || p.Currency != code {
			continue
		}
		a, err := currency.NewAmount(p.Amount, code)
		if err != nil {
			return nil, fmt.Errorf("payment %s: %w", p.ID, err)
		}
		if paid, err = paid.Add(a); err != nil {
			return nil, err
		}
	}
	out := map[string]bool{}
	for _, in := range plan {
		if in.Status == nudge.PromiseCanceled {
			continue
		}
		a, err := currency.NewAmount(in.Amount, code)
		if err != nil {
			return nil, fmt.Errorf("instalment %s: %w", in.ID, err)
		}
		if c, _ := paid.Cmp(a); c < 0 {
			break
		}
		out[in.ID] = true
		if paid, err = paid.Sub(a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// accountEvent is an event of the account's timeline, for the store to
// append in the transaction of the change it records.
func accountEvent(a nudge.Account, kind nudge.EventKind, action string, reason nudge.Reason, detail any, now time.Time) nudge.Event {
	b, _ := json.Marshal(detail) // ids, codes, amounts and times: always marshals
	return nudge.Event{Lender: a.Lender, AccountID: a.ID, Kind: kind, Action: action, Reason: reason, Detail: b, At: now}
}
