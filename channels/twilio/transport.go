package twilio

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
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
