package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/forecast"
	"github.com/nudgehq/nudge/web/api"
)

// fakeForecaster records what it is asked and answers one row.
type fakeForecaster struct {
	mu sync.Mutex
	in []api.ForecastInput
}

func (f *fakeForecaster) Forecast(_ context.Context, in api.ForecastInput) (forecast.Report, error) {
	f.mu.Lock()
	f.in = append(f.in, in)
	f.mu.Unlock()
	return forecast.Report{Start: in.Start, Days: in.Days, Zone: in.Location.String(), Accounts: len(in.Accounts),
		Rows: []forecast.Row{{Date: nudge.DateOf(in.Start), Channel: nudge.SMS, Planned: 1, Sent: 1, Segments: 1, CostText: "0.00",
			Deferred: map[nudge.Reason]int{}, Suppressed: map[nudge.Reason]int{nudge.ReasonHold: 2}}}}, nil
}

const forecastAccount = `{"id":"F-1","lender":"acme","portfolio":"auto","borrower":{"name":"Bo Lee","language":"en","timezone":"America/Chicago"},"contacts":[{"channel":"sms","address":"+13125550102","consent":true}],"currency":"USD","amount_due":"300.00","due_date":"2026-06-01","status":"active","holds":[]}`

func TestForecastRoute(t *testing.T) {
	t.Parallel()
	fake := &fakeForecaster{}
	b := setupAPI(t, func(a *api.API) { a.Forecaster = fake })
	a1 := strings.Replace(forecastAccount, `"F-1"`, `"A-1"`, 1)

	code, body := b.do(t, "operator", "POST", "/v1/forecast?days=7&at=2026-06-01T00:00:00Z&zone=America/New_York", "application/x-ndjson", forecastAccount+"\n"+a1+"\n")
	require.Equal(t, http.StatusOK, code, body)
	var rep forecast.Report
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Equal(t, 2, rep.Accounts)
	require.Equal(t, 7, rep.Days)
	require.Len(t, fake.in, 1)
	in := fake.in[0]
	require.Equal(t, "acme", in.Lender)
	require.Equal(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), in.Start)
	require.Equal(t, "America/New_York", in.Location.String())
	require.Len(t, in.Cadences, 1)
	require.True(t, strings.HasPrefix(in.Cadences[0].Name, "minimal@"), in.Cadences[0].Name)
	require.Equal(t, minimalCadence, string(in.Cadences[0].Source))
	require.Equal(t, "old@example.com", in.OptOuts[0].Address, "the lender's recorded opt-outs")
	require.Equal(t, "+13125550102", in.Accounts[0].Contacts[0].Address)

	code, body = b.do(t, "operator", "POST", "/v1/forecast?format=csv", "application/x-ndjson", forecastAccount)
	require.Equal(t, http.StatusOK, code, body)
	require.True(t, strings.HasPrefix(body, "date,channel,planned,sent,"), body)
	require.Contains(t, body, "suppressed_hold")

	code, body = b.do(t, "operator", "POST", "/v1/forecast?format=svg", "application/json", "["+forecastAccount+"]")
	require.Equal(t, http.StatusOK, code, body)
	require.True(t, strings.HasPrefix(body, "<svg"), body)
}

func TestForecastRouteRefusesBadInput(t *testing.T) {
	t.Parallel()
	fake := &fakeForecaster{}
	b := setupAPI(t, func(a *api.API) { a.Forecaster = fake })
	tests := []struct {
		name, key, path, contentType, body string
		code                               int
		field                              string
		row                                int
	}{
		{name: "bad contact", key: "operator", path: "/v1/forecast", contentType: "application/x-ndjson",
			body: forecastAccount + "\n" + strings.Replace(forecastAccount, "+13125550102", "555", 1), code: 400, field: "contacts[0].address", row: 2},
		{name: "other lender", key: "operator", path: "/v1/forecast", contentType: "application/x-ndjson",
			body: strings.Replace(forecastAccount, `"acme"`, `"beta"`, 1), code: 400, field: "lender", row: 1},
		{name: "days", key: "operator", path: "/v1/forecast?days=400", contentType: "application/x-ndjson", body: forecastAccount, code: 400, field: "days"},
		{name: "zone", key: "operator", path: "/v1/forecast?zone=Mars/Base", contentType: "application/x-ndjson", body: forecastAccount, code: 400, field: "zone"},
		{name: "at", key: "operator", path: "/v1/forecast?at=tomorrow", contentType: "application/x-ndjson", body: forecastAccount, code: 400, field: "at"},
		{name: "missing version", key: "operator", path: "/v1/forecast?cadence=minimal&version=99", contentType: "application/x-ndjson", body: forecastAccount, code: 404},
		{name: "empty", key: "operator", path: "/v1/forecast", contentType: "application/x-ndjson", body: "\n", code: 400},
		{name: "type", key: "operator", path: "/v1/forecast", contentType: "application/xml", body: "<a/>", code: 415},
		{name: "viewer", key: "viewer", path: "/v1/forecast", contentType: "application/x-ndjson", body: forecastAccount, code: 403},
		{name: "no key", key: "", path: "/v1/forecast", contentType: "application/x-ndjson", body: forecastAccount, code: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := b.do(t, tt.key, "POST", tt.path, tt.contentType, tt.body)
			require.Equal(t, tt.code, code, body)
			if tt.field == "" {
				return
			}
			var e struct {
				Problems []struct {
					Row   int    `json:"row"`
					Field string `json:"field"`
				} `json:"problems"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			require.NotEmpty(t, e.Problems, body)
			require.Equal(t, tt.field, e.Problems[0].Field, body)
			require.Equal(t, tt.row, e.Problems[0].Row, body)
		})
	}
	require.Empty(t, fake.in, "nothing bad reaches the forecaster")

	bare := setupAPI(t, func(a *api.API) { a.Forecaster = nil })
	code, _ := bare.do(t, "operator", "POST", "/v1/forecast", "application/x-ndjson", forecastAccount)
	require.Equal(t, http.StatusNotFound, code)
}
