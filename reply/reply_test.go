package reply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

// now is Friday 2026-11-27 15:00 UTC: 10:00 Friday in New York, 09:00 Friday
// in Mexico City and 23:00 Friday in Shanghai.
var now = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

type bundle struct {
	en, es, esUS, zh, jpy reply.Context
}

func setup(t testing.TB) bundle {
	t.Helper()
	ny := mustZone(t, "America/New_York")
	return bundle{
		en:   reply.Context{Now: now, Location: ny, Language: "en", Country: "US", AmountDue: "300", Currency: "USD"},
		es:   reply.Context{Now: now, Location: mustZone(t, "America/Mexico_City"), Language: "es", Country: "MX", AmountDue: "300", Currency: "MXN"},
		esUS: reply.Context{Now: now, Location: ny, Language: "es", Country: "US", AmountDue: "300", Currency: "USD"},
		zh:   reply.Context{Now: now, Location: mustZone(t, "Asia/Shanghai"), Language: "zh-CN", Country: "CN", AmountDue: "1500", Currency: "CNY"},
		jpy:  reply.Context{Now: now, Location: mustZone(t, "Asia/Tokyo"), Language: "en", Country: "JP", AmountDue: "30000", Currency: "JPY"},
	}
}

func promise(amount, date, lang string) reply.Result {
	return reply.Result{Intent: nudge.IntentPromise, Amount: amount, Date: nudge.MustDate(date), Language: lang}
}

func intent(in nudge.Intent, lang string) reply.Result {
	return reply.Result{Intent: in, Language: lang}
}

func keyword(in nudge.Intent, kw, lang string) reply.Result {
	r := reply.Result{Intent: in, Keyword: kw, Language: lang}
	if in == nudge.IntentOptOut {
		r.Channels = []nudge.ChannelKind{nudge.SMS} // the channel the reply came on
	}
	return r
}

// revoked is an opt-out of the channels chs written as a sentence.
func revoked(lang string, chs ...nudge.ChannelKind) reply.Result {
	return reply.Result{Intent: nudge.IntentOptOut, Channels: chs, Language: lang}
}

// asked is a promise whose numeric date reads two ways, the borrower's way
// being past: it is asked back, offering alt (empty for none).
func asked(lang, alt string) reply.Result {
	r := reply.Result{Intent: nudge.IntentUnknown, Past: true, Ambiguous: true, Language: lang}
	if alt != "" {
		r.Alternative = nudge.MustDate(alt)
	}
	return r
}

func past(lang string) reply.Result {
	return reply.Result{Intent: nudge.IntentUnknown, Past: true, Language: lang}
}

func tooFar(amount, date, lang string) reply.Result {
	r := promise(amount, date, lang)
	r.TooFar = true
	return r
}

const (
	optOut  = nudge.IntentOptOut
	optIn   = nudge.IntentOptIn
	help    = nudge.IntentHelp
	paid    = nudge.IntentPaid
	wrong   = nudge.IntentWrongNumber
	talk    = nudge.IntentTalkToPerson
	unknown = nudge.IntentUnknown
)

