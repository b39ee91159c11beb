package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nudgehq/nudge"
)

// This file holds the set-based writes and reads of planning: a tick plans
// its due accounts a batch at a time, with one read of what the batch needs
// and one transaction for what it decided, instead of a few statements and
// commits per account.

// DueLenders returns, sorted, the lenders with an account whose next action
// is at or before at.
func (db *DB) DueLenders(ctx context.Context, at time.Time) ([]string, error) {
	var out []string
	err := db.each(ctx, "due lenders", `SELECT DISTINCT lender FROM accounts
WHERE next_action_at IS NOT NULL AND next_action_at <= ? ORDER BY lender`, []any{db.tv(at)},
		func(scan func(...any) error) error {
			var l string
			if err := scan(&l); err != nil {
				return err
			}
			out = append(out, l)
			return nil
		})
	return out, err
}

// DueAccountsAfter returns up to limit of lender's accounts whose next
// action is at or before at, in next action and id order, starting after
// the account after (only its NextActionAt and ID are used; a zero after
// starts from the lender's first due account), with their contacts and
// holds. Reading a lender's due accounts page by page from the last one read
// visits each once through the next_action_at index, even while earlier
// pages are still being planned.
func (db *DB) DueAccountsAfter(ctx context.Context, lender string, at time.Time, after nudge.Account, limit int) ([]nudge.Account, error) {
	if limit <= 0 {
		return nil, nil
	}
	query, args := `SELECT `+accountCols+` FROM accounts
WHERE next_action_at IS NOT NULL AND next_action_at <= ? AND lender = ?`, []any{db.tv(at), lender}
	if !after.NextActionAt.IsZero() || after.ID != "" {
		// The whole key of the next_action_at index, so that a page starts
		// where the last one ended instead of scanning up to it.
		query += ` AND (next_action_at, lender, id) > (?, ?, ?)`
		args = append(args, db.tv(after.NextActionAt), lender, after.ID)
	}
	accts, err := db.loadAccounts(ctx, db.read, query+` ORDER BY next_action_at, lender, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("due accounts of %s at %s after %s: %w", lender, at.UTC().Format(time.RFC3339), after.ID, err)
	}
	return accts, nil
}

// PromisesOf returns every promise of the accounts (only their Lender and
// ID are used), ordered by lender and account and, within an account,
// oldest first as ListPromises orders them. It reads with one query per
// lender (account_id = ANY on PostgreSQL, IN lists in chunks on SQLite).
func (db *DB) PromisesOf(ctx context.Context, accts []nudge.Account) ([]nudge.Promise, error) {
	var out []nudge.Promise
	const order = ` ORDER BY account_id, created_at, id`
	for _, g := range groupByLender(accts) {
		if db.backend == Postgres {
			ps, err := db.listPromises(ctx, "promises of accounts", `SELECT `+promiseCols+` FROM promises
WHERE lender = $1 AND account_id = ANY($2::text[])`+order, g.lender, g.ids)
			if err != nil {
				return nil, err
			}
			out = append(out, ps...)
			continue
		}
		err := db.eachIDChunk(g.ids, 1, func(ids []any) error {
			ps, err := db.listPromises(ctx, "promises of accounts", `SELECT `+promiseCols+` FROM promises
WHERE lender = ? AND account_id IN (`+placeholders(len(ids))+`)`+order, append([]any{g.lender}, ids...)...)
			out = append(out, ps...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Column counts of the multi-row statements of SavePlan.
const (
	eventColCount      = 10
	nextActionColCount = 3
)

// SavePlan records what planning decided for a batch of accounts, in one
// transaction:
//
//   - it inserts rs under their natural key with one multi-row statement per
//     chunk, ignoring those whose key (or id) exists, with the defaults of
//     InsertReminders;
//   - it appends events with one multi-row statement per chunk: an event
//     whose ReminderID names one of rs is appended only when this call
//     inserted that reminder, so a replica that lost the race for a reminder
//     writes none of its events; an event with no ReminderID is always
//     appended;
//   - it sets the next action of every account of next (only Lender, ID and
//     NextActionAt are used; a zero NextActionAt means never) with one
//     set-based UPDATE per chunk; accounts that no longer exist are skipped.
//
// It returns the reminders it inserted, as stored, in the order of rs.
// Within each statement reminders are written in id order and accounts in
// key order, so that concurrent planners take their locks in one order.
func (db *DB) SavePlan(ctx context.Context, rs []nudge.Reminder, events []nudge.Event, next []nudge.Account) ([]nudge.Reminder, error) {
	if len(rs) == 0 && len(events) == 0 && len(next) == 0 {
		return nil, nil
	}
	prepared := make([]nudge.Reminder, len(rs))
	for i, r := range rs {
		p, err := prepareReminder(r)
		if err != nil {
			return nil, fmt.Errorf("save plan: reminder %d: %w", i, err)
		}
		prepared[i] = p
	}
	for _, e := range events {
		if err := checkEvent(e); err != nil {
			return nil, fmt.Errorf("save plan: %w", err)
		}
	}
	byID := make([]nudge.Reminder, len(prepared))
	copy(byID, prepared)
	sort.Slice(byID, func(i, j int) bool { return byID[i].ID < byID[j].ID })
	next = nextActions(next)

	var inserted map[string]bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if inserted, err = db.insertReminderRows(ctx, tx, byID); err != nil {
			return err
		}
		if err := db.insertEventRows(ctx, tx, events, inserted); err != nil {
			return err
		}
		return db.setNextActions(ctx, tx, next)
	})
	if err != nil {
		return nil, fmt.Errorf("save plan of %d reminders, %d accounts: %w", len(rs), len(next), err)
	}
	var out []nudge.Reminder
	for _, r := range prepared {
		if inserted[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// prepareReminder checks r and fills in the defaults InsertReminders
// documents.
func prepareReminder(r nudge.Reminder) (nudge.Reminder, error) {
	if r.Key.Lender == "" || r.Key.AccountID == "" || r.Key.Cadence == "" || r.Key.Step == "" {
		return r, fmt.Errorf("%s: lender, account, cadence and step are required", r.Key)
	}
	if r.ID == "" {
		r.ID = r.Key.ID()
	}
	if r.Status == "" {
		r.Status = nudge.ReminderPlanned
	}
	if !validReminderStatus(r.Status) {
		return r, fmt.Errorf("%s: unknown status %q", r.ID, r.Status)
	}
	if r.NextAt.IsZero() {
		r.NextAt = r.DueAt
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.DueAt, r.ExpiresAt, r.NextAt = truncUTC(r.DueAt), truncUTC(r.ExpiresAt), truncUTC(r.NextAt)
	r.CreatedAt, r.UpdatedAt = truncUTC(r.CreatedAt), truncUTC(r.UpdatedAt)
	return r, nil
}

// checkEvent checks e as AppendEvent does.
func checkEvent(e nudge.Event) error {
	switch {
	case e.Lender == "":
		return errors.New("event: lender is required")
	case e.Kind == "":
		return fmt.Errorf("event for %s/%s: kind is required", e.Lender, e.AccountID)
	case e.At.IsZero():
		return fmt.Errorf("%s event for %s/%s: at is required", e.Kind, e.Lender, e.AccountID)
	case len(e.Detail) > 0 && !json.Valid(e.Detail):
		return fmt.Errorf("%s event for %s/%s: detail is not valid JSON", e.Kind, e.Lender, e.AccountID)
	}
	return nil
}

// nextActions returns the accounts of next with one entry per account (the
// last one given wins), in lender and id order.
func nextActions(next []nudge.Account) []nudge.Account {
	last := make(map[acctKey]int, len(next))
	for i, a := range next {
		last[acctKey{a.Lender, a.ID}] = i
	}
	out := make([]nudge.Account, 0, len(last))
	for i, a := range next {
		if last[acctKey{a.Lender, a.ID}] == i {
			out = append(out, nudge.Account{Lender: a.Lender, ID: a.ID, NextActionAt: a.NextActionAt})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Lender != out[j].Lender {
			return out[i].Lender < out[j].Lender
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// chunks calls fn with consecutive ranges [start, end) of n rows of cols
// columns, each small enough for one statement.
func chunks(n, cols int, fn func(start, end int) error) error {
	size := maxParams / cols
	for start := 0; start < n; start += size {
		if err := fn(start, min(start+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// insertReminderRows inserts rs with INSERT … ON CONFLICT DO NOTHING
// RETURNING id and returns the ids it inserted. PostgreSQL gets one
// statement over column arrays (unnest), which it parses and binds far faster
// than thousands of parameters; SQLite gets multi-row VALUES statements.
func (db *DB) insertReminderRows(ctx context.Context, tx *sql.Tx, rs []nudge.Reminder) (map[string]bool, error) {
	inserted := make(map[string]bool, len(rs))
	if len(rs) == 0 {
		return inserted, nil
	}
	if db.backend == Postgres {
		n := len(rs)
		var (
			id, lender, account, cadence, step, cycle = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			channel, fallback, template, status       = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			reason, arm                               = make([]string, n), make([]string, n)
			version                                   = make([]int64, n)
			broken                                    = make([]bool, n)
			due, expires, next, created, updated      = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		)
		for i, r := range rs {
			id[i], lender[i], account[i], cadence[i], step[i], cycle[i] = r.ID, r.Key.Lender, r.Key.AccountID, r.Key.Cadence, r.Key.Step, cycleValue(r.Key.Cycle)
			channel[i], fallback[i], template[i], status[i], reason[i] = string(r.Channel), string(r.Fallback), r.Template, string(r.Status), string(r.Reason)
			version[i], broken[i], arm[i] = int64(r.CadenceVersion), r.BrokenPromise, r.Arm
			due[i], expires[i], next[i], created[i], updated[i] = pgTime(r.DueAt), pgTime(r.ExpiresAt), pgTime(r.NextAt), pgTime(r.CreatedAt), pgTime(r.UpdatedAt)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO reminders (`+reminderCols+`)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::int[], $8::text[], $9::text[],
    $10::text[], $11::bool[], $12::timestamptz[], $13::timestamptz[], $14::text[], $15::text[], $16::timestamptz[],
    $17::timestamptz[], $18::timestamptz[], $19::text[])
ON CONFLICT DO NOTHING RETURNING id`, id, lender, account, cadence, step, cycle, version, channel, fallback, template, broken,
			due, expires, status, reason, next, created, updated, arm)
		if err != nil {
			return nil, fmt.Errorf("insert reminders: %w", err)
		}
		return inserted, collectIDs(rows, inserted)
	}
	err := chunks(len(rs), reminderColCount, func(start, end int) error {
		args := make([]any, 0, (end-start)*reminderColCount)
		for _, r := range rs[start:end] {
			args = append(args, r.ID, r.Key.Lender, r.Key.AccountID, r.Key.Cadence, r.Key.Step, cycleValue(r.Key.Cycle),
				r.CadenceVersion, string(r.Channel), string(r.Fallback), r.Template, r.BrokenPromise,
				db.tv(r.DueAt), db.tv(r.ExpiresAt), string(r.Status), string(r.Reason), db.tv(r.NextAt),
				db.tv(r.CreatedAt), db.tv(r.UpdatedAt), r.Arm)
		}
		rows, err := db.query(ctx, tx, `INSERT INTO reminders (`+reminderCols+`) VALUES `+valuesRows(end-start, reminderColCount)+`
ON CONFLICT DO NOTHING RETURNING id`, args...)
		if err != nil {
			return fmt.Errorf("insert reminders: %w", err)
		}
		return collectIDs(rows, inserted)
	})
	return inserted, err
}

