package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

const reminderCols = `id, lender, account_id, cadence, step, cycle, cadence_version, channel, fallback, template,
    broken_promise, due_at, expires_at, status, reason, next_at, created_at, updated_at, arm`

const reminderColCount = 19

// openReminderStatuses are the statuses that may still change.
var openReminderStatuses = []any{string(nudge.ReminderPlanned), string(nudge.ReminderQueued), string(nudge.ReminderDeferred)}

// openReminderList is openReminderStatuses as a list of SQL literals. The
// reads that a partial index over some statuses serves name them as
// literals: PostgreSQL proves an index's condition from literals, but not
// from parameters under a generic plan.
var openReminderList = sqlList(stringsOf(openReminderStatuses))

func validReminderStatus(s nudge.ReminderStatus) bool {
	switch s {
	case nudge.ReminderPlanned, nudge.ReminderQueued, nudge.ReminderDeferred, nudge.ReminderSent,
		nudge.ReminderSuppressed, nudge.ReminderExpired, nudge.ReminderCanceled, nudge.ReminderFailed, nudge.ReminderUnknown:
		return true
	}
	return false
}

func scanReminder(s interface{ Scan(...any) error }) (nudge.Reminder, error) {
	var (
		r                                 nudge.Reminder
		channel, fallback, status, reason string
	)
	err := s.Scan(&r.ID, &r.Key.Lender, &r.Key.AccountID, &r.Key.Cadence, &r.Key.Step, dateCol{&r.Key.Cycle},
		&r.CadenceVersion, &channel, &fallback, &r.Template, &r.BrokenPromise,
		timeCol{&r.DueAt}, timeCol{&r.ExpiresAt}, &status, &reason, timeCol{&r.NextAt},
		timeCol{&r.CreatedAt}, timeCol{&r.UpdatedAt}, &r.Arm)
	r.Channel, r.Fallback = nudge.ChannelKind(channel), nudge.ChannelKind(fallback)
	r.Status, r.Reason = nudge.ReminderStatus(status), nudge.Reason(reason)
	return r, err
}

func (db *DB) listReminders(ctx context.Context, what, query string, args ...any) ([]nudge.Reminder, error) {
	return db.listRemindersOn(ctx, db.read, what, query, args...)
}

