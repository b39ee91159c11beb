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
	// BreakerFilterMin, BreakerFilterShare and BreakerFilterWindow take a
	// pool's SMS sender out when, within BreakerFilterWindow, carriers
	// filtered (30007) at least BreakerFilterMin of its messages and they
	// make up at least BreakerFilterShare (0 to 1) of those whose delivery
	// was reported (DefaultFilterMin, DefaultFilterShare and
	// DefaultFilterWindow when zero).
	BreakerFilterMin    int           `yaml:"breaker_filter_min" json:"breaker_filter_min"`
	BreakerFilterShare  float64       `yaml:"breaker_filter_share" json:"breaker_filter_share"`
	BreakerFilterWindow time.Duration `yaml:"breaker_filter_window" json:"breaker_filter_window"`
	// VoiceSenders routes calls per lender and destination country, as
	// Senders routes messages; a route's pool lists several caller IDs
	// (E.164 numbers) with failover (see Voice.Send). Calls that match no
	// route come from the voice sender's default caller ID.
	VoiceSenders []SenderRoute `yaml:"voice_senders" json:"voice_senders"`
}

// Breaker returns the breaker settings of c's pools with OnChange and Now
// left for the caller to set.
func (c Config) Breaker() BreakerConfig {
	return BreakerConfig{Threshold: c.BreakerThreshold, Cooldown: c.BreakerCooldown,
		FilterMin: c.BreakerFilterMin, FilterShare: c.BreakerFilterShare, FilterWindow: c.BreakerFilterWindow}
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
	// AccountSID, when set, is the Twilio (sub)account the sender belongs
	// to ("AC…"): its messages and calls are created, looked up and their
	// webhooks' signatures checked with that account's credentials. Empty
	// means the main account (Config.AccountSID).
	AccountSID string `yaml:"account_sid" json:"account_sid"`
	// AuthToken is the auth token of AccountSID; required with it unless
	// AuthTokenFile names a file holding it.
	AuthToken string `yaml:"auth_token" json:"auth_token"`
	// AuthTokenFile names a file holding AuthToken (read when AuthToken is
	// empty).
	AuthTokenFile string `yaml:"auth_token_file" json:"auth_token_file" secret:"AuthToken"`
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

// loadSecrets fills AuthToken, and the auth tokens of the pools' senders,
// from their *_file settings when needed. It copies the routes it changes,
// so the caller's slices are left alone.
func (c *Config) loadSecrets() error {
	var err error
	if c.AuthToken, err = readSecret(c.AuthToken, c.AuthTokenFile, "twilio.auth_token_file"); err != nil {
		return err
	}
	for _, list := range []struct {
		key    string
		routes *[]SenderRoute
	}{{"twilio.senders", &c.Senders}, {"twilio.voice_senders", &c.VoiceSenders}} {
		routes := append([]SenderRoute(nil), *list.routes...)
		for i := range routes {
			pool := append([]PoolSender(nil), routes[i].Pool...)
			for j := range pool {
				key := fmt.Sprintf("%s[%d].pool[%d].auth_token_file", list.key, i, j)
				if pool[j].AuthToken, err = readSecret(pool[j].AuthToken, pool[j].AuthTokenFile, key); err != nil {
					return err
				}
			}
			routes[i].Pool = pool
		}
		*list.routes = routes
	}
	return nil
}

// readSecret returns value, else the trimmed content of file (named key in
// errors), else "".
func readSecret(value, file, key string) (string, error) {
	if value != "" || file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// account is the Twilio account one request is made with.
type account struct {
	sid, token string
}

// accountOf is the account sender p sends through: its own subaccount, else
// the main one.
func (c Config) accountOf(p PoolSender) account {
	if p.AccountSID != "" {
		return account{sid: p.AccountSID, token: p.AuthToken}
	}
	return account{sid: c.AccountSID, token: c.AuthToken}
}

// AccountTokens returns the auth token of every account the config sends
// through, by account SID: the main account and each pool sender's
// subaccount. Webhooks of a subaccount are signed with its own token, so a
// callback's AccountSid picks the token its signature is checked with.
func (c Config) AccountTokens() map[string]string {
	out := map[string]string{}
	if c.AccountSID != "" {
		out[c.AccountSID] = c.AuthToken
	}
	for _, routes := range [][]SenderRoute{c.Senders, c.VoiceSenders} {
		for _, r := range routes {
			for _, p := range r.Pool {
				if p.AccountSID != "" {
					out[p.AccountSID] = p.AuthToken
				}
			}
		}
	}
	return out
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
	errs = append(errs, c.validateBreaker()...)
	errs = append(errs, validateAccounts(c.AccountSID, "twilio.senders", c.Senders)...)
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
	return errors.Join(errs...)
}

// validateBreaker checks the breaker settings; zero means the default.
func (c Config) validateBreaker() []error {
	var errs []error
	if c.BreakerThreshold < 0 {
		errs = append(errs, fmt.Errorf("twilio.breaker_threshold must not be negative, got %d", c.BreakerThreshold))
	}
	if c.BreakerCooldown < 0 {
		errs = append(errs, fmt.Errorf("twilio.breaker_cooldown must not be negative, got %s", c.BreakerCooldown))
	}
	if c.BreakerFilterMin < 0 {
		errs = append(errs, fmt.Errorf("twilio.breaker_filter_min must not be negative, got %d", c.BreakerFilterMin))
	}
	if c.BreakerFilterShare < 0 || c.BreakerFilterShare > 1 {
		errs = append(errs, fmt.Errorf("twilio.breaker_filter_share must be between 0 and 1 (a share of the delivery reports; 0 means %g), got %g", DefaultFilterShare, c.BreakerFilterShare))
	}
	if c.BreakerFilterWindow < 0 {
		errs = append(errs, fmt.Errorf("twilio.breaker_filter_window must not be negative, got %s", c.BreakerFilterWindow))
	} else if c.BreakerFilterWindow > 0 && c.BreakerFilterWindow < time.Second {
		errs = append(errs, fmt.Errorf("twilio.breaker_filter_window must be at least 1s, got %s", c.BreakerFilterWindow))
	}
	return errs
}

// validateAccounts checks the subaccount credentials of the routes' pool
// senders (key is "twilio.senders" or "twilio.voice_senders"): a valid
// account SID with an alphanumeric token, and one token per account.
func validateAccounts(main, key string, routes []SenderRoute) []error {
	var errs []error
	tokens := map[string]string{}
	for i, r := range routes {
		for j, p := range r.Pool {
			f := fmt.Sprintf("%s[%d].pool[%d]", key, i, j)
			if p.AccountSID == "" {
				if p.AuthToken != "" || p.AuthTokenFile != "" {
					errs = append(errs, fmt.Errorf("%s.auth_token: set only with %s.account_sid (the subaccount it belongs to)", f, f))
				}
				continue
			}
			if !accountSIDPattern.MatchString(p.AccountSID) {
				errs = append(errs, fmt.Errorf("%s.account_sid must match ^AC[0-9a-fA-F]{32}$", f))
			}
			switch {
			case p.AuthToken == "" && p.AuthTokenFile == "":
				errs = append(errs, fmt.Errorf("%s.auth_token (or auth_token_file) is required with account_sid", f))
				continue
			case p.AuthToken != "" && !credentialPattern.MatchString(p.AuthToken):
				errs = append(errs, fmt.Errorf("%s.auth_token must be alphanumeric", f))
				continue
			}
			if p.AccountSID == main {
				errs = append(errs, fmt.Errorf("%s.account_sid is twilio.account_sid: leave it empty for the main account", f))
			}
			if t, ok := tokens[p.AccountSID]; ok && p.AuthToken != "" && t != "" && t != p.AuthToken {
				errs = append(errs, fmt.Errorf("%s.auth_token differs from another sender's token for account %s", f, p.AccountSID))
			}
			if p.AuthToken != "" {
				tokens[p.AccountSID] = p.AuthToken
			}
		}
	}
	return errs
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
