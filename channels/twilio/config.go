package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Defaults and limits for the SMS sender.
const (
	// DefaultTimeout bounds one call to the Twilio API.
	DefaultTimeout = 10 * time.Second
	// DefaultLongCodeMPS is the messages-per-second budget of a long code,
	// an international sender or a Messaging Service without a configured rate.
	DefaultLongCodeMPS = 10.0
	// DefaultTollFreeMPS is the default budget of a North American toll-free number.
	DefaultTollFreeMPS = 3.0
	// DefaultShortCodeMPS is the default budget of a short code.
	DefaultShortCodeMPS = 100.0
	// StatusCallbackPath is where web/webhooks serves Twilio SMS status
	// callbacks, relative to Config.PublicURL.
	StatusCallbackPath = "/webhooks/twilio/sms/status"
	// StatusCallbackAttemptParam is the query parameter of a message's status
	// callback URL that carries the attempt id (StatusCallbackURLFor).
	StatusCallbackAttemptParam = "a"
	// InboundPath is where web/webhooks serves inbound SMS, relative to
	// Config.PublicURL. Configure it as the messaging webhook of the number or
	// Messaging Service.
	InboundPath = "/webhooks/twilio/sms/inbound"
)

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDPattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	e164Pattern       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	shortCodePattern  = regexp.MustCompile(`^[0-9]{3,8}$`)
	alphaIDPattern    = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	credentialPattern = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
)

// Config configures the Twilio SMS sender. Field names in error messages are
// the YAML keys under "twilio".
type Config struct {
	// AccountSID is the Twilio account ("AC" and 32 hex digits).
	AccountSID string `yaml:"account_sid" json:"account_sid"`
	// AuthToken is the account's auth token; it signs webhooks too.
	AuthToken string `yaml:"auth_token" json:"auth_token"`
	// AuthTokenFile names a file holding the auth token; it is read by New
	// when AuthToken is empty.
	AuthTokenFile string `yaml:"auth_token_file" json:"auth_token_file"`
	// MessagingServiceSID is the default sender: a Messaging Service ("MG…").
	MessagingServiceSID string `yaml:"messaging_service_sid" json:"messaging_service_sid"`
	// From is the default sender number (E.164, short code or alphanumeric ID),
	// used when no route matches and MessagingServiceSID is empty.
	From string `yaml:"from" json:"from"`
	// MPS is the default sender's messages-per-second budget; zero picks a
	// default from the kind of sender.
	MPS float64 `yaml:"mps" json:"mps"`
	// Senders routes messages per lender and destination country; the most
	// specific matching route wins, then the default sender.
	Senders []SenderRoute `yaml:"senders" json:"senders"`
	// BaseURL, when set, replaces the scheme and host of every Twilio API
	// request (for twiliosim). Empty means the real Twilio.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// PublicURL is the externally visible base URL of Nudge's web server;
	// status callbacks go to PublicURL + StatusCallbackPath, with the
	// attempt id as a query parameter (StatusCallbackURLFor).
	PublicURL string `yaml:"public_url" json:"public_url"`
	// Timeout bounds one API call.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// BreakerThreshold is how many failures in a row take a pool's sender
	// out (DefaultBreakerThreshold when zero).
	BreakerThreshold int `yaml:"breaker_threshold" json:"breaker_threshold"`
	// BreakerCooldown is how long a failed sender stays out before it is
	// tried again (DefaultBreakerCooldown when zero).
	BreakerCooldown time.Duration `yaml:"breaker_cooldown" json:"breaker_cooldown"`
}

// SenderRoute picks a sender for one lender and destination country.
type SenderRoute struct {
	// Lender limits the route to one lender; empty matches every lender.
	Lender string `yaml:"lender" json:"lender"`
	// Country is the ISO 3166-1 alpha-2 region of the destination number
	// ("US", "MX", "CN"); empty matches every country.
	Country string `yaml:"country" json:"country"`
	// From is the sender number or alphanumeric ID.
	From string `yaml:"from" json:"from"`
	// MessagingServiceSID is the Messaging Service to send through.
	MessagingServiceSID string `yaml:"messaging_service_sid" json:"messaging_service_sid"`
	// MPS is the sender's messages-per-second budget; zero picks a default.
	MPS float64 `yaml:"mps" json:"mps"`
	// Pool lists several senders for the route instead of From or
	// MessagingServiceSID: each message goes out from the borrower's sticky
	// sender among the healthy ones (see SMS.Send).
	Pool []PoolSender `yaml:"pool" json:"pool"`
}

