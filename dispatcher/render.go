package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/templates"
)

// DefaultLinkTTL is how long a borrower's self-service link stays valid. A
// live link with at least half of it left is reused, so a borrower's texts
// carry the same link for about two weeks and the token table grows per
// borrower, not per message.
const DefaultLinkTTL = 30 * 24 * time.Hour

// DefaultVoiceLinkTTL is how long a call's webhook token stays valid: long
// past the call's end, as Twilio's callbacks may come late.
const DefaultVoiceLinkTTL = 7 * 24 * time.Hour

// Paths of borrowers' links; web/borrower serves them.
const (
	SelfServicePath = "/p/"
	UnsubscribePath = "/u/"
)

// RendererStore is the part of the store the TemplateRenderer reads.
type RendererStore interface {
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error)
	// ListPromises gives the broken promise a broken-promise step speaks of.
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
}

// TemplateRenderer renders reminders from a template pack: in the borrower's
// language (then the lender's, then English), with the lender's name and
// numbers, the disclosures the profile requires, a self-service link and,
// for email, a one-click unsubscribe link (RFC 8058). Links carry only an
// opaque token (link.Service) that the store maps to the account: no
// account id, number or address. A call's message carries the token of its
// webhooks in Headers[link.VoiceHeader], issued here, before the last gate,
// so that nothing waits on the store between the sending mark and the call.
type TemplateRenderer struct {
	Pack     *templates.Pack
	Store    RendererStore
	Profiles Profiles
	// TemplateFor names the template of r's step on channel ch (the step's
	// fallback template when ch is its fallback channel).
	TemplateFor func(ctx context.Context, r nudge.Reminder, ch nudge.ChannelKind) (string, error)
	Links       *link.Service
	// PublicURL is the address borrowers reach Nudge at, without a trailing slash.
	PublicURL string
	Clock     nudge.Clock
	// LinkTTL is DefaultLinkTTL when zero.
	LinkTTL time.Duration
	// ReplyTokens gives every email a reply token, in its address form
	// (link.AddressTag), in Headers[link.ReplyHeader]: the sender makes it
	// the tag of the email's Reply-To, so that a reply names its borrower.
	// Like the unsubscribe link it never expires.
	ReplyTokens bool
	// PayLink returns the lender's payment portal link for the account
	// (payment.LinkFor), which templates show as Data.PayLink; nil or ""
	// means none.
	PayLink func(l nudge.Lender, a nudge.Account) string
	// LenderTTL is how long a lender read from the store is reused
	// (DefaultLenderTTL when zero, never when negative): a change to a
	// lender's name or numbers shows in messages within it.
	LenderTTL time.Duration

	lenders sync.Map // lender id → cachedLender
}

// DefaultLenderTTL is how long the renderer reuses a lender it read.
const DefaultLenderTTL = 10 * time.Second

// cachedLender is a lender and when it was read.
type cachedLender struct {
	lender nudge.Lender
	at     time.Time
}

var _ Renderer = (*TemplateRenderer)(nil)

// lender returns the lender id, from the cache while it is fresh. A lender
// that does not exist is not an error: messages then name the lender by id.
func (t *TemplateRenderer) lender(ctx context.Context, id string) (nudge.Lender, error) {
	ttl := t.LenderTTL
	if ttl == 0 {
		ttl = DefaultLenderTTL
	}
	now := t.Clock.Now()
	if v, ok := t.lenders.Load(id); ok && ttl > 0 {
		if c := v.(cachedLender); now.Sub(c.at) < ttl && !now.Before(c.at) {
			return c.lender, nil
		}
	}
	l, err := t.Store.GetLender(ctx, id)
	if err != nil && !errors.Is(err, nudge.ErrNotFound) {
		return nudge.Lender{}, fmt.Errorf("loading lender %s: %w", id, err)
	}
	if ttl > 0 {
		t.lenders.Store(id, cachedLender{lender: l, at: now})
	}
	return l, nil
}

// Render implements Renderer.
func (t *TemplateRenderer) Render(ctx context.Context, in RenderInput) (*nudge.Message, error) {
	r, acct, att := in.Reminder, in.Account, in.Attempt
	lender, err := t.lender(ctx, acct.Lender)
	if err != nil {
		return nil, err
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
	data.Disclosure = profile.Discloses()
	if data.Disclosure {
		if in.Contacted != nil {
			data.FirstContact = !*in.Contacted
		} else if data.FirstContact, err = t.firstContact(ctx, att, in.History); err != nil {
			return nil, err
		}
	}
	ttl := t.LinkTTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	base := strings.TrimRight(t.PublicURL, "/")
	subject := link.Link{Lender: acct.Lender, AccountID: acct.ID, Channel: att.Channel, Address: att.Address}
	self := subject
	self.Purpose = link.SelfService
	if self, err = t.Links.Issue(ctx, self, ttl); err != nil {
		return nil, fmt.Errorf("self-service link: %w", err)
	}
	data.Link = base + SelfServicePath + self.Token
	if t.PayLink != nil {
		data.PayLink = t.PayLink(lender, acct)
	}
	headers := map[string]string{}
	switch att.Channel {
	case nudge.Email:
		unsub := subject
		unsub.Purpose = link.Unsubscribe
		if unsub, err = t.Links.Issue(ctx, unsub, 0); err != nil { // a way out never expires
			return nil, fmt.Errorf("unsubscribe link: %w", err)
		}
		data.UnsubscribeURL = base + UnsubscribePath + unsub.Token
		headers["List-Unsubscribe"] = "<" + data.UnsubscribeURL + ">"
		headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
		if t.ReplyTokens {
			rt := subject
			rt.Purpose = link.Reply
			if rt, err = t.Links.Issue(ctx, rt, 0); err != nil {
				return nil, fmt.Errorf("reply token: %w", err)
			}
			headers[link.ReplyHeader] = link.AddressTag(rt.Token)
		}
	case nudge.Voice:
		call := subject
		call.Purpose, call.Attempt = link.Voice, att.ID
		if call, err = t.Links.Issue(ctx, call, DefaultVoiceLinkTTL); err != nil {
			return nil, fmt.Errorf("call token: %w", err)
		}
		headers[link.VoiceHeader] = call.Token
	}
	out, err := t.Pack.Render(tmpl, att.Channel, templates.Locales(acct.Borrower.Language, lender.Language), data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", nudge.ErrUnrenderable, err)
	}
	m := &nudge.Message{
		Channel: att.Channel, Locale: out.Locale, To: att.Address,
		Subject: out.Subject, Text: out.Text, HTML: out.HTML, Headers: headers, Menu: out.Menu,
		Template: out.Version,
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

// firstContact reports whether no earlier attempt on the account reached a
// provider. The recent attempts the decision was made on answer it when one
// of them did; only otherwise is the account's whole history read.
func (t *TemplateRenderer) firstContact(ctx context.Context, att nudge.Attempt, recent []nudge.Attempt) (bool, error) {
	if reachedProvider(recent, att.ID) {
		return false, nil
	}
	hist, err := t.Store.AttemptHistory(ctx, att.Lender, att.AccountID, time.Time{})
	if err != nil {
		return false, fmt.Errorf("loading history: %w", err)
	}
	return !reachedProvider(hist, att.ID), nil
}

// reachedProvider reports whether an attempt of attempts other than except
// reached a provider.
func reachedProvider(attempts []nudge.Attempt, except string) bool {
	for _, h := range attempts {
		if h.ID != except && h.ProviderID != "" {
			return true
		}
	}
	return false
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
