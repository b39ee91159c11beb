package webhooks

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
)

// twimlVerb is one verb of a TwiML document as Twilio reads it.
type twimlVerb struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Text    string      `xml:",chardata"`
	Inner   []twimlVerb `xml:",any"`
}

func (v twimlVerb) attr(name string) string {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// parseTwiML parses a webhook's answer as a <Response> document and returns
// its verbs.
func parseTwiML(t *testing.T, rec interface{ Result() *http.Response }, body string) []twimlVerb {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Result().StatusCode, body)
	var root twimlVerb
	require.NoError(t, xml.Unmarshal([]byte(body), &root), body)
	require.Equal(t, "Response", root.XMLName.Local)
	return root.Inner
}

// verbNames lists the verbs' names in order.
func verbNames(verbs []twimlVerb) []string {
	out := make([]string, len(verbs))
	for i, v := range verbs {
		out[i] = v.XMLName.Local
	}
	return out
}

// callbackEvents returns the account's call events with action, and their details.
func callbackEvents(t *testing.T, b *voiceBundle, action string) []map[string]any {
	t.Helper()
	events, err := b.db.Events(context.Background(), "acme", "A-1")
	require.NoError(t, err)
	var out []map[string]any
	for _, e := range events {
		if e.Kind == nudge.EventCallback && e.Action == action {
			var d map[string]any
			require.NoError(t, json.Unmarshal(e.Detail, &d))
			out = append(out, d)
		}
	}
	return out
}

func TestVoiceWrongAnswer(t *testing.T) {
	t.Parallel()
	const notOption = "Sorry, that is not one of the options."
	tests := []struct {
		name   string
		query  string // step and extra parameters
		form   url.Values
		first  string // said first
		prompt string // a part of the question asked again
	}{
		{name: "a key the identity check does not offer", query: "step=identity", form: callForm("Digits", "5"), first: notOption, prompt: "Press 1 if you are Ana Garcia"},
		{name: "a key the menu does not offer", query: "step=menu", form: callForm("Digits", "7"), first: notOption, prompt: "To talk to a person, press 4"},
		{name: "star at the menu", query: "step=menu", form: callForm("Digits", "*"), first: notOption, prompt: "To talk to a person, press 4"},
		{name: "speech the menu does not understand", query: "step=menu", form: callForm("SpeechResult", "purple elephants", "Confidence", "0.8"), first: notOption, prompt: "To talk to a person, press 4"},
		{name: "a key the date confirmation does not offer", query: "date=2026-12-05&step=confirm", form: callForm("Digits", "3"), first: notOption, prompt: "You entered December 5, 2026"},
		{name: "keys that are not a date", query: "step=date", form: callForm("Digits", "1340"), first: "Sorry, that is not a date we can accept.", prompt: "four digits"},
		{name: "silence", query: "step=menu", form: callForm(), first: "Sorry, we did not receive your answer.", prompt: "To talk to a person, press 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupVoice(t, voicePublic, "us", false)
			_, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")

			// The first wrong answer: say so, then ask the same question again.
			rec := b.post(t, gatherURL(token, tt.query), tt.form, true)
			verbs := parseTwiML(t, rec, rec.Body.String())
			require.Equal(t, []string{"Say", "Gather", "Redirect"}, verbNames(verbs))
			require.Equal(t, tt.first, verbs[0].Text)
			g := verbs[1]
			require.Len(t, g.Inner, 1)
			require.Contains(t, g.Inner[0].Text, tt.prompt)
			action, err := url.Parse(g.attr("action"))
			require.NoError(t, err)
			require.Equal(t, twilio.VoiceGatherURL(voicePublic, token), action.Scheme+"://"+action.Host+action.Path)
			q := action.Query()
			require.Equal(t, "1", q.Get("try"), "the second asking is counted")
			want, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			for k := range want {
				require.Equal(t, want.Get(k), q.Get(k))
			}
			require.Equal(t, g.attr("action"), strings.TrimSpace(verbs[2].Text))

			// The second: say so again and end the call politely.
			rec = b.post(t, g.attr("action"), tt.form, true)
			verbs = parseTwiML(t, rec, rec.Body.String())
			require.Equal(t, []string{"Say", "Say", "Hangup"}, verbNames(verbs))
			require.Equal(t, tt.first, verbs[0].Text)
			require.Contains(t, verbs[1].Text, "Goodbye.")

			// Nothing was recorded as an answer.
			replies, err := b.db.ListReplies(context.Background(), "acme", false)
			require.NoError(t, err)
			require.Empty(t, replies)
		})
	}
}

