package compliance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// Collector kinds. Regulation F's disclosure rules bind third-party collectors
// (and creditors collecting under another name); a lender collecting in its
// own name is a first-party collector.
const (
	FirstParty = "first-party"
	ThirdParty = "third-party"
)

// Languages an explanation can be written in.
const (
	LangEnglish = "en"
	LangSpanish = "es"
	LangChinese = "zh-CN"
)

// Defaults shared by the built-in profiles.
const (
	// DefaultMaxPromiseDaysUS is the longest promise-to-pay horizon the us profile accepts.
	DefaultMaxPromiseDaysUS = 30
	// DefaultMaxPromiseDaysCN is the longest promise-to-pay horizon the cn profile accepts.
	DefaultMaxPromiseDaysCN = 15
	// DefaultConversationBlockDays is Regulation F's block on calls after a
	// telephone conversation; the conversation day is day 1.
	DefaultConversationBlockDays = 7
)

// Rules cited by the built-in profiles.
const (
	RuleUSTime         = "12 CFR 1006.6(b)(1)(i)"
	RuleUSCalls        = "12 CFR 1006.14(b)(2)(i)(A)"
	RuleUSConversation = "12 CFR 1006.14(b)(2)(i)(B)"
	RuleUSVolume       = "12 CFR 1006.14(a)"
	RuleUSWorkplace    = "12 CFR 1006.22(f)(3)"
	RuleUSTextConsent  = "12 CFR 1006.6(d)(5); 47 U.S.C. 227(b)(1)(A)(iii)"
	RuleUSCallConsent  = "47 U.S.C. 227(b)(1)(A)(iii); FCC 24-17"
	RuleUSOptOutText   = "12 CFR 1006.6(e); 47 CFR 64.1200(a)(10)"
	RuleUSOptOutVoice  = "47 CFR 64.1200(a)(10)"
	RuleCNTime         = "中国银行业协会《金融机构个人消费类贷款催收工作指引（试行）》(2026-01-30)"
	RuleCNTimeNIFA     = "中国互联网金融协会《互联网金融贷后催收业务指引》(2024-05-15)"
	RuleCNUnanswered   = RuleCNTime
	RuleCNVolume       = "Nudge default (PIPL Art. 6, minimum necessary)"
	RuleCNConsent      = "PIPL Art. 13"
	RuleCNOptOut       = "PIPL Art. 15; Nudge opt-out convention"
	RuleLenderBlackout = "lender blackout calendar"
	RuleLenderHold     = "lender hold"
	RuleAccountStatus  = "Nudge policy: only active accounts are reminded"
	RuleContactState   = "Nudge policy: contact state"
	RulePromise        = "Nudge policy: a pending promise to pay pauses reminders"
	RulePaymentClaimed = "Nudge policy: a claimed payment pauses reminders until reconciled"
	RuleTimezone       = "Nudge policy: a stated time zone must exist"
	// RuleCNThirdParty is the CBA guideline's rule on third parties, which
	// Nudge cannot check yet (see the cn profile's Notes).
	RuleCNThirdParty = RuleCNTime + ", third parties"
)

// ErrUnknownProfile is returned for a profile name no registry knows.
var ErrUnknownProfile = errors.New("unknown compliance profile")

// Window is a daily span of local time, [Start, End), applied in each
// candidate time zone of the borrower.
type Window struct {
	Start ClockTime `yaml:"start" json:"start"`
	End   ClockTime `yaml:"end" json:"end"`
}

// String formats the window as "08:00-21:00".
func (w Window) String() string { return w.Start.String() + "-" + w.End.String() }

// Contains reports whether w lies within o (w is at least as strict as o).
func (w Window) Contains(o Window) bool { return o.Start >= w.Start && o.End <= w.End }

// Intersect returns the part of the day both windows allow; ok is false when
// they share nothing.
func (w Window) Intersect(o Window) (Window, bool) {
	r := Window{Start: max(w.Start, o.Start), End: min(w.End, o.End)}
	return r, r.Start < r.End
}

