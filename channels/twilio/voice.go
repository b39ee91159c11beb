package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	nudge "github.com/nudgehq/nudge"
)

// Defaults of the voice sender.
const (
	// DefaultVoiceCPS is Twilio's default budget of outbound calls per second
	// per account (COMPLIANCE.md, "Provider limits").
	DefaultVoiceCPS = 1.0
	// DefaultMachineDetection asks Twilio to wait for the end of a voicemail
	// greeting before fetching the TwiML, so a message left for a machine
	// starts after the beep.
	DefaultMachineDetection = "DetectMessageEnd"
	// VoicePathPrefix is where web/webhooks serves a call's webhooks,
	// relative to Config.PublicURL: VoicePathPrefix + token answers with the
	// call's TwiML, + token + VoiceGatherSuffix takes menu answers and
	// + token + VoiceStatusSuffix takes status callbacks and + token +
	// VoiceDialSuffix the outcome of a transfer to a person.
	VoicePathPrefix = "/webhooks/twilio/voice/"
	// VoiceGatherSuffix follows the token in the URL of menu answers.
	VoiceGatherSuffix = "/gather"
	// VoiceStatusSuffix follows the token in the URL of call status callbacks.
	VoiceStatusSuffix = "/status"
	// VoiceDialSuffix follows the token in the action URL of a <Dial>, which
	// Twilio requests with DialCallStatus when the transferred leg ends.
	VoiceDialSuffix = "/dial"
	// DefaultRingTimeout is how long a call rings before Twilio gives up on
	// it (its Timeout parameter) unless WithRingTimeout changes it.
	DefaultRingTimeout = 30 * time.Second
	// MinRingTimeout is the shortest ring time WithRingTimeout allows.
	MinRingTimeout = 5 * time.Second
	// MaxRingTimeout is the longest ring time Twilio accepts (600 seconds).
	MaxRingTimeout = 600 * time.Second
	// DefaultMaxCallLength is the longest a call may last (its TimeLimit
	// parameter) unless WithMaxCallLength changes it.
	DefaultMaxCallLength = 10 * time.Minute
	// MinCallTimeLimit is the shortest time limit a call is given, however
	// little of the borrower's window is left.
	MinCallTimeLimit = time.Minute
)

// CallStatusEvents are the call progress events every call asks Twilio for.
var CallStatusEvents = []string{"initiated", "ringing", "answered", "completed"}

var (
	_ nudge.Sender = (*Voice)(nil)
	_ nudge.Prober = (*Voice)(nil)
)

// TokenFunc returns the unguessable token naming a call's webhooks for a
// message; it must bind the token to m.AttemptID (webhooks.VoiceToken signs one).
type TokenFunc func(m *nudge.Message) (string, error)

// Voice places reminder calls through Twilio's Programmable Voice API. The
// call's conversation is served by web/webhooks at the URLs VoiceCallURL
// and VoiceStatusURL name. It is safe for concurrent use.
type Voice struct {
	cfg       Config
	token     TokenFunc
	base      http.RoundTripper
	target    *url.URL
	from      string
	cps       float64
	detection string
	ring      time.Duration
	maxLength time.Duration
	health    Health
}

// VoiceOption changes how NewVoice builds a voice sender.
type VoiceOption func(*Voice)

// WithVoiceTransport sets the HTTP transport under the sender (default: one
// shared transport that keeps IdleConnsPerHost connections open). Requests
// are still rewritten to Config.BaseURL.
func WithVoiceTransport(rt http.RoundTripper) VoiceOption {
	return func(v *Voice) { v.base = rt }
}

// WithCallerID sets the number calls are placed from (E.164); the default is
// Config.From.
func WithCallerID(from string) VoiceOption {
	return func(v *Voice) { v.from = from }
}

// WithVoiceHealth sets the health of the voice pools' caller IDs (default:
// a Breaker with Config.Breaker's settings, in process). Caller IDs are
// known to it as VoiceHealthPrefix followed by the number.
func WithVoiceHealth(h Health) VoiceOption {
	return func(v *Voice) { v.health = h }
}

// WithCPS sets the calls-per-second budget of the account (default
// DefaultVoiceCPS), which is also the budget of a voice_senders caller ID
// without its own mps.
func WithCPS(cps float64) VoiceOption {
	return func(v *Voice) { v.cps = cps }
}

// WithMachineDetection sets Twilio's MachineDetection mode: "Enable" (answer
// as soon as a machine is recognised) or "DetectMessageEnd" (the default).
func WithMachineDetection(mode string) VoiceOption {
	return func(v *Voice) { v.detection = mode }
}

