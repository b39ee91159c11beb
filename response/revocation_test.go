package response_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/reply"
	"github.com/nudgehq/nudge/response"
)

const (
	borrowerPhone = "+12125550101"
	borrowerEmail = "jane.doe@example.com"
)

// contactableAccount is testAccount with an email address too.
func contactableAccount(id, lang string) nudge.Account {
	a := testAccount(id, lang, borrowerPhone)
	a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Email, Address: borrowerEmail})
	return a
}

// addressOn returns the account's address on channel ch.
func addressOn(t *testing.T, a nudge.Account, ch nudge.ChannelKind) string {
	t.Helper()
	cs := a.ContactsFor(ch)
	require.NotEmpty(t, cs, "account %s has no %s contact", a.ID, ch)
	return cs[0].Address
}

// decide asks compliance, with what the store holds now, whether the account
// may be contacted on ch at the bundle's clock.
func (b *bundle) decide(t *testing.T, accountID string, ch nudge.ChannelKind) compliance.Decision {
	t.Helper()
	ctx := context.Background()
	a, err := b.db.GetAccount(ctx, lender, accountID)
	require.NoError(t, err)
	addr := addressOn(t, a, ch)
	opted, err := b.db.IsOptedOut(ctx, lender, ch, addr)
	require.NoError(t, err)
	p, err := compliance.Builtin("us")
	require.NoError(t, err)
	return compliance.Decide(compliance.Input{Account: a, Channel: ch, Address: addr, At: b.clock.Now(), OptedOut: opted, Profile: p})
}

// requireDecisions checks the action and reason compliance gives per channel.
func (b *bundle) requireDecisions(t *testing.T, accountID string, want map[nudge.ChannelKind][2]string) {
	t.Helper()
	for ch, w := range want {
		d := b.decide(t, accountID, ch)
		require.Equal(t, w, [2]string{string(d.Action), string(d.Reason)}, "%s: %s", ch, d.Explanation)
	}
}

func TestHandleStopCallingKeepsTexts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	rs := b.addAccount(t, contactableAccount("A-1", "en"), 2)
	b.requireDecisions(t, "A-1", map[nudge.ChannelKind][2]string{
		nudge.SMS: {"send", ""}, nudge.Voice: {"send", ""}, nudge.Email: {"send", ""},
	})

	out, err := b.handler.Handle(ctx, sms(borrowerPhone, "stop calling me", "SM10000000000000000000000000000001"))
	require.NoError(t, err)
	require.Equal(t, nudge.IntentOptOut, out.Parsed.Intent)
	require.Equal(t, []nudge.ChannelKind{nudge.Voice}, out.Parsed.Channels)
	require.True(t, b.optedOut(t, nudge.Voice, borrowerPhone))
	require.False(t, b.optedOut(t, nudge.SMS, borrowerPhone), "texts stay allowed")
	require.False(t, b.optedOut(t, nudge.Email, borrowerEmail))
	b.requireDecisions(t, "A-1", map[nudge.ChannelKind][2]string{
		nudge.Voice: {"suppress", "opted_out"}, nudge.SMS: {"send", ""}, nudge.Email: {"send", ""},
	})
	require.Contains(t, out.Confirmation, "We will no longer call you at this number")
	require.Contains(t, out.Confirmation, "Reply STOP to opt out", "texts go on, so the way to stop them is given")
	require.NotContains(t, out.Confirmation, "no more texts")
	require.False(t, out.Reply.NeedsPerson)
	b.requireQueued(t, rs)
	oos, err := b.db.ListOptOuts(ctx, lender)
	require.NoError(t, err)
	require.Len(t, oos, 1)
	require.Equal(t, response.SourceSMSText, oos[0].Source)
	require.Equal(t, "stop calling me", oos[0].Reason)
}

