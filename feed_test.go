package nudge_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// TestPublicEventOf maps internal events to public types and keeps only
// ids, codes, amounts and dates of their detail.
func TestPublicEventOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		event  nudge.Event
		want   nudge.PublicEventType
		data   map[string]any
		hidden bool
	}{
		{name: "planned", event: nudge.Event{Kind: nudge.EventEnqueued, ReminderID: "rem_1",
			Detail: json.RawMessage(`{"planned":true,"channel":"sms","step":"due-sms","cadence":"c","process_at":"x"}`)},
			want: nudge.PublicReminderPlanned, data: map[string]any{"reminder_id": "rem_1", "channel": "sms", "step": "due-sms", "cadence": "c"}},
		{name: "re-enqueue is internal", event: nudge.Event{Kind: nudge.EventEnqueued, Detail: json.RawMessage(`{"channel":"sms"}`)}, hidden: true},
		{name: "suppressed", event: nudge.Event{Kind: nudge.EventDecision, Action: "suppress", Reason: nudge.ReasonOptedOut, Rule: "consent.opt_out",
			Detail: json.RawMessage(`{"explanation":"borrower +15125550100 opted out"}`)},
			want: nudge.PublicReminderSuppressed, data: map[string]any{"reason": "opted_out", "rule": "consent.opt_out"}},
		{name: "send decision is internal", event: nudge.Event{Kind: nudge.EventDecision, Action: "send"}, hidden: true},
		{name: "sent", event: nudge.Event{Kind: nudge.EventAttempt, AttemptID: "att_1",
			Detail: json.RawMessage(`{"status":"sent","channel":"sms","provider_id":"SM1","to":"+15125550100"}`)},
			want: nudge.PublicReminderSent, data: map[string]any{"attempt_id": "att_1", "status": "sent", "channel": "sms"}},
		{name: "claimed is internal", event: nudge.Event{Kind: nudge.EventAttempt, Detail: json.RawMessage(`{"status":"claimed"}`)}, hidden: true},
		{name: "delivered callback", event: nudge.Event{Kind: nudge.EventCallback, Action: "delivered", Detail: json.RawMessage(`{"To":"+15125550100"}`)},
			want: nudge.PublicReminderDelivered, data: map[string]any{"status": "delivered"}},
		{name: "undelivered callback", event: nudge.Event{Kind: nudge.EventCallback, Action: "undelivered"},
			want: nudge.PublicReminderFailed, data: map[string]any{"status": "undelivered"}},
		{name: "reply", event: nudge.Event{Kind: nudge.EventReply, Action: "promise",
			Detail: json.RawMessage(`{"intent":"promise","reply_id":"rep_1","amount":"50.00","date":"2026-06-05","body":"I pay friday"}`)},
			want: nudge.PublicReplyUnderstood, data: map[string]any{"intent": "promise", "reply_id": "rep_1", "amount": "50.00", "date": "2026-06-05"}},
		{name: "opt-out", event: nudge.Event{Kind: nudge.EventOptOut, Action: "opt_out", Reason: nudge.ReasonOptedOut,
			Detail: json.RawMessage(`{"source":"sms_keyword","channel":"sms","address":"+1********00"}`)},
			want: nudge.PublicOptOut, data: map[string]any{"source": "sms_keyword", "channel": "sms", "reason": "opted_out"}},
		{name: "api opt-in", event: nudge.Event{Kind: nudge.EventOptOut, Detail: json.RawMessage(`{"action":"remove","channel":"email","address_hash":"abc"}`)},
			want: nudge.PublicOptIn, data: map[string]any{"channel": "email"}},
		{name: "hold placed", event: nudge.Event{Kind: nudge.EventHold, Detail: json.RawMessage(`{"action":"set","kind":"dispute","reason":"Ana disputes"}`)},
			want: nudge.PublicHoldPlaced, data: map[string]any{"kind": "dispute"}},
		{name: "hold cleared", event: nudge.Event{Kind: nudge.EventHold, Detail: json.RawMessage(`{"action":"clear","kind":"dispute"}`)},
			want: nudge.PublicHoldCleared, data: map[string]any{"kind": "dispute"}},
		{name: "payment claimed", event: nudge.Event{Kind: nudge.EventPayment, Action: "claimed", Detail: json.RawMessage(`{"reply_id":"rep_2","channel":"sms"}`)},
			want: nudge.PublicPaymentClaimed, data: map[string]any{"reply_id": "rep_2", "channel": "sms"}},
		{name: "payment received", event: nudge.Event{Kind: nudge.EventPayment, Detail: json.RawMessage(`{"payment":"pay_1","amount":"10.00","currency":"USD"}`)},
			want: nudge.PublicPaymentReceived, data: map[string]any{"payment_id": "pay_1", "amount": "10.00", "currency": "USD"}},
		{name: "promise kept", event: nudge.Event{Kind: nudge.EventPromise, Action: "kept", Detail: json.RawMessage(`{"promise":"prm_1","plan":""}`)},
			want: nudge.PublicPromiseKept, data: map[string]any{"promise_id": "prm_1"}},
		{name: "promise broken", event: nudge.Event{Kind: nudge.EventPromise, Action: "broken", Detail: json.RawMessage(`{"promise_id":"prm_1","due":"2026-06-05","amount":"5"}`)},
			want: nudge.PublicPromiseBroken, data: map[string]any{"promise_id": "prm_1", "date": "2026-06-05", "amount": "5"}},
		{name: "work item created", event: nudge.Event{Kind: nudge.EventWorkItem, Action: "created", ReminderID: "rem_1",
			Detail: json.RawMessage(`{"work_item_id":"wi_1","kind":"field_visit","step":"visit","address":"+15125550100","instructions":"see Ana"}`)},
			want: nudge.PublicWorkItemCreated, data: map[string]any{"work_item_id": "wi_1", "kind": "field_visit", "step": "visit", "reminder_id": "rem_1"}},
		{name: "work item completed", event: nudge.Event{Kind: nudge.EventWorkItem, Action: "completed",
			Detail: json.RawMessage(`{"work_item_id":"wi_1","kind":"call_list","outcome":"promise","note":"spoke to Ana"}`)},
			want: nudge.PublicWorkItemCompleted, data: map[string]any{"work_item_id": "wi_1", "kind": "call_list", "outcome": "promise"}},
		{name: "pause is internal", event: nudge.Event{Kind: nudge.EventPause}, hidden: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.event.ID, tc.event.Lender, tc.event.AccountID, tc.event.At = 42, "acme", "A-1", at
			got, ok := nudge.PublicEventOf(nudge.FeedEntry{Position: 7, Event: tc.event})
			if tc.hidden {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, nudge.PublicEvent{ID: "evt_42", Type: tc.want, Timestamp: at, Cursor: "7", AccountID: "A-1", Data: tc.data}, got)
			require.True(t, got.Type.Valid())
		})
	}
}
