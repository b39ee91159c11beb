package api

import (
	"encoding/csv"
	"net/http"
	"strconv"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// DefaultKPIDays is how many days GET /v1/kpis covers without from.
const DefaultKPIDays = 30

// kpiRowJSON is one group of GET /v1/kpis: its dimension values, counters,
// rates (null without a denominator) and cost.
type kpiRowJSON struct {
	Dims   map[string]string   `json:"dims"`
	Counts kpi.Counts          `json:"counts"`
	Rates  map[string]*float64 `json:"rates"`
	// Cost prices the segments, call minutes and emails; CostPerCure
	// divides it by the cures (null without cures).
	Cost        string  `json:"cost"`
	CostPerCure *string `json:"cost_per_cure"`
}

type kpisJSON struct {
	From     nudge.Date   `json:"from"`
	To       nudge.Date   `json:"to"`
	By       []string     `json:"by"`
	CureDays int          `json:"cure_days"`
	Currency string       `json:"currency"`
	Rows     []kpiRowJSON `json:"rows"`
	// Total sums every row.
	Total kpiRowJSON `json:"total"`
}

func (a *API) kpiRow(by []kpi.Dimension, dims []string, c kpi.Counts) kpiRowJSON {
	out := kpiRowJSON{Dims: map[string]string{}, Counts: c, Rates: map[string]*float64{}, Cost: a.Prices.Cost(c).String()}
	for i, d := range by {
		out.Dims[string(d)] = dims[i]
	}
	for name, r := range kpi.Rates(c) {
		if v, ok := r.Value(); ok {
			out.Rates[name] = &v
		} else {
			out.Rates[name] = nil
		}
	}
	if per, ok := a.Prices.CostPerCure(c); ok {
		s := per.String()
		out.CostPerCure = &s
	}
	return out
}

// dateParam reads a YYYY-MM-DD query parameter; def when it is absent.
func dateParam(c *call, name string, def nudge.Date) (nudge.Date, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	d, err := nudge.ParseDate(v)
	if err != nil {
		return nudge.Date{}, badParam(name, "%q is not a date like 2026-06-01", v)
	}
	return d, nil
}

// kpis answers GET /v1/kpis: the lender's KPIs over whole UTC days
// (from and to included), grouped by the dimensions of by, as JSON or CSV.
func (a *API) kpis(c *call) error {
	q := c.r.URL.Query()
	format, err := enumParam(c, "format", "json", "csv")
	if err != nil {
		return err
	}
	today := nudge.DateOf(a.now().UTC())
	to, err := dateParam(c, "to", today)
	if err != nil {
		return err
	}
	from, err := dateParam(c, "from", to.AddDays(1-DefaultKPIDays))
	if err != nil {
		return err
	}
	switch {
	case to.Before(from):
		return badParam("to", "%s is before from %s", to, from)
	case to.DaysSince(from) >= store.MaxKPIDays:
		return badParam("to", "the range covers %d days, more than %d", to.DaysSince(from)+1, store.MaxKPIDays)
	}
	by, err := kpi.ParseDimensions(q.Get("by"))
	if err != nil {
		return badParam("by", "%s", err.Error())
	}
	rows, err := a.Store.KPIs(c.ctx, store.KPIQuery{Lender: c.lender(), From: from, To: to, By: by, CureDays: a.CureDays, Now: a.now()})
	if err != nil {
		return err
	}
	out := kpisJSON{From: from, To: to, By: make([]string, len(by)), CureDays: a.CureDays, Currency: a.Prices.Currency, Rows: []kpiRowJSON{}}
	if out.CureDays == 0 {
		out.CureDays = store.DefaultCureDays
	}
	var total kpi.Counts
	for i, d := range by {
		out.By[i] = string(d)
	}
	for _, r := range rows {
		out.Rows = append(out.Rows, a.kpiRow(by, r.Dims, r.Counts))
		total.Add(r.Counts)
	}
	out.Total = a.kpiRow(nil, nil, total)
	if format == "csv" {
		return writeKPICSV(c, out)
	}
	web.WriteJSON(c.w, http.StatusOK, out)
	return nil
}

// writeKPICSV writes one line per row: the dimensions of by, the counters,
// the rates (empty without a denominator), cost and cost per cure.
func writeKPICSV(c *call, out kpisJSON) error {
	c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	c.w.Header().Set("Content-Disposition", `attachment; filename="kpis-`+out.From.String()+`-`+out.To.String()+`.csv"`)
	c.w.WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.w)
	header := append([]string(nil), out.By...)
	header = append(header, kpi.CounterNames...)
	for _, d := range kpi.Definitions {
		header = append(header, d.Name)
	}
	header = append(header, "cost", "cost_per_cure", "currency")
	if err := w.Write(header); err != nil {
		return err
	}
	for _, r := range out.Rows {
		line := make([]string, 0, len(header))
		for _, d := range out.By {
			line = append(line, r.Dims[d])
		}
		for _, f := range r.Counts.Fields() {
			line = append(line, strconv.FormatInt(*f, 10))
		}
		for _, d := range kpi.Definitions {
			v := ""
			if p := r.Rates[d.Name]; p != nil {
				v = strconv.FormatFloat(*p, 'f', 4, 64)
			}
			line = append(line, v)
		}
		per := ""
		if r.CostPerCure != nil {
			per = *r.CostPerCure
		}
		line = append(line, r.Cost, per, out.Currency)
		if err := w.Write(line); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
