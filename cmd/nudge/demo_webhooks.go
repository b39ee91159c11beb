package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/webhook"
)

// demoCRMEndpoint is the id of the demo's webhook endpoint.
const demoCRMEndpoint = "whe_demo_crm"

// demoCRM is a lender's CRM in the demo: a local HTTPS server registered
// as the US lender's webhook endpoint, which checks every delivery's
// signature with the Standard Webhooks library and counts what it gets.
type demoCRM struct {
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	verifier *standardwebhooks.Webhook
	received int
	verified int
	events   map[string]bool
}

// demoWebhooks is the demo report's count of the webhooks the demo CRM got.
type demoWebhooks struct {
	// Received counts requests; Verified those whose signature checked out;
	// Events the distinct events among them (a repeat has the same id).
	Received int `json:"received"`
	Verified int `json:"verified"`
	Events   int `json:"events"`
}

// startDemoCRM starts the demo CRM's server; register it once the runtime
// is up.
func startDemoCRM() (*demoCRM, error) {
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	c := &demoCRM{secret: secret, verifier: v, events: map[string]bool{}}
	c.srv = httptest.NewTLSServer(http.HandlerFunc(c.serve))
	return c, nil
}

// roots trusts the demo CRM's own certificate.
func (c *demoCRM) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.srv.Certificate())
	return pool
}

func (c *demoCRM) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.received++
	// The demo's clock may run ahead of the wall clock (--at), and so the
	// signed timestamp: check the signature, not the freshness.
	if err := c.verifier.VerifyIgnoringTimestamp(body, r.Header); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	c.verified++
	var ev nudge.PublicEvent
	if json.Unmarshal(body, &ev) == nil {
		c.events[ev.ID] = true
	}
	w.WriteHeader(http.StatusNoContent)
}

// register makes the demo CRM the US lender's webhook endpoint for every
// event type.
func (c *demoCRM) register(ctx context.Context, rt *runtime) error {
	sealer, err := payment.NewSealer([]byte(rt.cfg.Secret))
	if err != nil {
		return err
	}
	sealed, err := sealer.Seal(demoLenderUS, c.secret)
	if err != nil {
		return err
	}
	_, err = rt.db.CreateWebhookEndpoint(ctx, nudge.WebhookEndpoint{ID: demoCRMEndpoint, Lender: demoLenderUS,
		URL: c.srv.URL + "/hooks/nudge", Description: "the demo CRM", Secret: sealed, Enabled: true, CreatedAt: rt.clock.Now()})
	return err
}

func (c *demoCRM) report() demoWebhooks {
	c.mu.Lock()
	defer c.mu.Unlock()
	return demoWebhooks{Received: c.received, Verified: c.verified, Events: len(c.events)}
}

func (c *demoCRM) Close() { c.srv.Close() }
