package response

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// WorkItems is the part of the store completing a work item uses.
type WorkItems interface {
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	CompleteWorkItem(ctx context.Context, lender, id string, c nudge.WorkCompletion, now time.Time) (nudge.WorkItem, bool, error)
}

// PromiseIDOfWorkItem is the id of the promise a work item's "promise"
// outcome records.
func PromiseIDOfWorkItem(workItemID string) string { return "prm_" + workItemID }

// CompleteWorkItem records a person's outcome of work item id and lets it
// change what is sent next, as the borrower's own answer would: a promise
// (amount and date from the completion; no amount means the amount due) is
// recorded exactly as a promise by text is, replacing pending ones and
// pausing the cadence until its date; "wrong party" marks the contact the
// item was about so nothing is sent to it again. Completing again with the
// same outcome (a resubmitted form) finishes what a first try may have left
// undone and records nothing twice.
func (h *Handler) CompleteWorkItem(ctx context.Context, items WorkItems, lender, id string, c nudge.WorkCompletion) (nudge.WorkItem, error) {
	c.PromiseAmount = strings.TrimSpace(c.PromiseAmount)
	if err := c.Validate(); err != nil {
		return nudge.WorkItem{}, err
	}
	now := h.Clock.Now()
	w, _, err := items.CompleteWorkItem(ctx, lender, id, c, now)
	if err != nil {
		return nudge.WorkItem{}, err
	}
	switch w.Outcome {
	case nudge.OutcomePromise:
		a, err := items.GetAccount(ctx, lender, w.AccountID)
		if err != nil {
			return w, fmt.Errorf("work item %s: account: %w", id, err)
		}
		amount := w.PromiseAmount
		if amount == "" {
			amount = a.AmountDue
		}
		if err := h.recordPromise(ctx, a, nudge.Task, PromiseIDOfWorkItem(w.ID), "", amount, w.PromiseDue, now); err != nil {
			return w, fmt.Errorf("work item %s: %w", id, err)
		}
	case nudge.OutcomeWrongParty:
		if w.Address == "" {
			return w, nil // the item was about no contact: nothing to mark
		}
		if !w.Channel.IsPhone() {
			return w, h.Store.SetContactState(ctx, lender, w.AccountID, w.Channel, w.Address, nudge.ContactWrongParty)
		}
		// As a wrong-number reply does: the number on both phone channels.
		a, err := items.GetAccount(ctx, lender, w.AccountID)
		if err != nil {
			return w, fmt.Errorf("work item %s: account: %w", id, err)
		}
		if err := h.markWrongParty(ctx, []nudge.Account{a}, w.Address); err != nil {
			return w, fmt.Errorf("work item %s: mark the number wrong party: %w", id, err)
		}
	}
	return w, nil
}
