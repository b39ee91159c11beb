package ops

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// funnelRow is one cadence step on one channel, planned to paid.
type funnelRow struct {
	store.FunnelStep
	// Receipts is false on a channel without delivery receipts (email): its
	// messages are only ever sent, so no delivery rate is shown.
	Receipts bool
}

type funnelData struct {
	Steps  []funnelRow
	Window time.Duration
	Chart  chart
}

// funnelStages are the funnel's bars in order, with their colours.
var funnelStages = []legendEntry{
	{Name: msg("planned"), Class: "f-planned"}, {Name: msg("sent"), Class: "f-sent"},
	{Name: msg("delivered"), Class: "f-delivered"}, {Name: msg("replied"), Class: "f-replied"},
	{Name: msg("promised"), Class: "f-promised"}, {Name: msg("paid"), Class: "f-paid"},
}

// funnel shows planned → sent → delivered → replied → promised → paid per
// cadence step, in the order of the steps in the cadence.
func (o *Ops) funnel(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = v.T("Funnel"), "funnel", f
	o.live(v)
	steps, err := o.cfg.Store.OpsFunnel(r.Context(), store.OpsQuery{Lender: f.Lender, Since: f.Since, Until: f.Until})
	if err != nil {
		return "", err
	}
	o.orderFunnel(r.Context(), f.Lender, steps)
	legend := make([]legendEntry, len(funnelStages))
	for i, s := range funnelStages {
		legend[i] = legendEntry{Name: v.T(s.Name), Class: s.Class}
	}
	rows := make([]funnelRow, len(steps))
	groups := make([]group, len(steps))
	for i, s := range steps {
		rows[i] = funnelRow{FunnelStep: s, Receipts: hasReceipts(s.Channel)}
		groups[i] = group{Label: s.Cadence + " / " + s.Step + " · " + v.T(string(s.Channel)),
			Values: []int{s.Planned, s.Sent, s.Delivered, s.Replied, s.Promised, s.Paid}}
		if !rows[i].Receipts {
			groups[i].Missing = []string{2: v.T("delivered: email has no delivery receipts")}
		}
	}
	c := groupedChart("chart-funnel", v.T("Funnel per cadence step"),
		v.T("For each cadence step: planned, sent, delivered, replied, promised and paid."), legend, groups)
	c.Empty = v.T("No data in this range.")
	v.Data = funnelData{Steps: rows, Window: store.FunnelWindow, Chart: c}
	return "funnel", nil
}

// orderFunnel puts the funnel's rows in the order of the lender's active
// cadences' steps (regular steps, then broken-promise steps), a step's own
// channel before its fallback. Steps no active cadence has (an older
// version's) keep the store's order, by due time, after the others.
func (o *Ops) orderFunnel(ctx context.Context, lender string, steps []store.FunnelStep) {
	if o.cfg.Cadences == nil || len(steps) == 0 {
		return
	}
	cs, err := o.cfg.Cadences.Cadences(ctx, lender)
	if err != nil {
		o.cfg.Logger.Warn("ops funnel: reading the lender's cadences", "lender", lender, "err", err)
		return
	}
	type place struct {
		index   int
		channel nudge.ChannelKind
	}
	order := map[[2]string]place{}
	for _, c := range cs {
		for i, s := range append(slices.Clone(c.Steps), c.BrokenPromise...) {
			order[[2]string{c.Name, s.ID}] = place{i, s.Channel}
		}
	}
	rank := func(s store.FunnelStep) (int, int) {
		pl, ok := order[[2]string{s.Cadence, s.Step}]
		if !ok {
			return len(order) + 1, 0
		}
		if s.Channel != pl.channel {
			return pl.index, 1
		}
		return pl.index, 0
	}
	slices.SortStableFunc(steps, func(a, b store.FunnelStep) int {
		if c := strings.Compare(a.Cadence, b.Cadence); c != 0 {
			return c
		}
		ai, ac := rank(a)
		bi, bc := rank(b)
		if ai != bi {
			return ai - bi
		}
		return ac - bc
	})
}
