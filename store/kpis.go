package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
)

// KPIWindow is how long after an attempt a reply, a promise, an opt-out or
// a complaint of the same account is credited to the attempt.
const KPIWindow = FunnelWindow

// DefaultCureDays is how many days after the first attempt of a cycle a
// payment that ends the cycle counts as a cure, unless configured.
const DefaultCureDays = 30

// MaxCureDays bounds the configurable cure days.
const MaxCureDays = 365

// KPISettleDays is how many closed days before the current one a rollup
// recomputes besides the cure days: until then an attempt's counters may
// still change (a reply within KPIWindow, a cycle rolling on day 31 or 61
// of a due date up to a month after its first attempt).
const KPISettleDays = 95

// MaxKPIDays bounds the range of one KPI query.
const MaxKPIDays = 800

// KPIQuery selects one lender's KPI counters over whole UTC days.
type KPIQuery struct {
	Lender string
	// From is the first day, To the last (both included).
	From, To nudge.Date
	// By lists the dimensions rows are grouped by (none: one row).
	By []kpi.Dimension
	// CureDays is the cure window (DefaultCureDays when 0).
	CureDays int
	// Now is the instant of the query: cures and roll rates are observed
	// as of then, and the day it falls on is computed live.
	Now time.Time
	// Live computes every day from the ledger, ignoring the rollups.
	Live bool
}

// KPIRow is the counters of one group: Dims holds the values of
// KPIQuery.By, in its order.
type KPIRow struct {
	Dims   []string
	Counts kpi.Counts
}

func (q *KPIQuery) check() error {
	if q.CureDays == 0 {
		q.CureDays = DefaultCureDays
	}
	switch {
	case q.Lender == "":
		return errors.New("kpis: lender is required")
	case q.From.IsZero() || q.To.IsZero():
		return fmt.Errorf("kpis of %s: from and to are required", q.Lender)
	case q.To.Before(q.From):
		return fmt.Errorf("kpis of %s: to %s is before from %s", q.Lender, q.To, q.From)
	case q.To.DaysSince(q.From) >= MaxKPIDays:
		return fmt.Errorf("kpis of %s: %d days, more than %d", q.Lender, q.To.DaysSince(q.From)+1, MaxKPIDays)
	case q.CureDays < 1 || q.CureDays > MaxCureDays:
		return fmt.Errorf("kpis of %s: cure days %d is not between 1 and %d", q.Lender, q.CureDays, MaxCureDays)
	case q.Now.IsZero():
		return fmt.Errorf("kpis of %s: now is required", q.Lender)
	}
	if _, err := kpi.ParseDimensions(joinDimensions(q.By)); err != nil {
		return fmt.Errorf("kpis of %s: %w", q.Lender, err)
	}
	return nil
}

func joinDimensions(ds []kpi.Dimension) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = string(d)
	}
	return strings.Join(parts, ",")
}

// epochDay is the number of UTC days since 1970-01-01 of d.
func epochDay(d nudge.Date) int64 {
	return int64(d.DaysSince(nudge.MustDate("1970-01-01")))
}

// dayDate is the date of an epoch day number.
func dayDate(n int64) nudge.Date { return nudge.MustDate("1970-01-01").AddDays(int(n)) }

// dayTime is the UTC midnight starting epoch day n.
func dayTime(n int64) time.Time { return time.Unix(n*86400, 0).UTC() }

// kpiGroupCols are the kpi_daily key columns after lender and day.
const kpiGroupCols = "cadence, cadence_version, step, channel, language, arm"

// dayOf is the SQL epoch day of a stored time column.
func (db *DB) dayOf(col string) string {
	if db.backend == Postgres {
		return "CAST(FLOOR(EXTRACT(EPOCH FROM " + col + ") / 86400) AS BIGINT)"
	}
	return "(" + col + " / 86400000000)"
}

