package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/web"
)

type paymentRequest struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency,omitempty"`
	PaidOn   string `json:"paid_on,omitempty"`
	// Reference is the lender's payment id: a payment posted again with
	// the same reference is a repeat and changes nothing.
	Reference string `json:"reference,omitempty"`
}

type paymentJSON struct {
	AccountID string `json:"account_id"`
	// PaymentID is the reference, or the id Nudge gave the payment.
	PaymentID string `json:"payment_id"`
	Status    string `json:"status"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Canceled  int    `json:"canceled"`
	// PromiseKept is the first promise kept; PromisesKept all of them.
	PromiseKept   string   `json:"promise_kept,omitempty"`
	PromisesKept  []string `json:"promises_kept,omitempty"`
	Plan          string   `json:"plan,omitempty"`
	PlanRemaining int      `json:"plan_remaining,omitempty"`
	HoldCleared   bool     `json:"payment_claimed_cleared,omitempty"`
}

// postPayment records a payment through payment.Post, the path the payment
// webhook takes too: it ends the cycle (the account becomes paid, what is
// queued is canceled, a pending promise is kept and a payment_claimed hold
// is cleared), or, with a payment plan that goes on, keeps the instalments
// the payments cover.
func (a *API) postPayment(c *call) error {
	var req paymentRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var ps []problemJSON
	if req.Amount = strings.TrimSpace(req.Amount); !amountPattern.MatchString(req.Amount) {
		ps = append(ps, problemJSON{Field: "amount", Message: fmt.Sprintf("%q is not a decimal amount like \"412.50\"", req.Amount)})
	}
	var paidAt time.Time
	if req.PaidOn != "" {
		d, err := nudge.ParseDate(req.PaidOn)
		if err != nil {
			ps = append(ps, problemJSON{Field: "paid_on", Message: err.Error()})
		}
		paidAt = d.In(time.UTC, 0, 0)
	}
	if req.Reference = strings.TrimSpace(req.Reference); len(req.Reference) > payment.MaxPaymentIDLength {
		ps = append(ps, problemJSON{Field: "reference", Message: fmt.Sprintf("is longer than %d characters", payment.MaxPaymentIDLength)})
	}
	if len(ps) > 0 {
		return &apiError{status: http.StatusBadRequest, msg: "invalid payment", problems: ps}
	}
	acct, err := a.account(c)
	if err != nil {
		return err
	}
	id := req.Reference
	if id == "" {
		if id, err = newPaymentID(); err != nil {
			return err
		}
	}
	res, err := payment.Post(c.ctx, a.Store, a.Tasks, acct, nudge.Payment{ID: id, Amount: req.Amount, Currency: req.Currency,
		PaidAt: paidAt, Source: nudge.PaymentSourceAPI}, a.now())
	if errors.Is(err, payment.ErrCurrency) {
		return &apiError{status: http.StatusBadRequest, msg: "invalid payment", problems: []problemJSON{{Field: "currency", Message: err.Error()}}}
	}
	if err != nil {
		return err
	}
	out := paymentJSON{AccountID: acct.ID, PaymentID: res.Payment.ID, Status: string(res.Status), Duplicate: res.Duplicate,
		Canceled: res.Canceled, PromisesKept: res.Kept, Plan: res.PlanID, PlanRemaining: res.PlanRemaining, HoldCleared: res.HoldCleared}
	if len(res.Kept) > 0 {
		out.PromiseKept = res.Kept[0]
	}
	if res.Duplicate && res.Payment.AccountID != acct.ID {
		return errorf(http.StatusConflict, "payment %s was recorded for another account", res.Payment.ID)
	}
	if err := a.audit(c, "payment.post", acct.ID, req); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, out)
	return nil
}

// newPaymentID names a payment posted without a reference.
func newPaymentID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("payment id: %w", err)
	}
	return "pay_" + hex.EncodeToString(b[:]), nil
}

type planRulesJSON struct {
	MaxInstalments int    `json:"max_instalments"`
	MinInstalment  string `json:"min_instalment,omitempty"`
	IntervalDays   int    `json:"interval_days"`
	MaxDays        int    `json:"max_days"`
}

type paymentSettingsJSON struct {
	URL              string         `json:"url,omitempty"`
	Plans            *planRulesJSON `json:"plans,omitempty"`
	WebhookSecretSet bool           `json:"webhook_secret_set"`
	WebhookURL       string         `json:"webhook_url"`
}

// paymentSettings shows the lender's payment link and plan rules (set in the
// configuration, lenders[].payments) and whether a webhook secret is set.
func (a *API) paymentSettings(c *call) error {
	l, err := a.Store.GetLender(c.ctx, c.lender())
	if err != nil {
		return err
	}
	sealed, err := a.Store.PaymentWebhookSecret(c.ctx, c.lender())
	if err != nil {
		return err
	}
	out := paymentSettingsJSON{URL: l.PaymentURL, WebhookSecretSet: sealed != "",
		WebhookURL: strings.TrimRight(a.PublicURL, "/") + payment.WebhookPath}
	if l.Plans.Offered() {
		out.Plans = &planRulesJSON{MaxInstalments: l.Plans.MaxInstalments, MinInstalment: l.Plans.MinInstalment,
			IntervalDays: l.Plans.IntervalDays, MaxDays: l.Plans.MaxDays}
	}
	web.WriteJSON(c.w, http.StatusOK, out)
	return nil
}

type webhookSecretJSON struct {
	Secret          string `json:"secret"`
	WebhookURL      string `json:"webhook_url"`
	TimestampHeader string `json:"timestamp_header"`
	SignatureHeader string `json:"signature_header"`
}

// rotateWebhookSecret makes a new payment webhook secret for the lender,
// replacing the old one at once, and shows it once; the store keeps it
// sealed.
func (a *API) rotateWebhookSecret(c *call) error {
	if a.Sealer == nil {
		return errorf(http.StatusNotFound, "payment webhook secrets are not enabled")
	}
	secret, err := payment.NewSecret()
	if err != nil {
		return err
	}
	sealed, err := a.Sealer.Seal(c.lender(), secret)
	if err != nil {
		return err
	}
	if err := a.Store.SetPaymentWebhookSecret(c.ctx, c.lender(), sealed); err != nil {
		return err
	}
	if err := a.audit(c, "payment_webhook_secret.rotate", c.lender(), nil); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusCreated, webhookSecretJSON{Secret: secret,
		WebhookURL:      strings.TrimRight(a.PublicURL, "/") + payment.WebhookPath,
		TimestampHeader: payment.TimestampHeader, SignatureHeader: payment.SignatureHeader})
	return nil
}

// removeWebhookSecret removes the lender's payment webhook secret: its
// webhook requests are refused from then on.
func (a *API) removeWebhookSecret(c *call) error {
	if a.Sealer == nil {
		return errorf(http.StatusNotFound, "payment webhook secrets are not enabled")
	}
	if err := a.Store.SetPaymentWebhookSecret(c.ctx, c.lender(), ""); err != nil {
		return err
	}
	if err := a.audit(c, "payment_webhook_secret.remove", c.lender(), nil); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
