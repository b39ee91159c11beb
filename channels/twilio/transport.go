package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/nudgehq/nudge"
)

// transport binds one API call to its context, rewrites the scheme and host
// of each request when a base URL is configured, and remembers the last HTTP
// status so errors twilio-go cannot decode are still classified.
type transport struct {
	ctx    context.Context
	base   http.RoundTripper
	target *url.URL
	status atomic.Int32
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
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

// call is one Twilio API request bound to a context: the twilio-go service to
// make it with, and the transport that saw it.
type call struct {
	ctx context.Context
	rt  *transport
	api *api.ApiService
}

// newCall builds a twilio-go client for one request made with ctx (already
// bounded by cfg.Timeout). twilio-go sends every request with
// context.Background(), so the transport attaches ctx itself; redirects are
// not followed.
func newCall(ctx context.Context, cfg Config, base http.RoundTripper, target *url.URL) *call {
	rt := &transport{ctx: ctx, base: base, target: target}
	c := &client.Client{
		Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken),
		HTTPClient: &http.Client{
			Transport: rt,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	c.SetAccountSid(cfg.AccountSID)
	return &call{ctx: ctx, rt: rt, api: api.NewApiServiceWithClient(c)}
}

// fail classifies err from the request: a Twilio REST error by its code, an
// undecodable answer by its HTTP status, a cancelled or timed-out request by
// its context. what names the request in the error ("twilio sms: create
// message for attempt X").
func (c *call) fail(what string, err error) error {
	var rest *client.TwilioRestError
	var v1 *client.RestErrorV1
	if !errors.As(err, &rest) && !errors.As(err, &v1) {
		if code := c.rt.lastStatus(); code >= 300 {
			err = &httpStatusError{code: code, err: err}
		} else if ctxErr := c.ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
	}
	pe := Classify(err)
	pe.Err = fmt.Errorf("%s: %w", what, pe.Err)
	return pe
}

// noSid is the error for an answer that names no resource.
func noSid(what string) error {
	return &nudge.ProviderError{Retry: true, Reason: nudge.ReasonProviderRetry, Err: fmt.Errorf("%s: answer without a sid", what)}
}
