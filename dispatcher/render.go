package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/templates"
)

// DefaultLinkTTL is how long a borrower's self-service link stays valid.
const DefaultLinkTTL = 30 * 24 * time.Hour

// RendererStore is the part of the store the TemplateRenderer reads.
type RendererStore interface {
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error)
	// ListPromises gives the broken promise a broken-promise step speaks of.
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
}

// TemplateRenderer renders reminders from a template pack: in the borrower's
// language (then the lender's, then English), with the lender's name and
// numbers, the disclosures the profile requires, a signed self-service link and,
// for email, a signed one-click unsubscribe link (RFC 8058).
type TemplateRenderer struct {
	Pack     *templates.Pack
	Store    RendererStore
	Profiles Profiles
	// TemplateFor names the template of r's step on channel ch (the step's
	// fallback template when ch is its fallback channel).
	TemplateFor func(ctx context.Context, r nudge.Reminder, ch nudge.ChannelKind) (string, error)
	Links       *link.Signer
	// PublicURL is the address borrowers reach Nudge at, without a trailing slash.
	PublicURL string
	Clock     nudge.Clock
	// LinkTTL is DefaultLinkTTL when zero.
	LinkTTL time.Duration
}

var _ Renderer = (*TemplateRenderer)(nil)

// Render implements Renderer.
func (t *TemplateRenderer) Render(ctx context.Context, in RenderInput) (*nudge.Message, error) {
	r, acct, att := in.Reminder, in.Account, in.Attempt
	lender, err := t.Store.GetLender(ctx, acct.Lender)
	if err != nil && !errors.Is(err, nudge.ErrNotFound) {
		return nil, fmt.Errorf("loading lender %s: %w", acct.Lender, err)
	}
	name := lender.Name
	if name == "" {
		name = acct.Lender
	}
	profile, err := t.Profiles.Profile(ctx, r.Key.Lender, r.Key.Cadence)
	if err != nil {
		return nil, err
	}
	tmpl := r.Template
	if att.Channel != r.Channel {
		if tmpl, err = t.TemplateFor(ctx, r, att.Channel); err != nil {
			return nil, err
		}
	}
	now := t.Clock.Now()
	today := nudge.DateOf(now.In(compliance.PrimaryLocation(acct, in.Decision.Zones)))
	data := templates.DataFor(acct, name, today)
	data.HelpPhone = lender.HelpPhone
	data.AgentPhone = lender.AgentPhone
	if r.BrokenPromise {
		// The message names what the borrower promised, not the amount due
		// and a date offered by default.
		p, ok, err := t.brokenPromise(ctx, acct)
		if err != nil {
			return nil, err
		}
		if ok {
			data.PromiseDate, data.PromiseAmount = p.Due, p.Amount
		}
	}
	data.Disclosure = profile.Collector == compliance.ThirdParty
	if data.Disclosure {
		if data.FirstContact, err = t.firstContact(ctx, att); err != nil {
			return nil, err
		}
	}
	ttl := t.LinkTTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	base := strings.TrimRight(t.PublicURL, "/")
	claims := link.Claims{Lender: acct.Lender, AccountID: acct.ID, Channel: att.Channel, Address: att.Address}
	self := claims
	self.Purpose, self.Expires = link.SelfService, now.Add(ttl).Unix()
	data.Link = base + "/p/" + t.Links.Sign(self)
	headers := map[string]string{}
	if att.Channel == nudge.Email {
		unsub := claims
		unsub.Purpose = link.Unsubscribe
		data.UnsubscribeURL = base + "/u/" + t.Links.Sign(unsub)
		headers["List-Unsubscribe"] = "<" + data.UnsubscribeURL + ">"
		headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}
	out, err := t.Pack.Render(tmpl, att.Channel, templates.Locales(acct.Borrower.Language, lender.Language), data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", nudge.ErrUnrenderable, err)
	}
	m := &nudge.Message{
		Channel: att.Channel, Locale: out.Locale, To: att.Address,
		Subject: out.Subject, Text: out.Text, HTML: out.HTML, Headers: headers,
	}
	if att.Channel == nudge.Voice {
		m.Text = voiceScript(out)
	}
	return m, nil
}

// brokenPromise returns the latest broken promise of the account's current
// cycle, the one that started the cadence's broken-promise steps (the
// planner picks it the same way), and whether there is one.
func (t *TemplateRenderer) brokenPromise(ctx context.Context, acct nudge.Account) (nudge.Promise, bool, error) {
	ps, err := t.Store.ListPromises(ctx, acct.Lender, acct.ID)
	if err != nil {
		return nudge.Promise{}, false, fmt.Errorf("loading promises: %w", err)
	}
	p, ok := nudge.LatestBrokenPromise(ps, acct.DueDate)
	return p, ok, nil
}

// firstContact reports whether no earlier attempt on the account reached a provider.
func (t *TemplateRenderer) firstContact(ctx context.Context, att nudge.Attempt) (bool, error) {
	hist, err := t.Store.AttemptHistory(ctx, att.Lender, att.AccountID, time.Time{})
	if err != nil {
		return false, fmt.Errorf("loading history: %w", err)
	}
	for _, h := range hist {
		if h.ID != att.ID && h.ProviderID != "" {
			return false, nil
		}
	}
	return true, nil
}

// voiceScript is the spoken script of a voice template: greeting, message, menu.
func voiceScript(r templates.Rendered) string {
	var parts []string
	for _, p := range []string{templates.PartGreeting, templates.PartMessage, templates.PartMenu} {
		if s := strings.TrimSpace(r.Parts[p]); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}
