package webhooks

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/logmask"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
)

var updateTwiML = flag.Bool("update", false, "rewrite the TwiML golden files in testdata/twiml")

const (
	voiceSID    = "AC0123456789abcdef0123456789abcdef"
	voiceToken  = "voicetok3n0123456789"
	voiceFrom   = "+14155550100"
	voiceAgent  = "+18005550199"
	voicePublic = "https://nudge.example.com"
	voicePhone  = "+12125550142"
)

// voiceT0 is Friday 2026-11-27 12:00 in New York, inside every US window.
var voiceT0 = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

// voiceNoTasks stands in for the queue: the tests look at the ledger.
type voiceNoTasks struct{}

func (voiceNoTasks) Cancel(context.Context, string, nudge.ChannelKind, ...string) error { return nil }

type voiceBundle struct {
	db      *store.DB
	clock   *nudge.FixedClock
	links   *link.Service
	logs    *syncBuffer
	server  *web.Server
	hook    *TwilioVoice
	profile string
}

// setupVoice opens a SQLite store with the lender acme (agent line set when
// agent is true) and a TwilioVoice on a web.Server at publicURL.
func setupVoice(t *testing.T, publicURL, profile string, agent bool) *voiceBundle {
	t.Helper()
	ctx := context.Background()
	clock := nudge.NewFixedClock(voiceT0)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	l := nudge.Lender{ID: "acme", Name: "Acme Auto Finance", Language: "en", Timezone: "America/New_York", HelpPhone: "+18005550100",
		VoicemailCallerName: "Sam Rivera", CreatedAt: voiceT0}
	if agent {
		l.AgentPhone = voiceAgent
	}
	require.NoError(t, db.UpsertLender(ctx, l))
	links, err := link.New([]byte("0123456789abcdef0123456789abcdef-voice"), db, clock)
	require.NoError(t, err)
	b := &voiceBundle{db: db, clock: clock, links: links, profile: profile, logs: &syncBuffer{}}
	profiles := func(context.Context, nudge.Account) (*compliance.Profile, error) {
		return compliance.Builtin(b.profile)
	}
	b.hook = &TwilioVoice{
		AuthToken: voiceToken, PublicURL: publicURL, Links: links, Store: db, Pack: templates.Default(), Profile: profiles, Clock: clock,
		Logger:  slog.New(logmask.NewHandler(slog.NewJSONHandler(b.logs, nil))),
		Answers: &response.Handler{Store: db, Tasks: voiceNoTasks{}, Pack: templates.Default(), Profile: profiles, Clock: clock},
	}
	b.server = web.NewServer(nil, nil)
	b.hook.Register(b.server)
	return b
}

func voiceAccount(id, lang, name, phone string) nudge.Account {
	return nudge.Account{
		ID: id, Lender: "acme",
		Borrower: nudge.Borrower{Name: name, Language: lang, Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: phone, Consent: true},
			{Channel: nudge.Voice, Address: phone, Consent: true},
		},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-11-20"), Status: nudge.StatusActive,
	}
}

// addCall stores the account (once) and a voice reminder with a claimed
// attempt for step, and returns the attempt and the call's token.
func (b *voiceBundle) addCall(t *testing.T, a nudge.Account, step string) (nudge.Attempt, string) {
	t.Helper()
	ctx := context.Background()
	now := b.clock.Now()
	if _, err := b.db.GetAccount(ctx, a.Lender, a.ID); err != nil {
		require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{a}, now))
	}
	k := nudge.ReminderKey{Lender: a.Lender, AccountID: a.ID, Cadence: "us-auto", Step: step, Cycle: a.DueDate}
	r := nudge.Reminder{ID: k.ID(), Key: k, CadenceVersion: 1, Channel: nudge.Voice, Template: "late_voice",
		DueAt: now, ExpiresAt: now.Add(8 * time.Hour), Status: nudge.ReminderQueued, CreatedAt: now}
	_, err := b.db.InsertReminders(ctx, []nudge.Reminder{r})
	require.NoError(t, err)
	att, err := b.db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: r.ID, Lender: a.Lender, AccountID: a.ID, Channel: nudge.Voice,
		Address: a.Contacts[1].Address, CreatedAt: now}, nil)
	require.NoError(t, err)
	l, err := b.links.Issue(ctx, link.Link{Purpose: link.Voice, Lender: a.Lender, AccountID: a.ID, Channel: nudge.Voice,
		Address: att.Address, Attempt: att.ID}, dispatcher.DefaultVoiceLinkTTL)
	require.NoError(t, err)
	token, err := VoiceToken(&nudge.Message{AttemptID: att.ID, Lender: a.Lender, AccountID: a.ID, Channel: nudge.Voice, To: att.Address,
		Headers: map[string]string{link.VoiceHeader: l.Token}})
	require.NoError(t, err)
	return att, token
}

