package borrower_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/borrower"
)

const (
	unsubLender  = "acme"
	unsubLenderB = "banco"
	unsubEmail   = "ana.perez@example.com"
)

var unsubNow = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

// unsubFailStore fails AddOptOut while fail is set.
type unsubFailStore struct {
	*store.DB
	fail bool
}

func (f *unsubFailStore) AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error) {
	if f.fail {
		return false, errors.New("database is locked")
	}
	return f.DB.AddOptOut(ctx, o, events...)
}

type unsubBundle struct {
	db     *store.DB
	store  *unsubFailStore
	links  *link.Service
	tokens *link.MemoryStore
	srv    *web.Server
}

// unsubSetup stores two lenders (acme in English, banco in Spanish) and
// accounts whose borrowers speak zh-CN, es-MX and nothing.
func unsubSetup(t *testing.T) *unsubBundle {
	t.Helper()
	ctx := t.Context()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "n.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: unsubLender, Name: "Acme Auto Finance", Language: "en", CreatedAt: unsubNow}))
	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: unsubLenderB, Name: "Banco Autos", Language: "es", CreatedAt: unsubNow}))
	var accts []nudge.Account
	for _, a := range []struct{ lender, id, lang string }{
		{unsubLender, "A-zh", "zh-CN"}, {unsubLender, "A-mx", "es-MX"}, {unsubLender, "A-none", ""}, {unsubLenderB, "B-none", ""},
	} {
		accts = append(accts, nudge.Account{
			ID: a.id, Lender: a.lender, Borrower: nudge.Borrower{Name: "Ana Pérez", Language: a.lang},
			Address:  &nudge.Address{Country: "US", Region: "NY"},
			Contacts: []nudge.Contact{{Channel: nudge.Email, Address: unsubEmail}},
			Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-06-01"), Status: nudge.StatusActive,
		})
	}
	for _, l := range []string{unsubLender, unsubLenderB} {
		var mine []nudge.Account
		for _, a := range accts {
			if a.Lender == l {
				mine = append(mine, a)
			}
		}
		require.NoError(t, db.UpsertAccounts(ctx, mine, unsubNow))
	}
	// Tokens live in memory here, so that a link may name an account or
	// lender that no longer exists.
	tokens := link.NewMemoryStore()
	signer, err := link.New(bytes.Repeat([]byte("k"), link.MinKeyLength), tokens, nudge.NewFixedClock(unsubNow))
	require.NoError(t, err)
	fs := &unsubFailStore{DB: db}
	srv := web.NewServer(nil, nil, web.WithLimits(web.Limits{Unauthenticated: web.RateLimit{Off: true}})) // many bad tokens from one address
	(&borrower.Unsubscribe{Links: signer, Store: fs, Clock: nudge.NewFixedClock(unsubNow)}).Register(srv)
	return &unsubBundle{db: db, store: fs, links: signer, tokens: tokens, srv: srv}
}

// token issues the unsubscribe link of the account's email (the same one
// every time).
func (b *unsubBundle) token(lender, account string) string {
	return b.issue(link.Link{Purpose: link.Unsubscribe, Lender: lender, AccountID: account, Channel: nudge.Email, Address: unsubEmail})
}

func (b *unsubBundle) issue(l link.Link) string {
	l.Token, l.CreatedAt = link.NewToken(), unsubNow
	got, err := b.tokens.IssueLink(context.Background(), l, unsubNow)
	if err != nil {
		panic(err)
	}
	return got.Token
}

func (b *unsubBundle) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	return rec
}

func (b *unsubBundle) get(token string, acceptLanguage string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/u/"+token, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return b.do(req)
}

func (b *unsubBundle) postForm(token string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/u/"+token, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *unsubBundle) postMultipart(t *testing.T, token string, fields map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	require.NoError(t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, "/u/"+token, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func (b *unsubBundle) optedOut(t *testing.T, lender string) bool {
	t.Helper()
	ok, err := b.db.IsOptedOut(t.Context(), lender, nudge.Email, unsubEmail)
	require.NoError(t, err)
	return ok
}

func (b *unsubBundle) optOutEvents(t *testing.T, lender, account string) []nudge.Event {
	t.Helper()
	evs, err := b.db.Events(t.Context(), lender, account)
	require.NoError(t, err)
	var out []nudge.Event
	for _, e := range evs {
		if e.Kind == nudge.EventOptOut {
			out = append(out, e)
		}
	}
	return out
}

