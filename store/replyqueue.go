package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nudgehq/nudge"
)

// Audit actions of the queue of replies needing a person.
const (
	AuditAssignReply  = "assign_reply"
	AuditResolveReply = "resolve_reply"
)

// MaxResolutionNote bounds the note a reply is resolved with, in characters.
const MaxResolutionNote = 2000

// ErrReplyResolved is returned (wrapped, matching nudge.ErrConflict) when a
// reply is already resolved, or does not need a person.
var ErrReplyResolved = fmt.Errorf("the reply is not waiting for a person: %w", nudge.ErrConflict)

// AssignReply gives the lender's open reply id (one needing a person, not
// resolved) to assignee, and appends an audit entry by actor, in one
// transaction. Assigning it again to someone else takes it over. It returns
// nudge.ErrNotFound when the lender has no such reply and ErrReplyResolved
// when it is not open.
func (db *DB) AssignReply(ctx context.Context, lender, id, assignee, actor string, now time.Time) error {
	assignee = strings.TrimSpace(assignee)
	switch {
	case lender == "" || id == "":
		return errors.New("assign reply: lender and reply are required")
	case assignee == "":
		return fmt.Errorf("assign reply %s: assignee is required", id)
	case now.IsZero():
		return fmt.Errorf("assign reply %s: now is required", id)
	}
	return db.workReply(ctx, "assign reply", lender, id, func(tx *sql.Tx, r nudge.Reply) (nudge.AuditEntry, error) {
		if _, err := db.exec(ctx, tx, `UPDATE replies SET assignee = ?, assigned_at = ? WHERE id = ?`, assignee, db.tv(now), id); err != nil {
			return nudge.AuditEntry{}, err
		}
		detail := map[string]string{"reply": id, "assignee": assignee}
		if r.Assignee != "" && r.Assignee != assignee {
			detail["previous"] = r.Assignee
		}
		return auditOf(lender, actor, AuditAssignReply, r, detail, now)
	})
}

// ResolveReply resolves the lender's open reply id with a note and appends
// an audit entry by actor (the note in its detail), in one transaction: the
// reply leaves the queue. The note is required and at most
// MaxResolutionNote characters. It returns nudge.ErrNotFound when the lender
// has no such reply and ErrReplyResolved when it is not open.
func (db *DB) ResolveReply(ctx context.Context, lender, id, actor, note string, now time.Time) error {
	note = strings.TrimSpace(note)
	switch {
	case lender == "" || id == "":
		return errors.New("resolve reply: lender and reply are required")
	case note == "":
		return fmt.Errorf("resolve reply %s: note is required: say what was done", id)
	case utf8.RuneCountInString(note) > MaxResolutionNote:
		return fmt.Errorf("resolve reply %s: note is longer than %d characters", id, MaxResolutionNote)
	case !utf8.ValidString(note) || strings.ContainsRune(note, 0):
		return fmt.Errorf("resolve reply %s: note is not valid text", id)
	case actor == "":
		return fmt.Errorf("resolve reply %s: actor is required", id)
	case now.IsZero():
		return fmt.Errorf("resolve reply %s: now is required", id)
	}
	return db.workReply(ctx, "resolve reply", lender, id, func(tx *sql.Tx, r nudge.Reply) (nudge.AuditEntry, error) {
		if _, err := db.exec(ctx, tx, `UPDATE replies SET resolved_by = ?, resolved_at = ?, resolution = ? WHERE id = ?`,
			actor, db.tv(now), note, id); err != nil {
			return nudge.AuditEntry{}, err
		}
		return auditOf(lender, actor, AuditResolveReply, r, map[string]string{"reply": id, "note": note}, now)
	})
}

// workReply locks the lender's reply id, checks it is open, applies change
// and appends the audit entry change returns, in one transaction.
func (db *DB) workReply(ctx context.Context, what, lender, id string, change func(tx *sql.Tx, r nudge.Reply) (nudge.AuditEntry, error)) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanReply(db.queryRow(ctx, tx, `SELECT `+replyCols+` FROM replies WHERE id = ? AND lender = ?`+db.forUpdate(), id, lender))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reply %s: %w", id, nudge.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !r.Open() {
			return ErrReplyResolved
		}
		a, err := change(tx, r)
		if err != nil {
			return err
		}
		return db.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("%s %s of %s: %w", what, id, lender, err)
	}
	return nil
}

// auditOf is the audit entry of an action on reply r: its target is the
// reply's account (so that erasing the borrower scrubs the note), or the
// reply itself when it matched no account.
func auditOf(lender, actor, action string, r nudge.Reply, detail map[string]string, now time.Time) (nudge.AuditEntry, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return nudge.AuditEntry{}, err
	}
	target := r.AccountID
	if target == "" {
		target = "reply:" + r.ID
	}
	return nudge.AuditEntry{Lender: lender, Actor: actor, Action: action, Target: target, Detail: string(b), At: now}, nil
}
