package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
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
	ids, pids, _, err := outcomeKeys(outcomes, order)
	if err != nil {
		return nil, err
	}
	locked := newLockedAttempts(pids)
	if len(ids) > 0 || len(pids) > 0 {
		if err := db.runIn(ctx, tx, db.lockAttemptsQuery(ids, pids, locked)); err != nil {
			return nil, err
		}
	}
	attemptOf, providers, err := resolveOutcomes(outcomes, order, locked)
	if err != nil {
		return nil, err
	}
	early, err := db.takeEarlyCallbacksOf(ctx, tx, providers)
	if err != nil {
		return nil, err
	}
	changed, moves, events := mergeOutcomes(outcomes, order, locked.byID, attemptOf, early, results)
	if err := db.writeAttempts(ctx, tx, changed, locked.byID); err != nil {
		return nil, err
	}
	return events, db.moveOpenReminders(ctx, tx, moves)
}

// recordOutcomesPiped is recordOutcomesSet in a pipelined transaction of its
// own (PostgreSQL), in two or three round trips whatever the batch's size:
// BEGIN, the attempts' locks and the reminders' existence in the first; the
// provider ids' locks and their early callbacks taken in a second, when the
// batch records provider ids; the attempts, the reminders, the events and
// COMMIT in the last. The statements, their order and so the order of the
// locks are recordOutcomesSet's, except that whether each reminder exists
// is read up front (a reminder that does not exist is the batch's
// aloneError before anything is written) and the early callbacks are read
// and deleted in one statement. It returns errRepeated and aloneError as
// recordOutcomesSet does.
func (db *DB) recordOutcomesPiped(ctx context.Context, outcomes []nudge.Outcome, order []int, results []nudge.OutcomeResult) error {
	ids, pids, reminders, err := outcomeKeys(outcomes, order)
	if err != nil {
		return err
	}
	var moves []reminderMove
	moved := map[string]bool{}
	// A batch that moves no reminder (status callbacks) reads and writes
	// attempts by id or provider id, takes early callbacks by provider id and
	// appends events: generic plans, made once per connection. One that moves
	// reminders plans per call, as before.
	err = db.inPipeTx(ctx, len(reminders) == 0, func(tx *pipeTx) ([]readQuery, error) {
		locked := newLockedAttempts(pids)
		exists := make(map[string]bool, len(reminders))
		var first []readQuery
		if len(ids) > 0 || len(pids) > 0 {
			first = append(first, db.lockAttemptsQuery(ids, pids, locked))
		}
		if len(reminders) > 0 {
			first = append(first, db.remindersExistQuery(reminders, exists))
		}
		if len(first) > 0 {
			if err := tx.send(ctx, first...); err != nil {
				return nil, err
			}
		}
		attemptOf, providers, err := resolveOutcomes(outcomes, order, locked)
		if err != nil {
			return nil, err
		}
		early := map[string][]earlyCallback{}
		if len(providers) > 0 {
			providers = slices.Compact(slices.Sorted(slices.Values(providers)))
			if err := tx.send(ctx, lockAllQuery(providerLockKeys(providers)), takeEarlyCallbacksQuery(providers, early)); err != nil {
				return nil, err
			}
		}
		var changed []nudge.Attempt
		var events []nudge.Event
		changed, moves, events = mergeOutcomes(outcomes, order, locked.byID, attemptOf, early, results)
		for _, m := range moves {
			if !exists[m.change.ID] {
				return nil, aloneError{fmt.Errorf("set reminder status: reminder %s: %w", m.change.ID, nudge.ErrNotFound)}
			}
		}
		for _, e := range events {
			if err := checkEvent(e); err != nil {
				return nil, aloneError{err}
			}
		}
		var last []readQuery
		if len(changed) > 0 {
			q, err := db.writeAttemptsQuery(changed, locked.byID)
			if err != nil {
				return nil, err
			}
			last = append(last, q)
		}
		if len(moves) > 0 {
			last = append(last, db.moveRemindersQuery(moves, moved))
		}
		if len(events) > 0 {
			last = append(last, insertEventsQuery(events))
		}
		return last, nil
	})
	if err != nil {
		return err
	}
	// A reminder that existed but was not moved is final (closed before
	// this batch, or by a transaction that committed while it ran).
	for _, m := range moves {
		if !moved[m.change.ID] {
			m.result.ReminderFinal = true
		}
	}
	return nil
}

