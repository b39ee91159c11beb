package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/metrics"
)

// Reconciler defaults.
const (
	// DefaultSettle is how long after the send the provider must have had no
	// record of an attempt before it is released for one more send.
	DefaultSettle = 2 * time.Minute
	// DefaultReconcileBatch bounds the reminders one run looks at.
	DefaultReconcileBatch = 500
	// lookupSkew widens the provider look-up for clocks that disagree.
	lookupSkew = time.Minute
)

// EmailPolicy says what the reconciler does with an email whose SMTP reply
// was lost after the message's final dot: no SMTP server can be asked.
type EmailPolicy string

// Email policies.
const (
	// EmailResend releases the attempt for one more send with the same
	// Message-ID, on which receivers de-duplicate (the default).
	EmailResend EmailPolicy = "resend"
	// EmailHold leaves the attempt unknown for a person to decide.
	EmailHold EmailPolicy = "hold"
)

// Outcomes of a reconciliation, also its metric labels.
const (
	OutcomeFound    = "found"    // the provider's records hold the send
	OutcomeCallback = "callback" // a late callback recorded the provider id
	OutcomeReleased = "released" // no record after the settle time: one more send
	OutcomeHeld     = "held"     // kept for a person (email with the hold policy)
	OutcomeFailed   = "failed"   // the attempt ended refused; the reminder follows
	OutcomeWaiting  = "waiting"  // within the settle time; looked at again later
)

// ReconcileStore is the part of the store the Reconciler reads and writes.
type ReconcileStore interface {
	RemindersInStatus(ctx context.Context, status nudge.ReminderStatus, limit int) ([]nudge.Reminder, error)
	GetAttempt(ctx context.Context, id string) (nudge.Attempt, error)
	UpdateAttempt(ctx context.Context, id string, u nudge.AttemptUpdate) (bool, error)
	// RecordOutcomes writes an attempt's update and its events in one
	// transaction (nudge.Outcome).
	RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult
	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error)
	MoveReminder(ctx context.Context, id string, from, to nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) (bool, error)
	AppendEvent(ctx context.Context, e nudge.Event) error
	Events(ctx context.Context, lender, accountID string) ([]nudge.Event, error)
	// AddOptOut and SetContactState record what an error code in the
	// provider's records says about the address (RecordProviderCode).
	ContactRecorder
}

// Requeuer puts a released reminder back on its queue (*Enqueuer is one).
type Requeuer interface {
	Enqueue(ctx context.Context, r nudge.Reminder, processAt time.Time) error
}

// ReconcilerConfig holds the Reconciler's dependencies and settings.
type ReconcilerConfig struct {
	// Store and Queue are required.
	Store ReconcileStore
	Queue Requeuer
	// Probers look attempts up at the provider, per channel (Twilio's SMS
	// and voice senders are Probers). A channel without one follows
	// EmailPolicy for email and is held for a person otherwise.
	Probers map[nudge.ChannelKind]nudge.Prober
	// Settle is DefaultSettle when zero.
	Settle time.Duration
	// EmailPolicy gives a lender's email policy; nil resends.
	EmailPolicy func(lender string) EmailPolicy
	// Batch is DefaultReconcileBatch when zero.
	Batch int
	// Clock is required.
	Clock nudge.Clock
	// Logger defaults to slog.Default(); Metrics to nothing.
	Logger  *slog.Logger
	Metrics metrics.Recorder
}

// Resolution is what one run did (or, dry, would do) with one reminder.
type Resolution struct {
	ReminderID string            `json:"reminder_id"`
	AttemptID  string            `json:"attempt_id,omitempty"`
	Lender     string            `json:"lender"`
	AccountID  string            `json:"account_id"`
	Channel    nudge.ChannelKind `json:"channel,omitempty"`
	Outcome    string            `json:"outcome"`
	ProviderID string            `json:"provider_id,omitempty"`
	// Evidence says what the outcome rests on, in words.
	Evidence string `json:"evidence"`
}

// ReconcileReport sums up one run.
type ReconcileReport struct {
	DryRun      bool           `json:"dry_run"`
	Checked     int            `json:"checked"`
	Counts      map[string]int `json:"counts"`
	Resolutions []Resolution   `json:"resolutions"`
	Errors      []string       `json:"errors,omitempty"`
}

// Reconciler resolves every reminder left unknown, with evidence: from the
// provider's records (a match by recipient, time and text), from a late
// callback that recorded the provider's id, or — when the provider has no
// record once the settle time has passed — by releasing the attempt for one
// more send through the whole send-time re-check. Each resolution is an
// event on the account's timeline. It is safe to run from several
// schedulers at once: every write is a compare-and-set.
type Reconciler struct {
	cfg ReconcilerConfig
}

