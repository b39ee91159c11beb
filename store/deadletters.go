package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// ActionReplay is the audit action of a dead-letter replay.
const ActionReplay = "dead_letter.replay"

// ActionSetAside is the timeline action of an attempt a replay set aside.
const ActionSetAside = "attempt.set_aside"

// Errors of ReplayReminder (nudge's sentinels). Both match nudge.ErrConflict.
var (
	// ErrNotFailed is returned for a reminder that is not failed (any more).
	ErrNotFailed = nudge.ErrNotFailed
	// ErrReachedProvider is returned for a failed reminder an attempt of
	// which may have reached the provider: replaying it could send twice.
	ErrReachedProvider = nudge.ErrReachedProvider
)

// setAsideStatuses are the attempt statuses a replay may set aside: the
// provider was not called, or refused the request (with no provider id).
var setAsideStatuses = []nudge.AttemptStatus{nudge.AttemptClaimed, nudge.AttemptRetrying, nudge.AttemptFailed, nudge.AttemptCanceled}

// mayHaveReachedProvider reports whether a could have been accepted by the
// provider: it has a provider id, or a status other than the ones before
// or refused at the call.
func mayHaveReachedProvider(a nudge.Attempt) bool {
	return a.ProviderID != "" || !slices.Contains(setAsideStatuses, a.Status)
}

// DeadLetterQuery selects one page of a lender's dead letters: its failed
// reminders, the most recently failed first.
type DeadLetterQuery struct {
	// Lender is required: a page never mixes lenders.
	Lender string
	// Channel narrows the page when set.
	Channel nudge.ChannelKind
	// After is the cursor of the previous page's last dead letter (its
	// reminder's UpdatedAt and ID).
	After Cursor
	// Limit is the page size, from 1 to MaxPageSize.
	Limit int
}

// DeadLetter is a failed reminder with its last attempt.
type DeadLetter struct {
	Reminder nudge.Reminder
	// Attempt is the reminder's last attempt (its channel, error code,
	// reason and time); zero when it failed before an attempt was claimed.
	Attempt nudge.Attempt
	// Replayable is false when an attempt may have reached the provider:
	// ReplayReminder refuses it with ErrReachedProvider.
	Replayable bool
}

// Cursor returns the page cursor of d.
func (d DeadLetter) Cursor() Cursor { return Cursor{At: d.Reminder.UpdatedAt, ID: d.Reminder.ID} }

