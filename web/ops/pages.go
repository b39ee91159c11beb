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
	"github.com/nudgehq/nudge/store"
)

var opsFuncs = template.FuncMap{
	"ts":         fmtTime,
	"mask":       channels.Mask,
	"pct":        pct,
	"secs":       func(d time.Duration) string { return d.Round(time.Second).String() },
	"pathEscape": url.PathEscape,
	"list":       func(vs ...any) []any { return vs },
	"errmeaning": channels.ErrorMeaning,
	"intent":     intentText,
	"statuses":   statusParam,
	"orlist":     func(s string) string { return strings.ReplaceAll(s, ",", " or ") },
}

// pct formats n/d as a percentage, or a dash when d is zero.
func pct(n, d int) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(d))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// opsFilter is the lender and date range of a page: From..To inclusive,
// whole UTC days.
type opsFilter struct {
	Lender   string
	From, To nudge.Date
}

// query returns the filter as a query string.
func (f opsFilter) Query() string {
	return url.Values{"lender": {f.Lender}, "from": {f.From.String()}, "to": {f.To.String()}}.Encode()
}

// Link returns path with the filter's query and the pairs of kv (key,
// value, …) added: a link to a list over the same lender and range.
func (f opsFilter) Link(path string, kv ...string) string {
	q := url.Values{"lender": {f.Lender}, "from": {f.From.String()}, "to": {f.To.String()}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return path + "?" + q.Encode()
}

func (f opsFilter) since() time.Time { return f.From.In(time.UTC, 0, 0) }

func (f opsFilter) until() time.Time { return f.To.In(time.UTC, 0, 0).Add(24 * time.Hour) }

// filter reads lender, from and to. A key sees only its own lender.
func (o *Ops) filter(r *http.Request, p *opsPrincipal) (opsFilter, error) {
	q := r.URL.Query()
	f := opsFilter{Lender: p.Lender}
	if l := q.Get("lender"); l != "" && l != p.Lender {
		return f, opsErrorf(http.StatusForbidden, "this key belongs to lender %s and cannot see lender %s", p.Key.Lender, l)
	}
	today := nudge.DateOf(o.now().UTC())
	f.To = today
	f.From = nudge.DateOf(today.In(time.UTC, 0, 0).AddDate(0, 0, -(DefaultOpsRangeDays - 1)))
	for _, p := range []struct {
		name string
		d    *nudge.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			d, err := nudge.ParseDate(v)
			if err != nil {
				return f, opsErrorf(http.StatusBadRequest, "%s: %v", p.name, err)
			}
			*p.d = d
		}
	}
	switch days := f.To.DaysSince(f.From); {
	case days < 0:
		return f, opsErrorf(http.StatusBadRequest, "from %s is after to %s", f.From, f.To)
	case days >= MaxOpsRangeDays:
		return f, opsErrorf(http.StatusBadRequest, "the range %s to %s is longer than %d days", f.From, f.To, MaxOpsRangeDays)
	}
	return f, nil
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
	DeliveryRate         string
}

// sentStatus reports whether the provider accepted an attempt in status s.
func sentStatus(s nudge.AttemptStatus) bool {
	return s.Rank() >= nudge.AttemptSent.Rank() && s != nudge.AttemptFailed && s != nudge.AttemptCanceled
}

func deliveredStatus(s nudge.AttemptStatus) bool {
	return s == nudge.AttemptDelivered || s == nudge.AttemptCompleted
}

