package nudge

import (
	"context"
	"time"
)

// CapCount selects which earlier attempts a CapLimit counts.
type CapCount string

// What a cap counts.
const (
	CountAll        CapCount = "all"        // every attempt on the channel
	CountCalls      CapCount = "calls"      // voice attempts that count as calls (AttemptStatus.CountsAsCall)
	CountUnanswered CapCount = "unanswered" // voice attempts that reached no person
)

// CapLimit is one rolling frequency cap that claiming an attempt must respect:
// at most Max attempts on Channel within Window before the claim instant.
type CapLimit struct {
	Channel ChannelKind
	Window  time.Duration
	Max     int
	Count   CapCount
	// PerAddress counts attempts to the same address only (CN: per contact);
	// otherwise every attempt on the account's channel counts.
	PerAddress bool
	Reason     Reason
	Rule       string
}

// CadenceVersion is one stored version of a lender's cadence file.
type CadenceVersion struct {
	Lender    string
	Name      string
	Version   int
	Source    []byte
	Active    bool
	CreatedAt time.Time
}

// LenderStore keeps lenders and their API keys.
type LenderStore interface {
	UpsertLender(ctx context.Context, l Lender) error
	GetLender(ctx context.Context, id string) (Lender, error)
	ListLenders(ctx context.Context) ([]Lender, error)
	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
}

// AccountStore keeps accounts, their contacts and holds, and when each next needs planning.
type AccountStore interface {
	// UpsertAccounts writes all accounts in one transaction (all or nothing)
	// and marks each for planning at now.
	UpsertAccounts(ctx context.Context, accounts []Account, now time.Time) error
	GetAccount(ctx context.Context, lender, id string) (Account, error)
	// GetAccounts returns those of the lender's accounts ids names that
	// exist, with their contacts and holds, in no particular order.
	GetAccounts(ctx context.Context, lender string, ids []string) ([]Account, error)
	// AccountSnapshot returns the account with what q asks for beside it
	// (history, active promise, pauses, opt-outs), in one round trip where
	// the backend allows.
	AccountSnapshot(ctx context.Context, lender, id string, q AccountSnapshotQuery) (AccountSnapshot, error)
	// OptedOut returns those of refs that opted out of their channel for the
	// lender, with one query.
	OptedOut(ctx context.Context, lender string, refs []ContactRef) ([]ContactRef, error)
	// DueAccounts returns up to limit accounts whose next action is at or before
	// at, using the next_action_at index: the cost grows with what is due.
	DueAccounts(ctx context.Context, at time.Time, limit int) ([]Account, error)
	// SetNextAction sets when the account next needs planning; a zero time means never.
	SetNextAction(ctx context.Context, lender, id string, at time.Time) error
	SetAccountStatus(ctx context.Context, lender, id string, status AccountStatus, now time.Time) error
	AddHold(ctx context.Context, lender, id string, h Hold, now time.Time, events ...Event) error
	ClearHold(ctx context.Context, lender, id string, kind HoldKind, now time.Time, events ...Event) error
	// SetContactState marks an address wrong-party or undeliverable (or usable again).
	SetContactState(ctx context.Context, lender, id string, channel ChannelKind, address string, state ContactState) error
	// AccountsByAddress finds the accounts with a contact at address on channel.
	AccountsByAddress(ctx context.Context, channel ChannelKind, address string) ([]Account, error)
}

// CadenceStore keeps versions of lenders' cadence files.
type CadenceStore interface {
	// PutCadence stores a new version and returns its number (1, 2, …).
	PutCadence(ctx context.Context, lender, name string, source []byte, now time.Time) (int, error)
	ActivateCadence(ctx context.Context, lender, name string, version int) error
	GetCadence(ctx context.Context, lender, name string, version int) (CadenceVersion, error)
	ListCadences(ctx context.Context, lender string) ([]CadenceVersion, error)
	// ActiveCadences returns the active version of every cadence of the lender.
	ActiveCadences(ctx context.Context, lender string) ([]CadenceVersion, error)
}

