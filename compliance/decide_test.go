package compliance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/stretchr/testify/require"
)

func TestDecideRules(t *testing.T) {
	t.Parallel()
	noon := "2026-06-02T16:00:00Z" // 12:00 in New York
	tests := []struct {
		name    string
		profile string
		channel nudge.ChannelKind
		acct    func(*nudge.Account)
		input   func(*Input)
		action  Action
		reason  nudge.Reason
		rule    string
	}{
		{name: "send inside the window", action: Send, rule: RuleUSTime},
		{name: "paid account", acct: func(a *nudge.Account) { a.Status = nudge.StatusPaid }, action: Suppress, reason: nudge.ReasonAccountPaid},
		{name: "closed account", acct: func(a *nudge.Account) { a.Status = nudge.StatusClosed }, action: Suppress, reason: nudge.ReasonAccountClosed},
		{name: "charged-off account", acct: func(a *nudge.Account) { a.Status = nudge.StatusChargedOff }, action: Suppress, reason: nudge.ReasonAccountClosed},
		{name: "dispute hold", acct: func(a *nudge.Account) { a.Holds = []nudge.Hold{{Kind: nudge.HoldDispute}} }, action: Suppress, reason: nudge.ReasonHold, rule: "15 U.S.C. 1692g(b)"},
		{name: "cease communication hold on email", channel: nudge.Email, acct: func(a *nudge.Account) { a.Holds = []nudge.Hold{{Kind: nudge.HoldCeaseCommunication}} }, action: Suppress, reason: nudge.ReasonHold, rule: "12 CFR 1006.6(c)(1)"},
		{name: "hardship hold", channel: nudge.Voice, acct: func(a *nudge.Account) { a.Holds = []nudge.Hold{{Kind: nudge.HoldHardship}} }, action: Suppress, reason: nudge.ReasonHold, rule: "lender hold (hardship)"},
		{name: "opted out", input: func(in *Input) { in.OptedOut = true }, action: Suppress, reason: nudge.ReasonOptedOut, rule: RuleUSOptOutText},
		{name: "no contact at address", input: func(in *Input) { in.Address = "+12125559999" }, action: Suppress, reason: nudge.ReasonNoContact},
		{name: "wrong party", acct: func(a *nudge.Account) { a.Contacts[0].State = nudge.ContactWrongParty }, action: Suppress, reason: nudge.ReasonWrongParty},
		{name: "undeliverable", channel: nudge.Voice, acct: func(a *nudge.Account) { a.Contacts[1].State = nudge.ContactUndeliverable }, action: Suppress, reason: nudge.ReasonUndeliverable},
		{name: "workplace email", channel: nudge.Email, acct: func(a *nudge.Account) { a.Contacts[2].Workplace = true }, action: Suppress, reason: nudge.ReasonWorkplaceEmail, rule: RuleUSWorkplace},
		{name: "sms without consent", acct: func(a *nudge.Account) { a.Contacts[0].Consent = false }, action: Suppress, reason: nudge.ReasonNoConsent, rule: RuleUSTextConsent},
		{name: "voice without consent", channel: nudge.Voice, acct: func(a *nudge.Account) { a.Contacts[1].Consent = false }, action: Suppress, reason: nudge.ReasonNoConsent, rule: RuleUSCallConsent},
		{name: "email needs no consent", channel: nudge.Email, action: Send},
		{name: "payment claimed", input: func(in *Input) { in.PaymentClaimed = true }, action: Suppress, reason: nudge.ReasonPaymentClaimed},
		{name: "payment claimed hold", acct: func(a *nudge.Account) { a.Holds = []nudge.Hold{{Kind: nudge.HoldPaymentClaimed}} }, action: Suppress, reason: nudge.ReasonPaymentClaimed},
		{name: "promise pending through its date", input: func(in *Input) {
			in.Promise = &nudge.Promise{Status: nudge.PromisePending, Due: nudge.MustDate("2026-06-02")}
		}, action: Suppress, reason: nudge.ReasonPromiseActive},
		{name: "promise date passed", input: func(in *Input) {
			in.Promise = &nudge.Promise{Status: nudge.PromisePending, Due: nudge.MustDate("2026-06-01")}
		}, action: Send},
		{name: "broken promise does not pause", input: func(in *Input) {
			in.Promise = &nudge.Promise{Status: nudge.PromiseBroken, Due: nudge.MustDate("2026-06-10")}
		}, action: Send},
		{name: "unknown stated zone", acct: func(a *nudge.Account) { a.Borrower.Timezone = "Mars/Olympus" }, action: Suppress, reason: nudge.ReasonUnknownTimezone},
		{name: "quiet hours", input: func(in *Input) { in.At = utc(t, "2026-06-02T11:00:00Z") }, action: Defer, reason: nudge.ReasonQuietHours, rule: RuleUSTime},
		{name: "no common window", acct: func(a *nudge.Account) {
			a.Borrower.Timezone = "Europe/London"
			a.Address = &nudge.Address{Country: "US", Region: "CA"}
			a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Voice, Address: cnPhone})
			a.Contacts[0].Address = cnPhone
		}, input: func(in *Input) { in.At = utc(t, "2026-01-15T12:00:00Z"); in.Address = cnPhone }, action: Suppress, reason: nudge.ReasonNoCommonWindow, rule: RuleUSTime},
		{name: "cn send inside 08:00-22:00", profile: "cn", acct: func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: cnPhone, Consent: true}}
		}, input: func(in *Input) { in.At = utc(t, "2026-06-02T13:30:00Z"); in.Address = cnPhone }, action: Send, rule: RuleCNTimeNIFA},
		{name: "cn quiet after 22:00", profile: "cn", acct: func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.Voice, Address: cnPhone, Consent: true}}
		}, channel: nudge.Voice, input: func(in *Input) { in.At = utc(t, "2026-06-02T14:00:00Z"); in.Address = cnPhone }, action: Defer, reason: nudge.ReasonQuietHours, rule: RuleCNTime},
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
			in := Input{Account: a, Channel: ch, Address: addressOf(a, ch), At: utc(t, noon), Profile: builtin(t, prof)}
			if tc.input != nil {
				tc.input(&in)
			}
			d := Decide(in)
			require.Equal(t, tc.action, d.Action, "decision %+v", d)
			require.Equal(t, tc.reason, d.Reason)
			if tc.rule != "" {
				require.Equal(t, tc.rule, d.Rule)
			}
			require.NotEmpty(t, d.Rule)
			require.NotEmpty(t, d.Explanation)
			require.NotEmpty(t, d.Zones)
			require.Equal(t, prof, d.Profile)
			if d.Action == Send {
				require.Equal(t, in.Profile.Caps[ch], d.Limits)
			} else {
				require.Empty(t, d.Limits)
			}
			if d.Action == Defer {
				require.True(t, d.Until.After(in.At))
			} else {
				require.True(t, d.Until.IsZero())
			}
		})
	}
}

