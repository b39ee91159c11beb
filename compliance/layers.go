package compliance

import (
	"slices"
	"time"

	"github.com/nudgehq/nudge"
)

// layers are the profiles that govern one decision: the lender's profile
// first, then each jurisdiction profile that applies to the borrower, in the
// order of Jurisdictions. The strictest wins; on a tie the earlier layer is
// named as deciding.
type layers []*Profile

// layersFor returns the lender's profile p followed by the built-in
// jurisdiction profiles that govern account a.
func layersFor(p *Profile, a nudge.Account) layers {
	ls := layers{p}
	for _, name := range Jurisdictions(a, p) {
		ls = append(ls, builtins()[name])
	}
	return ls
}

// names lists the layers' profile names.
func (ls layers) names() []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

// channelWindow returns layer l's window for ch; an overlay without one sets
// no window (ok false). The lender's profile always sets one, the zero
// Window when it has none, which no time satisfies.
func (ls layers) channelWindow(i int, ch nudge.ChannelKind) (Window, bool) {
	w, ok := ls[i].Windows[ch]
	return w, ok || i == 0
}

// window intersects the windows of every layer for ch. When they share no
// time it returns false and the layer whose window emptied the intersection.
func (ls layers) window(ch nudge.ChannelKind) (Window, *Profile, bool) {
	w, _ := ls.channelWindow(0, ch)
	for i := 1; i < len(ls); i++ {
		lw, ok := ls.channelWindow(i, ch)
		if !ok {
			continue
		}
		nw, ok := w.Intersect(lw)
		if !ok {
			return w, ls[i], false
		}
		w = nw
	}
	return w, nil, true
}

// ownWindow is layer i's window for ch where the borrower is placed: with
// the lender's fallback window when there is no location data, less the end
// margin. ok is false when the layer sets no window; open is false when
// nothing is left of it.
func (ls layers) ownWindow(i int, pl placement, ch nudge.ChannelKind, margin time.Duration) (w Window, ok, open bool) {
	w, ok = ls.channelWindow(i, ch)
	if !ok {
		return w, false, false
	}
	if pl.fallback {
		if w, open = w.Intersect(ls[0].FallbackWindow); !open {
			return w, true, false
		}
	}
	if margin > 0 {
		w.End -= marginMinutes(margin)
	}
	return w, true, w.validate() == nil
}

// windowBy returns the layer whose own window decides that ch is closed at
// t: the one that, checked alone in every candidate zone, opens last (never
// opening counts as last of all).
func (ls layers) windowBy(pl placement, ch nudge.ChannelKind, margin time.Duration, t time.Time) *Profile {
	if len(ls) == 1 {
		return ls[0]
	}
	var (
		best   *Profile
		bestAt time.Time
		never  bool
	)
	limit := t.Add(SearchHorizon)
	for i, l := range ls {
		w, ok, open := ls.ownWindow(i, pl, ch, margin)
		if !ok {
			continue
		}
		var n time.Time
		if open {
			n, open = nextOpen(pl.locs, w, nil, t, limit)
		}
		switch {
		case never:
		case !open:
			best, never = l, true
		case best == nil || n.After(bestAt):
			best, bestAt = l, n
		}
	}
	return best
}

// windowEndBy returns the layer whose own window for ch closes first after
// t, which lies inside every layer's window.
func (ls layers) windowEndBy(pl placement, ch nudge.ChannelKind, t time.Time) *Profile {
	if len(ls) == 1 {
		return ls[0]
	}
	var (
		best  *Profile
		first time.Time
	)
	for i, l := range ls {
		w, ok, open := ls.ownWindow(i, pl, ch, 0)
		if !ok || !open {
			continue
		}
		if end := windowEnd(pl.locs, w, t); best == nil || end.Before(first) {
			best, first = l, end
		}
	}
	return best
}

// holdBy returns the first layer under which a hold of kind k stops ch, or
// nil. An overlay stops only the kinds it lists.
func (ls layers) holdBy(k nudge.HoldKind, ch nudge.ChannelKind) *Profile {
	for _, l := range ls {
		if l.Overlay {
			if chs, ok := l.HoldScope[k]; ok && slices.Contains(chs, ch) {
				return l
			}
			continue
		}
		if l.HoldSuppresses(k, ch) {
			return l
		}
	}
	return nil
}

// consentBy returns the first layer that requires consent on ch, or nil.
func (ls layers) consentBy(ch nudge.ChannelKind) *Profile {
	for _, l := range ls {
		if l.RequireConsent[ch] {
			return l
		}
	}
	return nil
}

// conversation returns the longest call block after a conversation and the
// layer that sets it.
func (ls layers) conversation() (int, *Profile) {
	days, by := 0, ls[0]
	for _, l := range ls {
		if l.ConversationBlockDays > days {
			days, by = l.ConversationBlockDays, l
		}
	}
	return days, by
}

// capOwners records which layer each cap of a merged list comes from; nil
// means every cap is the lender's.
type capOwners []*Profile

// of returns the layer of cap i.
func (o capOwners) of(ls layers, i int) *Profile {
	if o == nil {
		return ls[0]
	}
	return o[i]
}

// caps returns every layer's caps on ch, each with its own reason and rule,
// leaving out a cap that repeats an earlier one (same channel, window,
// maximum and count), and the layer each comes from.
func (ls layers) caps(ch nudge.ChannelKind) ([]nudge.CapLimit, capOwners) {
	if len(ls) == 1 {
		return ls[0].Caps[ch], nil
	}
	var (
		out    []nudge.CapLimit
		owners capOwners
	)
	for _, l := range ls {
		for _, c := range l.Caps[ch] {
			dup := slices.ContainsFunc(out, func(o nudge.CapLimit) bool {
				return o.Channel == c.Channel && o.Window == c.Window && o.Max == c.Max && o.Count == c.Count && o.PerAddress == c.PerAddress
			})
			if !dup {
				out = append(out, c)
				owners = append(owners, l)
			}
		}
	}
	return out, owners
}
