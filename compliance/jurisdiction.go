package compliance

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/nudgehq/nudge"
)

// Rules cited by the jurisdiction overlays. See docs/compliance.md.
const (
	// RuleMACalls is Massachusetts' limit on telephone communications by a
	// creditor: 2 in 7 days to a personal number, for each debt.
	RuleMACalls = "940 CMR 7.04(1)(f)"
	// RuleMATime is Massachusetts' normal waking hours, 08:00-21:00 when the
	// borrower's are not known.
	RuleMATime = "940 CMR 7.04(1)"
	// RuleWA is Washington's Collection Agency Act: at most 3 communications
	// a week, no contact before 07:30 or after 21:00 (Nudge: 08:00).
	RuleWA = "RCW 19.16.250"
	// RuleNYC is New York City's debt collection rules: at most 3 attempts
	// in 7 days across all channels; consent for email and text.
	RuleNYC = "6 RCNY 5-77 (NYC DCWP)"
	// RuleIN is the Reserve Bank of India's instruction on recovery agents:
	// no call before 08:00 or after 19:00.
	RuleIN = "RBI circular of 2022-08-12 on recovery agents"
)

// jurisdiction is a built-in profile with the places it applies to.
type jurisdiction struct {
	name  string
	build func() *Profile
	// applies reports whether the profile governs a borrower at s.
	applies func(s site) bool
}

// jurisdictions lists every built-in profile in the order they are applied:
// countries, then states, then cities. The first two can be a lender
// profile's base; the rest are overlays.
var jurisdictions = []jurisdiction{
	{name: "us", build: usProfile, applies: func(s site) bool { return s.country == "US" }},
	{name: "cn", build: cnProfile, applies: func(s site) bool { return s.country == "CN" }},
	{name: "in", build: overlay(inProfile), applies: func(s site) bool { return s.country == "IN" }},
	{name: "us-ma", build: overlay(maProfile), applies: func(s site) bool { return s.country == "US" && s.region == "MA" }},
	{name: "us-wa", build: overlay(waProfile), applies: func(s site) bool { return s.country == "US" && s.region == "WA" }},
	{name: "us-nyc", build: overlay(nycProfile), applies: func(s site) bool { return s.country == "US" && s.region == "NY" && s.nyc }},
}

// overlay wraps the constructor of a jurisdiction overlay so that the
// profile it builds has every map a profile has (empty where it sets nothing).
func overlay(build func() *Profile) func() *Profile {
	return func() *Profile {
		p := build()
		if p.Windows == nil {
			p.Windows = map[nudge.ChannelKind]Window{}
		}
		if p.Caps == nil {
			p.Caps = map[nudge.ChannelKind][]nudge.CapLimit{}
		}
		if p.RequireConsent == nil {
			p.RequireConsent = map[nudge.ChannelKind]bool{}
		}
		if p.HoldScope == nil {
			p.HoldScope = map[nudge.HoldKind][]nudge.ChannelKind{}
		}
		return p
	}
}

// week is the rolling window of the weekly caps.
const week = 7 * 24 * time.Hour

// maProfile is Massachusetts (940 CMR 7.00, creditors collecting their own
// debts included).
func maProfile() *Profile {
	return &Profile{
		Name: "us-ma", Base: "us-ma", Overlay: true,
		Windows: allChannels(Window{Start: 8 * 60, End: 21 * 60}),
		Caps: map[nudge.ChannelKind][]nudge.CapLimit{
			nudge.Voice: {{Channel: nudge.Voice, Window: week, Max: 2, Count: nudge.CountCalls, Reason: nudge.ReasonCallCap, Rule: RuleMACalls}},
		},
		Notes: []Note{
			{Rule: RuleMACalls, Text: "At most 2 calls in 30 days to a number other than the borrower's residence, mobile or other personal number " +
				"(a work number). Phone contacts do not say which kind of number they are, so every number is treated as personal " +
				"(2 calls in 7 days). The 30-day cap needs a kind on phone contacts and the attempt history of 30 days."},
			{Rule: RuleMACalls, Text: "The regulation counts text messages and recorded audio messages as telephone communications too. " +
				"The us-ma profile caps calls only; counting texts toward the same 2 needs a cap over sms and voice together."},
			{Rule: RuleMATime, Text: "The borrower may state other waking hours; accounts carry no such field, so 08:00-21:00 applies."},
		},
	}
}

