package nudge

import "time"

// AttemptStatus is where one attempt to reach a borrower stands. Statuses are
// ordered: a later callback never moves an attempt to an earlier rank.
type AttemptStatus string

// Attempt statuses shared by every channel.
const (
	AttemptClaimed     AttemptStatus = "claimed"     // counted against the caps; the provider has not been called
	AttemptSending     AttemptStatus = "sending"     // past the last gate; the provider may be called
	AttemptRetrying    AttemptStatus = "retrying"    // the provider refused it transiently; it will be tried again
	AttemptSent        AttemptStatus = "sent"        // the provider accepted it
	AttemptDelivered   AttemptStatus = "delivered"   // the handset or mailbox got it
	AttemptUndelivered AttemptStatus = "undelivered" // the carrier could not deliver it
	AttemptFailed      AttemptStatus = "failed"      // refused; Reason and ErrorCode say why
	AttemptUnknown     AttemptStatus = "unknown"     // it may have reached the provider; reconciliation resolves it
	// Voice outcomes.
	AttemptRinging   AttemptStatus = "ringing"
	AttemptAnswered  AttemptStatus = "in-progress"
	AttemptCompleted AttemptStatus = "completed"
	AttemptBusy      AttemptStatus = "busy"
	AttemptNoAnswer  AttemptStatus = "no-answer"
	AttemptCanceled  AttemptStatus = "canceled"
)

var attemptRank = map[AttemptStatus]int{
	AttemptClaimed:     0,
	AttemptSending:     0,
	AttemptRetrying:    0,
	AttemptUnknown:     1,
	AttemptSent:        2,
	AttemptRinging:     3,
	AttemptAnswered:    4,
	AttemptDelivered:   5,
	AttemptUndelivered: 5,
	AttemptFailed:      5,
	AttemptCompleted:   5,
	AttemptBusy:        5,
	AttemptNoAnswer:    5,
	AttemptCanceled:    5,
}

// Rank orders statuses: a callback may only move an attempt to a higher rank.
func (s AttemptStatus) Rank() int {
	if r, ok := attemptRank[s]; ok {
		return r
	}
	return -1
}

// Resumable reports whether a later run may take the attempt up again: it
// was claimed but never passed the last gate, or the provider refused it
// before accepting it.
func (s AttemptStatus) Resumable() bool { return s == AttemptClaimed || s == AttemptRetrying }

// Final reports whether no later callback may change the status.
func (s AttemptStatus) Final() bool { return s.Rank() >= 5 }

// CountsAsCall reports whether a voice attempt in this status counts toward the
// Regulation F call cap: answered, rang out, or reached voicemail count; busy,
// not connected and failed do not (COMPLIANCE.md).
func (s AttemptStatus) CountsAsCall() bool {
	switch s {
	case AttemptClaimed, AttemptSending, AttemptSent, AttemptRinging, AttemptAnswered, AttemptCompleted, AttemptNoAnswer, AttemptUnknown:
		return true
	}
	return false
}

// Attempt is one try at reaching a borrower for a reminder on one channel.
// It is unique per reminder and channel.
type Attempt struct {
	ID         string
	ReminderID string
	Lender     string
	AccountID  string
	Channel    ChannelKind
	Address    string
	Status     AttemptStatus
	Reason     Reason
	ErrorCode  string
	ProviderID string
	// Zones are the candidate time zones the send-time decision used.
	Zones   []string
	Profile string
	// AnsweredBy is Twilio's answering-machine verdict for calls (human, machine_start, …).
	AnsweredBy string
	// Conversation marks a call in which the borrower spoke with the bot or an agent.
	Conversation bool
	// Body is what was sent: the SMS text, the email's text part, the call's
	// script. Reconciliation matches it against the provider's records; it is
	// erased with the borrower.
	Body string
	// Template names the template version that rendered Body: name, pack
	// locale and a hash of its source ("due_sms@es:3f2a9c1b04de").
	Template string
	// Menu is the numbered menu the SMS offered, nil when it offered none:
	// a reply "1" means the option the borrower was shown.
	Menu Menu
	// Segments is how many SMS segments the provider billed; CallSeconds is
	// how long a call lasted. Both are 0 while unknown (KPI cost per cure).
	Segments    int
	CallSeconds int
	CreatedAt   time.Time
	// SendingAt is when the last gate let the attempt through to the provider
	// (the latest time, when it was released and sent again).
	SendingAt time.Time
	SentAt    time.Time
	UpdatedAt time.Time
}

// Unanswered reports whether a voice attempt did not reach a person.
func (a *Attempt) Unanswered() bool {
	switch a.Status {
	case AttemptBusy, AttemptNoAnswer, AttemptFailed, AttemptCanceled:
		return true
	case AttemptCompleted:
		return a.AnsweredBy != "" && a.AnsweredBy != "human"
	}
	return false
}
