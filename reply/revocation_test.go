package reply_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

// flagged returns r with flags f.
func flagged(r reply.Result, f reply.Flags) reply.Result {
	r.Flags = f
	return r
}

// ceased is a request to stop all communication.
func ceased(lang string) reply.Result {
	return flagged(revoked(lang, nudge.SMS, nudge.Voice, nudge.Email), reply.Flags{Cease: true})
}

var (
	legal     = reply.Flags{LegalThreat: true}
	lawyer    = reply.Flags{LegalThreat: true, Attorney: true}
	complaint = reply.Flags{Complaint: true}
)

// TestParseBorrowersWords covers issue #17: revocation by any reasonable
// means scoped to the channels it names, requests to stop all contact, legal
// threats and complaints flagged for a person, short unclear replies that
// are never consent, and numeric dates read in the borrower's order.
func TestParseBorrowersWords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	onCall := b.en
	onCall.Channel = nudge.Voice
	byEmail := b.en
	byEmail.Channel = nudge.Email
	enGB := b.en
	enGB.Language, enGB.Country = "en-GB", "US" // the locale's region wins over the country
	zhHK := b.zh
	zhHK.Language, zhHK.Country = "zh-HK", ""
	optInMenu := b.en
	optInMenu.Menu = map[string]reply.MenuOption{"1": {Intent: nudge.IntentOptIn}}

	tests := []struct {
		name string
		ctx  reply.Context
		text string
		want reply.Result
	}{
		// Calls, by plain words, from a text: SMS stays allowed.
		{"stop calling me", b.en, "stop calling me", revoked("en", nudge.Voice)},
		{"please don't call me anymore", b.en, "Please don't call me anymore", revoked("en", nudge.Voice)},
		{"no more calls", b.en, "No more calls.", revoked("en", nudge.Voice)},
		{"no me llames", b.esUS, "no me llames", revoked("es", nudge.Voice)},
		{"no me llamen mas", b.es, "No me llamen más, por favor", revoked("es", nudge.Voice)},
		{"dejen de marcarme", b.es, "dejen de marcarme", revoked("es", nudge.Voice)},
		{"bie da dianhua", b.zh, "别打电话了", revoked("zh-CN", nudge.Voice)},
		{"buyao zai gei wo da dianhua", b.zh, "不要再给我打电话", revoked("zh-CN", nudge.Voice)},

		// Texts.
		{"stop texting me please", b.en, "stop texting me please", revoked("en", nudge.SMS)},
		{"no more texts", b.en, "no more texts!!", revoked("en", nudge.SMS)},
		{"said on a call, texts are revoked", onCall, "stop texting me", revoked("en", nudge.SMS)},
		{"unsubscribe from texts on a call", onCall, "unsubscribe me from texts", revoked("en", nudge.SMS)},
		{"no me mandes mensajes", b.es, "no me mandes mensajes", revoked("es", nudge.SMS)},
		{"ya no me escriban", b.es, "ya no me escriban", revoked("es", nudge.SMS)},
		{"bie fa duanxin", b.zh, "别发短信", revoked("zh-CN", nudge.SMS)},
		{"buyao zai fa duanxin", b.zh, "不要再发短信了", revoked("zh-CN", nudge.SMS)},

		// Emails.
		{"stop emailing me", b.en, "stop emailing me", revoked("en", nudge.Email)},
		{"stop sending me emails", b.en, "please stop sending me emails", revoked("en", nudge.Email)},
		{"messages by email are emails", byEmail, "stop sending me messages", revoked("en", nudge.Email)},
		{"no me manden correos", b.es, "no me manden correos", revoked("es", nudge.Email)},
		{"bie zai fa youjian", b.zh, "别再发邮件了", revoked("zh-CN", nudge.Email)},

		// Several channels named at once.
		{"stop calling and texting me", b.en, "stop calling and texting me", revoked("en", nudge.SMS, nudge.Voice)},
		{"don't call or text me", b.en, "Don't call or text me", revoked("en", nudge.SMS, nudge.Voice)},
		{"no me llames ni me escribas", b.es, "no me llames ni me escribas", revoked("es", nudge.SMS, nudge.Voice)},
		{"bie da dianhua fa duanxin", b.zh, "别打电话发短信", revoked("zh-CN", nudge.SMS, nudge.Voice)},
		{"texting is fine stays allowed", b.en, "don't call me, texting is fine", revoked("en", nudge.Voice)},
		{"and text me instead stays allowed", b.en, "Don't call me and text me instead", revoked("en", nudge.Voice)},

		{"any more calls", b.en, "i dont want any more calls", revoked("en", nudge.Voice)},
		{"dejen de llamarme y de escribirme", b.es, "dejen de llamarme y de escribirme", revoked("es", nudge.SMS, nudge.Voice)},
		{"no calls today is not a revocation", b.en, "no calls today, I'm at work", intent(unknown, "en")},
		{"no emails please", b.en, "no emails please", revoked("en", nudge.Email)},

		// Requests about someone else are for a person.
		{"stop contacting my family", b.en, "stop contacting my family", intent(unknown, "en")},
		{"dejen de molestar a mi familia", b.es, "dejen de molestar a mi familia", intent(unknown, "es")},
		{"bie lianxi wo jiaren", b.zh, "别联系我家人", intent(unknown, "zh-CN")},

		// Requests to stop all communication.
		{"stop contacting me", b.en, "stop contacting me", ceased("en")},
		{"leave me alone", b.en, "Leave me alone!", ceased("en")},
		{"cease and desist", b.en, "cease and desist", ceased("en")},
		{"every channel named", b.en, "stop calling, texting and emailing me", ceased("en")},
		{"dejenme en paz", b.es, "Déjenme en paz", ceased("es")},
		{"no me contacten", b.es, "no me contacten", ceased("es")},
		{"bie zai lianxi wo", b.zh, "别再联系我", ceased("zh-CN")},
		{"qing buyao zai lianxi wo", b.zh, "请不要再联系我了", ceased("zh-CN")},

		// Legal threats, flagged whatever the intent.
		{"stop calling me or I will sue", b.en, "stop calling me or I will sue", flagged(revoked("en", nudge.Voice), legal)},
		{"I will sue you", b.en, "I will sue you", flagged(intent(unknown, "en"), legal)},
		{"calling my lawyer", b.en, "I'm calling my lawyer", flagged(intent(unknown, "en"), lawyer)},
		{"a promise with a lawyer is still a promise", b.en, "pay 200 friday, my attorney said so", flagged(promise("200.00", "2026-11-27", "en"), lawyer)},
		{"voy a demandar", b.es, "voy a demandar", flagged(intent(unknown, "es"), legal)},
		{"hablare con mi abogado", b.es, "hablaré con mi abogado", flagged(intent(unknown, "es"), lawyer)},
		{"wo yao qisu nimen", b.zh, "我要起诉你们", flagged(intent(unknown, "zh-CN"), legal)},
		{"wo hui zhao lvshi", b.zh, "我会找律师", flagged(intent(unknown, "zh-CN"), lawyer)},
		{"an advertisement is not a lawsuit", b.zh, "我看到广告你们说可以分期", intent(unknown, "zh-CN")},

		// Complaints.
		{"this is harassment", b.en, "This is harassment", flagged(intent(unknown, "en"), complaint)},
		{"reporting you to the cfpb", b.en, "I'm reporting you to the CFPB", flagged(intent(unknown, "en"), complaint)},
		{"stop harassing me", b.en, "stop harassing me", flagged(ceased("en"), reply.Flags{Cease: true, Complaint: true})},
		{"esto es acoso", b.es, "esto es acoso", flagged(intent(unknown, "es"), complaint)},
		{"queja en profeco", b.es, "voy a poner una queja en Profeco", flagged(intent(unknown, "es"), complaint)},
		{"wo yao tousu", b.zh, "我要投诉你们", flagged(intent(unknown, "zh-CN"), complaint)},
		{"bie zai saorao wo", b.zh, "别再骚扰我了", flagged(ceased("zh-CN"), reply.Flags{Cease: true, Complaint: true})},

		// Short replies whose meaning is unclear are never consent.
		{"ok", b.en, "OK", intent(unknown, "")},
		{"k", b.en, "k", intent(unknown, "")},
		{"question mark", b.en, "?", intent(unknown, "")},
		{"a number without a menu", b.es, "2", intent(unknown, "")},
		{"y", b.en, "Y", intent(unknown, "")},
		{"thumbs up", b.en, "👍", intent(unknown, "")},
		{"yes in a sentence", b.en, "yes please", intent(unknown, "en")},
		{"ok thanks", b.en, "ok thanks", intent(unknown, "en")},
		{"chinese ok", b.zh, "好的", intent(unknown, "zh-CN")},
		{"a menu key is never an opt-in", optInMenu, "1", intent(unknown, "")},
		{"a long s is not START", b.en, "ſtart", intent(unknown, "")},

		// Numeric dates in the borrower's order.
		{"spanish in the us is day first", b.esUS, "Pagaré 200 el 10/12", promise("200.00", "2026-12-10", "es")},
		{"spanish in mexico is day first", b.es, "pago el 11/12", promise("300.00", "2026-12-11", "es")},
		{"spanish with a year", b.es, "pago el 5/12/2026", promise("300.00", "2026-12-05", "es")},
		{"impossible month is read the other way", b.es, "pago el 13/12", promise("300.00", "2026-12-13", "es")},
		{"british english is day first", enGB, "I'll pay on 10/12", promise("300.00", "2026-12-10", "en")},
		{"british english today", enGB, "I'll pay on 27/11", promise("300.00", "2026-11-27", "en")},
		{"american english is month first", b.en, "I'll pay on 12/10", promise("300.00", "2026-12-10", "en")},
		{"hong kong chinese is day first", zhHK, "10/12还款", promise("1500.00", "2026-12-10", "zh-CN")},
		{"mainland chinese is month first", b.zh, "12/10还款", promise("1500.00", "2026-12-10", "zh-CN")},
		{"american october 12 is past: asked back", b.en, "I'll pay on 10/12", asked("en", "2026-12-10")},
		{"spanish 12 october is past: asked back", b.esUS, "pago el 12/10", asked("es", "2026-12-10")},
		{"chinese october 12 is past: asked back", b.zh, "10/12还款", asked("zh-CN", "2026-12-10")},
		{"both readings past: asked back without a suggestion", b.es, "pago el 11/10", asked("es", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reply.Parse(tt.text, tt.ctx), "reply %q", tt.text)
		})
	}
}

