package forecast

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
)

// Report is a forecast: one Row per day and channel, and the peak each
// sender would have to carry.
type Report struct {
	// Start is the first instant forecast; Days how many days follow it.
	Start time.Time `json:"start"`
	Days  int       `json:"days"`
	// Zone is the time zone the days are counted in.
	Zone string `json:"zone"`
	// Accounts is the size of the portfolio.
	Accounts int `json:"accounts"`
	// Currency is the price list's currency ("" when it has none).
	Currency string `json:"currency,omitempty"`
	// CallMinutes is the billed minutes assumed per call.
	CallMinutes int   `json:"call_minutes"`
	Rows        []Row `json:"rows"`
	// Senders are the senders used, busiest first.
	Senders []SenderPeak `json:"senders"`
	// Errors are pipeline failures that were neither a send nor a decision
	// (a template that does not render, …), at most MaxErrors of them.
	Errors []string `json:"errors,omitempty"`
}

// MaxErrors bounds Report.Errors.
const MaxErrors = 20

// Row is what one day brings on one channel.
type Row struct {
	Date    nudge.Date        `json:"date"`
	Channel nudge.ChannelKind `json:"channel"`
	// Planned is the reminders the planner made that day for the channel
	// (the step's channel).
	Planned int `json:"planned"`
	// Sent is the messages handed to the provider on the channel (a
	// fallback counts on the channel it went out on).
	Sent int `json:"sent"`
	// Deferred counts the send-time decisions that moved a reminder to a
	// later instant, by reason (quiet_hours, frequency_cap, …).
	Deferred map[nudge.Reason]int `json:"deferred"`
	// Suppressed counts the reminders a rule stopped for good, by reason
	// (hold, opted_out, no_consent, …).
	Suppressed map[nudge.Reason]int `json:"suppressed"`
	// Expired counts reminders whose moment passed before they could go.
	Expired int `json:"expired"`
	// Failed counts reminders the pipeline could not finish.
	Failed int `json:"failed"`
	// Segments is the SMS segments of the texts sent; CallMinutes the
	// billed minutes of the calls made.
	Segments    int `json:"segments"`
	CallMinutes int `json:"call_minutes"`
	// PeakPerSecond is the most sends due in one second that day on the
	// channel's busiest sender, PeakSender, whose configured rate is
	// PeakRate (0: unlimited).
	PeakPerSecond int     `json:"peak_per_second"`
	PeakSender    string  `json:"peak_sender,omitempty"`
	PeakRate      float64 `json:"peak_sender_rate"`
	// Cost prices the sends with the price list, in Report.Currency.
	Cost kpi.Micros `json:"-"`
	// CostText is Cost as a decimal string.
	CostText string `json:"cost"`
}

// DeferredTotal is the sum of Deferred.
func (r Row) DeferredTotal() int { return sum(r.Deferred) }

// SuppressedTotal is the sum of Suppressed.
func (r Row) SuppressedTotal() int { return sum(r.Suppressed) }

