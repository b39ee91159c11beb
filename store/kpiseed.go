package store

import (
	"context"
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
// with a few set-based statements (a recursive series, no row-by-row
// inserts): s.Accounts accounts (a third in Spanish), twelve cycles each
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
	series := `WITH RECURSIVE acc(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM acc WHERE n < ` + strconv.Itoa(s.Accounts-1) + `),
cyc(c) AS (SELECT 0 UNION ALL SELECT c + 1 FROM cyc WHERE c < ` + strconv.Itoa(kpiSeedCycles-1) + `),
st(s) AS (SELECT 0 UNION ALL SELECT 1),
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
		{"accounts", `WITH RECURSIVE acc(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM acc WHERE n < ` + strconv.Itoa(s.Accounts-1) + `)
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
	for _, st := range steps {
		if _, err := db.exec(ctx, db.write, st.sql, st.args...); err != nil {
			return fmt.Errorf("seed kpi history of %s: %s: %w", s.Lender, st.what, err)
		}
	}
	if _, err := db.exec(ctx, db.write, `ANALYZE`); err != nil {
		return fmt.Errorf("seed kpi history of %s: analyze: %w", s.Lender, err)
	}
	return nil
}