// post sends a webhook signed as Twilio signs it (sign=false forges it).
func (b *voiceBundle) post(t *testing.T, rawURL string, form url.Values, sign bool) *httptest.ResponseRecorder {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, u.RequestURI(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sig := twilio.SignRequest(voiceToken, rawURL, form)
	if !sign {
		sig = twilio.SignRequest("forged0000", rawURL, form)
	}
	req.Header.Set(twilio.SignatureHeader, sig)
	rec := httptest.NewRecorder()
	b.server.ServeHTTP(rec, req)
	return rec
}

func callForm(extra ...string) url.Values {
	f := url.Values{"CallSid": {"CA00000000000000000000000000000001"}, "AccountSid": {voiceSID}, "CallStatus": {"in-progress"},
		"From": {voiceFrom}, "To": {voicePhone}, "Direction": {"outbound-api"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func gatherURL(token, query string) string {
	return twilio.VoiceGatherURL(voicePublic, token) + "?" + query
}

func TestVoiceTwiMLGolden(t *testing.T) {
	t.Parallel()
	people := map[string]string{"en": "Ana Garcia", "es": "Ana García", "zh-CN": "王芳"}
	type branch struct {
		name    string
		profile string
		agent   bool
		path    func(token string) string
		form    url.Values
	}
	branches := []branch{
		{name: "greeting", path: func(tok string) string { return twilio.VoiceCallURL(voicePublic, tok) }, form: callForm("AnsweredBy", "human")},
		{name: "limited_voicemail", path: func(tok string) string { return twilio.VoiceCallURL(voicePublic, tok) }, form: callForm("AnsweredBy", "machine_end_beep")},
		{name: "voicemail", profile: "cn", path: func(tok string) string { return twilio.VoiceCallURL(voicePublic, tok) }, form: callForm("AnsweredBy", "machine_end_silence")},
		{name: "menu", path: func(tok string) string { return gatherURL(tok, "step=identity") }, form: callForm("Digits", "1")},
		{name: "menu_by_speech", path: func(tok string) string { return gatherURL(tok, "step=identity") }, form: callForm("SpeechResult", "Yes.", "Confidence", "0.9")},
		{name: "wrong_party", path: func(tok string) string { return gatherURL(tok, "step=identity") }, form: callForm("Digits", "2")},
		{name: "identity_no_input", path: func(tok string) string { return gatherURL(tok, "step=identity") }, form: callForm()},
		{name: "goodbye_after_no_input", path: func(tok string) string { return gatherURL(tok, "step=menu&try=1") }, form: callForm()},
		{name: "menu_wrong_key", path: func(tok string) string { return gatherURL(tok, "step=menu") }, form: callForm("Digits", "7")},
		{name: "goodbye_after_wrong_key", path: func(tok string) string { return gatherURL(tok, "step=menu&try=1") }, form: callForm("Digits", "7")},
		{name: "date_not_a_date", path: func(tok string) string { return gatherURL(tok, "step=date") }, form: callForm("Digits", "1399")},
		{name: "confirm_promise", path: func(tok string) string { return gatherURL(tok, "step=menu") }, form: callForm("Digits", "1")},
		{name: "ask_date", path: func(tok string) string { return gatherURL(tok, "step=menu") }, form: callForm("Digits", "2")},
		{name: "read_back_date", path: func(tok string) string { return gatherURL(tok, "step=date") }, form: callForm("Digits", "1205")},
		{name: "date_too_far", path: func(tok string) string { return gatherURL(tok, "step=date") }, form: callForm("Digits", "0301")},
		{name: "confirm_date", path: func(tok string) string { return gatherURL(tok, "date=2026-12-05&step=confirm") }, form: callForm("Digits", "1")},
		{name: "confirm_paid", path: func(tok string) string { return gatherURL(tok, "step=menu") }, form: callForm("Digits", "3")},
		{name: "transfer", agent: true, path: func(tok string) string { return gatherURL(tok, "step=menu") }, form: callForm("Digits", "4")},
		{name: "transfer_not_connected", agent: true, path: func(tok string) string { return twilio.VoiceDialURL(voicePublic, tok) },
			form: callForm("DialCallStatus", "no-answer", "DialCallSid", "CA00000000000000000000000000000002")},
		{name: "transfer_completed", agent: true, path: func(tok string) string { return twilio.VoiceDialURL(voicePublic, tok) },
			form: callForm("DialCallStatus", "completed", "DialCallSid", "CA00000000000000000000000000000002", "DialCallDuration", "95")},
		{name: "callback", path: func(tok string) string { return gatherURL(tok, "step=menu") }, form: callForm("Digits", "4")},
		{name: "confirm_optout", path: func(tok string) string { return gatherURL(tok, "step=menu") }, form: callForm("Digits", "9")},
	}
	for _, lang := range []string{"en", "es", "zh-CN"} {
		for _, br := range branches {
			t.Run(lang+"/"+br.name, func(t *testing.T) {
				t.Parallel()
				profile := br.profile
				if profile == "" {
					profile = "us"
				}
				b := setupVoice(t, voicePublic, profile, br.agent)
				_, token := b.addCall(t, voiceAccount("A-1", lang, people[lang], voicePhone), "late-7")
				rec := b.post(t, br.path(token), br.form, true)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				require.Equal(t, "text/xml; charset=utf-8", rec.Header().Get("Content-Type"))
				got := strings.ReplaceAll(rec.Body.String(), token, "{token}")
				golden := filepath.Join("testdata", "twiml", lang, br.name+".xml")
				if *updateTwiML {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test ./web -run TestVoiceTwiMLGolden -update to create it")
				require.Equal(t, string(want), got)
			})
		}
	}
}

func TestVoiceForgedRequestChangesNothing(t *testing.T) {
	t.Parallel()
	b := setupVoice(t, voicePublic, "us", false)
	att, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")
	tests := []struct {
		name string
		url  string
		form url.Values
	}{
		{name: "opt-out", url: gatherURL(token, "step=menu"), form: callForm("Digits", "9")},
		{name: "promise", url: gatherURL(token, "step=menu"), form: callForm("Digits", "1")},
		{name: "status", url: twilio.VoiceStatusURL(voicePublic, token), form: callForm("CallStatus", "completed", "AnsweredBy", "human")},
		{name: "conversation", url: gatherURL(token, "step=identity"), form: callForm("Digits", "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := b.post(t, tt.url, tt.form, false)
			require.Equal(t, http.StatusForbidden, rec.Code)
		})
	}
	// A correctly signed request whose URL carries another step than Twilio
	// was told (the query is signed too) is refused as well.
	form := callForm("Digits", "1")
	u, err := url.Parse(gatherURL(token, "step=menu"))
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, u.Path+"?step=confirm&date=2027-01-01", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.SignRequest(voiceToken, gatherURL(token, "step=menu"), form))
	rec := httptest.NewRecorder()
	b.server.ServeHTTP(rec, req)
	require.Equal(t, http.StatusForbidden, rec.Code)

	// A signed request for a token that is not ours is unknown.
	for _, other := range []string{"bm90LWEtdG9rZW4.AAAA", link.NewToken()} {
		rec = b.post(t, twilio.VoiceCallURL(voicePublic, other), callForm(), true)
		require.Equal(t, http.StatusNotFound, rec.Code)
	}
	require.NotContains(t, b.logs.String(), token, "logs name the route and a masked token, not the path")
	require.Contains(t, b.logs.String(), link.Mask(token))

	ctx := context.Background()
	got, err := b.db.GetAttempt(ctx, att.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptSending, got.Status)
	require.False(t, got.Conversation)
	require.Empty(t, got.AnsweredBy)
	outs, err := b.db.ListOptOuts(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, outs)
	promises, err := b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Empty(t, promises)
	events, err := b.db.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Empty(t, events)
}

func TestVoiceGatherIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setupVoice(t, voicePublic, "us", false)
	_, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")
	for range 3 {
		rec := b.post(t, gatherURL(token, "step=menu"), callForm("Digits", "1"), true)
		require.Equal(t, http.StatusOK, rec.Code)
	}
	ctx := context.Background()
	promises, err := b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, promises, 1)
	require.Equal(t, nudge.MustDate("2026-12-04"), promises[0].Due)
	replies, err := b.db.ListReplies(ctx, "acme", false)
	require.NoError(t, err)
	require.Len(t, replies, 1)
	events, err := b.db.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	inputs := 0
	for _, e := range events {
		if e.Kind == nudge.EventCallback && e.Action == "input" {
			inputs++
		}
	}
	require.Equal(t, 1, inputs, "a repeated gather records its input once")
}

func TestKeypadDate(t *testing.T) {
	t.Parallel()
	today := nudge.MustDate("2026-11-27")
	tests := []struct {
		name   string
		digits string
		want   string
	}{
		{name: "this year", digits: "1205", want: "2026-12-05"},
		{name: "today", digits: "1127", want: "2026-11-27"},
		{name: "next year", digits: "0105", want: "2027-01-05"},
		{name: "no such day", digits: "0230"},
		{name: "no such month", digits: "1301"},
		{name: "too short", digits: "125"},
		{name: "not digits", digits: "12*5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, ok := keypadDate(tt.digits, today)
			if tt.want == "" {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, d.String())
		})
	}
}

func TestYesNo(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, speech, want string }{
		{name: "yes", speech: "Yes.", want: "yes"},
		{name: "spanish", speech: "Sí, soy yo.", want: "yes"},
		{name: "chinese", speech: "是的。", want: "yes"},
		{name: "no", speech: "No!", want: "no"},
		{name: "chinese no", speech: "不是", want: "no"},
		{name: "sentence", speech: "yes I will pay tomorrow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, yesNo(tt.speech))
		})
	}
}

