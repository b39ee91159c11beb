package twilio

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	nudge "github.com/nudgehq/nudge"
)

var (
	_ nudge.Sender         = (*SMS)(nil)
	_ nudge.Prober         = (*SMS)(nil)
	_ nudge.CodeClassifier = (*SMS)(nil)
)

// Limits of a message's validity period (Twilio's ValidityPeriod, seconds a
// message may wait in Twilio's outgoing queue before it fails unsent).
const (
	// MinValidityPeriod is the shortest validity period Nudge asks for: a
	// shorter one risks failing a message that is merely queued behind the
	// sender's rate limit.
	MinValidityPeriod = time.Minute
	// MaxValidityPeriod is Twilio's longest (and default) validity period.
	MaxValidityPeriod = 10 * time.Hour
)

// SMS sends text messages through Twilio. It is safe for concurrent use.
type SMS struct {
	cfg       Config
	base      http.RoundTripper
	target    *url.URL
	statusURL string
	health    Health
}

// Option changes how New builds an SMS sender.
type Option func(*SMS)

// WithTransport sets the HTTP transport under the sender (default: one
// shared transport that keeps IdleConnsPerHost connections open). Requests
// are still rewritten to Config.BaseURL.
func WithTransport(rt http.RoundTripper) Option {
	return func(s *SMS) { s.base = rt }
}

// New checks cfg (after filling defaults and reading AuthTokenFile) and
// returns a sender.
func New(cfg Config, opts ...Option) (*SMS, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.loadSecrets(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("twilio config: %w", err)
	}
	s := &SMS{cfg: cfg, base: defaultTransport, statusURL: cfg.PublicURL + StatusCallbackPath}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("twilio.base_url: %w", err)
		}
		s.target = u
	}
	for _, o := range opts {
		o(s)
	}
	if s.health == nil {
		s.health = NewBreaker(cfg.Breaker())
	}
	return s, nil
}

// StatusCallbackURL is the base URL Twilio posts message status callbacks to
// (Config.PublicURL + StatusCallbackPath). Each message's callback URL adds
// its attempt id (StatusCallbackURLFor).
func (s *SMS) StatusCallbackURL() string { return s.statusURL }

// StatusCallbackURLFor is the status callback URL of one attempt's message:
// StatusCallbackURL with the attempt id as the query parameter
// StatusCallbackAttemptParam ("…/webhooks/twilio/sms/status?a=att_…_sms"), so
// a callback names its attempt even when the answer that carried the
// message's sid was lost. Twilio signs the URL it calls, query included. An
// empty attemptID yields the base URL.
func (s *SMS) StatusCallbackURLFor(attemptID string) string {
	return StatusCallbackURLFor(s.cfg.PublicURL, attemptID)
}

// StatusCallbackURLFor is the status callback URL of the message of attempt
// attemptID under publicURL: publicURL + StatusCallbackPath, plus
// "?a=" and the query-escaped attempt id when attemptID is not empty.
func StatusCallbackURLFor(publicURL, attemptID string) string {
	u := strings.TrimRight(publicURL, "/") + StatusCallbackPath
	if attemptID == "" {
		return u
	}
	return u + "?" + url.Values{StatusCallbackAttemptParam: {attemptID}}.Encode()
}

// ValidityPeriod is the validity period, in whole seconds, of a message that
// may still reach the borrower for validFor: validFor rounded down and
// clamped to [MinValidityPeriod, MaxValidityPeriod]; zero (no limit) and
// negative values give MaxValidityPeriod and MinValidityPeriod.
func ValidityPeriod(validFor time.Duration) int {
	switch {
	case validFor == 0:
		validFor = MaxValidityPeriod
	case validFor < MinValidityPeriod:
		validFor = MinValidityPeriod
	case validFor > MaxValidityPeriod:
		validFor = MaxValidityPeriod
	}
	return int(validFor / time.Second)
}

// ClassifyCode implements nudge.CodeClassifier (ClassifyReportedCode).
func (s *SMS) ClassifyCode(code string) *nudge.ProviderError { return ClassifyReportedCode(code) }

