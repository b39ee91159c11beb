package smtp

import (
	"errors"
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"
)

// TLS modes of Config.TLS.
const (
	// TLSStartTLS connects in plain text and requires STARTTLS before AUTH
	// and MAIL (port 587 by default).
	TLSStartTLS = "starttls"
	// TLSImplicit connects over TLS from the first byte (port 465 by default).
	TLSImplicit = "tls"
	// TLSNone never encrypts (port 25 by default). Only for a relay on a
	// trusted network or a local sink: AUTH then sends the password in clear.
	TLSNone = "none"
)

// Defaults for Config.
const (
	// DefaultTimeout bounds dialing and each SMTP command.
	DefaultTimeout = 30 * time.Second
	// DefaultMPS is the messages-per-second budget of a sender without a configured rate.
	DefaultMPS = 10.0
	// DefaultStartTLSPort, DefaultTLSPort and DefaultPlainPort are the ports
	// used when Config.Port is zero, by TLS mode.
	DefaultStartTLSPort = 587
	DefaultTLSPort      = 465
	DefaultPlainPort    = 25
)

// Config configures the SMTP sender. Field names in error messages are the
// YAML keys under "smtp".
type Config struct {
	// Host is the SMTP server (relay or submission server) to send through.
	Host string `yaml:"host" json:"host"`
	// Port is the server's port; zero picks the default for TLS.
	Port int `yaml:"port" json:"port"`
	// Username and Password authenticate when Username is set.
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"password"`
	// PasswordFile names a file holding the password; New reads it when
	// Password is empty.
	PasswordFile string `yaml:"password_file" json:"password_file"`
	// From is the sender address, optionally with a display name
	// ("Acme Auto Finance <reminders@acme.example>"). It is both the header
	// From and the envelope sender.
	From string `yaml:"from" json:"from"`
	// ReplyTo, when set, is the Reply-To of every message whose lender has
	// no reply address of its own (see Identity); empty means replies go
	// to From.
	ReplyTo string `yaml:"reply_to" json:"reply_to"`
	// TLS is TLSStartTLS (the default), TLSImplicit or TLSNone.
	TLS string `yaml:"tls" json:"tls"`
	// Timeout bounds dialing and each SMTP command; DefaultTimeout when zero.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// MPS is the messages-per-second budget of the sender; DefaultMPS when zero.
	MPS float64 `yaml:"mps" json:"mps"`
	// Domain is the right-hand side of generated Message-IDs and the name
	// sent in EHLO; the domain of From when empty.
	Domain string `yaml:"domain" json:"domain"`
	// DKIM are the per-domain signing keys: a message whose From is in a
	// key's domain (or below it) is signed with it, unless its lender has
	// keys of its own (Identity.DKIM) for that From. Every key must cover
	// some From address mail goes out from (ValidateDKIM).
	DKIM []DKIMKey `yaml:"dkim" json:"dkim"`
}

// WithDefaults returns a copy of c with empty fields filled and values normalised.
func (c Config) WithDefaults() Config {
	c.Host = strings.TrimSpace(c.Host)
	c.From = strings.TrimSpace(c.From)
	c.ReplyTo = strings.TrimSpace(c.ReplyTo)
	c.TLS = strings.ToLower(strings.TrimSpace(c.TLS))
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.Port = DefaultTLSPort
		case TLSNone:
			c.Port = DefaultPlainPort
		default:
			c.Port = DefaultStartTLSPort
		}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MPS == 0 {
		c.MPS = DefaultMPS
	}
	if c.Domain == "" {
		if a, err := mail.ParseAddress(c.From); err == nil {
			if at := strings.LastIndex(a.Address, "@"); at >= 0 {
				c.Domain = a.Address[at+1:]
			}
		}
	}
	c.Domain = strings.ToLower(strings.TrimSpace(c.Domain))
	return c
}

// loadSecrets fills Password from PasswordFile when needed.
func (c *Config) loadSecrets() error {
	if c.Password != "" || c.PasswordFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return fmt.Errorf("smtp.password_file: %w", err)
	}
	c.Password = strings.TrimRight(string(b), "\r\n")
	return nil
}

// Validate reports every problem in c, naming the field. Call it on the
// result of WithDefaults.
func (c Config) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("smtp.host is required"))
	} else if strings.ContainsAny(c.Host, " /:") && !strings.HasPrefix(c.Host, "[") {
		errs = append(errs, fmt.Errorf("smtp.host %q must be a host name or IP address without a port", c.Host))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp.port must be between 1 and 65535, got %d", c.Port))
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("smtp.tls must be %q, %q or %q, got %q", TLSStartTLS, TLSImplicit, TLSNone, c.TLS))
	}
	fromOK := false
	if c.From == "" {
		errs = append(errs, errors.New("smtp.from is required"))
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp.from %q is not an email address: %w", c.From, err))
	} else {
		fromOK = true
	}
	if c.ReplyTo != "" {
		if err := checkAddress(c.ReplyTo); err != nil {
			errs = append(errs, fmt.Errorf("smtp.reply_to: %w", err))
		}
	}
	if c.Username == "" && (c.Password != "" || c.PasswordFile != "") {
		errs = append(errs, errors.New("smtp.username is required when a password is set"))
	}
	if c.Username != "" && c.Password == "" && c.PasswordFile == "" {
		errs = append(errs, errors.New("smtp.password (or password_file) is required when smtp.username is set"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("smtp.timeout must not be negative, got %s", c.Timeout))
	}
	if c.MPS < 0 {
		errs = append(errs, fmt.Errorf("smtp.mps must not be negative, got %g", c.MPS))
	}
	if c.Domain == "" && fromOK {
		errs = append(errs, errors.New("smtp.domain is required (it defaults to the domain of smtp.from)"))
	} else if c.Domain != "" && strings.ContainsAny(c.Domain, " <>@\r\n") {
		errs = append(errs, fmt.Errorf("smtp.domain %q is not a domain name", c.Domain))
	}
	return errors.Join(errs...)
}

// loadKeys reads the private key files of c.DKIM.
func (c *Config) loadKeys() error {
	c.DKIM = append([]DKIMKey(nil), c.DKIM...)
	for i := range c.DKIM {
		if err := c.DKIM[i].load(fmt.Sprintf("smtp.dkim[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// ValidateDKIM reports every problem in the per-domain keys (c.DKIM, named
// "smtp.dkim[i]"): a key's fields, and a key whose domain covers none of
// the From addresses mail goes out from (c.From and the lenders' own
// From), which would never sign anything. Each problem is a *FieldError.
// Call it on the result of WithDefaults, with the private keys read.
func (c Config) ValidateDKIM(lenders map[string]Identity) error {
	froms := map[string]bool{}
	var domains []string
	add := func(s string) {
		if a, err := mail.ParseAddress(s); err == nil {
			if d := domainOf(a.Address); d != "" && !froms[d] {
				froms[d] = true
				domains = append(domains, d)
			}
		}
	}
	add(c.From)
	for _, id := range lenders {
		add(id.From)
	}
	var errs []error
	for i, k := range c.DKIM {
		field := fmt.Sprintf("smtp.dkim[%d]", i)
		s, err := k.parse(field)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		used := false
		for d := range froms {
			used = used || covers(s.domain, d)
		}
		switch {
		case used:
		case len(domains) == 0:
			errs = append(errs, fieldErr(field+".domain", "no From address is configured (smtp.from, a lender's email_from) for the key to sign"))
		default:
			errs = append(errs, fieldErr(field+".domain", "%q is not the domain of any From address mail goes out from (%s) nor a parent of one: the key would sign nothing",
				s.domain, strings.Join(sorted(domains), ", ")))
		}
	}
	return errors.Join(errs...)
}

// sorted returns s sorted.
func sorted(s []string) []string {
	s = append([]string(nil), s...)
	slices.Sort(s)
	return s
}

// Identity is how one lender's email presents itself: its own From and
// Reply-To, each falling back to Config.From and Config.ReplyTo when empty,
// and its own DKIM keys.
type Identity struct {
	// From is the header From and the envelope sender
	// ("Acme Auto Finance <reminders@acme.example>").
	From string `yaml:"from" json:"from"`
	// ReplyTo is where replies go ("Acme Auto Finance <replies@reply.acme.example>").
	// A message with a reply tag (WithReplyTagHeader) carries it
	// plus-addressed: replies+{tag}@reply.acme.example.
	ReplyTo string `yaml:"reply_to" json:"reply_to"`
	// DKIM are the lender's own signing keys; they sign its mail instead
	// of the per-domain keys (Config.DKIM). Each key's domain must be the
	// domain of the lender's From or a parent of it.
	DKIM []DKIMKey `yaml:"dkim" json:"dkim"`
}

// IsZero reports whether id sets nothing.
func (id Identity) IsZero() bool { return id.From == "" && id.ReplyTo == "" && len(id.DKIM) == 0 }

// Validate reports every problem in id, each a *FieldError named after
// prefix ("lenders[1]" gives "lenders[1].email_from: …"). defaultFrom is the
// From the lender's mail carries when id.From is empty (Config.From): each
// DKIM key must cover the domain of the From in use, otherwise its
// signature would not align with the From (DMARC) and receivers would
// treat the mail as unsigned. The private keys must have been read.
func (id Identity) Validate(prefix, defaultFrom string) error {
	var errs []error
	if id.From != "" {
		if err := checkAddress(id.From); err != nil {
			errs = append(errs, &FieldError{Field: prefix + ".email_from", Err: err})
		}
	}
	if id.ReplyTo != "" {
		if err := checkAddress(id.ReplyTo); err != nil {
			errs = append(errs, &FieldError{Field: prefix + ".email_reply_to", Err: err})
		}
	}
	from, fromField := id.From, prefix+".email_from"
	if from == "" {
		from, fromField = defaultFrom, "smtp.from"
	}
	fromDomain := ""
	if a, err := mail.ParseAddress(from); err == nil {
		fromDomain = domainOf(a.Address)
	}
	for i, k := range id.DKIM {
		field := fmt.Sprintf("%s.dkim[%d]", prefix, i)
		s, err := k.parse(field)
		switch {
		case err != nil:
			errs = append(errs, err)
		case fromDomain == "":
			errs = append(errs, fieldErr(field+".domain", "the lender's mail has no From address to sign: set %s.email_from or smtp.from", prefix))
		case !covers(s.domain, fromDomain):
			errs = append(errs, fieldErr(field+".domain", "%q is neither the domain of the lender's From (%s, from %s) nor a parent of it: the signature would not align with the From",
				s.domain, fromDomain, fromField))
		}
	}
	return errors.Join(errs...)
}

// checkAddress accepts one address (a display name allowed) that has both
// a local part and a domain.
func checkAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("%q is not an email address: %w", s, err)
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(domain, " @") {
		return fmt.Errorf("%q is not an email address", s)
	}
	return nil
}