// voiceE2E runs the real twilio-go client against twiliosim, which calls
// back the webhooks on an httptest server over the SQLite store.
type voiceE2E struct {
	*voiceBundle
	sim   *twiliosim.Sim
	voice *twilio.Voice
	calls int
	// apiURL and appURL are the simulator's and the webhooks' servers.
	apiURL, appURL string
}

func setupVoiceE2E(t *testing.T, profile string, mods ...func(*twiliosim.Config)) *voiceE2E {
	t.Helper()
	cfg := twiliosim.Config{AccountSID: voiceSID, AuthToken: voiceToken, Speed: 1e6}
	for _, mod := range mods {
		mod(&cfg)
	}
	sim := twiliosim.New(cfg)
	api := httptest.NewServer(sim)
	var handler http.Handler
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(func() {
		require.NoError(t, sim.Close())
		api.Close()
		app.Close()
	})
	b := setupVoice(t, app.URL, profile, cfg.DialStatus != "")
	handler = b.server
	v, err := twilio.NewVoice(twilio.Config{AccountSID: voiceSID, AuthToken: voiceToken, From: voiceFrom, BaseURL: api.URL, PublicURL: app.URL},
		VoiceToken)
	require.NoError(t, err)
	return &voiceE2E{voiceBundle: b, sim: sim, voice: v, apiURL: api.URL, appURL: app.URL}
}

