// Package smtp sends email reminders through an SMTP server with
// github.com/wneessen/go-mail: STARTTLS, implicit TLS or plain connections,
// SMTP AUTH when configured, one connection kept open and reused between
// messages, multipart text and HTML bodies, and the RFC 8058 one-click
// unsubscribe headers the renderer puts on every reminder.
//
// Errors are classified where they happen, by the step of the SMTP
// conversation that failed (see Classify): a 4xx reply, or a dropped
// connection or timeout before the message's final dot was written, is
// transient (Retry); a 5xx reply to MAIL FROM means the server refuses the
// sender itself (SenderRefused: the dispatcher pauses the channel); a 5xx
// reply to RCPT TO marks the address undeliverable; a connection lost after
// the final dot, before the server's reply, leaves the outcome unknown
// (MaybeAccepted) and must never be resent blind. The Message-ID of a
// message is derived from its attempt (MessageID), so a resend of the same
// attempt is recognisable as a duplicate by the receiver.
//
// Each lender's mail carries its own From and Reply-To (WithLenders). When
// DKIM keys are configured (Config.DKIM per domain, Identity.DKIM per
// lender), every message whose From is in a key's domain is signed with
// github.com/emersion/go-msgauth/dkim after it is rendered, so the
// signature covers the very bytes written to the server.
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"strings"

	mail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
)

var _ nudge.Sender = (*Sender)(nil)

// Sender sends email through one SMTP server. It keeps one connection open
// between messages and sends one message at a time on it; a connection the
// server dropped is redialed. It is safe for concurrent use. Close it to
// say QUIT.
type Sender struct {
	cfg    Config
	from   *netmail.Address
	client *mail.Client
	tls    *tls.Config
	clock  nudge.Clock
	logger *slog.Logger

	// sem holds the connection: one send (or dial, or close) at a time.
	sem    chan struct{}
	conn   *mailsmtp.Client // the open connection, or nil
	raw    net.Conn         // the network connection under conn (or being dialed)
	closed bool

	// replyTo is Config.ReplyTo, or nil.
	replyTo *netmail.Address
	// lenders are the identities of lenders with their own (WithLenders),
	// parsed from lenderCfg.
	lenders   map[string]identity
	lenderCfg map[string]Identity
	// tagHeader is the key of m.Headers holding a reply tag (WithReplyTagHeader).
	tagHeader string
	// keys are the DKIM keys messages are signed with.
	keys *keyring
}

// Option changes how New builds a Sender.
type Option func(*Sender)

// WithClock sets the clock the Date header is read from (default nudge.SystemClock).
func WithClock(c nudge.Clock) Option { return func(s *Sender) { s.clock = c } }

// WithLogger sets the logger connection events are written to (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(s *Sender) { s.logger = l } }

// WithLenders gives lenders their own From, Reply-To and DKIM keys, by
// lender id; a lender not named, or an empty field, falls back to
// Config.From, Config.ReplyTo and the per-domain keys of Config.DKIM. New
// refuses an address that does not parse and a key that does not parse or
// whose domain does not cover the lender's From.
func WithLenders(ids map[string]Identity) Option {
	return func(s *Sender) { s.lenderCfg = ids }
}

// WithReplyTagHeader names the key of a message's Headers that holds its
// reply tag (the address form of a reply token, link.AddressTag). A message
// with a tag and a Reply-To address carries the Reply-To plus-addressed
// with it (replies+{tag}@reply.acme.example); the header itself is never
// sent.
func WithReplyTagHeader(name string) Option { return func(s *Sender) { s.tagHeader = name } }

// identity is a lender's parsed Identity; nil fields fall back to the sender's.
type identity struct {
	from, replyTo *netmail.Address
}

// WithTLSConfig sets the TLS configuration used for STARTTLS and implicit
// TLS, for example to trust a private CA. Its ServerName defaults to Config.Host.
func WithTLSConfig(c *tls.Config) Option { return func(s *Sender) { s.tls = c } }