// outcomeKeys checks the outcomes and returns the attempt ids, provider ids
// and reminder ids (sorted) they name, in order; errRepeated when one is
// named twice.
func outcomeKeys(outcomes []nudge.Outcome, order []int) (ids, pids, reminders []string, err error) {
	for _, i := range order {
		o := outcomes[i]
		if err := checkOutcome(o); err != nil {
			return nil, nil, nil, err
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
		len(slices.Compact(slices.Clone(reminders))) < len(reminders) {
		return nil, nil, nil, errRepeated
	}
	return ids, pids, reminders, nil
}

// resolveOutcomes returns the id of the attempt each outcome updates
// (attemptOf, by outcome index), once the provider ids are resolved, and
// the provider ids the batch records on attempts that do not carry them
// yet. A batch that names one attempt twice (by id and by provider id) is
// errRepeated, to be written in order before anything changes.
func resolveOutcomes(outcomes []nudge.Outcome, order []int, locked *lockedAttempts) ([]string, []string, error) {
	attemptOf := make([]string, len(outcomes))
	seen := make(map[string]bool, len(order))
	for _, i := range order {
		id := outcomes[i].AttemptID
		if byProvider(outcomes[i]) {
			id = locked.byPID[outcomes[i].ProviderID]
		}
		if id == "" {
			continue
		}
		if seen[id] {
			return nil, nil, errRepeated
		}
		seen[id], attemptOf[i] = true, id
	}
	var providers []string
	for _, i := range order {
		if a, ok := locked.byID[attemptOf[i]]; ok && recordsProviderID(a, outcomes[i].Attempt) {
			providers = append(providers, outcomes[i].Attempt.ProviderID)
		}
	}
	return attemptOf, providers, nil
}

// mergeOutcomes decides each outcome against its locked attempt (cur) and
// the early callbacks taken: it sets the results, and returns the attempts
// that changed, the reminder moves and the events to append.
func mergeOutcomes(outcomes []nudge.Outcome, order []int, cur map[string]nudge.Attempt, attemptOf []string,
	early map[string][]earlyCallback, results []nudge.OutcomeResult) ([]nudge.Attempt, []reminderMove, []nudge.Event) {
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
	return changed, moves, events
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

// lockedAttempts are the attempts lockAttemptsQuery read, by id, and the
// id of the attempt each provider id asked for names (the earliest if
// several, as AttemptByProviderID).
type lockedAttempts struct {
	byID   map[string]nudge.Attempt
	byPID  map[string]string
	wanted map[string]bool
}

func newLockedAttempts(pids []string) *lockedAttempts {
	l := &lockedAttempts{byID: map[string]nudge.Attempt{}, byPID: map[string]string{}, wanted: make(map[string]bool, len(pids))}
	for _, p := range pids {
		l.wanted[p] = true
	}
	return l
}

// lockAttemptsQuery reads the attempts with ids (sorted) and those carrying
// the provider ids pids into into, and locks their rows for the
// transaction, in id order, in one statement.
func (db *DB) lockAttemptsQuery(ids, pids []string, into *lockedAttempts) readQuery {
	var args []any
	var where []string
	if len(ids) > 0 {
		in, a := db.inList("id", anyOf(ids))
		where, args = append(where, in), append(args, a...)
	}
	if len(pids) > 0 {
		// provider_id <> '' (true of every id asked for) is the predicate of
		// the partial index attempts_provider: stated, it lets a generic plan
		// use the index for a list of ids it cannot see.
		in, a := db.inList("provider_id", anyOf(pids))
		where, args = append(where, "("+in+" AND provider_id <> '')"), append(args, a...)
	}
	return readQuery{name: "lock attempts", sql: `SELECT ` + attemptCols + ` FROM attempts WHERE ` + strings.Join(where, " OR ") +
		` ORDER BY id` + db.forUpdate(), args: args,
		row: func(s interface{ Scan(...any) error }) error {
			a, err := scanAttempt(s)
			if err != nil {
				return err
			}
			into.byID[a.ID] = a
			if p := a.ProviderID; into.wanted[p] {
				if prev, ok := into.byPID[p]; !ok || earlier(a, into.byID[prev]) {
					into.byPID[p] = a.ID
				}
			}
			return nil
		}}
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
// deadlock), their callbacks in a second, issued after the locks so that it
// sees every callback kept before them (KeepEarlyCallback takes the same
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
	if err := db.lockAll(ctx, tx, providerLockKeys(providers)...); err != nil {
		return nil, err
	}
	out := map[string][]earlyCallback{}
	if err := db.runIn(ctx, tx, readQuery{name: "early callbacks", sql: `SELECT provider_id, status, error_code FROM early_callbacks
WHERE provider_id IN (` + placeholders(len(providers)) + `) ORDER BY id`, args: args, row: earlyCallbackRow(out)}); err != nil {
		return nil, err
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

// takeEarlyCallbacksQuery is takeEarlyCallbacksOf's read and delete in one
// statement (PostgreSQL), for a pipelined transaction to queue after the
// providers' locks: it deletes every callback kept for providers (sorted,
// distinct) and hands them to out in the order they were kept.
func takeEarlyCallbacksQuery(providers []string, out map[string][]earlyCallback) readQuery {
	args := []any{providers}
	return readQuery{name: "early callbacks", sql: `WITH taken AS (
    DELETE FROM early_callbacks WHERE provider_id = ANY(?::text[])
    RETURNING id, provider_id, status, error_code)
SELECT provider_id, status, error_code FROM taken ORDER BY id`, args: args, row: earlyCallbackRow(out)}
}

// providerLockKeys names the locks of providers (sorted), as
// takeEarlyCallbacks and KeepEarlyCallback take them.
func providerLockKeys(providers []string) []string {
	keys := make([]string, len(providers))
	for i, p := range providers {
		keys[i] = "provider/" + p
	}
	return keys
}

// earlyCallbackRow is a readQuery row function adding each callback read
// (provider id, status, error code) to out.
func earlyCallbackRow(out map[string][]earlyCallback) func(s interface{ Scan(...any) error }) error {
	return func(s interface{ Scan(...any) error }) error {
		var pid, status string
		var cb earlyCallback
		if err := s.Scan(&pid, &status, &cb.errorCode); err != nil {
			return err
		}
		cb.status = nudge.AttemptStatus(status)
		out[pid] = append(out[pid], cb)
		return nil
	}
}

// attemptSetCols are the columns writeAttempts sets, with their
// PostgreSQL types: the status columns first (what a status callback
// changes, statusOnly), then the rest. The attempt's id follows them in
// every form of the UPDATE.
var attemptSetCols = []struct{ name, pgType string }{
	{"status", "text"}, {"reason", "text"}, {"error_code", "text"}, {"updated_at", "timestamptz"},
	{"segments", "int"}, {"call_seconds", "int"},
	{"provider_id", "text"}, {"answered_by", "text"}, {"conversation", "bool"}, {"body", "text"},
	{"template", "text"}, {"menu", "text"}, {"sending_at", "timestamptz"}, {"sent_at", "timestamptz"},
}

// attemptStatusCols is how many of attemptSetCols are status columns.
const attemptStatusCols = 6

// writeAttempts stores the merged attempts through tx (writeAttemptsQuery).
func (db *DB) writeAttempts(ctx context.Context, tx *sql.Tx, as []nudge.Attempt, cur map[string]nudge.Attempt) error {
	if len(as) == 0 {
		return nil
	}
	q, err := db.writeAttemptsQuery(as, cur)
	if err != nil {
		return err
	}
	return db.runIn(ctx, tx, q)
}

// statusOnly reports whether every attempt of as differs from its stored
// version in cur (read and locked in the same transaction) in no column
// but the status columns: status, reason, error code, segments, call
// seconds and updated_at, what a status callback changes.
func statusOnly(as []nudge.Attempt, cur map[string]nudge.Attempt) bool {
	if cur == nil {
		return false
	}
	for _, a := range as {
		c, ok := cur[a.ID]
		if !ok || a.ProviderID != c.ProviderID || a.AnsweredBy != c.AnsweredBy || a.Conversation != c.Conversation ||
			a.Body != c.Body || a.Template != c.Template || !maps.Equal(a.Menu, c.Menu) ||
			!a.SendingAt.Equal(c.SendingAt) || !a.SentAt.Equal(c.SentAt) {
			return false
		}
	}
	return true
}

// writeAttemptsQuery stores the merged attempts: one UPDATE for one
// attempt, one UPDATE joined to column arrays (PostgreSQL) or a VALUES list
// (SQLite) for several. When the attempts were read into cur in the same
// transaction and differ from it only in their status columns (status
// callbacks), it sets those alone: the same rows result, with a seventh of
// the bytes (no bodies) to encode, send and decode.
func (db *DB) writeAttemptsQuery(as []nudge.Attempt, cur map[string]nudge.Attempt) (readQuery, error) {
	u, n := allColsUpdate, len(attemptSetCols)
	var menus []string
	if statusOnly(as, cur) {
		u, n = statusColsUpdate, attemptStatusCols
	} else {
		menus = make([]string, len(as))
		for i, a := range as {
			m, err := encodeMenu(a.Menu)
			if err != nil {
				return readQuery{}, fmt.Errorf("attempt %s: %w", a.ID, err)
			}
			menus[i] = m
		}
	}
	switch {
	case len(as) == 1:
		return readQuery{name: "write attempts", sql: u.one, args: append(db.attemptSetArgs(nil, as[0], menus, 0, n), as[0].ID)}, nil
	case db.backend == Postgres:
		return readQuery{name: "write attempts", sql: u.unnest, args: pgAttemptArrays(as, menus)}, nil
	default:
		args := make([]any, 0, len(as)*(n+1))
		for i, a := range as {
			args = append(db.attemptSetArgs(args, a, menus, i, n), a.ID)
		}
		return readQuery{name: "write attempts", sql: u.values[0] + valuesRows(len(as), n+1) + u.values[1], args: args}, nil
	}
}

// attemptUpdate holds the texts of writeAttemptsQuery's three forms for a
// prefix of attemptSetCols: one attempt, column arrays (PostgreSQL), and a
// VALUES list (SQLite; the rows go between its two parts).
type attemptUpdate struct {
	one, unnest string
	values      [2]string
}

// allColsUpdate and statusColsUpdate are the texts that set every column
// of attemptSetCols and the status columns alone.
var (
	allColsUpdate    = newAttemptUpdate(attemptSetCols)
	statusColsUpdate = newAttemptUpdate(attemptSetCols[:attemptStatusCols])
)

func newAttemptUpdate(cols []struct{ name, pgType string }) attemptUpdate {
	n := len(cols)
	one, set, arrays, names, values := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for j, c := range cols {
		one[j], set[j], values[j] = c.name+" = ?", c.name+" = v."+c.name, fmt.Sprintf("%s = v.column%d", c.name, j+1)
		arrays[j], names[j] = fmt.Sprintf("$%d::%s[]", j+1, c.pgType), c.name
	}
	return attemptUpdate{
		one: `UPDATE attempts SET ` + strings.Join(one, ", ") + ` WHERE id = ?`,
		unnest: `UPDATE attempts AS a SET ` + strings.Join(set, ", ") + `
FROM unnest(` + strings.Join(arrays, ", ") + fmt.Sprintf(", $%d::text[]", n+1) + `)
    AS v (` + strings.Join(names, ", ") + `, id)
WHERE a.id = v.id`,
		values: [2]string{`UPDATE attempts SET ` + strings.Join(values, ", ") + `
FROM (VALUES `, fmt.Sprintf(`) AS v WHERE attempts.id = v.column%d`, n+1)},
	}
}

// attemptSetArgs appends to args the values of a's first n attemptSetCols
// (menus[i] its encoded menu when n covers it).
func (db *DB) attemptSetArgs(args []any, a nudge.Attempt, menus []string, i, n int) []any {
	args = append(args, string(a.Status), string(a.Reason), a.ErrorCode, db.tv(a.UpdatedAt), a.Segments, a.CallSeconds)
	if n == attemptStatusCols {
		return args
	}
	return append(args, a.ProviderID, a.AnsweredBy, a.Conversation, a.Body, a.Template, menus[i], db.tv(a.SendingAt), db.tv(a.SentAt))
}

// pgAttemptArrays are the column arrays of writeAttemptsQuery's PostgreSQL
// form, in attemptSetCols' order and the ids last: every column when menus
// holds the encoded menus, the status columns alone when it is nil.
func pgAttemptArrays(as []nudge.Attempt, menus []string) []any {
	n := len(as)
	status, reason, code, id := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	updated := make([]*time.Time, n)
	segs, secs := make([]int64, n), make([]int64, n)
	for i, a := range as {
		status[i], reason[i], code[i], id[i] = string(a.Status), string(a.Reason), a.ErrorCode, a.ID
		updated[i], segs[i], secs[i] = pgTime(a.UpdatedAt), int64(a.Segments), int64(a.CallSeconds)
	}
	if menus == nil {
		return []any{status, reason, code, updated, segs, secs, id}
	}
	pid, answered, body, tmpl := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	conv := make([]bool, n)
	sending, sent := make([]*time.Time, n), make([]*time.Time, n)
	for i, a := range as {
		pid[i], answered[i], body[i], tmpl[i] = a.ProviderID, a.AnsweredBy, a.Body, a.Template
		conv[i], sending[i], sent[i] = a.Conversation, pgTime(a.SendingAt), pgTime(a.SentAt)
	}
	return []any{status, reason, code, updated, segs, secs, pid, answered, conv, body, tmpl, menus, sending, sent, id}
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
	moved := map[string]bool{}
	if err := db.runIn(ctx, tx, db.moveRemindersQuery(moves, moved)); err != nil {
		return err
	}
	var rest []string
	for _, m := range moves {
		if !moved[m.change.ID] {
			rest = append(rest, m.change.ID)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	exists := map[string]bool{}
	if err := db.runIn(ctx, tx, db.remindersExistQuery(rest, exists)); err != nil {
		return err
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

// moveReminderCols is how many parameters moveRemindersQuery binds per
// reminder on SQLite.
const moveReminderCols = 5

// moveRemindersQuery applies the reminder changes of moves (distinct
// reminders) to those still open, in one statement, and sets in moved the
// ids it moved.
func (db *DB) moveRemindersQuery(moves []reminderMove, moved map[string]bool) readQuery {
	if db.backend == Postgres {
		return moveRemindersUnnest(moves, moved)
	}
	args := make([]any, 0, len(moves)*moveReminderCols+len(openReminderStatuses))
	for _, m := range moves {
		c := m.change
		args = append(args, c.ID, string(c.Status), string(c.Reason), db.tv(c.NextAt), db.tv(c.At))
	}
	args = append(args, openReminderStatuses...)
	values := valuesRows(len(moves), moveReminderCols)
	return readQuery{name: "move reminders", sql: `UPDATE reminders SET status = v.column2, reason = v.column3,
    next_at = COALESCE(v.column4, reminders.next_at), updated_at = v.column5
FROM (VALUES ` + values + `) AS v WHERE reminders.id = v.column1 AND reminders.status IN (` + placeholders(len(openReminderStatuses)) + `)
RETURNING reminders.id`, args: args, row: idRow(moved)}
}

// moveRemindersUnnest is moveRemindersQuery on PostgreSQL, over column
// arrays: one statement text (one prepared statement and plan) for any
// number of reminders.
func moveRemindersUnnest(moves []reminderMove, moved map[string]bool) readQuery {
	n := len(moves)
	id, status, reason := make([]string, n), make([]string, n), make([]string, n)
	next, at := make([]*time.Time, n), make([]*time.Time, n)
	for i, m := range moves {
		c := m.change
		id[i], status[i], reason[i], next[i], at[i] = c.ID, string(c.Status), string(c.Reason), pgTime(c.NextAt), pgTime(c.At)
	}
	return readQuery{name: "move reminders", sql: `UPDATE reminders SET status = v.status, reason = v.reason,
    next_at = COALESCE(v.next_at, reminders.next_at), updated_at = v.at
FROM unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[]) AS v (id, status, reason, next_at, at)
WHERE reminders.id = v.id AND reminders.status = ANY(?::text[])
RETURNING reminders.id`, args: []any{id, status, reason, next, at, stringsOf(openReminderStatuses)}, row: idRow(moved)}
}

// remindersExistQuery sets in exists which of ids are reminders.
func (db *DB) remindersExistQuery(ids []string, exists map[string]bool) readQuery {
	in, args := db.inList("id", anyOf(ids))
	return readQuery{name: "move reminders", sql: `SELECT id FROM reminders WHERE ` + in, args: args, row: idRow(exists)}
}

// anyOf returns ss as a []any.
func anyOf(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// idRow is a readQuery row function setting each id read in set.
func idRow(set map[string]bool) func(s interface{ Scan(...any) error }) error {
	return func(s interface{ Scan(...any) error }) error {
		var id string
		if err := s.Scan(&id); err != nil {
			return err
		}
		set[id] = true
		return nil
	}
}
