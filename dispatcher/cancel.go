package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
)

// ReminderCanceler is the part of the store CancelAccount uses.
type ReminderCanceler interface {
	CancelReminders(ctx context.Context, lender, accountID string, reason nudge.Reason, now time.Time) ([]string, error)
	AppendEvent(ctx context.Context, e nudge.Event) error
}

// TaskCanceler deletes queued tasks; *Enqueuer is one.
type TaskCanceler interface {
	Cancel(ctx context.Context, lender string, ch nudge.ChannelKind, ids ...string) error
}

// CancelAccount cancels every reminder of the account that is not yet final,
// records a canceled event for each, and deletes their queued tasks. It
// returns how many reminders it canceled. A task already running is not
// stopped: the pipeline re-checks the reminder and the account before it
// sends, and finds the reminder canceled.
func CancelAccount(ctx context.Context, store ReminderCanceler, enq TaskCanceler, lender, accountID string, reason nudge.Reason, now time.Time) (int, error) {
	ids, err := store.CancelReminders(ctx, lender, accountID, reason, now)
	if err != nil {
		return 0, fmt.Errorf("cancel reminders of account %s/%s: %w", lender, accountID, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	var errs []error
	detail, _ := json.Marshal(map[string]string{"by": "cancel_account"})
	for _, id := range ids {
		if err := store.AppendEvent(ctx, nudge.Event{Lender: lender, AccountID: accountID, ReminderID: id,
			Kind: nudge.EventCanceled, Reason: reason, Detail: detail, At: now}); err != nil {
			errs = append(errs, fmt.Errorf("record cancellation of reminder %s: %w", id, err))
		}
	}
	// The store returns ids only; a reminder's task sits on the lender's
	// queue of its channel, so look on each (a missing task costs one round
	// trip), and on the lender's queue of task steps.
	for _, ch := range QueuedChannels {
		if err := enq.Cancel(ctx, lender, ch, ids...); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return len(ids), fmt.Errorf("cancel account %s/%s: %w", lender, accountID, err)
	}
	return len(ids), nil
}
