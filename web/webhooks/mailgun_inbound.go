package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/channels/mailgun"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/reply"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/web"
)

// MailgunInboundPath is where a Mailgun route forwards borrowers' email
// replies: forward("https://nudge.example/webhooks/mailgun/inbound").
const MailgunInboundPath = web.MailgunWebhooksPrefix + "inbound"

// ReplyLinks resolves the reply token of an email's Reply-To; *link.Service is one.
type ReplyLinks interface {
	Resolve(ctx context.Context, token string, want link.Purpose) (link.Link, error)
}

// MailgunInbound serves the inbound email a Mailgun route forwards: the
// replies borrowers send to a lender's Reply-To address. Nudge's emails
// carry that address plus-addressed with an opaque reply token
// (replies+{tag}@reply.acme.example); the token names the borrower's
// account and address, and nothing else does: a reply is never matched by
// its sender's address, which anyone can forge.
//
// A request is answered
//
//   - 403 when its signature (HMAC-SHA256 under the signing key) is wrong
//     or its timestamp more than mailgun.DefaultMaxAge from now: nothing
//     changes;
//   - 413 when it is larger than the route's limit (Limits.Body.Email) or
//     one of its text fields larger than mailgun.MaxFieldBytes;
//   - 406 when it names no borrower (no tag, a tag that is no token, an
//     unknown or revoked token, a token of another lender's address, an
//     address the account no longer has): nothing changes, and Mailgun
//     does not retry;
//   - 200 once the reply went through response.Handler like a text: what
//     the borrower wrote above the quoted message and signature
//     (reply.EmailText) is parsed with the email channel's defaults, so
//     "stop" opts the address out of email, a promise pauses the cadence and
//     what is not understood waits for a person. No confirmation is sent.
//   - 500 when the store failed: Mailgun retries, and the email's
//     Message-Id makes the retry a duplicate of nothing.
type MailgunInbound struct {
	// SigningKey is the Mailgun domain's HTTP webhook signing key.
	SigningKey string
	Links      ReplyLinks
	// ReplyAddress returns the Reply-To address (bare, without a tag) the
	// lender's email carries; a reply's recipient must be it.
	ReplyAddress func(lender string) string
	Replies      Replier
	Clock        nudge.Clock
	Logger       *slog.Logger
}

// Register adds the inbound route to s.
func (m *MailgunInbound) Register(s *web.Server) {
	s.Handle("POST "+MailgunInboundPath, http.HandlerFunc(m.inbound))
}

func (m *MailgunInbound) inbound(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in, err := mailgun.ReadInbound(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, mailgun.ErrFieldTooLarge) {
			w.Header().Set("Connection", "close")
			http.Error(w, "the email is too large", http.StatusRequestEntityTooLarge)
			return
		}
		// Unreadable: as a refused signature, it counts against the address.
		m.logger().Warn("mailgun inbound refused", "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if err := in.Verify(m.SigningKey, m.Clock.Now(), 0); err != nil {
		m.logger().Warn("mailgun inbound refused", "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	l, ok, err := m.match(ctx, in.Recipient)
	if err != nil {
		m.fail(w, "resolving reply token", err)
		return
	}
	if !ok {
		m.logger().Info("mailgun inbound names no borrower", "recipient", channels.Mask(in.Recipient))
		http.Error(w, "no borrower for this recipient", http.StatusNotAcceptable)
		return
	}
	body := reply.EmailText(in.Subject, in.BodyPlain)
	if body == "" {
		body = reply.EmailText(in.Subject, in.StrippedText)
	}
	out, err := m.Replies.Handle(ctx, response.Inbound{
		Channel: nudge.Email, From: l.Address, To: m.ReplyAddress(l.Lender), Body: body, ProviderID: in.MessageID,
		Lender: l.Lender, AccountID: l.AccountID,
	})
	if errors.Is(err, response.ErrUnmatched) {
		m.logger().Info("mailgun inbound for an address the account no longer has", "lender", l.Lender, "token", link.Mask(l.Token))
		http.Error(w, "no borrower for this recipient", http.StatusNotAcceptable)
		return
	}
	if err != nil {
		m.fail(w, "handling email reply", err)
		return
	}
	m.logger().Info("email reply", "lender", l.Lender, "intent", out.Reply.Intent, "needs_person", out.Reply.NeedsPerson,
		"duplicate", out.Duplicate)
	w.WriteHeader(http.StatusOK)
}

// match finds the reply token in recipient's tag, and reports whether it
// is a live reply token of an email address whose lender's reply address
// the recipient is.
func (m *MailgunInbound) match(ctx context.Context, recipient string) (link.Link, bool, error) {
	a, _ := mail.ParseAddress(recipient)
	if a == nil {
		return link.Link{}, false, nil // not an address: no borrower to match
	}
	base, tag, ok := smtp.ReplyTag(a.Address)
	if !ok {
		return link.Link{}, false, nil
	}
	token, ok := link.TokenFromAddressTag(tag)
	if !ok {
		return link.Link{}, false, nil
	}
	l, err := m.Links.Resolve(ctx, token, link.Reply)
	switch {
	case errors.Is(err, link.ErrMalformed), errors.Is(err, link.ErrUnknown), errors.Is(err, link.ErrPurpose), errors.Is(err, link.ErrExpired):
		return link.Link{}, false, nil
	case err != nil:
		return link.Link{}, false, err
	}
	if l.Channel != nudge.Email || l.Address == "" || !strings.EqualFold(base, m.ReplyAddress(l.Lender)) {
		return link.Link{}, false, nil
	}
	return l, true, nil
}

func (m *MailgunInbound) fail(w http.ResponseWriter, what string, err error) {
	m.logger().Error("mailgun inbound failed", "step", what, "err", err)
	http.Error(w, "temporary failure", http.StatusInternalServerError)
}

func (m *MailgunInbound) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}
