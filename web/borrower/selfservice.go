package borrower

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/reply"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
)

// SelfServicePath is the route of borrowers' self-service links; the token
// follows it. The renderer builds the same path from the public URL.
const SelfServicePath = dispatcher.SelfServicePath

// Self-service page limits.
const (
	// DefaultFormTTL is how long a rendered form's CSRF token is accepted.
	DefaultFormTTL = 12 * time.Hour
	// MaxPromiseFactor bounds a promised amount: at most this many times the
	// amount due.
	MaxPromiseFactor = 10
)

// Actions of the self-service forms.
const (
	ActionPromise = "promise"
	ActionPaid    = "paid"
	ActionStop    = "stop"
)

//go:embed templates/selfservice.html
var ssFS embed.FS

var ssPage = template.Must(template.ParseFS(ssFS, "templates/selfservice.html"))

// SelfServiceStore is the part of the store the self-service page reads;
// every write goes through Answers.
type SelfServiceStore interface {
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
	IsOptedOut(ctx context.Context, lender string, channel nudge.ChannelKind, address string) (bool, error)
}

// SelfService serves the borrower's self-service page at /p/{token}, the
// expiring link (link.SelfService) carried by reminders: the token is an
// opaque key the store maps to the lender, account, channel and address,
// and nothing else is in the URL. GET shows
// the amount due and the due date in the borrower's language, a "Pay now"
// button first when the lender has a payment link (nudge.Lender.PaymentURL,
// rendered for the account and what it owes next, each value
// percent-encoded), and the forms: pay in instalments (when the lender's
// plan rules offer a plan for the amount due: the borrower picks a number
// of payments and a first date, sees every date and amount, and confirms;
// see selfservice_plan.go), promise to pay (a date from today to the profile's MaxPromiseDays
// ahead in the borrower's zone, an amount above zero and at most
// MaxPromiseFactor times the amount due, in the currency's digits), "I
// already paid", and stop reminders on the link's channel and address or on
// the account's other contacts. POST records the choice through Answers
// (response.SourceWeb) and shows what was recorded.
//
// A return visit shows where the account stands instead of the same
// choices: "we are checking your payment" after "I already paid" (the
// payment_claimed hold), the promise made, or the plan with each
// instalment's status (paid, due, missed); the plan and promise forms come
// back only when nothing is pending (a plan with a missed payment offers
// them again). Stopping reminders is always offered.
//
// The page works without JavaScript and is served with headers that forbid
// scripts, framing, caching and referrers. Each form carries a nonce (the
// answer's idempotency key, so a resubmitted form changes nothing more) and
// a CSRF token binding the page token, the action and the nonce, signed
// with a key derived from the deployment's secret and valid for FormTTL: a
// POST without a valid one gets 403 and changes nothing. A truncated or
// altered link gets 400; an expired one 410 with the lender's number; an
// unknown one, or one revoked by erasure, 410 as an expired one does but
// naming no lender. None changes anything. Logs name a link by its masked
// token (link.Mask), never in full.
type SelfService struct {
	Links   *link.Service
	Store   SelfServiceStore
	Answers web.Answerer
	// Profile gives the compliance profile of an account (its cadence's):
	// its MaxPromiseDays bounds promises and its zones place "today". Nil
	// means the account's stated zone (else UTC) and
	// reply.DefaultMaxPromiseDays.
	Profile func(ctx context.Context, a nudge.Account) (*compliance.Profile, error)
	Clock   nudge.Clock
	Logger  *slog.Logger
	// FormTTL is DefaultFormTTL when zero.
	FormTTL time.Duration
}

// Register adds GET and POST /p/{token} to s.
func (p *SelfService) Register(s *web.Server) {
	s.Handle("GET "+SelfServicePath+"{token}", http.HandlerFunc(p.show))
	s.Handle("POST "+SelfServicePath+"{token}", http.HandlerFunc(p.post))
}

// ssStop is one contact the borrower may stop.
type ssStop struct {
	Value   string
	Label   string
	Checked bool
	Done    bool
	channel nudge.ChannelKind
	address string
}

// ssView is what the page template sees.
type ssView struct {
	Lang    string
	T       ssText
	State   string // page, invalid, expired, forbidden, error
	Heading string
	Message string
	Help    string

	Active      bool
	P           ssPayText
	PayURL      string
	PayNote     string
	Checking    bool
	Open        bool
	Plan        *ssPlanView
	Offer       *ssPlanOffer
	PlanPreview *ssPlanView
	AmountDue   string
	DueDate     string
	Promise     string
	Notice      string
	Errors      map[string]string
	Date        string
	Amount      string
	MinDate     string
	MaxDate     string
	DateHint    string
	AmountLabel string
	AmountHint  string
	Nonce       string
	CSRF        map[string]string
	Stops       []ssStop
	CanStop     bool
}

