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
    zones, profile, answered_by, conversation, body, template, menu, created_at, sending_at, sent_at, updated_at`

const attemptColCount = 21

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
		timeCol{&a.CreatedAt}, timeCol{&a.SendingAt}, timeCol{&a.SentAt}, timeCol{&a.UpdatedAt})
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

// ClaimAttempt inserts a, in status sending unless a.Status says otherwise,
// after checking limits against earlier attempts, all in one transaction
// that excludes concurrent claims for the same account (and address) across
// processes. a.CreatedAt is the claim instant; an empty a.ID gets a new id.
//
// When an attempt for the reminder and channel exists it returns that one
// and nudge.ErrAlreadyClaimed. When a limit is reached it returns a
// *CapError, which matches nudge.ErrCapReached. A limit counts the account's
// attempts on its channel (every channel when it names none) created after
// a.CreatedAt minus its window; with PerAddress it counts the lender's
// attempts to a.Address on the channel, whichever account they were for.
// events are appended in the same transaction when the attempt is inserted.
func (db *DB) ClaimAttempt(ctx context.Context, a nudge.Attempt, limits []nudge.CapLimit, events ...nudge.Event) (nudge.Attempt, error) {
	switch {
	case a.ReminderID == "" || a.Lender == "" || a.AccountID == "":
		return nudge.Attempt{}, errors.New("claim attempt: reminder, lender and account are required")
	case !a.Channel.Valid():
		return nudge.Attempt{}, fmt.Errorf("claim attempt for reminder %s: unknown channel %q", a.ReminderID, a.Channel)
	case a.CreatedAt.IsZero():
		return nudge.Attempt{}, fmt.Errorf("claim attempt for reminder %s: created_at is required", a.ReminderID)
	}
	if a.ID == "" {
		a.ID = newID("att")
	}
	if a.Status == "" {
		a.Status = nudge.AttemptSending
	}
	if a.Status.Rank() < 0 {
		return nudge.Attempt{}, fmt.Errorf("claim attempt for reminder %s: unknown status %q", a.ReminderID, a.Status)
	}
	a.CreatedAt, a.SendingAt, a.SentAt, a.UpdatedAt = truncUTC(a.CreatedAt), truncUTC(a.SendingAt), truncUTC(a.SentAt), truncUTC(a.UpdatedAt)
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	zones, err := json.Marshal(a.Zones)
	if err != nil {
		return nudge.Attempt{}, fmt.Errorf("claim attempt for reminder %s: zones: %w", a.ReminderID, err)
	}
	if a.Zones == nil {
		zones = []byte("[]")
	}
	menu, err := encodeMenu(a.Menu)
	if err != nil {
		return nudge.Attempt{}, fmt.Errorf("claim attempt for reminder %s: %w", a.ReminderID, err)
	}

	var existing nudge.Attempt
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// The account's lock, then the address's when a limit counts per
		// address: one statement.
		keys := []string{"account/" + a.Lender + "/" + a.AccountID}
		for _, l := range limits {
			if l.PerAddress {
				keys = append(keys, "address/"+a.Lender+"/"+string(l.Channel)+"/"+a.Address)
				break
			}
		}
		if err := db.lockAll(ctx, tx, keys...); err != nil {
			return err
		}
		prev, found, err := db.checkClaim(ctx, tx, a, limits)
		if err != nil {
			return err
		}
		if found {
			existing = prev
			return nudge.ErrAlreadyClaimed
		}
		res, err := db.exec(ctx, tx, `INSERT INTO attempts (`+attemptCols+`) VALUES (`+placeholders(attemptColCount)+`)
ON CONFLICT (reminder_id, channel) DO NOTHING`,
			a.ID, a.ReminderID, a.Lender, a.AccountID, string(a.Channel), a.Address, string(a.Status), string(a.Reason),
			a.ErrorCode, a.ProviderID, string(zones), a.Profile, a.AnsweredBy, a.Conversation, a.Body, a.Template, menu,
			db.tv(a.CreatedAt), db.tv(a.SendingAt), db.tv(a.SentAt), db.tv(a.UpdatedAt))
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		n, err := rowsAffected(res)
		if err != nil {
			return err
		}
		if n == 0 {
			// A concurrent claim under another lender or account won the
			// reminder; report it like any earlier claim.
			prev, err := scanAttempt(db.queryRow(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE reminder_id = ? AND channel = ?`,
				a.ReminderID, string(a.Channel)))
			if err != nil {
				return fmt.Errorf("look up claim: %w", err)
			}
			existing = prev
			return nudge.ErrAlreadyClaimed
		}
		return db.appendEvents(ctx, tx, events)
	})
	switch {
	case errors.Is(err, nudge.ErrAlreadyClaimed):
		return existing, fmt.Errorf("claim attempt for reminder %s on %s: %w", a.ReminderID, a.Channel, nudge.ErrAlreadyClaimed)
	case err != nil:
		var capErr *CapError
		if errors.As(err, &capErr) {
			return nudge.Attempt{}, capErr
		}
		return nudge.Attempt{}, fmt.Errorf("claim attempt for reminder %s on %s: %w", a.ReminderID, a.Channel, err)
	}
	return a, nil
}