// PageDeadLetters returns up to q.Limit of the lender's failed reminders
// after q.After, newest failure first, each with its last attempt. It reads
// through the replica when the store has one (see WithReplica).
func (db *DB) PageDeadLetters(ctx context.Context, q DeadLetterQuery) ([]DeadLetter, error) {
	what := "page dead letters of " + q.Lender
	if err := checkPage("page dead letters", q.Lender, q.Limit); err != nil {
		return nil, err
	}
	query, args := db.deadLettersQuery(q)
	var out []DeadLetter
	err := db.eachOn(ctx, db.replicaOrRead(), what, query, args, func(scan func(...any) error) error {
		r, err := scanReminder(scanFunc(scan))
		if err != nil {
			return err
		}
		out = append(out, DeadLetter{Reminder: r, Replayable: true})
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	index := make(map[string]int, len(out))
	ids := make([]any, 0, len(out)+1)
	ids = append(ids, q.Lender)
	for i, d := range out {
		index[d.Reminder.ID] = i
		ids = append(ids, d.Reminder.ID)
	}
	err = db.eachOn(ctx, db.replicaOrRead(), what+": attempts", `SELECT `+attemptCols+` FROM attempts
WHERE lender = ? AND reminder_id IN (`+placeholders(len(ids)-1)+`) ORDER BY created_at, id`, ids, func(scan func(...any) error) error {
		a, err := scanAttempt(scanFunc(scan))
		if err != nil {
			return err
		}
		d := &out[index[a.ReminderID]]
		d.Attempt = a // ordered by creation: the last one stays
		if mayHaveReachedProvider(a) {
			d.Replayable = false
		}
		return nil
	})
	return out, err
}

// deadLettersQuery is PageDeadLetters' read of q's page of failed
// reminders, and its arguments.
func (db *DB) deadLettersQuery(q DeadLetterQuery) (string, []any) {
	p := &pageClause{db: db}
	p.add("status = " + sqlList([]nudge.ReminderStatus{nudge.ReminderFailed}))
	p.add("lender = ?", q.Lender)
	if q.Channel != "" {
		p.add("channel = ?", string(q.Channel))
	}
	tail, args := p.finishIn("updated_at", true, true, q.After, q.Limit)
	return `SELECT ` + reminderCols + ` FROM reminders` + tail, args
}

// scanFunc adapts a scan function to the Scan method scanners take.
type scanFunc func(...any) error

// Scan calls f.
func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// ReplayReminder sends lender's failed reminder id back through the whole
// pipeline after a fix: it becomes queued at now (reason retried), so the
// next run re-checks every rule and claims a new attempt. Its earlier
// attempts, none of which may have reached the provider, are set aside: an
// attempt event carrying each one's details goes on the timeline and the
// attempt row is deleted, so the new claim counts against the caps afresh.
// The replay is written to the timeline and to the audit log (ActionReplay,
// with actor and why) in the same transaction.
//
// It returns nudge.ErrNotFound when the lender has no such reminder,
// ErrNotFailed when it is not failed, and ErrReachedProvider when an
// attempt may have reached the provider (exactly-once at the provider is
// never broken by a replay). The caller enqueues the reminder it returns (queued now).
func (db *DB) ReplayReminder(ctx context.Context, lender, id, actor, why string, now time.Time) (nudge.Reminder, error) {
	if strings.TrimSpace(why) == "" {
		return nudge.Reminder{}, fmt.Errorf("replay reminder %s: a reason is required", id)
	}
	var out nudge.Reminder
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanReminder(db.queryRow(ctx, tx, `SELECT `+reminderCols+` FROM reminders WHERE id = ? AND lender = ?`+db.forUpdate(), id, lender))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reminder %s: %w", id, nudge.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if r.Status != nudge.ReminderFailed {
			return fmt.Errorf("reminder %s is %s: %w", id, r.Status, ErrNotFailed)
		}
		rows, err := db.query(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE reminder_id = ? ORDER BY created_at, id`+db.forUpdate(), id)
		if err != nil {
			return err
		}
		var attempts []nudge.Attempt
		for rows.Next() {
			a, err := scanAttempt(rows)
			if err != nil {
				_ = rows.Close()
				return err
			}
			attempts = append(attempts, a)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, a := range attempts {
			if mayHaveReachedProvider(a) {
				return fmt.Errorf("reminder %s: attempt %s is %s (provider id %q): %w", id, a.ID, a.Status, a.ProviderID, ErrReachedProvider)
			}
		}
		by, err := json.Marshal(map[string]string{"action": ActionReplay, "by": actor, "why": why})
		if err != nil {
			return err
		}
		var events []nudge.Event
		for _, a := range attempts {
			detail, err := json.Marshal(map[string]any{"status": a.Status, "channel": a.Channel, "reason": a.Reason,
				"error_code": a.ErrorCode, "created_at": a.CreatedAt.UTC(), "updated_at": a.UpdatedAt.UTC(),
				"note": "set aside by a dead-letter replay", "by": actor})
			if err != nil {
				return err
			}
			events = append(events, nudge.Event{Lender: lender, AccountID: r.Key.AccountID, ReminderID: id, AttemptID: a.ID,
				Kind: nudge.EventAttempt, Action: ActionSetAside, Reason: a.Reason, Detail: detail, At: now})
		}
		events = append(events, nudge.Event{Lender: lender, AccountID: r.Key.AccountID, ReminderID: id,
			Kind: nudge.EventEnqueued, Action: ActionReplay, Reason: nudge.ReasonRetried, Detail: by, At: now})
		if len(attempts) > 0 {
			if _, err := db.exec(ctx, tx, `DELETE FROM attempts WHERE reminder_id = ?`, id); err != nil {
				return fmt.Errorf("set attempts aside: %w", err)
			}
		}
		if _, err := db.exec(ctx, tx, `UPDATE reminders SET status = ?, reason = ?, next_at = ?, updated_at = ? WHERE id = ?`,
			string(nudge.ReminderQueued), string(nudge.ReasonRetried), db.tv(now), db.tv(now), id); err != nil {
			return err
		}
		if err := db.insertEvents(ctx, tx, events); err != nil {
			return err
		}
		detail, err := json.Marshal(map[string]any{"why": why, "set_aside": len(attempts)})
		if err != nil {
			return err
		}
		if err := db.insertAudit(ctx, tx, nudge.AuditEntry{Lender: lender, Actor: actor, Action: ActionReplay, Target: id,
			Detail: string(detail), At: now}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		r.Status, r.Reason, r.NextAt, r.UpdatedAt = nudge.ReminderQueued, nudge.ReasonRetried, now, now
		out = r
		return nil
	})
	if err != nil {
		return nudge.Reminder{}, fmt.Errorf("replay reminder %s: %w", id, err)
	}
	return out, nil
}