// collectIDs adds the ids rows returns to ids and closes rows.
func collectIDs(rows *sql.Rows, ids map[string]bool) error {
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("insert reminders: %w", err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert reminders: %w", err)
	}
	return nil
}

// pgTime is t for a PostgreSQL timestamptz array: nil (NULL) when zero.
func pgTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t
}

// insertEventRows appends the events that belong to an inserted reminder,
// or to none, in the order given.
func (db *DB) insertEventRows(ctx context.Context, tx *sql.Tx, events []nudge.Event, inserted map[string]bool) error {
	keep := make([]nudge.Event, 0, len(events))
	for _, e := range events {
		if e.ReminderID == "" || inserted[e.ReminderID] {
			keep = append(keep, e)
		}
	}
	return db.insertEvents(ctx, tx, keep)
}

// eventDetail is e's detail for storage: NULL when empty.
func eventDetail(e nudge.Event) *string {
	if len(e.Detail) == 0 {
		return nil
	}
	d := string(e.Detail)
	return &d
}

// insertEventsQuery appends events in the order given (PostgreSQL), over
// column arrays: one statement whatever their number.
func insertEventsQuery(keep []nudge.Event) readQuery {
	n := len(keep)
	var (
		lender, account, reminder, attempt = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		kind, action, reason, rule         = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		detail                             = make([]*string, n)
		at                                 = make([]*time.Time, n)
	)
	for i, e := range keep {
		lender[i], account[i], reminder[i], attempt[i] = e.Lender, e.AccountID, e.ReminderID, e.AttemptID
		kind[i], action[i], reason[i], rule[i] = string(e.Kind), e.Action, string(e.Reason), e.Rule
		detail[i], at[i] = eventDetail(e), pgTime(e.At)
	}
	// WITH ORDINALITY keeps the given order in the ids the log assigns.
	return readQuery{name: "append events", sql: `INSERT INTO events (lender, account_id, reminder_id, attempt_id, kind, action, reason, rule, detail, at)
SELECT lender, account_id, reminder_id, attempt_id, kind, action, reason, rule, detail, at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
    WITH ORDINALITY AS e (lender, account_id, reminder_id, attempt_id, kind, action, reason, rule, detail, at, n)
ORDER BY n`, args: []any{lender, account, reminder, attempt, kind, action, reason, rule, detail, at}}
}

