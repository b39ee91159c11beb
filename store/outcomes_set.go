package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// errRepeated sends a batch that updates the same attempt or reminder twice
// to the one-by-one path, where each outcome sees the one before it.
var errRepeated = errors.New("a batch's outcomes repeat an attempt or a reminder")

// recordOutcomesSet writes a batch of outcomes (in order, sorted by attempt
// id) with a fixed number of statements whatever its size: the attempts are
// read and locked in one statement, the provider ids they record are locked
// and their early callbacks read in two more, the changed attempts written in
// one, and the reminders moved in one. It returns the events to append. An
// outcome that cannot be written whole returns an aloneError, and a batch
// that repeats an attempt or a reminder errRepeated, for the caller to write
// outcome by outcome.
func (db *DB) recordOutcomesSet(ctx context.Context, tx *sql.Tx, outcomes []nudge.Outcome, order []int, results []nudge.OutcomeResult) ([]nudge.Event, error) {
	var ids, pids, reminders []string
	for _, i := range order {
		o := outcomes[i]
		if err := checkOutcome(o); err != nil {
			return nil, err
		}
		switch {
		case o.AttemptID != "":
			ids = append(ids, o.AttemptID)
		case o.ProviderID != "":
			pids = append(pids, o.ProviderID)
		}
		if o.Reminder.ID != "" {
			reminders = append(reminders, o.Reminder.ID)
		}
	}
	slices.Sort(reminders)
	if len(slices.Compact(slices.Clone(ids))) < len(ids) || len(slices.Compact(slices.Sorted(slices.Values(pids)))) < len(pids) ||
		len(slices.Compact(reminders)) < len(reminders) {
		return nil, errRepeated
	}
	cur, byPID, err := db.lockAttempts(ctx, tx, ids, pids)
	if err != nil {
		return nil, err
	}
	// attemptOf[i] is the id of the attempt outcome i updates, once the
	// provider ids are resolved: a batch that names one attempt twice (by id
	// and by provider id) is written in order too, before anything changes.
	attemptOf := make([]string, len(outcomes))
	seen := make(map[string]bool, len(order))
	for _, i := range order {
		id := outcomes[i].AttemptID
		if byProvider(outcomes[i]) {
			id = byPID[outcomes[i].ProviderID]
		}
		if id == "" {
			continue
		}
		if seen[id] {
			return nil, errRepeated
		}
		seen[id], attemptOf[i] = true, id
	}
	var providers []string
	for _, i := range order {
		if a, ok := cur[attemptOf[i]]; ok && recordsProviderID(a, outcomes[i].Attempt) {
			providers = append(providers, outcomes[i].Attempt.ProviderID)
		}
	}
	early, err := db.takeEarlyCallbacksOf(ctx, tx, providers)
	if err != nil {
		return nil, err
	}
	var (
		changed []nudge.Attempt
		moves   []reminderMove
		events  []nudge.Event
	)
	for _, i := range order {
		o := outcomes[i]
		if o.AttemptID != "" || o.ProviderID != "" {
			a, ok := cur[attemptOf[i]]
			if !ok {
				results[i].Err = fmt.Errorf("attempt %s: %w", outcomeName(o), nudge.ErrNotFound)
				continue
			}
			var cbs []earlyCallback
			if recordsProviderID(a, o.Attempt) {
				cbs = early[o.Attempt.ProviderID]
			}
			next, ok := mergeAttempt(a, o.Attempt, cbs)
			if ok {
				changed = append(changed, next)
			}
			results[i].AttemptChanged, results[i].Attempt = ok, next
		}
		if o.Reminder.ID != "" {
			moves = append(moves, reminderMove{change: o.Reminder, result: &results[i]})
		}
		if writesEvents(o, results[i]) {
			events = append(events, outcomeEvents(o, results[i])...)
		}
	}
	if err := db.writeAttempts(ctx, tx, changed); err != nil {
		return nil, err
	}
	return events, db.moveOpenReminders(ctx, tx, moves)
}

