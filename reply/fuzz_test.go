package reply_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

// FuzzParse checks that Parse never panics and keeps its promises about
// dates and amounts whatever the text, instant, zone and horizon.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"STOP", "PAY 200 FRI", "I will pay $150 on 12/05", "can pay 200 next friday", "pagaré 200 el 5 de diciembre",
		"Pago mañana", "我明天还款", "承诺12月5日还款", "下周五还500", "5号还", "I'll pay on 1/15", "I'll pay 100 on 11/20",
		"pay 1.5k on the 5th", "pago 200,50 pasado mañana", "十二月五日还两千", "这周三还", "1", "9", "pay 99999999999999999 friday",
		"pay 1,000,000.999 tomorrow", "in 366 days pay", "下下个星期天还一千五", "pay 2/29", "el 31", "万万万万万还", "",
	}
	var zones []*time.Location
	for _, name := range []string{"America/New_York", "Asia/Shanghai", "America/Mexico_City", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"} {
		zones = append(zones, mustZone(f, name))
	}
	for i, s := range seeds {
		f.Add(s, int64(1795791600+i*7919), uint8(i), int16(i*3-5), uint8(i))
	}
	f.Fuzz(func(t *testing.T, text string, unix int64, zone uint8, maxDays int16, lang uint8) {
		loc := zones[int(zone)%len(zones)]
		// Keep the instant within years Date can represent around the horizon.
		unix = unix % (200 * 365 * 24 * 3600)
		if unix < 0 {
			unix = -unix
		}
		c := reply.Context{
			Now:            time.Unix(unix+946684800, 0).UTC(),
			Location:       loc,
			Language:       [...]string{"en", "es", "zh-CN", "en-GB", ""}[int(lang)%5],
			Country:        [...]string{"US", "MX", "CN", "", "GB"}[int(lang)%5],
			AmountDue:      [...]string{"300", "12.5", "", "0", "x"}[int(zone)%5],
			Currency:       [...]string{"USD", "CNY", "JPY", "", "BHD"}[int(lang)%5],
			MaxPromiseDays: int(maxDays),
			Menu: map[string]reply.MenuOption{
				"1": {Intent: nudge.IntentPromise, Date: nudge.DateOf(time.Unix(unix+946684800, 0).UTC()).AddDays(int(maxDays) % 40)},
				"9": {Intent: nudge.IntentOptOut, Date: nudge.MustDate("2026-12-05"), Amount: "5"},
			},
		}
		r := reply.Parse(text, c)
		today := nudge.DateOf(c.Now.In(loc))
		switch r.Intent {
		case nudge.IntentPromise:
			require.False(t, r.Date.IsZero(), "a promise has a date: %q", text)
			require.False(t, r.Date.Before(today), "promise dated %s before today %s: %q", r.Date, today, text)
			require.False(t, r.Past, "a promise is never past: %q", text)
			if r.Amount != "" {
				require.NotRegexp(t, `^[0.]*$`, r.Amount, "a promise is never of zero: %q", text)
				require.Regexp(t, `^[0-9]+(\.[0-9]+)?$`, r.Amount, "a promise amount is a positive decimal: %q", text)
			}
		case nudge.IntentOptOut, nudge.IntentOptIn, nudge.IntentHelp, nudge.IntentPaid, nudge.IntentWrongNumber,
			nudge.IntentTalkToPerson, nudge.IntentUnknown:
			require.True(t, r.Date.IsZero(), "a %s carries no date: %q", r.Intent, text)
			require.Empty(t, r.Amount, "a %s carries no amount: %q", r.Intent, text)
			require.False(t, r.TooFar, "only a promise is too far: %q", text)
		default:
			t.Fatalf("unexpected intent %q for %q", r.Intent, text)
		}
		if r.Past {
			require.Equal(t, nudge.IntentUnknown, r.Intent)
		}
		if r.Keyword != "" {
			require.Contains(t, []nudge.Intent{nudge.IntentOptOut, nudge.IntentOptIn, nudge.IntentHelp}, r.Intent)
		}
	})
}