func TestDecideTime(t *testing.T) {
	t.Parallel()
	withZone := func(tz string) func(*nudge.Account) {
		return func(a *nudge.Account) {
			a.Borrower.Timezone = tz
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+18005550123", Consent: true}}
		}
	}
	cnAcct := func(a *nudge.Account) {
		a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: cnPhone, Consent: true}}
	}
	tests := []struct {
		name    string
		profile string
		acct    func(*nudge.Account)
		at      string
		action  Action
		until   string
		zones   []string
	}{
		{name: "New York spring forward, before the window", at: "2026-03-08T06:30:00Z", action: Defer, until: "2026-03-08T12:00:00Z", zones: []string{"America/New_York"}},
		{name: "New York spring forward, the evening before", at: "2026-03-08T02:30:00Z", action: Defer, until: "2026-03-08T12:00:00Z"},
		{name: "New York spring forward, 08:00 EDT", at: "2026-03-08T12:00:00Z", action: Send},
		{name: "New York spring forward, 07:59 EDT", at: "2026-03-08T11:59:00Z", action: Defer, until: "2026-03-08T12:00:00Z"},
		{name: "New York spring forward, 20:59 EDT", at: "2026-03-09T00:59:00Z", action: Send},
		{name: "New York spring forward, 21:00 EDT", at: "2026-03-09T01:00:00Z", action: Defer, until: "2026-03-09T12:00:00Z"},
		{name: "New York fall back, repeated hour", at: "2026-11-01T05:30:00Z", action: Defer, until: "2026-11-01T13:00:00Z"},
		{name: "New York fall back, second 01:30", at: "2026-11-01T06:30:00Z", action: Defer, until: "2026-11-01T13:00:00Z"},
		{name: "New York fall back, 07:59 EST", at: "2026-11-01T12:59:00Z", action: Defer, until: "2026-11-01T13:00:00Z"},
		{name: "New York fall back, 20:59 EST", at: "2026-11-02T01:59:00Z", action: Send},
		{name: "New York fall back, 21:00 EST", at: "2026-11-02T02:00:00Z", action: Defer, until: "2026-11-02T13:00:00Z"},
		{name: "Los Angeles spring forward", acct: withZone("America/Los_Angeles"), at: "2026-03-08T10:00:00Z", action: Defer, until: "2026-03-08T15:00:00Z", zones: []string{"America/Los_Angeles"}},
		{name: "Phoenix has no DST in March", acct: func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+16025550123", Consent: true}}
		}, at: "2026-03-08T12:00:00Z", action: Defer, until: "2026-03-08T15:00:00Z", zones: []string{"America/Phoenix"}},
		{name: "Phoenix has no DST in November", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "AZ"}
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+16025550123", Consent: true}}
		}, at: "2026-11-01T12:00:00Z", action: Defer, until: "2026-11-01T15:00:00Z", zones: []string{"America/Phoenix"}},
		{name: "Shanghai, cn, after 22:00", profile: "cn", acct: cnAcct, at: "2026-03-08T14:30:00Z", action: Defer, until: "2026-03-09T00:00:00Z", zones: []string{"Asia/Shanghai"}},
		{name: "Shanghai, cn, 21:59", profile: "cn", acct: cnAcct, at: "2026-03-08T13:59:00Z", action: Send},
		{name: "Shanghai, us, after 21:00", acct: cnAcct, at: "2026-03-08T13:30:00Z", action: Defer, until: "2026-03-09T00:00:00Z"},
		{name: "phone Eastern, address California: 10:59 ET", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "CA"}
		}, at: "2026-06-01T14:59:00Z", action: Defer, until: "2026-06-01T15:00:00Z", zones: []string{"America/Los_Angeles", "America/New_York"}},
		{name: "phone Eastern, address California: 11:00 ET", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "CA"}
		}, at: "2026-06-01T15:00:00Z", action: Send},
		{name: "phone Eastern, address California: 20:59 ET", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "CA"}
		}, at: "2026-06-02T00:59:00Z", action: Send},
		{name: "phone Eastern, address California: 21:00 ET", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "CA"}
		}, at: "2026-06-02T01:00:00Z", action: Defer, until: "2026-06-02T15:00:00Z"},
		{name: "around midnight, 23:59 local", at: "2026-06-02T03:59:00Z", action: Defer, until: "2026-06-02T12:00:00Z"},
		{name: "around midnight, 00:00 local", at: "2026-06-02T04:00:00Z", action: Defer, until: "2026-06-02T12:00:00Z"},
		{name: "around midnight, UTC midnight is 20:00 local", at: "2026-06-02T00:00:00Z", action: Send},
		{name: "no location data: fallback 11:00-20:00 ET", acct: func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+18005550123", Consent: true}}
		}, at: "2026-06-01T14:00:00Z", action: Defer, until: "2026-06-01T15:00:00Z", zones: []string{"America/New_York"}},
		{name: "no location data: 20:00 ET is closed", acct: func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+18005550123", Consent: true}}
		}, at: "2026-06-02T00:00:00Z", action: Defer, until: "2026-06-02T15:00:00Z"},
		{name: "Kentucky spans two zones", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "KY"}
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+18005550123", Consent: true}}
		}, at: "2026-06-02T00:30:00Z", action: Send, zones: []string{"America/Chicago", "America/New_York"}},
		{name: "Kentucky: 21:00 Eastern is closed", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "KY"}
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+18005550123", Consent: true}}
		}, at: "2026-06-02T01:00:00Z", action: Defer, until: "2026-06-02T13:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prof := "us"
			if tc.profile != "" {
				prof = tc.profile
			}
			var mods []func(*nudge.Account)
			if tc.acct != nil {
				mods = append(mods, tc.acct)
			}
			a := account(mods...)
			p := builtin(t, prof)
			in := Input{Account: a, Channel: nudge.SMS, Address: addressOf(a, nudge.SMS), At: utc(t, tc.at), Profile: p}
			d := Decide(in)
			require.Equal(t, tc.action, d.Action, "decision %+v", d)
			if tc.zones != nil {
				require.Equal(t, tc.zones, d.Zones)
			}
			if tc.action == Defer {
				require.Equal(t, nudge.ReasonQuietHours, d.Reason)
				require.Equal(t, utc(t, tc.until), d.Until)
				next, err := NextAllowed(p, a, nudge.SMS, in.At)
				require.NoError(t, err)
				require.Equal(t, d.Until, next)
			} else {
				next, err := NextAllowed(p, a, nudge.SMS, in.At)
				require.NoError(t, err)
				require.Equal(t, in.At, next)
			}
		})
	}
}

