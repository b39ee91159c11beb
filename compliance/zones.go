package compliance

import (
	"time"

	"slices"
	"strconv"
	"strings"

	"github.com/nudgehq/nudge"
	"github.com/nyaruka/phonenumbers"
)

// usStateZones maps a US state or territory (ISO 3166-2 subdivision code) to
// every IANA zone in use in it. States that span two zones list both.
var usStateZones = map[string][]string{
	"AL": {"America/Chicago"},
	"AK": {"America/Anchorage", "America/Adak"},
	"AZ": {"America/Phoenix"},
	"AR": {"America/Chicago"},
	"CA": {"America/Los_Angeles"},
	"CO": {"America/Denver"},
	"CT": {"America/New_York"},
	"DE": {"America/New_York"},
	"DC": {"America/New_York"},
	"FL": {"America/New_York", "America/Chicago"},
	"GA": {"America/New_York"},
	"HI": {"Pacific/Honolulu"},
	"ID": {"America/Boise", "America/Los_Angeles"},
	"IL": {"America/Chicago"},
	"IN": {"America/Indiana/Indianapolis", "America/Chicago"},
	"IA": {"America/Chicago"},
	"KS": {"America/Chicago", "America/Denver"},
	"KY": {"America/New_York", "America/Chicago"},
	"LA": {"America/Chicago"},
	"ME": {"America/New_York"},
	"MD": {"America/New_York"},
	"MA": {"America/New_York"},
	"MI": {"America/Detroit", "America/Menominee"},
	"MN": {"America/Chicago"},
	"MS": {"America/Chicago"},
	"MO": {"America/Chicago"},
	"MT": {"America/Denver"},
	"NE": {"America/Chicago", "America/Denver"},
	"NV": {"America/Los_Angeles"},
	"NH": {"America/New_York"},
	"NJ": {"America/New_York"},
	"NM": {"America/Denver"},
	"NY": {"America/New_York"},
	"NC": {"America/New_York"},
	"ND": {"America/Chicago", "America/Denver"},
	"OH": {"America/New_York"},
	"OK": {"America/Chicago"},
	"OR": {"America/Los_Angeles", "America/Boise"},
	"PA": {"America/New_York"},
	"RI": {"America/New_York"},
	"SC": {"America/New_York"},
	"SD": {"America/Chicago", "America/Denver"},
	"TN": {"America/Chicago", "America/New_York"},
	"TX": {"America/Chicago", "America/Denver"},
	"UT": {"America/Denver"},
	"VT": {"America/New_York"},
	"VA": {"America/New_York"},
	"WA": {"America/Los_Angeles"},
	"WV": {"America/New_York"},
	"WI": {"America/Chicago"},
	"WY": {"America/Denver"},
	"PR": {"America/Puerto_Rico"},
	"VI": {"America/St_Thomas"},
	"GU": {"Pacific/Guam"},
	"MP": {"Pacific/Saipan"},
	"AS": {"Pacific/Pago_Pago"},
}

// cnRegionZones lists the Chinese provincial divisions whose zone is not the
// national Asia/Shanghai (or not only it). Every other province, autonomous
// region and municipality (GD, BJ, SH, SC, …) is Asia/Shanghai.
var cnRegionZones = map[string][]string{
	"XJ": {"Asia/Shanghai", "Asia/Urumqi"}, // Xinjiang: Beijing time officially, Urumqi time in common use
	"HK": {"Asia/Hong_Kong"},
	"MO": {"Asia/Macau"},
	"TW": {"Asia/Taipei"},
}

// cnProvinces are the ISO 3166-2:CN codes of the mainland provincial divisions.
var cnProvinces = []string{
	"AH", "BJ", "CQ", "FJ", "GD", "GS", "GX", "GZ", "HA", "HB", "HE", "HI", "HL", "HN",
	"JL", "JS", "JX", "LN", "NM", "NX", "QH", "SC", "SD", "SH", "SN", "SX", "TJ", "XJ",
	"XZ", "YN", "ZJ",
}

// RegionZones returns the IANA zones of a postal address: every zone of a US
// state (both for states spanning two), Asia/Shanghai for Chinese provinces
// (Xinjiang adds Asia/Urumqi), Asia/Kolkata for India. It returns nil when the address does not pin
// down a zone (an unknown region, a US address without a state, a country
// Nudge has no map for).
func RegionZones(addr nudge.Address) []string {
	country := strings.ToUpper(strings.TrimSpace(addr.Country))
	region := strings.ToUpper(strings.TrimSpace(addr.Region))
	region = strings.TrimPrefix(region, country+"-")
	switch country {
	case "US":
		return slices.Clone(usStateZones[region])
	case "CN":
		if z, ok := cnRegionZones[region]; ok {
			return slices.Clone(z)
		}
		if region == "" || slices.Contains(cnProvinces, region) {
			return []string{"Asia/Shanghai"}
		}
		return nil
	case "PR", "VI", "GU", "MP", "AS":
		return slices.Clone(usStateZones[country])
	case "HK", "MO", "TW":
		return slices.Clone(cnRegionZones[country])
	case "IN":
		return []string{"Asia/Kolkata"}
	}
	return nil
}

