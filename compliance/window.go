package compliance

import (
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
)

// SearchHorizon is how far ahead NextAllowed looks for an allowed instant.
const SearchHorizon = 14 * 24 * time.Hour

// ReasonError is an error that carries the nudge.Reason behind it, so that a
// caller can record or count it.
type ReasonError struct {
	Reason nudge.Reason
	Detail string
}

func (e *ReasonError) Error() string {
	if e.Detail == "" {
		return string(e.Reason)
	}
	return string(e.Reason) + ": " + e.Detail
}

// Is matches any ReasonError with the same Reason, so errors.Is(err,
// ErrNoCommonWindow) holds whatever the detail.
func (e *ReasonError) Is(target error) bool {
	var t *ReasonError
	return errors.As(target, &t) && t.Reason == e.Reason
}

// Errors returned by NextAllowed, matched with errors.Is.
var (
	ErrNoCommonWindow  error = &ReasonError{Reason: nudge.ReasonNoCommonWindow}
	ErrBlackout        error = &ReasonError{Reason: nudge.ReasonBlackout}
	ErrUnknownTimezone error = &ReasonError{Reason: nudge.ReasonUnknownTimezone}
)

// ReasonOf returns the reason carried by err, or ReasonNone.
func ReasonOf(err error) nudge.Reason {
	var re *ReasonError
	if errors.As(err, &re) {
		return re.Reason
	}
	return nudge.ReasonNone
}

// placement is where the borrower may be and the daily window that applies there.
type placement struct {
	zones    []string
	locs     []*time.Location
	window   Window
	fallback bool
	// by is the profile whose window leaves no common time, when there is none.
	by *Profile
}

// place resolves the candidate zones of a and the window for channel ch:
// the intersection of every layer's window for ch (with the lender's
// fallback window when there is no location data).
func place(ls layers, a nudge.Account, ch nudge.ChannelKind) (placement, error) {
	p := ls[0]
	zones, fallback := CandidateZones(a, p)
	w, by, common := ls.window(ch)
	pl := placement{zones: zones, fallback: fallback, window: w}
	for _, z := range zones {
		loc, err := nudge.LoadLocation(z)
		if err != nil || z == "" || z == "Local" {
			return pl, &ReasonError{Reason: nudge.ReasonUnknownTimezone, Detail: fmt.Sprintf("time zone %q", z)}
		}
		pl.locs = append(pl.locs, loc)
	}
	if !common {
		pl.by = by
		return pl, &ReasonError{Reason: nudge.ReasonNoCommonWindow, Detail: fmt.Sprintf("the %s windows of profiles %v share no time", ch, ls.names())}
	}
	if fallback {
		w, ok := pl.window.Intersect(p.FallbackWindow)
		if !ok {
			return pl, &ReasonError{Reason: nudge.ReasonNoCommonWindow, Detail: fmt.Sprintf("the %s window %s and the fallback window %s share no time", ch, pl.window, p.FallbackWindow)}
		}
		pl.window = w
	}
	if pl.window.validate() != nil {
		return pl, &ReasonError{Reason: nudge.ReasonNoCommonWindow, Detail: fmt.Sprintf("the profile has no window for %s", ch)}
	}
	return pl, nil
}

// inZone returns the first instant ≥ t inside w in loc on a day that is not a
// blackout day (when blackout is non-nil).
func inZone(loc *time.Location, w Window, blackout func(nudge.Date) bool, t time.Time) (time.Time, bool) {
	day := nudge.DateOf(t.In(loc))
	// Start a day early: an instant just after local midnight may still lie
	// in a window of the previous date only when End is 24:00, which the
	// previous date's end handles.
	day = day.AddDays(-1)
	for range 400 {
		start := day.In(loc, int(w.Start)/60, int(w.Start)%60)
		end := day.In(loc, int(w.End)/60, int(w.End)%60)
		if t.Before(end) && (blackout == nil || !blackout(day)) {
			if t.Before(start) {
				return start, true
			}
			return t, true
		}
		day = day.AddDays(1)
	}
	return time.Time{}, false
}

// nextOpen returns the first instant ≥ t, not after limit, that lies inside
// the window in every location (and outside blackout days when blackout is
// non-nil).
func nextOpen(locs []*time.Location, w Window, blackout func(nudge.Date) bool, t, limit time.Time) (time.Time, bool) {
	cur := t
	for range 10000 {
		if cur.After(limit) {
			return time.Time{}, false
		}
		best := cur
		for _, loc := range locs {
			n, ok := inZone(loc, w, blackout, cur)
			if !ok {
				return time.Time{}, false
			}
			if n.After(best) {
				best = n
			}
		}
		if best.Equal(cur) {
			return cur, true
		}
		cur = best
	}
	return time.Time{}, false
}

// openAt returns the next allowed instant ≥ t for the placement; the error
// carries ReasonNoCommonWindow when the zones share no window within the
// horizon and ReasonBlackout when only blackout days stand in the way.
func openAt(p *Profile, pl placement, t time.Time) (time.Time, error) {
	limit := t.Add(SearchHorizon)
	if n, ok := nextOpen(pl.locs, pl.window, p.IsBlackout, t, limit); ok {
		return n, nil
	}
	if _, ok := nextOpen(pl.locs, pl.window, nil, t, limit); !ok {
		return time.Time{}, &ReasonError{Reason: nudge.ReasonNoCommonWindow, Detail: fmt.Sprintf("zones %v share no time inside %s within %s", pl.zones, pl.window, SearchHorizon)}
	}
	return time.Time{}, &ReasonError{Reason: nudge.ReasonBlackout, Detail: fmt.Sprintf("every allowed time within %s falls on a blackout date", SearchHorizon)}
}

// NextAllowed returns the first instant ≥ t at which channel ch may be used
// for account a under profile p and the jurisdiction profiles that govern
// the borrower (Jurisdictions): inside every one of their windows for the
// channel in every candidate zone of the borrower and not on a blackout date
// in any of them.
// It ignores caps, holds and consent (Decide checks those). The error wraps a
// ReasonError (ErrNoCommonWindow, ErrBlackout or ErrUnknownTimezone) when no
// such instant exists within SearchHorizon.
func NextAllowed(p *Profile, a nudge.Account, ch nudge.ChannelKind, t time.Time) (time.Time, error) {
	if p == nil {
		return time.Time{}, errors.New("next allowed time: nil profile")
	}
	if !ch.Valid() {
		return time.Time{}, fmt.Errorf("next allowed time: unknown channel %q", ch)
	}
	pl, err := place(layersFor(p, a), a, ch)
	if err != nil {
		return time.Time{}, fmt.Errorf("next allowed time for account %s on %s: %w", a.ID, ch, err)
	}
	n, err := openAt(p, pl, t)
	if err != nil {
		return time.Time{}, fmt.Errorf("next allowed time for account %s on %s: %w", a.ID, ch, err)
	}
	return n.UTC(), nil
}