// New checks cfg (after filling defaults and reading PasswordFile) and
// returns a sender. It does not connect: the first Send does.
func New(cfg Config, opts ...Option) (*Sender, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.loadSecrets(); err != nil {
		return nil, err
	}
	if err := cfg.loadKeys(); err != nil {
		return nil, fmt.Errorf("smtp config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("smtp config: %w", err)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp.from: %w", err)
	}
	s := &Sender{cfg: cfg, from: from, clock: nudge.SystemClock, sem: make(chan struct{}, 1)}
	if cfg.ReplyTo != "" {
		if s.replyTo, err = netmail.ParseAddress(cfg.ReplyTo); err != nil {
			return nil, fmt.Errorf("smtp.reply_to: %w", err)
		}
	}
	for _, o := range opts {
		o(s)
	}
	if err := s.parseLenders(); err != nil {
		return nil, err
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.tls == nil {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		s.tls = s.tls.Clone()
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = strings.Trim(cfg.Host, "[]")
	}
	mopts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTimeout(cfg.Timeout),
		mail.WithHELO(cfg.Domain),
		mail.WithTLSConfig(s.tls),
		mail.WithDialContextFunc(s.dial),
	}
	switch cfg.TLS {
	case TLSStartTLS:
		mopts = append(mopts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		// s.dial performs the handshake; go-mail must not try STARTTLS.
		mopts = append(mopts, mail.WithSSL(), mail.WithTLSPolicy(mail.NoTLS))
	case TLSNone:
		mopts = append(mopts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if cfg.Username != "" {
		mopts = append(mopts, mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
		if cfg.TLS == TLSNone {
			// Prefer mechanisms that do not reveal the password; the
			// operator chose an unencrypted connection.
			mopts = append(mopts, mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
				mail.SMTPAuthCramMD5, mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc))
		} else {
			mopts = append(mopts, mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin,
				mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthCramMD5))
		}
	}
	client, err := mail.NewClient(strings.Trim(cfg.Host, "[]"), mopts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s: %w", cfg.Host, err)
	}
	s.client = client
	return s, nil
}

// parseLenders parses the identities WithLenders gave and the DKIM keys
// (the per-domain ones of Config.DKIM and the lenders' own), refusing a key
// that does not parse or does not cover the From it would sign.
func (s *Sender) parseLenders() error {
	s.lenders = map[string]identity{}
	s.keys = &keyring{lender: map[string][]dkimSigner{}}
	lenders := map[string]Identity{}
	for id, li := range s.lenderCfg {
		prefix := "lender " + id
		li.DKIM = append([]DKIMKey(nil), li.DKIM...)
		for i := range li.DKIM {
			if err := li.DKIM[i].load(fmt.Sprintf("%s.dkim[%d]", prefix, i)); err != nil {
				return fmt.Errorf("smtp: %w", err)
			}
		}
		if err := li.Validate(prefix, s.cfg.From); err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
		lenders[id] = li
		var out identity
		if li.From != "" {
			out.from, _ = netmail.ParseAddress(li.From) // Validate parsed it
		}
		if li.ReplyTo != "" {
			out.replyTo, _ = netmail.ParseAddress(li.ReplyTo)
		}
		s.lenders[id] = out
		for i, k := range li.DKIM {
			signer, _ := k.parse(fmt.Sprintf("%s.dkim[%d]", prefix, i)) // Validate parsed it
			s.keys.lender[id] = append(s.keys.lender[id], signer)
		}
	}
	s.lenderCfg = nil
	if err := s.cfg.ValidateDKIM(lenders); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	for i, k := range s.cfg.DKIM {
		signer, _ := k.parse(fmt.Sprintf("smtp.dkim[%d]", i)) // ValidateDKIM parsed it
		s.keys.domain = append(s.keys.domain, signer)
	}
	return nil
}

// identityOf returns the From and Reply-To (nil for none) of a message of
// lender: the lender's own, else the configured ones.
func (s *Sender) identityOf(lender string) (from, replyTo *netmail.Address) {
	from, replyTo = s.from, s.replyTo
	if li, ok := s.lenders[lender]; ok {
		if li.from != nil {
			from = li.from
		}
		if li.replyTo != nil {
			replyTo = li.replyTo
		}
	}
	return from, replyTo
}

// ReplyAddress returns the address base plus-addressed with tag:
// "replies@reply.acme.example" and "abc" give "replies+abc@reply.acme.example".
// A base that already has a tag keeps it and gets tag after it.
func ReplyAddress(base, tag string) string {
	at := strings.LastIndex(base, "@")
	if at < 0 || tag == "" {
		return base
	}
	return base[:at] + "+" + tag + base[at:]
}

// ReplyTag splits an address made by ReplyAddress into its base and tag
// (what follows the last "+" of the local part); ok is false when the
// address has no tag.
func ReplyTag(address string) (base, tag string, ok bool) {
	at := strings.LastIndex(address, "@")
	if at < 0 {
		return address, "", false
	}
	local, domain := address[:at], address[at:]
	plus := strings.LastIndex(local, "+")
	if plus < 0 {
		return address, "", false
	}
	return local[:plus] + domain, local[plus+1:], true
}

// SenderRate returns the rate-limiter key ("smtp:" and the sender address)
// and the messages-per-second budget (Config.MPS) of the sender m goes out from.
func (s *Sender) SenderRate(m *nudge.Message) (key string, perSecond float64) {
	from := s.from.Address
	if m != nil {
		a, _ := s.identityOf(m.Lender)
		from = a.Address
	}
	if m != nil && m.From != "" {
		if a, err := netmail.ParseAddress(m.From); err == nil {
			from = a.Address
		}
	}
	return "smtp:" + strings.ToLower(from), s.cfg.MPS
}

// Send delivers m: Subject, Text as text/plain and HTML (when set) as the
// text/html alternative, m.Headers (List-Unsubscribe, List-Unsubscribe-Post),
// Date, From (m.From, else the lender's, else Config.From), Reply-To (the
// lender's, else Config.ReplyTo, plus-addressed with the message's reply
// tag; none when neither is set), To, Content-Language (m.Locale) and a
// Message-ID. The Message-ID, angle brackets included, is the result's
// ProviderID. It is MessageID(Config.Domain, m.AttemptID), so a resent
// attempt carries the same Message-ID and receivers can discard a
// duplicate; a message without an attempt gets a random one. When a DKIM
// key covers the From's domain (the lender's own keys, else the closest
// per-domain keys), the message is DKIM-signed (relaxed/relaxed,
// rsa-sha256 or ed25519-sha256) over the exact bytes transmitted.
//
// Errors are *nudge.ProviderError values classified by where the
// conversation failed (see Classify). When the connection was lost after
// the message's final dot (MaybeAccepted), the result still carries the
// ProviderID: the server may hold the message under that Message-ID.
func (s *Sender) Send(ctx context.Context, m *nudge.Message) (nudge.SendResult, error) {
	out, err := s.build(m)
	if err != nil {
		return nudge.SendResult{}, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nudge.SendResult{}, &nudge.ProviderError{Retry: true, Reason: nudge.ReasonProviderRetry,
			Err: fmt.Errorf("smtp: waiting for the connection for attempt %s: %w", m.AttemptID, ctx.Err())}
	}
	defer func() { <-s.sem }()
	if s.closed {
		return nudge.SendResult{}, &nudge.ProviderError{Retry: true, Reason: nudge.ReasonProviderRetry,
			Err: fmt.Errorf("smtp: sender closed before attempt %s", m.AttemptID)}
	}
	for try := 0; ; try++ {
		reused := s.conn != nil
		if err := s.connect(ctx); err != nil {
			pe := Classify(stageError(StageConnect, err))
			pe.Err = fmt.Errorf("smtp: connecting to %s:%d for attempt %s: %w", s.cfg.Host, s.cfg.Port, m.AttemptID, pe.Err)
			return nudge.SendResult{}, pe
		}
		raw := s.raw
		stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
		err := s.transmit(s.conn, out.from, out.to, out.msg)
		interrupted := !stop()
		if err == nil {
			if interrupted {
				// The reply arrived as the context ended: the message is
				// accepted, the connection is closed.
				s.drop()
			}
			return nudge.SendResult{ProviderID: out.id, Status: nudge.AttemptSent}, nil
		}
		var se *Error
		if !errors.As(err, &se) {
			se = &Error{Stage: StageReply, Err: err} // transmit returns *Error; be safe
		}
		if se.Code == 0 || se.Code == 421 || interrupted {
			// No reply, or the server is closing the connection: it is
			// unusable.
			s.drop()
			if reused && try == 0 && ctx.Err() == nil && stale(se) {
				// The server closed an idle connection: dial once more.
				s.logger.Debug("smtp connection went stale; redialing", "host", s.cfg.Host, "stage", se.Stage)
				continue
			}
		} else {
			s.reset()
		}
		if cerr := ctx.Err(); cerr != nil && interrupted {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		pe := Classify(err)
		pe.Err = fmt.Errorf("smtp: sending attempt %s to %s: %w", m.AttemptID, channels.Mask(m.To),
			&redacted{err: pe.Err, address: out.to})
		var res nudge.SendResult
		if pe.MaybeAccepted {
			res.ProviderID = out.id
		}
		return res, pe
	}
}

// stale reports whether a failure on a reused connection is that of a
// connection the server closed while it sat idle: no reply (or 421,
// closing) to a command before the message was written, so nothing can
// have been accepted and one redial is safe.
func stale(se *Error) bool {
	switch se.Stage {
	case StageMail:
		return se.Code == 0 || se.Code == 421
	case StageRcpt, StageData:
		return se.Code == 0
	}
	return false
}

// redacted hides an address in an error's text (servers echo the
// recipient); errors.As and errors.Is still see the original.
type redacted struct {
	err     error
	address string
}

func (r *redacted) Error() string {
	if r.address == "" {
		return r.err.Error()
	}
	return strings.ReplaceAll(r.err.Error(), r.address, channels.Mask(r.address))
}

func (r *redacted) Unwrap() error { return r.err }

// Close says QUIT on the open connection, if any, and makes later sends fail.
func (s *Sender) Close() error {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	s.closed = true
	if s.conn == nil {
		return nil
	}
	// The deadline of the last command may have passed while idle.
	_ = s.conn.UpdateDeadline(s.cfg.Timeout)
	err := s.client.CloseWithSMTPClient(s.conn)
	if s.raw != nil {
		_ = s.raw.Close()
	}
	s.conn, s.raw = nil, nil
	if err != nil {
		return fmt.Errorf("smtp: closing connection to %s: %w", s.cfg.Host, err)
	}
	return nil
}

// connect dials when no connection is open. The caller holds sem.
func (s *Sender) connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// A failed greeting, STARTTLS or AUTH leaves the socket open.
		if s.raw != nil {
			_ = s.raw.Close()
			s.raw = nil
		}
		return err
	}
	s.conn = c
	s.logger.Debug("smtp connected", "host", s.cfg.Host, "port", s.cfg.Port, "tls", s.cfg.TLS)
	return nil
}

// reset aborts the mail transaction after the server refused a step (RSET),
// so the connection can carry the next message; it is dropped when RSET
// fails. The caller holds sem.
func (s *Sender) reset() {
	if err := s.conn.UpdateDeadline(s.cfg.Timeout); err != nil {
		s.drop()
		return
	}
	if err := s.conn.Reset(); err != nil {
		s.logger.Debug("smtp RSET failed; dropping the connection", "host", s.cfg.Host, "err", err)
		s.drop()
	}
}

// drop closes the connection without QUIT. The caller holds sem.
func (s *Sender) drop() {
	if s.raw != nil {
		_ = s.raw.Close()
	}
	s.conn, s.raw = nil, nil
}

// dial opens the network connection for go-mail, doing the TLS handshake
// itself in implicit-TLS mode, and remembers it so a cancelled context can
// interrupt a blocked command. It runs under sem (from connect).
func (s *Sender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: s.cfg.Timeout}
	var (
		c   net.Conn
		err error
	)
	if s.cfg.TLS == TLSImplicit {
		c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, network, addr)
	} else {
		c, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	s.raw = c
	return c, nil
}

