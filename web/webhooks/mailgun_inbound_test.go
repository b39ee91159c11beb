package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/mailgun"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/webhooks"
)

const (
	mgKey       = "key-mailgun-signing-0123456789abcdef"
	mgReplyTo   = "replies@reply.acme.example"
	mgBetaReply = "replies@reply.beta.example"
	mgEmail     = "ana.garcia@example.com"
	mgAccount   = "A-mail"
)

type mgBundle struct {
	db    *store.DB
	links *link.Service
	srv   *web.Server
	clock *nudge.FixedClock
	// tag is the address form of the account's reply token.
	tag string
	n   int
}

// mgSetup stores acme and beta, an account of acme with an email address
// and a phone, issues its reply token and serves the inbound route with
// limits (emailLimit bounds the route's bodies; 0 is the default).
func mgSetup(t *testing.T, emailLimit int64) *mgBundle {
	t.Helper()
	ctx := context.Background()
	clock := nudge.NewFixedClock(t0)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "n.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	for _, l := range []string{lenderID, "beta"} {
		require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: l, Name: lenderNm, Language: "en", Timezone: "America/New_York", CreatedAt: t0}))
	}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{{
		ID: mgAccount, Lender: lenderID, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: "Ana García", Language: "en", Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{{Channel: nudge.Email, Address: mgEmail, Consent: true}, {Channel: nudge.SMS, Address: phone, Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-11-20"), Status: nudge.StatusActive,
	}}, t0))
	links, err := link.New([]byte(strings.Repeat("s", link.MinKeyLength)), db, clock)
	require.NoError(t, err)
	reply, err := links.Issue(ctx, link.Link{Purpose: link.Reply, Lender: lenderID, AccountID: mgAccount, Channel: nudge.Email, Address: mgEmail}, 0)
	require.NoError(t, err)
	enq := dispatcher.NewEnqueuer(testRedis(t), dispatcher.EnqueuerConfig{Clock: clock})
	replies := &response.Handler{Store: db, Tasks: enq, Pack: templates.Default(), Clock: clock,
		Profile: func(context.Context, nudge.Account) (*compliance.Profile, error) { return compliance.Builtin("us") }}
	srv := web.NewServer(nil, nil, web.WithLimits(web.Limits{Body: web.BodyLimits{Email: emailLimit}, Unauthenticated: web.RateLimit{Off: true}}))
	(&webhooks.MailgunInbound{
		SigningKey: mgKey, Links: links, Replies: replies, Clock: clock,
		ReplyAddress: func(lender string) string {
			if lender == lenderID {
				return mgReplyTo
			}
			return mgBetaReply
		},
	}).Register(srv)
	return &mgBundle{db: db, links: links, srv: srv, clock: clock, tag: link.AddressTag(reply.Token)}
}

// email is a signed reply from the borrower to recipient.
func (b *mgBundle) email(recipient, subject, body string) mailgun.Inbound {
	b.n++
	return mailgun.Inbound{
		Recipient: recipient, Sender: mgEmail, From: "Ana García <" + mgEmail + ">", Subject: subject, BodyPlain: body,
		MessageID: fmt.Sprintf("<reply-%d@mail.example.com>", b.n),
	}.Signed(mgKey, b.clock.Now(), fmt.Sprintf("%050d", b.n))
}

func (b *mgBundle) post(in mailgun.Inbound) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, webhooks.MailgunInboundPath, strings.NewReader(in.Values().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	return rec
}

// state is what an inbound email may change.
type mgState struct {
	replies  []nudge.Reply
	optOuts  []nudge.OptOut
	promises []nudge.Promise
}

func (b *mgBundle) state(t *testing.T) mgState {
	t.Helper()
	ctx := context.Background()
	var s mgState
	var err error
	s.replies, err = b.db.AccountReplies(ctx, lenderID, mgAccount)
	require.NoError(t, err)
	s.optOuts, err = b.db.ListOptOuts(ctx, lenderID)
	require.NoError(t, err)
	s.promises, err = b.db.ListPromises(ctx, lenderID, mgAccount)
	require.NoError(t, err)
	return s
}

