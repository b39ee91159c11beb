// Package smtpsink is an SMTP server that runs inside the process and keeps
// the mail it receives: tests send real SMTP to it, and `nudge demo` points
// its email sender at it and writes what arrived to .eml files.
//
// It is built on github.com/emersion/go-smtp's server. It speaks plain SMTP
// (STARTTLS when given a TLS configuration), accepts AUTH PLAIN over plain
// connections when credentials are configured, and can be told to answer the
// next commands with a chosen 4xx or 5xx reply, or to reject an address, so
// callers can exercise a client's error handling. Faults (SetFault,
// FaultNext) inject the failures a client must tell apart: an outage, a
// refused sender, a temporary failure, and a connection dropped after the
// message's final dot, when the client cannot know whether it was accepted.
// Each message keeps its Message-ID, so a test can count deliveries per
// Message-ID (MessageIDs) and tell a resend from a duplicate. It is not a
// relay: nothing it receives leaves the process.
package smtpsink

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// DefaultDomain is the name the sink greets clients with.
const DefaultDomain = "sink.nudge.localhost"

// DefaultMaxMessageBytes is the largest message accepted when
// Options.MaxMessageBytes is zero.
const DefaultMaxMessageBytes = 10 << 20

// Options configures a Sink. The zero value is a sink without
// authentication or TLS.
type Options struct {
	// Domain is the name in the greeting; DefaultDomain when empty.
	Domain string
	// Username and Password, when Username is set, require AUTH PLAIN with
	// these credentials before MAIL FROM. AUTH is allowed over plain
	// connections: the sink is for local use only.
	Username string
	Password string
	// TLSConfig, when set, enables STARTTLS (or implicit TLS with ImplicitTLS).
	TLSConfig *tls.Config
	// ImplicitTLS makes every connection TLS from the first byte (SMTPS,
	// port 465 style); it needs TLSConfig.
	ImplicitTLS bool
	// MaxMessageBytes bounds one message; DefaultMaxMessageBytes when zero.
	MaxMessageBytes int64
	// Logger receives the server's internal errors; discarded when nil.
	Logger *slog.Logger
}

// Received is one message the sink accepted.
type Received struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To lists the envelope recipients (RCPT TO) that were accepted.
	To []string
	// Data is the message as received: RFC 5322 headers and body.
	Data []byte
	// Session numbers the connection the message arrived on, from 1.
	Session int
	// Username is the authenticated user, or "" without AUTH.
	Username string
	// MessageID is the message's Message-ID header, angle brackets
	// included ("<id@acme.example>"), or "" when it has none.
	MessageID string
}

// Command names the SMTP command a scripted failure answers.
type Command string

// Commands FailNextAt can fail.
const (
	CommandMail Command = "MAIL"
	CommandRcpt Command = "RCPT"
	CommandData Command = "DATA"
)

// failure is one scripted reply.
type failure struct {
	at  Command
	err *gosmtp.SMTPError
}

