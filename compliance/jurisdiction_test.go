package compliance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

const (
	maPhone = "+16175550123" // Boston
	waPhone = "+12065550123" // Seattle
	inPhone = "+919812345678"
)

// livingAt returns an account modifier that puts the borrower at addr (nil
// for none) with phone as their sms and voice number, with consent.
func livingAt(addr *nudge.Address, phone string) func(*nudge.Account) {
	return func(a *nudge.Account) {
		a.Address = addr
		a.Contacts = []nudge.Contact{
			{Channel: nudge.SMS, Address: phone, Consent: true},
			{Channel: nudge.Voice, Address: phone, Consent: true},
			{Channel: nudge.Email, Address: email},
		}
	}
}

// optInNYC is the us profile of a lender that enables the NYC rules.
func optInNYC(t *testing.T) *Profile {
	t.Helper()
	p := builtin(t, "us")
	p.Name = "acme"
	p.OptInJurisdictions = []string{"us-nyc"}
	return p
}

func TestJurisdictions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		addr    *nudge.Address
		phone   string
		profile func(t *testing.T) *Profile
		want    []string
	}{
		{name: "Massachusetts address", addr: &nudge.Address{Country: "US", Region: "MA"}, phone: nyPhone, want: []string{"us-ma"}},
		{name: "Massachusetts number, no address", phone: maPhone, want: []string{"us-ma"}},
		{name: "the address wins over the number", addr: &nudge.Address{Country: "US", Region: "CA"}, phone: maPhone, want: nil},
		{name: "a US address without a state asks the number", addr: &nudge.Address{Country: "US"}, phone: waPhone, want: []string{"us-wa"}},
		{name: "Washington address with the state prefix", addr: &nudge.Address{Country: "us", Region: "US-wa"}, phone: nyPhone, want: []string{"us-wa"}},
		{name: "India by address", addr: &nudge.Address{Country: "IN", Region: "MH"}, phone: inPhone, want: []string{"in"}},
		{name: "India by number", phone: inPhone, want: []string{"in"}},
		{name: "a foreign number does not override a US address", addr: &nudge.Address{Country: "US", Region: "TX"}, phone: inPhone, want: nil},
		{name: "China applies to a us lender", addr: &nudge.Address{Country: "CN", Region: "GD"}, phone: cnPhone, want: []string{"cn"}},
		{name: "Hong Kong is not the mainland", addr: &nudge.Address{Country: "CN", Region: "HK"}, phone: "+85291234567", want: nil},
		{name: "us applies to a cn lender", addr: &nudge.Address{Country: "US", Region: "MA"}, phone: maPhone,
			profile: func(t *testing.T) *Profile { return builtin(t, "cn") }, want: []string{"us", "us-ma"}},
		{name: "a territory is the US", addr: &nudge.Address{Country: "PR"}, phone: "+17875550123",
			profile: func(t *testing.T) *Profile { return builtin(t, "cn") }, want: []string{"us"}},
		{name: "NYC only when the lender opts in", addr: &nudge.Address{Country: "US", Region: "NY", PostalCode: "10001"}, phone: nyPhone, want: nil},
		{name: "NYC by ZIP code", addr: &nudge.Address{Country: "US", Region: "NY", PostalCode: "11201-1234"}, phone: "+15185550123",
			profile: optInNYC, want: []string{"us-nyc"}},
		{name: "upstate New York is not the city", addr: &nudge.Address{Country: "US", Region: "NY", PostalCode: "12207"}, phone: nyPhone,
			profile: optInNYC, want: nil},
		{name: "New York without a ZIP code asks the number", addr: &nudge.Address{Country: "US", Region: "NY"}, phone: nyPhone,
			profile: optInNYC, want: []string{"us-nyc"}},
		{name: "NYC by number", phone: "+17185550123", profile: optInNYC, want: []string{"us-nyc"}},
		{name: "no location data", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := account(livingAt(tt.addr, tt.phone))
			if tt.phone == "" {
				a.Contacts = []nudge.Contact{{Channel: nudge.Email, Address: email}}
			}
			p := builtin(t, "us")
			if tt.profile != nil {
				p = tt.profile(t)
			}
			require.Equal(t, tt.want, Jurisdictions(a, p))
		})
	}
}