// ReminderStore is the ledger of planned reminders.
type ReminderStore interface {
	// InsertReminders inserts reminders under their natural key, ignoring those
	// that exist, and returns the ones it inserted.
	InsertReminders(ctx context.Context, rs []Reminder) ([]Reminder, error)
	GetReminder(ctx context.Context, id string) (Reminder, error)
	// LoadReminder returns the reminder and its attempts, in one round trip
	// where the backend allows.
	LoadReminder(ctx context.Context, id string) (Reminder, []Attempt, error)
	// SetReminderStatus moves a reminder that is not yet terminal; it returns
	// ErrConflict when the reminder is already terminal.
	SetReminderStatus(ctx context.Context, id string, status ReminderStatus, reason Reason, nextAt, now time.Time) error
	// PendingReminders returns non-terminal reminders whose NextAt is at or before at,
	// to catch up after downtime or a lost queue.
	PendingReminders(ctx context.Context, at time.Time, limit int) ([]Reminder, error)
	// MoveOpenReminders applies each change to its reminder while the
	// reminder is not yet terminal (SetReminderStatus's rule) and appends the
	// events of the reminders it moved, in one transaction; it returns the
	// ids it moved, sorted. A terminal or missing reminder is left out.
	MoveOpenReminders(ctx context.Context, changes []ReminderChange, events []Event) ([]string, error)
	// CancelReminders cancels every non-terminal reminder of the account and returns their ids.
	CancelReminders(ctx context.Context, lender, accountID string, reason Reason, now time.Time) ([]string, error)
	ListReminders(ctx context.Context, lender, accountID string) ([]Reminder, error)
	// MoveReminder moves a reminder from status from (terminal or not) to
	// status to; it reports false when the reminder is no longer in from.
	MoveReminder(ctx context.Context, id string, from, to ReminderStatus, reason Reason, nextAt, now time.Time) (bool, error)
	// RemindersInStatus returns up to limit reminders of every lender in
	// status, least recently updated first.
	RemindersInStatus(ctx context.Context, status ReminderStatus, limit int) ([]Reminder, error)
	// CountRemindersByStatus counts a lender's reminders by status ("" = every lender).
	CountRemindersByStatus(ctx context.Context, lender string) (map[ReminderStatus]int, error)
}

// AttemptStore records attempts and provider outcomes.
type AttemptStore interface {
	// ClaimAttempt inserts a in status sending, atomically checking limits
	// against earlier attempts. It returns the stored attempt; when an attempt
	// for the reminder and channel exists it returns that one and ErrAlreadyClaimed;
	// when a limit is reached it returns ErrCapReached wrapped with the limit's reason.
	// events are appended in the claim's transaction when, and only when, it
	// inserts the attempt.
	ClaimAttempt(ctx context.Context, a Attempt, limits []CapLimit, events ...Event) (Attempt, error)
	// ClaimAttempts makes several claims in one transaction, each with
	// ClaimAttempt's rules and result, in order: a claim counts against the
	// caps of the claims after it. Results are in the order of claims.
	ClaimAttempts(ctx context.Context, claims []Claim) []ClaimResult
	GetAttempt(ctx context.Context, id string) (Attempt, error)
	AttemptByProviderID(ctx context.Context, providerID string) (Attempt, error)
	// UpdateAttempt applies u if it does not move the status to a lower rank; it
	// reports whether anything changed.
	UpdateAttempt(ctx context.Context, id string, u AttemptUpdate) (bool, error)
	// KeepEarlyCallback keeps a provider status callback for a provider id no
	// attempt carries yet; UpdateAttempt applies it when the id is recorded.
	KeepEarlyCallback(ctx context.Context, providerID string, status AttemptStatus, errorCode string, at time.Time) error
	// RecordOutcomes writes outcomes in one transaction: each one's attempt
	// update (UpdateAttempt's rules), reminder change (SetReminderStatus's)
	// and events together. Results are in the order of outcomes.
	RecordOutcomes(ctx context.Context, outcomes []Outcome) []OutcomeResult
	// AttemptHistory returns the account's attempts created at or after since, oldest first.
	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]Attempt, error)
	ListAttempts(ctx context.Context, lender string, since time.Time) ([]Attempt, error)
}