// zoneAliases maps the old zone names libphonenumber still returns to their
// current IANA names, so that an address and a number in the same zone give
// one candidate zone.
var zoneAliases = map[string]string{"Asia/Calcutta": "Asia/Kolkata"}

// PhoneZones returns the zones libphonenumber maps an E.164 number to. A
// number that only identifies its country calling code (toll-free and other
// non-geographic numbers, which map to every zone of the code) tells nothing
// about where the borrower is and yields nil, as does an unparsable number.
// Answers are cached (phoneNumbers): a send works a number's zones out
// at its decision, at the last gate and for rendering, and parsing is most of
// a decision's cost. The returned slice is shared: callers must not modify it.
func PhoneZones(e164 string) []string {
	return factsOf(e164).zones
}

// phoneFacts is what a number tells about where the borrower is, worked out
// from one parse: its zones (PhoneZones) and its place (phoneSite).
type phoneFacts struct {
	zones  []string
	site   site
	siteOK bool
}

// factsOf returns what e164 tells, from the cache when it can.
func factsOf(e164 string) phoneFacts {
	if f, ok := phoneNumbers.get(e164); ok {
		return f
	}
	var f phoneFacts
	if num, err := phonenumbers.Parse(e164, ""); err == nil {
		f.zones = zonesOfNumber(num)
		f.site, f.siteOK = siteOfNumber(num)
	}
	phoneNumbers.put(e164, f)
	return f
}

// phoneZonesUncached is PhoneZones without the cache.
func phoneZonesUncached(e164 string) []string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return nil
	}
	return zonesOfNumber(num)
}

// zonesOfNumber is PhoneZones of a parsed number.
func zonesOfNumber(num *phonenumbers.PhoneNumber) []string {
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil {
		return nil
	}
	zones = slices.DeleteFunc(slices.Clone(zones), func(z string) bool { return z == phonenumbers.UNKNOWN_TIMEZONE })
	if len(zones) > 1 {
		whole, err := phonenumbers.GetTimezonesForPrefix(strconv.Itoa(int(num.GetCountryCode())))
		if err == nil && slices.Equal(whole, zones) {
			return nil
		}
	}
	for i, z := range zones {
		if alias, ok := zoneAliases[z]; ok {
			zones[i] = alias
		}
	}
	return zones
}

// CandidateZones returns the time zones the borrower may be in: the account's
// stated zone, every zone of its postal address, and every zone of each of its
// phone numbers, deduplicated and sorted. When the account carries no location
// data at all it returns the profile's fallback zone and fallback = true.
// A stated zone is returned as written even when it does not exist; Decide
// suppresses such an account with ReasonUnknownTimezone.
func CandidateZones(a nudge.Account, p *Profile) (zones []string, fallback bool) {
	if tz := strings.TrimSpace(a.Borrower.Timezone); tz != "" {
		zones = append(zones, tz)
	}
	if a.Address != nil {
		zones = append(zones, RegionZones(*a.Address)...)
	}
	for _, n := range a.PhoneNumbers() {
		zones = append(zones, PhoneZones(n)...)
	}
	if len(zones) == 0 {
		if p == nil {
			p = usProfile()
		}
		return []string{p.FallbackZone}, true
	}
	slices.Sort(zones)
	return slices.Compact(zones), false
}

// PrimaryLocation is the zone a borrower's "today" and a cadence step's
// preferred local time are read in: the stated zone, else the first candidate
// zone, else UTC. Pass the zones a Decision already computed to avoid working
// them out again (PrimaryLocationOf does it for you).
func PrimaryLocation(a nudge.Account, zones []string) *time.Location {
	if a.Borrower.Timezone != "" {
		if loc, err := nudge.LoadLocation(a.Borrower.Timezone); err == nil {
			return loc
		}
	}
	for _, z := range zones {
		if loc, err := nudge.LoadLocation(z); err == nil {
			return loc
		}
	}
	return time.UTC
}

// PrimaryLocationOf is PrimaryLocation with the candidate zones of a under
// profile p (none when p is nil).
func PrimaryLocationOf(a nudge.Account, p *Profile) *time.Location {
	var zones []string
	if p != nil && a.Borrower.Timezone == "" {
		zones, _ = CandidateZones(a, p)
	}
	return PrimaryLocation(a, zones)
}