// insertEvents appends events through q in the order given: over column
// arrays on PostgreSQL, with multi-row VALUES statements on SQLite.
func (db *DB) insertEvents(ctx context.Context, q querier, keep []nudge.Event) error {
	if len(keep) == 0 {
		return nil
	}
	if db.backend == Postgres {
		// Counted as a round trip, which it is (it was not before the
		// pipelined writes counted their batches).
		ins := insertEventsQuery(keep)
		if _, err := db.exec(ctx, q, ins.sql, ins.args...); err != nil {
			return fmt.Errorf("%s: %w", ins.name, err)
		}
		return nil
	}
	return chunks(len(keep), eventColCount, func(start, end int) error {
		args := make([]any, 0, (end-start)*eventColCount)
		for _, e := range keep[start:end] {
			var detail any
			if d := eventDetail(e); d != nil {
				detail = *d
			}
			args = append(args, e.Lender, e.AccountID, e.ReminderID, e.AttemptID, string(e.Kind), e.Action, string(e.Reason), e.Rule, detail, db.tv(e.At))
		}
		if _, err := db.exec(ctx, q, `INSERT INTO events (lender, account_id, reminder_id, attempt_id, kind, action, reason, rule, detail, at)
VALUES `+valuesRows(end-start, eventColCount), args...); err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		return nil
	})
}

