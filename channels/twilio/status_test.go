package twilio_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
)

func TestStatusFromTwilio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want nudge.AttemptStatus
	}{
		{name: "queued", in: "queued", want: nudge.AttemptSent},
		{name: "accepted", in: "accepted", want: nudge.AttemptSent},
		{name: "scheduled", in: "scheduled", want: nudge.AttemptSent},
		{name: "sending", in: "sending", want: nudge.AttemptSent},
		{name: "sent", in: "sent", want: nudge.AttemptSent},
		{name: "delivered", in: "delivered", want: nudge.AttemptDelivered},
		{name: "read", in: "read", want: nudge.AttemptDelivered},
		{name: "undelivered", in: "undelivered", want: nudge.AttemptUndelivered},
		{name: "failed", in: "failed", want: nudge.AttemptFailed},
		{name: "canceled", in: "canceled", want: nudge.AttemptCanceled},
		{name: "inbound status", in: "received", want: ""},
		{name: "unknown", in: "exploded", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, twilio.StatusFromTwilio(tt.in))
		})
	}
	// A late "sent" never outranks "delivered".
	require.Less(t, twilio.StatusFromTwilio("sent").Rank(), twilio.StatusFromTwilio("delivered").Rank())
}

func TestCallStatusFromTwilio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want nudge.AttemptStatus
	}{
		{name: "queued", in: "queued", want: nudge.AttemptSent},
		{name: "initiated", in: "initiated", want: nudge.AttemptSent},
		{name: "ringing", in: "ringing", want: nudge.AttemptRinging},
		{name: "in-progress", in: "in-progress", want: nudge.AttemptAnswered},
		{name: "completed", in: "completed", want: nudge.AttemptCompleted},
		{name: "busy", in: "busy", want: nudge.AttemptBusy},
		{name: "no-answer", in: "no-answer", want: nudge.AttemptNoAnswer},
		{name: "failed", in: "failed", want: nudge.AttemptFailed},
		{name: "canceled", in: "canceled", want: nudge.AttemptCanceled},
		{name: "unknown", in: "dialing", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, twilio.CallStatusFromTwilio(tt.in))
		})
	}
}