// WithRingTimeout sets how long a call rings before Twilio stops it (Twilio's
// Timeout). Zero means DefaultRingTimeout; other values are clamped to
// [MinRingTimeout, MaxRingTimeout] and rounded down to whole seconds.
func WithRingTimeout(d time.Duration) VoiceOption {
	return func(v *Voice) { v.ring = d }
}

// WithMaxCallLength sets the longest a call may last once answered (Twilio's
// TimeLimit) when the borrower's window leaves more time; zero means
// DefaultMaxCallLength. It must be at least MinCallTimeLimit.
func WithMaxCallLength(d time.Duration) VoiceOption {
	return func(v *Voice) { v.maxLength = d }
}

// NewVoice checks cfg (after filling defaults and reading AuthTokenFile) and
// returns a voice sender whose calls name their webhooks with token.
// Config.PublicURL is required; the caller ID (WithCallerID, else
// Config.From) must be an E.164 number.
func NewVoice(cfg Config, token TokenFunc, opts ...VoiceOption) (*Voice, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.loadSecrets(); err != nil {
		return nil, err
	}
	v := &Voice{cfg: cfg, token: token, base: defaultTransport, from: cfg.From, cps: DefaultVoiceCPS, detection: DefaultMachineDetection}
	for _, o := range opts {
		o(v)
	}
	switch {
	case v.ring == 0:
		v.ring = DefaultRingTimeout
	case v.ring < MinRingTimeout:
		v.ring = MinRingTimeout
	case v.ring > MaxRingTimeout:
		v.ring = MaxRingTimeout
	}
	if v.maxLength == 0 {
		v.maxLength = DefaultMaxCallLength
	}
	if v.health == nil {
		v.health = NewBreaker(cfg.Breaker())
	}
	if err := v.validate(); err != nil {
		return nil, fmt.Errorf("twilio voice config: %w", err)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("twilio.base_url: %w", err)
		}
		v.target = u
	}
	return v, nil
}

func (v *Voice) validate() error {
	var errs []error
	c := v.cfg
	if !accountSIDPattern.MatchString(c.AccountSID) {
		errs = append(errs, errors.New("twilio.account_sid must match ^AC[0-9a-fA-F]{32}$"))
	}
	switch {
	case c.AuthToken == "":
		errs = append(errs, errors.New("twilio.auth_token (or auth_token_file) is required"))
	case !credentialPattern.MatchString(c.AuthToken):
		errs = append(errs, errors.New("twilio.auth_token must be alphanumeric"))
	}
	if !e164Pattern.MatchString(v.from) {
		errs = append(errs, fmt.Errorf("twilio voice caller ID %q must be an E.164 number: set twilio.voice_from (or twilio.from, its default)", v.from))
	}
	if c.PublicURL == "" {
		errs = append(errs, errors.New("twilio.public_url is required (calls fetch their TwiML from it)"))
	} else if err := checkHTTPURL(c.PublicURL); err != nil {
		errs = append(errs, fmt.Errorf("twilio.public_url: %w", err))
	}
	if c.BaseURL != "" {
		if err := checkHTTPURL(c.BaseURL); err != nil {
			errs = append(errs, fmt.Errorf("twilio.base_url: %w", err))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("twilio.timeout must not be negative, got %s", c.Timeout))
	}
	if v.cps <= 0 {
		errs = append(errs, fmt.Errorf("twilio voice cps must be positive, got %g", v.cps))
	}
	if v.detection != "Enable" && v.detection != "DetectMessageEnd" {
		errs = append(errs, fmt.Errorf("twilio voice machine detection %q must be Enable or DetectMessageEnd", v.detection))
	}
	if v.maxLength < MinCallTimeLimit {
		errs = append(errs, fmt.Errorf("twilio voice max call length must be at least %s, got %s", MinCallTimeLimit, v.maxLength))
	}
	if v.token == nil {
		errs = append(errs, errors.New("twilio voice: a token function is required"))
	}
	errs = append(errs, c.validateBreaker()...)
	errs = append(errs, validateVoiceRoutes(c)...)
	return errors.Join(errs...)
}

// namedSender is a sender with its config key, for error messages.
type namedSender struct {
	f string
	p PoolSender
}