// checkOutcome refuses an outcome that could never be written.
func checkOutcome(o nudge.Outcome) error {
	for _, e := range o.Events {
		if byProvider(o) && e.Lender == "" {
			e.Lender = "(the attempt's)" // filled from the attempt found (outcomeEvents)
		}
		if err := checkEvent(e); err != nil {
			return aloneError{err}
		}
	}
	if rc := o.Reminder; rc.ID != "" && !validReminderStatus(rc.Status) {
		return aloneError{fmt.Errorf("reminder %s: unknown status %q", rc.ID, rc.Status)}
	}
	if (o.AttemptID != "" || o.ProviderID != "") && o.Attempt.Status != "" && o.Attempt.Status.Rank() < 0 {
		return aloneError{fmt.Errorf("attempt %s: unknown status %q", outcomeName(o), o.Attempt.Status)}
	}
	return nil
}

// lockAttempts reads the attempts with ids (sorted) and those carrying the
// provider ids pids, and locks their rows for the transaction, in id order,
// in one statement. It returns them by id, and the id of the attempt each
// provider id names (the earliest if several, as AttemptByProviderID).
func (db *DB) lockAttempts(ctx context.Context, tx *sql.Tx, ids, pids []string) (map[string]nudge.Attempt, map[string]string, error) {
	out := make(map[string]nudge.Attempt, len(ids)+len(pids))
	byPID := make(map[string]string, len(pids))
	if len(ids) == 0 && len(pids) == 0 {
		return out, byPID, nil
	}
	args := make([]any, 0, len(ids)+len(pids))
	var where []string
	if len(ids) > 0 {
		for _, id := range ids {
			args = append(args, id)
		}
		where = append(where, `id IN (`+placeholders(len(ids))+`)`)
	}
	if len(pids) > 0 {
		for _, p := range pids {
			args = append(args, p)
		}
		where = append(where, `provider_id IN (`+placeholders(len(pids))+`)`)
	}
	rows, err := db.query(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE `+strings.Join(where, " OR ")+` ORDER BY id`+db.forUpdate(), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("lock attempts: %w", err)
	}
	defer rows.Close()
	wanted := make(map[string]bool, len(pids))
	for _, p := range pids {
		wanted[p] = true
	}
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("lock attempts: %w", err)
		}
		out[a.ID] = a
		if p := a.ProviderID; wanted[p] {
			if prev, ok := byPID[p]; !ok || earlier(a, out[prev]) {
				byPID[p] = a.ID
			}
		}
	}
	return out, byPID, rows.Err()
}

// earlier reports whether a was created before b (by id on a tie).
func earlier(a, b nudge.Attempt) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// takeEarlyCallbacksOf is takeEarlyCallbacks for several provider ids: their
// locks in one statement (in sorted order, so concurrent batches cannot
// deadlock), their callbacks in a second one, issued after the locks so that
// it sees every callback kept before them (KeepEarlyCallback takes the same
// lock), and a delete of those found.
func (db *DB) takeEarlyCallbacksOf(ctx context.Context, tx *sql.Tx, providers []string) (map[string][]earlyCallback, error) {
	if len(providers) == 0 {
		return nil, nil
	}
	providers = slices.Compact(slices.Sorted(slices.Values(providers)))
	args := make([]any, len(providers))
	for i, p := range providers {
		args[i] = p
	}
	keys := make([]string, len(providers))
	for i, p := range providers {
		keys[i] = "provider/" + p
	}
	if err := db.lockAll(ctx, tx, keys...); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, tx, `SELECT provider_id, status, error_code FROM early_callbacks WHERE provider_id IN (`+placeholders(len(providers))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("early callbacks: %w", err)
	}
	out := map[string][]earlyCallback{}
	for rows.Next() {
		var pid, status string
		var cb earlyCallback
		if err := rows.Scan(&pid, &status, &cb.errorCode); err != nil {
			rows.Close()
			return nil, fmt.Errorf("early callbacks: %w", err)
		}
		cb.status = nudge.AttemptStatus(status)
		out[pid] = append(out[pid], cb)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("early callbacks: %w", err)
	}
	if len(out) > 0 {
		found := make([]any, 0, len(out))
		for pid := range out {
			found = append(found, pid)
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM early_callbacks WHERE provider_id IN (`+placeholders(len(found))+`)`, found...); err != nil {
			return nil, fmt.Errorf("early callbacks: %w", err)
		}
	}
	return out, nil
}

