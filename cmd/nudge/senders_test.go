package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
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

// TestVoiceSenderChangeTellsTheOperator: a voice caller ID's breaker is
// reported as such (its health name is twilio.VoiceHealthPrefix + number).
func TestVoiceSenderChangeTellsTheOperator(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	rt := &runtime{logger: slog.New(slog.NewTextHandler(&logs, nil)), metrics: metrics.New(nil)}
	rt.senderChange(twilio.SenderChange{Sender: twilio.VoiceHealthPrefix + "+18005550111", Tripped: true, Failures: 5, At: time.Now()})
	rt.senderChange(twilio.SenderChange{Sender: twilio.VoiceHealthPrefix + "+18005550111", At: time.Now()})
	require.Contains(t, logs.String(), "ALERT: voice caller ID failing")
	require.Contains(t, logs.String(), "voice caller ID recovered")
	require.NotContains(t, logs.String(), "SMS sender")
}

// TestPoolSettingsFromTheConfigFile loads voice_senders with a subaccount
// whose token is in a file, and the breaker's filter settings, and builds
// the senders; a bad setting is refused with its key.
func TestPoolSettingsFromTheConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "sub-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("subtok3n42\n"), 0o600))
	write := func(share string) string {
		p := filepath.Join(dir, "nudge.yaml")
		require.NoError(t, os.WriteFile(p, []byte(`twilio:
  account_sid: AC0123456789abcdef0123456789abcdef
  auth_token: tok3n0123456789
  from: "+14155550100"
  base_url: http://127.0.0.1:1
  breaker_filter_min: 4
  breaker_filter_share: `+share+`
  breaker_filter_window: 2m
  voice_senders:
    - lender: acme
      pool:
        - from: "+14155550111"
          mps: 2
        - from: "+14155550112"
          account_sid: AC5ab00000000000000000000000000000
          auth_token_file: `+tokenFile+`
          daily_cap: 500
`), 0o600))
		return p
	}
	none := func(string) (string, bool) { return "", false }
	cfg, err := LoadConfig(write("0.5"), none)
	require.NoError(t, err)
	require.Equal(t, 4, cfg.Twilio.BreakerFilterMin)
	require.InDelta(t, 0.5, cfg.Twilio.BreakerFilterShare, 0)
	require.Equal(t, 2*time.Minute, cfg.Twilio.BreakerFilterWindow)
	require.Equal(t, "subtok3n42", cfg.Twilio.VoiceSenders[0].Pool[1].AuthToken)
	tc := cfg.Twilio.channelConfig("https://nudge.example.com")
	require.Equal(t, "subtok3n42", tc.AccountTokens()["AC5ab00000000000000000000000000000"])
	rt := &runtime{cfg: cfg, logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	rt.cfg.PublicURL = "https://nudge.example.com"
	require.NoError(t, rt.buildSenders(nil))
	voice, ok := rt.senders[nudge.Voice].(*twilio.Voice)
	require.True(t, ok)
	key, cps := voice.SenderRate(&nudge.Message{Lender: "acme", Channel: nudge.Voice, To: "+14155550123"})
	require.Contains(t, []string{"twilio:voice:+14155550111", "twilio:voice:+14155550112"}, key)
	require.Positive(t, cps)

	cfg, err = LoadConfig(write("3"), none)
	require.NoError(t, err)
	rt = &runtime{cfg: cfg, logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	rt.cfg.PublicURL = "https://nudge.example.com"
	require.ErrorContains(t, rt.buildSenders(nil), "twilio.breaker_filter_share must be between 0 and 1 (a share of the delivery reports; 0 means 0.3), got 3")
}