func TestHandleStopContactingMe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	rs := b.addAccount(t, contactableAccount("A-1", "en"), 2)
	in := sms(borrowerPhone, "stop contacting me", "SM10000000000000000000000000000002")

	out, err := b.handler.Handle(ctx, in)
	require.NoError(t, err)
	require.Equal(t, nudge.IntentOptOut, out.Parsed.Intent)
	require.True(t, out.Parsed.Flags.Cease)
	for ch, addr := range map[nudge.ChannelKind]string{nudge.SMS: borrowerPhone, nudge.Voice: borrowerPhone, nudge.Email: borrowerEmail} {
		require.True(t, b.optedOut(t, ch, addr), "%s is opted out", ch)
	}
	require.Contains(t, out.Confirmation, "You're unsubscribed")

	// A review for a person, with the reply attached.
	require.True(t, out.Reply.NeedsPerson)
	require.Equal(t, nudge.IntentCeaseCommunication, out.Reply.Intent)
	needs, err := b.db.ListReplies(ctx, lender, true)
	require.NoError(t, err)
	require.Len(t, needs, 1)
	require.Equal(t, out.Reply.ID, needs[0].ID)
	require.Equal(t, nudge.IntentCeaseCommunication, needs[0].Intent)
	require.Equal(t, "stop contacting me", needs[0].Body)
	a, err := b.db.GetAccount(ctx, lender, "A-1")
	require.NoError(t, err)
	require.True(t, a.HasHold(nudge.HoldCeaseCommunication))
	holds := b.events(t, "A-1", nudge.EventHold)
	require.Len(t, holds, 1)
	var detail map[string]string
	require.NoError(t, json.Unmarshal(holds[0].Detail, &detail))
	require.Equal(t, out.Reply.ID, detail["reply_id"])
	require.Equal(t, "cease_communication", detail["kind"])
	b.requireCanceled(t, rs, nudge.ReasonHold)

	// Compliance suppresses every channel until a person reviews it.
	b.requireDecisions(t, "A-1", map[nudge.ChannelKind][2]string{
		nudge.SMS: {"suppress", "hold"}, nudge.Voice: {"suppress", "hold"}, nudge.Email: {"suppress", "hold"},
	})
	require.Equal(t, "12 CFR 1006.6(c)(1)", b.decide(t, "A-1", nudge.Voice).Rule)

	// Twilio retries the message: nothing is recorded or confirmed twice.
	again, err := b.handler.Handle(ctx, in)
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	require.Empty(t, again.Confirmation)
	require.Len(t, b.events(t, "A-1", nudge.EventHold), 1)

	// Once a person clears the hold, the opt-outs still stop every channel.
	require.NoError(t, b.db.ClearHold(ctx, lender, "A-1", nudge.HoldCeaseCommunication, b.clock.Now()))
	b.requireDecisions(t, "A-1", map[nudge.ChannelKind][2]string{
		nudge.SMS: {"suppress", "opted_out"}, nudge.Voice: {"suppress", "opted_out"}, nudge.Email: {"suppress", "opted_out"},
	})
}

