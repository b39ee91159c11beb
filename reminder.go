package nudge

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"
)

// ReminderStatus is where a planned reminder stands.
type ReminderStatus string

// Reminder statuses. Terminal statuses never change again.
const (
	ReminderPlanned    ReminderStatus = "planned"    // inserted, not yet enqueued
	ReminderQueued     ReminderStatus = "queued"     // on an Asynq queue
	ReminderDeferred   ReminderStatus = "deferred"   // re-enqueued for a later allowed instant
	ReminderSent       ReminderStatus = "sent"       // an attempt reached the provider
	ReminderSuppressed ReminderStatus = "suppressed" // a rule forbade it; Reason says which
	ReminderExpired    ReminderStatus = "expired"    // its moment passed before it could be sent
	ReminderCanceled   ReminderStatus = "canceled"   // a payment, hold, promise or opt-out canceled it
	ReminderFailed     ReminderStatus = "failed"     // the provider refused it permanently
	ReminderUnknown    ReminderStatus = "unknown"    // a send may have happened; an operator must look
)

// Terminal reports whether the status is final.
func (s ReminderStatus) Terminal() bool {
	switch s {
	case ReminderPlanned, ReminderQueued, ReminderDeferred:
		return false
	}
	return true
}

// ReminderKey is the natural key of a reminder: one per lender, account,
// cadence, step and cycle (the due date the step counts from).
type ReminderKey struct {
	Lender    string
	AccountID string
	Cadence   string
	Step      string
	Cycle     Date
}

// String formats the key as lender/account/cadence/step/cycle.
func (k ReminderKey) String() string {
	return strings.Join([]string{k.Lender, k.AccountID, k.Cadence, k.Step, k.Cycle.String()}, "/")
}

// ID returns the reminder's stable identifier derived from its key, so every
// scheduler replica computes the same id (and the same Asynq TaskID).
func (k ReminderKey) ID() string {
	sum := sha256.Sum256([]byte(k.String()))
	return "rem_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// Reminder is one planned contact: a cadence step for an account in a cycle.
type Reminder struct {
	ID             string
	Key            ReminderKey
	CadenceVersion int
	Channel        ChannelKind
	// Fallback is the channel to use when Channel has no usable address.
	Fallback ChannelKind
	Template string
	// BrokenPromise marks a step that follows a broken promise.
	BrokenPromise bool
	// DueAt is the step's preferred local send time, in UTC.
	DueAt time.Time
	// ExpiresAt is the end of the step's day: after it the reminder is not sent late.
	ExpiresAt time.Time
	Status    ReminderStatus
	Reason    Reason
	// NextAt is when the reminder is enqueued to run next (after a deferral).
	NextAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// Arm is the arm of the cadence's experiment the account is in, or ""
	// outside any experiment.
	Arm string
}
