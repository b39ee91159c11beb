package ops

import (
	"net/http"
	"net/url"
	"time"

	"github.com/nudgehq/nudge"
)

// DefaultOpsRange is the time range a page shows when none is asked for:
// a week, so that the lists an operator works through (failed attempts,
// replies needing a person) are not cut at yesterday morning.
const DefaultOpsRange = "7d"

// opsRange is one of the time-range tabs: the last Length up to now,
// counted in periods of Step (or of the lender's days when Days is set).
type opsRange struct {
	Key    string
	Length time.Duration
	Label  string
	Step   time.Duration
	Days   bool
	// Format labels a period by its start, in the lender's zone.
	Format string
}

// opsRanges are the tabs, shortest first.
var opsRanges = []opsRange{
	{Key: "1h", Length: time.Hour, Label: msg("Last hour"), Step: 5 * time.Minute, Format: "15:04"},
	{Key: "24h", Length: 24 * time.Hour, Label: msg("Last 24 hours"), Step: time.Hour, Format: "15:04"},
	{Key: "7d", Length: 7 * 24 * time.Hour, Label: msg("Last 7 days"), Days: true, Format: "01-02"},
	{Key: "30d", Length: 30 * 24 * time.Hour, Label: msg("Last 30 days"), Days: true, Format: "01-02"},
}

// opsWeeksAfter is the length of a range of dates past which the chart
// counts weeks instead of days.
const opsWeeksAfter = 62

// opsFilter is the lender and the time range of a page: a tab (the last
// hour, day, week or month up to now) or whole days From..To in the
// lender's time zone.
type opsFilter struct {
	Lender string
	// Range is the tab's key, or "" for the dates From..To.
	Range string
	// From and To are the first and last day of the range in the lender's
	// zone (for a tab, the days it touches).
	From, To nudge.Date
	// Since and Until are the range's instants: Since <= t < Until.
	Since, Until time.Time
	// Label names the range: the tab's name or the two dates.
	Label string
	// Periods are the starts of the periods the chart over time counts in,
	// labelled by PeriodLabels; Per says how long one is.
	Periods      []time.Time
	PeriodLabels []string
	Per          string
}

// Query is the filter's query string.
func (f opsFilter) Query() string {
	if f.Range != "" {
		return url.Values{"lender": {f.Lender}, "range": {f.Range}}.Encode()
	}
	return url.Values{"lender": {f.Lender}, "from": {f.From.String()}, "to": {f.To.String()}}.Encode()
}

// Link returns path with the filter's query and the pairs of kv (key,
// value, …) added: a link to a list over the same lender and range.
func (f opsFilter) Link(path string, kv ...string) string {
	q, _ := url.ParseQuery(f.Query()) // Query encodes what ParseQuery reads
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return path + "?" + q.Encode()
}

// RangeQuery is the query string (with its "?") of the tab key for the
// same lender.
func (f opsFilter) RangeQuery(key string) string {
	return "?" + url.Values{"lender": {f.Lender}, "range": {key}}.Encode()
}

// filter reads lender and the time range: range (a tab), or from and to
// (dates in the lender's zone, which win over range). A key sees only its
// own lender.
func (o *Ops) filter(r *http.Request, p *opsPrincipal, v *opsView) (opsFilter, error) {
	q := r.URL.Query()
	f := opsFilter{Lender: p.Lender}
	if l := q.Get("lender"); l != "" && l != p.Lender {
		return f, opsErrorf(http.StatusForbidden, "this key belongs to lender %s and cannot see lender %s", p.Key.Lender, l)
	}
	loc, now := v.loc(), v.Now
	if q.Get("from") == "" && q.Get("to") == "" {
		key := q.Get("range")
		if key == "" {
			key = DefaultOpsRange
		}
		for _, rg := range opsRanges {
			if rg.Key == key {
				f.rangeOf(rg, now, loc)
				f.Label, f.Per = v.T(rg.Label), v.T(f.Per)
				return f, nil
			}
		}
		return f, opsErrorf(http.StatusBadRequest, "unknown time range %q: use 1h, 24h, 7d or 30d", key)
	}
	// date reads the date parameter name, def when it is absent.
	date := func(name string, def nudge.Date) (nudge.Date, error) {
		s := q.Get(name)
		if s == "" {
			return def, nil
		}
		d, err := nudge.ParseDate(s)
		if err != nil {
			return d, opsErrorf(http.StatusBadRequest, "%s: %q is not a date like 2026-06-15", name, s)
		}
		return d, nil
	}
	var err error
	if f.To, err = date("to", nudge.DateOf(now.In(loc))); err != nil {
		return f, err
	}
	if f.From, err = date("from", f.To.AddDays(-(DefaultOpsRangeDays - 1))); err != nil {
		return f, err
	}
	switch days := f.To.DaysSince(f.From); {
	case days < 0:
		return f, opsErrorf(http.StatusBadRequest, "from %s is after to %s", f.From, f.To)
	case days >= MaxOpsRangeDays:
		return f, opsErrorf(http.StatusBadRequest, "the range %s to %s is longer than %d days", f.From, f.To, MaxOpsRangeDays)
	}
	f.Since, f.Until = f.From.In(loc, 0, 0), f.To.AddDays(1).In(loc, 0, 0)
	f.Label = f.From.String() + " – " + f.To.String()
	step, per := 1, msg("Attempts per day")
	if f.To.DaysSince(f.From) >= opsWeeksAfter {
		step, per = 7, msg("Attempts per week")
	}
	for d := f.From; d.DaysSince(f.To) <= 0; d = d.AddDays(step) {
		f.Periods = append(f.Periods, d.In(loc, 0, 0))
		f.PeriodLabels = append(f.PeriodLabels, d.String()[5:])
	}
	f.Per = v.T(per)
	return f, nil
}

// rangeOf sets the filter to the tab rg ending at now: its instants, the
// days it touches and its periods, whose boundaries fall on round local
// times (five minutes, hours, midnights) after a first partial period.
func (f *opsFilter) rangeOf(rg opsRange, now time.Time, loc *time.Location) {
	// Until is just after now, at the store's precision: what happened
	// at this very instant is in the range.
	f.Range, f.Since, f.Until = rg.Key, now.Add(-rg.Length), now.Truncate(time.Microsecond).Add(time.Microsecond)
	f.From, f.To = nudge.DateOf(f.Since.In(loc)), nudge.DateOf(now.In(loc))
	var next func(time.Time) time.Time
	switch {
	case rg.Days:
		next = func(t time.Time) time.Time { return nudge.DateOf(t.In(loc)).AddDays(1).In(loc, 0, 0) }
		f.Per = msg("Attempts per day")
	case rg.Step == time.Hour:
		next = func(t time.Time) time.Time {
			_, off := t.In(loc).Zone()
			shift := time.Duration(off) * time.Second
			return t.Add(shift).Truncate(time.Hour).Add(time.Hour - shift)
		}
		f.Per = msg("Attempts per hour")
	default:
		next = func(t time.Time) time.Time { return t.Truncate(rg.Step).Add(rg.Step) }
		f.Per = msg("Attempts per 5 minutes")
	}
	for t := f.Since; t.Before(now) || t.Equal(f.Since); {
		f.Periods = append(f.Periods, t)
		f.PeriodLabels = append(f.PeriodLabels, t.In(loc).Format(rg.Format))
		n := next(t)
		if !n.After(t) { // a clock change cannot stall the loop
			n = t.Add(time.Hour)
		}
		t = n
	}
}
