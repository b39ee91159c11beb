package compliance

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/stretchr/testify/require"
)

func TestDecideCaps(t *testing.T) {
	t.Parallel()
	at := "2026-06-10T16:00:00Z" // Wednesday 12:00 in New York
	day := 24 * time.Hour
	cnVoice := func(a *nudge.Account) {
		a.Contacts = []nudge.Contact{
			{Channel: nudge.Voice, Address: cnPhone, Consent: true},
			{Channel: nudge.Voice, Address: "+8613912345678", Consent: true},
		}
	}
	cnCall := func(addr string, status nudge.AttemptStatus, ago time.Duration) func(time.Time) nudge.Attempt {
		return func(now time.Time) nudge.Attempt {
			return nudge.Attempt{Channel: nudge.Voice, Address: addr, Status: status, CreatedAt: now.Add(-ago)}
		}
	}
	hist := func(ch nudge.ChannelKind, status nudge.AttemptStatus, agos ...time.Duration) []func(time.Time) nudge.Attempt {
		var out []func(time.Time) nudge.Attempt
		for _, ago := range agos {
			out = append(out, func(now time.Time) nudge.Attempt { return attempt(ch, status, now.Add(-ago)) })
		}
		return out
	}
	join := func(parts ...[]func(time.Time) nudge.Attempt) []func(time.Time) nudge.Attempt {
		var out []func(time.Time) nudge.Attempt
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name    string
		profile string
		channel nudge.ChannelKind
		acct    func(*nudge.Account)
		history []func(time.Time) nudge.Attempt
		action  Action
		reason  nudge.Reason
		rule    string
		until   string
	}{
		{name: "sms: first of the day", history: hist(nudge.SMS, nudge.AttemptDelivered, 25*time.Hour), action: Send},
		{name: "sms: 1 a day", history: hist(nudge.SMS, nudge.AttemptDelivered, 22*time.Hour), action: Defer, reason: nudge.ReasonFrequencyCap, rule: RuleUSVolume, until: "2026-06-10T18:00:00Z"},
		{name: "sms: a failed text still counts", history: hist(nudge.SMS, nudge.AttemptFailed, 2*time.Hour), action: Defer, reason: nudge.ReasonFrequencyCap, until: "2026-06-11T14:00:00Z"},
		{name: "sms: other channels do not count", history: hist(nudge.Email, nudge.AttemptDelivered, time.Hour), action: Send},
		{name: "sms: 3 in 7 days", history: hist(nudge.SMS, nudge.AttemptDelivered, 6*day, 4*day, 2*day), action: Send},
		{name: "sms: 4 in 7 days", history: hist(nudge.SMS, nudge.AttemptDelivered, 6*day, 5*day, 4*day, 2*day), action: Defer, reason: nudge.ReasonFrequencyCap, until: "2026-06-11T16:00:00Z"},
		{name: "sms: 4 in 7 days, oldest leaves at night", history: hist(nudge.SMS, nudge.AttemptDelivered, 6*day+10*time.Hour, 5*day, 4*day, 2*day), action: Defer, reason: nudge.ReasonFrequencyCap, until: "2026-06-11T12:00:00Z"},
		{name: "email: 1 a day", channel: nudge.Email, history: hist(nudge.Email, nudge.AttemptSent, 3*time.Hour), action: Defer, reason: nudge.ReasonFrequencyCap, until: "2026-06-11T13:00:00Z"},
		{name: "email: yesterday", channel: nudge.Email, history: hist(nudge.Email, nudge.AttemptSent, 24*time.Hour), action: Send},
		{name: "voice: 6 counted calls", channel: nudge.Voice, history: hist(nudge.Voice, nudge.AttemptNoAnswer, 6*day, 5*day, 4*day, 3*day, 2*day, day), action: Send},
		{name: "voice: 7 counted calls", channel: nudge.Voice, history: join(
			hist(nudge.Voice, nudge.AttemptNoAnswer, 6*day, 5*day, 4*day, 3*day),
			hist(nudge.Voice, nudge.AttemptCompleted, 2*day),
			hist(nudge.Voice, nudge.AttemptRinging, day),
			hist(nudge.Voice, nudge.AttemptUnknown, 2*time.Hour),
		), action: Defer, reason: nudge.ReasonCallCap, rule: RuleUSCalls, until: "2026-06-11T16:00:00Z"},
		{name: "voice: busy and failed do not count", channel: nudge.Voice, history: join(
			hist(nudge.Voice, nudge.AttemptNoAnswer, 6*day, 5*day, 4*day, 3*day, 2*day, day),
			hist(nudge.Voice, nudge.AttemptBusy, 5*time.Hour, 4*time.Hour),
			hist(nudge.Voice, nudge.AttemptFailed, 3*time.Hour),
		), action: Send},
		{name: "voice: calls older than 7 days do not count", channel: nudge.Voice, history: hist(nudge.Voice, nudge.AttemptNoAnswer, 8*day, 7*day, 6*day, 5*day, 4*day, 3*day, 2*day), action: Send},
		{name: "cn voice: 5 unanswered today", profile: "cn", channel: nudge.Voice, acct: cnVoice, history: []func(time.Time) nudge.Attempt{
			cnCall(cnPhone, nudge.AttemptNoAnswer, 5*time.Hour), cnCall(cnPhone, nudge.AttemptBusy, 4*time.Hour),
			cnCall(cnPhone, nudge.AttemptNoAnswer, 3*time.Hour), cnCall(cnPhone, nudge.AttemptFailed, 2*time.Hour),
			cnCall(cnPhone, nudge.AttemptNoAnswer, time.Hour),
		}, action: Send},
		{name: "cn voice: 6 unanswered today", profile: "cn", channel: nudge.Voice, acct: cnVoice, history: []func(time.Time) nudge.Attempt{
			cnCall(cnPhone, nudge.AttemptNoAnswer, 6*time.Hour), cnCall(cnPhone, nudge.AttemptBusy, 5*time.Hour),
			cnCall(cnPhone, nudge.AttemptNoAnswer, 4*time.Hour), cnCall(cnPhone, nudge.AttemptFailed, 3*time.Hour),
			cnCall(cnPhone, nudge.AttemptNoAnswer, 2*time.Hour), cnCall(cnPhone, nudge.AttemptCanceled, time.Hour),
		}, action: Defer, reason: nudge.ReasonUnansweredCap, rule: RuleCNUnanswered, until: "2026-06-11T02:00:00Z"},
		{name: "cn voice: answered calls do not count", profile: "cn", channel: nudge.Voice, acct: cnVoice, history: []func(time.Time) nudge.Attempt{
			cnCall(cnPhone, nudge.AttemptNoAnswer, 6*time.Hour), cnCall(cnPhone, nudge.AttemptNoAnswer, 5*time.Hour),
			cnCall(cnPhone, nudge.AttemptNoAnswer, 4*time.Hour), cnCall(cnPhone, nudge.AttemptNoAnswer, 3*time.Hour),
			cnCall(cnPhone, nudge.AttemptNoAnswer, 2*time.Hour), cnCall(cnPhone, nudge.AttemptCompleted, time.Hour),
		}, action: Send},
		{name: "cn voice: per contact", profile: "cn", channel: nudge.Voice, acct: cnVoice, history: []func(time.Time) nudge.Attempt{
			cnCall("+8613912345678", nudge.AttemptNoAnswer, 6*time.Hour), cnCall("+8613912345678", nudge.AttemptNoAnswer, 5*time.Hour),
			cnCall("+8613912345678", nudge.AttemptNoAnswer, 4*time.Hour), cnCall("+8613912345678", nudge.AttemptNoAnswer, 3*time.Hour),
			cnCall("+8613912345678", nudge.AttemptNoAnswer, 2*time.Hour), cnCall("+8613912345678", nudge.AttemptNoAnswer, time.Hour),
		}, action: Send},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prof := "us"
			if tc.profile != "" {
				prof = tc.profile
			}
			ch := tc.channel
			if ch == "" {
				ch = nudge.SMS
			}
			var mods []func(*nudge.Account)
			if tc.acct != nil {
				mods = append(mods, tc.acct)
			}
			a := account(mods...)
			now := utc(t, at)
			if prof == "cn" {
				now = utc(t, "2026-06-10T08:00:00Z") // 16:00 in Shanghai
			}
			var history []nudge.Attempt
			for _, h := range tc.history {
				history = append(history, h(now))
			}
			in := Input{Account: a, Channel: ch, Address: addressOf(a, ch), At: now, History: history, Profile: builtin(t, prof)}
			d := Decide(in)
			require.Equal(t, tc.action, d.Action, "decision %+v", d)
			require.Equal(t, tc.reason, d.Reason)
			if tc.rule != "" {
				require.Equal(t, tc.rule, d.Rule)
			}
			if tc.until != "" {
				require.Equal(t, utc(t, tc.until), d.Until)
				in.At = d.Until
				require.Equal(t, Send, Decide(in).Action, "a deferral must be allowed at its own instant")
			}
		})
	}
}

