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

// epochHour is the number of whole hours since 1970-01-01 UTC at t.
func epochHour(t time.Time) int64 { return t.Unix() / 3600 }

// hourTime is the instant starting epoch hour n.
func hourTime(n int64) time.Time { return time.Unix(n*3600, 0).UTC() }

// ceilDiv is a / b rounded up, for a ≥ 0 and b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

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

// kpiSource returns the SELECT computing the kpi_daily rows (day, the group
// columns, then the counters of kpi.CounterNames) of one lender's accepted
// attempts created in [since, until), observed as of asOf, and its
// arguments.
//
// It is set-based: the range's attempts are read once (t), and each
// look-up — replies, promises and opt-outs within KPIWindow, the first
// attempt of the cycle, the payment that ended it — is a join of those
// attempts with the lender's rows of the period the look-up can reach,
// grouped by attempt. PostgreSQL can then hash the two sides by account
// instead of probing the indexes once per attempt and look-up, as the
// correlated subqueries it replaces did (about 0.1 ms per attempt, one after
// the other: 4 to 5 s for a day of 33,333 attempts at 1M accounts, #19).
func (db *DB) kpiSource(lender string, since, until, asOf time.Time, cureDays int) (string, []any) {
	var args []any
	// arg binds v to the next placeholder: the SQL below is assembled in
	// the order it reads, so the arguments follow it.
	arg := func(v any) string {
		args = append(args, v)
		return "?"
	}
	sent, delivered := sqlList(sentStatuses), sqlList(deliveredStatuses)
	within := func(col string) string {
		return col + " >= t.created_at AND " + col + " < " + db.plus("t.created_at", KPIWindow)
	}
	// reach bounds a look-up's rows to those an attempt of the range can
	// be credited with.
	reach := func(col string) string {
		return col + " >= " + arg(db.tv(since)) + " AND " + col + " < " + arg(db.tv(until.Add(KPIWindow)))
	}
	flag := func(cond string) string { return "CASE WHEN " + cond + " THEN 1 ELSE 0 END" }
	sms, voice, email := "'"+string(nudge.SMS)+"'", "'"+string(nudge.Voice)+"'", "'"+string(nudge.Email)+"'"
	answered := "t.channel = " + voice + " AND t.status = '" + string(nudge.AttemptCompleted) + "' AND t.answered_by IN ('', 'human')"
	cure := db.plus("f.created_at", time.Duration(cureDays)*24*time.Hour)
	// A payment counts for a first attempt from the attempt on, and only
	// its earliest one before the later of the cure's end and day 61 of
	// the cycle matters: each use of paid_at below compares it with the
	// cure's end or with day 1, 31 or 61, so a later payment reads as
	// none. The bound lets the payments be read for a range of time.
	bound := "CASE WHEN " + db.cycleAt("f.cycle", 61) + " > " + cure + " THEN " + db.cycleAt("f.cycle", 61) + " ELSE " + cure + " END"
	q := `WITH t AS MATERIALIZED (
  SELECT a.id, a.account_id, a.created_at, a.channel, a.status, a.answered_by, a.conversation, a.segments, a.call_seconds,
    r.cadence, r.cadence_version, r.step, r.arm, r.cycle
  FROM attempts a JOIN reminders r ON r.id = a.reminder_id
  WHERE a.lender = ` + arg(lender) + ` AND a.created_at >= ` + arg(db.tv(since)) + ` AND a.created_at < ` + arg(db.tv(until)) +
		` AND a.status IN (` + sent + `)),
rep AS (
  SELECT t.id, MAX(` + flag("p.intent <> '"+string(nudge.IntentWrongNumber)+"'") + `) AS right_party,
    MAX(` + flag("p.intent = '"+string(nudge.IntentOptOut)+"'") + `) AS opted_out,
    MAX(` + flag("p.intent = '"+string(nudge.IntentComplaint)+"'") + `) AS complained
  FROM t JOIN replies p ON p.account_id = t.account_id AND ` + within("p.created_at") + `
  WHERE p.lender = ` + arg(lender) + ` AND ` + reach("p.created_at") + `
  GROUP BY t.id),
prom AS (
  SELECT t.id, MAX(` + flag("p.status = '"+string(nudge.PromiseKept)+"'") + `) AS kept
  FROM t JOIN promises p ON p.account_id = t.account_id AND ` + within("p.created_at") + `
  WHERE p.lender = ` + arg(lender) + ` AND ` + reach("p.created_at") + `
  GROUP BY t.id),
opt AS (
  SELECT DISTINCT t.id
  FROM t JOIN events p ON p.account_id = t.account_id AND ` + within("p.at") + `
  WHERE p.lender = ` + arg(lender) + ` AND p.kind = '` + string(nudge.EventOptOut) + `' AND p.reason = '` + string(nudge.ReasonOptedOut) +
		`' AND ` + reach("p.at") + `),
ranked AS (
  SELECT t.id, t.account_id, t.cycle, t.created_at,
    ROW_NUMBER() OVER (PARTITION BY t.account_id, t.cycle ORDER BY t.created_at, t.id) AS n
  FROM t WHERE t.cycle <> '` + zeroCycle + `'),
firsts AS MATERIALIZED (
  SELECT f.id, f.account_id, f.created_at, ` + bound + ` AS bound
  FROM ranked f
  WHERE f.n = 1 AND NOT EXISTS (SELECT 1 FROM reminders rb JOIN attempts b ON b.reminder_id = rb.id
    WHERE rb.lender = ` + arg(lender) + ` AND rb.account_id = f.account_id AND rb.cycle = f.cycle AND b.status IN (` + sent + `)
      AND b.created_at < ` + arg(db.tv(since)) + `)),
pay AS (
  SELECT f.id, MIN(e.at) AS paid_at
  FROM firsts f JOIN events e ON e.account_id = f.account_id AND e.at >= f.created_at AND e.at < f.bound
  WHERE e.lender = ` + arg(lender) + ` AND e.kind = '` + string(nudge.EventPayment) + `' AND e.reason = '` + string(nudge.ReasonCycleEnded) + `'
    AND e.at >= ` + arg(db.tv(since)) + ` AND e.at < ` + arg(db.tv(asOf)) + ` AND e.at < (SELECT MAX(bound) FROM firsts)
  GROUP BY f.id),
x AS MATERIALIZED (
  SELECT ` + db.dayOf("t.created_at") + ` AS day, t.cadence, t.cadence_version, t.step, t.channel,
    CASE WHEN t.arm = '' THEN '` + kpi.NoArm + `' ELSE t.arm END AS arm,
    COALESCE(acc.borrower_language, '') AS language, t.created_at,
    ` + flag("t.status IN ("+delivered+")") + ` AS delivered,
    ` + flag("t.channel IN ("+sms+", "+voice+")") + ` AS contactable,
    ` + flag("(t.channel = "+sms+" AND t.status = '"+string(nudge.AttemptDelivered)+"') OR ("+answered+")") + ` AS contacted,
    ` + flag("(t.channel = "+voice+" AND t.conversation) OR rep.right_party = 1") + ` AS right_party,
    ` + flag("rep.id IS NOT NULL") + ` AS replied,
    ` + flag("prom.id IS NOT NULL") + ` AS promised,
    ` + flag("prom.kept = 1") + ` AS promise_kept,
    ` + flag("rep.opted_out = 1 OR opt.id IS NOT NULL") + ` AS opted_out,
    ` + flag("rep.complained = 1") + ` AS complained,
    ` + flag("f.id IS NOT NULL") + ` AS first,
    pay.paid_at,
    ` + db.cycleAt("t.cycle", 1) + ` AS c1, ` + db.cycleAt("t.cycle", 31) + ` AS c31, ` + db.cycleAt("t.cycle", 61) + ` AS c61,
    CASE WHEN t.channel = ` + sms + ` THEN t.segments ELSE 0 END AS segments,
    CASE WHEN t.channel = ` + voice + ` THEN (t.call_seconds + 59) / 60 ELSE 0 END AS call_minutes,
    ` + flag("t.channel = "+email) + ` AS emails
  FROM t
  LEFT JOIN accounts acc ON acc.lender = ` + arg(lender) + ` AND acc.id = t.account_id
  LEFT JOIN rep ON rep.id = t.id
  LEFT JOIN prom ON prom.id = t.id
  LEFT JOIN opt ON opt.id = t.id
  LEFT JOIN firsts f ON f.id = t.id
  LEFT JOIN pay ON pay.id = t.id)
`
	unpaidAt := func(col string) string { return "(x.paid_at IS NULL OR x.paid_at >= " + col + ")" }
	observed := func(col string) string { return "x.first = 1 AND " + col + " <= " + arg(db.tv(asOf)) }
	q += `SELECT x.day, x.cadence, x.cadence_version, x.step, x.channel, x.language, x.arm,
  COUNT(*), SUM(x.delivered), SUM(x.contactable), SUM(x.contacted), SUM(x.right_party), SUM(x.replied), SUM(x.promised),
  SUM(x.promise_kept), SUM(x.opted_out), SUM(x.complained), SUM(x.first),
  SUM(CASE WHEN x.first = 1 AND x.paid_at < ` + db.plus("x.created_at", time.Duration(cureDays)*24*time.Hour) + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN ` + observed("x.c31") + ` AND ` + unpaidAt("x.c1") + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN ` + observed("x.c31") + ` AND ` + unpaidAt("x.c31") + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN ` + observed("x.c61") + ` AND ` + unpaidAt("x.c31") + ` THEN 1 ELSE 0 END),
  SUM(CASE WHEN ` + observed("x.c61") + ` AND ` + unpaidAt("x.c61") + ` THEN 1 ELSE 0 END),
  SUM(x.segments), SUM(x.call_minutes), SUM(x.emails)