func TestBuiltinJurisdictionProfiles(t *testing.T) {
	t.Parallel()
	for _, name := range BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := Builtin(name)
			require.NoError(t, err)
			require.Equal(t, name, p.Name)
			require.Equal(t, name != "us" && name != "cn", p.Overlay)
			require.Equal(t, name == "us-nyc", p.OptIn)
			for ch, caps := range p.Caps {
				for _, c := range caps {
					require.NotEmpty(t, c.Rule, "%s cap on %s", name, ch)
					require.NotEmpty(t, c.Reason, "%s cap on %s", name, ch)
				}
			}
			for _, n := range p.Notes {
				require.NotEmpty(t, n.Rule)
				require.NotEmpty(t, n.Text)
			}
			p.Caps[nudge.SMS] = nil
			again, err := Builtin(name)
			require.NoError(t, err)
			require.Equal(t, builtins()[name].Caps[nudge.SMS], again.Caps[nudge.SMS], "Builtin hands out copies")
		})
	}
	_, err := Builtin("uk")
	require.ErrorIs(t, err, ErrUnknownProfile)
	_, err = NewRegistry().Lookup("us-ma")
	require.ErrorIs(t, err, ErrUnknownProfile, "an overlay is not a lender profile")

	cn := builtin(t, "cn")
	require.Len(t, cn.Notes, 1)
	require.Equal(t, RuleCNThirdParty, cn.Notes[0].Rule, "the third-party rule is documented in the profile")
}

