package main

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/web"
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

// TestKPIRollupsAndAPIWiring runs the scheduler's rollup pass and the api
// role's /v1/kpis over one lender's ledger: the pass leaves a watermark
// (the next rollup recomputes only the settle window), and the API prices
// the attempts with the configured price list.
func TestKPIRollupsAndAPIWiring(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	cfg := Config{
		Database: "sqlite://" + filepath.Join(t.TempDir(), "n.db"), Secret: strings.Repeat("k", 32),
		Prices: PricesConfig{Currency: "USD", SMS: SMSPriceConfig{PerSegment: "0.01"}},
	}.WithDefaults()
	a := &app{stdout: io.Discard, stderr: io.Discard}
	rt, err := a.newRuntime(context.Background(), cfg, runtimeOptions{rdb: rdb, clock: nudge.NewFixedClock(now)})
	require.NoError(t, err)
	t.Cleanup(rt.Close)

	ctx := context.Background()
	require.NoError(t, rt.db.UpsertLender(ctx, nudge.Lender{ID: "acme", Name: "Acme", CreatedAt: now}))
	require.NoError(t, rt.db.UpsertAccounts(ctx, []nudge.Account{{ID: "A-1", Lender: "acme", Currency: "USD", AmountDue: "10.00",
		DueDate: nudge.MustDate("2026-01-10"), Status: nudge.StatusActive}}, now))
	old := now.Add(-170 * 24 * time.Hour)
	rs, err := rt.db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: "A-1", Cadence: "c", Step: "s1",
		Cycle: nudge.MustDate("2026-01-10")}, Channel: nudge.SMS, DueAt: old, CreatedAt: old}})
	require.NoError(t, err)
	att, err := rt.db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: rs[0].ID, Lender: "acme", AccountID: "A-1", Channel: nudge.SMS,
		Address: "+12125550123", Status: nudge.AttemptSending, CreatedAt: old}, nil)
	require.NoError(t, err)
	_, err = rt.db.UpdateAttempt(ctx, att.ID, nudge.AttemptUpdate{Status: nudge.AttemptDelivered, Segments: 3, At: old})
	require.NoError(t, err)

	// Another replica's pass under way: this one skips, so the lender has
	// no rollup yet and the next one starts from its first attempt.
	require.NoError(t, rdb.Set(ctx, kpiRollupLock, "other", time.Minute).Err())
	rt.rollupKPIs(ctx)
	rolled, err := rt.db.RollupKPIs(ctx, "acme", now, cfg.KPIs.CureDays)
	require.NoError(t, err)
	require.Equal(t, nudge.DateOf(old), rolled.From, "the pass was skipped")

	// The lock gone, the pass runs (with other cure days, so it recomputes
	// and leaves a watermark of its own): the next rollup of the same day
	// with those cure days recomputes only the day's closed hours.
	mr.Del(kpiRollupLock)
	rt.cfg.KPIs.CureDays = 45
	rt.rollupKPIs(ctx)
	require.True(t, mr.Exists(kpiRollupLock), "the pass holds the lock")
	rolled, err = rt.db.RollupKPIs(ctx, "acme", now, 45)
	require.NoError(t, err)
	require.Equal(t, nudge.DateOf(now), rolled.From, "the scheduler's pass left a watermark")
	require.False(t, rolled.Settled, "the scheduler's pass settled the day")
	rt.cfg.KPIs.CureDays = cfg.KPIs.CureDays

	token, key, err := web.NewAPIKey("acme", nudge.RoleViewer, now)
	require.NoError(t, err)
	require.NoError(t, rt.db.CreateAPIKey(ctx, key))
	h, err := rt.handler()
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/v1/kpis?from=2026-01-01&to=2026-06-30&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	lines, err := csv.NewReader(rec.Body).ReadAll()
	require.NoError(t, err)
	require.Len(t, lines, 2)
	col := map[string]string{}
	for i, h := range lines[0] {
		col[h] = lines[1][i]
	}
	require.Equal(t, "1", col["sent"])
	require.Equal(t, "3", col["segments"])
	require.Equal(t, "0.03", col["cost"], "3 segments at 0.01")
	require.Equal(t, "USD", col["currency"])
}
