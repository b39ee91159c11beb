package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/beevik/etree"
	"github.com/twilio/twilio-go/twiml"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/reply"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
)

// DefaultVoiceTemplate is the voice template used when a call's reminder
// names none that exists on the voice channel.
const DefaultVoiceTemplate = "late_voice"

// Steps of a call's conversation; the step travels in the query of the
// <Gather> action URL, which Twilio's signature covers.
const (
	StepIdentity = "identity" // "Press 1 if you are Ana García, 2 if you are not"
	StepMenu     = "menu"     // promise, choose a date, paid, a person, stop
	StepDate     = "date"     // four digits, month then day
	StepConfirm  = "confirm"  // the date read back: 1 confirm, 2 another date
)

// Private intents a spoken or keyed answer can mean inside a call.
const (
	intentYes        nudge.Intent = "voice_yes"
	intentChooseDate nudge.Intent = "voice_choose_date"
)

// VoiceStore is the part of the store the voice webhooks use.
type VoiceStore interface {
	GetAttempt(ctx context.Context, id string) (nudge.Attempt, error)
	UpdateAttempt(ctx context.Context, id string, u nudge.AttemptUpdate) (bool, error)
	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error)
	GetReminder(ctx context.Context, id string) (nudge.Reminder, error)
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	AppendEvent(ctx context.Context, e nudge.Event) error
	Events(ctx context.Context, lender, accountID string) ([]nudge.Event, error)
}

// TwilioVoice serves the webhooks of reminder calls placed by
// channels/twilio.Voice: the call's TwiML (POST VoicePathPrefix + token),
// menu answers (… + "/gather?step=…"), status callbacks (… + "/status")
// and the outcome of a transfer to a person (… + "/dial").
// Every request's X-Twilio-Signature is checked against PublicURL plus the
// path and query with the auth token, and the token must be a live
// link.Voice token naming an existing attempt; a bad signature gets 403, an
// unknown, expired or revoked token 404, and neither changes anything. Logs
// name the route and the masked token, never the path. Every handler is
// idempotent: Twilio may repeat any request.
//
// The conversation is spoken in the borrower's language (the voice template's
// locale, with an Amazon Polly voice and a speech-recognition language that
// fit it): an identity check, the personalised message and a menu taking keys
// or speech (1 promise to pay the full amount by the offered date, 2 choose a
// date, 3 already paid, 4 talk to a person, 9 stop these calls). A key that
// is not an option, or speech that is not understood, is told so and the
// question repeated; a second one (or a second silence) ends the call
// politely. Spoken answers are read as an SMS reply is: "stop texting me"
// revokes texts, "stop contacting me" every channel with a
// cease_communication hold, and a legal threat or complaint goes to a person
// first. A transfer to a person (AgentPhone) dials with an action URL and a
// TransferTimeout; when it does not connect, the borrower is told a person
// will call back, and the outcome is recorded either way. An answering
// machine gets the limited-content voicemail when the profile requires it
// (12 CFR 1006.2(j)): the lender's VoicemailBusinessName (or its name, when
// that does not say it collects debts) and VoicemailCallerName; else the
// template's voicemail.
type TwilioVoice struct {
	AuthToken string
	// PublicURL is the exact base URL Twilio calls, without a trailing slash.
	PublicURL string
	// Links resolves the tokens in the webhook URLs (see VoiceToken).
	Links   *link.Service
	Store   VoiceStore
	Answers web.Answerer
	Pack    *templates.Pack
	// Profile gives the compliance profile of an account (its cadence's).
	Profile func(ctx context.Context, a nudge.Account) (*compliance.Profile, error)
	// TemplateFor names the voice template of a reminder whose own channel
	// is not voice (a fallback step); nil means DefaultVoiceTemplate.
	TemplateFor func(ctx context.Context, r nudge.Reminder, ch nudge.ChannelKind) (string, error)
	// TransferTimeout is how long a transfer to AgentPhone rings before it
	// counts as unanswered (the <Dial> timeout); zero means
	// DefaultTransferTimeout.
	TransferTimeout time.Duration
	Clock           nudge.Clock
	Logger          *slog.Logger
}

// VoiceToken is the token function for twilio.NewVoice: the link.Voice
// token the renderer issued for the message's attempt and left in
// m.Headers[link.VoiceHeader]. It reads the message only, so nothing waits
// on the store between the attempt's sending mark and the call.
func VoiceToken(m *nudge.Message) (string, error) {
	if m.AttemptID == "" {
		return "", errors.New("voice token: the message has no attempt id")
	}
	token := m.Headers[link.VoiceHeader]
	if !link.ValidToken(token) {
		return "", fmt.Errorf("voice token: the message for attempt %s carries no call token", m.AttemptID)
	}
	return token, nil
}

var _ twilio.TokenFunc = VoiceToken

