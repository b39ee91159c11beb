package compliance

import (
	"os"
	"testing"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/stretchr/testify/require"
)

func TestParseProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, p *Profile)
	}{
		{name: "tighten freely", yaml: `
name: strict
base: us
windows:
  voice: {start: "09:00", end: "20:00"}
caps:
  sms:
    - {window: 2d, max: 1}
    - {window: 7d, max: 2}
  voice:
    - {window: 7d, max: 3, count: all}
conversation_block_days: 10
require_consent: {email: true}
`, check: func(t *testing.T, p *Profile) {
			require.Equal(t, "strict", p.Name)
			require.Equal(t, "us", p.Base)
			require.Equal(t, Window{Start: 9 * 60, End: 20 * 60}, p.Windows[nudge.Voice])
			require.Equal(t, Window{Start: 8 * 60, End: 21 * 60}, p.Windows[nudge.SMS])
			require.Len(t, p.Caps[nudge.SMS], 2)
			require.Equal(t, nudge.ReasonFrequencyCap, p.Caps[nudge.SMS][0].Reason)
			require.Equal(t, nudge.ReasonFrequencyCap, p.Caps[nudge.Voice][0].Reason)
			require.Equal(t, 10, p.ConversationBlockDays)
			require.True(t, p.RequireConsent[nudge.Email])
			require.Empty(t, p.Overrides)
			require.True(t, p.LimitedContentVoicemail)
		}},
		{name: "cn base", yaml: "name: cnlender\nbase: cn\nmax_promise_days: 10\n", check: func(t *testing.T, p *Profile) {
			require.Equal(t, LangChinese, p.Language)
			require.Equal(t, 10, p.MaxPromiseDays)
			require.Equal(t, "Asia/Shanghai", p.FallbackZone)
			require.False(t, p.LimitedContentVoicemail)
		}},
		{name: "first-party collector needs no limited-content voicemail", yaml: "name: fp\nbase: us\ncollector: first-party\n", check: func(t *testing.T, p *Profile) {
			require.False(t, p.LimitedContentVoicemail)
		}},
		{name: "name defaults to the file name", yaml: "base: us\n", check: func(t *testing.T, p *Profile) {
			require.Equal(t, "lender", p.Name)
		}},
		{name: "loosen a window without override", yaml: "name: x\nbase: us\nwindows:\n  voice: {start: \"07:00\", end: \"21:00\"}\n",
			wantErr: []string{"lender.yaml:4: windows.voice: 07:00-21:00 loosens the us default 08:00-21:00"}},
		{name: "drop a cap without override", yaml: "name: x\nbase: us\ncaps:\n  sms:\n    - {window: 1d, max: 1}\n",
			wantErr: []string{"lender.yaml:5: caps.sms: 1/1d/all loosens the us default 1/1d/all, 4/7d/all"}},
		{name: "loosen call cap", yaml: "name: x\nbase: us\ncaps:\n  voice:\n    - {window: 7d, max: 8, count: calls}\n",
			wantErr: []string{"caps.voice", "7/7d/calls"}},
		{name: "shorter conversation block", yaml: "name: x\nbase: us\nconversation_block_days: 3\n",
			wantErr: []string{"lender.yaml:3: conversation_block_days: 3 loosens the us default 7"}},
		{name: "consent dropped", yaml: "name: x\nbase: us\nrequire_consent: {sms: false}\n",
			wantErr: []string{"require_consent.sms: false loosens the us default true"}},
		{name: "hold narrowed", yaml: "name: x\nbase: us\nhold_scope:\n  dispute: [email]\n",
			wantErr: []string{"hold_scope.dispute: email loosens the us default sms,voice,email"}},
		{name: "fallback moved", yaml: "name: x\nbase: us\nfallback: {zone: America/Chicago}\n",
			wantErr: []string{"fallback.zone: America/Chicago loosens the us default America/New_York"}},
		{name: "limited-content voicemail off", yaml: "name: x\nbase: us\nlimited_content_voicemail: false\n",
			wantErr: []string{"limited_content_voicemail: false loosens the us default true"}},
		{name: "override without reason", yaml: "name: x\nbase: us\nwindows:\n  sms: {start: \"07:00\", end: \"21:00\"}\noverrides:\n  - field: windows.sms\n",
			wantErr: []string{"lender.yaml:6: overrides: the override of \"windows.sms\" needs a written reason"}},
		{name: "override that loosens nothing", yaml: "name: x\nbase: us\noverrides:\n  - {field: windows.sms, reason: because}\n",
			wantErr: []string{"\"windows.sms\" loosens no default"}},
		{name: "override value mismatch", yaml: "name: x\nbase: us\nwindows:\n  sms: {start: \"07:00\", end: \"21:00\"}\noverrides:\n  - {field: windows.sms, value: \"06:00-21:00\", reason: because}\n",
			wantErr: []string{"says value \"06:00-21:00\" but the profile sets \"07:00-21:00\""}},
		{name: "unknown top-level key", yaml: "name: x\nbase: us\nquiet_hours: 21\n", wantErr: []string{"lender.yaml:3:", "quiet_hours"}},
		{name: "unknown nested key", yaml: "name: x\nbase: us\nwindows:\n  sms: {start: \"08:00\", stop: \"20:00\"}\n", wantErr: []string{"lender.yaml:4:", "stop"}},
		{name: "unknown channel", yaml: "name: x\nbase: us\nwindows:\n  fax: {start: \"08:00\", end: \"20:00\"}\n", wantErr: []string{"lender.yaml:4: windows.fax: unknown channel"}},
		{name: "bad base", yaml: "name: x\nbase: eu\n", wantErr: []string{"lender.yaml:2: base: must be us or cn"}},
		{name: "bad time", yaml: "name: x\nbase: us\nwindows:\n  sms: {start: \"8am\", end: \"20:00\"}\n", wantErr: []string{"lender.yaml:4"}},
		{name: "bad cap count", yaml: "name: x\nbase: us\ncaps:\n  sms:\n    - {window: 1d, max: 1, count: calls}\n    - {window: 7d, max: 4}\n", wantErr: []string{"caps.sms[0].count: \"calls\" applies to voice only"}},
		{name: "builtin name", yaml: "name: us\nbase: us\n", wantErr: []string{"name: a lender profile needs its own name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseProfile("lender.yaml", []byte(tc.yaml))
			if tc.wantErr != nil {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					require.ErrorContains(t, err, w)
				}
				return
			}
			require.NoError(t, err)
			tc.check(t, p)
		})
	}
}

