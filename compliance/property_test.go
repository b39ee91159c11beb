package compliance

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/stretchr/testify/require"
)

var (
	propZones   = []string{"", "America/New_York", "America/Los_Angeles", "America/Phoenix", "America/Chicago", "Asia/Shanghai", "Europe/London", "Pacific/Honolulu", "Australia/Lord_Howe"}
	propRegions = []*nudge.Address{nil, {Country: "US", Region: "CA"}, {Country: "US", Region: "IN"}, {Country: "US", Region: "TX"}, {Country: "US", Region: "AZ"}, {Country: "CN", Region: "XJ"}, {Country: "CN", Region: "GD"}, {Country: "US"},
		{Country: "US", Region: "MA"}, {Country: "US", Region: "WA"}, {Country: "US", Region: "NY", PostalCode: "10001"}, {Country: "IN", Region: "KA"}}
	propPhones = []string{nyPhone, laPhone, cnPhone, "+16025550123", "+18085550123", "+18005550123", "+19075550123", maPhone, waPhone, inPhone}
)

// checkDecision asserts the window properties of one decision: a send lies
// inside the window of every profile applied, in every candidate zone, and
// a deferral is a send at its own instant.
func checkDecision(t *testing.T, in Input) {
	t.Helper()
	d := Decide(in)
	require.Equal(t, in.Profile.Name, d.Applied[0], "the lender's profile comes first")
	require.Equal(t, append([]string{in.Profile.Name}, Jurisdictions(in.Account, in.Profile)...), d.Applied)
	require.Contains(t, d.Applied, d.DecidedBy)
	switch d.Action {
	case Send:
		_, fallback := CandidateZones(in.Account, in.Profile)
		for _, name := range d.Applied {
			p := in.Profile
			if name != in.Profile.Name {
				p = builtin(t, name)
			}
			w, ok := p.Windows[in.Channel]
			if !ok {
				continue
			}
			if fallback {
				w, _ = w.Intersect(in.Profile.FallbackWindow)
			}
			for _, z := range d.Zones {
				loc, err := time.LoadLocation(z)
				require.NoError(t, err)
				local := in.At.In(loc)
				minute := ClockTime(local.Hour()*60 + local.Minute())
				require.True(t, minute >= w.Start && minute < w.End, "send at %s is %s in %s, outside %s's %s", in.At, local, z, name, w)
				require.False(t, in.Profile.IsBlackout(nudge.DateOf(local)), "send on a blackout date in %s", z)
			}
		}
	case Defer:
		require.True(t, d.Until.After(in.At), "defer until %s is not after %s", d.Until, in.At)
		again := in
		again.At = d.Until
		next := Decide(again)
		require.Equal(t, Send, next.Action, "decision at Until %s of %+v is %+v", d.Until, d, next)
	}
}

func randomInput(r *rand.Rand, p *Profile) Input {
	a := account()
	a.Borrower.Timezone = propZones[r.IntN(len(propZones))]
	a.Address = propRegions[r.IntN(len(propRegions))]
	a.Contacts = nil
	for range 1 + r.IntN(2) {
		ph := propPhones[r.IntN(len(propPhones))]
		a.Contacts = append(a.Contacts,
			nudge.Contact{Channel: nudge.SMS, Address: ph, Consent: true},
			nudge.Contact{Channel: nudge.Voice, Address: ph, Consent: true})
	}
	a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Email, Address: email})
	ch := nudge.Channels[r.IntN(len(nudge.Channels))]
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Minute)
	var history []nudge.Attempt
	statuses := []nudge.AttemptStatus{nudge.AttemptDelivered, nudge.AttemptNoAnswer, nudge.AttemptBusy, nudge.AttemptCompleted, nudge.AttemptFailed}
	for range r.IntN(10) {
		h := attempt(nudge.Channels[r.IntN(3)], statuses[r.IntN(len(statuses))], at.Add(-time.Duration(r.Int64N(int64(8*24*time.Hour)))))
		if h.Channel != nudge.Email {
			h.Address = a.Contacts[0].Address
		}
		h.Conversation = h.Channel == nudge.Voice && r.IntN(5) == 0
		history = append(history, h)
	}
	return Input{Account: a, Channel: ch, Address: a.ContactsFor(ch)[0].Address, At: at, History: history, Profile: p}
}

func TestDecidePropertyWindows(t *testing.T) {
	t.Parallel()
	lender := builtin(t, "us")
	lender.BlackoutDates = []nudge.Date{nudge.MustDate("2026-07-03"), nudge.MustDate("2026-12-25"), nudge.MustDate("2026-03-08")}
	lender.BlackoutWeekdays = []time.Weekday{time.Sunday}
	lender.OptInJurisdictions = []string{"us-nyc"}
	profiles := []*Profile{builtin(t, "us"), builtin(t, "cn"), lender}
	r := rand.New(rand.NewPCG(2026, 3))
	for range 3000 {
		checkDecision(t, randomInput(r, profiles[r.IntN(len(profiles))]))
	}
}

func FuzzDecide(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(2026), uint64(308))
	f.Add(uint64(7), uint64(1101))
	profiles := []*Profile{usProfile(), cnProfile()}
	f.Fuzz(func(t *testing.T, seed1, seed2 uint64) {
		r := rand.New(rand.NewPCG(seed1, seed2))
		checkDecision(t, randomInput(r, profiles[r.IntN(len(profiles))]))
	})
}
