package ops_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web/ops"
)

// TestOpsKPIs checks the page against the store's own computation: the
// total row shows the sent count, each rate as a percentage of the same
// counters, and the cost per cure under the configured prices.
func TestOpsKPIs(t *testing.T) {
	t.Parallel()
	prices := kpi.Prices{Currency: "USD", SMSPerSegment: 7900, VoicePerMinute: 14_000, EmailPerEmail: 1000}
	b := opsSetup(t, func(c *ops.OpsConfig) { c.Prices, c.CureDays = prices, 30 })
	ctx := context.Background()
	rows, err := b.db.KPIs(ctx, store.KPIQuery{Lender: "acme", From: nudge.MustDate("2026-05-16"), To: nudge.MustDate("2026-06-15"),
		CureDays: 30, Now: opsT0})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	c := rows[0].Counts
	require.Positive(t, c.Sent)
	require.Positive(t, c.Cured, "the seed's kept promises end cycles")

	cl := b.client(t)
	require.Equal(t, http.StatusSeeOther, cl.login(b.keys[nudge.RoleViewer]).StatusCode)
	resp, body := cl.do(http.MethodGet, "/ops/kpis?from=2026-05-16&to=2026-06-15", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, fmt.Sprintf(`<tfoot><tr><th scope="row">Total</th><td>%d</td>`, c.Sent))
	for _, name := range []string{"delivery_rate", "cure_rate", "promise_rate"} {
		r := kpi.Rates(c)[name]
		require.Contains(t, body, fmt.Sprintf(`<td title="%d / %d">%.1f%%</td>`, r.Num, r.Den, 100*float64(r.Num)/float64(r.Den)), name)
	}
	per, ok := prices.CostPerCure(c)
	require.True(t, ok)
	require.Contains(t, body, per.String()+" USD")

	resp, body = cl.do(http.MethodGet, "/ops/kpis?from=2026-05-16&to=2026-06-15", nil, map[string]string{"Accept-Language": "es"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "Tasa de regularización")
}