// decide asks compliance whether a call to the account may go out now.
func (e *voiceE2E) decide(t *testing.T, a nudge.Account) compliance.Decision {
	t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	acct, err := e.db.GetAccount(ctx, a.Lender, a.ID)
	require.NoError(t, err)
	hist, err := e.db.AttemptHistory(ctx, a.Lender, a.ID, now.AddDate(0, 0, -8))
	require.NoError(t, err)
	out, err := e.db.IsOptedOut(ctx, a.Lender, nudge.Voice, voicePhone)
	require.NoError(t, err)
	p, err := compliance.Builtin(e.profile)
	require.NoError(t, err)
	in := compliance.Input{Account: acct, Channel: nudge.Voice, Address: voicePhone, At: now, History: hist, OptedOut: out, Profile: p}
	if pr, err := e.db.ActivePromise(ctx, a.Lender, a.ID); err == nil {
		in.Promise = &pr
	}
	return compliance.Decide(in)
}

// place claims an attempt, places the call through twiliosim, waits for it
// to end and returns the attempt as stored.
func (e *voiceE2E) place(t *testing.T, a nudge.Account) nudge.Attempt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e.calls++
	att, token := e.addCall(t, a, fmt.Sprintf("call-%d", e.calls))
	res, err := e.voice.Send(ctx, &nudge.Message{AttemptID: att.ID, Lender: a.Lender, AccountID: a.ID, Channel: nudge.Voice, To: att.Address,
		Headers: map[string]string{link.VoiceHeader: token}})
	require.NoError(t, err)
	_, err = e.db.UpdateAttempt(ctx, att.ID, nudge.AttemptUpdate{Status: res.Status, ProviderID: res.ProviderID, SentAt: e.clock.Now(), At: e.clock.Now()})
	require.NoError(t, err)
	require.NoError(t, e.sim.Idle(ctx))
	c, ok := e.sim.Call(res.ProviderID)
	require.True(t, ok)
	require.Empty(t, c.Error)
	got, err := e.db.GetAttempt(ctx, att.ID)
	require.NoError(t, err)
	return got
}

func TestVoiceEndToEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		profile  string
		borrower twiliosim.Borrower
		// dial, when set, gives the lender an agent line and is how the
		// simulator's transfer to it ends.
		dial  string
		check func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt)
	}{
		{
			name:     "key 1 records a promise",
			borrower: twiliosim.Borrower{Behaviour: twiliosim.BehaviourPromise},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				require.Equal(t, nudge.AttemptCompleted, att.Status)
				require.Equal(t, "human", att.AnsweredBy)
				require.True(t, att.Conversation)
				p, err := e.db.ActivePromise(context.Background(), "acme", a.ID)
				require.NoError(t, err)
				require.Equal(t, nudge.MustDate("2026-12-04"), p.Due)
				require.Equal(t, nudge.Voice, p.Channel)
				c := e.sim.Calls()[0]
				require.Equal(t, []string{"1", "1"}, c.Inputs)
				require.Contains(t, c.Said, "Thank you. We have noted your promise to pay $412.50 by December 4, 2026. We will pause reminders until then.")
			},
		},
		{
			name:     "key 9 opts out and no further call is placed",
			borrower: twiliosim.Borrower{Behaviour: twiliosim.BehaviourStop},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				outs, err := e.db.ListOptOuts(context.Background(), "acme")
				require.NoError(t, err)
				require.Len(t, outs, 1)
				require.Equal(t, nudge.Voice, outs[0].Channel)
				require.Equal(t, response.SourceVoiceKeypad, outs[0].Source)
				// A week later (past the conversation block) calls stay suppressed.
				e.clock.Advance(8 * 24 * time.Hour)
				d := e.decide(t, a)
				require.Equal(t, compliance.Suppress, d.Action)
				require.Equal(t, nudge.ReasonOptedOut, d.Reason)
			},
		},
		{
			name:     "a wrong party ends the call without the debt",
			borrower: twiliosim.Borrower{Behaviour: twiliosim.BehaviourWrongNumber},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				require.False(t, att.Conversation)
				c := e.sim.Calls()[0]
				for _, s := range c.Said {
					require.NotContains(t, s, "412")
					require.NotContains(t, s, "payment")
				}
				d := e.decide(t, a)
				require.Equal(t, compliance.Suppress, d.Action)
				require.Equal(t, nudge.ReasonWrongParty, d.Reason)
			},
		},
		{
			name:     "a machine gets the limited-content message",
			borrower: twiliosim.Borrower{Behaviour: twiliosim.BehaviourPromise, Call: twiliosim.CallMachine},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				require.Equal(t, nudge.AttemptCompleted, att.Status)
				require.Equal(t, "machine_end_beep", att.AnsweredBy)
				require.False(t, att.Conversation)
				c := e.sim.Calls()[0]
				require.Equal(t, []string{"Hello, this message is for Ana Garcia. This is Sam Rivera from Acme Auto Finance. Please call us back at 8 0 0, 5 5 5, 0 1 0 0. " +
					"If you want us to stop calling you, call us at that number and tell us, or press 9 during our next call. Thank you."}, c.Said)
			},
		},
		{
			name:     "key 4 reaches a person",
			borrower: twiliosim.Borrower{Call: twiliosim.CallHuman, Digits: []string{"1", "4"}},
			dial:     "completed",
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				c := e.sim.Calls()[0]
				require.Equal(t, []string{voiceAgent}, c.Dialed)
				require.Equal(t, "Please hold while we connect you with a member of our team.", c.Said[len(c.Said)-1])
				outcomes := callbackEvents(t, e.voiceBundle, ActionTransferOutcome)
				require.Len(t, outcomes, 1)
				require.Equal(t, true, outcomes[0]["connected"])
				require.Empty(t, callbackEvents(t, e.voiceBundle, ActionCallback))
			},
		},
		{
			name:     "key 4 with nobody at the agent line promises a call back",
			borrower: twiliosim.Borrower{Call: twiliosim.CallHuman, Digits: []string{"1", "4"}},
			dial:     "no-answer",
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				c := e.sim.Calls()[0]
				require.Equal(t, []string{voiceAgent}, c.Dialed)
				require.Contains(t, c.Said, "A member of our team will call you back soon.")
				outcomes := callbackEvents(t, e.voiceBundle, ActionTransferOutcome)
				require.Len(t, outcomes, 1)
				require.Equal(t, "no-answer", outcomes[0]["dial_status"])
				require.Len(t, callbackEvents(t, e.voiceBundle, ActionCallback), 1)
			},
		},
		{
			name:     "a wrong key twice ends the call",
			borrower: twiliosim.Borrower{Call: twiliosim.CallHuman, Digits: []string{"1", "6", "6", "1"}},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				c := e.sim.Calls()[0]
				require.Equal(t, []string{"1", "6", "6"}, c.Inputs, "the call ended before a fourth answer")
				require.Contains(t, c.Said, "Sorry, that is not one of the options.")
				require.Contains(t, c.Said[len(c.Said)-1], "Goodbye.")
				_, err := e.db.ActivePromise(context.Background(), "acme", a.ID)
				require.ErrorIs(t, err, nudge.ErrNotFound)
			},
		},
		{
			name:     "busy does not count as a call, a completed call does",
			borrower: twiliosim.Borrower{Call: twiliosim.CallBusy},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				require.Equal(t, nudge.AttemptBusy, att.Status)
				require.False(t, att.Status.CountsAsCall())
				// Six busy signals later, a seventh call is still allowed…
				for range 6 {
					e.clock.Advance(time.Minute)
					require.Equal(t, nudge.AttemptBusy, e.place(t, a).Status)
				}
				require.Equal(t, compliance.Send, e.decide(t, a).Action)
				// …but seven unanswered (rang out) calls fill the 7-in-7 cap.
				e.sim.Script(voicePhone, twiliosim.Borrower{Call: twiliosim.CallNoAnswer})
				for range 7 {
					e.clock.Advance(time.Minute)
					got := e.place(t, a)
					require.Equal(t, nudge.AttemptNoAnswer, got.Status)
					require.True(t, got.Status.CountsAsCall())
				}
				d := e.decide(t, a)
				require.Equal(t, compliance.Defer, d.Action)
				require.Equal(t, nudge.ReasonCallCap, d.Reason)
			},
		},
		{
			name:     "a conversation blocks calls for 7 days",
			borrower: twiliosim.Borrower{Call: twiliosim.CallHuman, Digits: []string{"1"}},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				require.True(t, att.Conversation)
				require.Equal(t, nudge.AttemptCompleted, att.Status)
				d := e.decide(t, a)
				require.Equal(t, compliance.Defer, d.Action)
				require.Equal(t, nudge.ReasonConversation, d.Reason)
				// The conversation day is day 1: calls resume on day 8 (Dec 4) in New York.
				ny, err := time.LoadLocation("America/New_York")
				require.NoError(t, err)
				require.Equal(t, "2026-12-04", nudge.DateOf(d.Until.In(ny)).String())
				e.clock.Set(d.Until.Add(time.Hour))
				require.Equal(t, compliance.Send, e.decide(t, a).Action)
			},
		},
		{
			name:     "cn counts unanswered attempts per day",
			profile:  "cn",
			borrower: twiliosim.Borrower{Call: twiliosim.CallNoAnswer},
			check: func(t *testing.T, e *voiceE2E, a nudge.Account, att nudge.Attempt) {
				require.True(t, att.Unanswered())
				for range 5 {
					e.clock.Advance(time.Minute)
					got := e.place(t, a)
					require.True(t, got.Unanswered())
				}
				d := e.decide(t, a)
				require.Equal(t, compliance.Defer, d.Action)
				require.Equal(t, nudge.ReasonUnansweredCap, d.Reason)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			profile := tt.profile
			if profile == "" {
				profile = "us"
			}
			e := setupVoiceE2E(t, profile, func(c *twiliosim.Config) { c.DialStatus = tt.dial })
			e.sim.Script(voicePhone, tt.borrower)
			a := voiceAccount("A-1", "en", "Ana Garcia", voicePhone)
			att := e.place(t, a)
			require.True(t, att.Status.Final(), "the call ended with a final status, got %s", att.Status)
			tt.check(t, e, a, att)
			events, err := e.db.Events(context.Background(), "acme", a.ID)
			require.NoError(t, err)
			require.True(t, slices.ContainsFunc(events, func(ev nudge.Event) bool { return ev.Kind == nudge.EventCallback }))
		})
	}
}