// Throughput classes of a pool sender.
const (
	// Class10DLC is a US 10DLC long code (its rate depends on the brand's trust tier).
	Class10DLC = "10dlc"
	// ClassTollFree is a North American toll-free number.
	ClassTollFree = "toll_free"
	// ClassShortCode is a short code.
	ClassShortCode = "short_code"
	// MaxMPS is the highest messages-per-second budget a sender may be given.
	MaxMPS = 225.0
)

// PoolSender is one sender of a route's pool: a number, short code or
// Messaging Service, its rate, its daily cap and its throughput class.
type PoolSender struct {
	// From is the sender number, short code or alphanumeric ID.
	From string `yaml:"from" json:"from"`
	// MessagingServiceSID is the Messaging Service to send through.
	MessagingServiceSID string `yaml:"messaging_service_sid" json:"messaging_service_sid"`
	// MPS is the sender's messages-per-second budget, 1 to MaxMPS; zero
	// picks a default from the class or the kind of sender.
	MPS float64 `yaml:"mps" json:"mps"`
	// DailyCap is how many messages the sender may send a UTC day; zero is
	// no cap. At the cap the sender is skipped until the next day.
	DailyCap int `yaml:"daily_cap" json:"daily_cap"`
	// Class is the throughput class: 10dlc, toll_free or short_code; empty
	// infers it from the number.
	Class string `yaml:"class" json:"class"`
}

// ID is the sender's identity: the Messaging Service SID, else From.
func (p PoolSender) ID() string {
	if p.MessagingServiceSID != "" {
		return p.MessagingServiceSID
	}
	return p.From
}

// rate is the sender's messages-per-second budget: MPS, else the default of
// its class or kind.
func (p PoolSender) rate() float64 {
	switch {
	case p.MPS > 0:
		return p.MPS
	case p.Class == ClassShortCode:
		return DefaultShortCodeMPS
	case p.Class == ClassTollFree:
		return DefaultTollFreeMPS
	case p.Class == Class10DLC:
		return DefaultLongCodeMPS
	}
	return defaultMPS(SenderRoute{From: p.From, MessagingServiceSID: p.MessagingServiceSID})
}

// members is the route's pool: Pool, else a pool of one made of From,
// MessagingServiceSID and MPS.
func (r SenderRoute) members() []PoolSender {
	if len(r.Pool) > 0 {
		return r.Pool
	}
	return []PoolSender{{From: r.From, MessagingServiceSID: r.MessagingServiceSID, MPS: r.MPS}}
}

// WithDefaults returns a copy of c with empty fields filled and values normalised.
func (c Config) WithDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	routes := make([]SenderRoute, len(c.Senders))
	for i, r := range c.Senders {
		r.Country = strings.ToUpper(strings.TrimSpace(r.Country))
		routes[i] = r
	}
	c.Senders = routes
	return c
}

// loadSecrets fills AuthToken from AuthTokenFile when needed.
func (c *Config) loadSecrets() error {
	if c.AuthToken != "" || c.AuthTokenFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.AuthTokenFile)
	if err != nil {
		return fmt.Errorf("twilio.auth_token_file: %w", err)
	}
	c.AuthToken = strings.TrimSpace(string(b))
	return nil
}

