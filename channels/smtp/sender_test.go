package smtp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
	"github.com/nudgehq/nudge/templates"
)

var testNow = time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC)

const (
	testFrom   = "Acme Auto Finance <reminders@acme.example>"
	testUnsub  = "https://nudge.example/u/eyJwIjoidSJ9.c2ln"
	testLender = "acme"
)

type bundle struct {
	sink   *smtpsink.Sink
	sender *smtp.Sender
	clock  *nudge.FixedClock
}

// setup starts a sink and a sender pointed at it without TLS.
func setup(t *testing.T, sinkOpts smtpsink.Options, mutate func(*smtp.Config), opts ...smtp.Option) *bundle {
	t.Helper()
	sink, err := smtpsink.Start("127.0.0.1:0", sinkOpts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close()) })
	cfg := smtp.Config{Host: sink.Host(), Port: sink.Port(), From: testFrom, TLS: smtp.TLSNone, Timeout: 5 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	clock := nudge.NewFixedClock(testNow)
	sender, err := smtp.New(cfg, append([]smtp.Option{smtp.WithClock(clock)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sender.Close() })
	return &bundle{sink: sink, sender: sender, clock: clock}
}

// render renders the default due_email in lang the way the dispatcher does.
func render(t *testing.T, lang string) *nudge.Message {
	t.Helper()
	acct := nudge.Account{
		ID: "A-1", Lender: testLender, Borrower: nudge.Borrower{Name: "Ana Pérez", Language: lang},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.DateOf(testNow), Status: nudge.StatusActive,
	}
	data := templates.DataFor(acct, "Acme Auto Finance", nudge.DateOf(testNow))
	data.UnsubscribeURL = testUnsub
	data.Link = "https://nudge.example/p/token"
	out, err := templates.Default().Render("due_email", nudge.Email, templates.Locales(lang, "en"), data)
	require.NoError(t, err)
	return &nudge.Message{
		AttemptID: "att-" + lang, Lender: testLender, AccountID: acct.ID, Channel: nudge.Email,
		Locale: out.Locale, To: "ana@example.com", Subject: out.Subject, Text: out.Text, HTML: out.HTML,
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + testUnsub + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	}
}

func plainMessage(to string) *nudge.Message {
	return &nudge.Message{Channel: nudge.Email, To: to, Subject: "Reminder", Text: "Pay soon. Unsubscribe: " + testUnsub}
}

// parsed is a received message taken apart.
type parsed struct {
	header netmail.Header
	parts  map[string]string // by media type
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	p := parsed{header: msg.Header, parts: map[string]string{}}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		pt, pp, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		require.NoError(t, err)
		require.Equal(t, "utf-8", strings.ToLower(pp["charset"]))
		body, err := io.ReadAll(part)
		require.NoError(t, err)
		p.parts[pt] = string(body)
	}
	return p
}

func TestSendRenderedTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, lang, locale, optOut string
	}{
		{name: "english", lang: "en", locale: "en", optOut: "unsubscribe"},
		{name: "spanish", lang: "es", locale: "es", optOut: "cancele su suscripción"},
		{name: "chinese", lang: "zh-CN", locale: "zh-CN", optOut: "退订"},
		{name: "regional variant", lang: "es-MX", locale: "es", optOut: "cancele su suscripción"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtpsink.Options{}, nil)
			m := render(t, tt.lang)
			res, err := b.sender.Send(t.Context(), m)
			require.NoError(t, err)
			require.Equal(t, nudge.AttemptSent, res.Status)
			require.Regexp(t, `^<[0-9a-f]{32}@acme\.example>$`, res.ProviderID)

			got := b.sink.Messages()
			require.Len(t, got, 1)
			require.Equal(t, "reminders@acme.example", got[0].From)
			require.Equal(t, []string{"ana@example.com"}, got[0].To)
			p := parse(t, got[0].Data)
			h := p.header
			require.Equal(t, res.ProviderID, h.Get("Message-ID"))
			require.Equal(t, "<"+testUnsub+">", h.Get("List-Unsubscribe"))
			require.Equal(t, "List-Unsubscribe=One-Click", h.Get("List-Unsubscribe-Post"))
			require.Equal(t, tt.locale, h.Get("Content-Language"))
			date, err := h.Date()
			require.NoError(t, err)
			require.True(t, date.Equal(testNow), "Date %s", date)
			from, err := h.AddressList("From")
			require.NoError(t, err)
			require.Equal(t, []*netmail.Address{{Name: "Acme Auto Finance", Address: "reminders@acme.example"}}, from)
			to, err := h.AddressList("To")
			require.NoError(t, err)
			require.Equal(t, "ana@example.com", to[0].Address)
			subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			require.NoError(t, err)
			require.Equal(t, m.Subject, subject)

			text, html := p.parts["text/plain"], p.parts["text/html"]
			require.Equal(t, strings.TrimSpace(m.Text), strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n")))
			require.Contains(t, text, testUnsub)
			require.Contains(t, strings.ToLower(text), tt.optOut)
			require.Contains(t, html, `href="`+testUnsub+`"`)
			require.Contains(t, html, `lang="`+tt.locale+`"`)
			require.Contains(t, html, "Ana Pérez")
		})
	}
}

func TestSendReusesConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, nil)
	for _, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		_, err := b.sender.Send(t.Context(), plainMessage(to))
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.sink.Sessions())
	for _, m := range b.sink.Messages() {
		require.Equal(t, 1, m.Session)
	}
	require.NoError(t, b.sender.Close())
	_, err := b.sender.Send(t.Context(), plainMessage("d@example.com"))
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.Retry)
	require.Equal(t, 3, b.sink.Count())
}

func TestSendRedialsDroppedConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, nil)
	_, err := b.sender.Send(t.Context(), plainMessage("a@example.com"))
	require.NoError(t, err)
	b.sink.Disconnect()
	_, err = b.sender.Send(t.Context(), plainMessage("b@example.com"))
	require.NoError(t, err)
	require.Equal(t, 2, b.sink.Sessions())
	msgs := b.sink.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, 2, msgs[1].Session)
}

func TestSendErrorsAreClassified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		script        func(s *smtpsink.Sink)
		retry         bool
		undeliverable bool
		senderRefused bool
		code          string
		reason        nudge.Reason
	}{
		{name: "4xx to RCPT is retried", script: func(s *smtpsink.Sink) { s.FailNext(1, 451, "try later") },
			retry: true, code: "451", reason: nudge.ReasonProviderRetry},
		{name: "4xx after the message is retried", script: func(s *smtpsink.Sink) { s.FailNextAt(smtpsink.CommandData, 1, 452, "full") },
			retry: true, code: "452", reason: nudge.ReasonProviderRetry},
		{name: "temporary failure at RCPT", script: func(s *smtpsink.Sink) { s.FaultNext(smtpsink.FaultTempFailRcpt, 1) },
			retry: true, code: "451", reason: nudge.ReasonProviderRetry},
		{name: "temporary failure after the message", script: func(s *smtpsink.Sink) { s.FaultNext(smtpsink.FaultTempFailData, 1) },
			retry: true, code: "451", reason: nudge.ReasonProviderRetry},
		{name: "5xx to RCPT marks the address undeliverable", script: func(s *smtpsink.Sink) { s.FailNext(1, 550, "no such user") },
			undeliverable: true, code: "550", reason: nudge.ReasonUndeliverable},
		{name: "rejected address", script: func(s *smtpsink.Sink) { s.Reject("ana@example.com", 550) },
			undeliverable: true, code: "550", reason: nudge.ReasonUndeliverable},
		{name: "5xx mailbox full after the message", script: func(s *smtpsink.Sink) { s.FailNextAt(smtpsink.CommandData, 1, 552, "over quota") },
			undeliverable: true, code: "552", reason: nudge.ReasonUndeliverable},
		{name: "5xx policy after the message is permanent but not the mailbox's", script: func(s *smtpsink.Sink) { s.FailNextAt(smtpsink.CommandData, 1, 554, "content refused") },
			code: "554", reason: nudge.ReasonProviderFailed},
		{name: "5xx to MAIL FROM refuses the sender", script: func(s *smtpsink.Sink) { s.FailNextAt(smtpsink.CommandMail, 1, 553, "sender refused") },
			senderRefused: true, code: "553", reason: nudge.ReasonPaused},
		{name: "relay denied to the sender", script: func(s *smtpsink.Sink) { s.FaultNext(smtpsink.FaultRejectSender, 1) },
			senderRefused: true, code: "550", reason: nudge.ReasonPaused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtpsink.Options{}, nil)
			// Open the connection first: failures must not cost it.
			_, err := b.sender.Send(t.Context(), plainMessage("first@example.com"))
			require.NoError(t, err)
			tt.script(b.sink)
			res, err := b.sender.Send(t.Context(), plainMessage("ana@example.com"))
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok, "error %v", err)
			require.Equal(t, tt.retry, pe.Retry, "retry: %v", err)
			require.Equal(t, tt.undeliverable, pe.Undeliverable, "undeliverable: %v", err)
			require.Equal(t, tt.senderRefused, pe.SenderRefused, "sender refused: %v", err)
			require.False(t, pe.MaybeAccepted, "the server answered: %v", err)
			require.Equal(t, tt.code, pe.Code)
			require.Equal(t, tt.reason, pe.Reason)
			require.Empty(t, res.ProviderID)
			require.NotContains(t, err.Error(), "ana@example.com", "errors mask the address")
			require.Equal(t, 1, b.sink.Count())

			_, err = b.sender.Send(t.Context(), plainMessage("other@example.com"))
			require.NoError(t, err)
			require.Equal(t, 2, b.sink.Count())
			require.Equal(t, 1, b.sink.Sessions(), "a server reply keeps the connection")
		})
	}
}

