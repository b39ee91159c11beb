package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/web/api"
)

// setupKPIs delivers the bundle's SMS (two segments, an hour before apiT0)
// and ends A-1's cycle with a payment half an hour before apiT0: one
// cycle, cured, for 2 × 0.0079. The bundle's promise, made when the SMS
// was sent, counts for it (still pending, so not kept).
func setupKPIs(t *testing.T) *apiBundle {
	t.Helper()
	b := setupAPI(t, func(a *api.API) {
		a.Prices = kpi.Prices{Currency: "USD", SMSPerSegment: 7900, VoicePerMinute: 14_000}
	})
	ctx := context.Background()
	_, err := b.db.UpdateAttempt(ctx, "att-1", nudge.AttemptUpdate{Status: nudge.AttemptDelivered, ProviderID: "SM1", Segments: 2, At: apiT0})
	require.NoError(t, err)
	require.NoError(t, b.db.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventPayment,
		Reason: nudge.ReasonCycleEnded, At: apiT0.Add(-30 * time.Minute)}))
	return b
}

func TestKPIsJSON(t *testing.T) {
	t.Parallel()
	b := setupKPIs(t)
	code, body := b.do(t, "viewer", "GET", "/v1/kpis?from=2026-06-01&to=2026-06-01&by=channel,arm", "", "")
	require.Equal(t, http.StatusOK, code, body)
	var out struct {
		From, To string
		By       []string
		CureDays int `json:"cure_days"`
		Currency string
		Rows     []struct {
			Dims        map[string]string
			Counts      kpi.Counts
			Rates       map[string]*float64
			Cost        string
			CostPerCure *string `json:"cost_per_cure"`
		}
		Total struct {
			Counts kpi.Counts
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	require.Equal(t, "2026-06-01", out.From)
	require.Equal(t, []string{"channel", "arm"}, out.By)
	require.Equal(t, 30, out.CureDays)
	require.Equal(t, "USD", out.Currency)
	require.Len(t, out.Rows, 1)
	r := out.Rows[0]
	require.Equal(t, map[string]string{"channel": "sms", "arm": "none"}, r.Dims)
	require.Equal(t, kpi.Counts{Sent: 1, Delivered: 1, Contactable: 1, Contacted: 1, Promised: 1, Cycles: 1, Cured: 1, Segments: 2}, r.Counts)
	require.Equal(t, 1.0, *r.Rates["delivery_rate"])
	require.Equal(t, 1.0, *r.Rates["cure_rate"])
	require.Equal(t, 0.0, *r.Rates["promise_kept_rate"])
	require.Nil(t, r.Rates["roll_rate_1_30_to_31_60"], "no cycle 31 days past due yet: no rate")
	require.Equal(t, "0.0158", r.Cost)
	require.Equal(t, "0.0158", *r.CostPerCure)
	require.Equal(t, r.Counts, out.Total.Counts)

	// Another lender's key sees none of it.
	code, body = b.do(t, "beta", "GET", "/v1/kpis?from=2026-06-01&to=2026-06-01", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"rows":[],"total":{"dims":{},"counts":{"sent":0,`)
}

func TestKPIsCSV(t *testing.T) {
	t.Parallel()
	b := setupKPIs(t)
	code, body := b.do(t, "viewer", "GET", "/v1/kpis?from=2026-05-31&to=2026-06-01&by=day,channel&format=csv", "", "")
	require.Equal(t, http.StatusOK, code, body)
	lines, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, lines, 2, "the header and the one day with attempts")
	col := map[string]string{}
	for i, h := range lines[0] {
		col[h] = lines[1][i]
	}
	require.Equal(t, "2026-06-01", col["day"])
	require.Equal(t, "sms", col["channel"])
	require.Equal(t, "1", col["sent"])
	require.Equal(t, "2", col["segments"])
	require.Equal(t, "1.0000", col["delivery_rate"])
	require.Equal(t, "0.0000", col["promise_kept_rate"])
	require.Equal(t, "", col["roll_rate_1_30_to_31_60"])
	require.Equal(t, "0.0158", col["cost_per_cure"])
	require.Equal(t, "USD", col["currency"])
}

func TestKPIsBadParameters(t *testing.T) {
	t.Parallel()
	b := setupKPIs(t)
	for _, tc := range []struct{ query, field, want string }{
		{"from=June", "from", `\"June\" is not a date`},
		{"to=2026-13-01", "to", "is not a date"},
		{"from=2026-06-02&to=2026-06-01", "to", "2026-06-01 is before from 2026-06-02"},
		{"from=2020-01-01&to=2026-06-01", "to", "more than 800"},
		{"by=channel,colour", "by", `unknown dimension \"colour\"`},
		{"format=xml", "format", ""},
	} {
		code, body := b.do(t, "viewer", "GET", "/v1/kpis?"+tc.query, "", "")
		require.Equal(t, http.StatusBadRequest, code, tc.query)
		require.Contains(t, body, `"field":"`+tc.field+`"`, tc.query)
		require.Contains(t, body, tc.want, tc.query)
	}
	code, _ := b.do(t, "", "GET", "/v1/kpis", "", "")
	require.Equal(t, http.StatusUnauthorized, code)
}
