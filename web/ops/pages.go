package ops

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
)

var opsFuncs = template.FuncMap{
	"mask":        channels.Mask,
	"pct":         pct,
	"secs":        func(d time.Duration) string { return d.Round(time.Second).String() },
	"pathEscape":  url.PathEscape,
	"list":        func(vs ...any) []any { return vs },
	"static":      staticURL,
	"statusClass": statusClass,
	"errmeaning":  channels.ErrorMeaning,
	"statuses":    statusParam,
}

// pct formats n/d as a percentage, or a dash when d is zero.
func pct(n, d int) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(d))
}

// statusOrder is the order statuses are drawn and listed in: arrived, on
// its way, waiting, in doubt, not arrived.
var statusOrder = []nudge.AttemptStatus{
	nudge.AttemptDelivered, nudge.AttemptCompleted, nudge.AttemptSent, nudge.AttemptAnswered, nudge.AttemptRinging,
	nudge.AttemptClaimed, nudge.AttemptSending, nudge.AttemptRetrying, nudge.AttemptUnknown,
	nudge.AttemptBusy, nudge.AttemptNoAnswer, nudge.AttemptUndelivered, nudge.AttemptFailed, nudge.AttemptCanceled,
}

// statusClass is the CSS class that colours an attempt status by what it
// means (ops.css): delivered green, failed red, waiting grey, retrying amber.
func statusClass(s nudge.AttemptStatus) string {
	if slices.Contains(statusOrder, s) {
		return "s-" + string(s)
	}
	return "s-claimed"
}

// opsTotals are the headline numbers of one range.
type opsTotals struct {
	Label string
	// Filter is the range the numbers count, for the links to their lists.
	Filter          opsFilter
	Sent, Delivered int
	Failed          int
	// Unknown counts attempts whose provider answer was lost and that the
	// reconciler has not resolved yet.
	Unknown              int
	Replies, NeedsPerson int
	Made, Kept, Broken   int
	OptOuts              int
	// Suppressed and Deferred count reminders, each once, deferred at
	// planning or send time: the length of their lists.
	Suppressed, Deferred int
	// DeliveryRate is delivered of sent over the channels with delivery
	// receipts (text messages and calls): email has none.
	DeliveryRate string
}

// sentStatus reports whether the provider accepted an attempt in status s.
func sentStatus(s nudge.AttemptStatus) bool {
	return s.Rank() >= nudge.AttemptSent.Rank() && s != nudge.AttemptFailed && s != nudge.AttemptCanceled
}

func deliveredStatus(s nudge.AttemptStatus) bool {
	return s == nudge.AttemptDelivered || s == nudge.AttemptCompleted
}

// hasReceipts reports whether the provider of channel c says when a message
// arrived: Twilio does for texts and calls; SMTP never does for email.
func hasReceipts(c nudge.ChannelKind) bool { return c != nudge.Email }

func totalsOf(label string, f opsFilter, s store.OpsSummary) opsTotals {
	t := opsTotals{Label: label, Filter: f, NeedsPerson: s.NeedsPerson, Deferred: s.Deferred, Suppressed: s.Suppressed}
	var receiptSent int
	for _, a := range s.Attempts {
		if sentStatus(a.Status) {
			t.Sent += a.N
			if hasReceipts(a.Channel) {
				receiptSent += a.N
			}
		}
		if deliveredStatus(a.Status) && hasReceipts(a.Channel) {
			t.Delivered += a.N
		}
		if a.Status == nudge.AttemptFailed || a.Status == nudge.AttemptUndelivered {
			t.Failed += a.N
		}
		if a.Status == nudge.AttemptUnknown {
			t.Unknown += a.N
		}
	}
	for _, n := range s.Replies {
		t.Replies += n
	}
	for st, n := range s.Promises {
		t.Made += n
		switch st {
		case nudge.PromiseKept:
			t.Kept += n
		case nudge.PromiseBroken:
			t.Broken += n
		}
	}
	for _, n := range s.OptOuts {
		t.OptOuts += n
	}
	t.DeliveryRate = pct(t.Delivered, receiptSent)
	return t
}

// opsQueue is one row of the queue table.
type opsQueue struct {
	Name                                              string
	Size, Pending, Active, Scheduled, Retry, Archived int
	Latency                                           time.Duration
	Paused                                            bool
	Missing                                           bool
}

type overviewData struct {
	Today, Range opsTotals
	Attempts     []store.AttemptCount
	Decisions    []store.DecisionCount
	OptOuts      []keyCount
	Queues       []opsQueue
	QueueError   string
	Charts       []chart
	// The status lists the headline numbers link to.
	SentStatuses, DeliveredStatuses, FailedStatuses []nudge.AttemptStatus
}

type keyCount struct {
	Key string
	N   int
}

