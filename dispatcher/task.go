package dispatcher

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/nudgehq/nudge"
)

// Task types.
const (
	TypeReminderSMS   = "reminder:sms"
	TypeReminderVoice = "reminder:voice"
	TypeReminderEmail = "reminder:email"
	// TypeReminderTask creates the work item of a task step.
	TypeReminderTask = "reminder:task"
	// TypeReplyConfirm is reserved for confirmations of borrower replies,
	// which go on the critical queue.
	TypeReplyConfirm = "reply:confirm"
)

// Queue names.
const (
	QueueCritical = "critical"
	QueueSMS      = "sms"
	QueueVoice    = "voice"
	QueueEmail    = "email"
	// QueueTasks carries task steps' reminders, which create work items.
	QueueTasks = "tasks"
	// QueueWebhooks carries the lender's outbound webhook deliveries
	// (package webhook).
	QueueWebhooks = "webhooks"
)

// DefaultQueues maps each queue to its weight. Priorities are weighted, not
// strict: with every queue busy, critical gets 6 of 14 turns, sms 3, voice 2,
// email 1, webhooks 1 and tasks 1, so no queue starves.
var DefaultQueues = map[string]int{
	QueueCritical: 6,
	QueueSMS:      3,
	QueueVoice:    2,
	QueueEmail:    1,
	QueueWebhooks: 1,
	QueueTasks:    1,
}

// QueuedChannels are the channels whose reminders go through a lender's
// queue (QueueFor): every contact channel, and the work items of task steps.
var QueuedChannels = append(slices.Clone(nudge.Channels), nudge.Task)

// ReminderQueues lists the queues that carry reminder tasks.
var ReminderQueues = []string{QueueSMS, QueueVoice, QueueEmail, QueueTasks}

// Payload is the JSON body of a reminder task.
type Payload struct {
	ReminderID string `json:"reminder_id"`
}

// TaskType returns the task type for reminders on channel c.
func TaskType(c nudge.ChannelKind) (string, error) {
	switch c {
	case nudge.SMS:
		return TypeReminderSMS, nil
	case nudge.Voice:
		return TypeReminderVoice, nil
	case nudge.Email:
		return TypeReminderEmail, nil
	case nudge.Task:
		return TypeReminderTask, nil
	}
	return "", fmt.Errorf("no task type for channel %q", c)
}

// QueueFor returns the queue for lender's reminders on channel c:
// "<channel>:<lender>", such as "sms:acme". Each lender has a queue of its
// own per channel, so one lender's backlog is not a list another lender's
// reminders wait behind; the worker discovers the queues at run time and
// weighs them (see QueueWeights and docs/fairness.md).
func QueueFor(c nudge.ChannelKind, lender string) (string, error) {
	base, err := ChannelQueue(c)
	if err != nil {
		return "", err
	}
	if lender == "" {
		return "", fmt.Errorf("no queue for channel %q: empty lender", c)
	}
	return base + ":" + lender, nil
}

// ChannelQueue returns the channel's shared queue ("sms", "voice",
// "email"): where reminders went before each lender had queues of its own.
// Workers still drain it, and cancellation still looks there, so tasks
// enqueued before an upgrade are neither stranded nor uncancellable.
func ChannelQueue(c nudge.ChannelKind) (string, error) {
	switch c {
	case nudge.SMS:
		return QueueSMS, nil
	case nudge.Voice:
		return QueueVoice, nil
	case nudge.Email:
		return QueueEmail, nil
	case nudge.Task:
		return QueueTasks, nil
	}
	return "", fmt.Errorf("no queue for channel %q", c)
}

// ParseQueue splits a lender's queue name made by QueueFor into its channel
// queue ("sms", "voice", "email") and lender. It reports false for any other
// name (critical, the legacy channel queues, queues of other software).
func ParseQueue(name string) (channel, lender string, ok bool) {
	channel, lender, ok = strings.Cut(name, ":")
	if !ok || lender == "" {
		return "", "", false
	}
	if _, known := DefaultQueues[channel]; !known || channel == QueueCritical {
		return "", "", false
	}
	return channel, lender, true
}

// NewReminderTask returns the task that sends reminder id on channel c.
// Options such as the queue and TaskID are added by the Enqueuer.
func NewReminderTask(c nudge.ChannelKind, id string) (*asynq.Task, error) {
	typ, err := TaskType(c)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("reminder task: empty reminder id")
	}
	b, err := json.Marshal(Payload{ReminderID: id})
	if err != nil {
		return nil, fmt.Errorf("reminder task %s: encode payload: %w", id, err)
	}
	return asynq.NewTask(typ, b), nil
}

// ParsePayload decodes a reminder task's payload.
func ParsePayload(b []byte) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		return Payload{}, fmt.Errorf("reminder task payload: %w", err)
	}
	if p.ReminderID == "" {
		return Payload{}, fmt.Errorf("reminder task payload: missing reminder_id")
	}
	return p, nil
}
