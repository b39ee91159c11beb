package nudge

import "fmt"

// ChannelKind names a way of reaching a borrower.
type ChannelKind string

// The channels Nudge sends on.
const (
	SMS   ChannelKind = "sms"
	Voice ChannelKind = "voice"
	Email ChannelKind = "email"
	// Task is not a way of reaching a borrower but a cadence step that
	// creates a work item for a person (a call list entry, a field visit);
	// see WorkItem. Valid reports false for it: no contact has this channel.
	Task ChannelKind = "task"
)

// Channels lists every channel in a stable order.
var Channels = []ChannelKind{SMS, Voice, Email}

// Valid reports whether c is a known channel.
func (c ChannelKind) Valid() bool {
	switch c {
	case SMS, Voice, Email:
		return true
	}
	return false
}

// ParseChannel returns the channel named s, or an error naming the allowed values.
func ParseChannel(s string) (ChannelKind, error) {
	c := ChannelKind(s)
	if !c.Valid() {
		return "", fmt.Errorf("unknown channel %q (want sms, voice or email)", s)
	}
	return c, nil
}

// IsPhone reports whether the channel's addresses are phone numbers.
func (c ChannelKind) IsPhone() bool { return c == SMS || c == Voice }