// TestDecideWindowReachesMidnight covers a window that ends at 24:00.
func TestDecideWindowReachesMidnight(t *testing.T) {
	t.Parallel()
	p := builtin(t, "us")
	p.Windows[nudge.SMS] = Window{Start: MustClockTime("08:00"), End: MustClockTime("24:00")}
	a := account()
	tests := []struct {
		name   string
		at     string
		action Action
		until  string
	}{
		{name: "23:59 local", at: "2026-06-02T03:59:00Z", action: Send},
		{name: "00:00 local", at: "2026-06-02T04:00:00Z", action: Defer, until: "2026-06-02T12:00:00Z"},
		{name: "00:01 local", at: "2026-06-02T04:01:00Z", action: Defer, until: "2026-06-02T12:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(Input{Account: a, Channel: nudge.SMS, Address: nyPhone, At: utc(t, tc.at), Profile: p})
			require.Equal(t, tc.action, d.Action, "decision %+v", d)
			if tc.until != "" {
				require.Equal(t, utc(t, tc.until), d.Until)
			}
		})
	}
}

func TestDecideBlackout(t *testing.T) {
	t.Parallel()
	p := builtin(t, "us")
	p.BlackoutDates = []nudge.Date{nudge.MustDate("2026-07-03"), nudge.MustDate("2026-07-04")}
	la := func(a *nudge.Account) { a.Address = &nudge.Address{Country: "US", Region: "CA"} }
	tests := []struct {
		name   string
		acct   func(*nudge.Account)
		at     string
		action Action
		reason nudge.Reason
		until  string
	}{
		{name: "on a holiday", at: "2026-07-03T16:00:00Z", action: Defer, reason: nudge.ReasonBlackout, until: "2026-07-05T12:00:00Z"},
		{name: "evening before a holiday is quiet hours", at: "2026-07-03T02:00:00Z", action: Defer, reason: nudge.ReasonQuietHours, until: "2026-07-05T12:00:00Z"},
		{name: "the day after", at: "2026-07-05T16:00:00Z", action: Send},
		{name: "holiday still running in the western zone", acct: la, at: "2026-07-05T03:00:00Z", action: Defer, reason: nudge.ReasonQuietHours, until: "2026-07-05T15:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mods []func(*nudge.Account)
			if tc.acct != nil {
				mods = append(mods, tc.acct)
			}
			a := account(mods...)
			d := Decide(Input{Account: a, Channel: nudge.SMS, Address: nyPhone, At: utc(t, tc.at), Profile: p})
			require.Equal(t, tc.action, d.Action, "decision %+v", d)
			require.Equal(t, tc.reason, d.Reason)
			if tc.until != "" {
				require.Equal(t, utc(t, tc.until), d.Until)
			}
		})
	}

	t.Run("weekday blackout", func(t *testing.T) {
		t.Parallel()
		p := builtin(t, "us")
		p.BlackoutWeekdays = []time.Weekday{time.Sunday}
		d := Decide(Input{Account: account(), Channel: nudge.SMS, Address: nyPhone, At: utc(t, "2026-06-07T16:00:00Z"), Profile: p})
		require.Equal(t, Defer, d.Action)
		require.Equal(t, nudge.ReasonBlackout, d.Reason)
		require.Equal(t, utc(t, "2026-06-08T12:00:00Z"), d.Until)
	})

	t.Run("blackout for longer than the horizon suppresses", func(t *testing.T) {
		t.Parallel()
		p := builtin(t, "us")
		p.BlackoutWeekdays = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
		d := Decide(Input{Account: account(), Channel: nudge.SMS, Address: nyPhone, At: utc(t, "2026-06-07T16:00:00Z"), Profile: p})
		require.Equal(t, Suppress, d.Action)
		require.Equal(t, nudge.ReasonBlackout, d.Reason)
		_, err := NextAllowed(p, account(), nudge.SMS, utc(t, "2026-06-07T16:00:00Z"))
		require.ErrorIs(t, err, ErrBlackout)
	})
}