func TestHandleBorrowersWords(t *testing.T) {
	t.Parallel()
	type want struct {
		optedOut    []nudge.ChannelKind
		intent      nudge.Intent // of the stored reply
		needsPerson bool
		priority    bool
		cease       bool
		confirm     string // a part of the confirmation; empty for none
	}
	tests := []struct {
		name string
		lang string
		body string
		want want
	}{
		{name: "spanish stop calling", lang: "es", body: "no me llames", want: want{
			optedOut: []nudge.ChannelKind{nudge.Voice}, intent: nudge.IntentOptOut, confirm: "Ya no le llamaremos a este número"}},
		{name: "chinese stop emailing", lang: "zh-CN", body: "别再发邮件了", want: want{
			optedOut: []nudge.ChannelKind{nudge.Email}, intent: nudge.IntentOptOut, confirm: "我们将不再向您发送邮件"}},
		{name: "english stop texting", lang: "en", body: "no more texts", want: want{
			optedOut: []nudge.ChannelKind{nudge.SMS}, intent: nudge.IntentOptOut, confirm: "You're unsubscribed"}},
		{name: "calls and emails", lang: "en", body: "stop calling and emailing me", want: want{
			optedOut: []nudge.ChannelKind{nudge.Voice, nudge.Email}, intent: nudge.IntentOptOut, confirm: "We will no longer call or email you"}},
		{name: "stop calling me or I will sue", lang: "en", body: "stop calling me or I will sue", want: want{
			optedOut: []nudge.ChannelKind{nudge.Voice}, intent: nudge.IntentLegalThreat, needsPerson: true, priority: true,
			confirm: "We will no longer call you"}},
		{name: "a lawyer is flagged, not held", lang: "en", body: "I'm calling my lawyer", want: want{
			intent: nudge.IntentLegalThreat, needsPerson: true, priority: true}},
		{name: "spanish complaint", lang: "es", body: "esto es acoso", want: want{
			intent: nudge.IntentComplaint, needsPerson: true, priority: true}},
		{name: "spanish leave me alone", lang: "es", body: "Déjenme en paz", want: want{
			optedOut: nudge.Channels, intent: nudge.IntentCeaseCommunication, needsPerson: true, cease: true,
			confirm: "Su suscripción fue cancelada"}},
		{name: "chinese harassment is a complaint and a cease", lang: "zh-CN", body: "别再骚扰我了", want: want{
			optedOut: nudge.Channels, intent: nudge.IntentComplaint, needsPerson: true, priority: true, cease: true,
			confirm: "您已成功退订"}},
		{name: "ok is not consent", lang: "en", body: "ok", want: want{intent: nudge.IntentUnknown, needsPerson: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			b.addAccount(t, contactableAccount("A-1", tt.lang), 0)
			out, err := b.handler.Handle(ctx, sms(borrowerPhone, tt.body, "SM10000000000000000000000000000003"))
			require.NoError(t, err)
			a, err := b.db.GetAccount(ctx, lender, "A-1")
			require.NoError(t, err)
			for _, ch := range nudge.Channels {
				want := false
				for _, o := range tt.want.optedOut {
					want = want || o == ch
				}
				require.Equal(t, want, b.optedOut(t, ch, addressOn(t, a, ch)), "%s opted out", ch)
			}
			require.Equal(t, tt.want.intent, out.Reply.Intent)
			require.Equal(t, tt.want.needsPerson, out.Reply.NeedsPerson)
			require.Equal(t, tt.want.cease, a.HasHold(nudge.HoldCeaseCommunication))
			require.False(t, a.HasHold(nudge.HoldAttorney), "no profile setting asks for an attorney hold")
			if tt.want.confirm == "" {
				require.Empty(t, out.Confirmation)
			} else {
				require.Contains(t, out.Confirmation, tt.want.confirm)
			}
			events := b.events(t, "A-1", nudge.EventReply)
			require.Len(t, events, 1)
			var detail map[string]any
			require.NoError(t, json.Unmarshal(events[0].Detail, &detail))
			if tt.want.needsPerson && tt.want.intent != nudge.IntentUnknown {
				require.Equal(t, string(tt.want.intent), detail["review"])
				require.Equal(t, tt.want.priority, detail["priority"])
			} else {
				require.NotContains(t, detail, "review")
			}
		})
	}
}

func TestHandleAmbiguousDateIsAskedBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lang    string
		country string
		body    string
		confirm []string
	}{
		{name: "american english", lang: "en", country: "US", body: "I'll pay on 10/12",
			confirm: []string{"did you mean December 10, 2026?", `reply "I will pay on December 10, 2026"`}},
		{name: "spanish in the us reads day first", lang: "es", country: "US", body: "pago el 12/10",
			confirm: []string{"¿quiso decir el 10 de diciembre de 2026?", "Responde ALTO para cancelar"}},
		{name: "chinese", lang: "zh-CN", country: "CN", body: "10/12还款",
			confirm: []string{"请问您是指2026年12月10日吗"}},
		{name: "both readings past", lang: "es", country: "MX", body: "pago el 11/10",
			confirm: []string{"la fecha que envió ya pasó"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			acct := contactableAccount("A-1", tt.lang)
			acct.Address = &nudge.Address{Country: tt.country}
			rs := b.addAccount(t, acct, 1)
			out, err := b.handler.Handle(ctx, sms(borrowerPhone, tt.body, "SM10000000000000000000000000000004"))
			require.NoError(t, err)
			require.True(t, out.Parsed.Ambiguous)
			for _, c := range tt.confirm {
				require.Contains(t, out.Confirmation, c)
			}
			for _, offered := range []string{"December 4", "4 de diciembre", "12月4日"} {
				require.NotContains(t, out.Confirmation, offered, "the date offered by default (today + 7) is not the one asked back")
			}
			_, err = b.db.ActivePromise(ctx, lender, "A-1")
			require.ErrorIs(t, err, nudge.ErrNotFound, "never recorded as a promise")
			require.False(t, out.Reply.NeedsPerson, "the borrower is asked, not a person")
			b.requireQueued(t, rs)
		})
	}
}

