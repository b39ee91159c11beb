package ops

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/store"
)

// timelineEntry is one line of an account's timeline.
type timelineEntry struct {
	At          time.Time
	Kind        string
	Summary     string
	Action      string
	Reason      nudge.Reason
	Rule        string
	Explanation string
	ReminderID  string
	// ErrorCode is an attempt's provider error code; the page shows its meaning.
	ErrorCode string
	// Body and Template are what an attempt said (the SMS text, the
	// email's subject and text, the call's script) and the template
	// version that rendered it.
	Body, Template string
	// Reply is a reply's parse in words.
	Reply *replyRow
	// Order keeps entries of the same instant in the order they were made.
	order int
}

// reminderRow is one reminder with the decision that settled it, or that
// holds it back.
type reminderRow struct {
	nudge.Reminder
	Rule, Explanation string
	// Waiting is true for a reminder that has not run yet: Next says when it will.
	Waiting bool
	Next    time.Time
}

type accountData struct {
	Account   nudge.Account
	Reminders []reminderRow
	Timeline  []timelineEntry
	Found     bool
	// SendTime is the send-time section (nil: left out).
	SendTime *sendTimeData
}

// decisionDetail is what a decision event's detail carries for the page.
type decisionDetail struct {
	Explanation string    `json:"explanation"`
	Until       time.Time `json:"until"`
	Zones       []string  `json:"zones"`
}

// enqueuedDetail is what the planner's enqueued event carries.
type enqueuedDetail struct {
	ProcessAt time.Time `json:"process_at"`
}

// account shows everything Nudge decided and did for an account, each
// decision with its reason and rule.
func (o *Ops) account(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	v.Title, v.Nav = v.T("Account"), "accounts"
	ctx, lender, id := r.Context(), p.Lender, r.PathValue("id")
	acct, err := o.cfg.Store.GetAccount(ctx, lender, id)
	if errors.Is(err, nudge.ErrNotFound) {
		return "", opsErrorf(http.StatusNotFound, "lender %s has no account %q", lender, id)
	}
	if err != nil {
		return "", err
	}
	rs, err := o.cfg.Store.ListReminders(ctx, lender, id)
	if err != nil {
		return "", err
	}
	atts, err := o.cfg.Store.AttemptHistory(ctx, lender, id, time.Time{})
	if err != nil {
		return "", err
	}
	reps, err := o.cfg.Store.AccountReplies(ctx, lender, id)
	if err != nil {
		return "", err
	}
	prs, err := o.cfg.Store.ListPromises(ctx, lender, id)
	if err != nil {
		return "", err
	}
	evs, err := o.cfg.Store.Events(ctx, lender, id)
	if err != nil {
		return "", err
	}
	v.Title = v.Tf("Account %s", acct.ID)
	d := buildAccount(v, acct, rs, atts, reps, prs, evs)
	if d.SendTime, err = o.sendTime(ctx, v, acct); err != nil {
		return "", err
	}
	v.Data = d
	return "account", nil
}

