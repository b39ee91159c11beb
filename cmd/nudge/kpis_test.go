package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/kpi"
)

func TestKPIConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "nudge.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`prices:
  currency: USD
  sms:
    per_segment: "0.0079"
  voice:
    per_minute: "0.014"
kpis:
  cure_days: 45
`), 0o600))
	env := map[string]string{"NUDGE_PRICES_EMAIL_PER_MESSAGE": "0.001", "NUDGE_KPIS_ROLLUP_EVERY": "5m"}
	c, err := LoadConfig(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	p, err := c.kpiSettings()
	require.NoError(t, err)
	require.Equal(t, kpi.Prices{Currency: "USD", SMSPerSegment: 7900, VoicePerMinute: 14_000, EmailPerEmail: 1000}, p)
	require.Equal(t, 45, c.KPIs.CureDays)
	require.Equal(t, 5*time.Minute, c.KPIs.RollupEvery)

	d, err := LoadConfig("", func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, 30, d.KPIs.CureDays, "default")
	require.Equal(t, DefaultKPIRollupEvery, d.KPIs.RollupEvery)
	p, err = d.kpiSettings()
	require.NoError(t, err)
	require.Zero(t, p.Cost(kpi.Counts{Segments: 10}), "no prices, no cost")

	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"bad price", "prices:\n  currency: USD\n  sms:\n    per_segment: cheap\n", `prices.sms.per_segment: amount "cheap"`},
		{"negative", "prices:\n  currency: USD\n  voice:\n    per_minute: \"-1\"\n", "prices.voice.per_minute"},
		{"no currency", "prices:\n  email:\n    per_message: \"0.01\"\n", "prices.currency: is required with prices"},
		{"bad currency", "prices:\n  currency: dollars\n", `prices.currency: "dollars" is not a three-letter`},
		{"cure days", "kpis:\n  cure_days: 400\n", "kpis.cure_days: must be between 1 and 365, not 400"},
		{"rollup every", "kpis:\n  rollup_every: 10s\n", "kpis.rollup_every: must be at least 1m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "nudge.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.yaml), 0o600))
			c, err := LoadConfig(path, func(string) (string, bool) { return "", false })
			require.NoError(t, err)
			_, err = c.kpiSettings()
			require.ErrorContains(t, err, tc.want)
		})
	}
}