// waProfile is Washington (RCW 19.16.250, collection agencies).
func waProfile() *Profile {
	return &Profile{
		Name: "us-wa", Base: "us-wa", Overlay: true,
		Windows: allChannels(Window{Start: 8 * 60, End: 21 * 60}),
		Caps:    everyChannelCap(nudge.CapLimit{Window: week, Max: 3, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap, Rule: RuleWA}),
		Notes: []Note{
			{Rule: RuleWA, Text: "The statute allows 07:30-21:00; sources differ, so Nudge uses 08:00-21:00."},
			{Rule: RuleWA, Text: "At most 1 communication a week at the debtor's place of employment. Nudge never emails an address known to be " +
				"employer-given; phone contacts do not say which number is a work number."},
		},
	}
}

// nycProfile is New York City (DCWP debt collection rules), enabled by the
// lender with opt_in_jurisdictions.
func nycProfile() *Profile {
	return &Profile{
		Name: "us-nyc", Base: "us-nyc", Overlay: true, OptIn: true,
		Caps:           everyChannelCap(nudge.CapLimit{Window: week, Max: 3, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap, Rule: RuleNYC}),
		RequireConsent: map[nudge.ChannelKind]bool{nudge.SMS: true, nudge.Email: true},
		Notes: []Note{
			{Rule: RuleNYC, Text: "The effective date has moved several times (last reported 2026-09-01): the profile applies only to lenders " +
				"that list us-nyc in opt_in_jurisdictions."},
			{Rule: RuleNYC, Text: "Opt-out per channel and records kept 3 years are already Nudge's behaviour for every lender."},
		},
	}
}

// inProfile is India (RBI instructions to regulated entities employing
// recovery agents).
func inProfile() *Profile {
	return &Profile{
		Name: "in", Base: "in", Overlay: true,
		Windows: allChannels(Window{Start: 8 * 60, End: 19 * 60}),
		Notes: []Note{
			{Rule: RuleIN, Text: "No persistent calling: the circular sets no number, so the lender's caps apply."},
			{Rule: RuleIN, Text: "No contact that intrudes on the privacy of family, referees or friends. Nudge holds no third-party contacts " +
				"(nudge.Contact has no relation field), so it contacts the borrower only."},
		},
	}
}

// everyChannelCap returns l as a cap on every channel that counts the
// attempts on all channels together (Channel left empty).
func everyChannelCap(l nudge.CapLimit) map[nudge.ChannelKind][]nudge.CapLimit {
	l.Channel = ""
	caps := map[nudge.ChannelKind][]nudge.CapLimit{}
	for _, ch := range nudge.Channels {
		caps[ch] = []nudge.CapLimit{l}
	}
	return caps
}

// site is one place the borrower may live, as far as jurisdictions go.
type site struct {
	country, region string
	// nyc is set for a New York address or number inside New York City.
	nyc bool
}

// usTerritories are the territories under US federal law that have their
// own ISO 3166-1 codes (and libphonenumber regions).
var usTerritories = []string{"PR", "VI", "GU", "MP", "AS"}

// areaCodeRegions maps the NANP area codes of the states and the city that
// have jurisdiction profiles to their region ("NYC" for New York City).
var areaCodeRegions = map[string]string{
	"339": "MA", "351": "MA", "413": "MA", "508": "MA", "617": "MA", "774": "MA", "781": "MA", "857": "MA", "978": "MA",
	"206": "WA", "253": "WA", "360": "WA", "425": "WA", "509": "WA", "564": "WA",
	"212": "NYC", "332": "NYC", "347": "NYC", "646": "NYC", "718": "NYC", "917": "NYC", "929": "NYC",
}

// nycZIPPrefixes are the first three digits of New York City's ZIP codes.
// 110 also covers part of Nassau County: it counts as the city, the
// stricter reading.
var nycZIPPrefixes = []string{"100", "101", "102", "103", "104", "110", "111", "112", "113", "114", "116"}

