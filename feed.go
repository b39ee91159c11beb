package nudge

import (
	"encoding/json"
	"strconv"
	"time"
)

// PublicEventType names an event of the lender's public feed
// (GET /v1/events) and of outbound webhooks.
type PublicEventType string

// Public event types. Each is made from one entry of the internal event log
// (PublicEventOf).
const (
	PublicReminderPlanned    PublicEventType = "reminder.planned"
	PublicReminderSent       PublicEventType = "reminder.sent"
	PublicReminderDelivered  PublicEventType = "reminder.delivered"
	PublicReminderFailed     PublicEventType = "reminder.failed"
	PublicReminderSuppressed PublicEventType = "reminder.suppressed"
	PublicReplyUnderstood    PublicEventType = "reply.understood"
	PublicOptOut             PublicEventType = "opt_out"
	PublicOptIn              PublicEventType = "opt_in"
	PublicHoldPlaced         PublicEventType = "hold.placed"
	PublicHoldCleared        PublicEventType = "hold.cleared"
	PublicPaymentClaimed     PublicEventType = "payment.claimed"
	PublicPaymentReceived    PublicEventType = "payment.received"
	PublicPromiseMade        PublicEventType = "promise.made"
	PublicPromiseKept        PublicEventType = "promise.kept"
	PublicPromiseBroken      PublicEventType = "promise.broken"
	PublicWorkItemCreated    PublicEventType = "work_item.created"
	PublicWorkItemCompleted  PublicEventType = "work_item.completed"
)

// PublicEventTypes lists every public event type, in the order the
// documentation gives them.
var PublicEventTypes = []PublicEventType{
	PublicReminderPlanned, PublicReminderSent, PublicReminderDelivered, PublicReminderFailed, PublicReminderSuppressed,
	PublicReplyUnderstood, PublicOptOut, PublicOptIn, PublicHoldPlaced, PublicHoldCleared,
	PublicPaymentClaimed, PublicPaymentReceived, PublicPromiseMade, PublicPromiseKept, PublicPromiseBroken,
	PublicWorkItemCreated, PublicWorkItemCompleted,
}

// Valid reports whether t is a known public event type.
func (t PublicEventType) Valid() bool {
	for _, k := range PublicEventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// FeedEntry is one entry of the internal event log with its position in
// the lender's feed. Positions are assigned once, in commit order, and
// never change: they are the feed's cursor.
type FeedEntry struct {
	Position int64
	Event    Event
}

// PublicEvent is what the feed and webhooks show of one event: ids, codes,
// amounts and dates, never a phone number, an email address, a name or text
// someone typed.
type PublicEvent struct {
	// ID is the event's stable id ("evt_" and the log's id).
	ID        string          `json:"id"`
	Type      PublicEventType `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	// Cursor is the event's feed position: GET /v1/events?after=Cursor
	// continues after it.
	Cursor    string         `json:"cursor"`
	AccountID string         `json:"account_id,omitempty"`
	Data      map[string]any `json:"data"`
}

// EventID is the public id of the internal event with log id id.
func EventID(id int64) string { return "evt_" + strconv.FormatInt(id, 10) }

// publicKeys are the members of an event's detail that a public event may
// carry, by the name it gives them: codes, ids, amounts and dates.
var publicKeys = map[string]string{
	"channel": "channel", "status": "status", "error_code": "error_code", "intent": "intent",
	"reply_id": "reply_id", "promise_id": "promise_id", "promise": "promise_id", "plan": "plan_id",
	"amount": "amount", "currency": "currency", "date": "date", "due": "date", "kind": "kind",
	"source": "source", "payment": "payment_id", "paid_at": "paid_at", "cycle_ended": "cycle_ended",
	"code": "error_code", "step": "step", "cadence": "cadence",
	"work_item_id": "work_item_id", "outcome": "outcome",
}

// PublicEventOf maps one feed entry to its public event; it reports false
// for entries the feed does not show (internal bookkeeping such as enqueues,
// send and defer decisions).
func PublicEventOf(f FeedEntry) (PublicEvent, bool) {
	e := f.Event
	var detail map[string]any
	if len(e.Detail) > 0 {
		_ = json.Unmarshal(e.Detail, &detail) // a detail that is not an object carries nothing public
	}
	str := func(k string) string { s, _ := detail[k].(string); return s }
	var t PublicEventType
	switch e.Kind {
	case EventPlanned:
		t = PublicReminderPlanned
	case EventEnqueued:
		if planned, _ := detail["planned"].(bool); !planned {
			return PublicEvent{}, false
		}
		t = PublicReminderPlanned
	case EventDecision:
		if e.Action != "suppress" {
			return PublicEvent{}, false
		}
		t = PublicReminderSuppressed
	case EventAttempt:
		switch AttemptStatus(str("status")) {
		case AttemptSent:
			t = PublicReminderSent
		case AttemptFailed, AttemptUndelivered:
			t = PublicReminderFailed
		case AttemptDelivered:
			t = PublicReminderDelivered
		default:
			return PublicEvent{}, false
		}
	case EventCallback:
		switch AttemptStatus(e.Action) {
		case AttemptDelivered, AttemptCompleted:
			t = PublicReminderDelivered
		case AttemptUndelivered, AttemptFailed, AttemptBusy:
			t = PublicReminderFailed
		default:
			return PublicEvent{}, false
		}
	case EventReply:
		t = PublicReplyUnderstood
	case EventOptOut:
		switch {
		case e.Action == "opt_in" || str("action") == "remove" || str("action") == "opt_in":
			t = PublicOptIn
		case e.Action == "opt_out" || e.Action == "" || str("action") == "add":
			t = PublicOptOut
		default:
			return PublicEvent{}, false
		}
	case EventHold:
		switch str("action") {
		case "set", "kept":
			t = PublicHoldPlaced
		case "clear":
			t = PublicHoldCleared
		default:
			return PublicEvent{}, false
		}
	case EventPayment:
		t = PublicPaymentReceived
		if e.Action == "claimed" {
			t = PublicPaymentClaimed
		}
	case EventPromise:
		switch PromiseStatus(e.Action) {
		case PromisePending:
			t = PublicPromiseMade
		case PromiseKept:
			t = PublicPromiseKept
		case PromiseBroken:
			t = PublicPromiseBroken
		default:
			return PublicEvent{}, false
		}
	case EventWorkItem:
		switch e.Action {
		case "created":
			t = PublicWorkItemCreated
		case "completed":
			t = PublicWorkItemCompleted
		default:
			return PublicEvent{}, false
		}
	default:
		return PublicEvent{}, false
	}
	data := map[string]any{}
	for k, v := range detail {
		name, ok := publicKeys[k]
		if !ok || v == nil || v == "" {
			continue
		}
		switch v.(type) {
		case string, float64, bool:
			data[name] = v
		}
	}
	if e.Kind == EventCallback {
		data["status"] = e.Action
	}
	if e.Kind == EventReply && e.Action != "" {
		data["intent"] = e.Action
	}
	if e.ReminderID != "" {
		data["reminder_id"] = e.ReminderID
	}
	if e.AttemptID != "" {
		data["attempt_id"] = e.AttemptID
	}
	if e.Reason != "" {
		data["reason"] = string(e.Reason)
	}
	if e.Rule != "" {
		data["rule"] = e.Rule
	}
	return PublicEvent{
		ID: EventID(e.ID), Type: t, Timestamp: e.At.UTC(), Cursor: strconv.FormatInt(f.Position, 10),
		AccountID: e.AccountID, Data: data,
	}, true
}
