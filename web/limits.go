package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge/dispatcher"
)

// Defaults of the server's limits (see Limits).
const (
	// DefaultQueuesBody bounds request bodies of the queue monitor
	// (/ops/queues/…, asynqmon's JSON), in bytes.
	DefaultQueuesBody = 64 << 10
	// DefaultOtherBody bounds request bodies of every route of no other
	// family (/healthz, /readyz, /metrics, unknown paths), in bytes.
	DefaultOtherBody = 8 << 10
	// DefaultUnauthenticatedRate is how many requests without a valid key
	// one client address may send a second, sustained.
	DefaultUnauthenticatedRate = 10
	// DefaultUnauthenticatedBurst is how many such requests it may send at
	// once.
	DefaultUnauthenticatedBurst = 20
	// DefaultEmailBody bounds the inbound emails a provider posts
	// (/webhooks/mailgun/…), in bytes: Mailgun's largest message. The form
	// is read as a stream and attachments are skipped unread.
	DefaultEmailBody = 25 << 20
	// DefaultMaxClients is how many client addresses the server keeps a
	// rate limiter for.
	DefaultMaxClients = 10000
)

// BodyLimits are the largest request bodies of each route family, in bytes.
// A body declared larger (Content-Length) is answered 413 before the
// handler runs; a body of unknown length is read up to its limit first,
// except an account import's, which the lender API reads as a stream (after
// checking the key) and answers 413 itself. Zero means the default.
type BodyLimits struct {
	// API bounds the lender API's JSON and cadence bodies under /v1/
	// (DefaultMaxBodyBytes).
	API int64
	// Import bounds account imports, POST /v1/accounts
	// (DefaultMaxImportBytes).
	Import int64
	// Webhook bounds provider webhooks under /webhooks/ (MaxWebhookBody).
	Webhook int64
	// Email bounds inbound emails under /webhooks/mailgun/ (DefaultEmailBody).
	Email int64
	// Page bounds the borrower pages /p/… and /u/… (MaxSelfServiceBody).
	Page int64
	// Ops bounds the operator console's forms under /ops/, the login
	// among them (MaxOpsLoginBody).
	Ops int64
	// Queues bounds the queue monitor under /ops/queues/ (DefaultQueuesBody).
	Queues int64
	// Other bounds every other route (DefaultOtherBody).
	Other int64
}

// RateLimit is the token bucket each client address has for requests
// without a valid key.
type RateLimit struct {
	// PerSecond is the sustained rate (DefaultUnauthenticatedRate when zero).
	PerSecond float64
	// Burst is the bucket's size (DefaultUnauthenticatedBurst when zero).
	Burst int
	// MaxClients bounds how many addresses are tracked (DefaultMaxClients
	// when zero). Idle addresses (whose bucket is full again) are dropped
	// first; past the bound the least recently seen one is.
	MaxClients int
	// Off turns the limit off.
	Off bool
}

// Limits bound what the Server accepts: the size of every request body,
// and the rate of requests without a valid key from one client address.
//
// These requests count against the address: every request to /ops/login,
// /p/… and /u/…; any request answered 401 (a missing, malformed, unknown
// or revoked API key, or a console request without a session); and a
// webhook request whose signature is refused (answered 403) or whose form
// cannot be read. A webhook with a valid signature and a request with a
// valid key never count. Past the limit the answer is 429 with Retry-After.
type Limits struct {
	Body            BodyLimits
	Unauthenticated RateLimit
	// TrustedProxies are the addresses (single addresses or prefixes) of
	// reverse proxies whose X-Forwarded-For is believed. Without any, the
	// client is the connection's remote address. IPv6 clients are limited
	// by /64 prefix.
	TrustedProxies []netip.Prefix
}