func TestDecideConversationBlock(t *testing.T) {
	t.Parallel()
	// A conversation at 14:00 EDT on Monday 2026-06-01: day 1 is June 1, so
	// calls are blocked through June 7 and allowed from June 8.
	conv := attempt(nudge.Voice, nudge.AttemptCompleted, utc(t, "2026-06-01T18:00:00Z"))
	conv.AnsweredBy = "human"
	conv.Conversation = true
	tests := []struct {
		name    string
		channel nudge.ChannelKind
		at      string
		action  Action
		reason  nudge.Reason
		until   string
	}{
		{name: "the same day", channel: nudge.Voice, at: "2026-06-01T20:00:00Z", action: Defer, reason: nudge.ReasonConversation, until: "2026-06-08T12:00:00Z"},
		{name: "day 7, evening", channel: nudge.Voice, at: "2026-06-08T00:30:00Z", action: Defer, reason: nudge.ReasonConversation, until: "2026-06-08T12:00:00Z"},
		{name: "day 8, 08:00", channel: nudge.Voice, at: "2026-06-08T12:00:00Z", action: Send},
		{name: "texts are not blocked", channel: nudge.SMS, at: "2026-06-02T16:00:00Z", action: Send},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := account()
			d := Decide(Input{Account: a, Channel: tc.channel, Address: nyPhone, At: utc(t, tc.at), History: []nudge.Attempt{conv}, Profile: builtin(t, "us")})
			require.Equal(t, tc.action, d.Action, "decision %+v", d)
			require.Equal(t, tc.reason, d.Reason)
			if tc.until != "" {
				require.Equal(t, RuleUSConversation, d.Rule)
				require.Equal(t, utc(t, tc.until), d.Until)
			}
		})
	}

	t.Run("cn has no conversation block", func(t *testing.T) {
		t.Parallel()
		a := account(func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.Voice, Address: cnPhone, Consent: true}}
		})
		c := conv
		c.Address = cnPhone
		d := Decide(Input{Account: a, Channel: nudge.Voice, Address: cnPhone, At: utc(t, "2026-06-02T02:00:00Z"), History: []nudge.Attempt{c}, Profile: builtin(t, "cn")})
		require.Equal(t, Send, d.Action, "decision %+v", d)
	})
}
