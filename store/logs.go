package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge"
)

// AppendEvent appends e to the event log; the log assigns the id. e.At and
// e.Kind are required; a non-empty Detail must be valid JSON.
func (db *DB) AppendEvent(ctx context.Context, e nudge.Event) error {
	return db.appendEvents(ctx, db.write, []nudge.Event{e})
}

// Events returns the account's timeline in the order it was appended.
func (db *DB) Events(ctx context.Context, lender, accountID string) ([]nudge.Event, error) {
	rows, err := db.query(ctx, db.read, `SELECT id, lender, account_id, reminder_id, attempt_id, kind, action, reason, rule, detail, at
FROM events WHERE lender = ? AND account_id = ? ORDER BY id`, lender, accountID)
	if err != nil {
		return nil, fmt.Errorf("events of %s/%s: %w", lender, accountID, err)
	}
	defer rows.Close()
	var out []nudge.Event
	for rows.Next() {
		var (
			e            nudge.Event
			kind, reason string
			detail       sql.NullString
		)
		if err := rows.Scan(&e.ID, &e.Lender, &e.AccountID, &e.ReminderID, &e.AttemptID, &kind, &e.Action, &reason,
			&e.Rule, &detail, timeCol{&e.At}); err != nil {
			return nil, fmt.Errorf("events of %s/%s: %w", lender, accountID, err)
		}
		e.Kind, e.Reason = nudge.EventKind(kind), nudge.Reason(reason)
		if detail.Valid {
			e.Detail = json.RawMessage(detail.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of %s/%s: %w", lender, accountID, err)
	}
	return out, nil
}

// AppendAudit appends a to the audit log; the log assigns the id. a.Action
// and a.At are required.
func (db *DB) AppendAudit(ctx context.Context, a nudge.AuditEntry) error {
	if err := db.insertAudit(ctx, db.write, a); err != nil {
		return fmt.Errorf("append audit %s: %w", a.Action, err)
	}
	return nil
}

// ListAudit returns the lender's audit entries in the order they were
// appended; an empty lender lists every entry.
func (db *DB) ListAudit(ctx context.Context, lender string) ([]nudge.AuditEntry, error) {
	q := `SELECT id, lender, actor, action, target, detail, at FROM audit_log`
	var args []any
	if lender != "" {
		q += ` WHERE lender = ?`
		args = append(args, lender)
	}
	rows, err := db.query(ctx, db.read, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit of %q: %w", lender, err)
	}
	defer rows.Close()
	var out []nudge.AuditEntry
	for rows.Next() {
		var a nudge.AuditEntry
		if err := rows.Scan(&a.ID, &a.Lender, &a.Actor, &a.Action, &a.Target, &a.Detail, timeCol{&a.At}); err != nil {
			return nil, fmt.Errorf("list audit of %q: %w", lender, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit of %q: %w", lender, err)
	}
	return out, nil
}

// checkAudit refuses an audit entry without an action or a time.
func checkAudit(a nudge.AuditEntry) error {
	switch {
	case a.Action == "":
		return errors.New("action is required")
	case a.At.IsZero():
		return fmt.Errorf("%s: at is required", a.Action)
	}
	return nil
}

// insertAudit writes one audit entry through q (the pool, or a transaction
// whose change it records), refusing one checkAudit refuses.
func (db *DB) insertAudit(ctx context.Context, q querier, a nudge.AuditEntry) error {
	if err := checkAudit(a); err != nil {
		return err
	}
	_, err := db.exec(ctx, q, `INSERT INTO audit_log (lender, actor, action, target, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Lender, a.Actor, a.Action, a.Target, a.Detail, db.tv(a.At))
	return err
}
