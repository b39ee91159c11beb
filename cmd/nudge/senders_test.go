package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/metrics"
)

// TestSenderChangeTellsTheOperator checks what an operator sees when a pool
// sender trips and recovers: an ALERT log line, the metric and audit entries.
func TestSenderChangeTellsTheOperator(t *testing.T) {
	t.Parallel()
	db := openTestDB(t, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, db.Migrate(context.Background()))
	var logs bytes.Buffer
	rt := &runtime{logger: slog.New(slog.NewTextHandler(&logs, nil)), db: db, metrics: metrics.New(nil)}
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	rt.senderChange(twilio.SenderChange{Sender: "+18005550111", Tripped: true, Failures: 5, At: at})
	rt.senderChange(twilio.SenderChange{Sender: "+18005550111", At: at.Add(time.Minute)})

	require.Contains(t, logs.String(), "ALERT: SMS sender failing")
	require.Contains(t, logs.String(), "SMS sender recovered")
	families, err := rt.metrics.Gatherer().Gather()
	require.NoError(t, err)
	changes := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "nudge_sender_breaker_changes_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			require.Equal(t, "+18005550111", labels["sender"])
			changes[labels["change"]] += m.GetCounter().GetValue()
		}
	}
	require.Equal(t, map[string]float64{"tripped": 1, "recovered": 1}, changes)

	entries, err := db.ListAudit(context.Background(), "")
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		require.Equal(t, "+18005550111", e.Target)
		require.Equal(t, "system", e.Actor)
		actions = append(actions, e.Action)
	}
	require.ElementsMatch(t, []string{"sender_tripped", "sender_recovered"}, actions)
}
