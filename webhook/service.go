package webhook

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/nudgehq/nudge"
)

// maxChain bounds how many of an account's deliveries one task sends in a
// row (each may take up to Config.Timeout).
const maxChain = 20

// TypeDeliver is the Asynq task type of one webhook delivery.
const TypeDeliver = "webhook:deliver"

// AuditDisable is the audit action recorded when Nudge disables a failing
// endpoint.
const AuditDisable = "webhook_endpoint.disable"

// Store is what the Service keeps deliveries in; *store.DB is one.
type Store interface {
	nudge.WebhookStore
	AppendAudit(ctx context.Context, a nudge.AuditEntry) error
}

// Opener opens sealed signing secrets; *payment.Sealer is one.
type Opener interface {
	Open(lender, sealed string) (string, error)
}

// Queue puts a delivery's task on the webhooks queue to run at at.
type Queue interface {
	EnqueueDelivery(ctx context.Context, d nudge.WebhookDelivery, at time.Time) error
}

// Service makes deliveries of new events and sends them.
type Service struct {
	Store   Store
	Secrets Opener
	Queue   Queue
	// Client sends the requests; nil means NewClient(Config, RootCAs).
	Client *http.Client
	// RootCAs, when set, replaces the system's certificate roots of the
	// default client (tests trust their own TLS server with it).
	RootCAs *x509.CertPool
	Config  Config
	Clock   nudge.Clock
	Logger  *slog.Logger
}