// NewReconciler checks cfg and returns a Reconciler.
func NewReconciler(cfg ReconcilerConfig) (*Reconciler, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("reconciler config: missing store")
	case cfg.Queue == nil:
		return nil, errors.New("reconciler config: missing queue")
	case cfg.Clock == nil:
		return nil, errors.New("reconciler config: missing clock")
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultReconcileBatch
	}
	if cfg.EmailPolicy == nil {
		cfg.EmailPolicy = func(string) EmailPolicy { return EmailResend }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.Nop{}
	}
	return &Reconciler{cfg: cfg}, nil
}

// Run looks at up to Batch unknown reminders, least recently looked at
// first. With dryRun it writes nothing and reports what it would do. An
// error with one reminder is reported and the others go on.
func (rc *Reconciler) Run(ctx context.Context, dryRun bool) (ReconcileReport, error) {
	rep := ReconcileReport{DryRun: dryRun, Counts: map[string]int{}}
	rems, err := rc.cfg.Store.RemindersInStatus(ctx, nudge.ReminderUnknown, rc.cfg.Batch)
	if err != nil {
		return rep, fmt.Errorf("reconcile: %w", err)
	}
	for _, r := range rems {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Checked++
		res, err := rc.one(ctx, r, dryRun)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("reminder %s: %v", r.ID, err))
			rc.cfg.Logger.Warn("reconcile", "reminder", r.ID, "err", err)
			continue
		}
		rep.Counts[res.Outcome]++
		if res.Outcome != OutcomeWaiting {
			rep.Resolutions = append(rep.Resolutions, res)
			if !dryRun {
				rc.cfg.Metrics.Reconciled(res.Outcome)
			}
		}
	}
	return rep, nil
}

// one resolves reminder r, or says why it waits.
func (rc *Reconciler) one(ctx context.Context, r nudge.Reminder, dryRun bool) (Resolution, error) {
	res := Resolution{ReminderID: r.ID, Lender: r.Key.Lender, AccountID: r.Key.AccountID}
	a, found, err := rc.attempt(ctx, r)
	if err != nil {
		return res, err
	}
	if !found {
		res.Outcome, res.Evidence = OutcomeReleased, "no attempt of the reminder reached the provider"
		return res, rc.release(ctx, r, nil, res, dryRun)
	}
	res.AttemptID, res.Channel, res.ProviderID = a.ID, a.Channel, a.ProviderID
	now := rc.cfg.Clock.Now()
	switch {
	case a.ProviderID != "":
		res.Outcome = OutcomeCallback
		res.Evidence = fmt.Sprintf("the provider reported %s as %s after the answer was lost", a.ProviderID, a.Status)
		return res, rc.settle(ctx, r, nudge.ReminderSent, nudge.ReasonReconciled, res, dryRun)
	case a.Status.Resumable():
		res.Outcome, res.Evidence = OutcomeReleased, fmt.Sprintf("the attempt is %s: the provider never took it", a.Status)
		return res, rc.release(ctx, r, nil, res, dryRun)
	case a.Status.Final():
		res.Outcome, res.Evidence = OutcomeFailed, fmt.Sprintf("the attempt ended %s (%s) without reaching the provider", a.Status, a.Reason)
		reason := a.Reason
		if reason == "" {
			reason = nudge.ReasonProviderFailed
		}
		return res, rc.settle(ctx, r, nudge.ReminderFailed, reason, res, dryRun)
	}
	sentAt := a.SendingAt
	if sentAt.IsZero() {
		sentAt = a.UpdatedAt
	}
	prober, ok := rc.cfg.Probers[a.Channel]
	if !ok {
		return rc.noProber(ctx, r, a, res, now.Sub(sentAt), dryRun)
	}
	known, err := rc.knownIDs(ctx, a, sentAt)
	if err != nil {
		return res, err
	}
	q := nudge.ProviderQuery{AttemptID: a.ID, Lender: a.Lender, Channel: a.Channel, To: a.Address,
		Since: sentAt.Add(-lookupSkew), Until: now.Add(lookupSkew), Known: known}
	if a.Channel == nudge.SMS {
		q.Body = a.Body
	}
	rec, err := prober.Lookup(ctx, q)
	if err != nil {
		return res, fmt.Errorf("look up attempt %s at the provider: %w", a.ID, err)
	}
	if rec.Found {
		res.Outcome, res.ProviderID = OutcomeFound, rec.ProviderID
		res.Evidence = fmt.Sprintf("the provider's records hold %s to the same recipient with the same text, created after the send (status %s)", rec.ProviderID, rec.Status)
		if dryRun {
			return res, nil
		}
		if err := rc.found(ctx, a, rec, sentAt, now); err != nil {
			return res, err
		}
		return res, rc.settle(ctx, r, nudge.ReminderSent, nudge.ReasonReconciled, res, false)
	}
	if waited := now.Sub(sentAt); waited < rc.cfg.Settle {
		res.Outcome = OutcomeWaiting
		res.Evidence = fmt.Sprintf("no record at the provider yet, %s after the send; settle time %s", waited.Round(time.Second), rc.cfg.Settle)
		return res, nil
	}
	res.Outcome = OutcomeReleased
	res.Evidence = fmt.Sprintf("the provider has no record of a message to this recipient with this text %s after the send", now.Sub(sentAt).Round(time.Second))
	return res, rc.release(ctx, r, &a, res, dryRun)
}

