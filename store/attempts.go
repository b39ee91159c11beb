package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/nudgehq/nudge"
)

const attemptCols = `id, reminder_id, lender, account_id, channel, address, status, reason, error_code, provider_id,
    zones, profile, answered_by, conversation, body, template, menu, created_at, sending_at, sent_at, updated_at,
    segments, call_seconds`

const attemptColCount = 23

// CapError is returned by ClaimAttempt when a frequency cap is reached. It
// matches nudge.ErrCapReached with errors.Is; errors.As gives the limit.
type CapError struct {
	// Limit is the cap that was reached.
	Limit nudge.CapLimit
	// Count is how many earlier attempts the cap counted.
	Count int
}

// Error names the reason, the rule and the count.
func (e *CapError) Error() string {
	msg := fmt.Sprintf("%s: %s", nudge.ErrCapReached, e.Limit.Reason)
	if e.Limit.Rule != "" {
		msg += " (" + e.Limit.Rule + ")"
	}
	return msg + fmt.Sprintf(": %d %s attempts on %s within %s, max %d",
		e.Count, e.Limit.Count, e.Limit.Channel, e.Limit.Window, e.Limit.Max)
}

// Unwrap returns nudge.ErrCapReached.
func (e *CapError) Unwrap() error { return nudge.ErrCapReached }

func scanAttempt(s interface{ Scan(...any) error }) (nudge.Attempt, error) {
	var (
		a                                    nudge.Attempt
		channel, status, reason, zones, menu string
	)
	err := s.Scan(&a.ID, &a.ReminderID, &a.Lender, &a.AccountID, &channel, &a.Address, &status, &reason,
		&a.ErrorCode, &a.ProviderID, &zones, &a.Profile, &a.AnsweredBy, &a.Conversation, &a.Body, &a.Template, &menu,
		timeCol{&a.CreatedAt}, timeCol{&a.SendingAt}, timeCol{&a.SentAt}, timeCol{&a.UpdatedAt}, &a.Segments, &a.CallSeconds)
	if err != nil {
		return nudge.Attempt{}, err
	}
	a.Channel, a.Status, a.Reason = nudge.ChannelKind(channel), nudge.AttemptStatus(status), nudge.Reason(reason)
	if zones != "" && zones != "null" {
		if err := json.Unmarshal([]byte(zones), &a.Zones); err != nil {
			return nudge.Attempt{}, fmt.Errorf("attempt %s zones: %w", a.ID, err)
		}
	}
	if len(a.Zones) == 0 {
		a.Zones = nil
	}
	if a.Menu, err = decodeMenu(menu); err != nil {
		return nudge.Attempt{}, fmt.Errorf("attempt %s menu: %w", a.ID, err)
	}
	return a, nil
}

// encodeMenu is how a menu is stored: a JSON object by key, or the empty
// string for none.
func encodeMenu(m nudge.Menu) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("menu: %w", err)
	}
	return string(b), nil
}