func sum(m map[nudge.Reason]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// SenderPeak is a sender's busiest second in the forecast against its
// configured rate.
type SenderPeak struct {
	Sender  string            `json:"sender"`
	Channel nudge.ChannelKind `json:"channel"`
	// Rate is the sender's configured sends a second (0: unlimited).
	Rate float64 `json:"rate"`
	// Sends is how many messages the sender carries over the forecast.
	Sends int `json:"sends"`
	// Peak is the most sends due in one second, at PeakAt: the rate the
	// sender would need to send each of them at its planned instant.
	Peak   int       `json:"peak_per_second"`
	PeakAt time.Time `json:"peak_at"`
	// Over says the peak is above the configured rate; DrainSeconds is
	// then how long the sender takes to send that second's messages at
	// its rate (the last of them leaves that much later than planned).
	Over         bool    `json:"over_rate"`
	DrainSeconds float64 `json:"drain_seconds"`
}

// tally accumulates a report.
type tally struct {
	loc   *time.Location
	rows  map[rowKey]*Row
	peaks map[string]*peak
	errs  []string
}

type rowKey struct {
	date nudge.Date
	ch   nudge.ChannelKind
}

type peak struct {
	SenderPeak
	second time.Time
	n      int
	// day counts the current day's busiest second.
	day    nudge.Date
	dayMax int
}

func newTally(loc *time.Location) *tally {
	return &tally{loc: loc, rows: map[rowKey]*Row{}, peaks: map[string]*peak{}}
}

func (t *tally) row(at time.Time, ch nudge.ChannelKind) *Row {
	k := rowKey{nudge.DateOf(at.In(t.loc)), ch}
	r, ok := t.rows[k]
	if !ok {
		r = &Row{Date: k.date, Channel: ch, Deferred: map[nudge.Reason]int{}, Suppressed: map[nudge.Reason]int{}}
		t.rows[k] = r
	}
	return r
}

func (t *tally) sent(s Sent) {
	r := t.row(s.At, s.Channel)
	r.Sent++
	r.Segments += s.Segments
	r.CallMinutes += s.Minutes
	p, ok := t.peaks[s.Sender]
	if !ok {
		p = &peak{SenderPeak: SenderPeak{Sender: s.Sender, Channel: s.Channel, Rate: s.Rate}}
		t.peaks[s.Sender] = p
	}
	p.Sends++
	sec := s.At.Truncate(time.Second)
	if !sec.Equal(p.second) {
		p.second, p.n = sec, 0
	}
	p.n++
	if p.n > p.Peak {
		p.Peak, p.PeakAt = p.n, sec
	}
	if r.Date != p.day {
		p.day, p.dayMax = r.Date, 0
	}
	if p.n > p.dayMax {
		p.dayMax = p.n
	}
	if p.dayMax > r.PeakPerSecond {
		r.PeakPerSecond, r.PeakSender, r.PeakRate = p.dayMax, p.Sender, p.Rate
	}
}

func (t *tally) error(err error) {
	if len(t.errs) < MaxErrors {
		t.errs = append(t.errs, err.Error())
	}
}

// report returns the rows of every day of the forecast and channel seen,
// priced with prices.
func (t *tally) report(start time.Time, days int, prices kpi.Prices) Report {
	rep := Report{Start: start, Days: days, Zone: t.loc.String(), Currency: prices.Currency, Errors: t.errs}
	chans := map[nudge.ChannelKind]bool{}
	for k := range t.rows {
		chans[k.ch] = true
	}
	order := slices.Sorted(maps.Keys(chans))
	sort.SliceStable(order, func(i, j int) bool { return chanRank(order[i]) < chanRank(order[j]) })
	first := nudge.DateOf(start.In(t.loc))
	last := nudge.DateOf(start.Add(time.Duration(days)*24*time.Hour - time.Nanosecond).In(t.loc))
	for d := first; !d.After(last); d = d.AddDays(1) {
		for _, ch := range order {
			r, ok := t.rows[rowKey{d, ch}]
			if !ok {
				r = &Row{Date: d, Channel: ch, Deferred: map[nudge.Reason]int{}, Suppressed: map[nudge.Reason]int{}}
			}
			r.Cost = prices.Cost(kpi.Counts{Segments: int64(r.Segments), CallMinutes: int64(r.CallMinutes), Emails: int64(emails(r))})
			r.CostText = r.Cost.String()
			rep.Rows = append(rep.Rows, *r)
		}
	}
	for _, p := range t.peaks {
		sp := p.SenderPeak
		if sp.Rate > 0 && float64(sp.Peak) > sp.Rate {
			sp.Over = true
			sp.DrainSeconds = float64(sp.Peak) / sp.Rate
		}
		rep.Senders = append(rep.Senders, sp)
	}
	sort.Slice(rep.Senders, func(i, j int) bool {
		a, b := rep.Senders[i], rep.Senders[j]
		if a.Peak != b.Peak {
			return a.Peak > b.Peak
		}
		return a.Sender < b.Sender
	})
	return rep
}

func emails(r *Row) int {
	if r.Channel == nudge.Email {
		return r.Sent
	}
	return 0
}

// chanRank orders the channels as nudge.Channels does, others after.
func chanRank(c nudge.ChannelKind) int {
	for i, k := range nudge.Channels {
		if k == c {
			return i
		}
	}
	return len(nudge.Channels)
}

// Totals sums the rows of each channel over the whole forecast.
func (r Report) Totals() []Row {
	var out []Row
	idx := map[nudge.ChannelKind]int{}
	for _, row := range r.Rows {
		i, ok := idx[row.Channel]
		if !ok {
			i = len(out)
			idx[row.Channel] = i
			out = append(out, Row{Channel: row.Channel, Deferred: map[nudge.Reason]int{}, Suppressed: map[nudge.Reason]int{}})
		}
		t := &out[i]
		t.Planned += row.Planned
		t.Sent += row.Sent
		t.Expired += row.Expired
		t.Failed += row.Failed
		t.Segments += row.Segments
		t.CallMinutes += row.CallMinutes
		t.Cost += row.Cost
		for k, v := range row.Deferred {
			t.Deferred[k] += v
		}
		for k, v := range row.Suppressed {
			t.Suppressed[k] += v
		}
	}
	for i := range out {
		out[i].CostText = out[i].Cost.String()
	}
	return out
}
