package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/web"
)

// PaymentsPath is the route of the signed payment webhook.
const PaymentsPath = payment.WebhookPath

// PaymentActor names the payment webhook in the audit log.
const PaymentActor = "payment_webhook"

// PaymentStore is the part of the store the payment webhook uses; *store.DB is one.
type PaymentStore interface {
	payment.Store
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	PaymentWebhookSecret(ctx context.Context, lender string) (string, error)
	AppendAudit(ctx context.Context, a nudge.AuditEntry) error
}

// Payments serves POST /webhooks/payments: a lender's payment portal
// confirms a payment. The body is JSON (PaymentNotice); the request is
// signed with the lender's webhook secret: payment.TimestampHeader holds
// the Unix time of signing and payment.SignatureHeader
// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). The payment then
// takes the path of POST /v1/accounts/{id}/payments (payment.Post): it ends
// the cycle and cancels what is queued, or keeps the plan instalments it
// covers. A request is answered
//
//   - 403 when the lender is unknown or has no secret, or the signature is
//     missing, wrong, or signed more than payment.SignatureTolerance from
//     now: nothing changes, and the refusal counts against the client's
//     address as other refused webhooks do;
//   - 400 when the signed body is not a valid notice (the message names the
//     field);
//   - 422 when the account is unknown to the lender, the currency is not
//     the account's, or the payment id was recorded for another account:
//     the portal should not retry;
//   - 200 with what was done; a notice whose payment_id was recorded before
//     is answered 200 with "duplicate": true and changes nothing, so the
//     portal may retry freely;
//   - 500 when the store failed: the portal retries.
type Payments struct {
	Store PaymentStore
	// Sealer opens the lenders' sealed secrets.
	Sealer *payment.Sealer
	// Tasks deletes the queued tasks of canceled reminders.
	Tasks  dispatcher.TaskCanceler
	Clock  nudge.Clock
	Logger *slog.Logger
}

// PaymentNotice is the body of a payment webhook request.
type PaymentNotice struct {
	// Lender is the lender's id in Nudge.
	Lender string `json:"lender"`
	// AccountID is the account's id (the reference the payment link
	// carries); AccountRef is accepted as its other name.
	AccountID  string `json:"account_id,omitempty"`
	AccountRef string `json:"account_ref,omitempty"`
	// Amount is a decimal string ("137.50").
	Amount string `json:"amount"`
	// Currency is the ISO 4217 code; empty means the account's.
	Currency string `json:"currency,omitempty"`
	// PaidAt is when the borrower paid (RFC 3339); optional.
	PaidAt string `json:"paid_at,omitempty"`
	// PaymentID is the portal's id of the payment: the idempotency key.
	PaymentID string `json:"payment_id"`
}

// paymentResult is the answer to an accepted notice.
type paymentResult struct {
	PaymentID     string   `json:"payment_id"`
	AccountID     string   `json:"account_id"`
	Duplicate     bool     `json:"duplicate"`
	Status        string   `json:"status"`
	CycleEnded    bool     `json:"cycle_ended"`
	PromisesKept  []string `json:"promises_kept,omitempty"`
	PlanRemaining int      `json:"plan_remaining,omitempty"`
}

// Register adds the route to s.
func (p *Payments) Register(s *web.Server) {
	s.Handle("POST "+PaymentsPath, http.HandlerFunc(p.serve))
}