// Claim is one ClaimAttempt of a ClaimAttempts batch.
type Claim struct {
	Attempt Attempt
	Limits  []CapLimit
	Events  []Event
}

// ClaimResult is what ClaimAttempt returns, for one Claim.
type ClaimResult struct {
	Attempt Attempt
	Err     error
}

// Outcome is what one step of a reminder changes, written at once: an
// attempt's update, the reminder's status and the events that record them.
type Outcome struct {
	// AttemptID names the attempt Attempt updates; empty changes no attempt
	// unless ProviderID names one.
	AttemptID string
	// ProviderID, when AttemptID is empty, names the attempt by the provider
	// id it carries (the earliest if several): the store finds and locks it in
	// the write's own transaction, so a status callback waits for one write
	// instead of a read and then a write. The events' Lender, AccountID,
	// ReminderID and AttemptID, when empty, are taken from that attempt.
	ProviderID string
	Attempt    AttemptUpdate
	// Reminder, when its ID is set, moves a reminder that is not yet terminal.
	Reminder ReminderChange
	// Events are appended with the changes; with EventsIfChanged only when
	// the attempt's update changed something (a repeated callback records
	// nothing twice).
	Events          []Event
	EventsIfChanged bool
}

// ReminderChange moves a reminder like ReminderStore.SetReminderStatus.
type ReminderChange struct {
	ID     string
	Status ReminderStatus
	Reason Reason
	// NextAt, when not zero, replaces when the reminder runs next.
	NextAt time.Time
	At     time.Time
}

// OutcomeResult is what writing one Outcome did.
type OutcomeResult struct {
	// AttemptChanged is UpdateAttempt's report for the attempt.
	AttemptChanged bool
	// Attempt is the attempt as the outcome left it, when the outcome named
	// one that exists.
	Attempt Attempt
	// ReminderFinal says the reminder was already terminal, so its change
	// was not applied (the attempt's update and the events were).
	ReminderFinal bool
	// Err is ErrNotFound when the attempt or the reminder does not exist
	// (nothing of the outcome is written), or why it could not be written.
	Err error
}

// AttemptUpdate changes an attempt; empty fields are left alone.
type AttemptUpdate struct {
	// From, when set, makes the update conditional: it applies only while the
	// attempt's current status is From (compare-and-set, e.g. retrying → sending).
	From         AttemptStatus
	Status       AttemptStatus
	ProviderID   string
	Reason       Reason
	ErrorCode    string
	AnsweredBy   string
	Conversation bool
	// Body, Template, Menu and SendingAt are written whenever given (the
	// last gate sets them).
	Body      string
	Template  string
	Menu      Menu
	SendingAt time.Time
	SentAt    time.Time
	// Segments and CallSeconds, when above 0, replace what the attempt
	// records (the provider's billed SMS segments, a call's duration).
	Segments    int
	CallSeconds int
	At          time.Time
}

// ResponseStore records what borrowers said and promised, and who opted out.
type ResponseStore interface {
	// InsertReply stores a reply once per ProviderID; it reports whether it was new.
	InsertReply(ctx context.Context, r Reply, events ...Event) (bool, error)
	ListReplies(ctx context.Context, lender string, needsPerson bool) ([]Reply, error)
	InsertPromise(ctx context.Context, p Promise, events ...Event) error
	// ActivePromise returns the account's pending promise, or ErrNotFound.
	ActivePromise(ctx context.Context, lender, accountID string) (Promise, error)
	SetPromiseStatus(ctx context.Context, id string, status PromiseStatus, now time.Time, events ...Event) error
	// PendingPromisesDueBefore returns pending promises whose date is before d.
	PendingPromisesDueBefore(ctx context.Context, d Date) ([]Promise, error)
	ListPromises(ctx context.Context, lender, accountID string) ([]Promise, error)
	// AddOptOut records an opt-out; it reports whether it was new.
	AddOptOut(ctx context.Context, o OptOut, events ...Event) (bool, error)
	// RemoveOptOut records an opt-in; it reports whether an opt-out existed.
	RemoveOptOut(ctx context.Context, lender string, channel ChannelKind, address string, events ...Event) (bool, error)
	IsOptedOut(ctx context.Context, lender string, channel ChannelKind, address string) (bool, error)
	ListOptOuts(ctx context.Context, lender string) ([]OptOut, error)
}