// cycleAt is the SQL stored time of midnight UTC k days after the cycle
// (due date) column col.
func (db *DB) cycleAt(col string, k int) string {
	if db.backend == Postgres {
		return "((" + col + " + " + strconv.Itoa(k) + ")::timestamp AT TIME ZONE 'UTC')"
	}
	return "((CAST(julianday(" + col + ") - 2440587.5 AS INTEGER) + " + strconv.Itoa(k) + ") * 86400000000)"
}

// kpiSource is the SELECT computing the kpi_daily rows (day, the group
// columns, then the counters of kpi.CounterNames) of one lender's accepted
// attempts created in [since, until), observed as of asOf. Its arguments
// (kpiSourceArgs) are asOf, lender, since, until, asOf ×4.
func (db *DB) kpiSource(cureDays int) string {
	sent, delivered := sqlList(sentStatuses), sqlList(deliveredStatuses)
	within := func(col string) string {
		return col + " >= a.created_at AND " + col + " < " + db.plus("a.created_at", KPIWindow)
	}
	reply := func(cond string) string {
		return "EXISTS (SELECT 1 FROM replies p WHERE p.lender = a.lender AND p.account_id = a.account_id AND " +
			within("p.created_at") + cond + ")"
	}
	promise := func(cond string) string {
		return "EXISTS (SELECT 1 FROM promises p WHERE p.lender = a.lender AND p.account_id = a.account_id AND " +
			within("p.created_at") + cond + ")"
	}
	flag := func(cond string) string { return "CASE WHEN " + cond + " THEN 1 ELSE 0 END" }
	sms, voice, email := "'"+string(nudge.SMS)+"'", "'"+string(nudge.Voice)+"'", "'"+string(nudge.Email)+"'"
	answered := "a.channel = " + voice + " AND a.status = '" + string(nudge.AttemptCompleted) + "' AND a.answered_by IN ('', 'human')"
	inner := `SELECT ` + db.dayOf("a.created_at") + ` AS day, r.cadence, r.cadence_version, r.step, a.channel,
  CASE WHEN r.arm = '' THEN '` + kpi.NoArm + `' ELSE r.arm END AS arm,
  COALESCE((SELECT acc.borrower_language FROM accounts acc WHERE acc.lender = a.lender AND acc.id = a.account_id), '') AS language,
  a.created_at,
  ` + flag("a.status IN ("+delivered+")") + ` AS delivered,
  ` + flag("a.channel IN ("+sms+", "+voice+")") + ` AS contactable,
  ` + flag("(a.channel = "+sms+" AND a.status = '"+string(nudge.AttemptDelivered)+"') OR ("+answered+")") + ` AS contacted,
  ` + flag("(a.channel = "+voice+" AND a.conversation) OR "+reply(" AND p.intent <> '"+string(nudge.IntentWrongNumber)+"'")) + ` AS right_party,
  ` + flag(reply("")) + ` AS replied,
  ` + flag(promise("")) + ` AS promised,
  ` + flag(promise(" AND p.status = '"+string(nudge.PromiseKept)+"'")) + ` AS promise_kept,
  ` + flag(reply(" AND p.intent = '"+string(nudge.IntentOptOut)+"'")+
		" OR EXISTS (SELECT 1 FROM events p WHERE p.lender = a.lender AND p.account_id = a.account_id AND p.kind = '"+
		string(nudge.EventOptOut)+"' AND p.reason = '"+string(nudge.ReasonOptedOut)+"' AND "+within("p.at")+")") + ` AS opted_out,
  ` + flag(reply(" AND p.intent = '"+string(nudge.IntentComplaint)+"'")) + ` AS complained,
  ` + flag("r.cycle <> '"+zeroCycle+"' AND NOT EXISTS (SELECT 1 FROM reminders rb JOIN attempts b ON b.reminder_id = rb.id "+
		"WHERE rb.lender = a.lender AND rb.account_id = a.account_id AND rb.cycle = r.cycle AND b.status IN ("+sent+") "+
		"AND (b.created_at < a.created_at OR (b.created_at = a.created_at AND b.id < a.id)))") + ` AS first,
  (SELECT MIN(e.at) FROM events e WHERE e.lender = a.lender AND e.account_id = a.account_id AND e.kind = '` + string(nudge.EventPayment) +
		`' AND e.reason = '` + string(nudge.ReasonCycleEnded) + `' AND e.at >= a.created_at AND e.at < ?) AS paid_at,
  ` + db.cycleAt("r.cycle", 1) + ` AS c1, ` + db.cycleAt("r.cycle", 31) + ` AS c31, ` + db.cycleAt("r.cycle", 61) + ` AS c61,
  CASE WHEN a.channel = ` + sms + ` THEN a.segments ELSE 0 END AS segments,
  CASE WHEN a.channel = ` + voice + ` THEN (a.call_seconds + 59) / 60 ELSE 0 END AS call_minutes,
  ` + flag("a.channel = "+email) + ` AS emails
FROM attempts a
JOIN reminders r ON r.id = a.reminder_id
WHERE a.lender = ? AND a.created_at >= ? AND a.created_at < ? AND a.status IN (` + sent + `)`
	unpaidAt := func(col string) string { return "(x.paid_at IS NULL OR x.paid_at >= " + col + ")" }
	// x is materialized: each attempt's correlated look-ups run once,
	// not once for every SUM that reads them (SQLite would otherwise
	// flatten the subquery and repeat them).
	return `WITH x AS MATERIALIZED (` + inner + `)
SELECT x.day, x.cadence, x.cadence_version, x.step, x.channel, x.language, x.arm,
  COUNT(*), SUM(x.delivered), SUM(x.contactable), SUM(x.contacted), SUM(x.right_party), SUM(x.replied), SUM(x.promised),
  SUM(x.promise_kept), SUM(x.opted_out), SUM(x.complained), SUM(x.first),
  SUM(CASE WHEN x.first = 1 AND x.paid_at < ` + db.plus("x.created_at", time.Duration(cureDays)*24*time.Hour) + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN x.first = 1 AND x.c31 <= ? AND ` + unpaidAt("x.c1") + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN x.first = 1 AND x.c31 <= ? AND ` + unpaidAt("x.c31") + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN x.first = 1 AND x.c61 <= ? AND ` + unpaidAt("x.c31") + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN x.first = 1 AND x.c61 <= ? AND ` + unpaidAt("x.c61") + ` THEN 1 ELSE 0 END),
  SUM(x.segments), SUM(x.call_minutes), SUM(x.emails)
FROM x
GROUP BY x.day, x.cadence, x.cadence_version, x.step, x.channel, x.language, x.arm`
}

