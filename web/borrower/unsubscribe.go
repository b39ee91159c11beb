package borrower

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/web"
)

// UnsubscribePath is the route of one-click unsubscribe links; the token
// follows it. The renderer builds the same path from the public URL.
const UnsubscribePath = dispatcher.UnsubscribePath

// OptOutSourceEmailLink is the opt-out source recorded by the unsubscribe link.
const OptOutSourceEmailLink = "email_link"

//go:embed templates/unsubscribe.html
var unsubFS embed.FS

var unsubPage = template.Must(template.ParseFS(unsubFS, "templates/unsubscribe.html"))

var unsubMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(unsubLocales))
	for i, l := range unsubLocales {
		tags[i] = language.MustParse(l)
	}
	return language.NewMatcher(tags)
}()

// UnsubscribeStore is the part of the store the unsubscribe page uses.
type UnsubscribeStore interface {
	AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error)
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	AppendEvent(ctx context.Context, e nudge.Event) error
}

// Unsubscribe serves the one-click unsubscribe links of reminder emails
// (RFC 8058). GET /u/{token} shows a page, in the borrower's language, with
// a button and changes nothing. POST /u/{token} with the form field
// List-Unsubscribe=One-Click (form-encoded or multipart, as a mail client or
// the page's button sends it) records an opt-out of the token's address on
// its channel for its lender and answers 200 with a confirmation page,
// never a redirect and never a cookie; repeating it changes nothing more.
// A truncated or altered token gets 400, an unknown one (or one revoked by
// an erasure, or for another purpose) 410, both with the "this link does not
// work" page, and change nothing.
//
// Tokens are opaque keys resolved with link.Unsubscribe; the store maps
// them to the lender, account, channel and address. A token past an expiry
// is still honoured: a borrower's way out must keep working. So is the
// signed token of an email sent before links became opaque, while its
// address is still a contact of its account
// (link.Service.ResolveLegacyUnsubscribe). Logs name a link by its masked
// token, never in full.
type Unsubscribe struct {
	Links  *link.Service
	Store  UnsubscribeStore
	Clock  nudge.Clock
	Logger *slog.Logger
	// Metrics counts new opt-outs; nil counts nothing.
	Metrics metrics.Recorder
}

// Register adds GET and POST /u/{token} to s.
func (u *Unsubscribe) Register(s *web.Server) {
	s.Handle("GET "+UnsubscribePath+"{token}", http.HandlerFunc(u.show))
	s.Handle("POST "+UnsubscribePath+"{token}", http.HandlerFunc(u.unsubscribe))
}

// unsubView is what the page template sees.
type unsubView struct {
	Lang    string
	T       unsubText
	State   string // confirm, done, invalid, error
	Heading string
	Notice  string
	Lender  string
	Address string
}

// show answers GET: the confirmation page, or 400 for a bad token.
func (u *Unsubscribe) show(w http.ResponseWriter, r *http.Request) {
	claims, ok := u.verify(w, r)
	if !ok {
		return
	}
	v := u.view(r, claims)
	v.State, v.Heading = "confirm", v.T.Title
	u.write(w, http.StatusOK, v)
}

// unsubscribe answers POST: records the opt-out.
func (u *Unsubscribe) unsubscribe(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxUnsubscribeBody)
	claims, ok := u.verify(w, r)
	if !ok {
		return
	}
	if !oneClick(r) {
		v := u.view(r, claims)
		v.State, v.Heading, v.Notice = "confirm", v.T.Title, v.T.NeedsButton
		u.write(w, http.StatusBadRequest, v)
		return
	}
	ctx := r.Context()
	now := u.Clock.Now()
	detail, _ := json.Marshal(map[string]any{
		"source": OptOutSourceEmailLink, "channel": claims.Channel, "address": channels.Mask(claims.Address), "new": true,
	})
	// The opt-out and its event are one transaction.
	added, err := u.Store.AddOptOut(ctx, nudge.OptOut{
		Lender: claims.Lender, Channel: claims.Channel, Address: claims.Address,
		Source: OptOutSourceEmailLink, Reason: "one-click unsubscribe link", CreatedAt: now,
	}, nudge.Event{
		Lender: claims.Lender, AccountID: claims.AccountID, Kind: nudge.EventOptOut,
		Action: "opt_out", Reason: nudge.ReasonOptedOut, Detail: detail, At: now,
	})
	if err != nil {
		u.logger().Error("recording unsubscribe failed", "lender", claims.Lender, "channel", claims.Channel,
			"address", channels.Mask(claims.Address), "err", err)
		v := u.view(r, claims)
		v.State, v.Heading = "error", v.T.ErrorTitle
		u.write(w, http.StatusInternalServerError, v)
		return
	}
	if added && u.Metrics != nil {
		u.Metrics.OptOut(OptOutSourceEmailLink)
	}
	if added {
		u.logger().Info("unsubscribed", "lender", claims.Lender, "account", claims.AccountID,
			"channel", claims.Channel, "address", channels.Mask(claims.Address))
	}
	v := u.view(r, claims)
	v.State, v.Heading = "done", v.T.DoneTitle
	u.write(w, http.StatusOK, v)
}