// Register adds the voice webhook routes to s.
func (t *TwilioVoice) Register(s *web.Server) {
	base := "POST " + twilio.VoicePathPrefix + "{token}"
	s.Handle(base, t.verified(t.answer))
	s.Handle(base+twilio.VoiceGatherSuffix, t.verified(t.gather))
	s.Handle(base+twilio.VoiceStatusSuffix, t.verified(t.status))
	s.Handle(base+twilio.VoiceDialSuffix, t.verified(t.dial))
}

// voiceCall is what one webhook request knows about its call.
type voiceCall struct {
	token   string
	sid     string
	att     nudge.Attempt
	form    url.Values
	now     time.Time
	account *nudge.Account
	lender  nudge.Lender
	profile *compliance.Profile
	loc     *time.Location
	today   nudge.Date
	data    templates.Data
	tmpl    string
	locale  string
	format  string
	// heard is what the borrower's speech at this step was read as.
	heard reply.Result
}

// verified parses the form, checks Twilio's signature and the URL's token
// and loads the attempt before h runs.
func (t *TwilioVoice) verified(h func(http.ResponseWriter, *http.Request, *voiceCall)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, web.MaxWebhookBody)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		u := strings.TrimRight(t.PublicURL, "/") + r.URL.RequestURI()
		token := r.PathValue("token")
		if err := twilio.ValidateSignature(t.AuthToken, u, r.PostForm, r.Header.Get(twilio.SignatureHeader)); err != nil {
			t.logger().Warn("twilio voice webhook refused", "route", r.Pattern, "token", link.Mask(token), "err", err)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		now := t.Clock.Now()
		l, err := t.Links.Resolve(r.Context(), token, link.Voice)
		switch {
		case errors.Is(err, link.ErrMalformed), errors.Is(err, link.ErrUnknown), errors.Is(err, link.ErrPurpose), errors.Is(err, link.ErrExpired):
			t.logger().Warn("twilio voice webhook with a bad token", "route", r.Pattern, "token", link.Mask(token), "err", err)
			http.Error(w, "unknown call", http.StatusNotFound)
			return
		case err != nil:
			t.fail(w, "resolving the token", err)
			return
		}
		att, err := t.Store.GetAttempt(r.Context(), l.Attempt)
		if errors.Is(err, nudge.ErrNotFound) || (err == nil && (att.Lender != l.Lender || att.AccountID != l.AccountID || att.Channel != nudge.Voice)) {
			http.Error(w, "unknown call", http.StatusNotFound)
			return
		}
		if err != nil {
			t.fail(w, "loading attempt", err)
			return
		}
		h(w, r, &voiceCall{token: token, sid: r.PostForm.Get("CallSid"), att: att, form: r.PostForm, now: now})
	})
}