func TestDecideJurisdictions(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	ma := livingAt(&nudge.Address{Country: "US", Region: "MA", PostalCode: "02110"}, maPhone)
	wa := livingAt(&nudge.Address{Country: "US", Region: "WA"}, waPhone)
	nyc := livingAt(&nudge.Address{Country: "US", Region: "NY", PostalCode: "10001"}, nyPhone)
	india := livingAt(&nudge.Address{Country: "IN", Region: "MH"}, inPhone)
	china := livingAt(&nudge.Address{Country: "CN", Region: "GD"}, cnPhone)
	us := func(t *testing.T) *Profile { return builtin(t, "us") }
	cnLender := func(t *testing.T) *Profile {
		p := builtin(t, "cn")
		p.Name = "cnlender"
		p.HoldScope[nudge.HoldHardship] = []nudge.ChannelKind{nudge.Voice}
		return p
	}
	earlyTexts := func(t *testing.T) *Profile {
		p := builtin(t, "us")
		p.Name = "early"
		p.Windows[nudge.SMS] = Window{Start: 7*60 + 30, End: 21 * 60}
		p.Overrides = []Override{{Field: "windows.sms", Value: "07:30-21:00", Reason: "test"}}
		return p
	}
	call := func(status nudge.AttemptStatus, addr string, ago time.Duration) func(time.Time) nudge.Attempt {
		return func(now time.Time) nudge.Attempt {
			return nudge.Attempt{Channel: nudge.Voice, Status: status, Address: addr, CreatedAt: now.Add(-ago)}
		}
	}
	sent := func(ch nudge.ChannelKind, addr string, ago time.Duration) func(time.Time) nudge.Attempt {
		return func(now time.Time) nudge.Attempt {
			return nudge.Attempt{Channel: ch, Status: nudge.AttemptDelivered, Address: addr, CreatedAt: now.Add(-ago)}
		}
	}
	tests := []struct {
		name      string
		profile   func(t *testing.T) *Profile
		acct      func(*nudge.Account)
		channel   nudge.ChannelKind
		at        string
		history   []func(time.Time) nudge.Attempt
		hold      nudge.HoldKind
		action    Action
		reason    nudge.Reason
		rule      string
		until     string
		applied   []string
		decidedBy string
	}{
		// Massachusetts: 2 calls in 7 days.
		{name: "MA: 2 calls in the last 7 days defer the third", acct: ma, channel: nudge.Voice, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{call(nudge.AttemptNoAnswer, maPhone, 3*day), call(nudge.AttemptCompleted, maPhone, day)},
			action:  Defer, reason: nudge.ReasonCallCap, rule: RuleMACalls, until: "2026-06-14T16:00:00Z", applied: []string{"us", "us-ma"}, decidedBy: "us-ma"},
		{name: "MA: one call leaves room for another", acct: ma, channel: nudge.Voice, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{call(nudge.AttemptNoAnswer, maPhone, day)},
			action:  Send, rule: RuleUSTime, applied: []string{"us", "us-ma"}, decidedBy: "us"},
		{name: "MA: busy and failed calls do not count", acct: ma, channel: nudge.Voice, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{call(nudge.AttemptBusy, maPhone, 2*day), call(nudge.AttemptFailed, maPhone, day)},
			action:  Send, applied: []string{"us", "us-ma"}, decidedBy: "us"},
		{name: "MA: calls older than 7 days do not count", acct: ma, channel: nudge.Voice, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{call(nudge.AttemptNoAnswer, maPhone, 8*day), call(nudge.AttemptNoAnswer, maPhone, day)},
			action:  Send, applied: []string{"us", "us-ma"}, decidedBy: "us"},
		{name: "MA: texts are not calls", acct: ma, channel: nudge.SMS, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{call(nudge.AttemptNoAnswer, maPhone, 3*day), call(nudge.AttemptNoAnswer, maPhone, day)},
			action:  Send, applied: []string{"us", "us-ma"}},
		{name: "MA: a lender's earlier texts stop at the state's 08:00", profile: earlyTexts, acct: ma, at: "2026-06-10T11:45:00Z",
			action: Defer, reason: nudge.ReasonQuietHours, rule: RuleMATime, until: "2026-06-10T12:00:00Z", applied: []string{"early", "us-ma"}, decidedBy: "us-ma"},
		{name: "MA: the override still stands outside the state", profile: earlyTexts, acct: nyc, at: "2026-06-10T11:45:00Z",
			action: Send, applied: []string{"early"}, decidedBy: "early"},
		{name: "MA: a cn lender's borrower gets Reg F's block after a conversation", profile: cnLender, acct: ma, channel: nudge.Voice, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{func(now time.Time) nudge.Attempt {
				return nudge.Attempt{Channel: nudge.Voice, Status: nudge.AttemptCompleted, Address: maPhone, Conversation: true, CreatedAt: now.Add(-day)}
			}},
			action: Defer, reason: nudge.ReasonConversation, rule: RuleUSConversation, until: "2026-06-16T12:00:00Z", applied: []string{"cnlender", "us", "us-ma"}, decidedBy: "us"},
		{name: "MA: a cn lender's borrower gets US hours and the MA cap", profile: cnLender, acct: ma, channel: nudge.Voice, at: "2026-06-11T01:30:00Z",
			action: Defer, reason: nudge.ReasonQuietHours, rule: RuleUSTime, until: "2026-06-11T12:00:00Z", applied: []string{"cnlender", "us", "us-ma"}, decidedBy: "us"},

		// Washington: 3 communications a week, all channels together.
		{name: "WA: 3 communications in a week defer the fourth", acct: wa, at: "2026-06-10T19:00:00Z",
			history: []func(time.Time) nudge.Attempt{sent(nudge.SMS, waPhone, 6*day), sent(nudge.Email, email, 4*day), call(nudge.AttemptNoAnswer, waPhone, 2*day)},
			action:  Defer, reason: nudge.ReasonFrequencyCap, rule: RuleWA, until: "2026-06-11T19:00:00Z", applied: []string{"us", "us-wa"}, decidedBy: "us-wa"},
		{name: "WA: 2 communications leave room", acct: wa, channel: nudge.Email, at: "2026-06-10T19:00:00Z",
			history: []func(time.Time) nudge.Attempt{sent(nudge.SMS, waPhone, 6*day), call(nudge.AttemptNoAnswer, waPhone, 2*day)},
			action:  Send, applied: []string{"us", "us-wa"}},
		{name: "WA: quiet after 21:00", acct: wa, at: "2026-06-11T04:30:00Z",
			action: Defer, reason: nudge.ReasonQuietHours, rule: RuleUSTime, until: "2026-06-11T15:00:00Z", applied: []string{"us", "us-wa"}, decidedBy: "us"},

		// New York City: opt-in, 3 attempts in 7 days across channels, consent for email.
		{name: "NYC: 3 attempts in 7 days defer the fourth", profile: optInNYC, acct: nyc, channel: nudge.Voice, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{sent(nudge.SMS, nyPhone, 5*day), sent(nudge.Email, email, 3*day), call(nudge.AttemptBusy, nyPhone, day)},
			action:  Defer, reason: nudge.ReasonFrequencyCap, rule: RuleNYC, until: "2026-06-12T16:00:00Z", applied: []string{"acme", "us-nyc"}, decidedBy: "us-nyc"},
		{name: "NYC: not applied without the lender's opt-in", acct: nyc, channel: nudge.Voice, at: "2026-06-10T16:00:00Z",
			history: []func(time.Time) nudge.Attempt{sent(nudge.SMS, nyPhone, 5*day), sent(nudge.Email, email, 3*day), call(nudge.AttemptBusy, nyPhone, day)},
			action:  Send, applied: []string{"us"}, decidedBy: "us"},
		{name: "NYC: email needs consent", profile: optInNYC, acct: nyc, channel: nudge.Email, at: "2026-06-10T16:00:00Z",
			action: Suppress, reason: nudge.ReasonNoConsent, rule: RuleNYC, applied: []string{"acme", "us-nyc"}, decidedBy: "us-nyc"},

		// India: 08:00-19:00.
		{name: "IN: 19:30 local defers until 08:00", acct: india, at: "2026-06-10T14:00:00Z",
			action: Defer, reason: nudge.ReasonQuietHours, rule: RuleIN, until: "2026-06-11T02:30:00Z", applied: []string{"us", "in"}, decidedBy: "in"},
		{name: "IN: noon sends, the RBI window closing first", acct: india, at: "2026-06-10T06:30:00Z",
			action: Send, rule: RuleIN, applied: []string{"us", "in"}, decidedBy: "in"},
		{name: "IN: before 08:00 both windows agree, the lender's decides", acct: india, at: "2026-06-10T01:30:00Z",
			action: Defer, reason: nudge.ReasonQuietHours, rule: RuleUSTime, until: "2026-06-10T02:30:00Z", applied: []string{"us", "in"}, decidedBy: "us"},
		{name: "IN: known by the number alone", acct: livingAt(nil, inPhone), channel: nudge.Voice, at: "2026-06-10T14:00:00Z",
			action: Defer, reason: nudge.ReasonQuietHours, rule: RuleIN, until: "2026-06-11T02:30:00Z", applied: []string{"us", "in"}, decidedBy: "in"},

		// China applied to a us lender: the unanswered-call cap per contact.
		{name: "CN: 6 unanswered calls today defer a us lender's call", acct: china, channel: nudge.Voice, at: "2026-06-10T08:00:00Z",
			history: []func(time.Time) nudge.Attempt{
				call(nudge.AttemptNoAnswer, cnPhone, 6*time.Hour), call(nudge.AttemptBusy, cnPhone, 5*time.Hour), call(nudge.AttemptFailed, cnPhone, 4*time.Hour),
				call(nudge.AttemptNoAnswer, cnPhone, 3*time.Hour), call(nudge.AttemptBusy, cnPhone, 2*time.Hour), call(nudge.AttemptFailed, cnPhone, time.Hour),
			},
			action: Defer, reason: nudge.ReasonUnansweredCap, rule: RuleCNUnanswered, until: "2026-06-11T02:00:00Z", applied: []string{"us", "cn"}, decidedBy: "cn"},
		{name: "CN: the us 21:00 end is the earlier", acct: china, at: "2026-06-10T13:30:00Z",
			action: Defer, reason: nudge.ReasonQuietHours, rule: RuleUSTime, until: "2026-06-11T00:00:00Z", applied: []string{"us", "cn"}, decidedBy: "us"},

		// Holds are unioned: a cn lender that lets hardship stop only calls
		// still stops texts to a US borrower.
		{name: "holds: us stops every channel for a cn lender's US borrower", profile: cnLender, acct: ma, at: "2026-06-10T16:00:00Z", hold: nudge.HoldHardship,
			action: Suppress, reason: nudge.ReasonHold, rule: RuleLenderHold + " (hardship)", applied: []string{"cnlender", "us", "us-ma"}, decidedBy: "us"},
		{name: "holds: the cn lender's own scope in China", profile: cnLender, acct: china, at: "2026-06-10T06:00:00Z", hold: nudge.HoldHardship,
			action: Send, applied: []string{"cnlender"}, decidedBy: "cnlender"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := account(tt.acct)
			if tt.hold != "" {
				a.Holds = []nudge.Hold{{Kind: tt.hold}}
			}
			ch := tt.channel
			if ch == "" {
				ch = nudge.SMS
			}
			p := us(t)
			if tt.profile != nil {
				p = tt.profile(t)
			}
			now := utc(t, tt.at)
			var history []nudge.Attempt
			for _, h := range tt.history {
				history = append(history, h(now))
			}
			in := Input{Account: a, Channel: ch, Address: addressOf(a, ch), At: now, History: history, Profile: p}
			d := Decide(in)
			require.Equal(t, tt.action, d.Action, "decision %+v", d)
			require.Equal(t, tt.reason, d.Reason)
			if tt.rule != "" {
				require.Equal(t, tt.rule, d.Rule)
			}
			require.Equal(t, tt.applied, d.Applied)
			require.Contains(t, d.Applied, d.DecidedBy)
			if tt.decidedBy != "" {
				require.Equal(t, tt.decidedBy, d.DecidedBy)
			}
			if tt.until != "" {
				require.Equal(t, utc(t, tt.until), d.Until)
				in.At = d.Until
				require.Equal(t, Send, Decide(in).Action, "a deferral must be allowed at its own instant")
			}
		})
	}
}

