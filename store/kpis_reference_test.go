package store

import (
	"context"
	"strconv"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
)

// kpiSourceCorrelated is the SELECT kpiSource replaced (#19): the same
// rows, computed with correlated look-ups per attempt. It stays here as the
// reference the set-based query is checked against (TestKPISourceEquivalent).
// It is the SELECT computing the kpi_daily rows (day, the group
// columns, then the counters of kpi.CounterNames) of one lender's accepted
// attempts created in [since, until), observed as of asOf. Its arguments
// (kpiSourceArgs) are asOf, lender, since, until, asOf ×4.
func (db *DB) kpiSourceCorrelated(cureDays int) string {
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

// kpiSourceCorrelatedArgs are kpiSourceCorrelated's arguments.
func (db *DB) kpiSourceCorrelatedArgs(lender string, since, until, asOf time.Time) []any {
	t := db.tv(asOf)
	return []any{t, lender, db.tv(since), db.tv(until), t, t, t, t}
}

// KPISourceRows returns the rows kpiSource computes for lender's attempts
// created in [since, until), observed as of asOf, or, when correlated,
// the rows of the reference query kpiSourceCorrelated, both as text so
// they compare whatever the backend's column types.
func (db *DB) KPISourceRows(ctx context.Context, correlated bool, lender string, since, until, asOf time.Time, cureDays int) ([][]string, error) {
	src, args := db.kpiSource(lender, since, until, asOf, cureDays)
	if correlated {
		src, args = db.kpiSourceCorrelated(cureDays), db.kpiSourceCorrelatedArgs(lender, since, until, asOf)
	}
	var out [][]string
	err := db.kpiRead(ctx, func(q querier) error {
		return db.eachOn(ctx, q, "kpi source", src+" ORDER BY 1, 2, 3, 4, 5, 6, 7", args, func(scan func(...any) error) error {
			var r kpiDailyRow
			if err := scan(r.scanArgs()...); err != nil {
				return err
			}
			row := []string{strconv.FormatInt(r.day, 10), r.cadence, strconv.Itoa(r.cadenceVersion), r.step, r.channel, r.language, r.arm}
			for _, f := range r.counts.Fields() {
				row = append(row, strconv.FormatInt(*f, 10))
			}
			out = append(out, row)
			return nil
		})
	})
	return out, err
}
