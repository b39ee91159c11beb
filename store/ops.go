package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// FunnelWindow is how long after an attempt a reply, a promise or a payment
// of the same account is credited to the attempt's reminder in OpsFunnel.
const FunnelWindow = 72 * time.Hour

// MaxOpsPeriods is how many periods one OpsQuery may split its range into.
const MaxOpsPeriods = 400

// OpsQuery selects one lender's records within a time range for the
// operator dashboard: Since <= t < Until.
type OpsQuery struct {
	// Lender is required: the dashboard never mixes lenders.
	Lender string
	Since  time.Time
	Until  time.Time
	// Periods, when set, are the starts of the periods OpsSummary counts
	// attempts in (OpsSummary.Periods): the first is Since, each is after
	// the one before, all are before Until, at most MaxOpsPeriods. The
	// caller chooses them, so a period can be a day in the lender's time
	// zone (23 or 25 hours long on a DST change), an hour or five minutes.
	Periods []time.Time
}

func (q OpsQuery) check(what string) error {
	switch {
	case q.Lender == "":
		return fmt.Errorf("%s: lender is required", what)
	case q.Since.IsZero() || q.Until.IsZero():
		return fmt.Errorf("%s of %s: since and until are required", what, q.Lender)
	case !q.Since.Before(q.Until):
		return fmt.Errorf("%s of %s: since %s is not before until %s", what, q.Lender,
			q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	case len(q.Periods) > MaxOpsPeriods:
		return fmt.Errorf("%s of %s: %d periods, more than %d", what, q.Lender, len(q.Periods), MaxOpsPeriods)
	case len(q.Periods) > 0 && !q.Periods[0].Equal(q.Since):
		return fmt.Errorf("%s of %s: periods[0] %s is not since %s", what, q.Lender,
			q.Periods[0].Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	for i := 1; i < len(q.Periods); i++ {
		if !q.Periods[i].After(q.Periods[i-1]) || !q.Periods[i].Before(q.Until) {
			return fmt.Errorf("%s of %s: periods[%d] %s is not after periods[%d] and before until %s", what, q.Lender,
				i, q.Periods[i].Format(time.RFC3339), i-1, q.Until.Format(time.RFC3339))
		}
	}
	return nil
}

// AttemptCount is how many attempts are on one channel in one status.
type AttemptCount struct {
	Channel nudge.ChannelKind
	Status  nudge.AttemptStatus
	N       int
}

// DecisionCount is how many send-time decisions had one action (suppress
// or defer) for one reason under one rule.
type DecisionCount struct {
	Action string
	Reason nudge.Reason
	Rule   string
	N      int
}

// PeriodCount is how many attempts were created on one channel in one
// period of OpsQuery.Periods (Period is its index).
type PeriodCount struct {
	Period  int
	Channel nudge.ChannelKind
	N       int
}

// OpsSummary is what a lender's records say about a time range.
type OpsSummary struct {
	// Attempts counts attempts created in the range by channel and their
	// current status.
	Attempts []AttemptCount
	// Decisions counts suppress and defer decisions made in the range,
	// deferrals at planning time included (action "defer", rule
	// RulePlanningWindow).
	Decisions []DecisionCount
	// Deferred and Suppressed count the reminders deferred (at planning or
	// send time) and suppressed in the range, each reminder once: the
	// length of the lists PageDecided returns for the range.
	Deferred, Suppressed int
	// Replies counts replies received in the range by intent; NeedsPerson
	// is how many of them still wait for a person (not yet resolved).
	Replies     map[nudge.Intent]int
	NeedsPerson int
	// Promises counts promises made in the range by their current status.
	Promises map[nudge.PromiseStatus]int
	// OptOuts counts opt-outs recorded in the range by source.
	OptOuts map[string]int
	// Periods counts attempts per period of OpsQuery.Periods and channel,
	// oldest first; empty when the query has no periods.
	Periods []PeriodCount
}

// FunnelStep follows the reminders of one cadence step due in a range:
// how many were planned, reached the provider, were delivered, and were
// followed within FunnelWindow of the attempt by a reply, a promise or a
// payment of the account.
type FunnelStep struct {
	Cadence string
	Step    string
	// Channel is the channel the reminders went out on: the step's, or its
	// fallback's (a step with reminders on both has a row for each).
	Channel   nudge.ChannelKind
	Planned   int
	Sent      int
	Delivered int
	Replied   int
	Promised  int
	Paid      int
}

// sentStatuses are the attempt statuses of a message the provider accepted.
var sentStatuses = []nudge.AttemptStatus{
	nudge.AttemptSent, nudge.AttemptDelivered, nudge.AttemptUndelivered, nudge.AttemptRinging,
	nudge.AttemptAnswered, nudge.AttemptCompleted, nudge.AttemptBusy, nudge.AttemptNoAnswer,
}

// deliveredStatuses are the attempt statuses of a message that arrived
// (a delivered text or mail, a call that was answered).
var deliveredStatuses = []nudge.AttemptStatus{nudge.AttemptDelivered, nudge.AttemptCompleted}

// sqlList quotes constant identifiers for an IN list. Only package
// constants reach it, never user input.
func sqlList[S ~string](vs []S) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = "'" + strings.ReplaceAll(string(v), "'", "''") + "'"
	}
	return strings.Join(parts, ", ")
}

// plus returns the SQL expression of a stored time column moved by d.
func (db *DB) plus(col string, d time.Duration) string {
	if db.backend == Postgres {
		return "(" + col + " + interval '" + strconv.FormatInt(d.Microseconds(), 10) + " microseconds')"
	}
	return "(" + col + " + " + strconv.FormatInt(d.Microseconds(), 10) + ")"
}

// OpsSummary counts, with GROUP BY queries, what happened to the lender's
// reminders in the range: attempts by channel and status, suppressions and
// deferrals by reason, replies, promises, opt-outs and attempts per day.
func (db *DB) OpsSummary(ctx context.Context, q OpsQuery) (OpsSummary, error) {
	if err := q.check("ops summary"); err != nil {
		return OpsSummary{}, err
	}
	what := "ops summary of " + q.Lender
	since, until := db.tv(q.Since), db.tv(q.Until)
	out := OpsSummary{Replies: map[nudge.Intent]int{}, Promises: map[nudge.PromiseStatus]int{}, OptOuts: map[string]int{}}

	err := db.eachReport(ctx, what+": attempts", `SELECT channel, status, COUNT(*) FROM attempts
WHERE lender = ? AND created_at >= ? AND created_at < ? GROUP BY channel, status ORDER BY channel, status`,
		[]any{q.Lender, since, until}, func(scan func(...any) error) error {
			var (
				c       AttemptCount
				ch, stt string
			)
			if err := scan(&ch, &stt, &c.N); err != nil {
				return err
			}
			c.Channel, c.Status = nudge.ChannelKind(ch), nudge.AttemptStatus(stt)
			out.Attempts = append(out.Attempts, c)
			return nil
		})
	if err != nil {
		return OpsSummary{}, err
	}
	action := `CASE WHEN kind = '` + string(nudge.EventEnqueued) + `' THEN '` + ActionDefer + `' ELSE action END`
	rule := `CASE WHEN kind = '` + string(nudge.EventEnqueued) + `' THEN '` + RulePlanningWindow + `' ELSE rule END`
	err = db.eachReport(ctx, what+": decisions", `SELECT `+action+`, reason, `+rule+`, COUNT(*) FROM events
WHERE lender = ? AND kind IN (?, ?) AND at >= ? AND at < ? AND (`+decidedWhere(ActionDefer)+` OR `+decidedWhere(ActionSuppress)+`)
GROUP BY `+action+`, reason, `+rule+` ORDER BY 1, 4 DESC, 2, 3`,
		[]any{q.Lender, string(nudge.EventDecision), string(nudge.EventEnqueued), since, until}, func(scan func(...any) error) error {
			var (
				d      DecisionCount
				reason string
			)
			if err := scan(&d.Action, &reason, &d.Rule, &d.N); err != nil {
				return err
			}
			d.Reason = nudge.Reason(reason)
			out.Decisions = append(out.Decisions, d)
			return nil
		})
	if err != nil {
		return OpsSummary{}, err
	}
	err = db.eachReport(ctx, what+": replies", `SELECT intent, COUNT(*), SUM(CASE WHEN `+openReply+` THEN 1 ELSE 0 END) FROM replies
WHERE lender = ? AND created_at >= ? AND created_at < ? GROUP BY intent`,
		[]any{q.Lender, since, until}, func(scan func(...any) error) error {
			var (
				intent  string
				n, open int
			)
			if err := scan(&intent, &n, &open); err != nil {
				return err
			}
			out.Replies[nudge.Intent(intent)] += n
			out.NeedsPerson += open
			return nil
		})
	if err != nil {
		return OpsSummary{}, err
	}
	for _, c := range []struct {
		action string
		n      *int
	}{{ActionDefer, &out.Deferred}, {ActionSuppress, &out.Suppressed}} {
		err = db.queryRow(ctx, db.replicaOrRead(), `SELECT COUNT(DISTINCT reminder_id) FROM events
WHERE lender = ? AND kind IN (?, ?) AND at >= ? AND at < ? AND reminder_id <> '' AND `+decidedWhere(c.action),
			q.Lender, string(nudge.EventDecision), string(nudge.EventEnqueued), since, until).Scan(c.n)
		if err != nil {
			return OpsSummary{}, fmt.Errorf("%s: %s reminders: %w", what, c.action, err)
		}
	}
	err = db.eachReport(ctx, what+": promises", `SELECT status, COUNT(*) FROM promises
WHERE lender = ? AND created_at >= ? AND created_at < ? GROUP BY status`,
		[]any{q.Lender, since, until}, func(scan func(...any) error) error {
			var (
				status string
				n      int
			)
			if err := scan(&status, &n); err != nil {
				return err
			}
			out.Promises[nudge.PromiseStatus(status)] = n
			return nil
		})
	if err != nil {
		return OpsSummary{}, err
	}
	err = db.eachReport(ctx, what+": opt-outs", `SELECT source, COUNT(*) FROM opt_outs
WHERE lender = ? AND created_at >= ? AND created_at < ? GROUP BY source`,
		[]any{q.Lender, since, until}, func(scan func(...any) error) error {
			var (
				source string
				n      int
			)
			if err := scan(&source, &n); err != nil {
				return err
			}
			out.OptOuts[source] = n
			return nil
		})
	if err != nil {
		return OpsSummary{}, err
	}
	if out.Periods, err = db.opsPeriods(ctx, what, q); err != nil {
		return OpsSummary{}, err
	}
	return out, nil
}

// opsPeriods counts the range's attempts per period of q.Periods and
// channel: a CASE over the periods' starts numbers each attempt's period.
func (db *DB) opsPeriods(ctx context.Context, what string, q OpsQuery) ([]PeriodCount, error) {
	if len(q.Periods) == 0 {
		return nil, nil
	}
	period := "0"
	var args []any
	if len(q.Periods) > 1 {
		var b strings.Builder
		b.WriteString("CASE")
		for i, start := range q.Periods[1:] {
			b.WriteString(" WHEN created_at < ? THEN " + strconv.Itoa(i))
			args = append(args, db.tv(start))
		}
		b.WriteString(" ELSE " + strconv.Itoa(len(q.Periods)-1) + " END")
		period = b.String()
	}
	args = append(args, q.Lender, db.tv(q.Since), db.tv(q.Until))
	var out []PeriodCount
	err := db.eachReport(ctx, what+": attempts per period", `SELECT `+period+` AS period, channel, COUNT(*) FROM attempts
WHERE lender = ? AND created_at >= ? AND created_at < ? GROUP BY 1, 2 ORDER BY 1, 2`,
		args, func(scan func(...any) error) error {
			var (
				c  PeriodCount
				ch string
			)
			if err := scan(&c.Period, &ch, &c.N); err != nil {
				return err
			}
			c.Channel = nudge.ChannelKind(ch)
			out = append(out, c)
			return nil
		})
	return out, err
}

// OpsFunnel follows the lender's reminders due in the range, per cadence
// and step: planned → sent → delivered → replied → promised → paid. A
// reply, promise or payment counts for a reminder when it is the account's
// and comes within FunnelWindow after one of the reminder's sent attempts.
func (db *DB) OpsFunnel(ctx context.Context, q OpsQuery) ([]FunnelStep, error) {
	if err := q.check("ops funnel"); err != nil {
		return nil, err
	}
	sent, delivered := sqlList(sentStatuses), sqlList(deliveredStatuses)
	// within is the condition that col is in the window after attempt a.
	within := func(col string) string {
		return col + " >= a.created_at AND " + col + " < " + db.plus("a.created_at", FunnelWindow)
	}
	followed := func(from, cond string) string {
		return `SUM(CASE WHEN EXISTS (SELECT 1 FROM attempts a JOIN ` + from + ` WHERE a.reminder_id = r.id AND a.status IN (` + sent + `) AND ` +
			cond + `) THEN 1 ELSE 0 END)`
	}
	query := `SELECT r.cadence, r.step, r.channel, COUNT(*),
  SUM(CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.reminder_id = r.id AND a.status IN (` + sent + `)) THEN 1 ELSE 0 END),
  SUM(CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.reminder_id = r.id AND a.status IN (` + delivered + `)) THEN 1 ELSE 0 END),
  ` + followed("replies p ON p.lender = a.lender AND p.account_id = a.account_id", within("p.created_at")) + `,
  ` + followed("promises p ON p.lender = a.lender AND p.account_id = a.account_id", within("p.created_at")) + `,
  ` + followed("events p ON p.lender = a.lender AND p.account_id = a.account_id", "p.kind = '"+string(nudge.EventPayment)+"' AND "+within("p.at")) + `
FROM reminders r
WHERE r.lender = ? AND r.due_at >= ? AND r.due_at < ?
GROUP BY r.cadence, r.step, r.channel
ORDER BY r.cadence, MIN(r.due_at), r.step, r.channel`
	var out []FunnelStep
	err := db.eachReport(ctx, "ops funnel of "+q.Lender, query, []any{q.Lender, db.tv(q.Since), db.tv(q.Until)},
		func(scan func(...any) error) error {
			var (
				f  FunnelStep
				ch string
			)
			if err := scan(&f.Cadence, &f.Step, &ch, &f.Planned, &f.Sent, &f.Delivered, &f.Replied, &f.Promised, &f.Paid); err != nil {
				return err
			}
			f.Channel = nudge.ChannelKind(ch)
			out = append(out, f)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NeedsPersonReplies returns up to limit of the lender's replies that need
// a person and are not resolved yet, newest first.
func (db *DB) NeedsPersonReplies(ctx context.Context, lender string, limit int) ([]nudge.Reply, error) {
	if err := checkPage("replies needing a person", lender, limit); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.read, `SELECT `+replyCols+` FROM replies WHERE lender = ? AND `+openReply+`
ORDER BY created_at DESC, id DESC LIMIT ?`, lender, limit)
	if err != nil {
		return nil, fmt.Errorf("replies needing a person of %s: %w", lender, err)
	}
	defer rows.Close()
	var out []nudge.Reply
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, fmt.Errorf("replies needing a person of %s: %w", lender, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replies needing a person of %s: %w", lender, err)
	}
	return out, nil
}

// each runs a read query and calls fn for every row with the row's Scan.
func (db *DB) each(ctx context.Context, what, query string, args []any, fn func(scan func(...any) error) error) error {
	return db.eachOn(ctx, db.read, what, query, args, fn)
}

// eachReport is each for read-only dashboards and lists: it reads through
// the replica when the store has one (see WithReplica).
func (db *DB) eachReport(ctx context.Context, what, query string, args []any, fn func(scan func(...any) error) error) error {
	return db.eachOn(ctx, db.replicaOrRead(), what, query, args, fn)
}