// found records on attempt a the send the provider's records hold (rec),
// with the events the send and its status callbacks would have written: the
// attempt event of an accepted send (reminder.sent in the lender's feed) and,
// when the provider's status is past sent, a callback event with that status
// (reminder.delivered for a delivered message or a completed call,
// reminder.failed for one that failed). The update and its events are one
// transaction, and the events are written only when the update changes the
// attempt: a status callback or another run that recorded the send first
// leaves nothing to write twice.
func (rc *Reconciler) found(ctx context.Context, a nudge.Attempt, rec nudge.ProviderRecord, sentAt, now time.Time) error {
	status := rec.Status
	if status.Rank() < nudge.AttemptSent.Rank() {
		status = nudge.AttemptSent
	}
	note := "found in the provider's records by the reconciler"
	event := func(kind nudge.EventKind, action string, d attemptDetail) nudge.Event {
		detail, _ := json.Marshal(d)
		return nudge.Event{Lender: a.Lender, AccountID: a.AccountID, ReminderID: a.ReminderID, AttemptID: a.ID,
			Kind: kind, Action: action, Reason: nudge.ReasonReconciled, Detail: detail, At: now}
	}
	events := []nudge.Event{event(nudge.EventAttempt, "", attemptDetail{Status: nudge.AttemptSent, Channel: a.Channel,
		ProviderID: rec.ProviderID, Note: note})}
	if status.Rank() > nudge.AttemptSent.Rank() {
		events = append(events, event(nudge.EventCallback, string(status), attemptDetail{Status: status, Channel: a.Channel,
			ProviderID: rec.ProviderID, ErrorCode: rec.ErrorCode, Note: note}))
	}
	res := rc.cfg.Store.RecordOutcomes(ctx, []nudge.Outcome{{AttemptID: a.ID, Attempt: nudge.AttemptUpdate{Status: status,
		ProviderID: rec.ProviderID, ErrorCode: rec.ErrorCode, Reason: nudge.ReasonReconciled, SentAt: sentAt, At: now},
		EventsIfChanged: true, Events: events}})
	if err := res[0].Err; err != nil {
		return fmt.Errorf("record %s on attempt %s: %w", rec.ProviderID, a.ID, err)
	}
	if !res[0].AttemptChanged {
		return nil
	}
	rc.cfg.Metrics.Attempt(a.Channel, status, nudge.ReasonReconciled)
	return RecordProviderCode(ctx, rc.cfg.Store, res[0].Attempt, codeOf(rc.cfg.Probers[a.Channel], res[0].Attempt), now, rc.cfg.Metrics)
}

// noProber resolves an attempt no provider can be asked about: an email
// follows the lender's policy (one resend with the same Message-ID, or a
// hold), anything else is held for a person.
func (rc *Reconciler) noProber(ctx context.Context, r nudge.Reminder, a nudge.Attempt, res Resolution, waited time.Duration, dryRun bool) (Resolution, error) {
	policy := EmailHold
	if a.Channel == nudge.Email {
		policy = rc.cfg.EmailPolicy(r.Key.Lender)
	}
	if policy == EmailResend {
		released, err := rc.recorded(ctx, a, OutcomeReleased)
		if err != nil {
			return res, err
		}
		switch {
		case released:
			res.Evidence = "the SMTP reply was lost again after one resend with the same Message-ID; held for a person"
		case waited < rc.cfg.Settle:
			res.Outcome = OutcomeWaiting
			res.Evidence = fmt.Sprintf("the SMTP reply was lost %s ago; resent after %s", waited.Round(time.Second), rc.cfg.Settle)
			return res, nil
		default:
			res.Outcome = OutcomeReleased
			res.Evidence = "the SMTP reply was lost after the final dot; resent once with the same Message-ID (lender policy resend)"
			return res, rc.release(ctx, r, &a, res, dryRun)
		}
	} else {
		res.Evidence = fmt.Sprintf("no provider record can be asked for on %s; held for a person (policy %s)", a.Channel, policy)
	}
	res.Outcome = OutcomeHeld
	if dryRun {
		return res, nil
	}
	held, err := rc.recorded(ctx, a, OutcomeHeld)
	if err != nil {
		return res, err
	}
	now := rc.cfg.Clock.Now()
	if !held {
		if err := rc.event(ctx, r, res, now); err != nil {
			return res, err
		}
	}
	// Looked at last next time, so held reminders never starve the others.
	_, err = rc.cfg.Store.MoveReminder(ctx, r.ID, nudge.ReminderUnknown, nudge.ReminderUnknown, nudge.ReasonUnknownOutcome, time.Time{}, now)
	return res, err
}