// ssRequest is one request about a valid link.
type ssRequest struct {
	token   string
	link    link.Link
	acct    nudge.Account
	lender  nudge.Lender
	profile *compliance.Profile
	now     time.Time
	today   nudge.Date
	last    nudge.Date
	lang    string
	t       ssText
	p       ssPayText
	f       *templates.Formatter
}

func (p *SelfService) show(w http.ResponseWriter, r *http.Request) {
	q, ok := p.load(w, r)
	if !ok {
		return
	}
	v, err := p.view(r.Context(), q)
	if err != nil {
		p.fail(w, r, q, "rendering the page", err)
		return
	}
	p.write(w, http.StatusOK, v)
}

func (p *SelfService) post(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxSelfServiceBody)
	q, ok := p.load(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		p.message(w, http.StatusBadRequest, q.lang, "forbidden", q.t.ForbiddenTitle, q.t.Forbidden, p.help(q))
		return
	}
	action, nonce := r.PostForm.Get("action"), r.PostForm.Get("nonce")
	if !p.checkCSRF(q, action, nonce, r.PostForm.Get("csrf")) {
		p.logger().Warn("self-service form refused: bad CSRF token", "lender", q.link.Lender, "account", q.link.AccountID, "action", action)
		p.message(w, http.StatusForbidden, q.lang, "forbidden", q.t.ForbiddenTitle, q.t.Forbidden, p.help(q))
		return
	}
	ctx := r.Context()
	v, err := p.view(ctx, q)
	if err != nil {
		p.fail(w, r, q, "rendering the page", err)
		return
	}
	code := http.StatusBadRequest
	switch action {
	case ActionPromise:
		code, err = p.promise(ctx, q, nonce, r, &v)
	case ActionPaid:
		code, err = p.paid(ctx, q, nonce, &v)
	case ActionStop:
		code, err = p.stop(ctx, q, nonce, r, &v)
	case ActionPlanPreview:
		code = p.planPreview(q, r, &v)
	case ActionPlan:
		code, err = p.plan(ctx, q, nonce, r, &v)
	}
	if err != nil {
		p.fail(w, r, q, "recording "+action, err)
		return
	}
	if code == http.StatusOK && action != ActionPlanPreview {
		// Show the page as it now stands, with the confirmation.
		notice := v.Notice
		if v, err = p.view(ctx, q); err != nil {
			p.fail(w, r, q, "rendering the page", err)
			return
		}
		v.Notice = notice
	}
	p.write(w, code, v)
}

// load verifies the link and loads the account, lender and profile; on
// failure it has answered with a friendly page.
func (p *SelfService) load(w http.ResponseWriter, r *http.Request) (*ssRequest, bool) {
	ctx := r.Context()
	now := p.Clock.Now()
	token := r.PathValue("token")
	l, err := p.Links.Resolve(ctx, token, link.SelfService)
	lang := matchUnsubLocale(nil, r.Header.Get("Accept-Language"))
	if err == nil && (l.Lender == "" || l.AccountID == "" || l.Address == "" || !l.Channel.Valid()) {
		err = fmt.Errorf("%w: the token lacks a lender, account, channel or address", link.ErrUnknown)
	}
	switch {
	case errors.Is(err, link.ErrExpired):
		// A genuine link past its time: say so in the borrower's language
		// and give the lender's number, but show nothing of the account.
		q := &ssRequest{link: l, now: now}
		p.locate(ctx, r, q)
		p.logger().Info("self-service link expired", "lender", l.Lender, "account", l.AccountID, "token", link.Mask(token))
		p.message(w, http.StatusGone, q.lang, "expired", q.t.ExpiredTitle, q.t.Expired, p.help(q))
		return nil, false
	case errors.Is(err, link.ErrUnknown), errors.Is(err, link.ErrPurpose):
		// Unknown, or revoked by an erasure: it answers as an expired link
		// does, without a lender to name.
		p.logger().Info("self-service link unknown", "method", r.Method, "token", link.Mask(token), "err", err)
		t := ssTexts[lang]
		p.message(w, http.StatusGone, lang, "expired", t.ExpiredTitle, t.Expired, "")
		return nil, false
	case errors.Is(err, link.ErrMalformed):
		p.logger().Warn("self-service link refused", "method", r.Method, "token", link.Mask(token), "err", err)
		t := ssTexts[lang]
		p.message(w, http.StatusBadRequest, lang, "invalid", t.InvalidTitle, t.Invalid, "")
		return nil, false
	case err != nil:
		p.fail(w, r, &ssRequest{lang: lang, t: ssTexts[lang]}, "resolving the link", err)
		return nil, false
	}
	q := &ssRequest{token: token, link: l, now: now}
	q.acct, err = p.Store.GetAccount(ctx, l.Lender, l.AccountID)
	if errors.Is(err, nudge.ErrNotFound) {
		p.logger().Warn("self-service link names no account", "lender", l.Lender, "account", l.AccountID)
		t := ssTexts[lang]
		p.message(w, http.StatusGone, lang, "expired", t.ExpiredTitle, t.Expired, "")
		return nil, false
	}
	if err != nil {
		p.fail(w, r, &ssRequest{lang: lang, t: ssTexts[lang]}, "loading the account", err)
		return nil, false
	}
	p.locate(ctx, r, q)
	if p.Profile != nil {
		if q.profile, err = p.Profile(ctx, q.acct); err != nil {
			p.fail(w, r, q, "loading the profile", err)
			return nil, false
		}
	}
	q.today = nudge.DateOf(now.In(compliance.PrimaryLocationOf(q.acct, q.profile)))
	days := reply.DefaultMaxPromiseDays
	if q.profile != nil && q.profile.MaxPromiseDays > 0 {
		days = q.profile.MaxPromiseDays
	}
	q.last = q.today.AddDays(days)
	return q, true
}