func TestHandleDayFirstPromise(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.addAccount(t, contactableAccount("A-1", "es"), 0) // a Spanish speaker in New York
	out, err := b.handler.Handle(ctx, sms(borrowerPhone, "pago el 10/12", "SM10000000000000000000000000000005"))
	require.NoError(t, err)
	require.Equal(t, nudge.IntentPromise, out.Parsed.Intent)
	p, err := b.db.ActivePromise(ctx, lender, "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.MustDate("2026-12-10"), p.Due, "10 December, not October 12")
	require.Contains(t, out.Confirmation, "10 de diciembre")
}

func TestHandleStopContactingFromUnknownNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const stranger = "+12125550177"
	out, err := b.handler.Handle(ctx, sms(stranger, "leave me alone", "SM10000000000000000000000000000006"))
	require.NoError(t, err)
	for _, ch := range []nudge.ChannelKind{nudge.SMS, nudge.Voice} {
		require.True(t, b.optedOut(t, ch, stranger), "%s is opted out for a number no account has", ch)
	}
	require.True(t, out.Reply.NeedsPerson)
	require.Equal(t, nudge.IntentCeaseCommunication, out.Reply.Intent)
}

func TestApplyRevocationSaidOnACall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	acct := contactableAccount("A-1", "en")
	rs := b.addAccount(t, acct, 1)
	speech := "stop texting me"
	res := reply.Parse(speech, reply.Context{Now: b.clock.Now(), Language: "en", Country: "US", Channel: nudge.Voice})
	_, err := b.handler.Apply(ctx, response.Answer{Account: acct, Channel: nudge.Voice, Address: borrowerPhone,
		Intent: res.Intent, Channels: res.Channels, Flags: res.Flags, Body: speech, Source: response.SourceVoiceSpeech,
		ProviderID: "CA1/menu"})
	require.NoError(t, err)
	require.True(t, b.optedOut(t, nudge.SMS, borrowerPhone), "texts named on a call are revoked")
	require.False(t, b.optedOut(t, nudge.Voice, borrowerPhone), "calls stay allowed")
	b.requireQueued(t, rs)

	speech = "leave me alone"
	res = reply.Parse(speech, reply.Context{Now: b.clock.Now(), Language: "en", Country: "US", Channel: nudge.Voice})
	out, err := b.handler.Apply(ctx, response.Answer{Account: acct, Channel: nudge.Voice, Address: borrowerPhone,
		Intent: res.Intent, Channels: res.Channels, Flags: res.Flags, Body: speech, Source: response.SourceVoiceSpeech,
		ProviderID: "CA1/menu2"})
	require.NoError(t, err)
	require.Equal(t, nudge.IntentCeaseCommunication, out.Reply.Intent)
	require.True(t, out.Reply.NeedsPerson)
	for _, ch := range nudge.Channels {
		require.True(t, b.optedOut(t, ch, addressOn(t, acct, ch)), "%s", ch)
	}
	b.requireDecisions(t, "A-1", map[nudge.ChannelKind][2]string{
		nudge.SMS: {"suppress", "hold"}, nudge.Voice: {"suppress", "hold"}, nudge.Email: {"suppress", "hold"},
	})
	b.requireCanceled(t, rs, nudge.ReasonHold)
}