// validateVoiceRoutes checks twilio.voice_senders: each route has a caller
// ID (from) or a pool of them, every caller ID is an E.164 number, and
// Messaging Services, which send messages only, are refused.
func validateVoiceRoutes(c Config) []error {
	var errs []error
	errs = append(errs, validateAccounts(c.AccountSID, "twilio.voice_senders", c.VoiceSenders)...)
	for i, r := range c.VoiceSenders {
		field := fmt.Sprintf("twilio.voice_senders[%d]", i)
		switch {
		case len(r.Pool) > 0 && (r.From != "" || r.MessagingServiceSID != "" || r.MPS != 0):
			errs = append(errs, fmt.Errorf("%s: a route has either a pool or from/mps, not both", field))
		case len(r.Pool) == 0 && r.From == "":
			errs = append(errs, fmt.Errorf("%s: need from (a caller ID) or pool", field))
		}
		if r.Country != "" && !supportedRegion(r.Country) {
			errs = append(errs, fmt.Errorf("%s.country %q is not an ISO 3166-1 alpha-2 region with phone numbers", field, r.Country))
		}
		var members []namedSender
		if len(r.Pool) == 0 {
			members = append(members, namedSender{field, PoolSender{From: r.From, MessagingServiceSID: r.MessagingServiceSID, MPS: r.MPS}})
		}
		for j, p := range r.Pool {
			members = append(members, namedSender{fmt.Sprintf("%s.pool[%d]", field, j), p})
		}
		seen := map[string]string{}
		for _, m := range members {
			p := m.p
			if p.MessagingServiceSID != "" {
				errs = append(errs, fmt.Errorf("%s.messaging_service_sid: a Messaging Service cannot place calls; name the caller ID in from", m.f))
			}
			if p.From != "" && !e164Pattern.MatchString(p.From) {
				errs = append(errs, fmt.Errorf("%s.from %q must be an E.164 number (a caller ID)", m.f, p.From))
			}
			if p.From == "" && len(r.Pool) > 0 {
				errs = append(errs, fmt.Errorf("%s: need from (a caller ID)", m.f))
			}
			if prev, dup := seen[p.From]; dup && p.From != "" {
				errs = append(errs, fmt.Errorf("%s: caller ID %s is already %s", m.f, p.From, prev))
			} else {
				seen[p.From] = m.f
			}
			switch {
			case p.MPS < 0:
				errs = append(errs, fmt.Errorf("%s.mps must not be negative, got %g", m.f, p.MPS))
			case p.MPS > MaxMPS:
				errs = append(errs, fmt.Errorf("%s.mps: %g is above %g", m.f, p.MPS, MaxMPS))
			}
			if p.DailyCap < 0 {
				errs = append(errs, fmt.Errorf("%s.daily_cap must not be negative, got %d", m.f, p.DailyCap))
			}
			if p.Class != "" {
				errs = append(errs, fmt.Errorf("%s.class: throughput classes are for messages; a caller ID's rate is its mps (calls per second)", m.f))
			}
		}
	}
	return errs
}

// VoiceCallURL is the URL Twilio fetches a call's TwiML from.
func VoiceCallURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + VoicePathPrefix + token
}

// VoiceGatherURL is the URL a call's menu answers are posted to; the web
// package adds the conversation step as a query.
func VoiceGatherURL(publicURL, token string) string {
	return VoiceCallURL(publicURL, token) + VoiceGatherSuffix
}

// VoiceStatusURL is the URL Twilio posts a call's status callbacks to.
func VoiceStatusURL(publicURL, token string) string {
	return VoiceCallURL(publicURL, token) + VoiceStatusSuffix
}

// VoiceDialURL is the action URL of a call's transfer to a person: Twilio
// posts the outcome of the <Dial> (DialCallStatus) to it and speaks the TwiML
// it answers with.
func VoiceDialURL(publicURL, token string) string {
	return VoiceCallURL(publicURL, token) + VoiceDialSuffix
}