// attemptWriteCols are the columns writeAttempts sets, id last.
const attemptWriteCols = 15

// writeAttempts stores the merged attempts: one UPDATE for one attempt, one
// UPDATE joined to column arrays (PostgreSQL) or a VALUES list (SQLite) for
// several.
func (db *DB) writeAttempts(ctx context.Context, tx *sql.Tx, as []nudge.Attempt) error {
	if len(as) == 0 {
		return nil
	}
	menus := make([]string, len(as))
	for i, a := range as {
		m, err := encodeMenu(a.Menu)
		if err != nil {
			return fmt.Errorf("attempt %s: %w", a.ID, err)
		}
		menus[i] = m
	}
	if len(as) == 1 {
		a := as[0]
		_, err := db.exec(ctx, tx, `UPDATE attempts SET status = ?, reason = ?, error_code = ?, provider_id = ?,
    answered_by = ?, conversation = ?, body = ?, template = ?, menu = ?, sending_at = ?, sent_at = ?, updated_at = ?,
    segments = ?, call_seconds = ? WHERE id = ?`,
			string(a.Status), string(a.Reason), a.ErrorCode, a.ProviderID, a.AnsweredBy,
			a.Conversation, a.Body, a.Template, menus[0], db.tv(a.SendingAt), db.tv(a.SentAt), db.tv(a.UpdatedAt),
			a.Segments, a.CallSeconds, a.ID)
		return err
	}
	if db.backend == Postgres {
		n := len(as)
		status, reason, code, pid, answered, body, tmpl, id := make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		conv := make([]bool, n)
		segs, secs := make([]int64, n), make([]int64, n)
		sending, sent, updated := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		for i, a := range as {
			status[i], reason[i], code[i], pid[i], answered[i], body[i], tmpl[i], id[i] = string(a.Status), string(a.Reason), a.ErrorCode,
				a.ProviderID, a.AnsweredBy, a.Body, a.Template, a.ID
			conv[i], sending[i], sent[i], updated[i] = a.Conversation, pgTime(a.SendingAt), pgTime(a.SentAt), pgTime(a.UpdatedAt)
			segs[i], secs[i] = int64(a.Segments), int64(a.CallSeconds)
		}
		db.roundTrips.Add(1)
		_, err := tx.ExecContext(ctx, `UPDATE attempts AS a SET status = v.status, reason = v.reason, error_code = v.error_code,
    provider_id = v.provider_id, answered_by = v.answered_by, conversation = v.conversation, body = v.body,
    template = v.template, menu = v.menu, sending_at = v.sending_at, sent_at = v.sent_at, updated_at = v.updated_at,
    segments = v.segments, call_seconds = v.call_seconds
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::text[],
    $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::text[], $14::int[], $15::int[])
    AS v (status, reason, error_code, provider_id, answered_by, conversation, body, template, menu, sending_at, sent_at, updated_at, id,
    segments, call_seconds)
WHERE a.id = v.id`, status, reason, code, pid, answered, conv, body, tmpl, menus, sending, sent, updated, id, segs, secs)
		if err != nil {
			return fmt.Errorf("write attempts: %w", err)
		}
		return nil
	}
	args := make([]any, 0, len(as)*attemptWriteCols)
	for i, a := range as {
		args = append(args, string(a.Status), string(a.Reason), a.ErrorCode, a.ProviderID, a.AnsweredBy,
			a.Conversation, a.Body, a.Template, menus[i], db.tv(a.SendingAt), db.tv(a.SentAt), db.tv(a.UpdatedAt), a.ID,
			a.Segments, a.CallSeconds)
	}
	_, err := db.exec(ctx, tx, `UPDATE attempts SET status = v.column1, reason = v.column2, error_code = v.column3,
    provider_id = v.column4, answered_by = v.column5, conversation = v.column6, body = v.column7, template = v.column8,
    menu = v.column9, sending_at = v.column10, sent_at = v.column11, updated_at = v.column12,
    segments = v.column14, call_seconds = v.column15
FROM (VALUES `+valuesRows(len(as), attemptWriteCols)+`) AS v WHERE attempts.id = v.column13`, args...)
	if err != nil {
		return fmt.Errorf("write attempts: %w", err)
	}
	return nil
}

