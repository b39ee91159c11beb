package ops

import (
	"context"
	"net/http"
	"time"

	"github.com/nudgehq/nudge"
)

// opsLangCookieAge is how long the language chosen from the menu is remembered.
const opsLangCookieAge = 365 * 24 * time.Hour

// localise sets what a page needs to speak the user's language and the
// lender's time: the language (remembering a choice made from the menu),
// the language menu and the lender's time zone.
func (o *Ops) localise(w http.ResponseWriter, r *http.Request, v *opsView) {
	if l := chosenLang(r); l != "" {
		c := o.cookie(OpsLangCookie, l)
		c.MaxAge = int(opsLangCookieAge / time.Second)
		http.SetCookie(w, c)
	}
	v.Lang = pickLang(r, v.Lender.Language)
	v.Langs = langMenu(r, v.Lang)
	v.Zone = o.lenderZone(r.Context(), v.Lender)
}

// live marks the page as one whose live parts refresh themselves.
func (o *Ops) live(v *opsView) {
	if o.cfg.Refresh > 0 {
		v.Refresh = max(1, int(o.cfg.Refresh/time.Second))
	}
}

// lenderZone is where the console counts the lender's days and shows its
// times: the lender's time zone (lenders[].timezone in the configuration).
// A lender without one (or with a name the time zone database lacks) is
// shown in the fallback zone of the compliance profile of its first active
// cadence, that is its jurisdiction's (us: America/New_York, cn:
// Asia/Shanghai); a lender without cadences, in UTC.
func (o *Ops) lenderZone(ctx context.Context, l nudge.Lender) *time.Location {
	if l.Timezone != "" {
		loc, err := nudge.LoadLocation(l.Timezone)
		if err == nil {
			return loc
		}
		o.cfg.Logger.Warn("ops: the lender's time zone is unknown", "lender", l.ID, "timezone", l.Timezone, "err", err)
	}
	if o.cfg.Cadences == nil || l.ID == "" {
		return time.UTC
	}
	cs, err := o.cfg.Cadences.Cadences(ctx, l.ID)
	if err != nil {
		o.cfg.Logger.Warn("ops: reading the lender's cadences for its time zone", "lender", l.ID, "err", err)
		return time.UTC
	}
	for _, c := range cs {
		p, err := o.cfg.Cadences.Profile(ctx, l.ID, c.Name, c.Version)
		if err != nil || p.FallbackZone == "" {
			continue
		}
		if loc, err := nudge.LoadLocation(p.FallbackZone); err == nil {
			return loc
		}
	}
	return time.UTC
}
