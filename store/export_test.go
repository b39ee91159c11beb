package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// ExplainDueAccounts returns the query plan of DueAccounts, one line per step.
func (db *DB) ExplainDueAccounts(ctx context.Context, at time.Time, limit int) (string, error) {
	plan, err := db.explain(ctx, dueAccountsQuery, db.tv(at), limit)
	if err != nil {
		return "", fmt.Errorf("explain due accounts: %w", err)
	}
	return plan, nil
}

// ExplainAccountSnapshot returns the query plans of the account snapshot's
// reads whose tables grow with the lender's traffic, by name: "history"
// (the account's attempts), "promise" and "opt-outs" (of refs).
func (db *DB) ExplainAccountSnapshot(ctx context.Context, lender, id string, since time.Time, refs []nudge.ContactRef) (map[string]string, error) {
	var hits []optOutRow
	optOuts := db.optOutsQuery(lender, refs, db.hashRefs(refs), &hits)
	reads := map[string]readQuery{
		"history":  {sql: accountHistoryQuery, args: []any{lender, id, db.tv(since)}},
		"promise":  {sql: activePromiseQuery, args: []any{lender, id, string(nudge.PromisePending), string(nudge.PromiseBroken)}},
		"opt-outs": optOuts,
	}
	plans := map[string]string{}
	for name, q := range reads {
		plan, err := db.explain(ctx, q.sql, q.args...)
		if err != nil {
			return nil, fmt.Errorf("explain %s: %w", name, err)
		}
		plans[name] = plan
	}
	return plans, nil
}

// explain returns the plan of query, one line per step.
func (db *DB) explain(ctx context.Context, query string, args ...any) (string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if db.backend == Postgres {
		prefix = "EXPLAIN "
	}
	rows, err := db.query(ctx, db.read, prefix+query, args...)
	if err != nil {
		return "", err
	}
	return planLines(rows)
}

// ExplainOn returns PostgreSQL's plan of stmt (a statement EXPLAIN takes,
// such as EXECUTE of a prepared one) run through q, a connection or
// transaction whose settings the plan is to see, one line per step.
func ExplainOn(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, stmt string) (string, error) {
	rows, err := q.QueryContext(ctx, "EXPLAIN "+stmt)
	if err != nil {
		return "", err
	}
	return planLines(rows)
}

// planLines reads and closes the rows of an EXPLAIN: one line per step.
func planLines(rows *sql.Rows) (string, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		// The last column is the step's description on both backends.
		fmt.Fprintf(&b, "%v\n", vals[len(vals)-1])
	}
	return b.String(), rows.Err()
}

// Analyze refreshes the planner's statistics.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, "ANALYZE")
	return err
}

// ReadInts runs each caller's queries (each returning one integer column)
// as read batches at the same moment, and returns each caller's integers and
// error.
func (db *DB) ReadInts(ctx context.Context, callers [][]string) ([][]int, []error) {
	withArgs := make([][]IntQuery, len(callers))
	for i, qs := range callers {
		for _, q := range qs {
			withArgs[i] = append(withArgs[i], IntQuery{SQL: q})
		}
	}
	return db.ReadIntsWith(ctx, withArgs)
}

// IntQuery is a query returning one integer column, with its arguments.
type IntQuery struct {
	SQL  string
	Args []any
}

// ReadIntsWith is ReadInts for queries with arguments.
func (db *DB) ReadIntsWith(ctx context.Context, callers [][]IntQuery) ([][]int, []error) {
	got := make([][]int, len(callers))
	queries := make([][]readQuery, len(callers))
	for i, qs := range callers {
		for _, q := range qs {
			queries[i] = append(queries[i], readQuery{sql: q.SQL, args: q.Args, row: func(s interface{ Scan(...any) error }) error {
				var n int
				err := s.Scan(&n)
				got[i] = append(got[i], n)
				return err
			}})
		}
	}
	if db.backend == Postgres {
		return got, db.sendReads(ctx, queries)
	}
	errs := make([]error, len(callers))
	for i, qs := range queries {
		errs[i] = db.readBatch(ctx, qs...)
	}
	return got, errs
}

// SharedReads returns how many queries of read batches were answered by a
// statement shared with other callers' queries.
func (db *DB) SharedReads() int64 { return db.sharedReads.Load() }

// RawQueryRow runs a query of the test's own on the read pool.
func (db *DB) RawQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, query, args...)
}

// RawExec runs a statement of the test's own on the write pool.
func (db *DB) RawExec(ctx context.Context, query string, args ...any) error {
	_, err := db.write.ExecContext(ctx, query, args...)
	return err
}

// DecidedWhere is decidedWhere: the condition on events of the console's
// decision reads.
func DecidedWhere(action string) string { return decidedWhere(action) }

// AnalyzeChanged runs one round of AutoAnalyze.
var AnalyzeChanged = analyzeChanged

// ReminderStatusReads returns the reads that the partial indexes of
// migration 0024 serve, by name, in the backend's placeholders: the
// catch-up's pending reminders (arguments: the time, the limit), the
// reconciler's unknown reminders (the limit) and a lender's first page of
// dead letters (the lender, the cursor's epoch, the limit).
func (db *DB) ReminderStatusReads() map[string]string {
	deadLetters, _ := db.deadLettersQuery(DeadLetterQuery{Lender: "acme", Limit: 50})
	return map[string]string{
		"pending":      db.rebind(pendingRemindersQuery),
		"unknown":      db.rebind(remindersInStatusQuery(nudge.ReminderUnknown)),
		"dead letters": db.rebind(deadLetters),
	}
}
