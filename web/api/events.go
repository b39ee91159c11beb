package api

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/webhook"
)

// feedScanPages bounds how many pages of the internal log one request to
// the feed reads while looking for events of the asked types.
const feedScanPages = 5

// webhookRoutes are the routes of the events feed and the webhook
// endpoints; Routes lists them.
func (a *API) webhookRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/v1/events", Role: nudge.RoleViewer, Summary: "The lender's events in order, after a cursor", handle: a.listEvents},
		{Method: http.MethodGet, Path: "/v1/webhook-endpoints", Role: nudge.RoleAdmin, Summary: "List webhook endpoints", handle: a.listWebhookEndpoints},
		{Method: http.MethodPost, Path: "/v1/webhook-endpoints", Role: nudge.RoleAdmin, Write: true, Summary: "Register a webhook endpoint (its signing secret is shown once)", handle: a.createWebhookEndpoint},
		{Method: http.MethodGet, Path: "/v1/webhook-endpoints/{id}", Role: nudge.RoleAdmin, Summary: "One webhook endpoint", handle: a.getWebhookEndpoint},
		{Method: http.MethodPatch, Path: "/v1/webhook-endpoints/{id}", Role: nudge.RoleAdmin, Write: true, Summary: "Change a webhook endpoint, or enable or disable it", handle: a.updateWebhookEndpoint},
		{Method: http.MethodDelete, Path: "/v1/webhook-endpoints/{id}", Role: nudge.RoleAdmin, Write: true, Summary: "Delete a webhook endpoint and its deliveries", handle: a.deleteWebhookEndpoint},
		{Method: http.MethodPost, Path: "/v1/webhook-endpoints/{id}/rotate-secret", Role: nudge.RoleAdmin, Write: true, Summary: "Make a new signing secret (shown once; replaces the old one)", handle: a.rotateEndpointSecret},
		{Method: http.MethodGet, Path: "/v1/webhook-endpoints/{id}/deliveries", Role: nudge.RoleAdmin, Summary: "List an endpoint's deliveries, newest first", handle: a.listWebhookDeliveries},
		{Method: http.MethodPost, Path: "/v1/webhook-endpoints/{id}/deliveries/{delivery}/replay", Role: nudge.RoleAdmin, Write: true, Summary: "Send a delivery again", handle: a.replayWebhookDelivery},
	}
}

// eventPageJSON is one page of the feed.
type eventPageJSON struct {
	Events []nudge.PublicEvent `json:"events"`
	// NextCursor continues after the last event read (even one not shown).
	NextCursor string `json:"next_cursor"`
	// More says the feed may hold more after NextCursor now.
	More bool `json:"more"`
}

func (a *API) webhooks() (nudge.WebhookStore, error) {
	if a.Webhooks == nil {
		return nil, errorf(http.StatusNotFound, "events and webhooks are not enabled")
	}
	return a.Webhooks, nil
}

// listEvents serves GET /v1/events?after=&type=&limit=.
func (a *API) listEvents(c *call) error {
	ws, err := a.webhooks()
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return badParam("after", "%q is not a cursor this API returned", v)
		}
	}
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	types, err := eventTypes("type", q["type"])
	if err != nil {
		return err
	}
	want := nudge.WebhookEndpoint{EventTypes: types}
	page := eventPageJSON{Events: []nudge.PublicEvent{}}
	cursor := after
scan:
	for range feedScanPages {
		entries, err := ws.Feed(c.ctx, c.lender(), cursor, store.MaxFeedPage)
		if err != nil {
			return err
		}
		for i, f := range entries {
			cursor = f.Position
			if pub, ok := nudge.PublicEventOf(f); ok && want.Wants(pub.Type) {
				page.Events = append(page.Events, pub)
				if len(page.Events) == limit {
					page.More = i < len(entries)-1 || len(entries) == store.MaxFeedPage
					break scan
				}
			}
		}
		if len(entries) < store.MaxFeedPage {
			page.More = false
			break
		}
		page.More = true
	}
	page.NextCursor = strconv.FormatInt(cursor, 10)
	web.WriteJSON(c.w, http.StatusOK, page)
	return nil
}

