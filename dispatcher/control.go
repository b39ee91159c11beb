package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// ControlStore is the part of the store lender-scoped queue actions write.
type ControlStore interface {
	GetReminder(ctx context.Context, id string) (nudge.Reminder, error)
	RetryReminder(ctx context.Context, lender, id string, now time.Time) (bool, error)
	CancelReminder(ctx context.Context, lender, id string, reason nudge.Reason, now time.Time) (bool, error)
	// ReplayReminder requeues lender's failed reminder id, sets its refused
	// attempts aside and writes the timeline and audit entries, in one
	// transaction; see store.DB.ReplayReminder.
	ReplayReminder(ctx context.Context, lender, id, actor, why string, now time.Time) (nudge.Reminder, error)
	SetPause(ctx context.Context, p nudge.Pause) (bool, error)
	ClearPause(ctx context.Context, lender string, scope nudge.PauseScope, target string) (bool, error)
	AppendEvent(ctx context.Context, e nudge.Event) error
	AppendAudit(ctx context.Context, a nudge.AuditEntry) error
}

// ControlQueue re-enqueues and deletes reminder tasks; *Enqueuer is one.
type ControlQueue interface {
	Requeuer
	TaskCanceler
}

// Control carries out what a lender's people do to their own queue: retry a
// failed reminder, cancel one, pause and resume the lender, a cadence or a
// channel. Every action is scoped to the lender (another lender's reminder
// is not found), needs a reason, and is written to the audit log with who
// and why, and to the account's timeline. A pause is a rule the last gate
// checks, not an Asynq queue pause: it stops this lender only.
type Control struct {
	Store ControlStore
	Queue ControlQueue
	Clock nudge.Clock
}

// Errors of queue actions.
var (
	// ErrReasonRequired is returned by an action without a reason.
	ErrReasonRequired = errors.New("a reason is required: say why, for the audit log")
	// ErrBadPause is returned for a pause whose scope or target is wrong.
	ErrBadPause = errors.New("invalid pause")
)

// Action names, as written to the audit log.
const (
	ActionRetry  = "reminder.retry"
	ActionCancel = "reminder.cancel"
	ActionPause  = "pause.set"
	ActionResume = "pause.clear"
)

// Retry reopens lender's failed reminder id for one more run through the
// whole send-time re-check. It returns nudge.ErrConflict when the reminder
// is not failed.
func (c *Control) Retry(ctx context.Context, lender, id, actor, why string) (nudge.Reminder, error) {
	r, now, err := c.reminder(ctx, lender, id, why)
	if err != nil {
		return r, err
	}
	ok, err := c.Store.RetryReminder(ctx, lender, id, now)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, fmt.Errorf("reminder %s is %s, not failed: %w", id, r.Status, nudge.ErrConflict)
	}
	if err := c.record(ctx, r, ActionRetry, actor, why, now); err != nil {
		return r, err
	}
	if err := c.Queue.Enqueue(ctx, r, now); err != nil {
		return r, fmt.Errorf("requeue reminder %s (the scheduler's catch-up will): %w", id, err)
	}
	r.Status, r.Reason = nudge.ReminderQueued, nudge.ReasonRetried
	return r, nil
}

// Cancel cancels lender's reminder id, which must not be final yet, and
// deletes its queued task. It returns nudge.ErrConflict when it is final.
func (c *Control) Cancel(ctx context.Context, lender, id, actor, why string) (nudge.Reminder, error) {
	r, now, err := c.reminder(ctx, lender, id, why)
	if err != nil {
		return r, err
	}
	ok, err := c.Store.CancelReminder(ctx, lender, id, nudge.ReasonCanceled, now)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, fmt.Errorf("reminder %s is already %s: %w", id, r.Status, nudge.ErrConflict)
	}
	if err := c.record(ctx, r, ActionCancel, actor, why, now); err != nil {
		return r, err
	}
	if err := c.Queue.Cancel(ctx, lender, r.Channel, id); err != nil {
		return r, err
	}
	r.Status, r.Reason = nudge.ReminderCanceled, nudge.ReasonCanceled
	return r, nil
}

