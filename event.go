package nudge

import (
	"encoding/json"
	"time"
)

// EventKind names an entry in the append-only event log.
type EventKind string

// Event kinds.
const (
	EventPlanned   EventKind = "planned"   // a reminder was inserted
	EventEnqueued  EventKind = "enqueued"  // a reminder was put on a queue
	EventDecision  EventKind = "decision"  // a send-time compliance decision
	EventAttempt   EventKind = "attempt"   // an attempt changed status
	EventCallback  EventKind = "callback"  // a provider callback arrived
	EventReply     EventKind = "reply"     // a borrower answered
	EventPromise   EventKind = "promise"   // a promise was made, kept or broken
	EventOptOut    EventKind = "opt_out"   // an opt-out or opt-in was recorded
	EventPayment   EventKind = "payment"   // a payment ended a cycle
	EventHold      EventKind = "hold"      // a hold was set or cleared
	EventCanceled  EventKind = "canceled"  // queued work was canceled
	EventExpired   EventKind = "expired"   // a reminder's moment passed
	EventOverride  EventKind = "override"  // a lender loosened a compliance default
	EventReconcile EventKind = "reconcile" // an unknown outcome was resolved, with its evidence
	EventPause     EventKind = "pause"     // a lender, cadence or channel was paused or resumed
	EventWorkItem  EventKind = "work_item" // a work item was created (Action "created") or completed ("completed")
)

// Event is one line of an account's timeline: what Nudge decided or saw, and why.
type Event struct {
	ID         int64
	Lender     string
	AccountID  string
	ReminderID string
	AttemptID  string
	Kind       EventKind
	// Action, Reason and Rule are set for decisions (send/defer/suppress).
	Action string
	Reason Reason
	Rule   string
	// Detail is free-form JSON (provider payloads, explanation, zones).
	Detail json.RawMessage
	At     time.Time
}

// AuditEntry records one write made through the API or the command line.
type AuditEntry struct {
	ID     int64
	Lender string
	Actor  string // API key id, "cli", "system"
	Action string
	Target string
	Detail string
	At     time.Time
}