func TestParse(t *testing.T) {
	t.Parallel()
	b := setup(t)

	tests := []struct {
		name string
		ctx  reply.Context
		text string
		want reply.Result
	}{
		// Keywords.
		{"stop keyword", b.en, "STOP", keyword(optOut, "STOP", "en")},
		{"stop lower case with punctuation", b.en, "  stop. ", keyword(optOut, "STOP", "en")},
		{"unsubscribe shouted", b.en, "Unsubscribe!!", keyword(optOut, "UNSUBSCRIBE", "en")},
		{"opt-out hyphenated", b.en, "opt-out", keyword(optOut, "OPT OUT", "")},
		{"stopall", b.en, "STOPALL", keyword(optOut, "STOPALL", "")},
		{"revoke", b.en, "Revoke", keyword(optOut, "REVOKE", "")},
		{"end", b.en, "end", keyword(optOut, "END", "en")},
		{"full-width stop", b.zh, "ＳＴＯＰ", keyword(optOut, "STOP", "en")},
		{"start", b.en, "Start", keyword(optIn, "START", "en")},
		{"yes", b.en, "yes", keyword(optIn, "YES", "en")},
		{"unstop", b.en, "UNSTOP", keyword(optIn, "UNSTOP", "")},
		{"help", b.en, "HELP?", keyword(help, "HELP", "en")},
		{"info", b.en, "info", keyword(help, "INFO", "en")},
		{"spanish alto", b.es, "Alto", keyword(optOut, "ALTO", "es")},
		{"spanish baja", b.es, "BAJA", keyword(optOut, "BAJA", "es")},
		{"spanish ayuda", b.es, "ayuda", keyword(help, "AYUDA", "es")},
		{"spanish alta is not an opt-in", b.es, "ALTA", intent(unknown, "")},
		{"chinese td", b.zh, "退订", keyword(optOut, "退订", "zh-CN")},
		{"td", b.zh, "TD", keyword(optOut, "TD", "")},
		{"t", b.zh, "t", keyword(optOut, "T", "")},
		{"chinese cancel", b.zh, "取消", keyword(optOut, "取消", "zh-CN")},
		{"chinese help", b.zh, "帮助", keyword(help, "帮助", "zh-CN")},

		// Revocation in a sentence.
		{"stop texting me", b.en, "Stop texting me", revoked("en", nudge.SMS)},
		{"please stop calling revokes calls only", b.en, "please stop calling", revoked("en", nudge.Voice)},
		{"stop please", b.en, "STOP PLEASE", revoked("en", nudge.SMS)},
		{"dont text", b.en, "Don't text me again", revoked("en", nudge.SMS)},
		{"remove my number", b.en, "remove my number from your list", revoked("en", nudge.SMS)},
		{"stop then paid", b.en, "Stop! I already paid", revoked("en", nudge.SMS)},
		{"stop by is not a revocation", b.en, "I can't stop by the office", intent(unknown, "en")},
		{"no mas mensajes", b.es, "no más mensajes", revoked("es", nudge.SMS)},
		{"dejen de llamarme", b.es, "Dejen de llamarme por favor", revoked("es", nudge.Voice)},
		{"bu yao zai fa", b.zh, "不要再发了", revoked("zh-CN", nudge.SMS)},
		{"bie da le", b.zh, "别打了！", revoked("zh-CN", nudge.Voice)},
		{"don't call me", b.en, "don't call me", revoked("en", nudge.Voice)},

		// Promises in English.
		{"pay 200 fri on a friday means today", b.en, "PAY 200 FRI", promise("200.00", "2026-11-27", "en")},
		{"dollar amount and US date", b.en, "I will pay $150 on 12/05", promise("150.00", "2026-12-05", "en")},
		{"next friday is next week's", b.en, "can pay 200 next friday", promise("200.00", "2026-12-04", "en")},
		{"no amount means the amount due", b.en, "I will pay on 12/05", promise("300.00", "2026-12-05", "en")},
		{"simulator text", b.en, "I can pay 150 next Friday", promise("150.00", "2026-12-04", "en")},
		{"tomorrow", b.en, "I'll pay tomorrow", promise("300.00", "2026-11-28", "en")},
		{"thousands and cents with month name", b.en, "paying $1,250.50 on Dec 5th", promise("1250.50", "2026-12-05", "en")},
		{"in three days", b.en, "I will pay in three days", promise("300.00", "2026-11-30", "en")},
		{"in 3 days", b.en, "can pay in 3 days", promise("300.00", "2026-11-30", "en")},
		{"december 10th", b.en, "Can pay on December 10th", promise("300.00", "2026-12-10", "en")},
		{"the 15th", b.en, "I'll pay the 15th", promise("300.00", "2026-12-15", "en")},
		{"the 31st in november is its last day", b.en, "I'll pay on the 31st", promise("300.00", "2026-11-30", "en")},
		{"time is not an amount", b.en, "pay 200 at 5pm friday", promise("200.00", "2026-11-27", "en")},
		{"at 5 is a time", b.en, "I'll pay monday at 5", promise("300.00", "2026-11-30", "en")},
		{"tonight", b.en, "I'll make a payment tonight", promise("300.00", "2026-11-27", "en")},
		{"payday is not a payment", b.en, "I get paid friday so I'll pay then", promise("300.00", "2026-11-27", "en")},
		{"account number is not an amount", b.en, "my account is 12345678, will pay 120 monday", promise("120.00", "2026-11-30", "en")},
		{"k suffix", b.en, "pay 1.5k on the 5th", promise("1500.00", "2026-12-05", "en")},
		{"refusal then promise", b.en, "I can't pay today but I will pay monday", promise("300.00", "2026-11-30", "en")},
		{"iso date", b.en, "will pay 2026-12-01", promise("300.00", "2026-12-01", "en")},
		{"too far", b.en, "I'll pay on 12/31", tooFar("300.00", "2026-12-31", "en")},
		{"past date", b.en, "I'll pay 100 on 11/20", past("en")},
		{"year-less date next year beyond horizon is past", b.en, "I'll pay on 1/15", past("en")},
		{"last friday is past", b.en, "I wanted to pay last friday", past("en")},
		{"refusal", b.en, "I can't pay until friday", intent(unknown, "en")},
		{"two amounts", b.en, "I'll pay 200 and 100 on friday", intent(unknown, "en")},
		{"two dates", b.en, "I will pay monday or tuesday", intent(unknown, "en")},
		{"no date", b.en, "I will pay 200", intent(unknown, "en")},
		{"vague date", b.en, "I'll pay next week", intent(unknown, "en")},
		{"amount above ten times due", b.en, "I will pay 5000 friday", intent(unknown, "en")},
		{"zero amount", b.en, "I will pay 0 friday", intent(unknown, "en")},
		{"percentage", b.en, "I will pay 50% friday", intent(unknown, "en")},
		{"quoting the due date", b.en, "Is my payment due friday?", intent(unknown, "en")},
		{"asking about a payment", b.en, "Did you get my payment friday?", intent(unknown, "en")},
		{"impossible date", b.en, "I will pay on 2/30", intent(unknown, "en")},
		{"paid and promised", b.en, "I paid 100 yesterday and will pay 200 friday", intent(unknown, "en")},
		{"a date alone", b.en, "12/05", intent(unknown, "")},
		{"days from now", b.en, "I can pay 3 days from now", promise("300.00", "2026-11-30", "en")},
		{"weekday confirming a date", b.en, "I'll pay on Friday 12/4", promise("300.00", "2026-12-04", "en")},
		{"weekday contradicting a date", b.en, "I'll pay Monday 12/4", intent(unknown, "en")},
		{"half is an unclear amount", b.en, "I'll pay half on friday", intent(unknown, "en")},
		{"count is not an amount", b.en, "I'll pay in 2 payments starting friday", promise("300.00", "2026-11-27", "en")},
		{"end of the month", b.en, "I'll pay at the end of the month", promise("300.00", "2026-11-30", "en")},
		{"phone number is not an amount", b.en, "will pay friday, call 555-1234 if needed", promise("300.00", "2026-11-27", "en")},
		{"a number alone", b.en, "1", intent(unknown, "")},

		// Other English intents.
		{"paid", b.en, "paid", intent(paid, "en")},
		{"already paid", b.en, "I already paid", intent(paid, "en")},
		{"paid yesterday", b.en, "Paid it yesterday", intent(paid, "en")},
		{"made a payment", b.en, "I made a payment on Monday", intent(paid, "en")},
		{"not yet paid", b.en, "I haven't paid yet", intent(unknown, "en")},
		{"wrong number", b.en, "Wrong number", intent(wrong, "en")},
		{"you have the wrong number", b.en, "You have the wrong number", intent(wrong, "en")},
		{"not me", b.en, "not me", intent(wrong, "en")},
		{"call me", b.en, "call me", intent(talk, "en")},
		{"talk to someone", b.en, "I need to talk to someone", intent(talk, "en")},
		{"agent", b.en, "Agent", intent(talk, "")},
		{"ok", b.en, "ok", intent(unknown, "")},
		{"empty", b.en, "   ", intent(unknown, "")},
		{"too long for a reply", b.en, "STOP " + strings.Repeat("x", reply.MaxReplyRunes), intent(unknown, "")},

		// Spanish.
		{"pagare with month name", b.es, "pagaré 200 el 5 de diciembre", promise("200.00", "2026-12-05", "es")},
		{"pago manana", b.es, "Pago mañana", promise("300.00", "2026-11-28", "es")},
		{"pago manana without accent", b.es, "pago manana", promise("300.00", "2026-11-28", "es")},
		{"pago el viernes", b.es, "Pago 200 el viernes", promise("200.00", "2026-11-27", "es")},
		{"pagare el 5 de diciembre", b.es, "Pagaré el 5 de diciembre", promise("300.00", "2026-12-05", "es")},
		{"decimal comma", b.es, "pago 200,50 pasado mañana", promise("200.50", "2026-11-29", "es")},
		{"thousands dot", b.es, "pago 1.500 el lunes", promise("1500.00", "2026-11-30", "es")},
		{"proximo viernes", b.es, "pago el próximo viernes", promise("300.00", "2026-12-04", "es")},
		{"por la manana is the morning", b.es, "pago el viernes por la mañana", promise("300.00", "2026-11-27", "es")},
		{"en 3 dias", b.es, "pago en 3 días", promise("300.00", "2026-11-30", "es")},
		{"el 15", b.es, "Pago el 15", promise("300.00", "2026-12-15", "es")},
		{"day first in mexico", b.es, "pago el 5/12", promise("300.00", "2026-12-05", "es")},
		{"12/05 in mexico is may and past, so it is asked back", b.es, "pago el 12/05", asked("es", "2026-12-05")},
		{"day first for spanish in the us too", b.esUS, "pago el 10/12", promise("300.00", "2026-12-10", "es")},
		{"spanish past date", b.es, "pagaré el 20 de noviembre", past("es")},
		{"weekday with full spanish date", b.es, "hola, puedo pagar 150 el viernes 4 de diciembre?", promise("150.00", "2026-12-04", "es")},
		{"a las 5 is a time", b.es, "pago a las 5 el viernes", promise("300.00", "2026-11-27", "es")},
		{"ya basta", b.es, "ya basta por favor", revoked("es", nudge.SMS)},
		{"la mitad", b.es, "pago la mitad el lunes", intent(unknown, "es")},
		{"no puedo pagar", b.es, "no puedo pagar este mes", intent(unknown, "es")},
		{"no problem is not a refusal", b.es, "no hay problema, pago el lunes", promise("300.00", "2026-11-30", "es")},
		{"ya pague accented", b.es, "ya pagué", intent(paid, "es")},
		{"ya pague", b.es, "ya pague", intent(paid, "es")},
		{"ya hice el pago", b.es, "Ya hice el pago", intent(paid, "es")},
		{"numero equivocado", b.es, "Número equivocado", intent(wrong, "es")},
		{"se equivoco de numero", b.es, "Se equivocó de número", intent(wrong, "es")},
		{"no soy yo", b.es, "no soy yo", intent(wrong, "es")},
		{"hablar con alguien", b.es, "quiero hablar con alguien", intent(talk, "es")},
		{"llamame", b.es, "llámame", intent(talk, "es")},

		// Chinese.
		{"mingtian huankuan", b.zh, "我明天还款", promise("1500.00", "2026-11-28", "zh-CN")},
		{"chengnuo 12 yue 5 ri", b.zh, "承诺12月5日还款", promise("1500.00", "2026-12-05", "zh-CN")},
		{"xia zhou wu huan 500", b.zh, "下周五还500", promise("500.00", "2026-12-04", "zh-CN")},
		{"5 hao huan", b.zh, "5号还", promise("1500.00", "2026-12-05", "zh-CN")},
		{"houtian", b.zh, "后天还", promise("1500.00", "2026-11-29", "zh-CN")},
		{"zhou wu is today in shanghai", b.zh, "周五还", promise("1500.00", "2026-11-27", "zh-CN")},
		{"chinese numeral amount", b.zh, "星期一还一千", promise("1000.00", "2026-11-30", "zh-CN")},
		{"chinese numerals in date and amount", b.zh, "十二月五日还两千", promise("2000.00", "2026-12-05", "zh-CN")},
		{"colloquial numeral", b.zh, "明天还一千五百块", promise("1500.00", "2026-11-28", "zh-CN")},
		{"san tian hou", b.zh, "三天后还款", promise("1500.00", "2026-11-30", "zh-CN")},
		{"month first numeric in china", b.zh, "12/5还", promise("1500.00", "2026-12-05", "zh-CN")},
		{"next month day five", b.zh, "下个月5号还", promise("1500.00", "2026-12-05", "zh-CN")},
		{"politeness is not a refusal", b.zh, "不好意思，我明天还", promise("1500.00", "2026-11-28", "zh-CN")},
		{"yuan sign", b.zh, "明天还￥800", promise("800.00", "2026-11-28", "zh-CN")},
		{"this week's wednesday is past", b.zh, "这周三还", past("zh-CN")},
		{"january 5 is beyond the horizon", b.zh, "1月5日还", past("zh-CN")},
		{"week after next", b.zh, "下下周五还", promise("1500.00", "2026-12-11", "zh-CN")},
		{"two weeks later", b.zh, "两个星期后还钱", promise("1500.00", "2026-12-11", "zh-CN")},
		{"this month's 20th is past", b.zh, "这个月20号之前还", past("zh-CN")},
		{"a part is an unclear amount", b.zh, "明天还一部分", intent(unknown, "zh-CN")},
		{"time in chinese is not an amount", b.zh, "好的，明天下午3点还款", promise("1500.00", "2026-11-28", "zh-CN")},
		{"still not paid", b.zh, "我还没还", intent(unknown, "zh-CN")},
		{"cannot pay tomorrow", b.zh, "明天还不了", intent(unknown, "zh-CN")},
		{"hai meaning still", b.zh, "我明天还在上班", intent(unknown, "zh-CN")},
		{"yi huan", b.zh, "已还", intent(paid, "zh-CN")},
		{"yijing huan le", b.zh, "已经还了", intent(paid, "zh-CN")},
		{"huan le", b.zh, "还了", intent(paid, "zh-CN")},
		{"simulator paid", b.zh, "我已经还款了", intent(paid, "zh-CN")},
		{"da cuo le", b.zh, "打错了", intent(wrong, "zh-CN")},
		{"bu shi wo", b.zh, "不是我", intent(wrong, "zh-CN")},
		{"sent to the wrong person", b.zh, "你发错人了", intent(wrong, "zh-CN")},
		{"zhuan rengong", b.zh, "转人工", intent(talk, "zh-CN")},
		{"rengong", b.zh, "人工", intent(talk, "zh-CN")},

		// Currencies without cents.
		{"yen has no fraction digits and Tokyo is already on Saturday", b.jpy, "I will pay 20000 tomorrow", promise("20000", "2026-11-29", "en")},
		{"yen with cents is unclear", b.jpy, "I will pay 200.50 tomorrow", intent(unknown, "en")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reply.Parse(tt.text, tt.ctx), "reply %q", tt.text)
		})
	}
}

