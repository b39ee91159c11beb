package reply_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

// TestParseStoredMenus reads replies against the menus the default SMS
// templates offer and the dispatcher stores with the attempt (a promise of
// the amount due by the offered date, then "already paid"; a broken
// promise's text offers only "already paid"), in the three languages, and
// numeric dates in the order of the borrower's language and country.
func TestParseStoredMenus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ie := b.en
	ie.Country = "IE"
	withMenu := func(c reply.Context, m nudge.Menu) reply.Context {
		c.Menu = m
		return c
	}
	offer := func(amount string) nudge.Menu {
		return nudge.Menu{
			"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-12-04"), Amount: amount},
			"2": {Intent: nudge.IntentPaid},
		}
	}
	paidOnly := nudge.Menu{"1": {Intent: nudge.IntentPaid}}
	en, esUS, es, zh := withMenu(b.en, offer("300.00")), withMenu(b.esUS, offer("300.00")), withMenu(b.es, offer("300.00")), withMenu(b.zh, offer("1500.00"))
	unknown, paid := nudge.IntentUnknown, nudge.IntentPaid
	tests := []struct {
		name string
		ctx  reply.Context
		text string
		want reply.Result
	}{
		// English menus.
		{"en 1 is the promise offered", en, "1", promise("300.00", "2026-12-04", "")},
		{"en 2 is already paid", en, "2", intent(paid, "")},
		{"en 2 with an exclamation", en, "2!", intent(paid, "")},
		{"en a spelled-out key", en, "Two", intent(paid, "")},
		{"en option 2", en, "option 2", intent(paid, "")},
		{"en a keycap emoji", en, "1\ufe0f\u20e3", promise("300.00", "2026-12-04", "")},
		{"en a key not offered", en, "3", intent(unknown, "")},
		{"en zero is not offered", en, "0", intent(unknown, "")},
		{"en two digits are not a key", en, "12", intent(unknown, "")},
		{"en a key twice is not a key", en, "1 1", intent(unknown, "")},
		{"en STOP still opts out", en, "Stop", keyword(nudge.IntentOptOut, "STOP", "en")},
		{"en a key with a revocation is a revocation", en, "1 and stop texting me", revoked("en", nudge.SMS)},
		{"en START is a keyword, not a menu key", en, "START", keyword(nudge.IntentOptIn, "START", "en")},
		{"en the paid-only menu of a broken promise", withMenu(b.en, paidOnly), "1", intent(paid, "")},
		{"en the paid-only menu offers no 2", withMenu(b.en, paidOnly), "2", intent(unknown, "")},
		{"en no menu stored: 2 goes to a person", b.en, "2", intent(unknown, "")},
		// Spanish menus.
		{"es 1 in the US", esUS, "1", promise("300.00", "2026-12-04", "")},
		{"es uno", es, "uno", promise("300.00", "2026-12-04", "")},
		{"es dos is already paid", esUS, "Dos", intent(paid, "")},
		{"es opción 2", esUS, "Opción 2", intent(paid, "es")},
		{"es a key not offered", es, "tres", intent(unknown, "")},
		{"es ALTO still opts out", esUS, "ALTO", keyword(nudge.IntentOptOut, "ALTO", "es")},
		// Chinese menus.
		{"zh 1", zh, "1", promise("1500.00", "2026-12-04", "")},
		{"zh 一 in Chinese", zh, "一", promise("1500.00", "2026-12-04", "zh-CN")},
		{"zh 二 is already paid", zh, "二", intent(paid, "zh-CN")},
		{"zh a full-width 2", zh, "２", intent(paid, "")},
		{"zh 三 is not offered", zh, "三", intent(unknown, "zh-CN")},
		{"zh TD still opts out", zh, "TD", keyword(nudge.IntentOptOut, "TD", "")},
		// Numeric dates, day first in Spanish and day-first countries.
		{"es 3/12 is 3 December", b.es, "pagaré el 3/12", promise("300.00", "2026-12-03", "es")},
		{"es in the US 4/12 is 4 December", b.esUS, "le pago 250 el 4/12", promise("250.00", "2026-12-04", "es")},
		{"es 28/11 is tomorrow", b.es, "el 28/11 pago", promise("300.00", "2026-11-28", "es")},
		{"es 12/11 is past, 11 December asked back", b.es, "pago el 12/11", asked("es", "2026-12-11")},
		{"en in Ireland 3/12 is 3 December", ie, "I'll pay on 3/12", promise("300.00", "2026-12-03", "en")},
		{"en in the US 12/4 is December 4", b.en, "I'll pay 12/4", promise("300.00", "2026-12-04", "en")},
		{"en in the US 11/12 is past: 11 December asked back", b.en, "I will pay on 11/12", asked("en", "2026-12-11")},
		{"zh in China 12/3 is December 3", b.zh, "12/3还款", promise("1500.00", "2026-12-03", "zh-CN")},
		{"en text around a key is text: no promise without a verb", en, "2 on 12/4", intent(unknown, "en")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reply.Parse(tt.text, tt.ctx), "reply %q", tt.text)
		})
	}
	require.GreaterOrEqual(t, len(tests), 30)
}