func TestSendConnectionErrorsAreRetried(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr)
	require.NoError(t, ln.Close())
	s, err := smtp.New(smtp.Config{Host: "127.0.0.1", Port: addr.Port, From: testFrom, TLS: smtp.TLSNone, Timeout: time.Second})
	require.NoError(t, err)
	_, err = s.Send(t.Context(), plainMessage("ana@example.com"))
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.Retry)
	require.False(t, pe.Undeliverable)
	require.Empty(t, pe.Code)
	require.Equal(t, nudge.ReasonProviderRetry, pe.Reason)
}

func TestSendCanceledContextIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.sender.Send(ctx, plainMessage("ana@example.com"))
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.Retry)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, b.sink.Count())
}

func TestSendAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		wantErr  bool
	}{
		{name: "plain auth over a plain connection", password: "s3cret"},
		{name: "wrong password", password: "wrong", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtpsink.Options{Username: "nudge", Password: "s3cret"}, func(c *smtp.Config) {
				c.Username, c.Password = "nudge", tt.password
			})
			_, err := b.sender.Send(t.Context(), plainMessage("ana@example.com"))
			if tt.wantErr {
				pe, ok := nudge.AsProviderError(err)
				require.True(t, ok)
				require.True(t, pe.Retry, "a configuration problem is not the recipient's")
				require.False(t, pe.Undeliverable)
				require.Equal(t, "535", pe.Code)
				require.NotContains(t, err.Error(), tt.password)
				require.Zero(t, b.sink.Count())
				return
			}
			require.NoError(t, err)
			require.Equal(t, "nudge", b.sink.Messages()[0].Username)
		})
	}
}

func TestSendPasswordFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(file, []byte("s3cret\n"), 0o600))
	b := setup(t, smtpsink.Options{Username: "nudge", Password: "s3cret"}, func(c *smtp.Config) {
		c.Username, c.PasswordFile = "nudge", file
	})
	_, err := b.sender.Send(t.Context(), plainMessage("ana@example.com"))
	require.NoError(t, err)
}

func TestSendTLS(t *testing.T) {
	t.Parallel()
	serverTLS, roots := selfSigned(t)
	tests := []struct {
		name     string
		sinkOpts smtpsink.Options
		mode     string
		wantErr  bool
	}{
		{name: "starttls", sinkOpts: smtpsink.Options{TLSConfig: serverTLS, Username: "u", Password: "p"}, mode: smtp.TLSStartTLS},
		{name: "implicit tls", sinkOpts: smtpsink.Options{TLSConfig: serverTLS, ImplicitTLS: true, Username: "u", Password: "p"}, mode: smtp.TLSImplicit},
		{name: "starttls required but not offered", sinkOpts: smtpsink.Options{}, mode: smtp.TLSStartTLS, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.sinkOpts, func(c *smtp.Config) {
				c.TLS = tt.mode
				if tt.sinkOpts.Username != "" {
					c.Username, c.Password = tt.sinkOpts.Username, tt.sinkOpts.Password
				}
			}, smtp.WithTLSConfig(&tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}))
			_, err := b.sender.Send(t.Context(), plainMessage("ana@example.com"))
			if tt.wantErr {
				pe, ok := nudge.AsProviderError(err)
				require.True(t, ok)
				require.True(t, pe.Retry)
				require.Zero(t, b.sink.Count())
				return
			}
			require.NoError(t, err)
			_, err = b.sender.Send(t.Context(), plainMessage("bob@example.com"))
			require.NoError(t, err)
			require.Equal(t, 2, b.sink.Count())
			require.Equal(t, 1, b.sink.Sessions())
			require.Equal(t, "u", b.sink.Messages()[0].Username)
		})
	}
}

func TestSendMessageIDFollowsAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, nil)
	m := plainMessage("ana@example.com")
	m.AttemptID = "r1:email"
	first, err := b.sender.Send(t.Context(), m)
	require.NoError(t, err)
	again, err := b.sender.Send(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, first.ProviderID, again.ProviderID, "a retried attempt keeps its Message-ID")
	m.AttemptID = "r2:email"
	other, err := b.sender.Send(t.Context(), m)
	require.NoError(t, err)
	require.NotEqual(t, first.ProviderID, other.ProviderID)
	m.AttemptID = ""
	r1, err := b.sender.Send(t.Context(), m)
	require.NoError(t, err)
	r2, err := b.sender.Send(t.Context(), m)
	require.NoError(t, err)
	require.NotEqual(t, r1.ProviderID, r2.ProviderID)
}

