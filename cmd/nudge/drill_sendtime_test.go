package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSendTimeDrill is the send-time drill at CI size: the real planner,
// pipeline and webhooks against twiliosim's borrowers with hidden best
// hours, on a simulated clock. Read from the provider's side (its export),
// no call starts outside 08:00-21:00 local, and the optimiser finds the
// best hour of most borrowers called 10 times or more (at least 70% of these
// 24; the full drill, 200 borrowers, is held to 80%).
func TestSendTimeDrill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("simulates 27 days")
	}
	dir := t.TempDir()
	export := filepath.Join(dir, "calls.csv")
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	rep, err := a.runSendTimeDrill(ctx, sendTimeDrillOptions{accounts: 24, days: 27, seed: 3, concurrency: 8, dir: dir, step: time.Hour,
		start: time.Date(2026, 4, 6, 4, 0, 0, 0, time.UTC), export: export})
	require.NoError(t, err)
	var out strings.Builder
	require.NoError(t, rep.write(&out))
	t.Log(out.String())
	require.Zero(t, rep.Outside)
	require.Equal(t, 24, rep.Eligible)
	require.GreaterOrEqual(t, rep.MatchRate(), 0.7)

	// The export alone: every call inside the window, local time.
	f, err := os.Open(export)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, rep.Calls, len(rows)-1)
	require.Equal(t, 24*24, rep.Calls, "a call a day but every seventh")
	for _, r := range rows[1:] {
		local, err := time.Parse("2006-01-02T15:04:05", r[4])
		require.NoError(t, err)
		m := local.Hour()*60 + local.Minute()
		require.True(t, m >= 8*60 && m < 21*60, "call %s at %s local", r[0], r[4])
		_, err = strconv.Atoi(r[8])
		require.NoError(t, err)
	}
}