// NewService returns a Service with cfg's defaults filled in; it refuses a
// bad cfg with the names of the bad settings.
func NewService(s Service) (*Service, error) {
	s.Config = s.Config.WithDefaults()
	if err := s.Config.Validate(); err != nil {
		return nil, err
	}
	if s.Store == nil || s.Secrets == nil || s.Queue == nil {
		return nil, errors.New("webhook service: store, secrets and queue are required")
	}
	if s.Client == nil {
		s.Client = NewClient(s.Config, s.RootCAs)
	}
	if s.Clock == nil {
		s.Clock = nudge.SystemClock
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	s.Logger = s.Logger.With("component", "webhook")
	return &s, nil
}

// DeliveryID is the id (and webhook-id header) of the delivery of event
// eventID to endpoint endpointID.
func DeliveryID(endpointID string, eventID int64) string {
	return "msg_" + endpointID + "_" + strconv.FormatInt(eventID, 10)
}

// Fanout makes the deliveries of every endpoint's new events, then queues
// every delivery that is due. The scheduler runs it on a tick; running it
// on several replicas at once is safe (a cursor moves once).
func (s *Service) Fanout(ctx context.Context) error {
	eps, err := s.Store.AllWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, ep := range eps {
		if err := s.fanoutEndpoint(ctx, ep); err != nil {
			errs = append(errs, fmt.Errorf("fan out to webhook endpoint %s: %w", ep.ID, err))
		}
	}
	return errors.Join(append(errs, s.EnqueueDue(ctx))...)
}

func (s *Service) fanoutEndpoint(ctx context.Context, ep nudge.WebhookEndpoint) error {
	cursor := ep.Cursor
	for {
		page, err := s.Store.Feed(ctx, ep.Lender, cursor, DefaultBatch)
		if err != nil || len(page) == 0 {
			return err
		}
		now := s.Clock.Now()
		var ds []nudge.WebhookDelivery
		for _, f := range page {
			pub, ok := nudge.PublicEventOf(f)
			if !ok || !ep.Wants(pub.Type) {
				continue
			}
			ds = append(ds, nudge.WebhookDelivery{
				ID: DeliveryID(ep.ID, f.Event.ID), EndpointID: ep.ID, Lender: ep.Lender, AccountID: f.Event.AccountID,
				EventID: f.Event.ID, Position: f.Position, EventType: pub.Type, Status: nudge.WebhookPending,
				NextAt: now, GiveUpAt: now.Add(s.Config.GiveUpAfter), CreatedAt: now,
			})
		}
		to := page[len(page)-1].Position
		moved, err := s.Store.AddWebhookDeliveries(ctx, ep.ID, cursor, to, ds)
		if err != nil || !moved {
			return err // not moved: another replica made these deliveries
		}
		cursor = to
		if len(page) < DefaultBatch {
			return nil
		}
	}
}

// EnqueueDue queues the deliveries that are due and not held back by an
// earlier one of the same account.
func (s *Service) EnqueueDue(ctx context.Context) error {
	ds, err := s.Store.DueWebhookDeliveries(ctx, s.Clock.Now(), DefaultBatch)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range ds {
		if err := s.Queue.EnqueueDelivery(ctx, d, d.NextAt); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deliverPayload is the JSON payload of a TypeDeliver task.
type deliverPayload struct {
	DeliveryID string `json:"delivery_id"`
}

// ProcessTask sends the delivery a TypeDeliver task names (asynq.Handler).
func (s *Service) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p deliverPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID == "" {
		return fmt.Errorf("webhook task payload %q: %w", t.Payload(), errors.Join(err, asynq.SkipRetry))
	}
	d, err := s.Store.GetWebhookDelivery(ctx, p.DeliveryID)
	if errors.Is(err, nudge.ErrNotFound) {
		return nil // its endpoint was deleted
	}
	if err != nil {
		return err
	}
	return s.Deliver(ctx, d)
}

// Deliver sends d if it is due and nothing earlier of its account is
// pending, records the outcome, and goes on with the account's next
// delivery while they succeed.
func (s *Service) Deliver(ctx context.Context, d nudge.WebhookDelivery) error {
	for range maxChain {
		next, err := s.try(ctx, d)
		if err != nil || next == nil {
			return err
		}
		d = *next
	}
	// Enough for one task: the rest of the account's deliveries go on in
	// another, within the task's timeout.
	return s.Queue.EnqueueDelivery(ctx, d, d.NextAt)
}

// try sends d once; it returns the account's next delivery when that is
// due now.
func (s *Service) try(ctx context.Context, d nudge.WebhookDelivery) (*nudge.WebhookDelivery, error) {
	if d.Status != nudge.WebhookPending {
		return nil, nil
	}
	ep, err := s.Store.GetWebhookEndpoint(ctx, d.Lender, d.EndpointID)
	if errors.Is(err, nudge.ErrNotFound) {
		return nil, nil
	}
	if err != nil || !ep.Enabled {
		return nil, err // a disabled endpoint's deliveries wait until it is enabled
	}
	now := s.Clock.Now()
	if d.NextAt.After(now) {
		return nil, s.Queue.EnqueueDelivery(ctx, d, d.NextAt)
	}
	if blocked, err := s.Store.WebhookDeliveryBlocked(ctx, d); err != nil || blocked {
		return nil, err // the earlier one goes on with this one when it is delivered
	}
	body, err := s.body(ctx, d)
	if err != nil {
		return nil, err
	}
	status, sendErr := s.send(ctx, ep, d, body, now)
	try := nudge.WebhookTry{DeliveryID: d.ID, Attempts: d.Attempts, HTTPStatus: status, At: s.Clock.Now()}
	if sendErr == nil {
		try.Status = nudge.WebhookDelivered
	} else {
		try.Error = sendErr.Error()
		try.Status, try.NextAt = nudge.WebhookPending, try.At.Add(s.Config.Backoff(d.Attempts+1))
		if try.NextAt.After(d.GiveUpAt) {
			try.Status, try.NextAt = nudge.WebhookFailed, try.At
		}
	}
	after, applied, err := s.Store.RecordWebhookTry(ctx, try)
	if err != nil || !applied {
		return nil, err // not applied: another worker tried it meanwhile
	}
	log := s.Logger.With("lender", d.Lender, "endpoint", d.EndpointID, "delivery", d.ID, "type", d.EventType, "attempt", d.Attempts+1)
	switch try.Status {
	case nudge.WebhookPending:
		log.Warn("webhook delivery failed; will retry", "status", status, "err", sendErr, "next_at", try.NextAt)
		d.Attempts++
		d.NextAt = try.NextAt
		if err := s.Queue.EnqueueDelivery(ctx, d, try.NextAt); err != nil {
			return nil, err
		}
		return nil, s.maybeDisable(ctx, after, log)
	case nudge.WebhookFailed:
		log.Warn("webhook delivery given up", "status", status, "err", sendErr, "give_up_at", d.GiveUpAt)
		if err := s.maybeDisable(ctx, after, log); err != nil {
			return nil, err
		}
	default:
		log.Debug("webhook delivered", "status", status)
	}
	next, err := s.Store.NextWebhookDelivery(ctx, d.EndpointID, d.AccountID)
	if errors.Is(err, nudge.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if next.NextAt.After(s.Clock.Now()) {
		return nil, s.Queue.EnqueueDelivery(ctx, next, next.NextAt)
	}
	return &next, nil
}

// body is the JSON body of d: its event as the feed shows it, made now, so
// that an erased borrower's event is sent as erased.
func (s *Service) body(ctx context.Context, d nudge.WebhookDelivery) ([]byte, error) {
	f, err := s.Store.FeedEvent(ctx, d.Lender, d.EventID)
	if err != nil {
		return nil, err
	}
	pub, ok := nudge.PublicEventOf(f)
	if !ok { // cannot happen for a delivery made by Fanout; keep its type
		pub = nudge.PublicEvent{ID: nudge.EventID(f.Event.ID), Type: d.EventType, Timestamp: f.Event.At.UTC(),
			Cursor: strconv.FormatInt(f.Position, 10), AccountID: f.Event.AccountID, Data: map[string]any{}}
	}
	return json.Marshal(pub)
}

// send POSTs body to ep, signed; it returns the HTTP status (0 when none
// came back) and an error unless the endpoint answered 2xx.
func (s *Service) send(ctx context.Context, ep nudge.WebhookEndpoint, d nudge.WebhookDelivery, body []byte, now time.Time) (int, error) {
	secret, err := s.Secrets.Open(ep.Lender, ep.Secret)
	if err != nil {
		return 0, fmt.Errorf("open signing secret: %w", err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return 0, fmt.Errorf("signing secret: %w", err)
	}
	sig, err := wh.Sign(d.ID, now, body)
	if err != nil {
		return 0, fmt.Errorf("sign: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.Config.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Nudge-Webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// maybeDisable disables ep when it has failed DisableAfterFailures times in
// a row over at least DisableAfter, and tells the lender: an ALERT log
// line, an audit entry, and the reason on the endpoint.
func (s *Service) maybeDisable(ctx context.Context, ep nudge.WebhookEndpoint, log *slog.Logger) error {
	now := s.Clock.Now()
	if ep.Failures < s.Config.DisableAfterFailures || ep.FailingSince.IsZero() || now.Sub(ep.FailingSince) < s.Config.DisableAfter {
		return nil
	}
	reason := fmt.Sprintf("disabled after %d consecutive failed deliveries since %s", ep.Failures, ep.FailingSince.UTC().Format(time.RFC3339))
	changed, err := s.Store.DisableWebhookEndpoint(ctx, ep.ID, reason, now)
	if err != nil || !changed {
		return err
	}
	log.Error("ALERT: webhook endpoint disabled", "failures", ep.Failures, "failing_since", ep.FailingSince)
	detail, _ := json.Marshal(map[string]any{"reason": reason, "failures": ep.Failures})
	return s.Store.AppendAudit(ctx, nudge.AuditEntry{Lender: ep.Lender, Actor: "system", Action: AuditDisable,
		Target: ep.ID, Detail: string(detail), At: now})
}