// syncBuffer is a bytes.Buffer that loggers may write to concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestVoiceStatusRecordsCallSeconds(t *testing.T) {
	t.Parallel()
	b := setupVoice(t, voicePublic, "us", false)
	att, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")
	rec := b.post(t, twilio.VoiceStatusURL(voicePublic, token), callForm("CallStatus", "completed", "CallDuration", "73"), true)
	require.Equal(t, http.StatusNoContent, rec.Code)
	got, err := b.db.GetAttempt(context.Background(), att.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptCompleted, got.Status)
	require.Equal(t, 73, got.CallSeconds)
}

func TestVoiceTokenGone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before func(t *testing.T, b *voiceBundle)
	}{
		{name: "borrower erased", before: func(t *testing.T, b *voiceBundle) {
			require.NoError(t, b.db.ErasePersonalData(context.Background(), "acme", "A-1", b.clock.Now()))
		}},
		{name: "expired", before: func(_ *testing.T, b *voiceBundle) { b.clock.Advance(dispatcher.DefaultVoiceLinkTTL) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupVoice(t, voicePublic, "us", false)
			att, token := b.addCall(t, voiceAccount("A-1", "en", "Ana Garcia", voicePhone), "late-7")
			tt.before(t, b)
			rec := b.post(t, twilio.VoiceStatusURL(voicePublic, token), callForm("CallStatus", "completed"), true)
			require.Equal(t, http.StatusNotFound, rec.Code)
			got, err := b.db.GetAttempt(context.Background(), att.ID)
			require.NoError(t, err)
			require.Equal(t, nudge.AttemptSending, got.Status, "nothing changed")
			require.NotContains(t, b.logs.String(), token)
			require.Empty(t, logmask.Leaks(b.logs.String(), voicePhone))
		})
	}
}

