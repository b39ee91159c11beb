package main

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/nudgehq/nudge/channels/smtp"
)

// MailgunConfig configures the inbound route of borrowers' email replies
// (webhooks.MailgunInbound): a Mailgun route forwards the mail sent to the
// lenders' reply addresses to POST /webhooks/mailgun/inbound.
type MailgunConfig struct {
	// SigningKey is the Mailgun domain's HTTP webhook signing key. When it
	// is set, the api role serves the route and every email carries a
	// reply token in its Reply-To.
	SigningKey string `yaml:"signing_key"`
	// SigningKeyFile names a file holding the signing key.
	SigningKeyFile string `yaml:"signing_key_file" secret:"SigningKey"`
}

// DKIMConfig is one DKIM signing key: per domain under smtp.dkim, per
// lender under lenders[].dkim. Receivers find its public key in the DNS TXT
// record {selector}._domainkey.{domain} (docs/operations.md, "DKIM").
type DKIMConfig struct {
	// Domain is the signing domain (d=): the domain of the From address of
	// the mail it signs, or a parent of it.
	Domain string `yaml:"domain"`
	// Selector names the key within the domain ("nudge2026").
	Selector string `yaml:"selector"`
	// PrivateKey is the PEM private key: RSA (2048 bits; at least 1024) or
	// Ed25519.
	PrivateKey string `yaml:"private_key"`
	// PrivateKeyFile names a file holding the private key.
	PrivateKeyFile string `yaml:"private_key_file" secret:"PrivateKey"`
}

// dkimKeys returns the sender's form of keys.
func dkimKeys(keys []DKIMConfig) []smtp.DKIMKey {
	var out []smtp.DKIMKey
	for _, k := range keys {
		out = append(out, smtp.DKIMKey{Domain: k.Domain, Selector: k.Selector, PrivateKey: k.PrivateKey, PrivateKeyFile: k.PrivateKeyFile})
	}
	return out
}

// smtpConfig returns the email sender's configuration.
func (c Config) smtpConfig() smtp.Config {
	s := c.SMTP
	return smtp.Config{
		Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
		From: s.From, ReplyTo: s.ReplyTo, TLS: s.TLS, Timeout: s.Timeout, MPS: s.MPS,
		DKIM: dkimKeys(s.DKIM),
	}
}

// emailIdentities checks each lender's email_from, email_reply_to and DKIM
// keys, and the per-domain keys of smtp.dkim, and returns the identities of
// the lenders for the SMTP sender. A lender without email_from sends from
// smtp.from's address under its own name, so no two lenders' mail carries
// the same From. Errors name the setting, and its file and line when it was
// read from a file ("nudge.yaml:14: lenders[1].dkim[0].domain: …").
func (c Config) emailIdentities() (map[string]smtp.Identity, error) {
	out := map[string]smtp.Identity{}
	defaultFrom := strings.TrimSpace(c.SMTP.From)
	var errs []error
	for i, l := range c.Lenders {
		id := smtp.Identity{From: strings.TrimSpace(l.EmailFrom), ReplyTo: strings.TrimSpace(l.EmailReplyTo), DKIM: dkimKeys(l.DKIM)}
		if err := id.Validate(fmt.Sprintf("lenders[%d]", i), defaultFrom); err != nil {
			errs = append(errs, err)
			continue
		}
		if id.From == "" {
			id.From = lenderFrom(l.Name, defaultFrom)
		}
		if !id.IsZero() {
			out[l.ID] = id
		}
	}
	if len(errs) == 0 {
		if err := c.smtpConfig().WithDefaults().ValidateDKIM(out); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Mailgun.SigningKey != "" && !c.anyReplyAddress() {
		errs = append(errs, errors.New("mailgun.signing_key is set but no lender has a reply address: set smtp.reply_to or lenders[].email_reply_to"))
	}
	return out, c.src.locate(errors.Join(errs...))
}

// lenderFrom is the From of a lender without email_from: smtp.from's
// address under the lender's name; "" (smtp.from as it is) when either is
// missing.
func lenderFrom(name, defaultFrom string) string {
	a, err := mail.ParseAddress(defaultFrom)
	if strings.TrimSpace(name) == "" || err != nil {
		return ""
	}
	return (&mail.Address{Name: strings.TrimSpace(name), Address: a.Address}).String()
}

// replyAddress is the bare address (no display name, no tag) replies to
// the lender's email go to: its email_reply_to, else smtp.reply_to, else "".
func (c Config) replyAddress(lender string) string {
	s := strings.TrimSpace(c.SMTP.ReplyTo)
	for _, l := range c.Lenders {
		if l.ID == lender && strings.TrimSpace(l.EmailReplyTo) != "" {
			s = strings.TrimSpace(l.EmailReplyTo)
		}
	}
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return ""
	}
	return a.Address
}

// anyReplyAddress reports whether some lender's email has a Reply-To.
func (c Config) anyReplyAddress() bool {
	if c.replyAddress("") != "" {
		return true
	}
	for _, l := range c.Lenders {
		if c.replyAddress(l.ID) != "" {
			return true
		}
	}
	return false
}

// emailReplies reports whether emails carry reply tokens: the inbound
// route is configured.
func (c Config) emailReplies() bool { return c.Mailgun.SigningKey != "" }