func TestFlagsReview(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		flags    reply.Flags
		review   nudge.Intent
		priority bool
	}{
		{name: "none", flags: reply.Flags{}, review: "", priority: false},
		{name: "cease", flags: reply.Flags{Cease: true}, review: nudge.IntentCeaseCommunication, priority: false},
		{name: "complaint", flags: reply.Flags{Complaint: true, Cease: true}, review: nudge.IntentComplaint, priority: true},
		{name: "legal threat first", flags: reply.Flags{LegalThreat: true, Complaint: true, Cease: true}, review: nudge.IntentLegalThreat, priority: true},
		{name: "attorney", flags: reply.Flags{Attorney: true}, review: nudge.IntentLegalThreat, priority: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.review, tt.flags.Review())
			require.Equal(t, tt.priority, tt.flags.Priority())
		})
	}
}

// optInKeywords are the only replies that may opt back in (Twilio lifts its
// block on these alone).
var optInKeywords = []string{"START", "YES", "UNSTOP"}

// bareLetters returns the letters and digits of s, full-width forms folded,
// upper-cased: what is left of a keyword once punctuation, spaces and emoji
// are trimmed.
func bareLetters(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// FuzzParseNeverConsents checks that no text other than an opt-in keyword is
// ever read as consent, whatever the channel, language and menu, and that
// revocations, flags and asked-back dates keep their shape.
func FuzzParseNeverConsents(f *testing.F) {
	for _, s := range []string{
		"START", "yes", "Unstop!", "ok", "k", "?", "1", "Y", "yes please", "start paying friday", "ＹＥＳ", "ſtart",
		"stop calling me or I will sue", "stop contacting me", "no me llames", "别打电话发短信", "déjenme en paz",
		"I'm calling my lawyer", "esto es acoso", "我要投诉", "pago el 10/12", "I'll pay on 10/12", "10/12还款",
		"don't call me, texting is fine", "unsubscribe me from texts", "start", "ALTA", "sí", "是", "好",
	} {
		f.Add(s, uint8(len(s)))
	}
	ny := mustZone(f, "America/New_York")
	f.Fuzz(func(t *testing.T, text string, pick uint8) {
		c := reply.Context{
			Now:       now.Add(time.Duration(pick) * 37 * time.Hour),
			Location:  ny,
			Language:  [...]string{"en", "es", "zh-CN", "en-GB", "es-US", ""}[int(pick)%6],
			Country:   [...]string{"US", "MX", "CN", "", "GB"}[int(pick)%5],
			AmountDue: "300",
			Currency:  "USD",
			Channel:   [...]nudge.ChannelKind{"", nudge.SMS, nudge.Voice, nudge.Email}[int(pick)%4],
		}
		if pick%3 == 0 {
			c.Menu = map[string]reply.MenuOption{
				"1": {Intent: nudge.IntentOptIn},
				"2": {Intent: nudge.IntentOptOut},
				"3": {Intent: nudge.IntentTalkToPerson},
			}
		}
		r := reply.Parse(text, c)
		if r.Intent == nudge.IntentOptIn {
			require.Contains(t, optInKeywords, r.Keyword, "opt-in without its keyword: %q", text)
			require.Equal(t, r.Keyword, bareLetters(text), "only an opt-in keyword is consent: %q", text)
		}
		if r.Intent == nudge.IntentOptOut {
			require.NotEmpty(t, r.Channels, "an opt-out names what it revokes: %q", text)
			require.True(t, slices.IsSortedFunc(r.Channels, func(a, b nudge.ChannelKind) int {
				return slices.Index(nudge.Channels, a) - slices.Index(nudge.Channels, b)
			}), "channels in order: %q", text)
			require.Equal(t, r.Flags.Cease, len(r.Channels) == len(nudge.Channels), "a cease revokes every channel: %q", text)
		} else {
			require.Empty(t, r.Channels, "only an opt-out revokes: %q", text)
			require.False(t, r.Flags.Cease, "a cease is an opt-out: %q", text)
		}
		if r.Ambiguous {
			require.Equal(t, nudge.IntentUnknown, r.Intent, "an ambiguous date is never a promise: %q", text)
			require.True(t, r.Past)
			require.True(t, r.Date.IsZero())
			today := nudge.DateOf(c.Now.In(ny))
			if !r.Alternative.IsZero() {
				require.False(t, r.Alternative.Before(today), "the suggested date is not past: %q", text)
			}
		} else {
			require.True(t, r.Alternative.IsZero())
		}
		if r.Flags.Attorney {
			require.True(t, r.Flags.LegalThreat)
		}
	})
}
