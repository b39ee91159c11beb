package compliance

import (
	"testing"

	"github.com/nudgehq/nudge"
	"github.com/stretchr/testify/require"
)

func TestCandidateZones(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		acct     func(*nudge.Account)
		profile  string
		zones    []string
		fallback bool
	}{
		{name: "phone only", zones: []string{"America/New_York"}},
		{name: "phone and address", acct: func(a *nudge.Account) { a.Address = &nudge.Address{Country: "US", Region: "CA"} }, zones: []string{"America/Los_Angeles", "America/New_York"}},
		{name: "stated zone, address and phone", acct: func(a *nudge.Account) {
			a.Borrower.Timezone = "America/Chicago"
			a.Address = &nudge.Address{Country: "us", Region: "US-tn"}
		}, zones: []string{"America/Chicago", "America/New_York"}},
		{name: "Indiana spans two zones", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US", Region: "IN"}
			a.Contacts = nil
		}, zones: []string{"America/Chicago", "America/Indiana/Indianapolis"}},
		{name: "Chinese province", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "CN", Region: "GD"}
			a.Contacts = nil
		}, zones: []string{"Asia/Shanghai"}},
		{name: "Xinjiang adds Urumqi", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "CN", Region: "XJ"}
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: cnPhone}}
		}, zones: []string{"Asia/Shanghai", "Asia/Urumqi"}},
		{name: "toll-free number says nothing", acct: func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+18005550123"}}
		}, zones: []string{"America/New_York"}, fallback: true},
		{name: "no data, cn fallback", profile: "cn", acct: func(a *nudge.Account) { a.Contacts = nil }, zones: []string{"Asia/Shanghai"}, fallback: true},
		{name: "US address without state says nothing", acct: func(a *nudge.Account) {
			a.Address = &nudge.Address{Country: "US"}
			a.Contacts = nil
		}, zones: []string{"America/New_York"}, fallback: true},
		{name: "unparsable phone is ignored", acct: func(a *nudge.Account) {
			a.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "not a number"}}
			a.Borrower.Timezone = "Asia/Shanghai"
		}, zones: []string{"Asia/Shanghai"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mods []func(*nudge.Account)
			if tc.acct != nil {
				mods = append(mods, tc.acct)
			}
			prof := "us"
			if tc.profile != "" {
				prof = tc.profile
			}
			zones, fallback := CandidateZones(account(mods...), builtin(t, prof))
			require.Equal(t, tc.zones, zones)
			require.Equal(t, tc.fallback, fallback)
		})
	}
}
