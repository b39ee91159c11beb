package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// Decision actions the operator lists and counts name.
const (
	ActionDefer    = "defer"
	ActionSuppress = "suppress"
	// RulePlanningWindow is the rule of a deferral made at planning time:
	// the planner held the reminder back until the allowed window opens
	// (an "enqueued" event with a deferral reason).
	RulePlanningWindow = "planning: allowed window"
)

// planningDeferReasons are the reasons an "enqueued" event carries when the
// planner held a reminder back: a deferral made at planning time. Other
// enqueued events (a retry by a person) carry other reasons.
var planningDeferReasons = []nudge.Reason{nudge.ReasonQuietHours, nudge.ReasonBlackout}

// IsPlanningDeferral reports whether e records a reminder the planner held
// back until the allowed window opens: a deferral made at planning time.
func IsPlanningDeferral(e nudge.Event) bool {
	return e.Kind == nudge.EventEnqueued && slices.Contains(planningDeferReasons, e.Reason)
}

// decidedWhere is the condition on events that makes one a deferral (at
// send or planning time) or a suppression.
func decidedWhere(action string) string {
	decision := `(kind = '` + string(nudge.EventDecision) + `' AND action = '` + action + `')`
	if action != ActionDefer {
		return decision
	}
	return `(` + decision + ` OR (kind = '` + string(nudge.EventEnqueued) + `' AND reason IN (` + sqlList(planningDeferReasons) + `)))`
}

// openReply is the condition on replies that keeps one in the queue of
// replies needing a person. The partial index replies_open has it too.
const openReply = `needs_person AND resolved_at IS NULL`

// MaxOpsOffset bounds how deep offset paging goes.
const MaxOpsOffset = 100_000