// locate loads the lender and picks the language (the borrower's, the
// lender's, the browser's, then English) and the formatter.
func (p *SelfService) locate(ctx context.Context, r *http.Request, q *ssRequest) {
	var prefs []string
	if q.acct.ID != "" {
		prefs = append(prefs, q.acct.Borrower.Language)
	}
	lender, err := p.Store.GetLender(ctx, q.link.Lender)
	switch {
	case err == nil:
		q.lender = lender
		prefs = append(prefs, lender.Language)
	case !errors.Is(err, nudge.ErrNotFound):
		p.logger().Warn("self-service page: loading lender", "lender", q.link.Lender, "err", err)
	}
	if q.lender.Name == "" {
		q.lender.Name = q.link.Lender
	}
	q.lang = matchUnsubLocale(prefs, r.Header.Get("Accept-Language"))
	q.t, q.p = ssTexts[q.lang], ssPayTexts[q.lang]
	tag := q.lang
	if q.acct.Address != nil && q.acct.Address.Country != "" && !strings.Contains(tag, "-") {
		tag += "-" + q.acct.Address.Country
	}
	f, err := templates.NewFormatter(tag)
	if err != nil {
		f, _ = templates.NewFormatter(q.lang)
	}
	q.f = f
}

// view builds the page for a valid link.
func (p *SelfService) view(ctx context.Context, q *ssRequest) (ssView, error) {
	a := q.acct
	v := ssView{Lang: q.lang, T: q.t, State: "page", Heading: fmt.Sprintf(q.t.Title, q.lender.Name), Help: p.help(q),
		Active: a.Status == nudge.StatusActive}
	var err error
	if v.AmountDue, err = q.f.Money(a.AmountDue, a.Currency); err != nil {
		v.AmountDue = a.AmountDue + " " + a.Currency
	}
	if v.DueDate, err = q.f.Date(a.DueDate); err != nil {
		v.DueDate = a.DueDate.String()
	}
	v.P = q.p
	ps, err := p.Store.ListPromises(ctx, a.Lender, a.ID)
	if err != nil {
		return v, fmt.Errorf("promises: %w", err)
	}
	var active *nudge.Promise
	if pr, ok := nudge.ActivePromise(ps); ok {
		active = &pr
	}
	plan, broken := p.currentPlan(q, ps)
	switch {
	case active != nil && active.PlanID != "":
		plan.Note = q.p.PlanActive
	case active != nil:
		money, merr := q.f.Money(active.Amount, a.Currency)
		day, derr := q.f.Date(active.Due)
		if merr == nil && derr == nil {
			v.Promise = fmt.Sprintf(q.t.PromiseActive, money, day)
		}
	case plan != nil && broken:
		plan.Note = q.p.PlanBroken
	}
	v.Plan = plan
	v.Checking = v.Active && a.HasHold(nudge.HoldPaymentClaimed)
	v.Open = v.Active && !v.Checking && active == nil
	if v.Active && !v.Checking {
		if v.PayURL = payURL(q, active); v.PayURL != "" {
			v.PayNote = fmt.Sprintf(q.p.PayNote, q.lender.Name)
		}
		v.Offer = p.offer(q, 0, "")
	}
	first, _ := q.f.Date(q.today)
	last, _ := q.f.Date(q.last)
	v.MinDate, v.MaxDate = q.today.String(), q.last.String()
	v.DateHint = fmt.Sprintf(q.t.DateHint, first, last)
	v.AmountLabel = fmt.Sprintf(q.t.AmountLabel, a.Currency)
	_, maxText := p.maxAmount(q)
	v.AmountHint = fmt.Sprintf(q.t.AmountHint, maxText)
	v.Amount = a.AmountDue
	if v.Nonce, err = newFormNonce(); err != nil {
		return v, err
	}
	v.CSRF = map[string]string{}
	for _, action := range []string{ActionPromise, ActionPaid, ActionStop, ActionPlanPreview, ActionPlan} {
		v.CSRF[action] = p.csrfToken(q, action, v.Nonce)
	}
	if v.Stops, err = p.stops(ctx, q); err != nil {
		return v, err
	}
	for _, s := range v.Stops {
		v.CanStop = v.CanStop || !s.Done
	}
	return v, nil
}