var (
	noticeAmount   = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$`)
	noticeCurrency = regexp.MustCompile(`^[A-Z]{3}$`)
)

func (p *Payments) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, web.MaxWebhookBody))
	if err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "the body is too large", http.StatusRequestEntityTooLarge)
		return
	}
	// The lender names the secret to check with; nothing else of the body
	// is read before the signature is.
	var head struct {
		Lender string `json:"lender"`
	}
	_ = json.Unmarshal(body, &head)
	secret, err := p.secret(ctx, head.Lender)
	if err != nil {
		p.fail(w, head.Lender, "loading the webhook secret", err)
		return
	}
	if secret == "" {
		p.logger().Warn("payment webhook refused: unknown lender or no secret", "lender", head.Lender)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if err := payment.Verify(secret, r.Header.Get(payment.TimestampHeader), r.Header.Get(payment.SignatureHeader), body, p.Clock.Now()); err != nil {
		p.logger().Warn("payment webhook refused", "lender", head.Lender, "err", err)
		msg := "forbidden: bad signature"
		if errors.Is(err, payment.ErrStaleSignature) {
			msg = fmt.Sprintf("forbidden: %s is more than %s from now", payment.TimestampHeader, payment.SignatureTolerance)
		}
		http.Error(w, msg, http.StatusForbidden)
		return
	}
	n, paidAt, err := decodeNotice(body)
	if err != nil {
		web.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	acct, err := p.Store.GetAccount(ctx, n.Lender, n.AccountID)
	if errors.Is(err, nudge.ErrNotFound) {
		web.WriteJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": fmt.Sprintf("account_id: lender %s has no account %q", n.Lender, n.AccountID)})
		return
	}
	if err != nil {
		p.fail(w, n.Lender, "loading the account", err)
		return
	}
	res, err := payment.Post(ctx, p.Store, p.Tasks, acct, nudge.Payment{ID: n.PaymentID, Amount: n.Amount, Currency: n.Currency,
		PaidAt: paidAt, Source: nudge.PaymentSourceWebhook}, p.Clock.Now())
	if errors.Is(err, payment.ErrCurrency) {
		web.WriteJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "currency: " + err.Error()})
		return
	}
	if err != nil {
		p.fail(w, n.Lender, "recording the payment", err)
		return
	}
	if res.Duplicate && res.Payment.AccountID != acct.ID {
		web.WriteJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": fmt.Sprintf("payment_id: %q was recorded for another account", n.PaymentID)})
		return
	}
	if !res.Duplicate {
		detail, _ := json.Marshal(n)
		if err := p.Store.AppendAudit(ctx, nudge.AuditEntry{Lender: n.Lender, Actor: PaymentActor, Action: "payment.webhook",
			Target: acct.ID, Detail: string(detail), At: p.Clock.Now()}); err != nil {
			p.fail(w, n.Lender, "auditing the payment", err)
			return
		}
	}
	p.logger().Info("payment webhook", "lender", n.Lender, "account", acct.ID, "payment", n.PaymentID, "duplicate", res.Duplicate,
		"cycle_ended", res.CycleEnded, "plan_remaining", res.PlanRemaining)
	web.WriteJSON(w, http.StatusOK, paymentResult{PaymentID: res.Payment.ID, AccountID: acct.ID, Duplicate: res.Duplicate,
		Status: string(res.Status), CycleEnded: !res.Duplicate && res.CycleEnded, PromisesKept: res.Kept, PlanRemaining: res.PlanRemaining})
}

// secret returns the lender's webhook secret, or "" when the lender is
// unknown or has none.
func (p *Payments) secret(ctx context.Context, lender string) (string, error) {
	if lender == "" {
		return "", nil
	}
	sealed, err := p.Store.PaymentWebhookSecret(ctx, lender)
	if errors.Is(err, nudge.ErrNotFound) || (err == nil && sealed == "") {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return p.Sealer.Open(lender, sealed)
}

// decodeNotice reads a signed notice strictly: unknown fields and bad values
// are errors naming the field.
func decodeNotice(body []byte) (PaymentNotice, time.Time, error) {
	var n PaymentNotice
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return n, time.Time{}, fmt.Errorf("invalid JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	var errs []error
	switch {
	case n.AccountID == "" && n.AccountRef == "":
		errs = append(errs, errors.New("account_id: required (or account_ref)"))
	case n.AccountID != "" && n.AccountRef != "" && n.AccountID != n.AccountRef:
		errs = append(errs, errors.New("account_ref: differs from account_id"))
	case n.AccountID == "":
		n.AccountID = n.AccountRef
	}
	if !noticeAmount.MatchString(n.Amount) {
		errs = append(errs, fmt.Errorf("amount: %q is not a decimal amount like \"137.50\"", n.Amount))
	}
	if n.Currency != "" && !noticeCurrency.MatchString(n.Currency) {
		errs = append(errs, fmt.Errorf("currency: %q is not an ISO 4217 code like \"USD\"", n.Currency))
	}
	if n.PaymentID = strings.TrimSpace(n.PaymentID); n.PaymentID == "" || len(n.PaymentID) > payment.MaxPaymentIDLength {
		errs = append(errs, fmt.Errorf("payment_id: required, at most %d characters", payment.MaxPaymentIDLength))
	}
	var paidAt time.Time
	if n.PaidAt != "" {
		t, err := time.Parse(time.RFC3339, n.PaidAt)
		if err != nil {
			errs = append(errs, fmt.Errorf("paid_at: %q is not an RFC 3339 time like \"2026-12-02T14:58:00Z\"", n.PaidAt))
		}
		paidAt = t.UTC()
	}
	return n, paidAt, errors.Join(errs...)
}

func (p *Payments) fail(w http.ResponseWriter, lender, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	p.logger().Error("payment webhook: "+what+" failed", "lender", lender, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func (p *Payments) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}