func TestParseProfileFixtureOverrides(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/acme.yaml")
	require.NoError(t, err)
	p, err := ParseProfile("testdata/acme.yaml", data)
	require.NoError(t, err)
	require.Equal(t, "acme", p.Name)
	require.Equal(t, LangSpanish, p.Language)
	require.Equal(t, 21, p.MaxPromiseDays)
	require.False(t, p.LimitedContentVoicemail)
	require.Equal(t, []Override{
		{Field: "windows.sms", Value: "07:30-21:00", Reason: "State law review 2026-02: Pennsylvania borrowers asked for early texts."},
		{Field: "hold_scope.hardship", Value: "voice", Reason: "Hardship plans still get calls from the hardship team only."},
	}, p.Overrides)

	// 07:45 in New York: allowed only through the override, which the decision lists.
	a := account()
	d := Decide(Input{Account: a, Channel: nudge.SMS, Address: nyPhone, At: utc(t, "2026-06-02T11:45:00Z"), Profile: p})
	require.Equal(t, Send, d.Action, "decision %+v", d)
	require.Equal(t, []Override{p.Overrides[0]}, d.Overrides)
	require.Contains(t, d.Text(), "Override in force: windows.sms = 07:30-21:00")
	require.Contains(t, d.Explanation, "puede enviarse")

	// The hardship hold stops calls only.
	held := account(func(a *nudge.Account) { a.Holds = []nudge.Hold{{Kind: nudge.HoldHardship}} })
	d = Decide(Input{Account: held, Channel: nudge.Email, Address: email, At: utc(t, "2026-06-02T16:00:00Z"), Profile: p})
	require.Equal(t, Send, d.Action, "decision %+v", d)
	require.Contains(t, d.Overrides, p.Overrides[1])
	d = Decide(Input{Account: held, Channel: nudge.Voice, Address: nyPhone, At: utc(t, "2026-06-02T16:00:00Z"), Profile: p})
	require.Equal(t, Suppress, d.Action)
	require.Equal(t, nudge.ReasonHold, d.Reason)

	// Sunday is a blackout weekday.
	d = Decide(Input{Account: a, Channel: nudge.Email, Address: email, At: utc(t, "2026-06-07T16:00:00Z"), Profile: p})
	require.Equal(t, Defer, d.Action)
	require.Equal(t, nudge.ReasonBlackout, d.Reason)
}

func TestBuiltinAndRegistry(t *testing.T) {
	t.Parallel()
	us := builtin(t, "us")
	require.Equal(t, Window{Start: 8 * 60, End: 21 * 60}, us.Windows[nudge.Email])
	require.Equal(t, Window{Start: 11 * 60, End: 20 * 60}, us.FallbackWindow)
	require.Equal(t, 30, us.MaxPromiseDays)
	require.True(t, us.LimitedContentVoicemail)
	require.Equal(t, ThirdParty, us.Collector)
	require.True(t, us.Discloses())
	cn := builtin(t, "cn")
	require.False(t, cn.Discloses())
	require.Equal(t, Window{Start: 8 * 60, End: 22 * 60}, cn.Windows[nudge.Voice])
	require.Equal(t, 15, cn.MaxPromiseDays)
	require.Equal(t, []nudge.CapLimit{{Channel: nudge.Voice, Window: 24 * time.Hour, Max: 6, Count: nudge.CountUnanswered, PerAddress: true, Reason: nudge.ReasonUnansweredCap, Rule: RuleCNUnanswered}}, cn.Caps[nudge.Voice])

	us.Windows[nudge.SMS] = Window{}
	require.Equal(t, Window{Start: 8 * 60, End: 21 * 60}, builtin(t, "us").Windows[nudge.SMS], "Builtin returns a fresh copy")

	_, err := Builtin("eu")
	require.ErrorIs(t, err, ErrUnknownProfile)

	acme, err := ParseProfile("acme.yaml", []byte("base: cn\n"))
	require.NoError(t, err)
	r := NewRegistry(acme)
	for _, name := range []string{"us", "cn", "acme"} {
		p, err := r.Lookup(name)
		require.NoError(t, err)
		require.Equal(t, name, p.Name)
	}
	_, err = r.Lookup("other")
	require.ErrorIs(t, err, ErrUnknownProfile)
}