// Validate reports every problem in c, naming the field.
func (c Config) Validate() error {
	var errs []error
	if !accountSIDPattern.MatchString(c.AccountSID) {
		errs = append(errs, errors.New("twilio.account_sid must match ^AC[0-9a-fA-F]{32}$"))
	}
	switch {
	case c.AuthToken == "" && c.AuthTokenFile == "":
		errs = append(errs, errors.New("twilio.auth_token (or auth_token_file) is required"))
	case c.AuthToken != "" && !credentialPattern.MatchString(c.AuthToken):
		errs = append(errs, errors.New("twilio.auth_token must be alphanumeric"))
	}
	if c.MessagingServiceSID == "" && c.From == "" {
		errs = append(errs, errors.New("twilio: need messaging_service_sid or from for the default sender"))
	}
	errs = append(errs, validateSender("twilio", c.From, c.MessagingServiceSID, c.MPS)...)
	for i, r := range c.Senders {
		field := fmt.Sprintf("twilio.senders[%d]", i)
		switch {
		case len(r.Pool) > 0 && (r.From != "" || r.MessagingServiceSID != "" || r.MPS != 0):
			errs = append(errs, fmt.Errorf("%s: a route has either a pool or from/messaging_service_sid/mps, not both", field))
		case len(r.Pool) == 0 && r.From == "" && r.MessagingServiceSID == "":
			errs = append(errs, fmt.Errorf("%s: need messaging_service_sid, from or pool", field))
		}
		errs = append(errs, validatePool(field, r.Pool)...)
		if r.Country != "" && !supportedRegion(r.Country) {
			errs = append(errs, fmt.Errorf("%s.country %q is not an ISO 3166-1 alpha-2 region with phone numbers", field, r.Country))
		}
		errs = append(errs, validateSender(field, r.From, r.MessagingServiceSID, r.MPS)...)
	}
	if c.PublicURL == "" {
		errs = append(errs, errors.New("twilio.public_url is required (status callbacks are sent to it)"))
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
	if c.BreakerThreshold < 0 {
		errs = append(errs, fmt.Errorf("twilio.breaker_threshold must not be negative, got %d", c.BreakerThreshold))
	}
	if c.BreakerCooldown < 0 {
		errs = append(errs, fmt.Errorf("twilio.breaker_cooldown must not be negative, got %s", c.BreakerCooldown))
	}
	return errors.Join(errs...)
}

func validateSender(field, from, service string, mps float64) []error {
	var errs []error
	if service != "" && !serviceSIDPattern.MatchString(service) {
		errs = append(errs, fmt.Errorf("%s.messaging_service_sid must match ^MG[0-9a-fA-F]{32}$", field))
	}
	if from != "" && !validFrom(from) {
		errs = append(errs, fmt.Errorf("%s.from %q must be an E.164 number, a short code or an alphanumeric sender ID", field, from))
	}
	if mps < 0 {
		errs = append(errs, fmt.Errorf("%s.mps must not be negative, got %g", field, mps))
	}
	return errs
}

func validatePool(field string, pool []PoolSender) []error {
	var errs []error
	seen := map[string]int{}
	for i, p := range pool {
		f := fmt.Sprintf("%s.pool[%d]", field, i)
		if p.From == "" && p.MessagingServiceSID == "" {
			errs = append(errs, fmt.Errorf("%s: need messaging_service_sid or from", f))
		} else if j, dup := seen[p.ID()]; dup {
			errs = append(errs, fmt.Errorf("%s: sender %s is already pool[%d]", f, p.ID(), j))
		} else {
			seen[p.ID()] = i
		}
		errs = append(errs, validateSender(f, p.From, p.MessagingServiceSID, p.MPS)...)
		if p.MPS > MaxMPS {
			errs = append(errs, fmt.Errorf("%s.mps: %g is above %g", f, p.MPS, MaxMPS))
		} else if p.MPS > 0 && p.MPS < 1 {
			errs = append(errs, fmt.Errorf("%s.mps: %g is below 1", f, p.MPS))
		}
		if p.DailyCap < 0 {
			errs = append(errs, fmt.Errorf("%s.daily_cap must not be negative, got %d", f, p.DailyCap))
		}
		switch p.Class {
		case "", Class10DLC, ClassTollFree, ClassShortCode:
		default:
			errs = append(errs, fmt.Errorf("%s.class %q must be 10dlc, toll_free or short_code", f, p.Class))
		}
	}
	return errs
}

func validFrom(s string) bool {
	if e164Pattern.MatchString(s) || shortCodePattern.MatchString(s) {
		return true
	}
	return alphaIDPattern.MatchString(s) && strings.ContainsAny(strings.ToLower(s), "abcdefghijklmnopqrstuvwxyz")
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q must use http or https", s)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", s)
	}
	return nil
}

func supportedRegion(region string) bool {
	_, ok := phonenumbers.GetSupportedRegions()[region]
	return ok
}