// setNextActions sets next_action_at of every account of next, set-based:
// PostgreSQL joins the accounts to column arrays (UPDATE … FROM unnest),
// SQLite to a VALUES list (UPDATE … FROM (VALUES …), whose columns it names
// column1 to column3), a chunk at a time.
func (db *DB) setNextActions(ctx context.Context, tx *sql.Tx, next []nudge.Account) error {
	if len(next) == 0 {
		return nil
	}
	if db.backend == Postgres {
		lender, id, at := make([]string, len(next)), make([]string, len(next)), make([]*time.Time, len(next))
		for i, a := range next {
			lender[i], id[i], at[i] = a.Lender, a.ID, pgTime(a.NextActionAt)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts AS a SET next_action_at = v.at
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS v (lender, id, at)
WHERE a.lender = v.lender AND a.id = v.id`, lender, id, at); err != nil {
			return fmt.Errorf("set next actions: %w", err)
		}
		return nil
	}
	return chunks(len(next), nextActionColCount, func(start, end int) error {
		args := make([]any, 0, (end-start)*nextActionColCount)
		for _, a := range next[start:end] {
			args = append(args, a.Lender, a.ID, db.tv(a.NextActionAt))
		}
		if _, err := db.exec(ctx, tx, `UPDATE accounts SET next_action_at = v.column3
FROM (VALUES `+valuesRows(end-start, nextActionColCount)+`) AS v
WHERE accounts.lender = v.column1 AND accounts.id = v.column2`, args...); err != nil {
			return fmt.Errorf("set next actions: %w", err)
		}
		return nil
	})
}
