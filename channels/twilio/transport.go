package twilio

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// IdleConnsPerHost is how many idle connections to Twilio's API the senders
// keep for reuse. A worker sends up to dispatcher.DefaultConcurrency (256)
// messages and calls at once; net/http's default transport keeps 2 idle
// connections a host, so after each burst all but two were closed and the
// next burst paid a TCP and TLS handshake for each request.
const IdleConnsPerHost = 256

// defaultTransport is the senders' transport when none is given (WithTransport,
// WithVoiceTransport): http.DefaultTransport's settings, with room for a
// worker's concurrent requests to stay open. SMS and voice share it, so they
// share the connections to the API host.
var defaultTransport = func() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, IdleConnsPerHost)
	t.MaxIdleConnsPerHost = IdleConnsPerHost
	return t
}()

// writeState is how far the last request got on its way to Twilio, as the
// HTTP transport reported it through net/http/httptrace.
type writeState int32

const (
	// stateNone: the transport reported nothing (it does not support
	// httptrace, or it failed before asking for a connection).
	stateNone writeState = iota
	// stateDialing: a connection was asked for and none was obtained yet
	// (DNS, dial and TLS handshake happen here).
	stateDialing
	// stateConnected: a connection was obtained; the request is being written.
	stateConnected
	// stateWriteFailed: writing the request failed, so Twilio never got all
	// of it and cannot have acted on it.
	stateWriteFailed
	// stateWritten: the whole request was handed to the connection.
	stateWritten
)

// transport binds one API call to its context, rewrites the scheme and host
// of each request when a base URL is configured, and remembers the last HTTP
// status and how far the last request was written, so errors are classified
// by whether Twilio may have acted on the request.
type transport struct {
	ctx    context.Context
	base   http.RoundTripper
	target *url.URL
	status atomic.Int32
	state  atomic.Int32
	// h2 is set when the connection speaks HTTP/2, whose client may give up
	// on a request while its frames are still being written.
	h2 atomic.Bool
	// skipped is set when a request was never handed to the base transport
	// because the context had already ended.
	skipped atomic.Bool
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.state.Store(int32(stateNone))
	t.status.Store(0)
	t.h2.Store(false)
	t.skipped.Store(false)
	if err := t.ctx.Err(); err != nil {
		t.skipped.Store(true)
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { t.state.Store(int32(stateDialing)) },
		GotConn: func(info httptrace.GotConnInfo) {
			if c, ok := info.Conn.(*tls.Conn); ok && c.ConnectionState().NegotiatedProtocol == "h2" {
				t.h2.Store(true)
			}
			t.state.Store(int32(stateConnected))
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				t.state.Store(int32(stateWriteFailed))
				return
			}
			t.state.Store(int32(stateWritten))
		},
	}
	r := req.Clone(httptrace.WithClientTrace(t.ctx, trace))
	if t.target != nil {
		r.URL.Scheme = t.target.Scheme
		r.URL.Host = t.target.Host
		r.Host = t.target.Host
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	t.status.Store(int32(resp.StatusCode))
	return resp, nil
}

// lastStatus is the status of the last response, or 0.
func (t *transport) lastStatus() int { return int(t.status.Load()) }

// sent reports what the transport knows about the last request, which
// failed with err: known is false when it cannot tell; otherwise sent says
// whether the whole request may have reached Twilio.
//
// net/http's HTTP/1 client waits for its writer before it returns an error,
// so there a connection without a WroteRequest report means nothing was
// written; and since it reports WroteRequest once the request is in its
// buffer, before flushing it to the socket, a write error from the socket
// means the request never left whole. The HTTP/2 client does not wait for its
// writer and shares the socket between streams, so there neither is proof.
func (t *transport) sent(err error) (sent, known bool) {
	if t.skipped.Load() {
		return false, true
	}
	h2 := t.h2.Load()
	switch writeState(t.state.Load()) {
	case stateDialing, stateWriteFailed:
		return false, true
	case stateConnected:
		return false, !h2
	case stateWritten:
		var op *net.OpError
		if !h2 && errors.As(err, &op) && op.Op == "write" {
			return false, true
		}
		return true, true
	}
	return false, false
}

// call is one Twilio API request bound to a context: the twilio-go service to
// make it with, and the transport that saw it.
type call struct {
	ctx context.Context
	rt  *transport
	api *api.ApiService
}

// newCall builds a twilio-go client for one request of account made with ctx
// (already bounded by timeout). twilio-go sends every request with
// context.Background(), so the transport attaches ctx itself, together with
// an httptrace.ClientTrace that records whether the request was written;
// redirects are not followed.
func newCall(ctx context.Context, acct account, timeout time.Duration, base http.RoundTripper, target *url.URL) *call {
	rt := &transport{ctx: ctx, base: base, target: target}
	c := &client.Client{
		Credentials: client.NewCredentials(acct.sid, acct.token),
		HTTPClient: &http.Client{
			Transport: rt,
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	c.SetAccountSid(acct.sid)
	return &call{ctx: ctx, rt: rt, api: api.NewApiServiceWithClient(c)}
}

// fail classifies err from a create request (see Classify). what names the
// request in the error ("twilio sms: create message for attempt X").
func (c *call) fail(what string, err error) error {
	pe := Classify(c.evidence(err))
	pe.Err = fmt.Errorf("%s: %w", what, pe.Err)
	return pe
}

// evidence wraps err with what the transport saw, so Classify can tell a
// request Twilio refused or never got from one whose answer was lost.
func (c *call) evidence(err error) error {
	if twilioAnswered(err) {
		return err
	}
	if code := c.rt.lastStatus(); code != 0 {
		if code < 200 || code >= 300 {
			// An HTTP answer twilio-go could not decode as a Twilio error
			// (an HTML page from a proxy, an empty 503).
			return &httpStatusError{code: code, err: err}
		}
		// Twilio said yes, but the answer could not be read.
		return &lostAnswerError{err: err}
	}
	if ctxErr := c.ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	sent, known := c.rt.sent(err)
	switch {
	case known && !sent:
		return &unsentError{err: err}
	case sent:
		return &lostAnswerError{err: err}
	}
	// The transport could not tell: Classify judges by the error alone.
	return err
}

// noSid classifies an answer that decoded but names no resource. After a 2xx
// Twilio took the request, so the outcome is unknown; a 3xx is classified by
// its status, since Twilio does not redirect API requests it acts on.
func (c *call) noSid(what string) error {
	var err error = &lostAnswerError{err: errors.New("answer without a sid")}
	if code := c.rt.lastStatus(); code >= 300 {
		err = &httpStatusError{code: code, err: errors.New("answer without a sid")}
	}
	pe := Classify(err)
	pe.Err = fmt.Errorf("%s: %w", what, pe.Err)
	return pe
}

// twilioAnswered reports whether err carries an error Twilio itself answered
// with: a REST error with a code or status (a proxy's JSON decodes into an
// empty one), or a v1 API error.
func twilioAnswered(err error) bool {
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		return rest.Code != 0 || rest.Status != 0
	}
	var v1 *client.RestErrorV1
	return errors.As(err, &v1)
}
