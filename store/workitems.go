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

var _ nudge.WorkItemStore = (*DB)(nil)

// Work item list limits.
const (
	// DefaultWorkItemLimit is the page size of ListWorkItems when none is asked.
	DefaultWorkItemLimit = 50
	// MaxWorkItemLimit is the largest page ListWorkItems returns.
	MaxWorkItemLimit = 500
)

const workItemCols = `id, lender, account_id, reminder_id, cadence, step, kind, instructions, channel, address, status,
    assignee, outcome, note, promise_amount, promise_due, created_at, assigned_at, completed_at`

// WorkItemID is the id of the work item of reminder reminderID: derived, so
// a retried task creates the same item.
func WorkItemID(reminderID string) string {
	return "wi_" + strings.TrimPrefix(reminderID, "rem_")
}

func scanWorkItem(s interface{ Scan(...any) error }) (nudge.WorkItem, error) {
	var w nudge.WorkItem
	var channel, status, outcome string
	err := s.Scan(&w.ID, &w.Lender, &w.AccountID, &w.ReminderID, &w.Cadence, &w.Step, &w.Kind, &w.Instructions,
		&channel, &w.Address, &status, &w.Assignee, &outcome, &w.Note, &w.PromiseAmount, dateCol{&w.PromiseDue},
		timeCol{&w.CreatedAt}, timeCol{&w.AssignedAt}, timeCol{&w.CompletedAt})
	w.Channel, w.Status, w.Outcome = nudge.ChannelKind(channel), nudge.WorkStatus(status), nudge.WorkOutcome(outcome)
	return w, err
}

// CreateWorkItem implements nudge.WorkItemStore. An empty w.ID becomes
// WorkItemID(w.ReminderID); w.Status becomes open. The event's detail gains
// the item's id.
func (db *DB) CreateWorkItem(ctx context.Context, w nudge.WorkItem, e nudge.Event) (bool, error) {
	switch {
	case w.Lender == "" || w.AccountID == "" || w.ReminderID == "":
		return false, errors.New("create work item: lender, account and reminder are required")
	case !nudge.ValidWorkKind(w.Kind):
		return false, fmt.Errorf("create work item for reminder %s: invalid kind %q", w.ReminderID, w.Kind)
	case w.CreatedAt.IsZero():
		return false, fmt.Errorf("create work item for reminder %s: created_at is required", w.ReminderID)
	}
	if w.ID == "" {
		w.ID = WorkItemID(w.ReminderID)
	}
	w.Status = nudge.WorkOpen
	detail := map[string]any{}
	if len(e.Detail) > 0 {
		if err := json.Unmarshal(e.Detail, &detail); err != nil {
			return false, fmt.Errorf("create work item %s: event detail: %w", w.ID, err)
		}
	}
	detail["work_item_id"] = w.ID
	b, err := json.Marshal(detail)
	if err != nil {
		return false, err
	}
	e.Detail = b
	created := false
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `INSERT INTO work_items (`+workItemCols+`) VALUES (`+placeholders(19)+`) ON CONFLICT DO NOTHING`,
			w.ID, w.Lender, w.AccountID, w.ReminderID, w.Cadence, w.Step, w.Kind, w.Instructions, string(w.Channel), w.Address,
			string(w.Status), "", "", "", "", nil, db.tv(w.CreatedAt), nil, nil)
		if err != nil {
			return err
		}
		n, err := rowsAffected(res)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // an earlier run created it, with its event and its reminder's status
		}
		created = true
		if err := db.appendEvents(ctx, tx, []nudge.Event{e}); err != nil {
			return err
		}
		return db.setReminderStatus(ctx, tx, tx, w.ReminderID, nudge.ReminderSent, nudge.ReasonNone, time.Time{}, w.CreatedAt)
	})
	if err != nil {
		return false, fmt.Errorf("create work item %s: %w", w.ID, err)
	}
	return created, nil
}

// GetWorkItem implements nudge.WorkItemStore.
func (db *DB) GetWorkItem(ctx context.Context, lender, id string) (nudge.WorkItem, error) {
	return db.getWorkItem(ctx, db.read, lender, id, "")
}