func checkOpsPage(what, lender string, since, until time.Time, offset, limit int) error {
	if err := checkPage(what, lender, limit); err != nil {
		return err
	}
	switch {
	case offset < 0 || offset > MaxOpsOffset:
		return fmt.Errorf("%s of %s: offset %d is not between 0 and %d", what, lender, offset, MaxOpsOffset)
	case since.IsZero() || until.IsZero():
		return fmt.Errorf("%s of %s: since and until are required", what, lender)
	case !since.Before(until):
		return fmt.Errorf("%s of %s: since %s is not before until %s", what, lender, since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	return nil
}

// DecidedQuery selects one page of the lender's reminders deferred (at
// planning or send time) or suppressed within Since <= t < Until, in order
// of due time and id.
type DecidedQuery struct {
	Lender string
	// Action is ActionDefer or ActionSuppress.
	Action       string
	Since, Until time.Time
	// Channel and Reason narrow the page when set; Reason is the reason of
	// the deferral or suppression.
	Channel nudge.ChannelKind
	Reason  nudge.Reason
	// Offset skips that many reminders; Limit is from 1 to MaxPageSize.
	Offset, Limit int
}

// DecidedReminder is a reminder with the last deferral or suppression made
// about it in the range.
type DecidedReminder struct {
	Reminder nudge.Reminder
	// At is when the decision was made; Reason and Rule say why.
	At     time.Time
	Reason nudge.Reason
	Rule   string
	// Until is when a deferral lets the reminder run again.
	Until time.Time
	// Explanation is the decision's explanation in words, when it has one.
	Explanation string
}

// PageDecided returns one page of the lender's reminders deferred or
// suppressed in the range, each with its last such decision. Without
// Channel and Reason the reminders are those OpsSummary counts as Deferred
// or Suppressed.
func (db *DB) PageDecided(ctx context.Context, q DecidedQuery) ([]DecidedReminder, error) {
	what := "page " + q.Action + " reminders"
	if err := checkOpsPage(what, q.Lender, q.Since, q.Until, q.Offset, q.Limit); err != nil {
		return nil, err
	}
	if q.Action != ActionDefer && q.Action != ActionSuppress {
		return nil, fmt.Errorf("page decided reminders of %s: action %q is not %s or %s", q.Lender, q.Action, ActionDefer, ActionSuppress)
	}
	cond := `lender = ? AND kind IN (?, ?) AND at >= ? AND at < ? AND ` + decidedWhere(q.Action)
	condArgs := []any{q.Lender, string(nudge.EventDecision), string(nudge.EventEnqueued), db.tv(q.Since), db.tv(q.Until)}
	if q.Reason != "" {
		cond += ` AND reason = ?`
		condArgs = append(condArgs, string(q.Reason))
	}
	query := `SELECT ` + reminderCols + ` FROM reminders WHERE lender = ? AND id IN (SELECT reminder_id FROM events WHERE ` + cond + `)`
	args := append([]any{q.Lender}, condArgs...)
	if q.Channel != "" {
		query += ` AND channel = ?`
		args = append(args, string(q.Channel))
	}
	query += ` ORDER BY due_at, id LIMIT ? OFFSET ?`
	args = append(args, q.Limit, q.Offset)
	rs, err := db.listRemindersOn(ctx, db.replicaOrRead(), what+" of "+q.Lender, query, args...)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	out := make([]DecidedReminder, len(rs))
	index := make(map[string]int, len(rs))
	accounts := map[string]bool{}
	var accountArgs, idArgs []any
	for i, r := range rs {
		out[i].Reminder = r
		index[r.ID] = i
		idArgs = append(idArgs, r.ID)
		if !accounts[r.Key.AccountID] {
			accounts[r.Key.AccountID] = true
			accountArgs = append(accountArgs, r.Key.AccountID)
		}
	}
	// The decisions of the page's reminders, through the events' account
	// index; the last one of each reminder wins.
	evArgs := append([]any{q.Lender}, accountArgs...)
	evArgs = append(evArgs, idArgs...)
	evArgs = append(evArgs, condArgs[1:]...)
	err = db.eachReport(ctx, what+" of "+q.Lender+": decisions", `SELECT reminder_id, kind, reason, rule, detail, at FROM events
WHERE lender = ? AND account_id IN (`+placeholders(len(accountArgs))+`) AND reminder_id IN (`+placeholders(len(idArgs))+`)
AND `+strings.TrimPrefix(cond, "lender = ? AND ")+` ORDER BY id`, evArgs, func(scan func(...any) error) error {
		var (
			id, kind, reason, rule string
			detail                 *string
			at                     time.Time
		)
		if err := scan(&id, &kind, &reason, &rule, &detail, timeCol{&at}); err != nil {
			return err
		}
		d := &out[index[id]]
		d.At, d.Reason, d.Rule, d.Until, d.Explanation = at, nudge.Reason(reason), rule, time.Time{}, ""
		var dd struct {
			Explanation string    `json:"explanation"`
			Until       time.Time `json:"until"`
			ProcessAt   time.Time `json:"process_at"`
		}
		if detail != nil {
			_ = json.Unmarshal([]byte(*detail), &dd) // a detail of another shape says nothing more
		}
		d.Explanation, d.Until = dd.Explanation, dd.Until
		if kind == string(nudge.EventEnqueued) {
			d.Rule, d.Until = RulePlanningWindow, dd.ProcessAt
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OptOutQuery selects one page of the lender's opt-outs recorded within
// Since <= t < Until, newest first.
type OptOutQuery struct {
	Lender       string
	Since, Until time.Time
	// Channel and Source narrow the page when set.
	Channel       nudge.ChannelKind
	Source        string
	Offset, Limit int
}

// OptOutRow is an opt-out with the lender's accounts that have its address
// as a contact on its channel (none once the borrower is erased).
type OptOutRow struct {
	nudge.OptOut
	AccountIDs []string
}

// PageOptOuts returns one page of the lender's opt-outs in the range, each
// with the accounts it stops. Without Channel and Source they are those
// OpsSummary counts.
func (db *DB) PageOptOuts(ctx context.Context, q OptOutQuery) ([]OptOutRow, error) {
	const what = "page opt-outs"
	if err := checkOpsPage(what, q.Lender, q.Since, q.Until, q.Offset, q.Limit); err != nil {
		return nil, err
	}
	query := `SELECT channel, address, address_hash, source, reason, created_at FROM opt_outs
WHERE lender = ? AND created_at >= ? AND created_at < ?`
	args := []any{q.Lender, db.tv(q.Since), db.tv(q.Until)}
	if q.Channel != "" {
		query += ` AND channel = ?`
		args = append(args, string(q.Channel))
	}
	if q.Source != "" {
		query += ` AND source = ?`
		args = append(args, q.Source)
	}
	query += ` ORDER BY created_at DESC, channel, address_hash LIMIT ? OFFSET ?`
	args = append(args, q.Limit, q.Offset)
	var out []OptOutRow
	err := db.eachReport(ctx, what+" of "+q.Lender, query, args, func(scan func(...any) error) error {
		r := OptOutRow{OptOut: nudge.OptOut{Lender: q.Lender}}
		var channel string
		if err := scan(&channel, &r.Address, &r.AddressHash, &r.Source, &r.Reason, timeCol{&r.CreatedAt}); err != nil {
			return err
		}
		r.Channel = nudge.ChannelKind(channel)
		out = append(out, r)
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	byAddress := map[string][]int{}
	var addrArgs []any
	for i, r := range out {
		if r.Address == "" {
			continue
		}
		if _, ok := byAddress[r.Address]; !ok {
			addrArgs = append(addrArgs, r.Address)
		}
		byAddress[r.Address] = append(byAddress[r.Address], i)
	}
	if len(addrArgs) == 0 {
		return out, nil
	}
	err = db.eachReport(ctx, what+" of "+q.Lender+": accounts", `SELECT channel, address, account_id FROM contacts
WHERE lender = ? AND address IN (`+placeholders(len(addrArgs))+`) ORDER BY account_id`, append([]any{q.Lender}, addrArgs...),
		func(scan func(...any) error) error {
			var channel, address, id string
			if err := scan(&channel, &address, &id); err != nil {
				return err
			}
			for _, i := range byAddress[address] {
				if string(out[i].Channel) == channel {
					out[i].AccountIDs = append(out[i].AccountIDs, id)
				}
			}
			return nil
		})
	return out, err
}

// ReplyQuery selects one page of the lender's replies received within
// Since <= t < Until, newest first.
type ReplyQuery struct {
	Lender       string
	Since, Until time.Time
	// Open keeps only the replies waiting for a person (needing one, not
	// resolved): the work queue.
	Open bool
	// Intent and Channel narrow the page when set.
	Intent        nudge.Intent
	Channel       nudge.ChannelKind
	Offset, Limit int
}

// ReplyRow is a reply with the promise it made, if any.
type ReplyRow struct {
	nudge.Reply
	// Promise is the promise the reply made (zero ID when none).
	Promise nudge.Promise
}

// PageReplies returns one page of the lender's replies in the range, each
// with the promise it made. Without Intent and Channel they are those
// OpsSummary counts as Replies (as NeedsPerson with Open).
func (db *DB) PageReplies(ctx context.Context, q ReplyQuery) ([]ReplyRow, error) {
	const what = "page replies"
	if err := checkOpsPage(what, q.Lender, q.Since, q.Until, q.Offset, q.Limit); err != nil {
		return nil, err
	}
	query := `SELECT ` + replyCols + ` FROM replies WHERE lender = ? AND created_at >= ? AND created_at < ?`
	args := []any{q.Lender, db.tv(q.Since), db.tv(q.Until)}
	if q.Open {
		query += ` AND ` + openReply
	}
	if q.Intent != "" {
		query += ` AND intent = ?`
		args = append(args, string(q.Intent))
	}
	if q.Channel != "" {
		query += ` AND channel = ?`
		args = append(args, string(q.Channel))
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, q.Limit, q.Offset)
	rows, err := db.query(ctx, db.read, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", what, q.Lender, err)
	}
	var out []ReplyRow
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s of %s: %w", what, q.Lender, err)
		}
		out = append(out, ReplyRow{Reply: r})
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", what, q.Lender, err)
	}
	return out, db.fillReplyPromises(ctx, q.Lender, out)
}

// fillReplyPromises sets the promise each reply made, read through the
// promises' account index.
func (db *DB) fillReplyPromises(ctx context.Context, lender string, rows []ReplyRow) error {
	index := map[string]int{}
	seen := map[string]bool{}
	var accountArgs, idArgs []any
	for i, r := range rows {
		if r.AccountID == "" {
			continue
		}
		index[r.ID] = i
		idArgs = append(idArgs, r.ID)
		if !seen[r.AccountID] {
			seen[r.AccountID] = true
			accountArgs = append(accountArgs, r.AccountID)
		}
	}
	if len(idArgs) == 0 {
		return nil
	}
	args := append(append([]any{lender}, accountArgs...), idArgs...)
	ps, err := db.listPromises(ctx, "promises of replies of "+lender, `SELECT `+promiseCols+` FROM promises
WHERE lender = ? AND account_id IN (`+placeholders(len(accountArgs))+`) AND reply_id IN (`+placeholders(len(idArgs))+`)
ORDER BY created_at, id`, args...)
	if err != nil {
		return err
	}
	for _, p := range ps {
		rows[index[p.ReplyID]].Promise = p
	}
	return nil
}