// requirePageHeaders checks what every answer of the unsubscribe routes carries.
func requirePageHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Result().Header
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	require.Empty(t, h.Values("Set-Cookie"))
	require.Empty(t, h.Get("Location"))
	require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
	require.NotContains(t, rec.Body.String(), "<script")
}

func TestUnsubscribePageLanguage(t *testing.T) {
	t.Parallel()
	b := unsubSetup(t)
	tests := []struct {
		name, lender, account, accept string
		lang, button, lenderName      string
	}{
		{name: "borrower language", lender: unsubLender, account: "A-zh", lang: "zh-CN", button: "退订", lenderName: "Acme Auto Finance"},
		{name: "regional variant of the borrower's language", lender: unsubLender, account: "A-mx", lang: "es", button: "Cancelar suscripción"},
		{name: "lender language when the borrower states none", lender: unsubLenderB, account: "B-none", lang: "es", button: "Cancelar suscripción", lenderName: "Banco Autos"},
		{name: "borrower beats the browser", lender: unsubLender, account: "A-zh", accept: "es-ES,es;q=0.9", lang: "zh-CN", button: "退订"},
		{name: "lender beats the browser", lender: unsubLender, account: "A-none", accept: "zh-CN", lang: "en", button: "Unsubscribe"},
		{name: "unknown account uses the lender", lender: unsubLenderB, account: "gone", lang: "es", button: "Cancelar suscripción"},
		{name: "unknown lender uses the browser", lender: "nobody", account: "x", accept: "zh-TW,zh;q=0.8", lang: "zh-CN", button: "退订", lenderName: "nobody"},
		{name: "english last", lender: "nobody", account: "x", lang: "en", button: "Unsubscribe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := b.get(b.token(tt.lender, tt.account), tt.accept)
			require.Equal(t, http.StatusOK, rec.Code)
			requirePageHeaders(t, rec)
			require.Equal(t, tt.lang, rec.Result().Header.Get("Content-Language"))
			body := rec.Body.String()
			require.Contains(t, body, `<html lang="`+tt.lang+`">`)
			require.Contains(t, body, `<form method="post"`)
			require.Contains(t, body, `<input type="hidden" name="List-Unsubscribe" value="One-Click">`)
			require.Contains(t, body, `<button type="submit" aria-describedby="effect">`+tt.button+`</button>`)
			require.Contains(t, body, `name="viewport"`)
			require.Contains(t, body, "a***@example.com")
			require.NotContains(t, body, unsubEmail, "the page shows the address masked")
			if tt.lenderName != "" {
				require.Contains(t, body, tt.lenderName)
			}
		})
	}
	require.False(t, b.optedOut(t, unsubLender), "GET changes nothing")
	require.False(t, b.optedOut(t, unsubLenderB))
	require.Empty(t, b.optOutEvents(t, unsubLender, "A-zh"))
}