func TestDecideJurisdictionDetails(t *testing.T) {
	t.Parallel()
	t.Run("a send lists every profile's caps for the claim", func(t *testing.T) {
		t.Parallel()
		a := account(livingAt(&nudge.Address{Country: "US", Region: "MA"}, maPhone))
		d := Decide(Input{Account: a, Channel: nudge.Voice, Address: maPhone, At: utc(t, "2026-06-10T16:00:00Z"), Profile: builtin(t, "us")})
		require.Equal(t, Send, d.Action)
		require.Len(t, d.Limits, 2)
		require.Equal(t, RuleUSCalls, d.Limits[0].Rule)
		require.Equal(t, RuleMACalls, d.Limits[1].Rule)
		require.Equal(t, 2, d.Limits[1].Max)
	})
	t.Run("an Indian send must reach the borrower before 19:00", func(t *testing.T) {
		t.Parallel()
		a := account(livingAt(&nudge.Address{Country: "IN"}, inPhone))
		d := Decide(Input{Account: a, Channel: nudge.SMS, Address: inPhone, At: utc(t, "2026-06-10T06:30:00Z"), Profile: builtin(t, "us")})
		require.Equal(t, Send, d.Action)
		require.Equal(t, []string{"Asia/Kolkata"}, d.Zones, "address and number give one zone")
		require.Equal(t, utc(t, "2026-06-10T13:30:00Z"), d.WindowEnd)
	})
	t.Run("the end margin applies to the jurisdiction's window", func(t *testing.T) {
		t.Parallel()
		a := account(livingAt(&nudge.Address{Country: "IN"}, inPhone))
		in := Input{Account: a, Channel: nudge.Voice, Address: inPhone, Profile: builtin(t, "us"), EndMargin: 10 * time.Minute}
		in.At = utc(t, "2026-06-10T13:19:00Z") // 18:49 in India
		d := Decide(in)
		require.Equal(t, Send, d.Action)
		require.Equal(t, utc(t, "2026-06-10T13:30:00Z"), d.WindowEnd)
		in.At = utc(t, "2026-06-10T13:21:00Z") // 18:51: a call could run past 19:00
		d = Decide(in)
		require.Equal(t, Defer, d.Action)
		require.Equal(t, "in", d.DecidedBy)
		require.Equal(t, utc(t, "2026-06-11T02:30:00Z"), d.Until)
	})
	t.Run("planning uses every profile's window", func(t *testing.T) {
		t.Parallel()
		a := account(livingAt(&nudge.Address{Country: "IN"}, inPhone))
		next, err := NextAllowed(builtin(t, "us"), a, nudge.SMS, utc(t, "2026-06-10T14:00:00Z"))
		require.NoError(t, err)
		require.Equal(t, utc(t, "2026-06-11T02:30:00Z"), next)
	})
	t.Run("a cap across channels explains itself", func(t *testing.T) {
		t.Parallel()
		a := account(livingAt(&nudge.Address{Country: "US", Region: "WA"}, waPhone))
		now := utc(t, "2026-06-10T19:00:00Z")
		history := []nudge.Attempt{
			{Channel: nudge.Email, Status: nudge.AttemptSent, Address: email, CreatedAt: now.Add(-3 * 24 * time.Hour)},
			{Channel: nudge.Email, Status: nudge.AttemptSent, Address: email, CreatedAt: now.Add(-2 * 24 * time.Hour)},
			{Channel: nudge.Voice, Status: nudge.AttemptNoAnswer, Address: waPhone, CreatedAt: now.Add(-24 * time.Hour)},
		}
		d := Decide(Input{Account: a, Channel: nudge.SMS, Address: waPhone, At: now, History: history, Profile: builtin(t, "us")})
		require.Equal(t, Defer, d.Action)
		require.Contains(t, d.Explanation, "at most 3 contacts per 7 days are allowed on all channels together")
		require.Contains(t, d.Text(), "Profiles applied: us, us-wa; decided by us-wa.")
	})
	t.Run("applied and decided_by in JSON", func(t *testing.T) {
		t.Parallel()
		a := account(livingAt(&nudge.Address{Country: "IN"}, inPhone))
		d := Decide(Input{Account: a, Channel: nudge.SMS, Address: inPhone, At: utc(t, "2026-06-10T14:00:00Z"), Profile: builtin(t, "us")})
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		require.Equal(t, []any{"us", "in"}, m["applied"])
		require.Equal(t, "in", m["decided_by"])
		var back Decision
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, d.Applied, back.Applied)
		require.Equal(t, d.DecidedBy, back.DecidedBy)
	})
	t.Run("a lender profile opts in to NYC", func(t *testing.T) {
		t.Parallel()
		p, err := ParseProfile("acme.yaml", []byte("base: us\nopt_in_jurisdictions: [us-nyc]\n"))
		require.NoError(t, err)
		require.Equal(t, []string{"us-nyc"}, p.OptInJurisdictions)
		require.Empty(t, p.Overrides, "opting in tightens: no override")

		_, err = ParseProfile("acme.yaml", []byte("base: us\nopt_in_jurisdictions: [us-ma]\n"))
		require.ErrorContains(t, err, `acme.yaml:2: opt_in_jurisdictions: "us-ma" is not an opt-in jurisdiction profile`)
		_, err = ParseProfile("acme.yaml", []byte("base: in\n"))
		require.ErrorContains(t, err, `base: must be us or cn, not "in"`)
		_, err = ParseProfile("us-ma.yaml", []byte("base: us\n"))
		require.ErrorContains(t, err, `a lender profile needs its own name, not "us-ma"`)
	})
}