// reservedHeaders are the headers Send sets itself; m.Headers may not set them.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Sender": true, "Reply-To": true, "Subject": true,
	"Date": true, "Message-Id": true, "Mime-Version": true, "Content-Type": true,
	"Content-Transfer-Encoding": true, "Content-Language": true, "Return-Path": true,
}

// outgoing is a message ready for the SMTP conversation.
type outgoing struct {
	// msg is the message exactly as it is transmitted: rendered once,
	// CRLF line endings, DKIM signatures first when signed.
	msg rendered
	// id is the Message-ID, angle brackets included.
	id string
	// from and to are the envelope addresses (MAIL FROM, RCPT TO).
	from, to string
}

// build turns m into the bytes to transmit, with its envelope: go-mail
// renders the message once, and when a DKIM key covers the domain of its
// From (keyring.signers) the rendered bytes are signed and the
// DKIM-Signature fields put before them, so the signature covers exactly
// what the server receives, Message-ID included. Its Message-ID depends
// only on m.AttemptID and Config.Domain.
func (s *Sender) build(m *nudge.Message) (outgoing, error) {
	fail := func(reason nudge.Reason, undeliverable bool, code, format string, args ...any) error {
		return &nudge.ProviderError{Reason: reason, Undeliverable: undeliverable, Code: code,
			Err: fmt.Errorf("smtp: attempt %s: "+format, append([]any{m.AttemptID}, args...)...)}
	}
	if m.Channel != "" && m.Channel != nudge.Email {
		return outgoing{}, fail(nudge.ReasonProviderFailed, false, "", "message is for channel %q", m.Channel)
	}
	if strings.TrimSpace(m.To) == "" {
		return outgoing{}, fail(nudge.ReasonNoContact, true, "", "message has no To address")
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil || !strings.Contains(to.Address, "@") {
		return outgoing{}, fail(nudge.ReasonUndeliverable, true, "invalid_address", "To %s is not an email address", channels.Mask(m.To))
	}
	if strings.TrimSpace(m.Subject) == "" || strings.TrimSpace(m.Text) == "" {
		return outgoing{}, fail(nudge.ReasonRenderFailed, false, "", "message needs a subject and a text part")
	}
	from, replyTo := s.identityOf(m.Lender)
	if m.From != "" {
		if from, err = netmail.ParseAddress(m.From); err != nil {
			return outgoing{}, fail(nudge.ReasonProviderFailed, false, "", "From %q is not an email address", m.From)
		}
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	if replyTo != nil {
		r := *replyTo
		if s.tagHeader != "" {
			r.Address = ReplyAddress(r.Address, m.Headers[s.tagHeader])
		}
		msg.ReplyToMailAddress(&r)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.clock.Now())
	id := s.messageID(m.AttemptID)
	msg.SetMessageIDWithValue(strings.Trim(id, "<>"))
	if m.Locale != "" {
		msg.SetGenHeader(mail.HeaderContentLang, m.Locale)
	}
	msg.SetGenHeaderPreformatted("Auto-Submitted", "auto-generated")
	for name, value := range m.Headers {
		canon := canonicalHeader(name)
		switch {
		case s.tagHeader != "" && name == s.tagHeader:
			// The reply tag went into Reply-To.
		case canon == "":
			return outgoing{}, fail(nudge.ReasonRenderFailed, false, "", "header name %q is not valid", name)
		case reservedHeaders[canon]:
			return outgoing{}, fail(nudge.ReasonRenderFailed, false, "", "header %s is set by the sender", name)
		case strings.ContainsAny(value, "\r\n"):
			return outgoing{}, fail(nudge.ReasonRenderFailed, false, "", "header %s has a line break", name)
		case isASCII(value):
			msg.SetGenHeaderPreformatted(mail.Header(name), value)
		default:
			msg.SetGenHeader(mail.Header(name), value)
		}
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return outgoing{}, fail(nudge.ReasonRenderFailed, false, "", "rendering the message: %v", err)
	}
	raw := toCRLF(buf.Bytes())
	if signers := s.keys.signers(m.Lender, domainOf(from.Address)); len(signers) > 0 {
		if raw, err = signDKIM(raw, signers); err != nil {
			// Unsigned mail from a domain that publishes DKIM keys fails
			// DMARC: refuse rather than send it.
			return outgoing{}, fail(nudge.ReasonProviderFailed, false, "", "signing: %v", err)
		}
	}
	return outgoing{msg: raw, id: id, from: from.Address, to: to.Address}, nil
}

// rendered is a whole message as bytes; each WriteTo writes all of it, so a
// redial sends the same bytes again.
type rendered []byte

// WriteTo writes r to w.
func (r rendered) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r)
	return int64(n), err
}

