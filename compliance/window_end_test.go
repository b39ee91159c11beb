package compliance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestDecideWindowEndAndMargin(t *testing.T) {
	t.Parallel()
	twoZones := func(a *nudge.Account) { a.Address = &nudge.Address{Country: "US", Region: "CA"} }
	tests := []struct {
		name      string
		acct      func(*nudge.Account)
		channel   nudge.ChannelKind
		margin    time.Duration
		at        string
		action    Action
		windowEnd string
		until     string
	}{
		{name: "an SMS at 20:00 New York may reach the borrower until 21:00", channel: nudge.SMS,
			at: "2026-06-01T00:00:00Z", action: Send, windowEnd: "2026-06-01T01:00:00Z"},
		{name: "two zones: the earlier end wins (New York's 21:00)", acct: twoZones, channel: nudge.SMS,
			at: "2026-06-01T23:30:00Z", action: Send, windowEnd: "2026-06-02T01:00:00Z"},
		{name: "a call 11 minutes before the end starts", channel: nudge.Voice, margin: 10 * time.Minute,
			at: "2026-06-01T00:49:00Z", action: Send, windowEnd: "2026-06-01T01:00:00Z"},
		{name: "a call 9 minutes before the end waits for the morning", channel: nudge.Voice, margin: 10 * time.Minute,
			at: "2026-06-01T00:51:00Z", action: Defer, until: "2026-06-01T12:00:00Z"},
		{name: "a margin larger than the window leaves no time", channel: nudge.Voice, margin: 14 * time.Hour,
			at: "2026-06-01T15:00:00Z", action: Suppress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mods []func(*nudge.Account)
			if tt.acct != nil {
				mods = append(mods, tt.acct)
			}
			a := account(mods...)
			d := Decide(Input{Account: a, Channel: tt.channel, Address: addressOf(a, tt.channel), At: utc(t, tt.at),
				Profile: builtin(t, "us"), EndMargin: tt.margin})
			require.Equal(t, tt.action, d.Action, d.Explanation)
			if tt.windowEnd != "" {
				require.Equal(t, utc(t, tt.windowEnd), d.WindowEnd)
			}
			if tt.until != "" {
				require.Equal(t, utc(t, tt.until), d.Until)
			}
		})
	}
}
