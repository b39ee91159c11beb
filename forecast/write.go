package forecast

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nudgehq/nudge"
)

// Formats are the output formats of a forecast.
var Formats = []string{"table", "csv", "svg", "json"}

// reasons returns the reasons used in the rows' deferrals or suppressions.
func reasons(rows []Row, of func(Row) map[nudge.Reason]int) []nudge.Reason {
	set := map[nudge.Reason]bool{}
	for _, r := range rows {
		for k, v := range of(r) {
			if v > 0 {
				set[k] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func deferredOf(r Row) map[nudge.Reason]int   { return r.Deferred }
func suppressedOf(r Row) map[nudge.Reason]int { return r.Suppressed }

// byReason writes m as "reason:n reason:n", in reason order.
func byReason(m map[nudge.Reason]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func rate(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}

// WriteTable writes the report as aligned text: the rows, the totals per
// channel and the senders' peaks.
func WriteTable(w io.Writer, rep Report) error {
	fmt.Fprintf(w, "Forecast of %d accounts over %d days from %s (days in %s; calls billed %d min; no borrower replies)\n\n",
		rep.Accounts, rep.Days, rep.Start.Format(time.RFC3339), rep.Zone, rep.CallMinutes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cur := rep.Currency
	if cur == "" {
		cur = "cost"
	}
	fmt.Fprintf(tw, "date\tchannel\tplanned\tsent\tdeferred\tsuppressed\texpired\tfailed\tsegments\tcall min\tpeak/s (rate)\t%s\tsuppressed by reason\n", cur)
	for _, r := range rep.Rows {
		peak := "-"
		if r.PeakPerSecond > 0 {
			peak = fmt.Sprintf("%d (%s)", r.PeakPerSecond, rate(r.PeakRate))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.Date, r.Channel, r.Planned, r.Sent,
			r.DeferredTotal(), r.SuppressedTotal(), r.Expired, r.Failed, r.Segments, r.CallMinutes,
			peak, r.CostText, byReason(r.Suppressed))
	}
	for _, r := range rep.Totals() {
		fmt.Fprintf(tw, "total\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t%s\t%s\n", r.Channel, r.Planned, r.Sent,
			r.DeferredTotal(), r.SuppressedTotal(), r.Expired, r.Failed, r.Segments, r.CallMinutes, r.CostText, byReason(r.Suppressed))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sender\tchannel\tsends\tpeak/s\tat\tconfigured\tneeds")
	for _, s := range rep.Senders {
		needs := "within its rate"
		if s.Over {
			needs = fmt.Sprintf("%.0fs to drain its busiest second", s.DrainSeconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", s.Sender, s.Channel, s.Sends, s.Peak, s.PeakAt.Format(time.RFC3339), rate(s.Rate), needs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	return nil
}

// WriteCSV writes one record per day and channel, with a column per
// deferral and suppression reason that occurs.
func WriteCSV(w io.Writer, rep Report) error {
	defs, sups := reasons(rep.Rows, deferredOf), reasons(rep.Rows, suppressedOf)
	head := []string{"date", "channel", "planned", "sent", "deferred", "suppressed", "expired", "failed",
		"segments", "call_minutes", "peak_per_second", "peak_sender", "peak_sender_rate", "cost", "currency"}
	for _, r := range defs {
		head = append(head, "deferred_"+string(r))
	}
	for _, r := range sups {
		head = append(head, "suppressed_"+string(r))
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	it := strconv.Itoa
	for _, r := range rep.Rows {
		rec := []string{r.Date.String(), string(r.Channel), it(r.Planned), it(r.Sent), it(r.DeferredTotal()), it(r.SuppressedTotal()),
			it(r.Expired), it(r.Failed), it(r.Segments), it(r.CallMinutes), it(r.PeakPerSecond), r.PeakSender,
			strconv.FormatFloat(r.PeakRate, 'f', -1, 64), r.CostText, rep.Currency}
		for _, k := range defs {
			rec = append(rec, it(r.Deferred[k]))
		}
		for _, k := range sups {
			rec = append(rec, it(r.Suppressed[k]))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// chartColors colour the channels in the chart.
var chartColors = map[nudge.ChannelKind]string{nudge.SMS: "#1f77b4", nudge.Voice: "#ff7f0e", nudge.Email: "#2ca02c", nudge.Task: "#9467bd"}

// WriteSVG draws the sends of each day as bars stacked by channel, with
// the suppressions of the day as a line.
func WriteSVG(w io.Writer, rep Report) error {
	type day struct {
		date       nudge.Date
		sent       map[nudge.ChannelKind]int
		suppressed int
	}
	var days []day
	var chans []nudge.ChannelKind
	for _, r := range rep.Rows {
		if len(days) == 0 || days[len(days)-1].date != r.Date {
			days = append(days, day{date: r.Date, sent: map[nudge.ChannelKind]int{}})
		}
		d := &days[len(days)-1]
		d.sent[r.Channel] += r.Sent
		d.suppressed += r.SuppressedTotal()
		if !slices.Contains(chans, r.Channel) {
			chans = append(chans, r.Channel)
		}
	}
	maxY := 1
	for _, d := range days {
		n := 0
		for _, v := range d.sent {
			n += v
		}
		maxY = max(maxY, n, d.suppressed)
	}
	const (
		left, top, plotH, barW, gap = 70, 40, 300, 18, 6
	)
	width := left + len(days)*(barW+gap) + 160
	height := top + plotH + 80
	y := func(v int) float64 { return float64(top+plotH) - float64(v)/float64(maxY)*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">%s</text>`+"\n", left, html.EscapeString(fmt.Sprintf(
		"Forecast: sends per day by channel, %d accounts, %d days from %s (%s)", rep.Accounts, rep.Days, rep.Start.Format("2006-01-02"), rep.Zone)))
	for i := 0; i <= 4; i++ {
		v := maxY * i / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%d</text>`+"\n",
			left, left+len(days)*(barW+gap), y(v), y(v), left-6, y(v)+4, v)
	}
	var line []string
	for i, d := range days {
		x := left + i*(barW+gap) + gap/2
		base := 0
		for _, ch := range chans {
			n := d.sent[ch]
			if n == 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %d sent</title></rect>`+"\n",
				x, y(base+n), barW, y(base)-y(base+n), color(ch), d.date, ch, n)
			base += n
		}
		line = append(line, fmt.Sprintf("%d,%.1f", x+barW/2, y(d.suppressed)))
		if i%5 == 0 || i == len(days)-1 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" transform="rotate(-45 %d %d)">%s</text>`+"\n",
				x+barW/2, top+plotH+14, x+barW/2, top+plotH+14, d.date)
		}
	}
	if len(line) > 0 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#d62728" stroke-width="2"/>`+"\n", strings.Join(line, " "))
	}
	lx := left + len(days)*(barW+gap) + 16
	for i, ch := range chans {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s sent</text>`+"\n",
			lx, top+i*18, color(ch), lx+18, top+i*18+10, ch)
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#d62728" stroke-width="2"/><text x="%d" y="%d">suppressed</text>`+"\n",
		lx, lx+12, top+len(chans)*18+6, top+len(chans)*18+6, lx+18, top+len(chans)*18+10)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func color(ch nudge.ChannelKind) string {
	if c, ok := chartColors[ch]; ok {
		return c
	}
	return "#7f7f7f"
}
