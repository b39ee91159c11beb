package nudge

import (
	"context"
	"slices"
	"time"
)

// WebhookEndpoint is a URL a lender registered to receive its events.
type WebhookEndpoint struct {
	ID          string
	Lender      string
	URL         string
	Description string
	// EventTypes are the types sent; empty means every type.
	EventTypes []PublicEventType
	// Secret is the signing secret, sealed under the deployment's secret.
	Secret  string
	Enabled bool
	// DisabledReason and DisabledAt say why and when Nudge (or the lender)
	// turned the endpoint off.
	DisabledReason string
	DisabledAt     time.Time
	// Cursor is the feed position up to which deliveries were made.
	Cursor int64
	// Failures counts consecutive failed tries since FailingSince.
	Failures     int
	FailingSince time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Wants reports whether the endpoint takes events of type t.
func (e WebhookEndpoint) Wants(t PublicEventType) bool {
	return len(e.EventTypes) == 0 || slices.Contains(e.EventTypes, t)
}

// WebhookDeliveryStatus is where a webhook delivery stands.
type WebhookDeliveryStatus string

// Webhook delivery statuses.
const (
	WebhookPending   WebhookDeliveryStatus = "pending"   // to be sent (again) at NextAt
	WebhookDelivered WebhookDeliveryStatus = "delivered" // the endpoint answered 2xx
	WebhookFailed    WebhookDeliveryStatus = "failed"    // given up; it can be replayed
)

// Valid reports whether s is a known status.
func (s WebhookDeliveryStatus) Valid() bool {
	return s == WebhookPending || s == WebhookDelivered || s == WebhookFailed
}

// WebhookDelivery is one event to send to one endpoint. Its ID is the
// webhook-id header, the same on every try.
type WebhookDelivery struct {
	ID         string
	EndpointID string
	Lender     string
	AccountID  string
	EventID    int64
	Position   int64
	EventType  PublicEventType
	Status     WebhookDeliveryStatus
	Attempts   int
	NextAt     time.Time
	GiveUpAt   time.Time
	// LastStatus is the HTTP status of the last try (0 when none came back).
	LastStatus  int
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
}

// WebhookTry is the outcome of one try of a delivery.
type WebhookTry struct {
	DeliveryID string
	// Attempts is the delivery's count before the try: the record applies
	// only while it is unchanged, so two workers cannot both count a try.
	Attempts int
	// Status is WebhookDelivered, WebhookPending (retry at NextAt) or
	// WebhookFailed (given up).
	Status     WebhookDeliveryStatus
	NextAt     time.Time
	HTTPStatus int
	Error      string
	At         time.Time
}

// WebhookStore keeps webhook endpoints and their deliveries, and reads the
// lender's event feed.
type WebhookStore interface {
	// Feed returns up to limit entries of the lender's event log after
	// position after, in position order, first giving a position to every
	// event committed since the last read.
	Feed(ctx context.Context, lender string, after int64, limit int) ([]FeedEntry, error)
	// FeedEvent returns the lender's event with log id id and its position.
	FeedEvent(ctx context.Context, lender string, id int64) (FeedEntry, error)

	// CreateWebhookEndpoint stores e; its cursor is set to the feed's head,
	// so it receives the events that come after.
	CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error)
	GetWebhookEndpoint(ctx context.Context, lender, id string) (WebhookEndpoint, error)
	ListWebhookEndpoints(ctx context.Context, lender string) ([]WebhookEndpoint, error)
	// UpdateWebhookEndpoint writes URL, Description, EventTypes and Enabled;
	// enabling clears the failure count and the disabled reason.
	UpdateWebhookEndpoint(ctx context.Context, e WebhookEndpoint, now time.Time) error
	SetWebhookSecret(ctx context.Context, lender, id, sealed string, now time.Time) error
	// DeleteWebhookEndpoint removes the endpoint and its deliveries.
	DeleteWebhookEndpoint(ctx context.Context, lender, id string) error
	// DisableWebhookEndpoint turns an enabled endpoint off; it reports
	// false when it was off already.
	DisableWebhookEndpoint(ctx context.Context, id, reason string, now time.Time) (bool, error)
	// AllWebhookEndpoints returns every lender's endpoints.
	AllWebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error)

	// AddWebhookDeliveries inserts ds (ignoring those that exist) and moves
	// the endpoint's cursor from from to to, in one transaction; it reports
	// false, writing nothing, when the cursor is no longer from.
	AddWebhookDeliveries(ctx context.Context, endpointID string, from, to int64, ds []WebhookDelivery) (bool, error)
	GetWebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error)
	// DueWebhookDeliveries returns up to limit pending deliveries of
	// enabled endpoints due at at that no earlier pending delivery of the same endpoint and account
	// holds back.
	DueWebhookDeliveries(ctx context.Context, at time.Time, limit int) ([]WebhookDelivery, error)
	// NextWebhookDelivery returns the earliest pending delivery of the
	// endpoint and account, or ErrNotFound.
	NextWebhookDelivery(ctx context.Context, endpointID, accountID string) (WebhookDelivery, error)
	// WebhookDeliveryBlocked reports whether an earlier delivery of d's
	// endpoint and account is still pending.
	WebhookDeliveryBlocked(ctx context.Context, d WebhookDelivery) (bool, error)
	// RecordWebhookTry records t on its delivery and on the endpoint's
	// failure count; it returns the endpoint as updated, and false when the
	// delivery was tried by someone else meanwhile (nothing written).
	RecordWebhookTry(ctx context.Context, t WebhookTry) (WebhookEndpoint, bool, error)
	// ListWebhookDeliveries returns up to limit deliveries of the
	// endpoint, newest first, in status when one is given.
	ListWebhookDeliveries(ctx context.Context, lender, endpointID string, status WebhookDeliveryStatus, limit int) ([]WebhookDelivery, error)
	// ReplayWebhookDelivery makes the delivery pending again, due at now
	// and given up at giveUpAt.
	ReplayWebhookDelivery(ctx context.Context, lender, id string, now, giveUpAt time.Time) (WebhookDelivery, error)
}