// WithDefaults returns l with zero values replaced by the defaults.
func (l Limits) WithDefaults() Limits {
	fill := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	fill(&l.Body.API, DefaultMaxBodyBytes)
	fill(&l.Body.Import, DefaultMaxImportBytes)
	fill(&l.Body.Webhook, MaxWebhookBody)
	fill(&l.Body.Email, DefaultEmailBody)
	fill(&l.Body.Page, max(MaxSelfServiceBody, MaxUnsubscribeBody))
	fill(&l.Body.Ops, MaxOpsLoginBody)
	fill(&l.Body.Queues, DefaultQueuesBody)
	fill(&l.Body.Other, DefaultOtherBody)
	if l.Unauthenticated.PerSecond == 0 {
		l.Unauthenticated.PerSecond = DefaultUnauthenticatedRate
	}
	if l.Unauthenticated.Burst == 0 {
		l.Unauthenticated.Burst = DefaultUnauthenticatedBurst
	}
	if l.Unauthenticated.MaxClients == 0 {
		l.Unauthenticated.MaxClients = DefaultMaxClients
	}
	return l
}

// Validate reports every negative limit, naming its field.
func (l Limits) Validate() error {
	var errs []error
	for _, b := range []struct {
		field string
		v     int64
	}{
		{"body.api", l.Body.API}, {"body.import", l.Body.Import}, {"body.webhook", l.Body.Webhook}, {"body.email", l.Body.Email},
		{"body.page", l.Body.Page}, {"body.ops", l.Body.Ops}, {"body.queues", l.Body.Queues}, {"body.other", l.Body.Other},
	} {
		if b.v < 0 {
			errs = append(errs, fmt.Errorf("limits: %s is %d bytes: want a positive size", b.field, b.v))
		}
	}
	u := l.Unauthenticated
	if u.PerSecond < 0 {
		errs = append(errs, fmt.Errorf("limits: unauthenticated.per_second is %g: want a positive rate", u.PerSecond))
	}
	if u.Burst < 0 {
		errs = append(errs, fmt.Errorf("limits: unauthenticated.burst is %d: want a positive size", u.Burst))
	}
	if u.MaxClients < 0 {
		errs = append(errs, fmt.Errorf("limits: unauthenticated.max_clients is %d: want a positive count", u.MaxClients))
	}
	for _, p := range l.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, errors.New("limits: trusted_proxies holds an invalid prefix"))
		}
	}
	return errors.Join(errs...)
}

