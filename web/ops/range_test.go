package ops

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// TestRangePeriods: the chart's periods start on round local times (after
// a first partial one), follow the lender's clock through a DST change and
// a half-hour offset, and never run past now.
func TestRangePeriods(t *testing.T) {
	t.Parallel()
	ny, kolkata := mustZone(t, "America/New_York"), mustZone(t, "Asia/Kolkata")
	for _, tc := range []struct {
		name   string
		key    string
		loc    *time.Location
		now    time.Time
		n      int
		labels []string // the first labels
		absent string   // a label that must not appear
	}{
		{name: "a day across the spring DST change", key: "24h", loc: ny, now: time.Date(2026, 3, 8, 12, 20, 0, 0, ny),
			n: 25, labels: []string{"11:20", "12:00", "13:00"}, absent: "02:00"},
		{name: "a half-hour zone", key: "24h", loc: kolkata, now: time.Date(2026, 6, 15, 20, 30, 0, 0, time.UTC),
			n: 24, labels: []string{"02:00", "03:00"}},
		{name: "an hour in 5-minute steps", key: "1h", loc: ny, now: time.Date(2026, 6, 15, 9, 7, 0, 0, ny),
			n: 13, labels: []string{"08:07", "08:10", "08:15"}},
		{name: "a week across the autumn DST change", key: "7d", loc: ny, now: time.Date(2026, 11, 3, 10, 0, 0, 0, ny),
			n: 8, labels: []string{"10-27", "10-28", "10-29"}},
		{name: "a month", key: "30d", loc: time.UTC, now: time.Date(2026, 6, 15, 15, 0, 0, 0, time.UTC),
			n: 31, labels: []string{"05-16", "05-17"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var f opsFilter
			for _, rg := range opsRanges {
				if rg.Key == tc.key {
					f.rangeOf(rg, tc.now, tc.loc)
				}
			}
			require.Len(t, f.Periods, tc.n)
			require.Len(t, f.PeriodLabels, tc.n)
			require.Equal(t, tc.labels, f.PeriodLabels[:len(tc.labels)])
			require.NotContains(t, f.PeriodLabels, tc.absent)
			require.True(t, f.Periods[0].Equal(f.Since))
			for i := 1; i < len(f.Periods); i++ {
				require.True(t, f.Periods[i].After(f.Periods[i-1]))
				require.True(t, f.Periods[i].Before(f.Until))
				local := f.Periods[i].In(tc.loc)
				if tc.key == "24h" {
					require.Zero(t, local.Minute(), "period %d starts on the hour: %s", i, local)
				}
				if tc.key == "7d" {
					require.Zero(t, local.Hour()*60+local.Minute(), "period %d starts at midnight: %s", i, local)
				}
			}
			require.True(t, f.Until.After(tc.now), "now is inside the range")
		})
	}
}

// TestRangeOfDates: dates are whole days in the lender's zone, one period a
// day, or a week past opsWeeksAfter days; ?to= alone ends a 30-day range.
func TestRangeOfDates(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	o := &Ops{}
	p := &opsPrincipal{Lender: "acme"}
	v := &opsView{Lang: "en", Zone: ny, Now: time.Date(2026, 6, 15, 15, 0, 0, 0, time.UTC)}
	f, err := o.filter(httptest.NewRequest(http.MethodGet, "/ops/?from=2026-03-01&to=2026-03-10", nil), p, v)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, ny), f.Since)
	require.Equal(t, time.Date(2026, 3, 11, 0, 0, 0, 0, ny), f.Until)
	require.Len(t, f.Periods, 10)
	require.Equal(t, 23*time.Hour, f.Periods[8].Sub(f.Periods[7]), "March 8 is 23 hours long in New York")
	require.Equal(t, "Attempts per day", f.Per)

	f, err = o.filter(httptest.NewRequest(http.MethodGet, "/ops/?from=2026-01-01&to=2026-06-15", nil), p, v)
	require.NoError(t, err)
	require.Len(t, f.Periods, 24, "weeks")
	require.Equal(t, "Attempts per week", f.Per)

	f, err = o.filter(httptest.NewRequest(http.MethodGet, "/ops/?to=2026-05-01", nil), p, v)
	require.NoError(t, err)
	require.Equal(t, nudge.MustDate("2026-04-02"), f.From)
}