// status applies a call status callback; statuses never move backwards.
func (t *TwilioVoice) status(w http.ResponseWriter, r *http.Request, c *voiceCall) {
	ctx := r.Context()
	st := c.form.Get("CallStatus")
	status := twilio.CallStatusFromTwilio(st)
	u := nudge.AttemptUpdate{Status: status, AnsweredBy: c.form.Get("AnsweredBy"), ErrorCode: c.form.Get("ErrorCode"), At: c.now}
	if c.sid != "" {
		u.ProviderID = c.sid
	}
	if status == "" && u.AnsweredBy == "" {
		w.WriteHeader(http.StatusNoContent) // an unknown status: nothing to apply
		return
	}
	changed, err := t.Store.UpdateAttempt(ctx, c.att.ID, u)
	if err != nil {
		t.fail(w, "updating attempt", err)
		return
	}
	if changed {
		detail, _ := json.Marshal(map[string]string{"provider": "twilio", "call_sid": c.sid, "status": st,
			"answered_by": u.AnsweredBy, "duration": c.form.Get("CallDuration"), "error_code": u.ErrorCode})
		if err := t.Store.AppendEvent(ctx, nudge.Event{Lender: c.att.Lender, AccountID: c.att.AccountID, ReminderID: c.att.ReminderID,
			AttemptID: c.att.ID, Kind: nudge.EventCallback, Action: string(status), Detail: detail, At: c.now}); err != nil {
			t.fail(w, "recording callback", err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// answer serves the call's first TwiML: a voicemail for a machine, the
// identity check for a person.
func (t *TwilioVoice) answer(w http.ResponseWriter, r *http.Request, c *voiceCall) {
	ctx := r.Context()
	answeredBy := c.form.Get("AnsweredBy")
	u := nudge.AttemptUpdate{Status: twilio.CallStatusFromTwilio(c.form.Get("CallStatus")), AnsweredBy: answeredBy, ProviderID: c.sid, At: c.now}
	if _, err := t.Store.UpdateAttempt(ctx, c.att.ID, u); err != nil {
		t.fail(w, "updating attempt", err)
		return
	}
	if err := t.load(ctx, c); err != nil {
		t.fail(w, "loading the call", err)
		return
	}
	var verbs []twiml.Element
	switch {
	case answeredBy == "fax":
		verbs = []twiml.Element{&twiml.VoiceHangup{}}
	case strings.HasPrefix(answeredBy, "machine"):
		part := templates.PartVoicemail
		if c.profile.LimitedContentVoicemail {
			part = templates.PartLimitedVoicemail
		}
		parts, err := t.render(c)
		if err != nil {
			t.fail(w, "rendering voicemail", err)
			return
		}
		if err := t.record(ctx, c, "voicemail", map[string]any{"part": part, "answered_by": answeredBy}); err != nil {
			t.fail(w, "recording voicemail", err)
			return
		}
		verbs = []twiml.Element{c.say(parts[part]), &twiml.VoiceHangup{}}
	default:
		parts, err := t.render(c)
		if err != nil {
			t.fail(w, "rendering greeting", err)
			return
		}
		verbs = c.ask(t, StepIdentity, 0, nil, 1, parts[templates.PartGreeting])
	}
	t.writeTwiML(w, verbs)
}

// gather acts on a <Gather> result (or its absence) at the step named in the query.
func (t *TwilioVoice) gather(w http.ResponseWriter, r *http.Request, c *voiceCall) {
	ctx := r.Context()
	q := r.URL.Query()
	step := q.Get("step")
	try, _ := strconv.Atoi(q.Get("try"))
	switch step {
	case StepIdentity, StepMenu, StepDate, StepConfirm:
	default:
		http.Error(w, "unknown step", http.StatusBadRequest)
		return
	}
	if err := t.load(ctx, c); err != nil {
		t.fail(w, "loading the call", err)
		return
	}
	digits, speech := strings.TrimSpace(c.form.Get("Digits")), strings.TrimSpace(c.form.Get("SpeechResult"))
	if digits != "" || speech != "" {
		in := map[string]any{"step": step, "try": try, "digits": digits, "speech": speech, "confidence": c.form.Get("Confidence")}
		if err := t.record(ctx, c, "input", in); err != nil {
			t.fail(w, "recording input", err)
			return
		}
	}
	var (
		verbs []twiml.Element
		err   error
	)
	switch step {
	case StepIdentity:
		verbs, err = t.identity(ctx, c, digits, speech, try)
	case StepMenu:
		verbs, err = t.menu(ctx, c, digits, speech, try)
	case StepDate:
		verbs, err = t.date(ctx, c, digits, speech, try)
	case StepConfirm:
		verbs, err = t.confirm(ctx, c, q, digits, speech, try)
	}
	if err != nil {
		t.fail(w, "answering "+step, err)
		return
	}
	t.writeTwiML(w, verbs)
}

func (t *TwilioVoice) identity(ctx context.Context, c *voiceCall, digits, speech string, try int) ([]twiml.Element, error) {
	intent := c.understand(digits, speech, map[string]reply.MenuOption{
		"1": {Intent: intentYes}, "2": {Intent: nudge.IntentWrongNumber}, "9": {Intent: nudge.IntentOptOut},
	})
	switch intent {
	case intentYes:
		if _, err := t.Store.UpdateAttempt(ctx, c.att.ID, nudge.AttemptUpdate{Conversation: true, At: c.now}); err != nil {
			return nil, fmt.Errorf("recording the conversation: %w", err)
		}
		parts, err := t.render(c)
		if err != nil {
			return nil, err
		}
		return append([]twiml.Element{c.say(parts[templates.PartMessage])}, c.ask(t, StepMenu, 0, nil, 1, parts[templates.PartMenu])...), nil
	case nudge.IntentWrongNumber:
		return t.finish(ctx, c, nudge.IntentWrongNumber, StepIdentity, digits, speech, templates.PartWrongParty)
	case nudge.IntentOptOut:
		return t.finish(ctx, c, nudge.IntentOptOut, StepIdentity, digits, speech, templates.PartConfirmOptOut)
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	return t.retry(ctx, c, StepIdentity, try, nil, 1, parts, parts[templates.PartGreeting], digits, speech)
}

func (t *TwilioVoice) menu(ctx context.Context, c *voiceCall, digits, speech string, try int) ([]twiml.Element, error) {
	res, intent := c.understandFull(digits, speech, map[string]reply.MenuOption{
		"1": {Intent: nudge.IntentPromise, Date: c.data.PromiseDate}, "2": {Intent: intentChooseDate},
		"3": {Intent: nudge.IntentPaid}, "4": {Intent: nudge.IntentTalkToPerson}, "9": {Intent: nudge.IntentOptOut},
	})
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	switch {
	case intent == nudge.IntentPromise && digits == "1":
		return t.finish(ctx, c, nudge.IntentPromise, StepMenu, digits, speech, templates.PartConfirmPromise)
	case intent == nudge.IntentPromise:
		// A spoken promise is read back before it is recorded.
		return t.readBack(c, res.Date, res.Amount)
	case intent == intentYes:
		return t.readBack(c, c.data.PromiseDate, "")
	case intent == intentChooseDate:
		return c.ask(t, StepDate, 0, nil, 4, parts[templates.PartAskDate]), nil
	case intent == nudge.IntentPaid:
		return t.finish(ctx, c, nudge.IntentPaid, StepMenu, digits, speech, templates.PartConfirmPaid)
	case intent == nudge.IntentOptOut:
		return t.finish(ctx, c, nudge.IntentOptOut, StepMenu, digits, speech, templates.PartConfirmOptOut)
	case intent == nudge.IntentWrongNumber:
		return t.finish(ctx, c, nudge.IntentWrongNumber, StepMenu, digits, speech, templates.PartWrongParty)
	case intent == nudge.IntentTalkToPerson:
		return t.transfer(ctx, c, digits, speech, parts)
	}
	return t.retry(ctx, c, StepMenu, try, nil, 1, parts, parts[templates.PartMenu], digits, speech)
}

func (t *TwilioVoice) date(ctx context.Context, c *voiceCall, digits, speech string, try int) ([]twiml.Element, error) {
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	var (
		d      nudge.Date
		amount string
		ok     bool
	)
	switch {
	case digits != "":
		d, ok = keypadDate(digits, c.today)
	case speech != "":
		if d, amount, ok = c.spokenDate(speech); !ok {
			// Not a date: words that revoke consent are honoured here too.
			if c.understandFull("", speech, nil); c.heard.Intent == nudge.IntentOptOut {
				return t.finish(ctx, c, nudge.IntentOptOut, StepDate, digits, speech, templates.PartConfirmOptOut)
			}
		}
	}
	if !ok {
		return t.retry(ctx, c, StepDate, try, nil, 4, parts, parts[templates.PartAskDate], digits, speech)
	}
	if d.DaysSince(c.today) > c.maxDays() {
		p := c.phrases()
		limit, err := c.formatDate(c.today.AddDays(c.maxDays()))
		if err != nil {
			return nil, err
		}
		return append([]twiml.Element{c.say(fmt.Sprintf(p.tooFar, limit))}, c.ask(t, StepDate, try, nil, 4, parts[templates.PartAskDate])...), nil
	}
	return t.readBack(c, d, amount)
}

func (t *TwilioVoice) confirm(ctx context.Context, c *voiceCall, q url.Values, digits, speech string, try int) ([]twiml.Element, error) {
	d, err := nudge.ParseDate(q.Get("date"))
	if err != nil {
		return nil, fmt.Errorf("confirm step: date in the URL: %w", err)
	}
	amount := q.Get("amount")
	intent := c.understand(digits, speech, map[string]reply.MenuOption{
		"1": {Intent: intentYes}, "2": {Intent: intentChooseDate}, "9": {Intent: nudge.IntentOptOut},
	})
	switch intent {
	case intentYes:
		c.data.PromiseDate = d
		if amount != "" {
			c.data.PromiseAmount = amount
		}
		return t.finishPromise(ctx, c, "confirm/"+d.String()+"/"+amount, digits, speech, d, amount)
	case intentChooseDate, "no":
		parts, err := t.render(c)
		if err != nil {
			return nil, err
		}
		return c.ask(t, StepDate, 0, nil, 4, parts[templates.PartAskDate]), nil
	case nudge.IntentOptOut:
		return t.finish(ctx, c, nudge.IntentOptOut, StepConfirm, digits, speech, templates.PartConfirmOptOut)
	}
	extra := url.Values{"date": {d.String()}}
	if amount != "" {
		extra.Set("amount", amount)
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	prompt, err := c.readBackText(d)
	if err != nil {
		return nil, err
	}
	return t.retry(ctx, c, StepConfirm, try, extra, 1, parts, prompt, digits, speech)
}

// readBack asks the borrower to confirm a promise date (and amount).
func (t *TwilioVoice) readBack(c *voiceCall, d nudge.Date, amount string) ([]twiml.Element, error) {
	if amount == c.account.AmountDue {
		amount = ""
	}
	prompt, err := c.readBackText(d)
	if err != nil {
		return nil, err
	}
	extra := url.Values{"date": {d.String()}}
	if amount != "" {
		extra.Set("amount", amount)
	}
	return c.ask(t, StepConfirm, 0, extra, 1, prompt), nil
}

// finish applies a final answer and says its confirmation, then goodbye
// where the part does not end the call itself.
func (t *TwilioVoice) finish(ctx context.Context, c *voiceCall, intent nudge.Intent, step, digits, speech, part string) ([]twiml.Element, error) {
	if intent == nudge.IntentPromise {
		return t.finishPromise(ctx, c, step+"/"+c.data.PromiseDate.String(), digits, speech, c.data.PromiseDate, "")
	}
	if err := t.apply(ctx, c, intent, step+"/"+string(intent), digits, speech, nudge.Date{}, ""); err != nil {
		return nil, err
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	verbs := []twiml.Element{c.say(parts[part])}
	if intent == nudge.IntentOptOut && c.spoke(speech) && len(c.heard.Channels) > 0 && !slices.Contains(c.heard.Channels, nudge.Voice) {
		// "Stop texting me", said on a call: the calls go on, the texts stop.
		verbs = []twiml.Element{c.say(c.phrases().optOutOther), c.say(parts[templates.PartGoodbye])}
	}
	if part == templates.PartConfirmPaid {
		verbs = append(verbs, c.say(parts[templates.PartGoodbye]))
	}
	return append(verbs, &twiml.VoiceHangup{}), nil
}

func (t *TwilioVoice) finishPromise(ctx context.Context, c *voiceCall, key, digits, speech string, d nudge.Date, amount string) ([]twiml.Element, error) {
	if err := t.apply(ctx, c, nudge.IntentPromise, key, digits, speech, d, amount); err != nil {
		return nil, err
	}
	c.data.PromiseDate = d
	if amount != "" {
		c.data.PromiseAmount = amount
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	return []twiml.Element{c.say(parts[templates.PartConfirmPromise]), c.say(parts[templates.PartGoodbye]), &twiml.VoiceHangup{}}, nil
}

// apply hands an answer to Answers, keyed by the call and step so a
// repeated webhook applies it once.
func (t *TwilioVoice) apply(ctx context.Context, c *voiceCall, intent nudge.Intent, key, digits, speech string, d nudge.Date, amount string) error {
	body, source := digits, response.SourceVoiceKeypad
	if body == "" {
		body, source = speech, response.SourceVoiceSpeech
	}
	a := response.Answer{
		Account: *c.account, Channel: nudge.Voice, Address: c.att.Address, Intent: intent, Date: d, Amount: amount,
		ProviderID: c.callKey() + "/" + key, Body: body, Source: source,
	}
	if c.spoke(speech) {
		// As the SMS webhook does for a text: what the words revoke and what
		// a person must see first.
		a.Flags = c.heard.Flags
		if intent == nudge.IntentOptOut {
			a.Channels = c.heard.Channels
		}
	}
	_, err := t.Answers.Apply(ctx, a)
	if err != nil {
		return fmt.Errorf("applying %s: %w", intent, err)
	}
	return nil
}

// retry answers no input, or an answer that is not an option at step (a
// key the step does not offer, speech not understood, a date that is not
// one): it says which, and asks again once; the second time it says goodbye
// and hangs up. Speech that was not understood but that a person must see
// (a legal threat, a complaint) is left for a person first.
func (t *TwilioVoice) retry(ctx context.Context, c *voiceCall, step string, try int, extra url.Values, nDigits int, parts map[string]string, prompt, digits, speech string) ([]twiml.Element, error) {
	first := c.say(parts[templates.PartNoInput])
	if digits != "" || speech != "" {
		p := c.phrases()
		first = c.say(p.notOption)
		if step == StepDate {
			first = c.say(p.notDate)
		}
	}
	if c.spoke(speech) && c.heard.Flags.Review() != "" {
		if err := t.apply(ctx, c, nudge.IntentUnknown, fmt.Sprintf("%s/%d/review", step, try), digits, speech, nudge.Date{}, ""); err != nil {
			return nil, err
		}
	}
	if try >= 1 {
		return []twiml.Element{first, c.say(parts[templates.PartGoodbye]), &twiml.VoiceHangup{}}, nil
	}
	return append([]twiml.Element{first}, c.ask(t, step, 1, extra, nDigits, prompt)...), nil
}

// ask is a <Gather> of keys or speech around prompt, followed by a
// <Redirect> to the same step, which Twilio follows when nothing was said.
func (c *voiceCall) ask(t *TwilioVoice, step string, try int, extra url.Values, digits int, prompt string) []twiml.Element {
	q := url.Values{"step": {step}}
	if try > 0 {
		q.Set("try", strconv.Itoa(try))
	}
	for k, v := range extra {
		q[k] = v
	}
	action := twilio.VoiceGatherURL(t.PublicURL, c.token) + "?" + q.Encode()
	return []twiml.Element{
		&twiml.VoiceGather{
			Input: "dtmf speech", Action: action, Method: http.MethodPost, NumDigits: strconv.Itoa(digits),
			Timeout: "6", SpeechTimeout: "auto", Language: c.speechLanguage(),
			InnerElements: []twiml.Element{c.say(prompt)},
		},
		&twiml.VoiceRedirect{Url: action, Method: http.MethodPost},
	}
}

// load reads the account, lender and profile of the call and prepares the
// template data.
func (t *TwilioVoice) load(ctx context.Context, c *voiceCall) error {
	acct, err := t.Store.GetAccount(ctx, c.att.Lender, c.att.AccountID)
	if err != nil {
		return fmt.Errorf("loading account %s/%s: %w", c.att.Lender, c.att.AccountID, err)
	}
	c.account = &acct
	if c.lender, err = t.Store.GetLender(ctx, acct.Lender); err != nil && !errors.Is(err, nudge.ErrNotFound) {
		return fmt.Errorf("loading lender %s: %w", acct.Lender, err)
	}
	if c.profile, err = t.Profile(ctx, acct); err != nil {
		return fmt.Errorf("profile of account %s/%s: %w", acct.Lender, acct.ID, err)
	}
	c.loc = compliance.PrimaryLocationOf(acct, c.profile)
	c.today = nudge.DateOf(c.now.In(c.loc))
	name := c.lender.Name
	if name == "" {
		name = acct.Lender
	}
	c.data = templates.DataFor(acct, name, c.today)
	c.data.HelpPhone, c.data.AgentPhone = c.lender.HelpPhone, c.lender.AgentPhone
	c.data.BusinessName, c.data.CallerName = VoicemailBusinessName(c.lender), c.lender.VoicemailCallerName
	if limit := c.today.AddDays(c.maxDays()); c.data.PromiseDate.After(limit) {
		c.data.PromiseDate = limit
	}
	c.data.Disclosure = c.profile.Collector == compliance.ThirdParty
	if c.data.Disclosure {
		hist, err := t.Store.AttemptHistory(ctx, acct.Lender, acct.ID, time.Time{})
		if err != nil {
			return fmt.Errorf("loading history: %w", err)
		}
		c.data.FirstContact = true
		for _, h := range hist {
			if h.ID != c.att.ID && h.ProviderID != "" && h.CreatedAt.Before(c.att.CreatedAt) {
				c.data.FirstContact = false
			}
		}
	}
	c.tmpl, err = t.template(ctx, c.att)
	return err
}

// template names the voice template of the attempt's reminder.
func (t *TwilioVoice) template(ctx context.Context, att nudge.Attempt) (string, error) {
	if att.ReminderID == "" {
		return DefaultVoiceTemplate, nil
	}
	r, err := t.Store.GetReminder(ctx, att.ReminderID)
	if errors.Is(err, nudge.ErrNotFound) {
		return DefaultVoiceTemplate, nil
	}
	if err != nil {
		return "", fmt.Errorf("loading reminder %s: %w", att.ReminderID, err)
	}
	name := r.Template
	if r.Channel != nudge.Voice && t.TemplateFor != nil {
		if name, err = t.TemplateFor(ctx, r, nudge.Voice); err != nil {
			return "", err
		}
	}
	if name == "" || !t.Pack.Has(name, nudge.Voice) {
		return DefaultVoiceTemplate, nil
	}
	return name, nil
}

// render renders every part of the call's voice template with its data.
func (t *TwilioVoice) render(c *voiceCall) (map[string]string, error) {
	out, err := t.Pack.Render(c.tmpl, nudge.Voice, templates.Locales(c.account.Borrower.Language, c.lender.Language), c.data)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", c.tmpl, err)
	}
	c.locale, c.format = out.Locale, out.FormatLocale
	return out.Parts, nil
}

// record appends an event about the call once per call and key.
func (t *TwilioVoice) record(ctx context.Context, c *voiceCall, action string, detail map[string]any) error {
	key := c.callKey() + "/" + action
	for _, k := range []string{"step", "try", "digits", "speech"} {
		if v, ok := detail[k]; ok {
			key += fmt.Sprintf("/%v", v)
		}
	}
	events, err := t.Store.Events(ctx, c.att.Lender, c.att.AccountID)
	if err != nil {
		return fmt.Errorf("loading events: %w", err)
	}
	for _, e := range events {
		if e.AttemptID != c.att.ID || e.Kind != nudge.EventCallback || e.Action != action {
			continue
		}
		var d struct {
			Key string `json:"key"`
		}
		if json.Unmarshal(e.Detail, &d) == nil && d.Key == key {
			return nil // a repeated webhook
		}
	}
	detail["key"] = key
	detail["call_sid"] = c.sid
	b, _ := json.Marshal(detail)
	return t.Store.AppendEvent(ctx, nudge.Event{Lender: c.att.Lender, AccountID: c.att.AccountID, ReminderID: c.att.ReminderID,
		AttemptID: c.att.ID, Kind: nudge.EventCallback, Action: action, Detail: b, At: c.now})
}

// spoke reports whether the answer at this step was speech (not keys) that
// was read with package reply.
func (c *voiceCall) spoke(speech string) bool {
	return speech != "" && c.form.Get("Digits") == ""
}

func (c *voiceCall) callKey() string {
	if c.sid != "" {
		return c.sid
	}
	return c.att.ID
}

func (c *voiceCall) maxDays() int {
	if c.profile == nil || c.profile.MaxPromiseDays <= 0 {
		return reply.DefaultMaxPromiseDays
	}
	return c.profile.MaxPromiseDays
}

// understand maps keys or speech at a step onto an intent, with menu giving
// the step's keys. Speech is read with package reply; "yes" and "no" words
// are recognised first (reply would take a lone YES as an opt-in keyword).
func (c *voiceCall) understand(digits, speech string, menu map[string]reply.MenuOption) nudge.Intent {
	_, intent := c.understandFull(digits, speech, menu)
	return intent
}

func (c *voiceCall) understandFull(digits, speech string, menu map[string]reply.MenuOption) (reply.Result, nudge.Intent) {
	if digits != "" {
		opt, ok := menu[digits]
		if !ok {
			return reply.Result{}, ""
		}
		return reply.Result{Intent: opt.Intent, Date: opt.Date}, opt.Intent
	}
	if speech == "" {
		return reply.Result{}, ""
	}
	res, intent := c.understandSpeech(speech, menu)
	c.heard = res
	return res, intent
}

func (c *voiceCall) understandSpeech(speech string, menu map[string]reply.MenuOption) (reply.Result, nudge.Intent) {
	switch yesNo(speech) {
	case "yes":
		return reply.Result{}, intentYes
	case "no":
		if _, ok := menu["2"]; ok && menu["2"].Intent == nudge.IntentWrongNumber {
			return reply.Result{}, nudge.IntentWrongNumber // "no" at the identity check
		}
		return reply.Result{}, "no"
	}
	res := reply.Parse(speech, c.replyContext(menu))
	switch res.Intent {
	case nudge.IntentUnknown, nudge.IntentHelp, nudge.IntentOptIn:
		return res, ""
	case nudge.IntentPromise:
		if res.Past || res.TooFar || res.Date.IsZero() {
			return res, ""
		}
	}
	return res, res.Intent
}

func (c *voiceCall) replyContext(menu map[string]reply.MenuOption) reply.Context {
	rc := reply.Context{
		Now: c.now, Location: c.loc, Language: c.account.Borrower.Language, AmountDue: c.account.AmountDue,
		Currency: c.account.Currency, MaxPromiseDays: c.maxDays(), Menu: menu, Channel: nudge.Voice,
	}
	if c.account.Address != nil {
		rc.Country = c.account.Address.Country
	}
	return rc
}

// spokenDate reads a date said at the date step ("December 5th", "mañana",
// "12月5日"), as a promise in the borrower's language.
func (c *voiceCall) spokenDate(speech string) (nudge.Date, string, bool) {
	rc := c.replyContext(nil)
	for _, text := range []string{speech, "I will pay " + speech, "pagaré " + speech, "我" + speech + "还款"} {
		res := reply.Parse(text, rc)
		if res.Intent == nudge.IntentPromise && !res.Date.IsZero() {
			return res.Date, res.Amount, true
		}
	}
	return nudge.Date{}, "", false
}

// keypadDate reads four keys, month then day, as the next such date on or
// after today.
func keypadDate(digits string, today nudge.Date) (nudge.Date, bool) {
	if len(digits) != 4 {
		return nudge.Date{}, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return nudge.Date{}, false
	}
	month, day := n/100, n%100
	for _, year := range []int{today.Year, today.Year + 1} {
		t := time.Date(year, time.Month(month), day, 12, 0, 0, 0, time.UTC)
		if t.Month() != time.Month(month) || t.Day() != day || month < 1 || month > 12 {
			continue // 0230, 1301: no such date (in this year)
		}
		if d := nudge.DateOf(t); !d.Before(today) {
			return d, true
		}
	}
	return nudge.Date{}, false
}

var (
	yesWords = map[string]bool{
		"yes": true, "yeah": true, "yep": true, "yup": true, "sure": true, "ok": true, "okay": true, "correct": true,
		"right": true, "that's me": true, "thats me": true, "it's me": true, "its me": true, "speaking": true, "yes it is": true, "i am": true,
		"yes please": true, "yes that's me": true, "sí": true, "si": true, "claro": true, "correcto": true, "soy yo": true, "así es": true,
		"sí soy yo": true, "si soy yo": true, "是": true, "是的": true, "是我": true, "对": true, "对的": true, "好": true,
		"好的": true, "可以": true, "本人": true, "我是": true, "嗯": true,
	}
	noWords = map[string]bool{
		"no": true, "nope": true, "nah": true, "no thanks": true, "no gracias": true, "不": true, "不是": true, "不对": true, "不要": true,
	}
)

// yesNo reports whether speech is a plain yes or no ("Yes.", "sí", "是的").
func yesNo(speech string) string {
	s := strings.ToLower(strings.TrimFunc(strings.TrimSpace(speech), func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r)
	}))
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == ',' || r == '，' || r == '。' || r == '!' || r == '！' {
			return ' '
		}
		return r
	}, s)), " ")
	switch {
	case yesWords[s]:
		return "yes"
	case noWords[s]:
		return "no"
	}
	return ""
}

// voicePhrases are the few sentences of a call that are not parts of the
// voice template; a locale without its own uses English.
type voicePhrases struct {
	readBack string // %s is the date
	tooFar   string // %s is the latest date accepted
	transfer string
	callback string
	// notOption answers a key the step does not offer or speech not understood.
	notOption string
	// notDate answers keys or words that are not a date.
	notDate string
	// notConnected says a transfer to a person did not go through.
	notConnected string
	// optOutOther confirms an opt-out, said on a call, of other channels only.
	optOutOther string
}

var phrases = map[string]voicePhrases{
	"en": {
		readBack:     "You entered %s. To confirm, press 1. To enter another date, press 2.",
		tooFar:       "Sorry, we can only accept a date up to %s.",
		transfer:     "Please hold while we connect you with a member of our team.",
		callback:     "A member of our team will call you back soon.",
		notOption:    "Sorry, that is not one of the options.",
		notDate:      "Sorry, that is not a date we can accept.",
		notConnected: "Sorry, nobody from our team is available right now.",
		optOutOther:  "Thank you. We have noted your request and will stop contacting you that way.",
	},
	"es": {
		readBack:     "Usted indicó el %s. Para confirmar, marque 1. Para indicar otra fecha, marque 2.",
		tooFar:       "Lo sentimos, solo podemos aceptar una fecha hasta el %s.",
		transfer:     "Por favor, espere mientras le comunicamos con un miembro de nuestro equipo.",
		callback:     "Un miembro de nuestro equipo le devolverá la llamada pronto.",
		notOption:    "Lo sentimos, esa no es una de las opciones.",
		notDate:      "Lo sentimos, esa no es una fecha que podamos aceptar.",
		notConnected: "Lo sentimos, en este momento no hay nadie de nuestro equipo disponible.",
		optOutOther:  "Gracias. Hemos anotado su solicitud y dejaremos de contactarle por ese medio.",
	},
	"zh-CN": {
		readBack:     "您输入的日期是%s。确认请按1，重新输入请按2。",
		tooFar:       "抱歉，我们只能接受%s之前的日期。",
		transfer:     "请稍候，我们正在为您转接工作人员。",
		callback:     "我们的工作人员会尽快给您回电。",
		notOption:    "抱歉，没有这个选项。",
		notDate:      "抱歉，这不是我们可以接受的日期。",
		notConnected: "抱歉，我们的工作人员暂时无法接听。",
		optOutOther:  "谢谢。我们已记录您的要求，将不再通过该方式联系您。",
	},
}

func (c *voiceCall) phrases() voicePhrases {
	if p, ok := phrases[c.locale]; ok {
		return p
	}
	return phrases["en"]
}

func (c *voiceCall) readBackText(d nudge.Date) (string, error) {
	s, err := c.formatDate(d)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(c.phrases().readBack, s), nil
}

func (c *voiceCall) formatDate(d nudge.Date) (string, error) {
	tag := c.format
	if tag == "" {
		tag = templates.FallbackLocale
	}
	f, err := templates.NewFormatter(tag)
	if err != nil {
		return "", err
	}
	s, err := f.Date(d)
	if err != nil {
		return "", err
	}
	return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s), nil
}

