package twilio

import nudge "github.com/nudgehq/nudge"

// StatusFromTwilio maps a Twilio message status onto an attempt status.
// Statuses before the hand-off to the carrier (queued, accepted, scheduled,
// sending) and sent map to nudge.AttemptSent; delivered and read (and
// partially_delivered) to nudge.AttemptDelivered; undelivered, failed and
// canceled to their namesakes. Any other value (including inbound statuses)
// maps to the empty status, whose rank is below every real status, so a
// caller that applies statuses by rank ignores it.
func StatusFromTwilio(s string) nudge.AttemptStatus {
	switch s {
	case "queued", "accepted", "scheduled", "sending", "sent":
		return nudge.AttemptSent
	case "delivered", "read", "partially_delivered":
		return nudge.AttemptDelivered
	case "undelivered":
		return nudge.AttemptUndelivered
	case "failed":
		return nudge.AttemptFailed
	case "canceled":
		return nudge.AttemptCanceled
	}
	return ""
}

// CallStatusFromTwilio maps a Twilio call status onto an attempt status:
// queued and initiated map to nudge.AttemptSent, the others (ringing,
// in-progress, completed, busy, no-answer, failed, canceled) to their
// namesakes. Unknown values map to the empty status.
func CallStatusFromTwilio(s string) nudge.AttemptStatus {
	switch s {
	case "queued", "initiated":
		return nudge.AttemptSent
	case "ringing":
		return nudge.AttemptRinging
	case "in-progress", "answered":
		return nudge.AttemptAnswered
	case "completed":
		return nudge.AttemptCompleted
	case "busy":
		return nudge.AttemptBusy
	case "no-answer":
		return nudge.AttemptNoAnswer
	case "failed":
		return nudge.AttemptFailed
	case "canceled":
		return nudge.AttemptCanceled
	}
	return ""
}