// stops lists the contacts the borrower may stop: the link's own first
// (checked), then the account's other usable contacts; each says whether it
// is already stopped.
func (p *SelfService) stops(ctx context.Context, q *ssRequest) ([]ssStop, error) {
	type key struct {
		ch   nudge.ChannelKind
		addr string
	}
	seen := map[key]bool{}
	var out []ssStop
	add := func(value string, ch nudge.ChannelKind, addr string, checked bool) error {
		k := key{ch, strings.ToLower(strings.TrimSpace(addr))}
		if seen[k] {
			return nil
		}
		seen[k] = true
		done, err := p.Store.IsOptedOut(ctx, q.link.Lender, ch, addr)
		if err != nil {
			return fmt.Errorf("opt-out of %s: %w", ch, err)
		}
		format := q.t.StopSMS
		switch ch {
		case nudge.Voice:
			format = q.t.StopVoice
		case nudge.Email:
			format = q.t.StopEmail
		}
		out = append(out, ssStop{Value: value, Label: fmt.Sprintf(format, channels.Mask(addr)), Checked: checked && !done,
			Done: done, channel: ch, address: addr})
		return nil
	}
	if err := add("link", q.link.Channel, q.link.Address, true); err != nil {
		return nil, err
	}
	for i, c := range q.acct.Contacts {
		if c.State == nudge.ContactWrongParty || c.Address == "" || strings.HasPrefix(c.Address, "erased-") {
			continue
		}
		if err := add("c"+strconv.Itoa(i), c.Channel, c.Address, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// help is the "Questions? Call …" line, or empty without a help number.
func (p *SelfService) help(q *ssRequest) string {
	if q == nil || q.lender.HelpPhone == "" {
		return ""
	}
	number := q.lender.HelpPhone
	if q.f != nil {
		if s, err := q.f.Phone(number); err == nil {
			number = s
		}
	}
	return fmt.Sprintf(q.t.Help, number)
}

// message answers with a page that only says something (a bad or expired
// link, a refused form, an error).
func (p *SelfService) message(w http.ResponseWriter, code int, lang, state, heading, msg, help string) {
	p.write(w, code, ssView{Lang: lang, T: ssTexts[lang], State: state, Heading: heading, Message: msg, Help: help})
}

// fail logs err and answers 500 with a friendly page.
func (p *SelfService) fail(w http.ResponseWriter, r *http.Request, q *ssRequest, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	p.logger().Error("self-service page: "+what+" failed", "method", r.Method, "lender", q.link.Lender,
		"account", q.link.AccountID, "err", err)
	p.message(w, http.StatusInternalServerError, q.lang, "error", q.t.ErrorTitle, q.t.Error, p.help(q))
}

// write renders the page with headers that keep it out of caches and
// referrers and forbid scripts and framing.
func (p *SelfService) write(w http.ResponseWriter, code int, v ssView) {
	if v.Lang == "" {
		v.Lang, v.T = unsubLocales[0], ssTexts[unsubLocales[0]]
	}
	writeBorrowerPage(w, p.logger(), ssPage, code, v.Lang, v)
}

func (p *SelfService) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}