func TestVoiceWrongAnswerSpeaksTheBorrowersLanguage(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{"es": "Lo sentimos, esa no es una de las opciones.", "zh-CN": "抱歉，没有这个选项。"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			b := setupVoice(t, voicePublic, "us", false)
			_, token := b.addCall(t, voiceAccount("A-1", lang, "Ana García", voicePhone), "late-7")
			rec := b.post(t, gatherURL(token, "step=menu&try=1"), callForm("Digits", "8"), true)
			verbs := parseTwiML(t, rec, rec.Body.String())
			require.Equal(t, []string{"Say", "Say", "Hangup"}, verbNames(verbs))
			require.Equal(t, want, verbs[0].Text)
		})
	}
}

func TestVoiceTransfer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    string
		connected bool
	}{
		{status: "completed", connected: true},
		{status: "answered", connected: true},
		{status: "no-answer"},
		{status: "busy"},
		{status: "failed"},
		{status: "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			t.Parallel()
			b := setupVoice(t, voicePublic, "us", true)
			b.hook.TransferTimeout = 0 // the default
			_, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")

			// Key 4: a transfer whose outcome comes back to the dial URL.
			rec := b.post(t, gatherURL(token, "step=menu"), callForm("Digits", "4"), true)
			verbs := parseTwiML(t, rec, rec.Body.String())
			require.Equal(t, []string{"Say", "Dial"}, verbNames(verbs))
			dial := verbs[1]
			require.Equal(t, voiceAgent, strings.TrimSpace(dial.Text))
			require.Equal(t, twilio.VoiceDialURL(voicePublic, token), dial.attr("action"))
			require.Equal(t, http.MethodPost, dial.attr("method"))
			require.Equal(t, "20", dial.attr("timeout"))
			require.Len(t, callbackEvents(t, b, ActionTransfer), 1)

			// Twilio posts the outcome, and may post it again.
			form := callForm("DialCallStatus", tt.status, "DialCallSid", "CA00000000000000000000000000000002", "DialCallDuration", "0")
			for range 2 {
				rec = b.post(t, dial.attr("action"), form, true)
				verbs = parseTwiML(t, rec, rec.Body.String())
				if tt.connected {
					require.Equal(t, []string{"Hangup"}, verbNames(verbs))
					continue
				}
				require.Equal(t, []string{"Say", "Say", "Say", "Hangup"}, verbNames(verbs))
				require.Equal(t, "Sorry, nobody from our team is available right now.", verbs[0].Text)
				require.Equal(t, "A member of our team will call you back soon.", verbs[1].Text)
				require.Contains(t, verbs[2].Text, "Goodbye.")
			}

			outcomes := callbackEvents(t, b, ActionTransferOutcome)
			require.Len(t, outcomes, 1, "the outcome is recorded once")
			require.Equal(t, tt.status, outcomes[0]["dial_status"])
			require.Equal(t, tt.connected, outcomes[0]["connected"])
			require.Equal(t, "CA00000000000000000000000000000002", outcomes[0]["dial_call_sid"])
			callbacks := callbackEvents(t, b, ActionCallback)
			if tt.connected {
				require.Empty(t, callbacks)
			} else {
				require.Len(t, callbacks, 1, "the call back is recorded once")
				require.Equal(t, "transfer_not_connected", callbacks[0]["reason"])
				require.Equal(t, tt.status, callbacks[0]["dial_status"])
			}
			// The request for a person waits for one either way.
			replies, err := b.db.ListReplies(context.Background(), "acme", true)
			require.NoError(t, err)
			require.Len(t, replies, 1)
			require.Equal(t, nudge.IntentTalkToPerson, replies[0].Intent)
		})
	}
}