func TestVoiceToken(t *testing.T) {
	t.Parallel()
	tok := link.NewToken()
	tests := []struct {
		name string
		m    nudge.Message
		want string
	}{
		{name: "issued by the renderer", m: nudge.Message{AttemptID: "att_1", Headers: map[string]string{link.VoiceHeader: tok}}, want: tok},
		{name: "no token", m: nudge.Message{AttemptID: "att_1"}},
		{name: "not a token", m: nudge.Message{AttemptID: "att_1", Headers: map[string]string{link.VoiceHeader: "x.y"}}},
		{name: "no attempt", m: nudge.Message{Headers: map[string]string{link.VoiceHeader: tok}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := VoiceToken(&tt.m)
			if tt.want == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestVoiceEndToEndFromSubaccount: a call from a pool caller ID in a
// subaccount is placed with the subaccount's credentials and its whole
// conversation (TwiML fetches, key presses, status callbacks), signed by
// twiliosim with the subaccount's token, is accepted through AccountTokens;
// without them every webhook is refused.
func TestVoiceEndToEndFromSubaccount(t *testing.T) {
	t.Parallel()
	const (
		subSID   = "AC5ab00000000000000000000000000000"
		subToken = "subtok3n42"
		subFrom  = "+14155550177"
	)
	for _, tt := range []struct {
		name   string
		tokens map[string]string
	}{{name: "with the subaccount's token", tokens: map[string]string{subSID: subToken}}, {name: "without it"}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setupVoiceE2E(t, "us", func(c *twiliosim.Config) { c.Subaccounts = map[string]string{subSID: subToken} })
			e.hook.AccountTokens = tt.tokens
			v, err := twilio.NewVoice(twilio.Config{AccountSID: voiceSID, AuthToken: voiceToken, From: voiceFrom,
				BaseURL: e.apiURL, PublicURL: e.appURL,
				VoiceSenders: []twilio.SenderRoute{{Lender: "acme", Pool: []twilio.PoolSender{{From: subFrom, AccountSID: subSID, AuthToken: subToken}}}}},
				VoiceToken)
			require.NoError(t, err)
			e.voice = v
			a := voiceAccount("A-1", "en", "Ana Garcia", voicePhone)
			e.sim.Script(voicePhone, twiliosim.Borrower{Behaviour: twiliosim.BehaviourPromise})
			if tt.tokens == nil {
				ctx := context.Background()
				att, token := e.addCall(t, a, "call-1")
				_, err := e.voice.Send(ctx, &nudge.Message{AttemptID: att.ID, Lender: a.Lender, AccountID: a.ID, Channel: nudge.Voice,
					To: att.Address, Headers: map[string]string{link.VoiceHeader: token}})
				require.NoError(t, err)
				require.NoError(t, e.sim.Idle(ctx))
				ds := e.sim.Deliveries()
				require.NotEmpty(t, ds)
				for _, d := range ds {
					require.Equal(t, http.StatusForbidden, d.StatusCode, "a subaccount's webhook without its token")
				}
				return
			}
			att := e.place(t, a)
			c := e.sim.Calls()[0]
			require.Equal(t, subSID, c.AccountSID)
			require.Equal(t, subFrom, c.From)
			require.Equal(t, nudge.AttemptCompleted, att.Status)
			require.True(t, att.Conversation)
			_, err = e.db.ActivePromise(context.Background(), "acme", a.ID)
			require.NoError(t, err)
		})
	}
}
