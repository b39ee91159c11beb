package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// KPISeed sizes the synthetic ledger SeedKPIHistory writes.
type KPISeed struct {
	Lender string
	// Accounts is how many accounts; each has one cycle every 30 days over
	// the year before End, with two attempts per cycle.
	Accounts int
	// End is the last instant of the history (the benchmark's now).
	End time.Time
}

// kpiSeedCycles is how many cycles each synthetic account has, their due
// dates 30 days apart and spread over the month by account.
const kpiSeedCycles = 12

// SeedKPIHistory writes a year of synthetic history for KPI benchmarks
// with a few set-based statements (generate_series on PostgreSQL, a
// recursive series on SQLite; no row-by-row inserts) in one transaction
// that drops the written tables' indexes for the load and rebuilds them
// after (dropSeedIndexes), holding those tables locked until it commits:
// s.Accounts accounts (a third in Spanish), twelve cycles each
// 30 days apart (spread over the month by account), and per cycle a text three days before the due date and a
// call (or, for a third of the accounts, an email) five days after it,
// with delivered, undelivered, answered and unanswered outcomes, replies,
// promises kept and broken, opt-outs, and payments that end four cycles
// in five. It is for benchmarks and load tests: never run it on a
// lender's real data.
func (db *DB) SeedKPIHistory(ctx context.Context, s KPISeed) error {
	if s.Lender == "" || s.Accounts <= 0 || s.End.IsZero() {
		return fmt.Errorf("seed kpi history: lender, accounts and end are required")
	}
	start := s.End.Add(-365 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
	endSecs := int64(s.End.Sub(start) / time.Second)
	// at is the stored time start + secs seconds; cycleDate the due date
	// start + days days.
	at := func(secs string) string {
		if db.backend == Postgres {
			return "(CAST(? AS timestamptz) + (" + secs + ") * interval '1 second')"
		}
		return "(? + (" + secs + ") * 1000000)"
	}
	cycleDate := func(days string) string {
		if db.backend == Postgres {
			return "(CAST(? AS date) + (" + days + "))"
		}
		return "date(?, '+' || (" + days + ") || ' days')"
	}
	series := db.kpiSeedSeries(s.Accounts) + `,
x0 AS (SELECT n, c, s, 30 * c + 5 + n % 30 AS due_day FROM acc, cyc, st),
x1 AS (SELECT n, c, s, due_day,
  CASE WHEN s = 0 THEN 'sms' WHEN n % 3 = 0 THEN 'email' ELSE 'voice' END AS channel,
  due_day * 86400 + CASE WHEN s = 0 THEN -3 * 86400 ELSE 5 * 86400 END + 36000 + (n % 36000) AS secs
  FROM x0),
x AS (SELECT * FROM x1 WHERE secs < ` + strconv.FormatInt(endSecs, 10) + `)
`
	day := start.Format("2006-01-02")
	base := db.tv(start)
	conv := "1"
	if db.backend == Postgres {
		conv = "TRUE"
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"accounts", db.kpiSeedSeries(s.Accounts) + `
INSERT INTO accounts (lender, id, portfolio, borrower_language, currency, amount_due, status, created_at, updated_at)
SELECT ?, 'A-' || n, 'auto', CASE WHEN n % 3 = 0 THEN 'es' ELSE 'en' END, 'USD', '250.00', 'active', ?, ? FROM acc`,
			[]any{s.Lender, base, base}},
		{"reminders", series + `INSERT INTO reminders (id, lender, account_id, cadence, step, cycle, cadence_version, channel, status, due_at, created_at, updated_at)
SELECT 'r-' || n || '-' || c || '-' || s, ?, 'A-' || n, 'standard', CASE WHEN s = 0 THEN 'predue-sms' ELSE 'late' END,
  ` + cycleDate("due_day") + `, CASE WHEN c < 6 THEN 1 ELSE 2 END, channel, 'sent', ` + at("secs") + `, ` + at("secs") + `, ` + at("secs") + ` FROM x`,
			[]any{s.Lender, day, base, base, base}},
		{"attempts", series + `INSERT INTO attempts (id, reminder_id, lender, account_id, channel, status, answered_by, conversation, segments, call_seconds,
  created_at, sending_at, sent_at, updated_at)
SELECT 'a-' || n || '-' || c || '-' || s, 'r-' || n || '-' || c || '-' || s, ?, 'A-' || n, channel,
  CASE WHEN channel = 'sms' THEN CASE WHEN (n + c) % 10 < 8 THEN 'delivered' ELSE 'undelivered' END
       WHEN channel = 'voice' THEN CASE WHEN (n + c) % 4 < 2 THEN 'completed' ELSE 'no-answer' END
       ELSE 'delivered' END,
  CASE WHEN channel = 'voice' AND (n + c) % 4 < 2 THEN 'human' ELSE '' END,
  CASE WHEN channel = 'voice' AND (n + c) % 4 = 0 THEN ` + conv + ` ELSE NOT ` + conv + ` END,
  CASE WHEN channel = 'sms' THEN 1 + CASE WHEN n % 5 = 0 THEN 1 ELSE 0 END ELSE 0 END,
  CASE WHEN channel = 'voice' AND (n + c) % 4 < 2 THEN 30 + n % 120 ELSE 0 END,
  ` + at("secs") + `, ` + at("secs") + `, ` + at("secs") + `, ` + at("secs") + ` FROM x`,
			[]any{s.Lender, base, base, base, base}},
		{"replies", series + `INSERT INTO replies (id, lender, account_id, channel, body, intent, created_at)
SELECT 'rp-' || n || '-' || c, ?, 'A-' || n, 'sms', 'reply',
  CASE WHEN n % 2 = 0 THEN 'promise' WHEN n % 7 = 1 THEN 'opt_out' WHEN n % 11 = 3 THEN 'complaint' ELSE 'unknown' END,
  ` + at("secs + 7200") + ` FROM x WHERE s = 0 AND (n + c) % 10 = 0`,
			[]any{s.Lender, base}},
		{"promises", series + `INSERT INTO promises (id, lender, account_id, amount, currency, status, created_at)
SELECT 'pr-' || n || '-' || c, ?, 'A-' || n, '250.00', 'USD', CASE WHEN n % 4 = 0 THEN 'kept' ELSE 'broken' END, ` + at("secs + 7200") + `
FROM x WHERE s = 0 AND (n + c) % 10 = 0 AND n % 2 = 0`,
			[]any{s.Lender, base}},
		{"payments", series + `INSERT INTO events (lender, account_id, kind, reason, at)
SELECT ?, 'A-' || n, 'payment', 'cycle_ended', ` + at("(due_day + 2 + n % 50) * 86400") + `
FROM x WHERE s = 0 AND (n + c) % 5 < 4 AND (due_day + 2 + n % 50) * 86400 < ` + strconv.FormatInt(endSecs, 10),
			[]any{s.Lender, base}},
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if db.backend == Postgres {
			if _, err := db.exec(ctx, tx, `SET LOCAL maintenance_work_mem = '512MB'`); err != nil {
				return fmt.Errorf("maintenance_work_mem: %w", err)
			}
		}
		rebuild, err := db.dropSeedIndexes(ctx, tx)
		if err != nil {
			return err
		}
		for _, st := range steps {
			if _, err := db.exec(ctx, tx, st.sql, st.args...); err != nil {
				return fmt.Errorf("%s: %w", st.what, err)
			}
		}
		for _, q := range rebuild {
			if _, err := db.exec(ctx, tx, q); err != nil {
				return fmt.Errorf("rebuild the indexes: %s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed kpi history of %s: %w", s.Lender, err)
	}
	if _, err := db.exec(ctx, db.write, `ANALYZE`); err != nil {
		return fmt.Errorf("seed kpi history of %s: analyze: %w", s.Lender, err)
	}
	return nil
}

// kpiSeedTables are the tables SeedKPIHistory writes.
var kpiSeedTables = []string{"accounts", "reminders", "attempts", "replies", "promises", "events"}

// kpiSeedTableArgs returns kpiSeedTables as query arguments.
func kpiSeedTableArgs() []any {
	args := make([]any, len(kpiSeedTables))
	for i, t := range kpiSeedTables {
		args[i] = t
	}
	return args
}

// kpiSeedSeries opens a WITH clause of three counters: acc(n) from 0 to
// accounts-1, cyc(c) over the cycles and st(s) over the two steps. On
// PostgreSQL they are generate_series (a recursive CTE there spools every
// row through a work table); SQLite counts recursively.
func (db *DB) kpiSeedSeries(accounts int) string {
	last := strconv.Itoa(accounts - 1)
	if db.backend == Postgres {
		return `WITH acc(n) AS (SELECT generate_series(0, ` + last + `)),
cyc(c) AS (SELECT generate_series(0, ` + strconv.Itoa(kpiSeedCycles-1) + `)),
st(s) AS (SELECT generate_series(0, 1))`
	}
	return `WITH RECURSIVE acc(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM acc WHERE n < ` + last + `),
cyc(c) AS (SELECT 0 UNION ALL SELECT c + 1 FROM cyc WHERE c < ` + strconv.Itoa(kpiSeedCycles-1) + `),
st(s) AS (SELECT 0 UNION ALL SELECT 1)`
}

// dropSeedIndexes drops, inside tx, the indexes of kpiSeedTables that a
// bulk load would otherwise maintain row by row, and returns the
// statements that recreate them exactly (names and definitions from the
// catalog), to run after the load: one sort per index instead of millions
// of random insertions. On PostgreSQL that includes the primary keys and
// unique constraints that no foreign key refers to (all but the accounts'
// key), so duplicates are caught when they are rebuilt and the transaction
// rolls back; on SQLite
// only the named indexes (those of PRIMARY KEY and UNIQUE clauses belong to
// their table).
func (db *DB) dropSeedIndexes(ctx context.Context, tx *sql.Tx) ([]string, error) {
	var q string
	var args []any
	if db.backend == Postgres {
		q = `WITH t AS (SELECT to_regclass(name) AS rel FROM unnest(CAST(? AS text[])) AS name)
SELECT 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
  'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
FROM pg_constraint c WHERE c.contype IN ('p', 'u') AND c.conrelid IN (SELECT rel FROM t)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
UNION ALL
SELECT 'DROP INDEX ' || i.indexrelid::regclass, pg_get_indexdef(i.indexrelid)
FROM pg_index i WHERE i.indrelid IN (SELECT rel FROM t)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`
		args = []any{kpiSeedTables}
	} else {
		q = `SELECT 'DROP INDEX "' || name || '"', sql FROM sqlite_master
WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (` + placeholders(len(kpiSeedTables)) + `)`
		args = kpiSeedTableArgs()
	}
	rows, err := db.query(ctx, tx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list the indexes: %w", err)
	}
	defer rows.Close()
	var drops, creates []string
	for rows.Next() {
		var drop, create string
		if err := rows.Scan(&drop, &create); err != nil {
			return nil, fmt.Errorf("list the indexes: %w", err)
		}
		drops, creates = append(drops, drop), append(creates, create)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the indexes: %w", err)
	}
	for _, d := range drops {
		if _, err := db.exec(ctx, tx, d); err != nil {
			return nil, fmt.Errorf("drop the indexes: %s: %w", d, err)
		}
	}
	return creates, nil
}