// MessageID returns the Message-ID, angle brackets included, that Send
// gives the message of attempt attemptID when Config.Domain is domain:
// "<" + 32 hex digits of a SHA-256 digest of both + "@" + domain + ">". It is
// a pure function, so every resend of an attempt carries the same
// Message-ID and the attempt's outcome can be looked up by it. attemptID
// must not be empty: Send gives a message without an attempt a random
// Message-ID instead.
func MessageID(domain, attemptID string) string {
	sum := sha256.Sum256([]byte("nudge-message-id\x00" + domain + "\x00" + attemptID))
	return "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}

// messageID is MessageID for the configured domain, or a random id when
// attemptID is empty.
func (s *Sender) messageID(attemptID string) string {
	if attemptID != "" {
		return MessageID(s.cfg.Domain, attemptID)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "<" + hex.EncodeToString(b) + "@" + s.cfg.Domain + ">"
}

// canonicalHeader returns the canonical form of a header field name
// ("list-unsubscribe" → "List-Unsubscribe"), or "" when name is not a valid
// field name (printable ASCII without colon or space, RFC 5322 §3.6.8).
func canonicalHeader(name string) string {
	if name == "" {
		return ""
	}
	for _, c := range name {
		if c <= ' ' || c > '~' || c == ':' {
			return ""
		}
	}
	parts := strings.Split(strings.ToLower(name), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