// Sink is a running in-process SMTP server. It is safe for concurrent use.
type Sink struct {
	srv  *gosmtp.Server
	ln   net.Listener
	opts Options
	done chan struct{}
	err  error // Serve's result, read after done is closed

	mu       sync.Mutex
	messages []Received
	sessions int
	open     map[*numberedConn]bool
	script   []failure
	rejected map[string]*gosmtp.SMTPError
	faults   map[Fault]int // on: times left, or faultForever
	injected map[Fault]int
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves SMTP
// until Close.
func Start(addr string, opts Options) (*Sink, error) {
	if opts.Domain == "" {
		opts.Domain = DefaultDomain
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.ImplicitTLS && opts.TLSConfig == nil {
		return nil, errors.New("smtp sink: implicit TLS needs a TLS configuration")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp sink: listen on %s: %w", addr, err)
	}
	s := &Sink{
		opts: opts, done: make(chan struct{}), rejected: map[string]*gosmtp.SMTPError{}, open: map[*numberedConn]bool{},
		faults: map[Fault]int{}, injected: map[Fault]int{},
	}
	s.ln = &countingListener{Listener: ln, sink: s}
	if opts.ImplicitTLS {
		s.ln = tls.NewListener(s.ln, opts.TLSConfig)
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(s.newSession))
	srv.Domain = opts.Domain
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = 100
	srv.AllowInsecureAuth = true
	srv.TLSConfig = opts.TLSConfig
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogPrinter{logger(opts.Logger)}
	s.srv = srv
	go func() {
		defer close(s.done)
		if err := srv.Serve(s.ln); err != nil && !errors.Is(err, gosmtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Addr is the address the sink listens on (host:port).
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Host and Port split Addr for an SMTP client's configuration.
func (s *Sink) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr())
	return h
}

// Port is the TCP port the sink listens on.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server, dropping open connections. Messages stay readable.
func (s *Sink) Close() error {
	err := s.srv.Close()
	if errors.Is(err, gosmtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		err = nil
	}
	// Serve may not have registered the listener with the server yet.
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) {
		err = errors.Join(err, lerr)
	}
	<-s.done
	return errors.Join(err, s.err)
}

// Messages returns a copy of the messages received so far, in arrival order.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.messages))
	for i, m := range s.messages {
		m.To = append([]string(nil), m.To...)
		m.Data = append([]byte(nil), m.Data...)
		out[i] = m
	}
	return out
}

// MessageIDs counts the messages received so far by Message-ID (angle
// brackets included; "" for messages without one). A message delivered
// twice under one Message-ID counts 2; the same message resent under two
// Message-IDs shows as two entries.
func (s *Sink) MessageIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.messages))
	for _, m := range s.messages {
		out[m.MessageID]++
	}
	return out
}

// Count is the number of messages received so far.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// Sessions is the number of connections accepted so far; connections
// refused during FaultOutage do not count.
func (s *Sink) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// FailNext makes the next n RCPT TO commands, on any connection, answer
// code with msg (a 4xx or 5xx reply). Replies queue behind earlier scripted
// ones.
func (s *Sink) FailNext(n int, code int, msg string) {
	s.FailNextAt(CommandRcpt, n, code, msg)
}

// FailNextAt makes the next n commands of kind at (MAIL, RCPT or DATA; DATA
// fails after the message was read) answer code with msg. A scripted reply
// is used by the first command of its kind, in the order they were queued.
func (s *Sink) FailNextAt(at Command, n int, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.script = append(s.script, failure{at: at, err: smtpError(code, msg)})
	}
}

// Reject makes every RCPT TO address (compared case-insensitively) answer
// code, until Accept.
func (s *Sink) Reject(address string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected[strings.ToLower(address)] = smtpError(code, "mailbox unavailable")
}

// Accept undoes Reject for address.
func (s *Sink) Accept(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rejected, strings.ToLower(address))
}

// WriteEML writes every message received so far to dir (created if needed),
// one file per message named by arrival order and first recipient
// ("00001-ana_example.com.eml"), and returns how many it wrote.
func (s *Sink) WriteEML(dir string) (int, error) {
	msgs := s.Messages()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("smtp sink: creating %s: %w", dir, err)
	}
	for i, m := range msgs {
		rcpt := "unknown"
		if len(m.To) > 0 {
			rcpt = fileSafe(m.To[0])
		}
		name := filepath.Join(dir, fmt.Sprintf("%05d-%s.eml", i+1, rcpt))
		if err := os.WriteFile(name, m.Data, 0o644); err != nil {
			return i, fmt.Errorf("smtp sink: writing %s: %w", name, err)
		}
	}
	return len(msgs), nil
}

// fileSafe keeps letters, digits, dots, dashes and underscores of s and
// replaces the rest with underscores.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// next takes the first scripted failure for at, if any.
func (s *Sink) next(at Command) *gosmtp.SMTPError {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.script {
		if f.at == at {
			s.script = append(s.script[:i], s.script[i+1:]...)
			return f.err
		}
	}
	return nil
}

func (s *Sink) rejection(address string) *gosmtp.SMTPError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[strings.ToLower(address)]
}

// Disconnect closes every open client connection without a reply, as a
// server that timed out idle connections would; the sink keeps listening.
func (s *Sink) Disconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.open {
		_ = c.Conn.Close()
	}
}