// eventTypes reads event types given as repeated or comma-separated values.
func eventTypes(field string, values []string) ([]nudge.PublicEventType, error) {
	var out []nudge.PublicEventType
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			t := nudge.PublicEventType(s)
			if !t.Valid() {
				return nil, badParam(field, "%q is not an event type (see docs/integration.md)", s)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// endpointJSON is a webhook endpoint as the API shows it (never its secret).
type endpointJSON struct {
	ID             string                  `json:"id"`
	URL            string                  `json:"url"`
	Description    string                  `json:"description"`
	EventTypes     []nudge.PublicEventType `json:"event_types"`
	Enabled        bool                    `json:"enabled"`
	DisabledReason string                  `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time              `json:"disabled_at,omitempty"`
	Failures       int                     `json:"consecutive_failures"`
	CreatedAt      time.Time               `json:"created_at"`
	UpdatedAt      time.Time               `json:"updated_at"`
	// Secret is set only when the endpoint is made and when its secret is
	// rotated.
	Secret string `json:"secret,omitempty"`
}

func endpointView(e nudge.WebhookEndpoint) endpointJSON {
	v := endpointJSON{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes, Enabled: e.Enabled,
		DisabledReason: e.DisabledReason, Failures: e.Failures, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if v.EventTypes == nil {
		v.EventTypes = []nudge.PublicEventType{}
	}
	if !e.DisabledAt.IsZero() {
		t := e.DisabledAt
		v.DisabledAt = &t
	}
	return v
}

// endpointRequest is the body of POST and PATCH /v1/webhook-endpoints.
type endpointRequest struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     *bool    `json:"enabled"`
}

// apply checks r and writes it over e; create requires the URL.
func (a *API) applyEndpoint(r endpointRequest, e *nudge.WebhookEndpoint, create bool) error {
	var ps []problemJSON
	switch {
	case r.URL != nil:
		if err := webhook.CheckURL(strings.TrimSpace(*r.URL), a.WebhookConfig.AllowPrivateAddresses); err != nil {
			ps = append(ps, problemJSON{Field: "url", Message: err.Error()})
		}
		e.URL = strings.TrimSpace(*r.URL)
	case create:
		ps = append(ps, problemJSON{Field: "url", Message: "is required"})
	}
	if r.Description != nil {
		if len(*r.Description) > 500 {
			ps = append(ps, problemJSON{Field: "description", Message: "is longer than 500 characters"})
		}
		e.Description = *r.Description
	}
	if r.EventTypes != nil {
		types, err := eventTypes("event_types", r.EventTypes)
		var ae *apiError
		if errors.As(err, &ae) {
			ps = append(ps, ae.problems...)
		}
		e.EventTypes = types
	}
	if r.Enabled != nil {
		e.Enabled = *r.Enabled
		if !e.Enabled {
			e.DisabledReason = "disabled through the API"
		}
	}
	if len(ps) > 0 {
		return &apiError{status: http.StatusBadRequest, msg: "invalid webhook endpoint", problems: ps}
	}
	return nil
}

func (a *API) listWebhookEndpoints(c *call) error {
	ws, err := a.webhooks()
	if err != nil {
		return err
	}
	eps, err := ws.ListWebhookEndpoints(c.ctx, c.lender())
	if err != nil {
		return err
	}
	out := make([]endpointJSON, len(eps))
	for i, e := range eps {
		out[i] = endpointView(e)
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"endpoints": out})
	return nil
}

// newSealedSecret makes a signing secret and seals it for the lender.
func (a *API) newSealedSecret(c *call) (secret, sealed string, err error) {
	if a.Sealer == nil {
		return "", "", errorf(http.StatusNotFound, "events and webhooks are not enabled")
	}
	if secret, err = webhook.NewSecret(); err != nil {
		return "", "", err
	}
	sealed, err = a.Sealer.Seal(c.lender(), secret)
	return secret, sealed, err
}

func (a *API) createWebhookEndpoint(c *call) error {
	ws, err := a.webhooks()
	if err != nil {
		return err
	}
	var req endpointRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	e := nudge.WebhookEndpoint{ID: newEndpointID(), Lender: c.lender(), Enabled: true, CreatedAt: a.now()}
	if err := a.applyEndpoint(req, &e, true); err != nil {
		return err
	}
	secret, sealed, err := a.newSealedSecret(c)
	if err != nil {
		return err
	}
	e.Secret = sealed
	if e, err = ws.CreateWebhookEndpoint(c.ctx, e); err != nil {
		return err
	}
	if err := a.audit(c, "webhook_endpoint.create", e.ID, map[string]any{"url": e.URL, "event_types": e.EventTypes}); err != nil {
		return err
	}
	v := endpointView(e)
	v.Secret = secret
	web.WriteJSON(c.w, http.StatusCreated, v)
	return nil
}

// newEndpointID returns whe_ and 16 random base32 characters.
func newEndpointID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails.
	return "whe_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (a *API) endpoint(c *call) (nudge.WebhookStore, nudge.WebhookEndpoint, error) {
	ws, err := a.webhooks()
	if err != nil {
		return nil, nudge.WebhookEndpoint{}, err
	}
	e, err := ws.GetWebhookEndpoint(c.ctx, c.lender(), c.r.PathValue("id"))
	return ws, e, err
}

func (a *API) getWebhookEndpoint(c *call) error {
	_, e, err := a.endpoint(c)
	if err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, endpointView(e))
	return nil
}

func (a *API) updateWebhookEndpoint(c *call) error {
	ws, e, err := a.endpoint(c)
	if err != nil {
		return err
	}
	var req endpointRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := a.applyEndpoint(req, &e, false); err != nil {
		return err
	}
	if err := ws.UpdateWebhookEndpoint(c.ctx, e, a.now()); err != nil {
		return err
	}
	if err := a.audit(c, "webhook_endpoint.update", e.ID, req); err != nil {
		return err
	}
	if e, err = ws.GetWebhookEndpoint(c.ctx, c.lender(), e.ID); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, endpointView(e))
	return nil
}

func (a *API) deleteWebhookEndpoint(c *call) error {
	ws, e, err := a.endpoint(c)
	if err != nil {
		return err
	}
	if err := ws.DeleteWebhookEndpoint(c.ctx, c.lender(), e.ID); err != nil {
		return err
	}
	if err := a.audit(c, "webhook_endpoint.delete", e.ID, nil); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rotateEndpointSecret(c *call) error {
	ws, e, err := a.endpoint(c)
	if err != nil {
		return err
	}
	secret, sealed, err := a.newSealedSecret(c)
	if err != nil {
		return err
	}
	if err := ws.SetWebhookSecret(c.ctx, c.lender(), e.ID, sealed, a.now()); err != nil {
		return err
	}
	if err := a.audit(c, "webhook_endpoint.rotate_secret", e.ID, nil); err != nil {
		return err
	}
	v := endpointView(e)
	v.Secret = secret
	web.WriteJSON(c.w, http.StatusCreated, v)
	return nil
}

// deliveryJSON is one webhook delivery as the API shows it.
type deliveryJSON struct {
	ID          string                      `json:"id"`
	EventID     string                      `json:"event_id"`
	EventType   nudge.PublicEventType       `json:"event_type"`
	AccountID   string                      `json:"account_id,omitempty"`
	Status      nudge.WebhookDeliveryStatus `json:"status"`
	Attempts    int                         `json:"attempts"`
	NextAt      *time.Time                  `json:"next_at,omitempty"`
	LastStatus  int                         `json:"last_http_status,omitempty"`
	LastError   string                      `json:"last_error,omitempty"`
	CreatedAt   time.Time                   `json:"created_at"`
	DeliveredAt *time.Time                  `json:"delivered_at,omitempty"`
}

func deliveryView(d nudge.WebhookDelivery) deliveryJSON {
	v := deliveryJSON{ID: d.ID, EventID: nudge.EventID(d.EventID), EventType: d.EventType, AccountID: d.AccountID, Status: d.Status,
		Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt}
	if d.Status == nudge.WebhookPending {
		t := d.NextAt
		v.NextAt = &t
	}
	if !d.DeliveredAt.IsZero() {
		t := d.DeliveredAt
		v.DeliveredAt = &t
	}
	return v
}

func (a *API) listWebhookDeliveries(c *call) error {
	ws, e, err := a.endpoint(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	status := nudge.WebhookDeliveryStatus(q.Get("status"))
	if status != "" && !status.Valid() {
		return badParam("status", "%q is not pending, delivered or failed", status)
	}
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	ds, err := ws.ListWebhookDeliveries(c.ctx, c.lender(), e.ID, status, limit)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryView(d)
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"deliveries": out})
	return nil
}

func (a *API) replayWebhookDelivery(c *call) error {
	ws, e, err := a.endpoint(c)
	if err != nil {
		return err
	}
	d, err := ws.GetWebhookDelivery(c.ctx, c.r.PathValue("delivery"))
	if err != nil {
		return err
	}
	if d.EndpointID != e.ID || d.Lender != c.lender() {
		return errorf(http.StatusNotFound, "not found")
	}
	if d.Status == nudge.WebhookPending {
		return errorf(http.StatusConflict, "delivery %s is still pending", d.ID)
	}
	now := a.now()
	if d, err = ws.ReplayWebhookDelivery(c.ctx, c.lender(), d.ID, now, now.Add(a.WebhookConfig.WithDefaults().GiveUpAfter)); err != nil {
		return err
	}
	if err := a.audit(c, "webhook_delivery.replay", d.ID, map[string]string{"endpoint": e.ID}); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusAccepted, deliveryView(d))
	return nil
}