// Send places a call to m.To. Twilio fetches the conversation from
// VoiceCallURL and reports progress to VoiceStatusURL, both named by the
// message's token; m.Text (the rendered script) is not sent, since the web
// package speaks the conversation step by step. The call rings for the ring
// timeout (WithRingTimeout) and lasts at most CallTimeLimit(m.ValidFor, max
// call length), so it never runs past the borrower's window. It returns the
// CallSid and nudge.AttemptSent (queued). Errors are *nudge.ProviderError
// values classified by Classify; one with MaybeAccepted set must be resolved
// with Lookup, not retried.
func (v *Voice) Send(ctx context.Context, m *nudge.Message) (nudge.SendResult, error) {
	if m.Channel != "" && m.Channel != nudge.Voice {
		return nudge.SendResult{}, &nudge.ProviderError{Reason: nudge.ReasonProviderFailed,
			Err: fmt.Errorf("twilio voice: message %s is for channel %q", m.AttemptID, m.Channel)}
	}
	if strings.TrimSpace(m.To) == "" {
		return nudge.SendResult{}, &nudge.ProviderError{Reason: nudge.ReasonNoContact, Undeliverable: true,
			Err: fmt.Errorf("twilio voice: message %s has no To number", m.AttemptID)}
	}
	if m.AttemptID == "" {
		return nudge.SendResult{}, &nudge.ProviderError{Reason: nudge.ReasonProviderFailed,
			Err: errors.New("twilio voice: message has no attempt id to bind the call's webhooks to")}
	}
	token, err := v.token(m)
	if err == nil && token == "" {
		err = errors.New("empty token")
	}
	if err != nil {
		return nudge.SendResult{}, &nudge.ProviderError{Reason: nudge.ReasonRenderFailed,
			Err: fmt.Errorf("twilio voice: token for attempt %s: %w", m.AttemptID, err)}
	}
	r := v.route(m)
	sender := pickSender(ctx, v.health, VoiceHealthPrefix, m, r)
	m.From = sender.From
	health := poolHealth{health: v.health, sender: VoiceHealthPrefix + sender.From, pooled: len(r.Pool) > 1}
	params := &api.CreateCallParams{}
	params.SetTo(m.To)
	params.SetFrom(sender.From)
	params.SetUrl(VoiceCallURL(v.cfg.PublicURL, token))
	params.SetMethod(http.MethodPost)
	params.SetStatusCallback(VoiceStatusURL(v.cfg.PublicURL, token))
	params.SetStatusCallbackMethod(http.MethodPost)
	params.SetStatusCallbackEvent(CallStatusEvents)
	params.SetMachineDetection(v.detection)
	params.SetTimeout(int(v.ring / time.Second))
	params.SetTimeLimit(CallTimeLimit(m.ValidFor, v.maxLength))

	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	what := "twilio voice: create call for attempt " + m.AttemptID
	c := newCall(ctx, v.cfg.accountOf(sender), v.cfg.Timeout, v.base, v.target)
	call, err := c.api.CreateCall(params)
	if err != nil {
		return nudge.SendResult{}, health.fail(c, what, err)
	}
	if call == nil || call.Sid == nil || *call.Sid == "" {
		return nudge.SendResult{}, health.noSid(c, what)
	}
	health.report(ctx, SenderAccepted)
	status := nudge.AttemptSent
	if call.Status != nil {
		if st := CallStatusFromTwilio(*call.Status); st != "" {
			status = st
		}
	}
	return nudge.SendResult{ProviderID: *call.Sid, Status: status}, nil
}

// CallTimeLimit is the time limit, in whole seconds, of a call that may still
// reach the borrower for validFor: the shorter of validFor and maxLength
// (maxLength alone when validFor is zero, meaning no limit), rounded down,
// and at least MinCallTimeLimit.
func CallTimeLimit(validFor, maxLength time.Duration) int {
	d := maxLength
	if validFor != 0 && validFor < d {
		d = validFor
	}
	if d < MinCallTimeLimit {
		d = MinCallTimeLimit
	}
	return int(d / time.Second)
}

// SenderRate returns the rate-limiter key and calls-per-second budget of the
// caller ID m's call is placed from. A call that matches no voice_senders
// route shares the account's budget: "twilio:voice:" plus the AccountSID,
// and the configured CPS (DefaultVoiceCPS unless WithCPS changed it). A
// routed call is limited per caller ID: "twilio:voice:" plus the number,
// and its mps (else the configured CPS). For a route with a pool it chooses
// the caller ID (the borrower's sticky one among the usable ones) and
// records it in m.From, so that Send uses the caller ID whose tokens were
// taken.
func (v *Voice) SenderRate(m *nudge.Message) (key string, perSecond float64) {
	if !v.routed(m) {
		return "twilio:voice:" + v.cfg.AccountSID, v.cps
	}
	r := v.route(m)
	p := pickSender(context.Background(), v.health, VoiceHealthPrefix, m, r)
	if len(r.Pool) > 0 {
		m.From = p.From
	}
	rate := v.cps
	if p.MPS > 0 {
		rate = p.MPS
	}
	return "twilio:voice:" + p.From, rate
}

// route picks the caller ID route of m among Config.VoiceSenders, else
// the default caller ID.
func (v *Voice) route(m *nudge.Message) SenderRoute {
	return routeFor(v.cfg.VoiceSenders, SenderRoute{From: v.from, MPS: v.cps}, m)
}

// routed reports whether a voice_senders route matches m.
func (v *Voice) routed(m *nudge.Message) bool {
	_, ok := matchRoute(v.cfg.VoiceSenders, m)
	return ok
}
