package nudge

import (
	"context"
	"errors"
	"fmt"
	"time"
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
	// Menu is the numbered menu an SMS offers in its Text, nil for none; the
	// attempt records it with the text.
	Menu Menu
	// Template names the template version that rendered the message
	// (templates.Rendered.Version); the attempt records it with the text.
	Template string
	// ValidFor is how long the message may still reach the borrower: the time
	// left in the allowed window when the send was approved. An SMS carries it
	// as its validity period, a call as its time limit; zero means no limit.
	ValidFor time.Duration
}

// SendResult is what a provider said when it accepted a message.
type SendResult struct {
	ProviderID string
	Status     AttemptStatus
	// Segments is how many SMS segments the provider counted, 0 when it
	// did not say.
	Segments int
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
	// MaybeAccepted is true when the request reached the provider and its
	// answer was lost (a timeout, reset or EOF after the request was written,
	// an SMTP reply lost after the message's final dot): the provider may have
	// accepted it, so it must never be resent blind. Retry is false then.
	MaybeAccepted bool
	// SenderRefused is true when the provider refuses the sending identity
	// itself (an SMTP 5xx to MAIL FROM: relay policy, quota): every message
	// from it would fail, so the channel is paused and an operator alerted
	// instead of failing each reminder.
	SenderRefused bool
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

// ProviderQuery describes an attempt whose outcome is unknown (the provider
// may have accepted it), for the provider to look up in its own records.
type ProviderQuery struct {
	AttemptID string
	Lender    string
	Channel   ChannelKind
	// To is the recipient.
	To string
	// Body is the exact text that was sent (SMS); empty for calls and email.
	Body string
	// Since and Until bracket the provider call: the record, if any, was
	// created between them (allow for clock skew).
	Since, Until time.Time
	// Known are provider ids already recorded on other attempts: never a match.
	Known []string
}

// ProviderRecord is what a provider's records say about a ProviderQuery.
type ProviderRecord struct {
	// Found is true when the provider holds a record matching the query.
	Found      bool
	ProviderID string
	Status     AttemptStatus
	ErrorCode  string
}

// CodeClassifier classifies an error code a provider reports after it
// accepted a message (in a status callback, or in its records), as a Sender
// classifies its own refusals: whether the recipient opted out or the
// address cannot be reached. A sender implements it when its provider's
// codes say so; nil means the code says nothing lasting.
type CodeClassifier interface {
	ClassifyCode(code string) *ProviderError
}

// Prober looks an attempt up in a provider's records (Twilio's list
// endpoints), so an attempt whose answer was lost is resolved by evidence
// instead of being resent blind.
type Prober interface {
	Lookup(ctx context.Context, q ProviderQuery) (ProviderRecord, error)
}