// kpiRead runs fn, which reads kpiSource, on the read pool: on PostgreSQL
// inside a read-only transaction with noJIT.
func (db *DB) kpiRead(ctx context.Context, fn func(q querier) error) error {
	if db.backend != Postgres {
		return fn(db.read)
	}
	db.roundTrips.Add(2) // begin and commit (or rollback)
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := db.noJIT(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// noJIT turns PostgreSQL's JIT compiler off for the rest of tx. kpiSource's
// estimated cost (millions, from its per-attempt look-ups) passes
// jit_optimize_above_cost, and compiling its expressions took 2.4 s of a
// 3.6 s live day at 1M accounts; the query itself runs in well under that.
// A no-op on SQLite.
func (db *DB) noJIT(ctx context.Context, tx *sql.Tx) error {
	if db.backend != Postgres {
		return nil
	}
	if _, err := db.exec(ctx, tx, `SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("jit off: %w", err)
	}
	return nil
}

// kpiSourceArgs are kpiSource's arguments.
func (db *DB) kpiSourceArgs(lender string, since, until, asOf time.Time) []any {
	t := db.tv(asOf)
	return []any{t, lender, db.tv(since), db.tv(until), t, t, t, t}
}

// kpiDailyRow is one row of kpi_daily: a day, the group values and the counters.
type kpiDailyRow struct {
	day            int64
	cadence        string
	cadenceVersion int
	step, channel  string
	language, arm  string
	counts         kpi.Counts
}

func (r *kpiDailyRow) scanArgs() []any {
	args := []any{&r.day, &r.cadence, &r.cadenceVersion, &r.step, &r.channel, &r.language, &r.arm}
	for _, f := range r.counts.Fields() {
		args = append(args, f)
	}
	return args
}

// dims returns the row's values of the dimensions by.
func (r *kpiDailyRow) dims(by []kpi.Dimension) []string {
	out := make([]string, len(by))
	for i, d := range by {
		switch d {
		case kpi.Day:
			out[i] = dayDate(r.day).String()
		case kpi.CadenceVersion:
			out[i] = r.cadence + "@" + strconv.Itoa(r.cadenceVersion)
		case kpi.Step:
			out[i] = r.step
		case kpi.Channel:
			out[i] = r.channel
		case kpi.Language:
			out[i] = r.language
		case kpi.Arm:
			out[i] = r.arm
		}
	}
	return out
}

// KPIs returns the lender's KPI counters over q's days, grouped by q.By and
// sorted by the dimension values. Days the lender's rollup covers (with the
// same cure days) are read from kpi_daily; later days, the current one
// included, are computed from the ledger.
func (db *DB) KPIs(ctx context.Context, q KPIQuery) ([]KPIRow, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	what := "kpis of " + q.Lender
	from, to := epochDay(q.From), epochDay(q.To)+1
	rolled := from
	if !q.Live {
		var until int64
		var cure int
		err := db.queryRow(ctx, db.read, `SELECT rolled_until, cure_days FROM kpi_rollups WHERE lender = ?`, q.Lender).Scan(&until, &cure)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("%s: rollup watermark: %w", what, err)
		case cure == q.CureDays:
			rolled = max(from, min(until, to, epochDay(nudge.DateOf(q.Now.UTC()))))
		}
	}
	groups := map[string]*KPIRow{}
	var order []string
	// add adds a scanned row of counters to its group.
	add := func(scan func(...any) error) error {
		var r kpiDailyRow
		if err := scan(r.scanArgs()...); err != nil {
			return err
		}
		dims := r.dims(q.By)
		key := strings.Join(dims, "\x00")
		g, ok := groups[key]
		if !ok {
			g = &KPIRow{Dims: dims}
			groups[key] = g
			order = append(order, key)
		}
		g.Counts.Add(r.counts)
		return nil
	}
	if rolled > from {
		err := db.each(ctx, what+": rollups", `SELECT day, `+kpiGroupCols+`, `+strings.Join(kpi.CounterNames, ", ")+`
FROM kpi_daily WHERE lender = ? AND day >= ? AND day < ?`, []any{q.Lender, from, rolled},
			add)
		if err != nil {
			return nil, err
		}
	}
	if rolled < to {
		err := db.kpiRead(ctx, func(r querier) error {
			return db.eachOn(ctx, r, what+": live", db.kpiSource(q.CureDays), db.kpiSourceArgs(q.Lender, dayTime(rolled), dayTime(to), q.Now),
				add)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	out := make([]KPIRow, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	sortKPIRows(out)
	return out, nil
}

func sortKPIRows(rs []KPIRow) {
	less := func(a, b KPIRow) int {
		for i := range a.Dims {
			if c := strings.Compare(a.Dims[i], b.Dims[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	slices.SortFunc(rs, less)
}

// RollupResult says what one RollupKPIs run did.
type RollupResult struct {
	// From and Until are the days recomputed (Until excluded); equal when
	// nothing was.
	From, Until nudge.Date
	// Rows is how many kpi_daily rows the days now have.
	Rows int64
}

// kpiRollupChunkDays is how many days one rollup transaction recomputes.
const kpiRollupChunkDays = 31

// RollupKPIs brings the lender's daily KPI rollups up to the day before
// now's: it recomputes, from the ledger, the days from KPISettleDays (or
// the cure days, when more) before the last rollup's end up to yesterday,
// or every day since the lender's first attempt when there is no rollup
// yet or it was computed with other cure days. Each chunk of days is
// replaced in one transaction under the lender's rollup lock, so running
// it twice, or on two replicas at once, leaves the same rows.
func (db *DB) RollupKPIs(ctx context.Context, lender string, now time.Time, cureDays int) (RollupResult, error) {
	if cureDays == 0 {
		cureDays = DefaultCureDays
	}
	if lender == "" || cureDays < 1 || cureDays > MaxCureDays || now.IsZero() {
		return RollupResult{}, fmt.Errorf("rollup kpis: lender %q, cure days %d, now %s: lender and now are required, cure days between 1 and %d",
			lender, cureDays, now.Format(time.RFC3339), MaxCureDays)
	}
	what := "rollup kpis of " + lender
	today := epochDay(nudge.DateOf(now.UTC()))
	var (
		until int64
		cure  int
		from  int64
	)
	err := db.queryRow(ctx, db.read, `SELECT rolled_until, cure_days FROM kpi_rollups WHERE lender = ?`, lender).Scan(&until, &cure)
	switch {
	case err == nil && cure == cureDays:
		from = min(until, today) - int64(max(KPISettleDays, cureDays))
	case err == nil || errors.Is(err, sql.ErrNoRows):
		var first timeCol
		var t time.Time
		first.t = &t
		if err := db.queryRow(ctx, db.read, `SELECT MIN(created_at) FROM attempts WHERE lender = ?`, lender).Scan(first); err != nil {
			return RollupResult{}, fmt.Errorf("%s: first attempt: %w", what, err)
		}
		from = today
		if !t.IsZero() {
			from = epochDay(nudge.DateOf(t))
		}
	default:
		return RollupResult{}, fmt.Errorf("%s: watermark: %w", what, err)
	}
	res := RollupResult{From: dayDate(from), Until: dayDate(today)}
	cols := "lender, day, " + kpiGroupCols + ", " + strings.Join(kpi.CounterNames, ", ")
	for start, end := from, from; ; start = end {
		end = max(start, min(start+kpiRollupChunkDays, today))
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			if err := db.lock(ctx, tx, "kpi/"+lender); err != nil {
				return err
			}
			if _, err := db.exec(ctx, tx, `DELETE FROM kpi_daily WHERE lender = ? AND day >= ? AND day < ?`, lender, start, end); err != nil {
				return fmt.Errorf("clear days: %w", err)
			}
			if end > start {
				if err := db.noJIT(ctx, tx); err != nil {
					return err
				}
				src := `SELECT CAST(? AS TEXT), s.* FROM (` + db.kpiSource(cureDays) + `) s`
				args := append([]any{lender}, db.kpiSourceArgs(lender, dayTime(start), dayTime(end), now)...)
				r, err := db.exec(ctx, tx, `INSERT INTO kpi_daily (`+cols+`) `+src, args...)
				if err != nil {
					return fmt.Errorf("compute days: %w", err)
				}
				n, err := rowsAffected(r)
				if err != nil {
					return err
				}
				res.Rows += n
			}
			if end < today {
				return nil
			}
			_, err := db.exec(ctx, tx, `INSERT INTO kpi_rollups (lender, rolled_until, cure_days, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (lender) DO UPDATE SET rolled_until = excluded.rolled_until, cure_days = excluded.cure_days, updated_at = excluded.updated_at`,
				lender, today, cureDays, db.tv(now))
			return err
		})
		if err != nil {
			return RollupResult{}, fmt.Errorf("%s: days %s to %s: %w", what, dayDate(start), dayDate(end), err)
		}
		if end >= today {
			break
		}
	}
	return res, nil
}