// PaymentStore keeps the payments received, payment plans and the secrets
// lenders' payment webhooks are signed with.
type PaymentStore interface {
	// RecordPayment stores p once per lender and payment id. It returns the
	// stored payment and whether it was new: a payment whose id was recorded
	// before is returned as first recorded, and changes nothing.
	RecordPayment(ctx context.Context, p Payment, events ...Event) (Payment, bool, error)
	// GetPayment returns the lender's payment with id, or ErrNotFound.
	GetPayment(ctx context.Context, lender, id string) (Payment, error)
	// ListPayments returns the account's payments in order of receipt.
	ListPayments(ctx context.Context, lender, accountID string) ([]Payment, error)
	// InsertPlan stores the instalments of one payment plan (promises
	// sharing a PlanID, lender and account) all or none; a plan whose id
	// exists is refused with ErrConflict.
	InsertPlan(ctx context.Context, instalments []Promise, events ...Event) error
	// SetPaymentWebhookSecret replaces the lender's sealed payment webhook
	// secret ("" removes it); an unknown lender is ErrNotFound.
	SetPaymentWebhookSecret(ctx context.Context, lender, sealed string) error
	// PaymentWebhookSecret returns the lender's sealed payment webhook
	// secret, "" when it has none; an unknown lender is ErrNotFound.
	PaymentWebhookSecret(ctx context.Context, lender string) (string, error)
}

// LogStore is the append-only event log and the audit log.
type LogStore interface {
	AppendEvent(ctx context.Context, e Event) error
	Events(ctx context.Context, lender, accountID string) ([]Event, error)
	AppendAudit(ctx context.Context, a AuditEntry) error
	ListAudit(ctx context.Context, lender string) ([]AuditEntry, error)
}

// PauseStore keeps the pauses the last gate checks.
type PauseStore interface {
	// SetPause records p; it reports false when the same pause exists.
	SetPause(ctx context.Context, p Pause) (bool, error)
	// ClearPause lifts a pause; it reports whether one existed.
	ClearPause(ctx context.Context, lender string, scope PauseScope, target string) (bool, error)
	// ListPauses returns the lender's pauses ("" = every lender's).
	ListPauses(ctx context.Context, lender string) ([]Pause, error)
}

// Store is the whole system of record.
type Store interface {
	PauseStore
	LenderStore
	AccountStore
	CadenceStore
	ReminderStore
	AttemptStore
	ResponseStore
	PaymentStore
	LogStore
	Ping(ctx context.Context) error
	Close() error
}

// PauseScope says what a Pause stops.
type PauseScope string

// Pause scopes.
const (
	PauseLender  PauseScope = "lender"  // every reminder of the lender
	PauseCadence PauseScope = "cadence" // the reminders of one cadence (Target is its name)
	PauseChannel PauseScope = "channel" // one channel (Target is sms, voice or email)
)

// Pause stops a lender's sends at the last gate until it is lifted; reminders
// meanwhile wait (deferred), they are not dropped.
type Pause struct {
	Lender    string
	Scope     PauseScope
	Target    string
	Reason    string
	Actor     string
	CreatedAt time.Time
}

// Covers reports whether p stops a reminder of cadence on channel.
func (p Pause) Covers(cadence string, channel ChannelKind) bool {
	switch p.Scope {
	case PauseLender:
		return true
	case PauseCadence:
		return p.Target == cadence
	case PauseChannel:
		return p.Target == string(channel)
	}
	return false
}
