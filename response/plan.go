package response

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/payment"
)

// PlanID is the id of the plan recorded for the answer recorded as reply
// replyID: a retried answer records the same plan once.
func PlanID(replyID string) string { return "pln_" + strings.TrimPrefix(replyID, "rep_") }

// plan records a payment plan as pending promises sharing a plan id,
// replacing whatever was pending, and pauses the cadence by cancelling what
// is queued: each instalment then pauses it until its date, as a promise
// does.
func (h *Handler) plan(ctx context.Context, a nudge.Account, in Inbound, replyID string, p payment.Plan, now time.Time) error {
	id := PlanID(replyID)
	if err := h.replacePending(ctx, a, func(old nudge.Promise) bool { return old.PlanID == id }, now); err != nil {
		return err
	}
	if p.Currency == "" {
		p.Currency = a.Currency
	}
	instalments := p.Promises(id, a, in.Channel, replyID, now)
	type row struct {
		ID     string     `json:"promise_id"`
		Due    nudge.Date `json:"due"`
		Amount string     `json:"amount"`
	}
	rows := make([]row, 0, len(instalments))
	for _, pr := range instalments {
		rows = append(rows, row{pr.ID, pr.Due, pr.Amount})
	}
	detail, _ := json.Marshal(map[string]any{"plan": id, "instalments": rows, "status": nudge.PromisePending})
	// The plan and its event are one transaction.
	switch err := h.Store.InsertPlan(ctx, instalments, nudge.Event{Lender: a.Lender, AccountID: a.ID, Kind: nudge.EventPromise,
		Action: string(nudge.PromisePending), Detail: detail, At: now}); {
	case errors.Is(err, nudge.ErrConflict):
		// Recorded (with its event) by an earlier try of this answer.
	case err != nil:
		return fmt.Errorf("recording payment plan: %w", err)
	default:
		for range instalments {
			h.metrics().Promise(nudge.PromisePending)
		}
	}
	_, err := dispatcher.CancelAccount(ctx, h.Store, h.Tasks, a.Lender, a.ID, nudge.ReasonPromiseActive, now)
	return err
}