// verify resolves the token of the request; on failure it has answered.
func (u *Unsubscribe) verify(w http.ResponseWriter, r *http.Request) (link.Link, bool) {
	token := r.PathValue("token")
	l, err := u.Links.Resolve(r.Context(), token, link.Unsubscribe)
	if errors.Is(err, link.ErrExpired) {
		err = nil
	}
	if errors.Is(err, link.ErrMalformed) {
		// The signed link of an email sent before links became opaque.
		if legacy, ok := u.Links.ResolveLegacyUnsubscribe(token); ok && u.stillContact(r.Context(), legacy) {
			l, err = legacy, nil
			token = "(signed link of old)"
		}
	}
	if err == nil && (l.Lender == "" || l.Address == "" || !l.Channel.Valid()) {
		err = fmt.Errorf("%w: the token lacks a lender, channel or address", link.ErrUnknown)
	}
	if err == nil {
		return l, true
	}
	text, lang := unsubLanguage(r)
	code := http.StatusGone
	switch {
	case errors.Is(err, link.ErrMalformed):
		code = http.StatusBadRequest
	case !errors.Is(err, link.ErrUnknown) && !errors.Is(err, link.ErrPurpose):
		u.logger().Error("resolving unsubscribe link failed", "method", r.Method, "token", link.Mask(token), "err", err)
		u.write(w, http.StatusInternalServerError, unsubView{Lang: lang, T: text, State: "error", Heading: text.ErrorTitle})
		return link.Link{}, false
	}
	u.logger().Warn("unsubscribe link refused", "method", r.Method, "token", link.Mask(token), "err", err)
	u.write(w, code, unsubView{Lang: lang, T: text, State: "invalid", Heading: text.InvalidTitle})
	return link.Link{}, false
}

// stillContact reports whether the link's address is still a contact of
// its account: a signed link of old cannot be revoked, so one whose
// borrower was erased (or whose address was replaced) is refused.
func (u *Unsubscribe) stillContact(ctx context.Context, l link.Link) bool {
	acct, err := u.Store.GetAccount(ctx, l.Lender, l.AccountID)
	if err != nil {
		return false
	}
	for _, c := range acct.Contacts {
		if c.Channel == l.Channel && strings.EqualFold(strings.TrimSpace(c.Address), strings.TrimSpace(l.Address)) {
			return true
		}
	}
	return false
}

// oneClick reports whether the form (URL-encoded or multipart) carries
// List-Unsubscribe=One-Click.
func oneClick(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(web.MaxUnsubscribeBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return false
	}
	for _, v := range r.PostForm["List-Unsubscribe"] {
		if v == "One-Click" {
			return true
		}
	}
	return false
}

// view fills the page's language, lender name and masked address: the
// borrower's language, then the lender's, then the browser's, then English.
func (u *Unsubscribe) view(r *http.Request, c link.Link) unsubView {
	ctx := r.Context()
	var prefs []string
	if c.AccountID != "" {
		acct, err := u.Store.GetAccount(ctx, c.Lender, c.AccountID)
		switch {
		case err == nil:
			prefs = append(prefs, acct.Borrower.Language)
		case !errors.Is(err, nudge.ErrNotFound):
			u.logger().Warn("unsubscribe page: loading account", "lender", c.Lender, "account", c.AccountID, "err", err)
		}
	}
	name := c.Lender
	lender, err := u.Store.GetLender(ctx, c.Lender)
	switch {
	case err == nil:
		prefs = append(prefs, lender.Language)
		if lender.Name != "" {
			name = lender.Name
		}
	case !errors.Is(err, nudge.ErrNotFound):
		u.logger().Warn("unsubscribe page: loading lender", "lender", c.Lender, "err", err)
	}
	lang := matchUnsubLocale(prefs, r.Header.Get("Accept-Language"))
	return unsubView{Lang: lang, T: unsubTexts[lang], Lender: name, Address: channels.Mask(c.Address)}
}

// unsubLanguage picks the page language from the browser alone.
func unsubLanguage(r *http.Request) (unsubText, string) {
	lang := matchUnsubLocale(nil, r.Header.Get("Accept-Language"))
	return unsubTexts[lang], lang
}

// matchUnsubLocale returns the first page locale that serves one of prefs
// (BCP 47 tags, empty ones skipped), then one of the Accept-Language header,
// then the fallback. Regional variants match (es-MX reads es).
func matchUnsubLocale(prefs []string, acceptLanguage string) string {
	var tags []language.Tag
	for _, p := range prefs {
		if t, err := language.Parse(p); err == nil && p != "" {
			tags = append(tags, t)
		}
	}
	if al, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil {
		tags = append(tags, al...)
	}
	for _, t := range tags {
		if _, idx, conf := unsubMatcher.Match(t); conf != language.No {
			return unsubLocales[idx]
		}
	}
	return unsubLocales[0]
}

// write renders the page with headers that keep it out of caches and
// referrers and forbid scripts and framing.
func (u *Unsubscribe) write(w http.ResponseWriter, code int, v unsubView) {
	writeBorrowerPage(w, u.logger(), unsubPage, code, v.Lang, v)
}

func (u *Unsubscribe) logger() *slog.Logger {
	if u.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return u.Logger
}
