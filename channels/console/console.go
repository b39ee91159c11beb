// Package console is a development channel: it prints each message to a
// writer instead of sending it, with the address masked.
package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
)

// Sender prints messages to a writer and reports them as sent. It is safe for
// concurrent use.
type Sender struct {
	mu  sync.Mutex
	w   io.Writer
	seq int64
}

var _ nudge.Sender = (*Sender)(nil)

// New returns a Sender that prints to w.
func New(w io.Writer) *Sender { return &Sender{w: w} }

// Send prints m with its address masked and returns a provider id of the form
// "console-<n>" that is unique for the Sender.
func (s *Sender) Send(ctx context.Context, m *nudge.Message) (nudge.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return nudge.SendResult{}, fmt.Errorf("console send of attempt %s: %w", m.AttemptID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("console-%d", s.seq)
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s to %s", id, m.Channel, channels.Mask(m.To))
	if m.From != "" {
		fmt.Fprintf(&b, " from %s", m.From)
	}
	fmt.Fprintf(&b, " (attempt %s, reminder %s, locale %s)\n", m.AttemptID, m.ReminderID, m.Locale)
	if m.Subject != "" {
		fmt.Fprintf(&b, "  subject: %s\n", m.Subject)
	}
	for _, line := range strings.Split(strings.TrimRight(m.Text, "\n"), "\n") {
		fmt.Fprintf(&b, "  | %s\n", line)
	}
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return nudge.SendResult{}, &nudge.ProviderError{Retry: true, Code: "console_write", Reason: nudge.ReasonProviderRetry,
			Err: fmt.Errorf("console send of attempt %s: write: %w", m.AttemptID, err)}
	}
	return nudge.SendResult{ProviderID: id, Status: nudge.AttemptSent}, nil
}
