package dispatcher

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// WorkItemCreator creates the work items of task steps; nudge.WorkItemStore
// is one.
type WorkItemCreator interface {
	// CreateWorkItem inserts w, ends its reminder sent and appends e in one
	// transaction; a second call for the same reminder reports false.
	CreateWorkItem(ctx context.Context, w nudge.WorkItem, e nudge.Event) (bool, error)
}

// InstructionsFunc returns the instructions of the task step a reminder
// was planned from (read from the cadence version it names).
type InstructionsFunc func(ctx context.Context, r nudge.Reminder) (string, error)

// ErrorCodeNoWorkItems is the error code of a task step's reminder failed
// because the pipeline has no work item store.
const ErrorCodeNoWorkItems = "no_work_items"

// taskChannels are the channels whose contact a work item of kind is about:
// the number a call list calls, else the borrower's phone (which a "wrong
// party" outcome marks).
func taskChannels(kind string) []nudge.ChannelKind {
	if kind == nudge.WorkCallList {
		return []nudge.ChannelKind{nudge.Voice}
	}
	return []nudge.ChannelKind{nudge.Voice, nudge.SMS}
}

// decideTask is the decide stage of a task step's reminder: the compliance
// check of a work item (compliance.DecideTask, which keeps a hold such as
// cease-communication from creating it) and the lender's and cadence's
// pauses. Allowed, it creates the work item instead of claiming, rendering
// and sending: the reminder ends sent with the item, in one transaction.
func (p *Pipeline) decideTask(ctx context.Context, j *job, now time.Time) (bool, error) {
	r := j.reminder
	kind := r.Template
	d := compliance.DecideTask(p.input(j, j.profile, now, j.optedOut), kind)
	if d.Action == compliance.Send && kind == nudge.WorkCallList && j.address == "" {
		d = compliance.Decision{Action: compliance.Suppress, Reason: nudge.ReasonNoContact, Rule: RuleDispatcher,
			Explanation: "The account has no voice contact for the call list.", Zones: d.Zones, Profile: d.Profile}
	}
	if pause, paused := pauseOf(j.pauses, r, nudge.Task); paused && d.Action == compliance.Send {
		d = compliance.Decision{Action: compliance.Defer, Until: now.Add(p.cfg.PauseRecheck), Reason: nudge.ReasonPaused,
			Rule:        RulePause,
			Explanation: fmt.Sprintf("The lender's %s pause %q stops this work item: %s", pause.Scope, pause.Target, pause.Reason),
			Zones:       d.Zones, Profile: d.Profile}
	}
	if stop, err := p.apply(ctx, j, d, now); stop || err != nil {
		return stop, err
	}
	return true, p.createWorkItem(ctx, j, kind)
}

// createWorkItem records the decision and creates the reminder's work item.
func (p *Pipeline) createWorkItem(ctx context.Context, j *job, kind string) error {
	r := j.reminder
	if err := p.recordDecided(ctx, j); err != nil {
		return err
	}
	if p.cfg.WorkItems == nil {
		why := "no work item store is configured for task steps"
		if err := p.record(ctx, p.event(j, nudge.EventAttempt, nudge.ReasonProviderFailed,
			attemptDetail{Status: nudge.AttemptFailed, Channel: nudge.Task, ErrorCode: ErrorCodeNoWorkItems, Note: why})); err != nil {
			return err
		}
		return p.finish(ctx, j, nudge.ReminderFailed, nudge.ReasonProviderFailed)
	}
	var instructions string
	if p.cfg.Instructions != nil {
		s, err := p.cfg.Instructions(ctx, r)
		if err != nil {
			return fmt.Errorf("instructions of step %s of cadence %s v%d: %w", r.Key.Step, r.Key.Cadence, r.CadenceVersion, err)
		}
		instructions = s
	}
	now := p.cfg.Clock.Now()
	w := nudge.WorkItem{Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID, Cadence: r.Key.Cadence,
		Step: r.Key.Step, Kind: kind, Instructions: instructions, CreatedAt: now}
	if j.address != "" {
		w.Channel, w.Address = j.channel, j.address
	}
	e := p.event(j, nudge.EventWorkItem, "", map[string]any{"kind": kind, "cadence": r.Key.Cadence, "step": r.Key.Step})
	e.Action = "created"
	created, err := p.cfg.WorkItems.CreateWorkItem(ctx, w, e)
	if err != nil {
		return fmt.Errorf("create work item: %w", err)
	}
	j.log.Info("work item created", "kind", kind, "created", created)
	return nil
}