func TestUnsubscribeOneClickPost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		post func(t *testing.T, b *unsubBundle, token string) *httptest.ResponseRecorder
	}{
		{name: "form-encoded", post: func(t *testing.T, b *unsubBundle, token string) *httptest.ResponseRecorder {
			return b.postForm(token, url.Values{"List-Unsubscribe": {"One-Click"}})
		}},
		{name: "multipart", post: func(t *testing.T, b *unsubBundle, token string) *httptest.ResponseRecorder {
			return b.postMultipart(t, token, map[string]string{"List-Unsubscribe": "One-Click"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := unsubSetup(t)
			token := b.token(unsubLender, "A-zh")
			for range 2 {
				rec := tt.post(t, b, token)
				require.Equal(t, http.StatusOK, rec.Code)
				requirePageHeaders(t, rec)
				require.Contains(t, rec.Body.String(), "您已成功退订")
				require.NotContains(t, rec.Body.String(), "<form")
			}
			require.True(t, b.optedOut(t, unsubLender))
			require.False(t, b.optedOut(t, unsubLenderB), "the opt-out is the token's lender's only")
			outs, err := b.db.ListOptOuts(t.Context(), unsubLender)
			require.NoError(t, err)
			require.Len(t, outs, 1)
			require.Equal(t, borrower.OptOutSourceEmailLink, outs[0].Source)
			require.Equal(t, nudge.Email, outs[0].Channel)
			require.True(t, outs[0].CreatedAt.Equal(unsubNow))

			evs := b.optOutEvents(t, unsubLender, "A-zh")
			require.Len(t, evs, 1, "a repeated POST records nothing more")
			require.Equal(t, nudge.ReasonOptedOut, evs[0].Reason)
			var detail map[string]any
			require.NoError(t, json.Unmarshal(evs[0].Detail, &detail))
			require.Equal(t, borrower.OptOutSourceEmailLink, detail["source"])
			require.Equal(t, "email", detail["channel"])
			require.NotContains(t, string(evs[0].Detail), unsubEmail)
		})
	}
}

func TestUnsubscribePostNeedsOneClick(t *testing.T) {
	t.Parallel()
	b := unsubSetup(t)
	token := b.token(unsubLender, "A-none")
	tests := []struct {
		name string
		rec  func() *httptest.ResponseRecorder
	}{
		{name: "empty form", rec: func() *httptest.ResponseRecorder { return b.postForm(token, url.Values{}) }},
		{name: "other value", rec: func() *httptest.ResponseRecorder {
			return b.postForm(token, url.Values{"List-Unsubscribe": {"yes"}})
		}},
		{name: "in the query string only", rec: func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/u/"+token+"?List-Unsubscribe=One-Click", nil)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return b.do(req)
		}},
		{name: "multipart without the field", rec: func() *httptest.ResponseRecorder {
			return b.postMultipart(t, token, map[string]string{"other": "One-Click"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec()
			require.Equal(t, http.StatusBadRequest, rec.Code)
			requirePageHeaders(t, rec)
			require.Contains(t, rec.Body.String(), "To unsubscribe, press the button below.")
			require.Contains(t, rec.Body.String(), `value="One-Click"`)
		})
	}
	require.False(t, b.optedOut(t, unsubLender))
	require.Empty(t, b.optOutEvents(t, unsubLender, "A-none"))
}

func TestUnsubscribeRefusesBadTokens(t *testing.T) {
	t.Parallel()
	b := unsubSetup(t)
	good := b.token(unsubLender, "A-zh")
	altered := []byte(good)
	altered[7] = map[bool]byte{true: 'B', false: 'A'}[altered[7] == 'A']
	revoked := b.token(unsubLender, "A-mx")
	b.tokens.Revoke(unsubLender, "A-mx")
	tests := []struct {
		name, token string
		code        int
	}{
		{name: "altered", token: string(altered), code: http.StatusGone},
		{name: "truncated", token: good[:21], code: http.StatusBadRequest},
		{name: "garbage", token: "not-a-token", code: http.StatusBadRequest},
		{name: "a signed link of old", token: base64.RawURLEncoding.EncodeToString([]byte(
			`{"p":"u","l":"acme","a":"A-zh","c":"email","d":"someone.else@example.com"}`)) + ".c2lnbmF0dXJl", code: http.StatusBadRequest},
		{name: "unknown", token: link.NewToken(), code: http.StatusGone},
		{name: "revoked", token: revoked, code: http.StatusGone},
		{name: "self-service token", token: b.issue(link.Link{Purpose: link.SelfService, Lender: unsubLender, AccountID: "A-zh",
			Channel: nudge.Email, Address: unsubEmail, ExpiresAt: unsubNow.Add(time.Hour)}), code: http.StatusGone},
		{name: "no address", token: b.issue(link.Link{Purpose: link.Unsubscribe, Lender: unsubLender, AccountID: "A-zh", Channel: nudge.Email}),
			code: http.StatusGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, rec := range []*httptest.ResponseRecorder{
				b.get(tt.token, "es"),
				b.postForm(tt.token, url.Values{"List-Unsubscribe": {"One-Click"}}),
				b.postMultipart(t, tt.token, map[string]string{"List-Unsubscribe": "One-Click"}),
			} {
				require.Equal(t, tt.code, rec.Code)
				requirePageHeaders(t, rec)
				want := "This link does not work"
				if i == 0 {
					want = "Este enlace no funciona" // the browser's language
				}
				require.Contains(t, rec.Body.String(), want)
				require.NotContains(t, rec.Body.String(), "<form")
			}
		})
	}
	require.False(t, b.optedOut(t, unsubLender))
	outs, err := b.db.ListOptOuts(t.Context(), unsubLender)
	require.NoError(t, err)
	require.Empty(t, outs)
	require.Empty(t, b.optOutEvents(t, unsubLender, "A-zh"))
}

// TestUnsubscribeSignedLinkOfOld posts to the unsubscribe link of an email
// sent before links became opaque: it still works while the address is the
// account's, and not once the borrower is erased.
func TestUnsubscribeSignedLinkOfOld(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before func(t *testing.T, b *unsubBundle)
		code   int
	}{
		{name: "still the account's address", code: http.StatusOK},
		{name: "borrower erased", before: func(t *testing.T, b *unsubBundle) {
			require.NoError(t, b.db.ErasePersonalData(t.Context(), unsubLender, "A-none", unsubNow))
		}, code: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := unsubSetup(t)
			body := base64.RawURLEncoding.EncodeToString([]byte(`{"p":"u","l":"acme","a":"A-none","c":"email","d":"` + unsubEmail + `"}`))
			m := hmac.New(sha256.New, bytes.Repeat([]byte("k"), link.MinKeyLength))
			m.Write([]byte(body))
			token := body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
			if tt.before != nil {
				tt.before(t, b)
			}
			rec := b.postForm(token, url.Values{"List-Unsubscribe": {"One-Click"}})
			require.Equal(t, tt.code, rec.Code, rec.Body.String())
			require.Equal(t, tt.code == http.StatusOK, b.optedOut(t, unsubLender))
		})
	}
}