// addressSite returns the site of a postal address and whether it pins the
// borrower down as far as the built-in jurisdictions go (a country, its
// state, and for New York whether it is the city).
func addressSite(addr nudge.Address) (site, bool) {
	country := strings.ToUpper(strings.TrimSpace(addr.Country))
	region := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(addr.Region)), country+"-")
	if slices.Contains(usTerritories, country) {
		return site{country: "US", region: country}, true
	}
	s := site{country: country, region: region}
	switch {
	case country == "CN" && slices.Contains([]string{"HK", "MO", "TW"}, region):
		// Not the mainland: the CBA guideline does not reach it.
		return site{country: region}, true
	case country != "US":
		return s, true
	case region == "":
		return s, false
	case region == "NY":
		zip := strings.TrimSpace(addr.PostalCode)
		if len(zip) < 3 {
			return s, false
		}
		s.nyc = slices.Contains(nycZIPPrefixes, zip[:3])
	}
	return s, true
}

// phoneSite returns the site of an E.164 number: its country, and for a US
// number the state or city of its area code when a profile needs it.
func phoneSite(e164 string) (site, bool) {
	f := factsOf(e164)
	return f.site, f.siteOK
}

// phoneSiteUncached is phoneSite without the cache.
func phoneSiteUncached(e164 string) (site, bool) {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return site{}, false
	}
	return siteOfNumber(num)
}

// siteOfNumber is phoneSite of a parsed number.
func siteOfNumber(num *phonenumbers.PhoneNumber) (site, bool) {
	country := phonenumbers.GetRegionCodeForNumber(num)
	switch {
	case country == "" || country == phonenumbers.UNKNOWN_REGION:
		return site{}, false
	case slices.Contains(usTerritories, country):
		return site{country: "US", region: country}, true
	case country != "US":
		return site{country: country}, true
	}
	s := site{country: "US"}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	if len(nsn) >= 3 {
		switch r := areaCodeRegions[nsn[:3]]; r {
		case "NYC":
			s.region, s.nyc = "NY", true
		default:
			s.region = r
		}
	}
	return s, true
}

// sites returns the places the borrower may live: the postal address, and
// the phone numbers where the address is missing or does not pin the
// borrower down (a US address without a state, a New York address without a
// ZIP code). Where an address names its country, numbers of other countries
// are ignored.
func sites(a nudge.Account) []site {
	var out []site
	country := ""
	if a.Address != nil && strings.TrimSpace(a.Address.Country) != "" {
		s, exact := addressSite(*a.Address)
		out = append(out, s)
		if exact {
			return out
		}
		country = s.country
	}
	for _, n := range a.PhoneNumbers() {
		s, ok := phoneSite(n)
		if ok && (country == "" || s.country == country) {
			out = append(out, s)
		}
	}
	return out
}

// Jurisdictions returns, in the order they are applied, the built-in
// jurisdiction profiles that govern account a besides the lender's profile
// p: each whose place matches the borrower's postal address (country,
// state or region, and for New York City the ZIP code) or, where the address
// is missing or does not say, the borrower's phone numbers (country and
// area code). The profile p is built on is left out (p stands for it, with
// its overrides), as is an opt-in profile p does not list in
// OptInJurisdictions.
func Jurisdictions(a nudge.Account, p *Profile) []string {
	if p == nil {
		p = usProfile()
	}
	ss := sites(a)
	var out []string
	for _, j := range jurisdictions {
		if j.name == p.Base || j.name == p.Name {
			continue
		}
		if builtins()[j.name].OptIn && !slices.Contains(p.OptInJurisdictions, j.name) {
			continue
		}
		if slices.ContainsFunc(ss, j.applies) {
			out = append(out, j.name)
		}
	}
	return out
}

// builtins holds one copy of every built-in profile, by name, for Decide to
// read; it must never be changed (Builtin hands out fresh copies).
var builtins = sync.OnceValue(func() map[string]*Profile {
	m := make(map[string]*Profile, len(jurisdictions))
	for _, j := range jurisdictions {
		m[j.name] = j.build()
	}
	return m
})