func buildAccount(v *opsView, acct nudge.Account, rs []nudge.Reminder, atts []nudge.Attempt, reps []nudge.Reply,
	prs []nudge.Promise, evs []nudge.Event) accountData {
	d := accountData{Account: acct, Found: true}
	var tl []timelineEntry
	add := func(e timelineEntry) {
		e.order = len(tl)
		tl = append(tl, e)
	}
	lastDecision := map[string]nudge.Event{}
	for _, e := range evs {
		entry := timelineEntry{At: e.At, Kind: string(e.Kind), Action: e.Action, Reason: e.Reason, Rule: e.Rule, ReminderID: e.ReminderID}
		switch {
		case e.Kind == nudge.EventDecision:
			var dd decisionDetail
			_ = json.Unmarshal(e.Detail, &dd) // a detail of another shape leaves the explanation empty
			entry.Explanation = dd.Explanation
			entry.Summary = v.Tf("Send-time check: %s", v.T(e.Action))
			if !dd.Until.IsZero() {
				entry.Summary = v.Tf("Send-time check: %s until %s", v.T(e.Action), v.Time(dd.Until))
			}
			if len(dd.Zones) > 0 {
				entry.Summary += " · " + v.Tf("zones %s", strings.Join(dd.Zones, ", "))
			}
			if e.ReminderID != "" {
				lastDecision[e.ReminderID] = e
			}
		case store.IsPlanningDeferral(e):
			var ed enqueuedDetail
			_ = json.Unmarshal(e.Detail, &ed)
			entry.Action, entry.Rule = store.ActionDefer, store.RulePlanningWindow
			entry.Summary = v.Tf("Planned and held back until %s: outside the allowed window", v.Time(ed.ProcessAt))
			if e.ReminderID != "" {
				lastDecision[e.ReminderID] = e
			}
		default:
			entry.Summary = eventSummary(v, e)
		}
		add(entry)
	}
	for _, r := range rs {
		row := reminderRow{Reminder: r, Waiting: !r.Status.Terminal()}
		if e, ok := lastDecision[r.ID]; ok {
			row.Rule, row.Explanation = e.Rule, ""
			if e.Kind == nudge.EventDecision {
				var dd decisionDetail
				_ = json.Unmarshal(e.Detail, &dd)
				row.Explanation = dd.Explanation
			} else {
				row.Rule = store.RulePlanningWindow
			}
			// A reminder still waiting after a deferral shows why, even when
			// the ledger kept no reason for it (planned before 0010).
			if row.Waiting && row.Reason == "" && (e.Action == store.ActionDefer || store.IsPlanningDeferral(e)) {
				row.Reason = e.Reason
			}
		}
		if row.Waiting {
			row.Next = r.NextAt
		}
		d.Reminders = append(d.Reminders, row)
		add(timelineEntry{At: r.CreatedAt, Kind: "reminder", ReminderID: r.ID,
			Summary: v.Tf("Planned %s/%s on %s, due %s", r.Key.Cadence, r.Key.Step, v.T(string(r.Channel)), v.Time(r.DueAt))})
		if r.Status.Terminal() {
			add(timelineEntry{At: r.UpdatedAt, Kind: "reminder", ReminderID: r.ID, Reason: r.Reason, Rule: row.Rule,
				Explanation: row.Explanation, Action: string(r.Status),
				Summary: v.Tf("Reminder %s/%s %s", r.Key.Cadence, r.Key.Step, v.T(string(r.Status)))})
		}
	}
	for _, a := range atts {
		add(timelineEntry{At: a.CreatedAt, Kind: "attempt", Reason: a.Reason, ReminderID: a.ReminderID,
			Summary:   v.Tf("Attempt on %s to %s: %s", v.T(string(a.Channel)), channels.Mask(a.Address), v.T(string(a.Status))),
			ErrorCode: a.ErrorCode, Body: a.Body, Template: a.Template})
	}
	promiseOf := map[string]nudge.Promise{}
	for _, pr := range prs {
		if pr.ReplyID != "" {
			promiseOf[pr.ReplyID] = pr
		}
	}
	for _, rp := range reps {
		row := replyWords(store.ReplyRow{Reply: rp, Promise: promiseOf[rp.ID]})
		s := v.Tf("Reply on %s", v.T(string(rp.Channel)))
		if rp.NeedsPerson {
			if rp.ResolvedAt.IsZero() {
				s += " · " + v.T("needs a person")
			} else {
				s += " · " + v.Tf("resolved by %s", rp.ResolvedBy)
			}
		}
		add(timelineEntry{At: rp.CreatedAt, Kind: "reply", Summary: s, Reply: &row})
	}
	for _, pr := range prs {
		add(timelineEntry{At: pr.CreatedAt, Kind: "promise",
			Summary: v.Tf("Promise to pay %s %s by %s: %s", pr.Amount, pr.Currency, pr.Due, v.T(string(pr.Status)))})
	}
	sort.SliceStable(tl, func(i, j int) bool {
		if !tl[i].At.Equal(tl[j].At) {
			return tl[i].At.Before(tl[j].At)
		}
		return tl[i].order < tl[j].order
	})
	d.Timeline = tl
	return d
}

// eventDetails are the fields of an event's detail a timeline line shows,
// with their names.
var eventDetails = []struct{ key, name string }{
	{"status", msg("status")}, {"channel", msg("channel")}, {"source", msg("source")},
	{"error_code", msg("error code")}, {"note", msg("note")}, {"kind", msg("kind")},
}

// eventSummary describes an event other than a decision.
func eventSummary(v *opsView, e nudge.Event) string {
	var detail map[string]any
	_ = json.Unmarshal(e.Detail, &detail) // a non-object detail is left out
	var parts []string
	for _, d := range eventDetails {
		if val, ok := detail[d.key]; ok && val != "" {
			parts = append(parts, v.T(d.name)+" "+fmt.Sprint(val))
		}
	}
	s := v.T(string(e.Kind))
	if e.Action != "" {
		s += ": " + e.Action
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}