func TestParseMenu(t *testing.T) {
	t.Parallel()
	b := setup(t)
	menu := map[string]reply.MenuOption{
		"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-12-05")},
		"2": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-12-01"), Amount: "150"},
		"3": {Intent: nudge.IntentPaid, Date: nudge.MustDate("2026-12-01"), Amount: "150"},
		"4": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-11-20")},
		"5": {Intent: nudge.IntentTalkToPerson},
		"9": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2027-02-01")},
	}
	withMenu := func(c reply.Context) reply.Context {
		c.Menu = menu
		return c
	}
	tests := []struct {
		name string
		ctx  reply.Context
		text string
		want reply.Result
	}{
		{"key alone means the option with the amount due", withMenu(b.en), "1", promise("300.00", "2026-12-05", "")},
		{"key with punctuation", withMenu(b.en), " 1. ", promise("300.00", "2026-12-05", "")},
		{"key with a hash", withMenu(b.en), "#1", promise("300.00", "2026-12-05", "")},
		{"chinese spoken key", withMenu(b.zh), "一", promise("1500.00", "2026-12-05", "zh-CN")},
		{"spoken key", withMenu(b.en), "One", promise("300.00", "2026-12-05", "")},
		{"spanish spoken key", withMenu(b.es), "uno", promise("300.00", "2026-12-05", "")},
		{"option amount is normalised", withMenu(b.en), "2", promise("150.00", "2026-12-01", "")},
		{"non-promise option carries no date or amount", withMenu(b.en), "3", intent(paid, "")},
		{"talk option", withMenu(b.en), "5", intent(talk, "")},
		{"option date already past", withMenu(b.en), "4", past("")},
		{"option date beyond the horizon", withMenu(b.en), "9", tooFar("300.00", "2027-02-01", "")},
		{"unknown key", withMenu(b.en), "7", intent(unknown, "")},
		{"stop wins over the menu", withMenu(b.en), "STOP", keyword(optOut, "STOP", "en")},
		{"text around the key is parsed as text", withMenu(b.en), "1 on friday", intent(unknown, "en")},
		{"no menu", b.en, "1", intent(unknown, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reply.Parse(tt.text, tt.ctx))
		})
	}
}

func TestParseTimeZoneHorizonAndDefaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// 03:00 UTC on Saturday is still Friday evening in New York and already
	// Saturday morning in Shanghai.
	late := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	ny, sh := b.en, b.zh
	ny.Now, sh.Now = late, late

	dec28 := b.en
	dec28.Now = time.Date(2026, 12, 28, 15, 0, 0, 0, time.UTC)

	short := b.en
	short.MaxPromiseDays = 2

	noZone := b.en
	noZone.Location = nil

	noDue := b.en
	noDue.AmountDue = ""

	badDue := b.en
	badDue.AmountDue = "three hundred"

	dayFirst := b.en
	dayFirst.Country = ""
	dayFirst.Language = "en-GB"

	tests := []struct {
		name string
		ctx  reply.Context
		text string
		want reply.Result
	}{
		{"tomorrow in new york", ny, "pay tomorrow", promise("300.00", "2026-11-28", "en")},
		{"tomorrow in shanghai", sh, "明天还", promise("1500.00", "2026-11-29", "zh-CN")},
		{"year-less date in january means next year", dec28, "I'll pay on 1/5", promise("300.00", "2027-01-05", "en")},
		{"month name in january means next year", dec28, "I'll pay jan 2nd", promise("300.00", "2027-01-02", "en")},
		{"the 3rd in late december is next month", dec28, "I'll pay the 3rd", promise("300.00", "2027-01-03", "en")},
		{"lender horizon", short, "I'll pay monday", tooFar("300.00", "2026-11-30", "en")},
		{"lender horizon allows", short, "I'll pay sunday", promise("300.00", "2026-11-29", "en")},
		{"nil location uses the zone of now", noZone, "pay today", promise("300.00", "2026-11-27", "en")},
		{"no amount due and no amount", noDue, "pay friday", promise("", "2026-11-27", "en")},
		{"no amount due and an amount", noDue, "pay 5000 friday", promise("5000.00", "2026-11-27", "en")},
		{"amount due that is not a decimal", badDue, "pay friday", promise("", "2026-11-27", "en")},
		{"day first from the language region", dayFirst, "I'll pay on 5/12", promise("300.00", "2026-12-05", "en")},
		{"impossible reading falls back to the other order", b.en, "I'll pay on 13/12", promise("300.00", "2026-12-13", "en")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reply.Parse(tt.text, tt.ctx))
		})
	}
}