func (s *Sink) accepted(c net.Conn) *numberedConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions++
	nc := &numberedConn{Conn: c, n: s.sessions, sink: s}
	s.open[nc] = true
	return nc
}

func (s *Sink) closed(c *numberedConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, c)
}

func (s *Sink) store(m Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
}

// smtpError builds a reply with an enhanced status code fitting code: x.1.1
// (bad mailbox) for 550 and 553, x.2.2 (mailbox full) for 452 and 552, x.0.0
// otherwise.
func smtpError(code int, msg string) *gosmtp.SMTPError {
	class := code / 100
	enh := gosmtp.EnhancedCode{class, 0, 0}
	switch code {
	case 550, 553:
		enh = gosmtp.EnhancedCode{class, 1, 1}
	case 452, 552:
		enh = gosmtp.EnhancedCode{class, 2, 2}
	}
	if msg == "" {
		msg = "scripted failure"
	}
	return &gosmtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

// countingListener numbers accepted connections.
type countingListener struct {
	net.Listener
	sink *Sink
}

// Accept numbers the next connection, refusing connections with 421 while
// FaultOutage is on.
func (l *countingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.sink.inject(FaultOutage) {
			l.sink.refuse(c)
			continue
		}
		return l.sink.accepted(c), nil
	}
}

// numberedConn carries the connection's number to its sessions.
type numberedConn struct {
	net.Conn
	n    int
	sink *Sink
	once sync.Once
}

func (c *numberedConn) Close() error {
	c.once.Do(func() { c.sink.closed(c) })
	return c.Conn.Close()
}

func (s *Sink) newSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	n := 0
	switch nc := c.Conn().(type) {
	case *numberedConn:
		n = nc.n
	case *tls.Conn:
		if inner, ok := nc.NetConn().(*numberedConn); ok {
			n = inner.n
		}
	}
	return &session{sink: s, conn: c, n: n}, nil
}

// session is one SMTP conversation.
type session struct {
	sink   *Sink
	conn   *gosmtp.Conn
	n      int
	user   string
	authed bool
	from   string
	to     []string
}

var _ gosmtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string {
	if s.sink.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if s.sink.opts.Username == "" || mech != sasl.Plain {
		return nil, gosmtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return gosmtp.ErrAuthFailed
		}
		if username != s.sink.opts.Username || password != s.sink.opts.Password {
			return gosmtp.ErrAuthFailed
		}
		s.user, s.authed = username, true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.sink.opts.Username != "" && !s.authed {
		return gosmtp.ErrAuthRequired
	}
	if s.sink.inject(FaultOutage) {
		return errOutage
	}
	if s.sink.inject(FaultRejectSender) {
		return errSenderRejected
	}
	if err := s.sink.next(CommandMail); err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.sink.inject(FaultOutage) {
		return errOutage
	}
	if err := s.sink.rejection(to); err != nil {
		return err
	}
	if s.sink.inject(FaultTempFailRcpt) {
		return errTempFail
	}
	if err := s.sink.next(CommandRcpt); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return fmt.Errorf("reading message: %w", err)
	}
	if s.sink.inject(FaultOutage) {
		return errOutage
	}
	if s.sink.inject(FaultTempFailData) {
		return errTempFail
	}
	if err := s.sink.next(CommandData); err != nil {
		return err
	}
	s.sink.store(Received{From: s.from, To: append([]string(nil), s.to...), Data: buf.Bytes(), Session: s.n,
		Username: s.user, MessageID: messageID(buf.Bytes())})
	if s.sink.inject(FaultDropAfterData) {
		// The message is kept; the reply to its final dot is never sent.
		_ = s.conn.Conn().Close()
		return errDropped
	}
	return nil
}

// messageID is the Message-ID header of a raw message, or "".
func messageID(raw []byte) string {
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(m.Header.Get("Message-Id"))
}

func (s *session) Reset() {
	s.from, s.to = "", nil
}

func (s *session) Logout() error { return nil }

// slogPrinter adapts a slog.Logger to go-smtp's Logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.l.Warn("smtp sink", "msg", fmt.Sprintf(format, v...))
}

func (p slogPrinter) Println(v ...any) {
	p.l.Warn("smtp sink", "msg", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
