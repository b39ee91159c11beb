package nudge

import "time"

// Payment sources: where a payment was reported from.
const (
	// PaymentSourceAPI is a payment posted through the lender API.
	PaymentSourceAPI = "api"
	// PaymentSourceWebhook is a payment confirmed by the lender's payment
	// portal through the signed payment webhook.
	PaymentSourceWebhook = "webhook"
)

// Payment is a payment received on an account, as the lender's systems
// report it. ID is the lender's payment id: a payment reported twice (a
// webhook retried) is recorded once.
type Payment struct {
	Lender    string
	ID        string
	AccountID string
	// Amount is a decimal string ("412.50").
	Amount   string
	Currency string
	// PaidAt is when the borrower paid, as the portal says; zero when unknown.
	PaidAt time.Time
	// Source is PaymentSourceAPI or PaymentSourceWebhook.
	Source     string
	ReceivedAt time.Time
}