// listRemindersOn is listReminders through q.
func (db *DB) listRemindersOn(ctx context.Context, q querier, what, query string, args ...any) ([]nudge.Reminder, error) {
	rows, err := db.query(ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []nudge.Reminder
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// InsertReminders inserts reminders under their natural key in one
// transaction, ignoring those whose key (or id) exists, and returns the ones
// it inserted as stored. Defaults: ID is Key.ID(), Status is planned, NextAt
// is DueAt and UpdatedAt is CreatedAt.
func (db *DB) InsertReminders(ctx context.Context, rs []nudge.Reminder) ([]nudge.Reminder, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	prepared := make([]nudge.Reminder, len(rs))
	for i, r := range rs {
		if r.Key.Lender == "" || r.Key.AccountID == "" || r.Key.Cadence == "" || r.Key.Step == "" {
			return nil, fmt.Errorf("insert reminders: reminder %d (%s): lender, account, cadence and step are required", i, r.Key)
		}
		if r.ID == "" {
			r.ID = r.Key.ID()
		}
		if r.Status == "" {
			r.Status = nudge.ReminderPlanned
		}
		if !validReminderStatus(r.Status) {
			return nil, fmt.Errorf("insert reminders: reminder %s: unknown status %q", r.ID, r.Status)
		}
		if r.NextAt.IsZero() {
			r.NextAt = r.DueAt
		}
		if r.UpdatedAt.IsZero() {
			r.UpdatedAt = r.CreatedAt
		}
		r.DueAt, r.ExpiresAt, r.NextAt = truncUTC(r.DueAt), truncUTC(r.ExpiresAt), truncUTC(r.NextAt)
		r.CreatedAt, r.UpdatedAt = truncUTC(r.CreatedAt), truncUTC(r.UpdatedAt)
		prepared[i] = r
	}
	var inserted []nudge.Reminder
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		inserted = inserted[:0]
		q := `INSERT INTO reminders (` + reminderCols + `) VALUES (` + placeholders(reminderColCount) + `) ON CONFLICT DO NOTHING`
		for _, r := range prepared {
			res, err := db.exec(ctx, tx, q, r.ID, r.Key.Lender, r.Key.AccountID, r.Key.Cadence, r.Key.Step, cycleValue(r.Key.Cycle),
				r.CadenceVersion, string(r.Channel), string(r.Fallback), r.Template, r.BrokenPromise,
				db.tv(r.DueAt), db.tv(r.ExpiresAt), string(r.Status), string(r.Reason), db.tv(r.NextAt),
				db.tv(r.CreatedAt), db.tv(r.UpdatedAt), r.Arm)
			if err != nil {
				return fmt.Errorf("reminder %s: %w", r.ID, err)
			}
			n, err := rowsAffected(res)
			if err != nil {
				return err
			}
			if n > 0 {
				inserted = append(inserted, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert reminders: %w", err)
	}
	return inserted, nil
}

// truncUTC returns t in UTC at the microsecond precision the store keeps.
func truncUTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// GetReminder returns the reminder with id, or nudge.ErrNotFound.
func (db *DB) GetReminder(ctx context.Context, id string) (nudge.Reminder, error) {
	r, err := scanReminder(db.queryRow(ctx, db.read, `SELECT `+reminderCols+` FROM reminders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.Reminder{}, fmt.Errorf("reminder %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.Reminder{}, fmt.Errorf("get reminder %s: %w", id, err)
	}
	return r, nil
}

// SetReminderStatus moves a reminder that is not yet terminal to status with
// reason; a non-zero nextAt replaces when it runs next (a zero one keeps it).
// It returns nudge.ErrConflict when the reminder is already terminal and
// nudge.ErrNotFound when it does not exist.
func (db *DB) SetReminderStatus(ctx context.Context, id string, status nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) error {
	return db.setReminderStatus(ctx, db.write, db.read, id, status, reason, nextAt, now)
}

// setReminderStatus is SetReminderStatus writing through w and reading
// through r (both a transaction inside one).
func (db *DB) setReminderStatus(ctx context.Context, w, r querier, id string, status nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) error {
	if !validReminderStatus(status) {
		return fmt.Errorf("set reminder %s status: unknown status %q", id, status)
	}
	args := []any{string(status), string(reason), db.tv(nextAt), db.tv(now), id}
	args = append(args, openReminderStatuses...)
	res, err := db.exec(ctx, w, `UPDATE reminders SET status = ?, reason = ?, next_at = COALESCE(?, next_at), updated_at = ?
WHERE id = ? AND status IN (`+placeholders(len(openReminderStatuses))+`)`, args...)
	if err != nil {
		return fmt.Errorf("set reminder %s status %s: %w", id, status, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("set reminder %s status %s: %w", id, status, err)
	}
	if n > 0 {
		return nil
	}
	var cur string
	err = db.queryRow(ctx, r, `SELECT status FROM reminders WHERE id = ?`, id).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("set reminder status: reminder %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set reminder %s status %s: %w", id, status, err)
	}
	return fmt.Errorf("set reminder %s status %s: already %s: %w", id, status, cur, nudge.ErrConflict)
}

// MoveOpenReminders applies each change to its reminder while the reminder
// is open, as SetReminderStatus does one at a time, and appends the events
// of the reminders it moved (an event's ReminderID names its reminder; the
// events of the others are dropped), in one transaction. It returns the ids
// it moved, sorted: a reminder already final, or gone, is left out. The
// scheduler's catch-up expires and re-enqueues a page of reminders so.
func (db *DB) MoveOpenReminders(ctx context.Context, changes []nudge.ReminderChange, events []nudge.Event) ([]string, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	moves := make([]reminderMove, len(changes))
	named := make(map[string]bool, len(changes))
	for i, c := range changes {
		if !validReminderStatus(c.Status) {
			return nil, fmt.Errorf("move reminders: reminder %s: unknown status %q", c.ID, c.Status)
		}
		if named[c.ID] {
			return nil, fmt.Errorf("move reminders: reminder %s is named twice", c.ID)
		}
		named[c.ID] = true
		moves[i] = reminderMove{change: c}
	}
	for _, e := range events {
		if err := checkEvent(e); err != nil {
			return nil, fmt.Errorf("move reminders: %w", err)
		}
	}
	// The same order in every transaction that moves several reminders.
	slices.SortFunc(moves, func(a, b reminderMove) int { return strings.Compare(a.change.ID, b.change.ID) })
	moved := make(map[string]bool, len(moves))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := chunks(len(moves), moveReminderCols, func(start, end int) error {
			return db.runIn(ctx, tx, db.moveRemindersQuery(moves[start:end], moved))
		})
		if err != nil {
			return err
		}
		var keep []nudge.Event
		for _, e := range events {
			if moved[e.ReminderID] {
				keep = append(keep, e)
			}
		}
		return db.insertEvents(ctx, tx, keep)
	})
	if err != nil {
		return nil, fmt.Errorf("move %d reminders: %w", len(moves), err)
	}
	ids := make([]string, 0, len(moved))
	for _, m := range moves {
		if moved[m.change.ID] {
			ids = append(ids, m.change.ID)
		}
	}
	return ids, nil
}

// MoveReminder moves the reminder from status from to status to with reason
// (a non-zero nextAt replaces when it runs next), whether from is terminal or
// not: reconciliation settles or reopens a reminder left unknown. It reports
// false when the reminder is not in from, and nudge.ErrNotFound when it does
// not exist.
func (db *DB) MoveReminder(ctx context.Context, id string, from, to nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) (bool, error) {
	if !validReminderStatus(from) || !validReminderStatus(to) {
		return false, fmt.Errorf("move reminder %s: unknown status %q or %q", id, from, to)
	}
	res, err := db.exec(ctx, db.write, `UPDATE reminders SET status = ?, reason = ?, next_at = COALESCE(?, next_at), updated_at = ?
WHERE id = ? AND status = ?`, string(to), string(reason), db.tv(nextAt), db.tv(now), id, string(from))
	if err != nil {
		return false, fmt.Errorf("move reminder %s from %s to %s: %w", id, from, to, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, fmt.Errorf("move reminder %s from %s to %s: %w", id, from, to, err)
	}
	if n > 0 {
		return true, nil
	}
	if _, err := db.GetReminder(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// RemindersInStatus returns up to limit reminders of every lender in status,
// least recently updated first. On PostgreSQL an index serves the unknown
// and failed statuses (reminders_status_updated); other statuses are read
// by a scan.
func (db *DB) RemindersInStatus(ctx context.Context, status nudge.ReminderStatus, limit int) ([]nudge.Reminder, error) {
	if !validReminderStatus(status) {
		return nil, fmt.Errorf("reminders in status: unknown status %q", status)
	}
	if limit <= 0 {
		return nil, nil
	}
	return db.listReminders(ctx, "reminders in status", remindersInStatusQuery(status), limit)
}

// remindersInStatusQuery is RemindersInStatus' read of status (a valid
// one), with the limit its argument.
func remindersInStatusQuery(status nudge.ReminderStatus) string {
	return `SELECT ` + reminderCols + ` FROM reminders WHERE status = ` + sqlList([]nudge.ReminderStatus{status}) +
		` ORDER BY updated_at, id LIMIT ?`
}

// PendingReminders returns up to limit non-terminal reminders of every lender
// whose NextAt is at or before at, earliest first.
func (db *DB) PendingReminders(ctx context.Context, at time.Time, limit int) ([]nudge.Reminder, error) {
	if limit <= 0 {
		return nil, nil
	}
	return db.listReminders(ctx, "pending reminders", pendingRemindersQuery, db.tv(at), limit)
}

// pendingRemindersQuery is PendingReminders' read (arguments: the time and
// the limit).
var pendingRemindersQuery = `SELECT ` + reminderCols + ` FROM reminders
WHERE status IN (` + openReminderList + `) AND next_at IS NOT NULL AND next_at <= ?
ORDER BY next_at, id LIMIT ?`

// CancelReminders cancels every non-terminal reminder of the account with
// reason and returns their ids, sorted.
func (db *DB) CancelReminders(ctx context.Context, lender, accountID string, reason nudge.Reason, now time.Time) ([]string, error) {
	args := []any{string(nudge.ReminderCanceled), string(reason), db.tv(now), lender, accountID}
	args = append(args, openReminderStatuses...)
	rows, err := db.query(ctx, db.write, `UPDATE reminders SET status = ?, reason = ?, updated_at = ?
WHERE lender = ? AND account_id = ? AND status IN (`+placeholders(len(openReminderStatuses))+`) RETURNING id`, args...)
	if err != nil {
		return nil, fmt.Errorf("cancel reminders of %s/%s: %w", lender, accountID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("cancel reminders of %s/%s: %w", lender, accountID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cancel reminders of %s/%s: %w", lender, accountID, err)
	}
	sort.Strings(ids)
	return ids, nil
}

// ListReminders returns the account's reminders ordered by due time and id.
func (db *DB) ListReminders(ctx context.Context, lender, accountID string) ([]nudge.Reminder, error) {
	return db.listReminders(ctx, "list reminders", `SELECT `+reminderCols+` FROM reminders
WHERE lender = ? AND account_id = ? ORDER BY due_at, id`, lender, accountID)
}

// CountRemindersByStatus counts the lender's reminders by status; an empty
// lender counts every lender's.
func (db *DB) CountRemindersByStatus(ctx context.Context, lender string) (map[nudge.ReminderStatus]int, error) {
	q := `SELECT status, COUNT(*) FROM reminders GROUP BY status`
	var args []any
	if lender != "" {
		q = `SELECT status, COUNT(*) FROM reminders WHERE lender = ? GROUP BY status`
		args = append(args, lender)
	}
	rows, err := db.query(ctx, db.read, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count reminders: %w", err)
	}
	defer rows.Close()
	out := map[nudge.ReminderStatus]int{}
	for rows.Next() {
		var (
			s string
			n int
		)
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count reminders: %w", err)
		}
		out[nudge.ReminderStatus(s)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count reminders: %w", err)
	}
	return out, nil
}
