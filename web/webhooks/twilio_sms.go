package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/web"
)

// DeliveryReporter hears the delivery news of status callbacks per sender.
type DeliveryReporter interface {
	ReportDelivery(ctx context.Context, sender string, filtered bool)
}

// SMSStatusStore is the part of the store the status webhook writes.
type SMSStatusStore interface {
	AttemptByProviderID(ctx context.Context, providerID string) (nudge.Attempt, error)
	GetAttempt(ctx context.Context, id string) (nudge.Attempt, error)
	KeepEarlyCallback(ctx context.Context, providerID string, status nudge.AttemptStatus, errorCode string, at time.Time) error
	AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error)
	SetContactState(ctx context.Context, lender, id string, channel nudge.ChannelKind, address string, state nudge.ContactState) error
	RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult
}

// Replier acts on a borrower's answer.
type Replier interface {
	Handle(ctx context.Context, in response.Inbound) (response.Outcome, error)
}

// TwilioSMS serves Twilio's SMS webhooks: message status callbacks and
// inbound messages. Every request's X-Twilio-Signature is checked against
// PublicURL + path with the auth token; a bad or missing one gets 403 and
// changes nothing.
type TwilioSMS struct {
	AuthToken string
	// AccountTokens are the auth tokens of the subaccounts pool senders
	// send through, by account SID (twilio.Config.AccountTokens): a
	// webhook whose AccountSid names one is checked with its token.
	AccountTokens map[string]string
	// PublicURL is the exact base URL Twilio calls, without a trailing slash.
	PublicURL string
	Store     SMSStatusStore
	Replies   Replier
	Clock     nudge.Clock
	Logger    *slog.Logger
	// Metrics counts the attempt statuses callbacks report; nil counts nothing.
	Metrics metrics.Recorder
	// Deliveries, when set, hears which sender's messages were delivered or
	// filtered by carriers (30007), so that a pool takes out a sender whose
	// messages carriers filter (twilio.SMS.ReportDelivery).
	Deliveries DeliveryReporter

	// outcomes writes concurrent status callbacks in shared transactions.
	outcomes outcomeBatch
}

// Register adds the webhook routes to s.
func (t *TwilioSMS) Register(s *web.Server) {
	s.Handle("POST "+twilio.StatusCallbackPath, t.verified(http.HandlerFunc(t.status)))
	s.Handle("POST "+twilio.InboundPath, t.verified(http.HandlerFunc(t.inbound)))
}

