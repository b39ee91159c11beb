package ops

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// kpiTitles names the KPIs of kpi.Definitions on the page, by name.
var kpiTitles = map[string]string{
	"delivery_rate":            msg("Delivery rate"),
	"contact_rate":             msg("Contact rate"),
	"right_party_contact_rate": msg("Right-party contact rate"),
	"reply_rate":               msg("Reply rate"),
	"promise_rate":             msg("Promise rate"),
	"promise_kept_rate":        msg("Promise-kept rate"),
	"cure_rate":                msg("Cure rate"),
	"roll_rate_1_30_to_31_60":  msg("Roll rate 1–30 → 31–60 days"),
	"roll_rate_31_60_to_61_90": msg("Roll rate 31–60 → 61–90 days"),
	"opt_out_rate":             msg("Opt-out rate"),
	"complaint_rate":           msg("Complaint rate"),
}

// kpiDimensions are the dimensions the page groups by, with their names.
var kpiDimensions = []struct {
	Dim  kpi.Dimension
	Name string
}{
	{kpi.Channel, msg("Channel")}, {kpi.Step, msg("Step")}, {kpi.CadenceVersion, msg("Cadence version")},
	{kpi.Language, msg("Language")}, {kpi.Arm, msg("Experiment arm")},
}

// kpiCharted are the rates the chart draws per group, with their colours.
var kpiCharted = []struct{ Name, Class string }{
	{"delivery_rate", "f-delivered"}, {"contact_rate", "f-sent"}, {"reply_rate", "f-replied"},
	{"promise_rate", "f-promised"}, {"cure_rate", "f-paid"},
}

// kpiCell is one rate in the table: the percentage, and the fraction it
// comes from on hover.
type kpiCell struct {
	Text, Title string
}

// kpiRow is one group in the table.
type kpiRow struct {
	Label       string
	Sent        int64
	Cells       []kpiCell
	CostPerCure string
}

// kpiLink is one "group by" choice.
type kpiLink struct {
	Name, Href string
	Current    bool
}

type kpisData struct {
	By       []kpiLink
	ByName   string
	Titles   []string
	Rows     []kpiRow
	Total    kpiRow
	CureDays int
	Currency string
	From, To nudge.Date
	Rates    chart
	Daily    chart
}

// kpis shows the lender's KPIs over the range's UTC days, grouped by one
// dimension (channel unless by says otherwise), with a chart of the main
// rates per group and one of attempts and cures per day.
func (o *Ops) kpis(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = v.T("KPIs"), "kpis", f
	by := kpi.Channel
	if s := r.URL.Query().Get("by"); s != "" {
		by = kpi.Dimension(s)
		if !slices.ContainsFunc(kpiDimensions, func(d struct {
			Dim  kpi.Dimension
			Name string
		}) bool {
			return d.Dim == by
		}) {
			return "", opsErrorf(http.StatusBadRequest, "by: unknown dimension %q (want channel, step, cadence_version, language or arm)", s)
		}
	}
	// KPIs count whole UTC days: those the range touches.
	from, to := nudge.DateOf(f.Since.UTC()), nudge.DateOf(f.Until.Add(-1).UTC())
	q := store.KPIQuery{Lender: f.Lender, From: from, To: to, By: []kpi.Dimension{by}, CureDays: o.cfg.CureDays, Now: v.Now}
	rows, err := o.cfg.Store.KPIs(r.Context(), q)
	if err != nil {
		return "", err
	}
	q.By = []kpi.Dimension{kpi.Day}
	days, err := o.cfg.Store.KPIs(r.Context(), q)
	if err != nil {
		return "", err
	}
	d := kpisData{CureDays: q.CureDays, Currency: o.cfg.Prices.Currency, From: from, To: to}
	if d.CureDays == 0 {
		d.CureDays = store.DefaultCureDays
	}
	for _, dim := range kpiDimensions {
		d.By = append(d.By, kpiLink{Name: v.T(dim.Name), Current: dim.Dim == by,
			Href: "?" + f.Query() + "&" + url.Values{"by": {string(dim.Dim)}}.Encode()})
		if dim.Dim == by {
			d.ByName = v.T(dim.Name)
		}
	}
	for _, def := range kpi.Definitions {
		d.Titles = append(d.Titles, v.T(kpiTitles[def.Name]))
	}
	var total kpi.Counts
	legend := make([]legendEntry, len(kpiCharted))
	for i, c := range kpiCharted {
		legend[i] = legendEntry{Name: v.T(kpiTitles[c.Name]), Class: c.Class}
	}
	groups := make([]group, 0, len(rows))
	for _, row := range rows {
		label := row.Dims[0]
		switch {
		case by == kpi.Channel:
			label = v.T(label)
		case label == "":
			label = v.T("unknown")
		}
		d.Rows = append(d.Rows, o.kpiRow(label, row.Counts))
		total.Add(row.Counts)
		g := group{Label: label}
		for _, c := range kpiCharted {
			rate := kpi.Rates(row.Counts)[c.Name]
			val, _ := rate.Value()
			g.Values = append(g.Values, int(100*val+0.5))
		}
		groups = append(groups, g)
	}
	d.Total = o.kpiRow(v.T("Total"), total)
	d.Rates = groupedChart("chart-kpi-rates", fmt.Sprintf(v.T("Rates per %s, in percent"), d.ByName),
		v.T("For each group: delivery, contact, reply, promise and cure rates, in percent."), legend, groups)
	d.Rates.Empty = v.T("No data in this range.")

	byDay := map[string]kpi.Counts{}
	for _, row := range days {
		byDay[row.Dims[0]] = row.Counts
	}
	var labels []string
	cured, open := series{Name: v.T("Cured"), Class: "f-paid"}, series{Name: v.T("Not cured"), Class: "f-planned"}
	for day := from; !day.After(to); day = day.AddDays(1) {
		c := byDay[day.String()]
		labels = append(labels, day.String()[5:])
		cured.Values = append(cured.Values, int(c.Cured))
		open.Values = append(open.Values, int(c.Cycles-c.Cured))
	}
	d.Daily = columnChart("chart-kpi-cycles", v.T("Cycles started per day, cured or not"),
		v.T("For each UTC day: the cycles whose first reminder went out that day, cured within the cure days or not."),
		labels, []series{cured, open})
	d.Daily.Empty = v.T("No data in this range.")
	v.Data = d
	return "kpis", nil
}

// kpiRow formats one group's rates and cost per cure.
func (o *Ops) kpiRow(label string, c kpi.Counts) kpiRow {
	row := kpiRow{Label: label, Sent: c.Sent, CostPerCure: "—"}
	rates := kpi.Rates(c)
	for _, def := range kpi.Definitions {
		r := rates[def.Name]
		row.Cells = append(row.Cells, kpiCell{Text: pct(int(r.Num), int(r.Den)), Title: fmt.Sprintf("%d / %d", r.Num, r.Den)})
	}
	if per, ok := o.cfg.Prices.CostPerCure(c); ok && o.cfg.Prices.Currency != "" {
		row.CostPerCure = per.String() + " " + o.cfg.Prices.Currency
	}
	return row
}