func (db *DB) getWorkItem(ctx context.Context, q querier, lender, id, suffix string) (nudge.WorkItem, error) {
	w, err := scanWorkItem(db.queryRow(ctx, q, `SELECT `+workItemCols+` FROM work_items WHERE lender = ? AND id = ?`+suffix, lender, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.WorkItem{}, fmt.Errorf("work item %s/%s: %w", lender, id, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.WorkItem{}, fmt.Errorf("work item %s/%s: %w", lender, id, err)
	}
	return w, nil
}

// ListWorkItems implements nudge.WorkItemStore: the oldest first, so a
// queue is worked in the order it filled; q.After continues after an id.
func (db *DB) ListWorkItems(ctx context.Context, q nudge.WorkItemQuery) ([]nudge.WorkItem, error) {
	if q.Lender == "" {
		return nil, errors.New("list work items: lender is required")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultWorkItemLimit
	}
	limit = min(limit, MaxWorkItemLimit)
	where := []string{"lender = ?"}
	args := []any{q.Lender}
	if q.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, q.Kind)
	}
	switch q.Status {
	case "":
	case nudge.WorkPending:
		where = append(where, "status <> 'completed'")
	default:
		where, args = append(where, "status = ?"), append(args, string(q.Status))
	}
	if q.After != "" {
		where = append(where, "(created_at, id) > (SELECT created_at, id FROM work_items WHERE lender = ? AND id = ?)")
		args = append(args, q.Lender, q.After)
	}
	args = append(args, limit)
	rows, err := db.query(ctx, db.read, `SELECT `+workItemCols+` FROM work_items WHERE `+strings.Join(where, " AND ")+`
ORDER BY created_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list work items of %s: %w", q.Lender, err)
	}
	defer rows.Close()
	var out []nudge.WorkItem
	for rows.Next() {
		w, err := scanWorkItem(rows)
		if err != nil {
			return nil, fmt.Errorf("list work items of %s: %w", q.Lender, err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// WorkItemCounts implements nudge.WorkItemStore.
func (db *DB) WorkItemCounts(ctx context.Context, lender string) (map[string]int, error) {
	rows, err := db.query(ctx, db.read, `SELECT kind, COUNT(*) FROM work_items WHERE lender = ? AND status <> 'completed' GROUP BY kind`, lender)
	if err != nil {
		return nil, fmt.Errorf("count work items of %s: %w", lender, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("count work items of %s: %w", lender, err)
		}
		out[kind] = n
	}
	return out, rows.Err()
}

// AssignWorkItem implements nudge.WorkItemStore. A completed item is refused
// with nudge.ErrConflict.
func (db *DB) AssignWorkItem(ctx context.Context, lender, id, assignee string, now time.Time) (nudge.WorkItem, error) {
	if strings.TrimSpace(assignee) == "" {
		return nudge.WorkItem{}, fmt.Errorf("assign work item %s: assignee is required", id)
	}
	var w nudge.WorkItem
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := db.getWorkItem(ctx, tx, lender, id, db.forUpdate())
		if err != nil {
			return err
		}
		if cur.Status == nudge.WorkCompleted {
			return fmt.Errorf("work item %s is completed: %w", id, nudge.ErrConflict)
		}
		if _, err := db.exec(ctx, tx, `UPDATE work_items SET status = ?, assignee = ?, assigned_at = ? WHERE lender = ? AND id = ?`,
			string(nudge.WorkAssigned), assignee, db.tv(now), lender, id); err != nil {
			return err
		}
		cur.Status, cur.Assignee, cur.AssignedAt = nudge.WorkAssigned, assignee, now.UTC().Truncate(time.Microsecond)
		w = cur
		return nil
	})
	if err != nil {
		return nudge.WorkItem{}, fmt.Errorf("assign work item: %w", err)
	}
	return w, nil
}

// UnassignWorkItem implements nudge.WorkItemStore. A completed item is
// refused with nudge.ErrConflict; an open item is returned as it is.
func (db *DB) UnassignWorkItem(ctx context.Context, lender, id string) (nudge.WorkItem, error) {
	var w nudge.WorkItem
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := db.getWorkItem(ctx, tx, lender, id, db.forUpdate())
		if err != nil {
			return err
		}
		switch cur.Status {
		case nudge.WorkCompleted:
			return fmt.Errorf("work item %s is completed: %w", id, nudge.ErrConflict)
		case nudge.WorkOpen:
			w = cur
			return nil
		}
		if _, err := db.exec(ctx, tx, `UPDATE work_items SET status = ?, assignee = '', assigned_at = NULL WHERE lender = ? AND id = ?`,
			string(nudge.WorkOpen), lender, id); err != nil {
			return err
		}
		cur.Status, cur.Assignee, cur.AssignedAt = nudge.WorkOpen, "", time.Time{}
		w = cur
		return nil
	})
	if err != nil {
		return nudge.WorkItem{}, fmt.Errorf("unassign work item: %w", err)
	}
	return w, nil
}

// CompleteWorkItem implements nudge.WorkItemStore.
func (db *DB) CompleteWorkItem(ctx context.Context, lender, id string, c nudge.WorkCompletion, now time.Time) (nudge.WorkItem, bool, error) {
	if err := c.Validate(); err != nil {
		return nudge.WorkItem{}, false, fmt.Errorf("complete work item %s: %w", id, err)
	}
	var w nudge.WorkItem
	changed := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := db.getWorkItem(ctx, tx, lender, id, db.forUpdate())
		if err != nil {
			return err
		}
		if cur.Status == nudge.WorkCompleted {
			if cur.Outcome != c.Outcome {
				return fmt.Errorf("work item %s was completed with outcome %s: %w", id, cur.Outcome, nudge.ErrConflict)
			}
			w = cur
			return nil
		}
		if cur.Assignee == "" {
			cur.Assignee = c.Actor
		}
		cur.Status, cur.Outcome, cur.Note = nudge.WorkCompleted, c.Outcome, c.Note
		cur.PromiseAmount, cur.PromiseDue, cur.CompletedAt = c.PromiseAmount, c.PromiseDue, now.UTC().Truncate(time.Microsecond)
		if _, err := db.exec(ctx, tx, `UPDATE work_items SET status = ?, assignee = ?, outcome = ?, note = ?, promise_amount = ?,
    promise_due = ?, completed_at = ? WHERE lender = ? AND id = ?`,
			string(cur.Status), cur.Assignee, string(cur.Outcome), cur.Note, cur.PromiseAmount, dv(cur.PromiseDue),
			db.tv(now), lender, id); err != nil {
			return err
		}
		d := map[string]any{"work_item_id": cur.ID, "kind": cur.Kind, "outcome": cur.Outcome,
			"cadence": cur.Cadence, "step": cur.Step}
		call, ok := nudge.CollectorCall(cur, now)
		if ok {
			if err := db.recordCollectorCall(ctx, tx, call); err != nil {
				return err
			}
			d["channel"] = nudge.Voice
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := db.appendEvents(ctx, tx, []nudge.Event{{Lender: lender, AccountID: cur.AccountID, ReminderID: cur.ReminderID,
			AttemptID: call.ID, Kind: nudge.EventWorkItem, Action: "completed", Detail: detail, At: now}}); err != nil {
			return err
		}
		w, changed = cur, true
		return nil
	})
	if err != nil {
		return nudge.WorkItem{}, false, fmt.Errorf("complete work item: %w", err)
	}
	return w, changed, nil
}

// recordCollectorCall inserts the voice attempt of a collector's call
// (nudge.CollectorCall) in tx, under the locks a claim for the account and
// the number takes, so that a claim of the bot's next call at the same
// time counts it.
func (db *DB) recordCollectorCall(ctx context.Context, tx *sql.Tx, a nudge.Attempt) error {
	claim := nudge.Claim{Attempt: a, Limits: []nudge.CapLimit{{Channel: nudge.Voice, PerAddress: true}}}
	keys := claimLockKeys(claim)
	slices.Sort(keys)
	if err := db.lockAll(ctx, tx, keys...); err != nil {
		return err
	}
	inserted, err := db.insertAttempts(ctx, tx, []nudge.Claim{claim}, []int{0})
	if err != nil {
		return fmt.Errorf("record the collector's call: %w", err)
	}
	if !inserted[a.ID] {
		return fmt.Errorf("record the collector's call of reminder %s: the reminder has a voice attempt: %w", a.ReminderID, nudge.ErrConflict)
	}
	return nil
}