func TestVoiceTransferTimeout(t *testing.T) {
	t.Parallel()
	b := setupVoice(t, voicePublic, "us", true)
	b.hook.TransferTimeout = 45e9
	_, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")
	rec := b.post(t, gatherURL(token, "step=menu"), callForm("Digits", "4"), true)
	verbs := parseTwiML(t, rec, rec.Body.String())
	require.Equal(t, "45", verbs[1].attr("timeout"))
}

func TestVoiceNoAgentLineRecordsTheCallBack(t *testing.T) {
	t.Parallel()
	b := setupVoice(t, voicePublic, "us", false)
	_, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")
	for range 2 {
		rec := b.post(t, gatherURL(token, "step=menu"), callForm("Digits", "4"), true)
		verbs := parseTwiML(t, rec, rec.Body.String())
		require.Equal(t, []string{"Say", "Say", "Hangup"}, verbNames(verbs))
		require.Equal(t, "A member of our team will call you back soon.", verbs[0].Text)
	}
	callbacks := callbackEvents(t, b, ActionCallback)
	require.Len(t, callbacks, 1)
	require.Equal(t, "no_agent_line", callbacks[0]["reason"])
	require.Empty(t, callbackEvents(t, b, ActionTransfer))
}

func TestVoiceLimitedContentVoicemail(t *testing.T) {
	t.Parallel()
	// What each language must say besides the names and the number.
	want := map[string]struct{ callBack, optOut string }{
		"en":    {"Please call us back at ", "If you want us to stop calling you, call us at that number and tell us, or press 9 during our next call."},
		"es":    {"Por favor, devuélvanos la llamada al ", "Si desea que dejemos de llamarle, llámenos a ese número y díganoslo, o marque 9 durante nuestra próxima llamada."},
		"zh-CN": {"请回电", "如果您不希望我们再致电，请拨打该号码告诉我们，或在下次来电时按9。"},
	}
	people := map[string]string{"en": "Ana Garcia", "es": "Ana García", "zh-CN": "王芳"}
	// Words no limited-content voicemail may say: the debt, the collector,
	// the amount, the lender's collection name.
	forbidden := []string{"412", "debt", "collect", "payment", "deuda", "cobr", "pago", "债", "催收", "还款", "Acme Collections"}
	for lang, w := range want {
		for _, agent := range []bool{false, true} {
			name := lang + "/help line"
			if agent {
				name = lang + "/agent line"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				b := setupVoice(t, voicePublic, "us", agent)
				ctx := context.Background()
				l, err := b.db.GetLender(ctx, "acme")
				require.NoError(t, err)
				l.Name, l.VoicemailBusinessName, l.VoicemailCallerName = "Acme Collections LLC", "Acme Motors", "Sam Rivera"
				require.NoError(t, b.db.UpsertLender(ctx, l))
				_, token := b.addCall(t, voiceAccount("A-1", lang, people[lang], voicePhone), "late-7")

				rec := b.post(t, twilio.VoiceCallURL(voicePublic, token), callForm("AnsweredBy", "machine_end_beep"), true)
				verbs := parseTwiML(t, rec, rec.Body.String())
				require.Equal(t, []string{"Say", "Hangup"}, verbNames(verbs))
				said := verbs[0].Text
				phone := "8 0 0, 5 5 5, 0 1 0 0" // the help line
				if agent {
					phone = "8 0 0, 5 5 5, 0 1 9 9"
				}
				for _, s := range []string{people[lang], "Acme Motors", "Sam Rivera", w.callBack + phone, w.optOut} {
					require.Contains(t, said, s)
				}
				for _, s := range forbidden {
					require.NotContains(t, strings.ToLower(said), strings.ToLower(s))
				}
				require.Empty(t, compliance.DebtWording(said))
				require.Len(t, callbackEvents(t, b, "voicemail"), 1)
			})
		}
	}
}

func TestVoicemailBusinessName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lender nudge.Lender
		want   string
	}{
		{name: "the configured name", lender: nudge.Lender{Name: "Acme Collections", VoicemailBusinessName: "Acme Motors"}, want: "Acme Motors"},
		{name: "the lender's name when it says nothing of debts", lender: nudge.Lender{Name: "Acme Auto Finance"}, want: "Acme Auto Finance"},
		{name: "no name rather than a collector's", lender: nudge.Lender{Name: "Acme Debt Recovery"}},
		{name: "a stored collector's name is not said", lender: nudge.Lender{Name: "Acme Auto", VoicemailBusinessName: "Acme Collections"}, want: "Acme Auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, VoicemailBusinessName(tt.lender))
		})
	}
}