func sortedCounts[K ~string](m map[K]int) []keyCount {
	out := make([]keyCount, 0, len(m))
	for k, n := range m {
		out = append(out, keyCount{Key: string(k), N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// overview shows today (in the lender's time zone) and the range: sends,
// delivery, replies, promises, opt-outs, suppressions and deferrals, and
// the queues.
func (o *Ops) overview(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = v.T("Overview"), "overview", f
	o.live(v)
	ctx, loc := r.Context(), v.loc()
	day := nudge.DateOf(v.Now.In(loc))
	today, err := o.cfg.Store.OpsSummary(ctx, store.OpsQuery{Lender: f.Lender, Since: day.In(loc, 0, 0), Until: day.AddDays(1).In(loc, 0, 0)})
	if err != nil {
		return "", err
	}
	rng, err := o.cfg.Store.OpsSummary(ctx, store.OpsQuery{Lender: f.Lender, Since: f.Since, Until: f.Until, Periods: f.Periods})
	if err != nil {
		return "", err
	}
	attempts := slices.Clone(rng.Attempts)
	slices.SortStableFunc(attempts, func(a, b store.AttemptCount) int {
		if c := slices.Index(nudge.Channels, a.Channel) - slices.Index(nudge.Channels, b.Channel); c != 0 {
			return c
		}
		return slices.Index(statusOrder, a.Status) - slices.Index(statusOrder, b.Status)
	})
	// Today's numbers link to lists over today's date in the lender's zone.
	todayFilter := f
	todayFilter.Range, todayFilter.From, todayFilter.To = "", day, day
	d := overviewData{
		Today: totalsOf(v.T("Today"), todayFilter, today), Range: totalsOf(f.Label, f, rng),
		Attempts: attempts, Decisions: rng.Decisions, OptOuts: sortedCounts(rng.OptOuts),
		SentStatuses: opsSentStatuses, DeliveredStatuses: opsDeliveredStatuses, FailedStatuses: opsFailedStatuses,
	}
	d.Queues, d.QueueError = o.queueTable(v)
	d.Charts = overviewCharts(v, f, rng)
	v.Data = d
	return "overview", nil
}

// queueTable reads each queue's depth and latency.
func (o *Ops) queueTable(v *opsView) ([]opsQueue, string) {
	if o.cfg.Queues == nil {
		return nil, ""
	}
	names, legacy := o.cfg.QueueNames, map[string]bool{}
	if len(names) == 0 {
		// Critical, the channels' shared queues of before per-lender
		// queues (shown while they exist), and the lender's own.
		names = []string{dispatcher.QueueCritical}
		for _, q := range dispatcher.ReminderQueues {
			names, legacy[q] = append(names, q), true
		}
		for _, ch := range dispatcher.QueuedChannels {
			if q, err := dispatcher.QueueFor(ch, v.Lender.ID); err == nil {
				names = append(names, q)
			}
		}
	}
	var out []opsQueue
	for _, name := range names {
		info, err := o.cfg.Queues.GetQueueInfo(name)
		if err != nil {
			// A queue no task has used yet does not exist in Redis.
			if strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "does not exist") {
				if !legacy[name] {
					out = append(out, opsQueue{Name: name, Missing: true})
				}
				continue
			}
			o.cfg.Logger.Warn("ops queue info", "queue", name, "err", err)
			return out, v.Tf("queue %s: the queue store did not answer", name)
		}
		out = append(out, opsQueue{Name: name, Size: info.Size, Pending: info.Pending, Active: info.Active,
			Scheduled: info.Scheduled, Retry: info.Retry, Archived: info.Archived, Latency: info.Latency, Paused: info.Paused})
	}
	return out, ""
}

// overviewCharts draws attempts by channel and status, attempts over time
// by channel, and suppressions and deferrals by reason.
func overviewCharts(v *opsView, f opsFilter, s store.OpsSummary) []chart {
	chans := make([]string, len(nudge.Channels))
	for i, c := range nudge.Channels {
		chans[i] = v.T(string(c))
	}
	var bySt []series
	for _, st := range statusOrder {
		vals := make([]int, len(nudge.Channels))
		for _, a := range s.Attempts {
			if a.Status == st {
				vals[slices.Index(nudge.Channels, a.Channel)] += a.N
			}
		}
		if slices.ContainsFunc(vals, func(n int) bool { return n > 0 }) {
			bySt = append(bySt, series{Name: v.T(string(st)), Class: statusClass(st), Values: vals})
		}
	}
	sends := hbarChart("chart-sends", v.T("Attempts by channel and status"),
		v.T("Horizontal bars, one per channel, split by attempt status."), chans, bySt)

	var perChan []series
	for _, c := range nudge.Channels {
		vals := make([]int, len(f.Periods))
		for _, pc := range s.Periods {
			if pc.Channel == c && pc.Period >= 0 && pc.Period < len(vals) {
				vals[pc.Period] += pc.N
			}
		}
		perChan = append(perChan, series{Name: v.T(string(c)), Class: "c-" + string(c), Values: vals})
	}
	overTime := columnChart("chart-time", f.Per, v.T("Columns, one per period, split by channel."), f.PeriodLabels, perChan)

	var reasons []string
	for _, d := range s.Decisions {
		if !slices.Contains(reasons, string(d.Reason)) {
			reasons = append(reasons, string(d.Reason))
		}
	}
	slices.Sort(reasons)
	supp := series{Name: v.T("suppressed"), Class: "d-suppress", Values: make([]int, len(reasons))}
	def := series{Name: v.T("deferred"), Class: "d-defer", Values: make([]int, len(reasons))}
	for _, d := range s.Decisions {
		i := slices.Index(reasons, string(d.Reason))
		if d.Action == "suppress" {
			supp.Values[i] += d.N
		} else {
			def.Values[i] += d.N
		}
	}
	decisions := hbarChart("chart-decisions", v.T("Suppressions and deferrals by reason"),
		v.T("Horizontal bars, one per reason, split into suppressed and deferred."), reasons, []series{supp, def})
	out := []chart{sends, overTime, decisions}
	for i := range out {
		out[i].Empty = v.T("No data in this range.")
	}
	return out
}