// reminderMove is a batch's reminder change and the result it reports to.
type reminderMove struct {
	change nudge.ReminderChange
	result *nudge.OutcomeResult
}

// moveOpenReminders applies the batch's reminder changes (distinct
// reminders) to those still open, in one statement, as setReminderStatus does
// one by one: a reminder already final is the result's ReminderFinal; one
// that does not exist an aloneError.
func (db *DB) moveOpenReminders(ctx context.Context, tx *sql.Tx, moves []reminderMove) error {
	if len(moves) == 0 {
		return nil
	}
	if len(moves) == 1 {
		m := moves[0]
		err := db.setReminderStatus(ctx, tx, tx, m.change.ID, m.change.Status, m.change.Reason, m.change.NextAt, m.change.At)
		switch {
		case errors.Is(err, nudge.ErrConflict):
			m.result.ReminderFinal = true
		case errors.Is(err, nudge.ErrNotFound):
			return aloneError{err}
		case err != nil:
			return err
		}
		return nil
	}
	const cols = 5
	args := make([]any, 0, len(moves)*cols+len(openReminderStatuses))
	for _, m := range moves {
		c := m.change
		args = append(args, c.ID, string(c.Status), string(c.Reason), db.tv(c.NextAt), db.tv(c.At))
	}
	args = append(args, openReminderStatuses...)
	values := valuesRows(len(moves), cols)
	if db.backend == Postgres {
		// The first row's casts type the VALUES list's columns.
		values = "(?::text, ?::text, ?::text, ?::timestamptz, ?::timestamptz)" + values[len(valuesRows(1, cols)):]
	}
	rows, err := db.query(ctx, tx, `UPDATE reminders SET status = v.column2, reason = v.column3,
    next_at = COALESCE(v.column4, reminders.next_at), updated_at = v.column5
FROM (VALUES `+values+`) AS v WHERE reminders.id = v.column1 AND reminders.status IN (`+placeholders(len(openReminderStatuses))+`)
RETURNING reminders.id`, args...)
	if err != nil {
		return fmt.Errorf("move reminders: %w", err)
	}
	moved := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("move reminders: %w", err)
		}
		moved[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("move reminders: %w", err)
	}
	var rest []any
	for _, m := range moves {
		if !moved[m.change.ID] {
			rest = append(rest, m.change.ID)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	exists := map[string]bool{}
	rows, err = db.query(ctx, tx, `SELECT id FROM reminders WHERE id IN (`+placeholders(len(rest))+`)`, rest...)
	if err != nil {
		return fmt.Errorf("move reminders: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("move reminders: %w", err)
		}
		exists[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("move reminders: %w", err)
	}
	for _, m := range moves {
		switch {
		case moved[m.change.ID]:
		case exists[m.change.ID]:
			m.result.ReminderFinal = true
		default:
			return aloneError{fmt.Errorf("set reminder status: reminder %s: %w", m.change.ID, nudge.ErrNotFound)}
		}
	}
	return nil
}
