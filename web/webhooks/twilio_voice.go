package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/twilio/twilio-go/twiml"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/reply"
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
	// RecordOutcomes writes an attempt's update and its events in one
	// transaction (nudge.Outcome).
	RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult
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
	// AccountTokens are the auth tokens of the subaccounts pool caller IDs
	// call through, by account SID (twilio.Config.AccountTokens): a
	// webhook whose AccountSid names one is checked with its token.
	AccountTokens map[string]string
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

	// outcomes writes concurrent status callbacks in shared transactions.
	outcomes outcomeBatch
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
		if err := twilio.ValidateSignature(twilio.TokenFor(t.AccountTokens, t.AuthToken, r.PostForm), u, r.PostForm, r.Header.Get(twilio.SignatureHeader)); err != nil {
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
	// CallDuration (seconds) comes with the final status; KPIs price it.
	if secs, err := strconv.Atoi(c.form.Get("CallDuration")); err == nil && secs > 0 {
		u.CallSeconds = secs
	}
	if c.sid != "" {
		u.ProviderID = c.sid
	}
	if status == "" && u.AnsweredBy == "" {
		w.WriteHeader(http.StatusNoContent) // an unknown status: nothing to apply
		return
	}
	// The attempt's update and its callback event are one outcome, written
	// only when the update changed something (a repeated callback records
	// nothing twice), and committed with the other status callbacks that
	// arrive meanwhile before Twilio is answered.
	detail, _ := json.Marshal(map[string]string{"provider": "twilio", "call_sid": c.sid, "status": st,
		"answered_by": u.AnsweredBy, "duration": c.form.Get("CallDuration"), "error_code": u.ErrorCode})
	res := t.outcomes.do(ctx, t.Store.RecordOutcomes, nudge.Outcome{AttemptID: c.att.ID, Attempt: u, EventsIfChanged: true,
		Events: []nudge.Event{{Lender: c.att.Lender, AccountID: c.att.AccountID, ReminderID: c.att.ReminderID,
			AttemptID: c.att.ID, Kind: nudge.EventCallback, Action: string(status), Detail: detail, At: c.now}}})
	if err := res.Err; err != nil {
		t.fail(w, "updating attempt", err)
		return
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
	c.data.Disclosure = c.profile.Discloses()
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