// attempt returns the reminder's attempt that decides its outcome: one that
// carries a provider id or is unknown, else the first that exists.
func (rc *Reconciler) attempt(ctx context.Context, r nudge.Reminder) (nudge.Attempt, bool, error) {
	var first *nudge.Attempt
	for _, ch := range candidateChannels(r) {
		a, err := rc.cfg.Store.GetAttempt(ctx, AttemptID(r.ID, ch))
		if errors.Is(err, nudge.ErrNotFound) {
			continue
		}
		if err != nil {
			return nudge.Attempt{}, false, fmt.Errorf("load attempt: %w", err)
		}
		if a.ProviderID != "" || a.Status == nudge.AttemptUnknown || a.Status == nudge.AttemptSending {
			return a, true, nil
		}
		if first == nil {
			first = &a
		}
	}
	if first == nil {
		return nudge.Attempt{}, false, nil
	}
	return *first, true, nil
}

// knownIDs are the provider ids of the account's other attempts since the
// day before the send: a provider record that is theirs is never a match.
func (rc *Reconciler) knownIDs(ctx context.Context, a nudge.Attempt, sentAt time.Time) ([]string, error) {
	hist, err := rc.cfg.Store.AttemptHistory(ctx, a.Lender, a.AccountID, sentAt.Add(-24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("load the account's attempts: %w", err)
	}
	var ids []string
	for _, h := range hist {
		if h.ID != a.ID && h.ProviderID != "" {
			ids = append(ids, h.ProviderID)
		}
	}
	return ids, nil
}

// settle moves the reminder from unknown to status and records res.
func (rc *Reconciler) settle(ctx context.Context, r nudge.Reminder, status nudge.ReminderStatus, reason nudge.Reason, res Resolution, dryRun bool) error {
	if dryRun {
		return nil
	}
	now := rc.cfg.Clock.Now()
	moved, err := rc.cfg.Store.MoveReminder(ctx, r.ID, nudge.ReminderUnknown, status, reason, time.Time{}, now)
	if err != nil || !moved {
		return err
	}
	return rc.event(ctx, r, res, now)
}

// release hands attempt a (if any) back for one more send, reopens the
// reminder and puts it on its queue: the whole send-time re-check runs again.
// Should the enqueue fail, the scheduler's catch-up finds the reminder queued.
func (rc *Reconciler) release(ctx context.Context, r nudge.Reminder, a *nudge.Attempt, res Resolution, dryRun bool) error {
	if dryRun {
		return nil
	}
	now := rc.cfg.Clock.Now()
	if a != nil {
		changed, err := rc.cfg.Store.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{
			From: a.Status, Status: nudge.AttemptRetrying, Reason: nudge.ReasonReconciled, At: now,
		})
		if err != nil {
			return fmt.Errorf("release attempt %s: %w", a.ID, err)
		}
		if !changed {
			return nil // another scheduler or a callback moved it first
		}
	}
	moved, err := rc.cfg.Store.MoveReminder(ctx, r.ID, nudge.ReminderUnknown, nudge.ReminderQueued, nudge.ReasonReconciled, now, now)
	if err != nil || !moved {
		return err
	}
	if err := rc.event(ctx, r, res, now); err != nil {
		return err
	}
	if err := rc.cfg.Queue.Enqueue(ctx, r, now); err != nil {
		return fmt.Errorf("requeue reminder %s (the catch-up will): %w", r.ID, err)
	}
	return nil
}

// recorded reports whether a reconcile event with outcome exists for a.
func (rc *Reconciler) recorded(ctx context.Context, a nudge.Attempt, outcome string) (bool, error) {
	evs, err := rc.cfg.Store.Events(ctx, a.Lender, a.AccountID)
	if err != nil {
		return false, fmt.Errorf("load timeline: %w", err)
	}
	for _, e := range evs {
		if e.Kind == nudge.EventReconcile && e.AttemptID == a.ID && e.Action == outcome {
			return true, nil
		}
	}
	return false, nil
}

// event appends the resolution to the account's timeline.
func (rc *Reconciler) event(ctx context.Context, r nudge.Reminder, res Resolution, now time.Time) error {
	detail, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return rc.cfg.Store.AppendEvent(ctx, nudge.Event{Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID,
		AttemptID: res.AttemptID, Kind: nudge.EventReconcile, Action: res.Outcome, Reason: nudge.ReasonReconciled,
		Detail: detail, At: now})
}