// voiceFor is the Polly voice and Say language per locale tag; speech is the
// Gather language.
type voiceFor struct{ voice, say, speech string }

var voices = map[string]voiceFor{
	"en":    {"Polly.Joanna", "en-US", "en-US"},
	"en-US": {"Polly.Joanna", "en-US", "en-US"},
	"en-GB": {"Polly.Amy", "en-GB", "en-GB"},
	"es":    {"Polly.Lupe", "es-US", "es-US"},
	"es-US": {"Polly.Lupe", "es-US", "es-US"},
	"es-MX": {"Polly.Mia", "es-MX", "es-MX"},
	"es-ES": {"Polly.Lucia", "es-ES", "es-ES"},
	"zh-CN": {"Polly.Zhiyu", "cmn-CN", "cmn-Hans-CN"},
}

func (c *voiceCall) voice() voiceFor {
	for _, k := range []string{c.format, c.locale} {
		if v, ok := voices[k]; ok {
			return v
		}
	}
	if strings.HasPrefix(c.locale, "zh") {
		return voices["zh-CN"]
	}
	if base, _, _ := strings.Cut(c.locale, "-"); base != "" {
		if v, ok := voices[base]; ok {
			return v
		}
	}
	return voices["en"]
}

func (c *voiceCall) speechLanguage() string { return c.voice().speech }

func (c *voiceCall) say(text string) *twiml.VoiceSay {
	v := c.voice()
	return &twiml.VoiceSay{Message: strings.TrimSpace(text), Voice: v.voice, Language: v.say}
}

// writeTwiML answers with the verbs as a TwiML document whose attributes are
// sorted, so the same answer is the same bytes.
func (t *TwilioVoice) writeTwiML(w http.ResponseWriter, verbs []twiml.Element) {
	doc, resp := twiml.CreateDocument()
	twiml.AddAllVerbs(resp, verbs)
	sortAttrs(resp)
	doc.Indent(2)
	body, err := twiml.ToXML(doc)
	if err != nil {
		t.fail(w, "writing TwiML", err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func sortAttrs(e *etree.Element) {
	e.SortAttrs()
	for _, c := range e.ChildElements() {
		sortAttrs(c)
	}
}

func (t *TwilioVoice) fail(w http.ResponseWriter, what string, err error) {
	t.logger().Error("twilio voice webhook failed", "step", what, "err", err)
	http.Error(w, "temporary failure", http.StatusInternalServerError)
}

func (t *TwilioVoice) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}
