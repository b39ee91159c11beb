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

// emailIdentities checks each lender's email_from and email_reply_to and
// returns those of the lenders that set one, for the SMTP sender; errors
// name the setting ("lenders[1].email_from: …").
func (c Config) emailIdentities() (map[string]smtp.Identity, error) {
	out := map[string]smtp.Identity{}
	var errs []error
	for i, l := range c.Lenders {
		id := smtp.Identity{From: strings.TrimSpace(l.EmailFrom), ReplyTo: strings.TrimSpace(l.EmailReplyTo)}
		if err := id.Validate(fmt.Sprintf("lenders[%d]", i)); err != nil {
			errs = append(errs, err)
			continue
		}
		if id != (smtp.Identity{}) {
			out[l.ID] = id
		}
	}
	if c.Mailgun.SigningKey != "" && !c.anyReplyAddress() {
		errs = append(errs, errors.New("mailgun.signing_key is set but no lender has a reply address: set smtp.reply_to or lenders[].email_reply_to"))
	}
	return out, errors.Join(errs...)
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