// TestMailgunInboundReplies posts replies to the borrower's tagged
// Reply-To: each is understood like a text and recorded against the
// account the token names.
func TestMailgunInboundReplies(t *testing.T) {
	t.Parallel()
	b := mgSetup(t, 0)
	to := smtp.ReplyAddress(mgReplyTo, b.tag)

	// A promise, above a quoted reminder that itself says STOP.
	rec := b.post(b.email(to, "Re: Your payment is due",
		"I will pay $200 on Friday, December 4\n\nOn Fri, Nov 27, 2026 at 9:00 AM Acme Auto Finance <"+to+"> wrote:\n> Reply STOP to opt out.\n"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	s := b.state(t)
	require.Len(t, s.promises, 1)
	require.Equal(t, "200.00", s.promises[0].Amount)
	require.Equal(t, nudge.MustDate("2026-12-04"), s.promises[0].Due)
	require.Equal(t, nudge.Email, s.promises[0].Channel)
	require.Empty(t, s.optOuts, "the quoted STOP is not the borrower's")

	// Something unclear goes to a person.
	rec = b.post(b.email(strings.ToUpper(to), "Re: Your payment is due", "Who are you people??\n\nSent from my iPhone"))
	require.Equal(t, http.StatusOK, rec.Code, "a tag whose case was folded still matches")
	s = b.state(t)
	require.Len(t, s.replies, 2)
	var unclear nudge.Reply
	for _, r := range s.replies {
		if r.Intent == nudge.IntentUnknown {
			unclear = r
		}
	}
	require.True(t, unclear.NeedsPerson, "an unclear reply waits for a person: %+v", s.replies)
	require.Equal(t, "Who are you people??", unclear.Body)
	require.Equal(t, mgEmail, unclear.From)
	require.Equal(t, mgReplyTo, unclear.To, "the token is not stored with the reply")

	// STOP opts the address out of email, not the phone out of texts.
	stop := b.email(to, "Re: Your payment is due", "STOP")
	rec = b.post(stop)
	require.Equal(t, http.StatusOK, rec.Code)
	s = b.state(t)
	require.Len(t, s.optOuts, 1)
	require.Equal(t, nudge.Email, s.optOuts[0].Channel)
	require.Equal(t, mgEmail, s.optOuts[0].Address)
	require.Equal(t, response.SourceEmailKeyword, s.optOuts[0].Source)

	// Mailgun's retry of the same email (same Message-Id, fresh signature) changes nothing.
	retry := stop.Signed(mgKey, b.clock.Now(), fmt.Sprintf("%050d", 999))
	rec = b.post(retry)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, s, b.state(t))
}

// TestMailgunInboundRefused posts emails that are not authentic or name
// no borrower: none changes anything.
func TestMailgunInboundRefused(t *testing.T) {
	t.Parallel()
	b := mgSetup(t, 0)
	to := smtp.ReplyAddress(mgReplyTo, b.tag)
	unsub, err := b.links.Issue(context.Background(), link.Link{Purpose: link.Unsubscribe, Lender: lenderID, AccountID: mgAccount,
		Channel: nudge.Email, Address: mgEmail}, 0)
	require.NoError(t, err)
	before := b.state(t)
	tests := []struct {
		name string
		in   func() mailgun.Inbound
		want int
	}{
		{name: "wrong signing key", want: http.StatusForbidden, in: func() mailgun.Inbound {
			return b.email(to, "", "STOP").Signed("another key", b.clock.Now(), "t")
		}},
		{name: "unsigned", want: http.StatusForbidden, in: func() mailgun.Inbound {
			in := b.email(to, "", "STOP")
			in.Signature = ""
			return in
		}},
		{name: "replayed an hour later", want: http.StatusForbidden, in: func() mailgun.Inbound {
			return b.email(to, "", "STOP").Signed(mgKey, b.clock.Now().Add(-time.Hour), "t")
		}},
		{name: "no tag", want: http.StatusNotAcceptable, in: func() mailgun.Inbound { return b.email(mgReplyTo, "", "STOP") }},
		{name: "a tag that is no token", want: http.StatusNotAcceptable, in: func() mailgun.Inbound {
			return b.email(smtp.ReplyAddress(mgReplyTo, "A-mail"), "", "STOP")
		}},
		{name: "an unknown token", want: http.StatusNotAcceptable, in: func() mailgun.Inbound {
			return b.email(smtp.ReplyAddress(mgReplyTo, link.AddressTag(link.NewToken())), "", "STOP")
		}},
		{name: "an unsubscribe token", want: http.StatusNotAcceptable, in: func() mailgun.Inbound {
			return b.email(smtp.ReplyAddress(mgReplyTo, link.AddressTag(unsub.Token)), "", "STOP")
		}},
		{name: "another lender's reply address", want: http.StatusNotAcceptable, in: func() mailgun.Inbound {
			return b.email(smtp.ReplyAddress(mgBetaReply, b.tag), "", "STOP")
		}},
		{name: "the sender alone", want: http.StatusNotAcceptable, in: func() mailgun.Inbound {
			return b.email("reminders@acme.example", "", "STOP")
		}},
	}
	for _, tc := range tests {
		rec := b.post(tc.in())
		require.Equal(t, tc.want, rec.Code, "%s: %s", tc.name, rec.Body.String())
		require.Equal(t, before, b.state(t), "%s changed something", tc.name)
	}
}

// TestMailgunInboundTooLarge answers 413 to an email over the route's
// limit, declared or streamed, and changes nothing.
func TestMailgunInboundTooLarge(t *testing.T) {
	t.Parallel()
	b := mgSetup(t, 8<<10)
	to := smtp.ReplyAddress(mgReplyTo, b.tag)
	before := b.state(t)
	big := b.email(to, "Re: x", "STOP\n"+strings.Repeat("> quoted line\n", 1000))
	rec := b.post(big)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)

	req := httptest.NewRequest(http.MethodPost, webhooks.MailgunInboundPath, strings.NewReader(big.Values().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1 // streamed without a declared length
	rec = httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Equal(t, before, b.state(t))

	require.Equal(t, int64(web.DefaultEmailBody), web.NewServer(nil, nil).Limits().Body.Email)
}