func TestNextAllowedErrors(t *testing.T) {
	t.Parallel()
	p := builtin(t, "us")
	a := account(func(a *nudge.Account) {
		a.Borrower.Timezone = "Europe/London"
		a.Address = &nudge.Address{Country: "US", Region: "CA"}
		a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: cnPhone, Consent: true}}
	})
	_, err := NextAllowed(p, a, nudge.SMS, utc(t, "2026-01-15T12:00:00Z"))
	require.ErrorIs(t, err, ErrNoCommonWindow)
	require.Equal(t, nudge.ReasonNoCommonWindow, ReasonOf(err))

	bad := account(func(a *nudge.Account) { a.Borrower.Timezone = "Nowhere/Town" })
	_, err = NextAllowed(p, bad, nudge.SMS, utc(t, "2026-01-15T12:00:00Z"))
	require.ErrorIs(t, err, ErrUnknownTimezone)

	_, err = NextAllowed(nil, a, nudge.SMS, utc(t, "2026-01-15T12:00:00Z"))
	require.Error(t, err)
	_, err = NextAllowed(p, a, "fax", utc(t, "2026-01-15T12:00:00Z"))
	require.ErrorContains(t, err, "fax")
}

func TestDecisionJSON(t *testing.T) {
	t.Parallel()
	a := account()
	d := Decide(Input{Account: a, Channel: nudge.SMS, Address: nyPhone, At: utc(t, "2026-03-08T06:30:00Z"), Profile: builtin(t, "us")})
	b, err := json.Marshal(d)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "defer", m["action"])
	require.Equal(t, "2026-03-08T12:00:00Z", m["until"])
	require.Equal(t, "quiet_hours", m["reason"])
	require.Equal(t, RuleUSTime, m["rule"])
	require.Equal(t, []any{"America/New_York"}, m["zones"])
	require.Equal(t, "Deferred until 2026-03-08 08:00 EDT (America/New_York): text message contact is allowed only between 08:00-21:00 local time in every candidate zone (America/New_York).", m["explanation"])
	require.NotContains(t, m, "overrides")

	var back Decision
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, d.Until, back.Until)
	require.Equal(t, d.Reason, back.Reason)

	send := Decide(Input{Account: a, Channel: nudge.SMS, Address: nyPhone, At: utc(t, "2026-03-08T16:00:00Z"), Profile: builtin(t, "us")})
	b, err = json.Marshal(send)
	require.NoError(t, err)
	require.NotContains(t, string(b), `"until"`)
	require.NotContains(t, string(b), `"reason"`)
	require.Contains(t, send.Text(), RuleUSTime)
	require.Contains(t, send.Text(), send.Explanation)
}

func TestExplanationLanguages(t *testing.T) {
	t.Parallel()
	for lang, msgs := range messages {
		for reason := range messages[LangEnglish] {
			require.NotEmpty(t, msgs[reason], "language %s lacks reason %q", lang, reason)
		}
		require.Len(t, msgs, len(messages[LangEnglish]), "language %s", lang)
	}
	tests := []struct {
		name string
		lang string
		want string
	}{
		{name: "english", lang: LangEnglish, want: "Suppressed: this address has opted out of text message contact."},
		{name: "spanish", lang: LangSpanish, want: "Suprimido: esta dirección se dio de baja del contacto por SMS."},
		{name: "chinese", lang: LangChinese, want: "已禁止：该联系方式已退订短信联系。"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := builtin(t, "us")
			p.Language = tc.lang
			d := Decide(Input{Account: account(), Channel: nudge.SMS, Address: nyPhone, At: utc(t, "2026-06-02T16:00:00Z"), OptedOut: true, Profile: p})
			require.Equal(t, tc.want, d.Explanation)
		})
	}
}