FROM x
GROUP BY x.day, x.cadence, x.cadence_version, x.step, x.channel, x.language, x.arm`
	return q, args
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
// sorted by the dimension values. The attempts the lender's rollup covers
// (with the same cure days) are read from kpi_daily: every closed day and
// the current day's hours up to the last rollup pass. Later attempts — at
// most the hours since that pass — are computed from the ledger.
func (db *DB) KPIs(ctx context.Context, q KPIQuery) ([]KPIRow, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	what := "kpis of " + q.Lender
	from, to := epochDay(q.From)*24, (epochDay(q.To)+1)*24
	rolled := from
	if !q.Live {
		w, err := db.kpiWatermark(ctx, db.read, q.Lender)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if w.ok && w.cure == q.CureDays {
			rolled = max(from, min(w.hour, to, epochHour(q.Now)))
			// kpi_daily's row of the watermark's day covers its hours up
			// to the watermark only: an earlier hour of that day (a query
			// at an instant before the last pass) must read it live.
			if rolled%24 != 0 && rolled != w.hour {
				rolled = rolled / 24 * 24
			}
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
FROM kpi_daily WHERE lender = ? AND day >= ? AND day < ?`, []any{q.Lender, from / 24, ceilDiv(rolled, 24)},
			add)
		if err != nil {
			return nil, err
		}
	}
	if rolled < to {
		err := db.kpiRead(ctx, func(r querier) error {
			src, args := db.kpiSource(q.Lender, hourTime(rolled), hourTime(to), q.Now, q.CureDays)
			return db.eachOn(ctx, r, what+": live", src, args, add)
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

// RollupResult says what one RollupKPIs pass did.
type RollupResult struct {
	// From is the first day recomputed, Until the day of Through (the
	// rollup's end); equal when only the current day was.
	From, Until nudge.Date
	// Through is the rollup's watermark after the pass: the attempts
	// created before it (a whole hour) are rolled up.
	Through time.Time
	// Settled says the pass recomputed the settle window (the first pass
	// of a UTC day, or a first rollup), not only the current day.
	Settled bool
	// Rows is how many kpi_daily rows the recomputed days now have.
	Rows int64
	// Yielded says the pass stopped before Through because another pass
	// (another replica, or one with other cure days) rebuilt the rollups
	// under it: that pass carries them on, and this one's rows are its.
	Yielded bool
}

// kpiRollupChunkDays is how many days one rollup transaction recomputes.
const kpiRollupChunkDays = 31

// kpiMark is a lender's kpi_rollups row.
type kpiMark struct {
	ok bool
	// hour is the watermark (epoch hours): the attempts created before it
	// are rolled up.
	hour int64
	// settled is the day of the last pass that recomputed the settle
	// window.
	settled int64
	cure    int
}

// kpiWatermark reads the lender's rollup watermark on q.
func (db *DB) kpiWatermark(ctx context.Context, q querier, lender string) (kpiMark, error) {
	w := kpiMark{ok: true}
	err := db.queryRow(ctx, q, `SELECT rolled_hour, rolled_until, cure_days FROM kpi_rollups WHERE lender = ?`, lender).
		Scan(&w.hour, &w.settled, &w.cure)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return kpiMark{}, nil
	case err != nil:
		return kpiMark{}, fmt.Errorf("rollup watermark: %w", err)
	}
	return w, nil
}

// errKPIWatermarkMoved stops a rollup pass whose next chunk no longer
// continues the watermark: another pass rebuilt it since (another replica,
// or other cure days), and carries the rollup on from there.
var errKPIWatermarkMoved = errors.New("the watermark moved under the pass")

// RollupKPIs brings the lender's KPI rollups up to now's last whole hour.
// A pass recomputes, from the ledger, the current day's closed hours; the
// first pass of a UTC day also the settle window, the days from
// KPISettleDays (or the cure days, when more) before the previous settle
// pass, whose counters may still change as replies, payments and day-31
// and day-61 marks arrive; and a first rollup, or one after the cure days
// changed, every day since the lender's first attempt. The days are
// replaced in chunks of kpiRollupChunkDays, each in one transaction under
// the lender's rollup lock that also moves the watermark, so a pass that
// stops resumes where it stopped, and running it twice, or on two replicas
// at once, leaves the same rows.
func (db *DB) RollupKPIs(ctx context.Context, lender string, now time.Time, cureDays int) (RollupResult, error) {
	if cureDays == 0 {
		cureDays = DefaultCureDays
	}
	if lender == "" || cureDays < 1 || cureDays > MaxCureDays || now.IsZero() {
		return RollupResult{}, fmt.Errorf("rollup kpis: lender %q, cure days %d, now %s: lender and now are required, cure days between 1 and %d",
			lender, cureDays, now.Format(time.RFC3339), MaxCureDays)
	}
	what := "rollup kpis of " + lender
	nowHour := epochHour(now)
	today := nowHour / 24
	w, err := db.kpiWatermark(ctx, db.read, lender)
	if err != nil {
		return RollupResult{}, fmt.Errorf("%s: %w", what, err)
	}
	// A watermark of hour 0 is a row an older binary created during an
	// upgrade (it writes only rolled_until): rebuild rather than walk from
	// 1970.
	rebuild := !w.ok || w.cure != cureDays || w.hour == 0
	settle := rebuild || w.settled < today
	var from int64 // an hour starting a day
	if rebuild {
		var first timeCol
		var t time.Time
		first.t = &t
		if err := db.queryRow(ctx, db.read, `SELECT MIN(created_at) FROM attempts WHERE lender = ?`, lender).Scan(first); err != nil {
			return RollupResult{}, fmt.Errorf("%s: first attempt: %w", what, err)
		}
		from = today * 24
		if !t.IsZero() {
			from = min(from, epochHour(t)/24*24)
		}
	} else {
		from = min(w.hour, nowHour) / 24 * 24
		if settle {
			from = min(from, (min(w.settled, today)-int64(max(KPISettleDays, cureDays)))*24)
		}
	}
	res := RollupResult{From: dayDate(from / 24), Until: dayDate(today), Through: hourTime(nowHour), Settled: settle}
	cols := "lender, day, " + kpiGroupCols + ", " + strings.Join(kpi.CounterNames, ", ")
	for start := from; ; {
		end := max(start, min(start+kpiRollupChunkDays*24, nowHour))
		first, last := rebuild && start == from, end >= nowHour
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			if err := db.lock(ctx, tx, "kpi/"+lender); err != nil {
				return err
			}
			cur, err := db.kpiWatermark(ctx, tx, lender)
			if err != nil {
				return err
			}
			// Every chunk but a rebuild's first continues the rows before
			// it: the watermark must still cover them, with these cure days.
			if !first && (!cur.ok || cur.cure != cureDays || cur.hour < start) {
				return errKPIWatermarkMoved
			}
			if _, err := db.exec(ctx, tx, `DELETE FROM kpi_daily WHERE lender = ? AND day >= ? AND day < ?`,
				lender, start/24, ceilDiv(end, 24)); err != nil {
				return fmt.Errorf("clear days: %w", err)
			}
			if end > start {
				if err := db.noJIT(ctx, tx); err != nil {
					return err
				}
				src, args := db.kpiSource(lender, hourTime(start), hourTime(end), now, cureDays)
				r, err := db.exec(ctx, tx, `INSERT INTO kpi_daily (`+cols+`) SELECT CAST(? AS TEXT), s.* FROM (`+src+`) s`,
					append([]any{lender}, args...)...)
				if err != nil {
					return fmt.Errorf("compute days: %w", err)
				}
				n, err := rowsAffected(r)
				if err != nil {
					return err
				}
				res.Rows += n
			}
			// A settle chunk inside the rolled-up range leaves the
			// watermark where it was; the last chunk sets it to now's hour.
			hour, settled := end, cur.settled
			if !first && !last && !rebuild && cur.hour > end {
				hour = cur.hour
			}
			if rebuild || (settle && last) {
				settled = today
			}
			_, err = db.exec(ctx, tx, `INSERT INTO kpi_rollups (lender, rolled_hour, rolled_until, cure_days, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (lender) DO UPDATE SET rolled_hour = excluded.rolled_hour, rolled_until = excluded.rolled_until,
  cure_days = excluded.cure_days, updated_at = excluded.updated_at`,
				lender, hour, settled, cureDays, db.tv(now))
			return err
		})
		if errors.Is(err, errKPIWatermarkMoved) {
			res.Yielded = true
			return res, nil
		}
		if err != nil {
			return RollupResult{}, fmt.Errorf("%s: %s to %s: %w", what, hourTime(start).Format(time.RFC3339), hourTime(end).Format(time.RFC3339), err)
		}
		if db.afterKPIChunk != nil {
			db.afterKPIChunk()
		}
		if last {
			break
		}
		start = end
	}
	return res, nil
}