// Send creates a Twilio message for m and returns its SID and status. The
// message carries m.ValidFor as its validity period (ValidityPeriod), so
// Twilio fails it rather than send it late, and its status callback URL names
// m.AttemptID (StatusCallbackURLFor). Errors are *nudge.ProviderError values
// classified by Classify; one with MaybeAccepted set must be resolved with
// Lookup, not resent.
func (s *SMS) Send(ctx context.Context, m *nudge.Message) (nudge.SendResult, error) {
	if m.Channel != "" && m.Channel != nudge.SMS {
		return nudge.SendResult{}, &nudge.ProviderError{Reason: nudge.ReasonProviderFailed,
			Err: fmt.Errorf("twilio sms: message %s is for channel %q", m.AttemptID, m.Channel)}
	}
	if strings.TrimSpace(m.To) == "" {
		return nudge.SendResult{}, &nudge.ProviderError{Reason: nudge.ReasonNoContact, Undeliverable: true,
			Err: fmt.Errorf("twilio sms: message %s has no To number", m.AttemptID)}
	}
	if strings.TrimSpace(m.Text) == "" {
		return nudge.SendResult{}, &nudge.ProviderError{Reason: nudge.ReasonRenderFailed,
			Err: fmt.Errorf("twilio sms: message %s has an empty body", m.AttemptID)}
	}
	r := s.route(m)
	route := s.pick(ctx, m, r)
	health := poolHealth{health: s.health, sender: route.ID(), pooled: len(r.Pool) > 1}
	params := &api.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetBody(m.Text)
	params.SetStatusCallback(s.StatusCallbackURLFor(m.AttemptID))
	params.SetValidityPeriod(ValidityPeriod(m.ValidFor))
	if route.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(route.MessagingServiceSID)
		m.From = route.MessagingServiceSID
	} else {
		m.From = route.From
	}
	if route.From != "" {
		params.SetFrom(route.From)
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	what := "twilio sms: create message for attempt " + m.AttemptID
	c := newCall(ctx, s.cfg.accountOf(route), s.cfg.Timeout, s.base, s.target)
	msg, err := c.api.CreateMessage(params)
	if err != nil {
		return nudge.SendResult{}, health.fail(c, what, err)
	}
	if msg == nil || msg.Sid == nil || *msg.Sid == "" {
		return nudge.SendResult{}, health.noSid(c, what)
	}
	health.report(ctx, SenderAccepted)
	status := nudge.AttemptSent
	if msg.Status != nil {
		if st := StatusFromTwilio(*msg.Status); st != "" {
			status = st
		}
	}
	res := nudge.SendResult{ProviderID: *msg.Sid, Status: status}
	if msg.NumSegments != nil {
		if n, err := strconv.Atoi(*msg.NumSegments); err == nil && n > 0 {
			res.Segments = n
		}
	}
	return res, nil
}

// SenderRate returns the rate-limiter key and messages-per-second budget of
// the sender m goes out from: "twilio:sms:" plus the Messaging Service SID
// or sender number, and the configured MPS or a default for the class or
// kind of sender (DefaultShortCodeMPS, DefaultTollFreeMPS,
// DefaultLongCodeMPS). For a route with a pool it chooses the sender (the
// borrower's sticky sender among the usable ones) and records it in m.From,
// so that Send uses the sender whose tokens were taken.
func (s *SMS) SenderRate(m *nudge.Message) (key string, perSecond float64) {
	r := s.route(m)
	p := s.pick(context.Background(), m, r)
	if len(r.Pool) > 0 {
		m.From = p.ID()
	}
	return "twilio:sms:" + p.ID(), p.rate()
}

// route picks the sender for m: the most specific route matching the lender
// and the destination's region (lender beats country), else the default.
func (s *SMS) route(m *nudge.Message) SenderRoute {
	return routeFor(s.cfg.Senders, SenderRoute{From: s.cfg.From, MessagingServiceSID: s.cfg.MessagingServiceSID, MPS: s.cfg.MPS}, m)
}

// routeFor picks the route of m among routes: the most specific one
// matching the lender and the destination's region (lender beats country),
// else def.
func routeFor(routes []SenderRoute, def SenderRoute, m *nudge.Message) SenderRoute {
	if r, ok := matchRoute(routes, m); ok {
		return r
	}
	return def
}

// matchRoute returns the most specific of routes matching m, if any.
func matchRoute(routes []SenderRoute, m *nudge.Message) (SenderRoute, bool) {
	region := Region(m.To)
	best, bestScore := -1, -1
	for i, r := range routes {
		if r.Lender != "" && r.Lender != m.Lender {
			continue
		}
		if r.Country != "" && r.Country != region {
			continue
		}
		score := 0
		if r.Lender != "" {
			score += 2
		}
		if r.Country != "" {
			score++
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best >= 0 {
		return routes[best], true
	}
	return SenderRoute{}, false
}

// Region returns the ISO 3166-1 alpha-2 region of an E.164 number ("US",
// "MX", "CN"), or "" when the number cannot be parsed.
func Region(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(n)
	if r == "ZZ" {
		return ""
	}
	return r
}

func defaultMPS(r SenderRoute) float64 {
	if r.MessagingServiceSID == "" {
		switch {
		case shortCodePattern.MatchString(r.From):
			return DefaultShortCodeMPS
		case isTollFree(r.From):
			return DefaultTollFreeMPS
		}
	}
	return DefaultLongCodeMPS
}

// isTollFree reports whether from is a North American toll-free number.
func isTollFree(from string) bool {
	if !strings.HasPrefix(from, "+1") || len(from) != 12 {
		return false
	}
	switch from[2:5] {
	case "800", "833", "844", "855", "866", "877", "888":
		return true
	}
	return false
}
