package nudge

import (
	"context"
	"errors"
	"fmt"
)

// Message is one rendered reminder ready for a provider.
type Message struct {
	AttemptID  string
	ReminderID string
	Lender     string
	AccountID  string
	Channel    ChannelKind
	Locale     string
	To         string
	From       string
	// Subject, Text and HTML are the email parts; Text is the SMS body.
	Subject string
	Text    string
	HTML    string
	// Headers are extra headers for email (List-Unsubscribe, …).
	Headers map[string]string
}

// SendResult is what a provider said when it accepted a message.
type SendResult struct {
	ProviderID string
	Status     AttemptStatus
}

// Sender delivers messages on one channel.
type Sender interface {
	Send(ctx context.Context, m *Message) (SendResult, error)
}

// SenderFunc adapts a function to a Sender.
type SenderFunc func(ctx context.Context, m *Message) (SendResult, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m *Message) (SendResult, error) { return f(ctx, m) }

// ProviderError is a classified provider failure: the place that knows whether
// an error is transient says so.
type ProviderError struct {
	// Retry is true when the same send may succeed later (429, 5xx, 30003).
	Retry bool
	// Code is the provider's error code ("21610", "550").
	Code   string
	Reason Reason
	// OptOut is true when the provider reports the recipient opted out (Twilio 21610).
	OptOut bool
	// Undeliverable is true when the address can never be reached (invalid, landline, 5xx mailbox).
	Undeliverable bool
	Err           error
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("provider error %s (retry=%t): %v", e.Code, e.Retry, e.Err)
}

func (e *ProviderError) Unwrap() error { return e.Err }

// AsProviderError returns the ProviderError in err's chain, if any.
func AsProviderError(err error) (*ProviderError, bool) {
	var pe *ProviderError
	ok := errors.As(err, &pe)
	return pe, ok
}