// decodeMenu reads a stored menu; the empty string is none.
func decodeMenu(s string) (nudge.Menu, error) {
	if s == "" {
		return nil, nil
	}
	var m nudge.Menu
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// capCounts reports whether a cap counting c counts the earlier attempt a.
func capCounts(c nudge.CapCount, a *nudge.Attempt) bool {
	switch c {
	case nudge.CountCalls:
		return a.Status.CountsAsCall()
	case nudge.CountUnanswered:
		return a.Unanswered()
	default:
		return true
	}
}

// GetAttempt returns the attempt with id, or nudge.ErrNotFound.
func (db *DB) GetAttempt(ctx context.Context, id string) (nudge.Attempt, error) {
	a, err := scanAttempt(db.queryRow(ctx, db.read, `SELECT `+attemptCols+` FROM attempts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.Attempt{}, fmt.Errorf("attempt %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.Attempt{}, fmt.Errorf("get attempt %s: %w", id, err)
	}
	return a, nil
}

// AttemptByProviderID returns the attempt the provider knows as providerID
// (the earliest if several), or nudge.ErrNotFound.
func (db *DB) AttemptByProviderID(ctx context.Context, providerID string) (nudge.Attempt, error) {
	if providerID == "" {
		return nudge.Attempt{}, fmt.Errorf("attempt with empty provider id: %w", nudge.ErrNotFound)
	}
	// In the read batch of whoever else reads at the moment (the status
	// callbacks arrive together).
	var found []nudge.Attempt
	err := db.readBatch(ctx, readQuery{sql: `SELECT ` + attemptCols + ` FROM attempts WHERE provider_id = ?
ORDER BY created_at, id LIMIT 1`, args: []any{providerID},
		row: func(s interface{ Scan(...any) error }) error {
			a, err := scanAttempt(s)
			found = append(found, a)
			return err
		}})
	if err != nil {
		return nudge.Attempt{}, fmt.Errorf("attempt by provider id %s: %w", providerID, err)
	}
	if len(found) == 0 {
		return nudge.Attempt{}, fmt.Errorf("attempt with provider id %s: %w", providerID, nudge.ErrNotFound)
	}
	return found[0], nil
}

// UpdateAttempt applies u to the attempt and reports whether anything changed.
// The status moves only to a higher rank, so a final status is never
// replaced, not even by another final one (the first wins). With u.From set
// the update is a compare-and-set: it applies only while the status is
// u.From and that status is not final, and may then move anywhere (claimed →
// sending, sending ⇄ retrying, unknown → retrying when reconciliation
// releases it). ProviderID, AnsweredBy, Body, Template, Menu, SendingAt, Segments and CallSeconds are filled
// whenever given, Conversation only turns on, SentAt is set once; Reason and ErrorCode
// are written only with a status that is applied (or with no status).
// UpdatedAt becomes u.At when something changed. A provider id recorded for
// the first time picks up the status callbacks kept for it
// (KeepEarlyCallback), in the same transaction. Applying the same update
// twice changes nothing the second time. It returns nudge.ErrNotFound when
// the attempt does not exist.
func (db *DB) UpdateAttempt(ctx context.Context, id string, u nudge.AttemptUpdate) (bool, error) {
	if u.Status != "" && u.Status.Rank() < 0 {
		return false, fmt.Errorf("update attempt %s: unknown status %q", id, u.Status)
	}
	var changed bool
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		_, changed, err = db.updateAttempt(ctx, tx, id, u)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("update attempt %s: %w", id, err)
	}
	return changed, nil
}

// updateAttempt is UpdateAttempt inside tx; it also returns the attempt as
// the update left it.
func (db *DB) updateAttempt(ctx context.Context, tx *sql.Tx, id string, u nudge.AttemptUpdate) (nudge.Attempt, bool, error) {
	cur, err := scanAttempt(db.queryRow(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE id = ?`+db.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.Attempt{}, false, fmt.Errorf("attempt %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.Attempt{}, false, err
	}
	return db.applyAttemptUpdate(ctx, tx, cur, u)
}

// applyAttemptUpdate applies u to cur, the attempt as read and locked in tx,
// with the early callbacks of the provider id u records.
func (db *DB) applyAttemptUpdate(ctx context.Context, tx *sql.Tx, cur nudge.Attempt, u nudge.AttemptUpdate) (nudge.Attempt, bool, error) {
	var early []earlyCallback
	var err error
	if recordsProviderID(cur, u) {
		if early, err = db.takeEarlyCallbacks(ctx, tx, u.ProviderID); err != nil {
			return cur, false, err
		}
	}
	next, changed := mergeAttempt(cur, u, early)
	if !changed {
		return cur, false, nil
	}
	// cur was read in tx, so a change of the status columns alone writes
	// those alone, as in a batch.
	return next, true, db.writeAttempts(ctx, tx, []nudge.Attempt{next}, map[string]nudge.Attempt{cur.ID: cur})
}

// lockAttemptByProvider reads the attempt carrying providerID (the earliest
// if several, as AttemptByProviderID) and locks its row for tx.
func (db *DB) lockAttemptByProvider(ctx context.Context, tx *sql.Tx, providerID string) (nudge.Attempt, error) {
	a, err := scanAttempt(db.queryRow(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE provider_id = ?
ORDER BY created_at, id LIMIT 1`+db.forUpdate(), providerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.Attempt{}, fmt.Errorf("attempt with provider id %s: %w", providerID, nudge.ErrNotFound)
	}
	return a, err
}

// casFails reports whether u is a compare-and-set that cur refuses: someone
// else moved the attempt, or it is final.
func casFails(cur nudge.Attempt, u nudge.AttemptUpdate) bool {
	return u.From != "" && (cur.Status != u.From || cur.Status.Final())
}

// recordsProviderID reports whether u, applied to cur, records a provider id
// the attempt does not carry yet: the status callbacks kept for that id
// (early) then apply.
func recordsProviderID(cur nudge.Attempt, u nudge.AttemptUpdate) bool {
	return !casFails(cur, u) && u.ProviderID != "" && u.ProviderID != cur.ProviderID
}

// mergeAttempt applies u to cur, the stored attempt, with the early
// callbacks kept for the provider id u records (nil unless
// recordsProviderID): statuses never go down a rank unless u is a
// compare-and-set (From), and callbacks that outran the send raise the
// status. It returns the attempt to store and whether it differs from cur.
func mergeAttempt(cur nudge.Attempt, u nudge.AttemptUpdate, early []earlyCallback) (nudge.Attempt, bool) {
	if casFails(cur, u) {
		return cur, false
	}
	next := cur
	statusApplies := u.Status == "" || u.Status.Rank() > cur.Status.Rank() || u.From != ""
	if u.Status != "" && statusApplies {
		next.Status = u.Status
	}
	if statusApplies {
		if u.Reason != "" {
			next.Reason = u.Reason
		}
		if u.ErrorCode != "" {
			next.ErrorCode = u.ErrorCode
		}
	}
	if u.ProviderID != "" && u.ProviderID != cur.ProviderID {
		next.ProviderID = u.ProviderID
		for _, cb := range early {
			if cb.status.Rank() > next.Status.Rank() {
				next.Status = cb.status
				if cb.errorCode != "" {
					next.ErrorCode = cb.errorCode
				}
			}
		}
	}
	if u.Body != "" {
		next.Body = u.Body
	}
	if u.Template != "" {
		next.Template = u.Template
	}
	if len(u.Menu) > 0 {
		next.Menu = u.Menu
	}
	if !u.SendingAt.IsZero() {
		next.SendingAt = truncUTC(u.SendingAt)
	}
	if u.AnsweredBy != "" {
		next.AnsweredBy = u.AnsweredBy
	}
	if u.Conversation {
		next.Conversation = true
	}
	if !u.SentAt.IsZero() && cur.SentAt.IsZero() {
		next.SentAt = truncUTC(u.SentAt)
	}
	if u.Segments > 0 {
		next.Segments = u.Segments
	}
	if u.CallSeconds > 0 {
		next.CallSeconds = u.CallSeconds
	}
	if next.Segments == cur.Segments && next.CallSeconds == cur.CallSeconds && next.Status == cur.Status && next.Reason == cur.Reason && next.ErrorCode == cur.ErrorCode &&
		next.ProviderID == cur.ProviderID && next.AnsweredBy == cur.AnsweredBy &&
		next.Conversation == cur.Conversation && next.SentAt.Equal(cur.SentAt) &&
		next.Body == cur.Body && next.Template == cur.Template && next.SendingAt.Equal(cur.SendingAt) && maps.Equal(next.Menu, cur.Menu) {
		return cur, false
	}
	if !u.At.IsZero() {
		next.UpdatedAt = truncUTC(u.At)
	}
	return next, true
}

// earlyCallback is a status callback kept until its provider id is recorded.
type earlyCallback struct {
	status    nudge.AttemptStatus
	errorCode string
}

// KeepEarlyCallback keeps a status callback for providerID, which no attempt
// carries yet (the callback outran the worker's record of the send); the
// UpdateAttempt that records the id applies it.
func (db *DB) KeepEarlyCallback(ctx context.Context, providerID string, status nudge.AttemptStatus, errorCode string, at time.Time) error {
	if providerID == "" || status.Rank() < 0 {
		return fmt.Errorf("keep early callback: provider id %q, status %q", providerID, status)
	}
	// The attempt may have recorded the id between the caller's look-up and
	// now: apply to it directly then, so the callback is never stranded.
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lock(ctx, tx, "provider/"+providerID); err != nil {
			return err
		}
		var id string
		err := db.queryRow(ctx, tx, `SELECT id FROM attempts WHERE provider_id = ? LIMIT 1`, providerID).Scan(&id)
		if err == nil {
			return errAttemptHasID
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("keep early callback for %s: %w", providerID, err)
		}
		if _, err := db.exec(ctx, tx, `INSERT INTO early_callbacks (provider_id, status, error_code, received_at) VALUES (?, ?, ?, ?)`,
			providerID, string(status), errorCode, db.tv(at)); err != nil {
			return fmt.Errorf("keep early callback for %s: %w", providerID, err)
		}
		return nil
	})
}

// errAttemptHasID tells KeepEarlyCallback's caller that the id is recorded
// by now: look the attempt up again and apply the callback to it.
var errAttemptHasID = fmt.Errorf("the provider id is recorded on an attempt: %w", nudge.ErrConflict)

// takeEarlyCallbacks returns and deletes the callbacks kept for providerID.
func (db *DB) takeEarlyCallbacks(ctx context.Context, tx *sql.Tx, providerID string) ([]earlyCallback, error) {
	if err := db.lock(ctx, tx, "provider/"+providerID); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, tx, `SELECT status, error_code FROM early_callbacks WHERE provider_id = ? ORDER BY id`, providerID)
	if err != nil {
		return nil, fmt.Errorf("early callbacks for %s: %w", providerID, err)
	}
	var out []earlyCallback
	for rows.Next() {
		var cb earlyCallback
		var status string
		if err := rows.Scan(&status, &cb.errorCode); err != nil {
			rows.Close()
			return nil, fmt.Errorf("early callbacks for %s: %w", providerID, err)
		}
		cb.status = nudge.AttemptStatus(status)
		out = append(out, cb)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("early callbacks for %s: %w", providerID, err)
	}
	if len(out) > 0 {
		if _, err := db.exec(ctx, tx, `DELETE FROM early_callbacks WHERE provider_id = ?`, providerID); err != nil {
			return nil, fmt.Errorf("early callbacks for %s: %w", providerID, err)
		}
	}
	return out, nil
}

// AttemptHistory returns the account's attempts created at or after since,
// oldest first.
func (db *DB) AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error) {
	return db.listAttempts(ctx, "attempt history", `SELECT `+attemptCols+` FROM attempts
WHERE lender = ? AND account_id = ? AND created_at >= ? ORDER BY created_at, id`, lender, accountID, db.tv(since))
}

// ListAttempts returns the lender's attempts created at or after since,
// oldest first; an empty lender lists every lender's.
func (db *DB) ListAttempts(ctx context.Context, lender string, since time.Time) ([]nudge.Attempt, error) {
	if lender == "" {
		return db.listAttempts(ctx, "list attempts", `SELECT `+attemptCols+` FROM attempts
WHERE created_at >= ? ORDER BY created_at, id`, db.tv(since))
	}
	return db.listAttempts(ctx, "list attempts", `SELECT `+attemptCols+` FROM attempts
WHERE lender = ? AND created_at >= ? ORDER BY created_at, id`, lender, db.tv(since))
}

func (db *DB) listAttempts(ctx context.Context, what, query string, args ...any) ([]nudge.Attempt, error) {
	if args[len(args)-1] == nil {
		// A zero since means from the beginning.
		args[len(args)-1] = db.tv(time.Unix(0, 0))
	}
	rows, err := db.query(ctx, db.read, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []nudge.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