// ParseTrustedProxies parses addresses ("10.0.0.7") and prefixes
// ("10.0.0.0/8", "fd00::/8") of trusted reverse proxies.
func ParseTrustedProxies(ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for i, s := range ss {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies[%d]: %q is neither an address nor a prefix", i, s)
		}
		a = a.Unmap().WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// routeLimits is what the limits say about one request.
type routeLimits struct {
	// body is the largest body; buffer reads a body of unknown length up
	// front, so that the handler never sees one too large.
	body   int64
	buffer bool
	// always counts every request against the client's address.
	always bool
	// webhook counts refused signatures (403) and unreadable forms.
	webhook bool
	// twilioForm parses the webhook's form before the handler runs.
	twilioForm bool
	// json answers errors in the lender API's JSON.
	json bool
}

// route classifies a request into its family by path.
func (l *Limits) route(r *http.Request) routeLimits {
	p := r.URL.Path
	switch {
	case p == "/v1" || strings.HasPrefix(p, "/v1/"):
		if p == "/v1/accounts" && r.Method == http.MethodPost {
			return routeLimits{body: l.Body.Import, json: true}
		}
		return routeLimits{body: l.Body.API, buffer: true, json: true}
	case strings.HasPrefix(p, MailgunWebhooksPrefix):
		// Streamed: the handler answers 413 when the bound is reached.
		return routeLimits{body: l.Body.Email, webhook: true}
	case strings.HasPrefix(p, WebhooksPrefix):
		return routeLimits{body: l.Body.Webhook, buffer: true, webhook: true,
			twilioForm: r.Method == http.MethodPost && strings.HasPrefix(p, TwilioWebhooksPrefix)}
	case strings.HasPrefix(p, dispatcher.SelfServicePath), strings.HasPrefix(p, dispatcher.UnsubscribePath):
		return routeLimits{body: l.Body.Page, buffer: true, always: true}
	case p == OpsPath+"/login":
		return routeLimits{body: l.Body.Ops, buffer: true, always: true}
	case strings.HasPrefix(p, OpsQueuesPath+"/"):
		return routeLimits{body: l.Body.Queues, buffer: true}
	case p == OpsPath || strings.HasPrefix(p, OpsPath+"/"):
		return routeLimits{body: l.Body.Ops, buffer: true}
	default:
		return routeLimits{body: l.Body.Other, buffer: true}
	}
}

// serveLimited applies the limits, then the mux.
func (s *Server) serveLimited(w http.ResponseWriter, r *http.Request) {
	rl := s.limits.route(r)
	client := ""
	if s.clients != nil {
		client = s.clientKey(r)
	}
	if rl.always && !s.admit(w, client, rl.json) {
		return
	}
	if !s.limitBody(w, r, rl) {
		return
	}
	if rl.twilioForm {
		// Parsed here so that a form no signature can cover counts against
		// the address; the handler's own ParseForm then has nothing to do.
		if err := r.ParseForm(); err != nil {
			if s.admit(w, client, false) {
				http.Error(w, "bad form", http.StatusBadRequest)
			}
			return
		}
	}
	if rl.always || s.clients == nil {
		s.mux.ServeHTTP(w, r)
		return
	}
	sw := &statusWatcher{ResponseWriter: w, json: rl.json, counts: func(code int) bool {
		return code == http.StatusUnauthorized || (rl.webhook && code == http.StatusForbidden)
	}, charge: func() (bool, time.Duration) { return s.clients.allow(client, s.clock.Now()) }}
	s.mux.ServeHTTP(sw, r)
}

// limitBody answers 413 to a body larger than the route's limit, and
// reports whether the request may go on.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request, rl routeLimits) bool {
	tooLarge := func() bool {
		w.Header().Set("Connection", "close")
		msg := fmt.Sprintf("the request body is larger than %d bytes", rl.body)
		if rl.json {
			WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": msg})
		} else {
			http.Error(w, msg, http.StatusRequestEntityTooLarge)
		}
		return false
	}
	if r.ContentLength > rl.body {
		return tooLarge()
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if !rl.buffer || r.ContentLength >= 0 {
		r.Body = http.MaxBytesReader(w, r.Body, rl.body)
		return true
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rl.body))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		http.Error(w, "the request body could not be read", http.StatusBadRequest)
		return false
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	return true
}

// admit takes one request from the client's bucket, answering 429 when it
// is empty; it reports whether the request may go on.
func (s *Server) admit(w http.ResponseWriter, client string, asJSON bool) bool {
	if s.clients == nil {
		return true
	}
	ok, wait := s.clients.allow(client, s.clock.Now())
	if !ok {
		writeTooMany(w, wait, asJSON)
	}
	return ok
}

// writeTooMany answers 429 with Retry-After in whole seconds (at least 1).
func writeTooMany(w http.ResponseWriter, wait time.Duration, asJSON bool) {
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	msg := fmt.Sprintf("too many requests without a valid key from this address: retry in %d s", secs)
	if asJSON {
		WriteJSON(w, http.StatusTooManyRequests, map[string]string{"error": msg})
		return
	}
	http.Error(w, msg, http.StatusTooManyRequests)
}

// statusWatcher charges the client's bucket when the handler answers a
// status that counts, and answers 429 instead when the bucket is empty.
type statusWatcher struct {
	http.ResponseWriter
	counts  func(code int) bool
	charge  func() (bool, time.Duration)
	json    bool
	written bool
	// refused swallows the handler's body after a 429.
	refused bool
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWatcher) WriteHeader(code int) {
	if w.written || code < 200 {
		if !w.refused {
			w.ResponseWriter.WriteHeader(code)
		}
		return
	}
	w.written = true
	if w.counts(code) {
		if ok, wait := w.charge(); !ok {
			w.refused = true
			h := w.Header()
			for k := range h {
				delete(h, k)
			}
			writeTooMany(w.ResponseWriter, wait, w.json)
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWatcher) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	if w.refused {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher when the underlying writer does.
func (w *statusWatcher) Flush() {
	if w.refused {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWatcher) Unwrap() http.ResponseWriter { return w.ResponseWriter }