func (w Window) validate() error {
	if w.Start < 0 || w.End > 24*60 || w.Start >= w.End {
		return fmt.Errorf("window %s must start before it ends, within 00:00-24:00", w)
	}
	return nil
}

// ClockTime is a time of day in minutes after local midnight; 24:00 is the end of the day.
type ClockTime int

// ParseClockTime parses "HH:MM" (00:00 to 24:00).
func ParseClockTime(s string) (ClockTime, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not a time of day like 08:00", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil {
		return 0, fmt.Errorf("%q is not a time of day like 08:00", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day between 00:00 and 24:00", s)
	}
	return ClockTime(h*60 + m), nil
}

// MustClockTime parses s and panics on error; for literals only.
func MustClockTime(s string) ClockTime {
	c, err := ParseClockTime(s)
	if err != nil {
		panic(err)
	}
	return c
}

// String formats c as "HH:MM".
func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// MarshalText implements encoding.TextMarshaler.
func (c ClockTime) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *ClockTime) UnmarshalText(b []byte) error {
	v, err := ParseClockTime(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Override records a lender's explicit loosening of a default, with the
// written reason that justifies it. Overrides are logged and shown by explain.
type Override struct {
	// Field is the profile field loosened, such as "windows.voice" or "caps.sms".
	Field string `json:"field" yaml:"field"`
	// Value is the loosened value in its profile notation, such as "07:00-21:00".
	Value string `json:"value" yaml:"value"`
	// Reason is the lender's written justification; it must not be empty.
	Reason string `json:"reason" yaml:"reason"`
}

// Profile is a set of compliance rules: a jurisdiction default (us, cn) or a
// lender profile built on one of them. Profiles are read-only once built;
// Builtin returns a fresh copy each time.
type Profile struct {
	// Name identifies the profile ("us", "cn", or a lender profile name).
	Name string
	// Base is the jurisdiction the profile starts from: "us" or "cn".
	Base string
	// Language is the language of explanations: en, es or zh-CN.
	Language string
	// Collector is FirstParty or ThirdParty.
	Collector string
	// Windows are the allowed local times per channel, applied in every candidate zone.
	Windows map[nudge.ChannelKind]Window
	// FallbackZone is the zone used when an account carries no location data at all.
	FallbackZone string
	// FallbackWindow is the allowed window in FallbackZone in that case.
	FallbackWindow Window
	// Caps are the rolling frequency caps per channel.
	Caps map[nudge.ChannelKind][]nudge.CapLimit
	// ConversationBlockDays blocks calls for this many days after a telephone
	// conversation, the conversation day being day 1; 0 disables the block.
	ConversationBlockDays int
	// RequireConsent lists the channels that need the contact's prior express consent.
	RequireConsent map[nudge.ChannelKind]bool
	// HoldScope lists, per hold kind, the channels a hold of that kind
	// suppresses. A kind absent from the map suppresses every channel.
	HoldScope map[nudge.HoldKind][]nudge.ChannelKind
	// BlackoutDates are lender holidays: no contact on these local dates in any candidate zone.
	BlackoutDates []nudge.Date
	// BlackoutWeekdays are days of the week with no contact (for example Sunday).
	BlackoutWeekdays []time.Weekday
	// MaxPromiseDays is the longest promise-to-pay horizon, in days, the reply parser accepts.
	MaxPromiseDays int
	// LimitedContentVoicemail makes voicemails limited-content messages (12 CFR 1006.2(j)).
	LimitedContentVoicemail bool
	// Overrides are the lender's explicit loosenings of the base defaults.
	Overrides []Override
	// Overlay marks a jurisdiction profile that is applied on top of the
	// lender's profile where the borrower lives (us-ma, us-wa, us-nyc, in).
	// An overlay constrains only what it sets: the windows of the channels
	// it lists, its caps, the hold kinds it lists in HoldScope, the consent
	// it requires and its conversation block. It has no fallback and cannot
	// be a lender profile's base.
	Overlay bool
	// OptIn marks a built-in jurisdiction profile that applies only for
	// lenders that list it in OptInJurisdictions (us-nyc).
	OptIn bool
	// OptInJurisdictions lists the opt-in jurisdiction profiles the lender
	// enables (opt_in_jurisdictions in a lender profile file).
	OptInJurisdictions []string
	// Notes are rules of the jurisdiction that Nudge does not check, or
	// checks only in part, with what checking them would need.
	Notes []Note
}

// Note is a rule of a profile that the data Nudge holds does not let it
// check; it is kept with the profile so that documentation and operators can
// see it.
type Note struct {
	// Rule names the source, as in Decision.Rule.
	Rule string `json:"rule"`
	// Text says what the rule asks and what Nudge does about it.
	Text string `json:"text"`
}

// Builtin returns a fresh copy of a built-in profile: a jurisdiction a
// lender profile can be based on ("us", "cn") or a jurisdiction overlay
// ("us-ma", "us-wa", "us-nyc", "in"; see Jurisdictions).
func Builtin(name string) (*Profile, error) {
	for _, j := range jurisdictions {
		if j.name == name {
			return j.build(), nil
		}
	}
	return nil, fmt.Errorf("builtin profile %q (want one of %s): %w", name, strings.Join(BuiltinNames(), ", "), ErrUnknownProfile)
}

// BuiltinNames lists the built-in profiles in the order they are applied:
// countries, then states, then cities.
func BuiltinNames() []string {
	names := make([]string, len(jurisdictions))
	for i, j := range jurisdictions {
		names[i] = j.name
	}
	return names
}

func allChannels(w Window) map[nudge.ChannelKind]Window {
	m := map[nudge.ChannelKind]Window{}
	for _, c := range nudge.Channels {
		m[c] = w
	}
	return m
}

func messageCaps(rule string) map[nudge.ChannelKind][]nudge.CapLimit {
	return map[nudge.ChannelKind][]nudge.CapLimit{
		nudge.SMS: {
			{Channel: nudge.SMS, Window: 24 * time.Hour, Max: 1, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap, Rule: rule},
			{Channel: nudge.SMS, Window: 7 * 24 * time.Hour, Max: 4, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap, Rule: rule},
		},
		nudge.Email: {
			{Channel: nudge.Email, Window: 24 * time.Hour, Max: 1, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap, Rule: rule},
		},
	}
}

func usProfile() *Profile {
	caps := messageCaps(RuleUSVolume)
	caps[nudge.Voice] = []nudge.CapLimit{
		{Channel: nudge.Voice, Window: 7 * 24 * time.Hour, Max: 7, Count: nudge.CountCalls, Reason: nudge.ReasonCallCap, Rule: RuleUSCalls},
	}
	return &Profile{
		Name:                    "us",
		Base:                    "us",
		Language:                LangEnglish,
		Collector:               ThirdParty,
		Windows:                 allChannels(Window{Start: 8 * 60, End: 21 * 60}),
		FallbackZone:            "America/New_York",
		FallbackWindow:          Window{Start: 11 * 60, End: 20 * 60},
		Caps:                    caps,
		ConversationBlockDays:   DefaultConversationBlockDays,
		RequireConsent:          map[nudge.ChannelKind]bool{nudge.SMS: true, nudge.Voice: true},
		HoldScope:               map[nudge.HoldKind][]nudge.ChannelKind{},
		MaxPromiseDays:          DefaultMaxPromiseDaysUS,
		LimitedContentVoicemail: true,
	}
}

func cnProfile() *Profile {
	caps := messageCaps(RuleCNVolume)
	caps[nudge.Voice] = []nudge.CapLimit{
		{Channel: nudge.Voice, Window: 24 * time.Hour, Max: 6, Count: nudge.CountUnanswered, PerAddress: true, Reason: nudge.ReasonUnansweredCap, Rule: RuleCNUnanswered},
	}
	return &Profile{
		Name:           "cn",
		Base:           "cn",
		Language:       LangChinese,
		Collector:      FirstParty,
		Windows:        allChannels(Window{Start: 8 * 60, End: 22 * 60}),
		FallbackZone:   "Asia/Shanghai",
		FallbackWindow: Window{Start: 8 * 60, End: 22 * 60},
		Caps:           caps,
		RequireConsent: map[nudge.ChannelKind]bool{nudge.SMS: true, nudge.Voice: true},
		HoldScope:      map[nudge.HoldKind][]nudge.ChannelKind{},
		MaxPromiseDays: DefaultMaxPromiseDaysCN,
		Notes: []Note{{Rule: RuleCNThirdParty, Text: "Unrelated third parties (referees, family, friends) may be contacted only when the borrower is unreachable " +
			"(number invalid, or 3 consecutive failed attempts), only to ask for contact details or pass on a message, never told of the debt, " +
			"and never again once they ask not to be. Nudge holds no third-party contacts: nudge.Contact has no relation field, so every contact " +
			"of an account is the borrower's own and Nudge never contacts a third party. Checking the rule needs a contact relation " +
			"(borrower, referee, third party), a reason to suppress with, and an unreachability test over the borrower's own contacts and history."}},
	}
}

// Discloses reports whether messages under p carry Regulation F's
// debt-collector disclosures: a third-party collector's do, a lender
// collecting in its own name's do not.
func (p *Profile) Discloses() bool { return p.Collector == ThirdParty }

// Window returns the allowed window for channel c (the zero Window when the profile has none).
func (p *Profile) Window(c nudge.ChannelKind) Window { return p.Windows[c] }

// HoldSuppresses reports whether a hold of kind k suppresses channel c.
func (p *Profile) HoldSuppresses(k nudge.HoldKind, c nudge.ChannelKind) bool {
	chs, ok := p.HoldScope[k]
	if !ok {
		return true
	}
	return slices.Contains(chs, c)
}

// IsBlackout reports whether the civil date d is a lender blackout day.
func (p *Profile) IsBlackout(d nudge.Date) bool {
	if slices.Contains(p.BlackoutDates, d) {
		return true
	}
	if len(p.BlackoutWeekdays) == 0 {
		return false
	}
	wd := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
	return slices.Contains(p.BlackoutWeekdays, wd)
}

// Clone returns a deep copy of p.
func (p *Profile) Clone() *Profile {
	c := *p
	c.Windows = maps(p.Windows)
	c.Caps = map[nudge.ChannelKind][]nudge.CapLimit{}
	for k, v := range p.Caps {
		c.Caps[k] = slices.Clone(v)
	}
	c.RequireConsent = maps(p.RequireConsent)
	c.HoldScope = map[nudge.HoldKind][]nudge.ChannelKind{}
	for k, v := range p.HoldScope {
		c.HoldScope[k] = slices.Clone(v)
	}
	c.BlackoutDates = slices.Clone(p.BlackoutDates)
	c.BlackoutWeekdays = slices.Clone(p.BlackoutWeekdays)
	c.Overrides = slices.Clone(p.Overrides)
	c.OptInJurisdictions = slices.Clone(p.OptInJurisdictions)
	c.Notes = slices.Clone(p.Notes)
	return &c
}

func maps[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// overridesFor returns the overrides whose field starts with one of prefixes.
func (p *Profile) overridesFor(prefixes ...string) []Override {
	var out []Override
	for _, o := range p.Overrides {
		for _, pre := range prefixes {
			if o.Field == pre || strings.HasPrefix(o.Field, pre+".") {
				out = append(out, o)
				break
			}
		}
	}
	return out
}