// verified parses the form and checks Twilio's signature before h runs.
func (t *TwilioSMS) verified(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, web.MaxWebhookBody)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		url := strings.TrimRight(t.PublicURL, "/") + r.URL.RequestURI()
		token := twilio.TokenFor(t.AccountTokens, t.AuthToken, r.PostForm)
		if err := twilio.ValidateSignature(token, url, r.PostForm, r.Header.Get(twilio.SignatureHeader)); err != nil {
			t.logger().Warn("twilio webhook refused", "path", r.URL.Path, "err", err)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// status applies a message status callback. Callbacks are idempotent, may
// arrive out of order and never move a status backwards. Twilio is answered
// only once the callback is durably written (or kept, for an attempt not yet
// recorded).
func (t *TwilioSMS) status(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sid, st := r.PostForm.Get("MessageSid"), r.PostForm.Get("MessageStatus")
	status := twilio.StatusFromTwilio(st)
	if sid == "" || status == "" {
		// Unknown statuses appear without notice; nothing to apply.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	now := t.Clock.Now()
	code := r.PostForm.Get("ErrorCode")
	u := nudge.AttemptUpdate{Status: status, ErrorCode: code, ProviderID: sid, At: now}
	if segs := r.PostForm.Get("NumSegments"); segs != "" {
		if n, err := strconv.Atoi(segs); err == nil && n > 0 {
			u.Segments = n // when the callback carries it; the send's answer usually did
		}
	}
	var pe *nudge.ProviderError
	if status == nudge.AttemptFailed || status == nudge.AttemptUndelivered {
		if pe = twilio.ClassifyReportedCode(code); pe != nil {
			u.Reason = pe.Reason
		}
	}
	detail, _ := json.Marshal(callbackDetail{Provider: "twilio", MessageSID: sid, Status: st, ErrorCode: code})
	event := nudge.Event{Kind: nudge.EventCallback, Action: string(status), Reason: u.Reason, Detail: detail, At: now}
	if pe == nil || (!pe.OptOut && !pe.Undeliverable) {
		// The usual callback names an attempt that recorded sid: the store
		// finds and locks it in the write's own transaction, shared with the
		// other callbacks that arrive meanwhile, so the callback waits once.
		res := t.outcomes.do(ctx, t.Store.RecordOutcomes, nudge.Outcome{ProviderID: sid, Attempt: u, EventsIfChanged: true, Events: []nudge.Event{event}})
		if res.Err == nil {
			t.applied(ctx, w, r, res, status, u.Reason)
			return
		}
		if !errors.Is(res.Err, nudge.ErrNotFound) {
			t.fail(w, "recording callback", res.Err)
			return
		}
	}
	att, found, err := t.attemptFor(ctx, r, sid)
	if err != nil {
		t.fail(w, "loading attempt", err)
		return
	}
	if !found {
		// The callback outran the worker's record of the send: keep it and
		// apply it when the id is recorded. Twilio does not retry a status
		// callback, so asking it to come back would lose it.
		err := t.Store.KeepEarlyCallback(ctx, sid, status, code, now)
		if errors.Is(err, nudge.ErrConflict) {
			// Recorded in the meantime: apply it as usual.
			att, err = t.Store.AttemptByProviderID(ctx, sid)
			found = err == nil
		}
		if err != nil {
			t.fail(w, "keeping early callback", err)
			return
		}
		if !found {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if pe != nil {
		// What the code says about the address (an opt-out and its event
		// in one transaction, or an undeliverable contact).
		coded := att
		coded.ErrorCode = code
		if err := dispatcher.RecordProviderCode(ctx, t.Store, coded, pe, now, t.Metrics); err != nil {
			t.fail(w, "recording the provider's code", err)
			return
		}
	}
	// The update and its event are one outcome, committed with the other
	// callbacks that arrive meanwhile before Twilio is answered.
	event.Lender, event.AccountID, event.ReminderID, event.AttemptID = att.Lender, att.AccountID, att.ReminderID, att.ID
	res := t.outcomes.do(ctx, t.Store.RecordOutcomes, nudge.Outcome{AttemptID: att.ID, Attempt: u, EventsIfChanged: true, Events: []nudge.Event{event}})
	if res.Err != nil {
		t.fail(w, "recording callback", res.Err)
		return
	}
	t.applied(ctx, w, r, res, status, u.Reason)
}

// callbackDetail is a status callback event's detail. Its fields are in
// the order of their names, as the keys of the map it replaced were written.
type callbackDetail struct {
	ErrorCode  string `json:"error_code"`
	MessageSID string `json:"message_sid"`
	Provider   string `json:"provider"`
	Status     string `json:"status"`
}

// applied finishes a status callback whose outcome res is written: it tells
// the sender pool about deliveries and filtering, counts the status and
// answers Twilio.
func (t *TwilioSMS) applied(ctx context.Context, w http.ResponseWriter, r *http.Request, res nudge.OutcomeResult, status nudge.AttemptStatus, reason nudge.Reason) {
	code := r.PostForm.Get("ErrorCode")
	if t.Deliveries != nil && (status == nudge.AttemptDelivered || code == strconv.Itoa(twilio.CodeFiltered)) {
		sender := r.PostForm.Get("MessagingServiceSid")
		if sender == "" {
			sender = r.PostForm.Get("From")
		}
		t.Deliveries.ReportDelivery(ctx, sender, code == strconv.Itoa(twilio.CodeFiltered))
	}
	if res.AttemptChanged && t.Metrics != nil {
		t.Metrics.Attempt(res.Attempt.Channel, status, reason)
	}
	w.WriteHeader(http.StatusNoContent)
}

// attemptFor finds the attempt a status callback for message sid is about:
// the one that recorded sid, else the attempt named by the callback URL's
// "a" parameter while it has no provider id yet (its answer was lost, or the
// callback outran the worker's record of it).
func (t *TwilioSMS) attemptFor(ctx context.Context, r *http.Request, sid string) (nudge.Attempt, bool, error) {
	att, err := t.Store.AttemptByProviderID(ctx, sid)
	if err == nil || !errors.Is(err, nudge.ErrNotFound) {
		return att, err == nil, err
	}
	id := r.URL.Query().Get(twilio.StatusCallbackAttemptParam)
	if id == "" {
		return nudge.Attempt{}, false, nil
	}
	att, err = t.Store.GetAttempt(ctx, id)
	switch {
	case errors.Is(err, nudge.ErrNotFound):
		return nudge.Attempt{}, false, nil
	case err != nil:
		return nudge.Attempt{}, false, err
	}
	if att.Channel != nudge.SMS || att.ProviderID != "" {
		return nudge.Attempt{}, false, nil
	}
	return att, true, nil
}

// inbound records a borrower's text and answers with at most one confirmation.
func (t *TwilioSMS) inbound(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if f.Get("From") == "" {
		// Nothing can be recorded without a sender; a retry would fail again.
		http.Error(w, "missing From", http.StatusBadRequest)
		return
	}
	out, err := t.Replies.Handle(r.Context(), response.Inbound{
		Channel: nudge.SMS, From: f.Get("From"), To: f.Get("To"), Body: f.Get("Body"), ProviderID: f.Get("MessageSid"),
		ProviderConfirmed: f.Get("OptOutType") != "",
	})
	if err != nil {
		// Answer 5xx so Twilio tries again: nothing was half-recorded.
		t.fail(w, "handling inbound message", err)
		return
	}
	var verbs []twiml.Element
	if out.Confirmation != "" {
		verbs = append(verbs, &twiml.MessagingMessage{Body: out.Confirmation})
	}
	body, err := twiml.Messages(verbs)
	if err != nil {
		t.fail(w, "writing TwiML", err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func (t *TwilioSMS) fail(w http.ResponseWriter, what string, err error) {
	t.logger().Error("twilio webhook failed", "step", what, "err", err)
	http.Error(w, "temporary failure", http.StatusInternalServerError)
}

func (t *TwilioSMS) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}