// Pause stops the lender's sends in p's scope at the last gate until Resume.
// It reports false when the same pause exists already.
func (c *Control) Pause(ctx context.Context, p nudge.Pause) (bool, error) {
	if err := CheckPause(p.Scope, p.Target); err != nil {
		return false, err
	}
	if strings.TrimSpace(p.Reason) == "" {
		return false, ErrReasonRequired
	}
	p.CreatedAt = c.Clock.Now()
	added, err := c.Store.SetPause(ctx, p)
	if err != nil || !added {
		return added, err
	}
	return true, c.audit(ctx, p.Lender, p.Actor, ActionPause, string(p.Scope)+":"+p.Target, p.Reason, p.CreatedAt)
}

// Resume lifts the lender's pause of scope and target. It reports false when
// there was none.
func (c *Control) Resume(ctx context.Context, lender string, scope nudge.PauseScope, target, actor, why string) (bool, error) {
	if err := CheckPause(scope, target); err != nil {
		return false, err
	}
	if strings.TrimSpace(why) == "" {
		return false, ErrReasonRequired
	}
	cleared, err := c.Store.ClearPause(ctx, lender, scope, target)
	if err != nil || !cleared {
		return cleared, err
	}
	return true, c.audit(ctx, lender, actor, ActionResume, string(scope)+":"+target, why, c.Clock.Now())
}

// CheckPause reports what is wrong with a pause's scope and target; the
// error wraps ErrBadPause.
func CheckPause(scope nudge.PauseScope, target string) error {
	switch scope {
	case nudge.PauseLender:
		if target != "" {
			return fmt.Errorf("%w: a lender pause has no target, got %q", ErrBadPause, target)
		}
	case nudge.PauseCadence:
		if strings.TrimSpace(target) == "" {
			return fmt.Errorf("%w: a cadence pause names the cadence in target", ErrBadPause)
		}
	case nudge.PauseChannel:
		if _, err := nudge.ParseChannel(target); err != nil {
			return fmt.Errorf("%w: a channel pause: %w", ErrBadPause, err)
		}
	default:
		return fmt.Errorf("%w: unknown scope %q (want lender, cadence or channel)", ErrBadPause, scope)
	}
	return nil
}

// reminder loads lender's reminder id (another lender's is not found) and
// checks the reason.
func (c *Control) reminder(ctx context.Context, lender, id, why string) (nudge.Reminder, time.Time, error) {
	if strings.TrimSpace(why) == "" {
		return nudge.Reminder{}, time.Time{}, ErrReasonRequired
	}
	r, err := c.Store.GetReminder(ctx, id)
	if err == nil && r.Key.Lender != lender {
		err = fmt.Errorf("reminder %s: %w", id, nudge.ErrNotFound)
	}
	return r, c.Clock.Now(), err
}

// record writes a reminder action to the account's timeline and the audit log.
func (c *Control) record(ctx context.Context, r nudge.Reminder, action, actor, why string, now time.Time) error {
	detail, err := json.Marshal(map[string]string{"action": action, "by": actor, "why": why})
	if err != nil {
		return err
	}
	kind, reason := nudge.EventCanceled, nudge.ReasonCanceled
	if action == ActionRetry {
		kind, reason = nudge.EventEnqueued, nudge.ReasonRetried
	}
	if err := c.Store.AppendEvent(ctx, nudge.Event{Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID,
		Kind: kind, Action: action, Reason: reason, Detail: detail, At: now}); err != nil {
		return fmt.Errorf("record %s of %s: %w", action, r.ID, err)
	}
	return c.audit(ctx, r.Key.Lender, actor, action, r.ID, why, now)
}

func (c *Control) audit(ctx context.Context, lender, actor, action, target, why string, now time.Time) error {
	detail, err := json.Marshal(map[string]string{"why": why})
	if err != nil {
		return err
	}
	if err := c.Store.AppendAudit(ctx, nudge.AuditEntry{Lender: lender, Actor: actor, Action: action, Target: target,
		Detail: string(detail), At: now}); err != nil {
		return fmt.Errorf("audit %s of %s: %w", action, target, err)
	}
	return nil
}