func totalsOf(label string, f opsFilter, s store.OpsSummary) opsTotals {
	t := opsTotals{Label: label, Filter: f, NeedsPerson: s.NeedsPerson, Deferred: s.Deferred, Suppressed: s.Suppressed}
	for _, a := range s.Attempts {
		if sentStatus(a.Status) {
			t.Sent += a.N
		}
		if deliveredStatus(a.Status) {
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
	t.DeliveryRate = pct(t.Delivered, t.Sent)
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
	Charts       []opsChart
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

// overview shows today and the range: sends, delivery, replies, promises,
// opt-outs, suppressions and deferrals, and the queues.
func (o *Ops) overview(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = "Overview", "overview", f
	ctx := r.Context()
	now := o.now().UTC()
	todayStart := nudge.DateOf(now).In(time.UTC, 0, 0)
	today, err := o.cfg.Store.OpsSummary(ctx, store.OpsQuery{Lender: f.Lender, Since: todayStart, Until: todayStart.Add(24 * time.Hour)})
	if err != nil {
		return "", err
	}
	rng, err := o.cfg.Store.OpsSummary(ctx, store.OpsQuery{Lender: f.Lender, Since: f.since(), Until: f.until()})
	if err != nil {
		return "", err
	}
	todayFilter := f
	todayFilter.From, todayFilter.To = nudge.DateOf(now), nudge.DateOf(now)
	d := overviewData{
		Today: totalsOf("Today", todayFilter, today), Range: totalsOf(f.From.String()+" – "+f.To.String(), f, rng),
		Attempts: rng.Attempts, Decisions: rng.Decisions, OptOuts: sortedCounts(rng.OptOuts),
		SentStatuses: opsSentStatuses, DeliveredStatuses: opsDeliveredStatuses, FailedStatuses: opsFailedStatuses,
	}
	d.Queues, d.QueueError = o.queueTable()
	if d.Charts, err = overviewCharts(f, rng); err != nil {
		return "", err
	}
	v.Data = d
	return "overview", nil
}

// queueTable reads each queue's depth and latency.
func (o *Ops) queueTable() ([]opsQueue, string) {
	if o.cfg.Queues == nil {
		return nil, ""
	}
	var out []opsQueue
	for _, name := range o.cfg.QueueNames {
		info, err := o.cfg.Queues.GetQueueInfo(name)
		if err != nil {
			// A queue no task has used yet does not exist in Redis.
			if strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "does not exist") {
				out = append(out, opsQueue{Name: name, Missing: true})
				continue
			}
			o.cfg.Logger.Warn("ops queue info", "queue", name, "err", err)
			return out, fmt.Sprintf("queue %s: the queue store did not answer", name)
		}
		out = append(out, opsQueue{Name: name, Size: info.Size, Pending: info.Pending, Active: info.Active,
			Scheduled: info.Scheduled, Retry: info.Retry, Archived: info.Archived, Latency: info.Latency, Paused: info.Paused})
	}
	return out, ""
}

// overviewCharts draws sends by channel and status, sends per day, and
// suppressions and deferrals by reason.
func overviewCharts(f opsFilter, s store.OpsSummary) ([]opsChart, error) {
	var statuses []nudge.AttemptStatus
	for _, a := range s.Attempts {
		if !slices.Contains(statuses, a.Status) {
			statuses = append(statuses, a.Status)
		}
	}
	slices.Sort(statuses)
	chans := make([]string, len(nudge.Channels))
	for i, c := range nudge.Channels {
		chans[i] = string(c)
	}
	var bySt []opsSeries
	for _, st := range statuses {
		vals := make([]float64, len(nudge.Channels))
		for _, a := range s.Attempts {
			if a.Status == st {
				vals[slices.Index(nudge.Channels, a.Channel)] += float64(a.N)
			}
		}
		bySt = append(bySt, opsSeries{Name: string(st), Values: vals})
	}
	sends, err := barChart("chart-sends", "Attempts by channel and status", chans, bySt, true)
	if err != nil {
		return nil, err
	}

	var days []string
	for d := f.From; d.DaysSince(f.To) <= 0; d = nudge.DateOf(d.In(time.UTC, 0, 0).AddDate(0, 0, 1)) {
		days = append(days, d.String()[5:])
	}
	var daily []opsSeries
	for _, c := range nudge.Channels {
		vals := make([]float64, len(days))
		for _, dc := range s.Daily {
			if i := dc.Day.DaysSince(f.From); dc.Channel == c && i >= 0 && i < len(vals) {
				vals[i] += float64(dc.N)
			}
		}
		daily = append(daily, opsSeries{Name: string(c), Values: vals})
	}
	perDay, err := lineChart("chart-daily", "Attempts per day (UTC)", days, daily)
	if err != nil {
		return nil, err
	}

	var reasons []string
	for _, d := range s.Decisions {
		if !slices.Contains(reasons, string(d.Reason)) {
			reasons = append(reasons, string(d.Reason))
		}
	}
	slices.Sort(reasons)
	supp := opsSeries{Name: "suppressed", Values: make([]float64, len(reasons))}
	def := opsSeries{Name: "deferred", Values: make([]float64, len(reasons))}
	for _, d := range s.Decisions {
		i := slices.Index(reasons, string(d.Reason))
		if d.Action == "suppress" {
			supp.Values[i] += float64(d.N)
		} else {
			def.Values[i] += float64(d.N)
		}
	}
	decisions, err := horizontalBarChart("chart-decisions", "Suppressions and deferrals by reason", reasons, []opsSeries{supp, def})
	if err != nil {
		return nil, err
	}
	return []opsChart{sends, perDay, decisions}, nil
}

type funnelData struct {
	Steps  []store.FunnelStep
	Window time.Duration
	Chart  opsChart
}

// funnel shows planned → sent → delivered → replied → promised → paid per
// cadence step.
func (o *Ops) funnel(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = "Funnel", "funnel", f
	steps, err := o.cfg.Store.OpsFunnel(r.Context(), store.OpsQuery{Lender: f.Lender, Since: f.since(), Until: f.until()})
	if err != nil {
		return "", err
	}
	stages := []string{"planned", "sent", "delivered", "replied", "promised", "paid"}
	labels := make([]string, len(steps))
	series := make([]opsSeries, len(stages))
	for i, st := range stages {
		series[i] = opsSeries{Name: st, Values: make([]float64, len(steps))}
	}
	for j, s := range steps {
		labels[j] = s.Cadence + "/" + s.Step
		for i, n := range []int{s.Planned, s.Sent, s.Delivered, s.Replied, s.Promised, s.Paid} {
			series[i].Values[j] = float64(n)
		}
	}
	chart, err := barChart("chart-funnel", "Funnel per cadence step", labels, series, false)
	if err != nil {
		return "", err
	}
	v.Data = funnelData{Steps: steps, Window: store.FunnelWindow, Chart: chart}
	return "funnel", nil
}
