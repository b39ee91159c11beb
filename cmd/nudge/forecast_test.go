package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// forecastConfig is a configuration with the demo's US lender and a price
// list.
const forecastConfig = `lenders:
  - id: demo
    name: Acme Auto Finance
    language: en
    timezone: America/New_York
    help_phone: "+18005550100"
    agent_phone: "+18005550101"
    voicemail_business_name: Acme Auto
    voicemail_caller_name: Sam Rivera
prices:
  currency: USD
  sms: {per_segment: "0.0079"}
  voice: {per_minute: "0.014"}
  email: {per_message: "0.001"}
`

// Two accounts of the demo lender: one due the first day of the
// forecast, one on hold.
const forecastAccounts = `{"id":"A1","lender":"demo","portfolio":"auto","borrower":{"name":"Ana Smith","language":"en","timezone":"America/New_York"},"contacts":[{"channel":"sms","address":"+12125550101","consent":true},{"channel":"voice","address":"+12125550101","consent":true},{"channel":"email","address":"ana@example.com"}],"currency":"USD","amount_due":"412.50","due_date":"2026-12-04","status":"active","holds":[]}
{"id":"A2","lender":"demo","portfolio":"auto","borrower":{"name":"Bo Lee","language":"en","timezone":"America/Chicago"},"contacts":[{"channel":"sms","address":"+13125550102","consent":true}],"currency":"USD","amount_due":"300.00","due_date":"2026-12-01","status":"active","holds":[{"kind":"dispute","reason":"x"}]}
`

func writeForecastFiles(t *testing.T, accounts string) (dir, cfg, accts string) {
	t.Helper()
	dir = t.TempDir()
	cfg, accts = filepath.Join(dir, "nudge.yaml"), filepath.Join(dir, "accounts.ndjson")
	require.NoError(t, os.WriteFile(cfg, []byte(forecastConfig), 0o600))
	require.NoError(t, os.WriteFile(accts, []byte(accounts), 0o600))
	return dir, cfg, accts
}

func TestForecastCommand(t *testing.T) {
	t.Parallel()
	dir, cfg, accts := writeForecastFiles(t, forecastAccounts)
	out := filepath.Join(dir, "forecast.csv")
	_, _, err := runCLI(t, "--config", cfg, "forecast", "--cadence", "../../examples/us-auto.yaml", "--accounts", accts,
		"--days", "2", "--tick", "5m", "--at", "2026-12-01T00:00:00Z", "--format", "csv", "--out", out)
	require.NoError(t, err)
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	got := map[string][]string{}
	for _, r := range recs[1:] {
		got[r[col["date"]]+" "+r[col["channel"]]] = r
	}
	// A1's pre-due text three days before its due date, at 10:00 New York.
	sms := got["2026-12-01 sms"]
	require.NotNil(t, sms, recs)
	require.Equal(t, "1", sms[col["sent"]])
	require.Equal(t, "USD", sms[col["currency"]])
	// A2's late text (day 1 after 2026-12-01) is held.
	require.Equal(t, "1", got["2026-12-02 sms"][col["suppressed_hold"]])
}

func TestForecastCommandNamesBadInput(t *testing.T) {
	t.Parallel()
	bad := strings.Replace(forecastAccounts, `"+13125550102"`, `"555"`, 1)
	dir, cfg, accts := writeForecastFiles(t, bad)
	_, _, err := runCLI(t, "--config", cfg, "forecast", "--cadence", "../../examples/us-auto.yaml", "--accounts", accts, "--days", "1", "--tick", "1h")
	require.Error(t, err)
	require.Contains(t, err.Error(), accts+": row 2")
	require.Contains(t, err.Error(), "contacts[0].address")

	opt := filepath.Join(dir, "opt-outs.ndjson")
	require.NoError(t, os.WriteFile(opt, []byte(`{"lender":"demo","channel":"sms","address":"+12125550101"}`+"\n"+`{"lender":"demo","channel":"sms"}`+"\n"), 0o600))
	_, accts = filepath.Join(dir, "x"), filepath.Join(dir, "good.ndjson")
	require.NoError(t, os.WriteFile(accts, []byte(forecastAccounts), 0o600))
	_, _, err = runCLI(t, "--config", cfg, "forecast", "--cadence", "../../examples/us-auto.yaml", "--accounts", accts, "--opt-outs", opt, "--days", "1", "--tick", "1h")
	require.ErrorContains(t, err, opt+":2: address: required")

	_, _, err = runCLI(t, "--config", cfg, "forecast", "--cadence", "other=../../examples/us-auto.yaml", "--accounts", accts, "--days", "1", "--tick", "1h")
	require.ErrorContains(t, err, "lender demo of the accounts has no cadence")

	prices := filepath.Join(dir, "prices.yaml")
	require.NoError(t, os.WriteFile(prices, []byte("currency: USD\nsms: {per_segment: \"cheap\"}\n"), 0o600))
	_, _, err = runCLI(t, "--config", cfg, "forecast", "--cadence", "../../examples/us-auto.yaml", "--accounts", accts, "--prices", prices, "--days", "1", "--tick", "1h")
	require.ErrorContains(t, err, "prices.sms.per_segment")

	_, _, err = runCLI(t, "--config", cfg, "forecast", "--cadence", "../../examples/us-auto.yaml", "--accounts", accts, "--format", "pdf")
	require.ErrorContains(t, err, `--format "pdf"`)
}