func TestMessageIDIsAPureFunctionOfAttemptAndDomain(t *testing.T) {
	t.Parallel()
	id := smtp.MessageID("acme.example", "att-1")
	require.Regexp(t, `^<[0-9a-f]{32}@acme\.example>$`, id)
	require.Equal(t, id, smtp.MessageID("acme.example", "att-1"))
	require.NotEqual(t, id, smtp.MessageID("acme.example", "att-2"))
	require.NotEqual(t, strings.TrimSuffix(id, "@acme.example>"),
		strings.TrimSuffix(smtp.MessageID("other.example", "att-1"), "@other.example>"))

	tests := []struct {
		name   string
		mutate func(c *smtp.Config)
		from   string
		later  time.Duration
		domain string
	}{
		{name: "domain of From", domain: "acme.example"},
		{name: "another sender, later", later: 90 * time.Minute, domain: "acme.example"},
		{name: "per-message From", from: "Billing <billing@other.example>", domain: "acme.example"},
		{name: "configured domain", mutate: func(c *smtp.Config) { c.Domain = "mx.acme.example" }, domain: "mx.acme.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtpsink.Options{}, tt.mutate)
			b.clock.Advance(tt.later)
			m := plainMessage("ana@example.com")
			m.AttemptID, m.From = "att-1", tt.from
			res, err := b.sender.Send(t.Context(), m)
			require.NoError(t, err)
			want := smtp.MessageID(tt.domain, "att-1")
			require.Equal(t, want, res.ProviderID)
			got := b.sink.Messages()
			require.Len(t, got, 1)
			require.Equal(t, want, got[0].MessageID, "the header the receiver sees")
		})
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, nil)
	tests := []struct {
		name          string
		mutate        func(m *nudge.Message)
		reason        nudge.Reason
		undeliverable bool
	}{
		{name: "no address", mutate: func(m *nudge.Message) { m.To = "" }, reason: nudge.ReasonNoContact, undeliverable: true},
		{name: "invalid address", mutate: func(m *nudge.Message) { m.To = "not an address" }, reason: nudge.ReasonUndeliverable, undeliverable: true},
		{name: "other channel", mutate: func(m *nudge.Message) { m.Channel = nudge.SMS }, reason: nudge.ReasonProviderFailed},
		{name: "empty text", mutate: func(m *nudge.Message) { m.Text = " " }, reason: nudge.ReasonRenderFailed},
		{name: "header injection", mutate: func(m *nudge.Message) {
			m.Headers = map[string]string{"List-Unsubscribe": "<https://x>\r\nBcc: victim@example.com"}
		}, reason: nudge.ReasonRenderFailed},
		{name: "reserved header", mutate: func(m *nudge.Message) { m.Headers = map[string]string{"bcc": "x@example.com"} }, reason: nudge.ReasonRenderFailed},
		{name: "bad header name", mutate: func(m *nudge.Message) { m.Headers = map[string]string{"X Bad": "1"} }, reason: nudge.ReasonRenderFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := plainMessage("ana@example.com")
			tt.mutate(m)
			_, err := b.sender.Send(t.Context(), m)
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok)
			require.False(t, pe.Retry)
			require.Equal(t, tt.reason, pe.Reason)
			require.Equal(t, tt.undeliverable, pe.Undeliverable)
		})
	}
	require.Zero(t, b.sink.Count())
	require.Zero(t, b.sink.Sessions())
}

func TestSenderRate(t *testing.T) {
	t.Parallel()
	s, err := smtp.New(smtp.Config{Host: "mail.example", From: testFrom, MPS: 4})
	require.NoError(t, err)
	key, rate := s.SenderRate(&nudge.Message{})
	require.Equal(t, "smtp:reminders@acme.example", key)
	require.Equal(t, 4.0, rate)
	key, _ = s.SenderRate(&nudge.Message{From: "Other <Billing@Other.example>"})
	require.Equal(t, "smtp:billing@other.example", key)
	d, err := smtp.New(smtp.Config{Host: "mail.example", From: testFrom})
	require.NoError(t, err)
	_, rate = d.SenderRate(&nudge.Message{})
	require.Equal(t, smtp.DefaultMPS, rate)
}

func TestTemplateWithoutUnsubscribeLinkFailsValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	emailDir := filepath.Join(dir, "en", "email")
	require.NoError(t, os.MkdirAll(emailDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(emailDir, "due_email.text.tmpl"),
		[]byte("Hello {{.BorrowerName}}, your payment is due.\n"), 0o644))
	_, err := templates.Load(dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "due_email.text.tmpl")
}

// selfSigned returns a server TLS configuration for "localhost" and
// 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    testNow.Add(-time.Hour),
		NotAfter:     testNow.Add(100 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}
