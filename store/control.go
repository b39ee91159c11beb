package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
)

// retryableAttemptStatuses are the final statuses a retried reminder's
// attempts are reopened from: the provider refused or could not deliver.
var retryableAttemptStatuses = []any{string(nudge.AttemptFailed), string(nudge.AttemptUndelivered), string(nudge.AttemptCanceled)}

// RetryReminder reopens a failed reminder of lender for one more run through
// the whole send-time re-check: the reminder becomes queued at now and its
// refused attempts retrying, their provider ids cleared (the refusal stays
// on the timeline). It reports false when the reminder is not failed, and
// nudge.ErrNotFound when the lender has no such reminder.
func (db *DB) RetryReminder(ctx context.Context, lender, id string, now time.Time) (bool, error) {
	retried := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		err := db.queryRow(ctx, tx, `SELECT status FROM reminders WHERE id = ? AND lender = ?`+db.forUpdate(), id, lender).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reminder %s: %w", id, nudge.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if nudge.ReminderStatus(status) != nudge.ReminderFailed {
			return nil
		}
		if _, err := db.exec(ctx, tx, `UPDATE reminders SET status = ?, reason = ?, next_at = ?, updated_at = ? WHERE id = ?`,
			string(nudge.ReminderQueued), string(nudge.ReasonRetried), db.tv(now), db.tv(now), id); err != nil {
			return err
		}
		args := append([]any{string(nudge.AttemptRetrying), string(nudge.ReasonRetried), db.tv(now), id}, retryableAttemptStatuses...)
		if _, err := db.exec(ctx, tx, `UPDATE attempts SET status = ?, reason = ?, error_code = '', provider_id = '', updated_at = ?
WHERE reminder_id = ? AND status IN (`+placeholders(len(retryableAttemptStatuses))+`)`, args...); err != nil {
			return err
		}
		retried = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("retry reminder %s: %w", id, err)
	}
	return retried, nil
}

// CancelReminder cancels one reminder of lender that is not final yet, with
// reason. It reports false when the reminder is already final, and
// nudge.ErrNotFound when the lender has no such reminder.
func (db *DB) CancelReminder(ctx context.Context, lender, id string, reason nudge.Reason, now time.Time) (bool, error) {
	args := append([]any{string(nudge.ReminderCanceled), string(reason), db.tv(now), id, lender}, openReminderStatuses...)
	res, err := db.exec(ctx, db.write, `UPDATE reminders SET status = ?, reason = ?, updated_at = ?
WHERE id = ? AND lender = ? AND status IN (`+placeholders(len(openReminderStatuses))+`)`, args...)
	if err != nil {
		return false, fmt.Errorf("cancel reminder %s: %w", id, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, fmt.Errorf("cancel reminder %s: %w", id, err)
	}
	if n > 0 {
		return true, nil
	}
	var found int
	err = db.queryRow(ctx, db.read, `SELECT 1 FROM reminders WHERE id = ? AND lender = ?`, id, lender).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("reminder %s: %w", id, nudge.ErrNotFound)
	}
	return false, err
}

// QueueCount is how many of a lender's reminders are in one status on one channel.
type QueueCount struct {
	Status  nudge.ReminderStatus
	Channel nudge.ChannelKind
	N       int
}

// QueueCounts counts the lender's reminders by status and channel.
func (db *DB) QueueCounts(ctx context.Context, lender string) ([]QueueCount, error) {
	var out []QueueCount
	err := db.eachReport(ctx, "queue counts of "+lender, `SELECT status, channel, COUNT(*) FROM reminders WHERE lender = ?
GROUP BY status, channel ORDER BY status, channel`, []any{lender}, func(scan func(...any) error) error {
		var c QueueCount
		var status, channel string
		if err := scan(&status, &channel, &c.N); err != nil {
			return err
		}
		c.Status, c.Channel = nudge.ReminderStatus(status), nudge.ChannelKind(channel)
		out = append(out, c)
		return nil
	})
	return out, err
}