// checkClaim finds an earlier claim of a's reminder on a's channel, or else
// checks limits: one read of the account's recent attempts answers both and
// every limit on the account; a per-address limit reads the address's.
func (db *DB) checkClaim(ctx context.Context, tx *sql.Tx, a nudge.Attempt, limits []nudge.CapLimit) (nudge.Attempt, bool, error) {
	var window time.Duration
	for _, l := range limits {
		if !l.PerAddress {
			window = max(window, l.Window)
		}
	}
	rows, err := db.query(ctx, tx, `SELECT id, reminder_id, channel, status, answered_by, created_at FROM attempts
WHERE lender = ? AND account_id = ? AND ((reminder_id = ? AND channel = ?) OR created_at > ?)`,
		a.Lender, a.AccountID, a.ReminderID, string(a.Channel), db.tv(a.CreatedAt.Add(-window)))
	if err != nil {
		return nudge.Attempt{}, false, fmt.Errorf("look up claim: %w", err)
	}
	var recent []nudge.Attempt
	mine := ""
	for rows.Next() {
		var (
			prev            nudge.Attempt
			channel, status string
		)
		if err := rows.Scan(&prev.ID, &prev.ReminderID, &channel, &status, &prev.AnsweredBy, timeCol{&prev.CreatedAt}); err != nil {
			rows.Close()
			return nudge.Attempt{}, false, fmt.Errorf("look up claim: %w", err)
		}
		prev.Channel, prev.Status = nudge.ChannelKind(channel), nudge.AttemptStatus(status)
		if prev.ReminderID == a.ReminderID && prev.Channel == a.Channel {
			mine = prev.ID
		}
		recent = append(recent, prev)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nudge.Attempt{}, false, fmt.Errorf("look up claim: %w", err)
	}
	if mine != "" {
		prev, err := scanAttempt(db.queryRow(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE id = ?`, mine))
		if err != nil {
			return nudge.Attempt{}, false, fmt.Errorf("look up claim: %w", err)
		}
		return prev, true, nil
	}
	for _, l := range limits {
		if l.PerAddress {
			if err := db.checkCap(ctx, tx, a, l); err != nil {
				return nudge.Attempt{}, false, err
			}
			continue
		}
		if l.Max <= 0 {
			return nudge.Attempt{}, false, &CapError{Limit: l}
		}
		since, n := a.CreatedAt.Add(-l.Window), 0
		for i := range recent {
			if recent[i].CreatedAt.After(since) && (l.Channel == "" || recent[i].Channel == l.Channel) && capCounts(l.Count, &recent[i]) {
				n++
			}
		}
		if n >= l.Max {
			return nudge.Attempt{}, false, &CapError{Limit: l, Count: n}
		}
	}
	return nudge.Attempt{}, false, nil
}

// checkCap returns a *CapError when l is reached for a.
func (db *DB) checkCap(ctx context.Context, tx *sql.Tx, a nudge.Attempt, l nudge.CapLimit) error {
	if l.Max <= 0 {
		return &CapError{Limit: l}
	}
	since := a.CreatedAt.Add(-l.Window)
	q := `SELECT status, answered_by FROM attempts WHERE lender = ? AND account_id = ? AND created_at > ?`
	args := []any{a.Lender, a.AccountID, db.tv(since)}
	if l.PerAddress {
		q = `SELECT status, answered_by FROM attempts WHERE lender = ? AND address = ? AND created_at > ?`
		args = []any{a.Lender, a.Address, db.tv(since)}
	}
	// A cap without a channel counts every channel (Washington, New York
	// City: communications of any kind).
	if l.Channel != "" {
		q += ` AND channel = ?`
		args = append(args, string(l.Channel))
	}
	rows, err := db.query(ctx, tx, q, args...)
	if err != nil {
		return fmt.Errorf("count attempts for %s: %w", l.Reason, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var prev nudge.Attempt
		var status string
		if err := rows.Scan(&status, &prev.AnsweredBy); err != nil {
			return fmt.Errorf("count attempts for %s: %w", l.Reason, err)
		}
		prev.Status = nudge.AttemptStatus(status)
		if capCounts(l.Count, &prev) {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count attempts for %s: %w", l.Reason, err)
	}
	if n >= l.Max {
		return &CapError{Limit: l, Count: n}
	}
	return nil
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
	a, err := scanAttempt(db.queryRow(ctx, db.read, `SELECT `+attemptCols+` FROM attempts WHERE provider_id = ?
ORDER BY created_at, id LIMIT 1`, providerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.Attempt{}, fmt.Errorf("attempt with provider id %s: %w", providerID, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.Attempt{}, fmt.Errorf("attempt by provider id %s: %w", providerID, err)
	}
	return a, nil
}

// UpdateAttempt applies u to the attempt and reports whether anything changed.
// The status moves only to a higher rank, so a final status is never
// replaced, not even by another final one (the first wins). With u.From set
// the update is a compare-and-set: it applies only while the status is
// u.From and that status is not final, and may then move anywhere (claimed →
// sending, sending ⇄ retrying, unknown → retrying when reconciliation
// releases it). ProviderID, AnsweredBy, Body, Template, Menu and SendingAt are filled
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
		changed, err = db.updateAttempt(ctx, tx, id, u)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("update attempt %s: %w", id, err)
	}
	return changed, nil
}

// updateAttempt is UpdateAttempt inside tx.
func (db *DB) updateAttempt(ctx context.Context, tx *sql.Tx, id string, u nudge.AttemptUpdate) (bool, error) {
	cur, err := scanAttempt(db.queryRow(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE id = ?`+db.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("attempt %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return false, err
	}
	var early []earlyCallback
	if recordsProviderID(cur, u) {
		if early, err = db.takeEarlyCallbacks(ctx, tx, u.ProviderID); err != nil {
			return false, err
		}
	}
	next, changed := mergeAttempt(cur, u, early)
	if !changed {
		return false, nil
	}
	return true, db.writeAttempts(ctx, tx, []nudge.Attempt{next})
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
	if next.Status == cur.Status && next.Reason == cur.Reason && next.ErrorCode == cur.ErrorCode &&
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
