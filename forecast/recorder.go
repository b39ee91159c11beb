package forecast

import (
	"context"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/templates"
)

// DefaultCallMinutes is how many billed minutes the forecast counts for a
// call: a voice-bot reminder that plays its message and offers the menu.
const DefaultCallMinutes = 1

// Sent is one send a Recorder took instead of a provider.
type Sent struct {
	At      time.Time
	Channel nudge.ChannelKind
	// Sender names the sender's rate bucket (a Twilio number or pool, the
	// SMTP server) and Rate is its configured sends a second (0: unlimited).
	Sender string
	Rate   float64
	// Segments is the SMS segments of the text; Minutes the call's billed
	// minutes.
	Segments int
	Minutes  int
}

// Recorder is a nudge.Sender that sends nothing: it counts the message as
// accepted by the provider, with the segments its text would be billed and
// the sender its rate would be taken from. It is safe for concurrent use.
type Recorder struct {
	// Clock stamps each send (required).
	Clock nudge.Clock
	// SenderRate names a message's sender and its rate, as the worker's
	// rate limiter does; nil puts every channel on one unlimited sender.
	SenderRate func(m *nudge.Message) (key string, perSecond float64)
	// CallMinutes is the billed minutes of a call (DefaultCallMinutes when 0).
	CallMinutes int

	mu   sync.Mutex
	sent []Sent
}

var _ nudge.Sender = (*Recorder)(nil)

// Send records m and answers as a provider that accepted it.
func (r *Recorder) Send(_ context.Context, m *nudge.Message) (nudge.SendResult, error) {
	s := Sent{At: r.Clock.Now().UTC(), Channel: m.Channel, Sender: "default:" + string(m.Channel)}
	if r.SenderRate != nil {
		s.Sender, s.Rate = r.SenderRate(m)
	}
	switch m.Channel {
	case nudge.SMS:
		s.Segments, _, _ = templates.CountSegments(m.Text)
	case nudge.Voice:
		s.Minutes = r.CallMinutes
		if s.Minutes <= 0 {
			s.Minutes = DefaultCallMinutes
		}
	}
	r.mu.Lock()
	r.sent = append(r.sent, s)
	r.mu.Unlock()
	return nudge.SendResult{ProviderID: "FC" + m.AttemptID, Status: nudge.AttemptSent, Segments: s.Segments}, nil
}

// take returns the sends recorded since the last call and forgets them.
func (r *Recorder) take() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}