func TestVoicemailWithoutBusinessName(t *testing.T) {
	t.Parallel()
	b := setupVoice(t, voicePublic, "us", false)
	ctx := context.Background()
	l, err := b.db.GetLender(ctx, "acme")
	require.NoError(t, err)
	l.Name = "Acme Collections"
	require.NoError(t, b.db.UpsertLender(ctx, l))
	_, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")
	rec := b.post(t, twilio.VoiceCallURL(voicePublic, token), callForm("AnsweredBy", "machine_start"), true)
	verbs := parseTwiML(t, rec, rec.Body.String())
	require.Equal(t, "Hello, this message is for Ana Garcia. This is Sam Rivera. Please call us back at 8 0 0, 5 5 5, 0 1 0 0. "+
		"If you want us to stop calling you, call us at that number and tell us, or press 9 during our next call. Thank you.", verbs[0].Text)
}

func TestVoiceSpokenRevocationScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		query    string
		speech   string
		channels []nudge.ChannelKind // opted out
		said     string              // first thing said
		hold     bool                // a cease_communication hold
		review   nudge.Intent        // the reply a person sees, if any
	}{
		{name: "stop calling me", query: "step=menu", speech: "Stop calling me.", channels: []nudge.ChannelKind{nudge.Voice},
			said: "You will not receive any more calls from us at this number. Goodbye."},
		{name: "stop texting me keeps the calls", query: "step=menu", speech: "stop texting me", channels: []nudge.ChannelKind{nudge.SMS},
			said: "Thank you. We have noted your request and will stop contacting you that way."},
		{name: "stop contacting me stops everything", query: "step=identity", speech: "stop contacting me",
			channels: []nudge.ChannelKind{nudge.SMS, nudge.Voice, nudge.Email}, hold: true, review: nudge.IntentCeaseCommunication,
			said: "You will not receive any more calls from us at this number. Goodbye."},
		{name: "stop calling me or I will sue", query: "step=menu", speech: "stop calling me or I will sue", channels: []nudge.ChannelKind{nudge.Voice},
			review: nudge.IntentLegalThreat, said: "You will not receive any more calls from us at this number. Goodbye."},
		{name: "a revocation at the date step", query: "step=date", speech: "stop calling me", channels: []nudge.ChannelKind{nudge.Voice},
			said: "You will not receive any more calls from us at this number. Goodbye."},
		{name: "a threat that is no answer", query: "step=menu", speech: "I will sue you", review: nudge.IntentLegalThreat,
			said: "Sorry, that is not one of the options."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupVoice(t, voicePublic, "us", false)
			a := voiceAccount("A-1", "en", "Ana Garcia", voicePhone)
			a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Email, Address: "ana@example.com", Consent: true})
			_, token := b.addCall(t, a, "late-7")
			rec := b.post(t, gatherURL(token, tt.query), callForm("SpeechResult", tt.speech, "Confidence", "0.9"), true)
			verbs := parseTwiML(t, rec, rec.Body.String())
			require.Equal(t, tt.said, verbs[0].Text)

			ctx := context.Background()
			outs, err := b.db.ListOptOuts(ctx, "acme")
			require.NoError(t, err)
			var got []nudge.ChannelKind
			for _, o := range outs {
				got = append(got, o.Channel)
			}
			require.ElementsMatch(t, tt.channels, got)
			acct, err := b.db.GetAccount(ctx, "acme", "A-1")
			require.NoError(t, err)
			require.Equal(t, tt.hold, acct.HasHold(nudge.HoldCeaseCommunication))
			replies, err := b.db.ListReplies(ctx, "acme", true)
			require.NoError(t, err)
			if tt.review == "" {
				require.Empty(t, replies)
				return
			}
			require.Len(t, replies, 1)
			require.Equal(t, tt.review, replies[0].Intent)
		})
	}
}
