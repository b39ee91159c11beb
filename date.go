package nudge

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// DateLayout is the layout of a Date in JSON, YAML and SQL.
const DateLayout = "2006-01-02"

// Date is a civil date with no time zone, such as a due date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date written as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date like 2026-06-01", s)
	}
	return DateOf(t), nil
}

// MustDate parses s and panics on error; for tests and literals only.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// In returns the instant the wall clock in loc shows hour:minute on d (nil
// loc means UTC). A time that does not exist on that day (skipped by a
// daylight-saving change) is moved forward by the length of the gap, so 02:30
// on a spring-forward day is 03:30; a time that occurs twice (a fall-back day)
// is its first occurrence.
func (d Date) In(loc *time.Location, hour, minute int) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	wall := time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, time.UTC)
	// Every offset in use around the wall time: offset changes are rare, so
	// the offsets a day before and after and the one time.Date picks cover them.
	offsets := make([]int, 0, 3)
	for _, probe := range []time.Time{wall.Add(-26 * time.Hour), wall.Add(26 * time.Hour), time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, loc)} {
		_, off := probe.In(loc).Zone()
		if !slices.Contains(offsets, off) {
			offsets = append(offsets, off)
		}
	}
	var exact, forward time.Time
	for _, off := range offsets {
		cand := wall.Add(-time.Duration(off) * time.Second).In(loc)
		shown := time.Date(cand.Year(), cand.Month(), cand.Day(), cand.Hour(), cand.Minute(), cand.Second(), 0, time.UTC)
		switch {
		case shown.Equal(wall):
			if exact.IsZero() || cand.Before(exact) {
				exact = cand
			}
		case shown.After(wall):
			if forward.IsZero() || cand.Before(forward) {
				forward = cand
			}
		}
	}
	if !exact.IsZero() {
		return exact
	}
	if !forward.IsZero() {
		return forward
	}
	return time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, loc)
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// DaysSince returns the number of days from o to d (positive when d is later).
func (d Date) DaysSince(o Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	b := time.Date(o.Year, o.Month, o.Day, 12, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Round(24*time.Hour) / (24 * time.Hour))
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.DaysSince(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.DaysSince(o) > 0 }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

var _ json.Marshaler = Date{}

// MarshalJSON writes the date as a string, or null when zero.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a date string or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a date string like \"2026-06-01\"")
	}
	return d.UnmarshalText([]byte(s))
}