func TestUnsubscribeHonoursExpiredGenuineToken(t *testing.T) {
	t.Parallel()
	b := unsubSetup(t)
	token := b.issue(link.Link{Purpose: link.Unsubscribe, Lender: unsubLender, AccountID: "A-none",
		Channel: nudge.Email, Address: unsubEmail, ExpiresAt: unsubNow.Add(-time.Hour)})
	rec := b.postForm(token, url.Values{"List-Unsubscribe": {"One-Click"}})
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, b.optedOut(t, unsubLender))
}

func TestUnsubscribeStoreFailure(t *testing.T) {
	t.Parallel()
	b := unsubSetup(t)
	b.store.fail = true
	token := b.token(unsubLender, "A-mx")
	rec := b.postForm(token, url.Values{"List-Unsubscribe": {"One-Click"}})
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	requirePageHeaders(t, rec)
	require.Contains(t, rec.Body.String(), "Algo salió mal")
	require.Empty(t, b.optOutEvents(t, unsubLender, "A-mx"))

	b.store.fail = false
	rec = b.postForm(token, url.Values{"List-Unsubscribe": {"One-Click"}})
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, b.optedOut(t, unsubLender))
}

// TestUnsubscribeFromReceivedMail sends a reminder over SMTP to the sink,
// reads its List-Unsubscribe header and posts to it as a mail client does
// (RFC 8058 §3.2): no cookies, no redirect followed.
func TestUnsubscribeFromReceivedMail(t *testing.T) {
	t.Parallel()
	b := unsubSetup(t)
	ts := httptest.NewServer(b.srv)
	t.Cleanup(ts.Close)
	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close()) })
	sender, err := smtp.New(smtp.Config{Host: sink.Host(), Port: sink.Port(), From: "reminders@acme.example", TLS: smtp.TLSNone},
		smtp.WithClock(nudge.NewFixedClock(unsubNow)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sender.Close() })

	unsub := ts.URL + "/u/" + b.token(unsubLender, "A-mx")
	_, err = sender.Send(t.Context(), &nudge.Message{
		Channel: nudge.Email, To: unsubEmail, Subject: "Recordatorio", Text: "Cancele su suscripción: " + unsub,
		Headers: map[string]string{"List-Unsubscribe": "<" + unsub + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
	})
	require.NoError(t, err)
	msgs := sink.Messages()
	require.Len(t, msgs, 1)
	msg, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
	require.NoError(t, err)
	require.Equal(t, "List-Unsubscribe=One-Click", msg.Header.Get("List-Unsubscribe-Post"))
	target := strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>")
	require.Equal(t, unsub, target)

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(msg.Header.Get("List-Unsubscribe-Post")))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, resp.Cookies())
	require.True(t, b.optedOut(t, unsubLender))
}
