package dispatcher

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// DefaultPauseRecheck is how long a reminder stopped by a pause waits before
// the last gate looks again.
const DefaultPauseRecheck = 5 * time.Minute

// RulePause names decisions made because the lender paused a lender, a
// cadence or a channel.
const RulePause = "lender pause"

// gate is the last gate. After the claim, the rendering and the wait for a
// send token, with the clock read at this instant, it re-checks the
// account's holds and status, the opt-out, the lender's pauses and the window
// in every candidate zone; only then does it mark the attempt sending, with
// the text about to go out, and hand over to the send stage, which calls the
// provider at once: nothing between the mark and the call may wait. A
// refusal hands the claim back (retrying) and defers or suppresses the
// reminder as the earlier decision would have.
func (p *Pipeline) gate(ctx context.Context, j *job) (bool, error) {
	r := j.reminder
	// The account, the address's opt-out and the lender's pauses: one round
	// trip.
	snap, err := p.cfg.Store.AccountSnapshot(ctx, r.Key.Lender, r.Key.AccountID, nudge.AccountSnapshotQuery{
		Pauses: true, OptOuts: []nudge.ContactRef{{Channel: j.channel, Address: j.address}}})
	if err != nil {
		// A vanished account is handled by the next run's account stage.
		return false, fmt.Errorf("last gate: reload account: %w", err)
	}
	j.account = snap.Account
	opted := snap.IsOptedOut(j.channel, j.address)
	pause, paused := pauseOf(snap.Pauses, r, j.channel)
	now := p.cfg.Clock.Now()
	var d compliance.Decision
	if paused {
		d = compliance.Decision{Action: compliance.Defer, Until: now.Add(p.cfg.PauseRecheck), Reason: nudge.ReasonPaused,
			Rule:        RulePause,
			Explanation: fmt.Sprintf("The lender's %s pause %q stops this reminder: %s", pause.Scope, pause.Target, pause.Reason),
			Zones:       j.decision.Zones, Profile: j.decision.Profile}
	} else {
		d = p.cfg.Decide(p.input(j, j.profile, now, opted))
	}
	if d.Action != compliance.Send {
		changed, err := p.cfg.Store.UpdateAttempt(ctx, j.attempt.ID, nudge.AttemptUpdate{
			From: nudge.AttemptClaimed, Status: nudge.AttemptRetrying, Reason: d.Reason, At: now,
		})
		if err != nil {
			return false, fmt.Errorf("last gate: hand back attempt %s: %w", j.attempt.ID, err)
		}
		if !changed {
			return true, p.lostRace(ctx, j)
		}
		prior := j.attempt
		prior.Status = nudge.AttemptRetrying
		j.prior = &prior
		return p.apply(ctx, j, d, now)
	}
	m := j.message
	if !d.WindowEnd.IsZero() {
		m.ValidFor = d.WindowEnd.Sub(now)
	}
	// Committed before the send, with other handlers' outcomes when they
	// arrive together: the provider is never called for an attempt that is
	// not durably sending. The same write records what is said (the text or
	// script, and the template version that rendered it).
	res := p.outcomes.Do(ctx, nudge.Outcome{AttemptID: j.attempt.ID, Attempt: nudge.AttemptUpdate{
		From: nudge.AttemptClaimed, Status: nudge.AttemptSending, SendingAt: now, Body: sentText(m), Template: m.Template, Menu: m.Menu, At: now,
	}})
	if res.Err != nil {
		return false, fmt.Errorf("last gate: mark attempt %s sending: %w", j.attempt.ID, res.Err)
	}
	if !res.AttemptChanged {
		return true, p.lostRace(ctx, j)
	}
	j.attempt.Status, j.attempt.SendingAt = nudge.AttemptSending, now
	return false, nil
}

// lostRace handles a claimed attempt that another run moved first: a run
// still sending it is left to finish (the task looks again later), anything
// else settles the reminder.
func (p *Pipeline) lostRace(ctx context.Context, j *job) error {
	cur, err := p.cfg.Store.GetAttempt(ctx, j.attempt.ID)
	if err != nil {
		return fmt.Errorf("reload attempt %s: %w", j.attempt.ID, err)
	}
	if cur.Status == nudge.AttemptSending || cur.Status.Resumable() {
		return &DelayError{Kind: ErrBusy, Delay: busyRecheck}
	}
	return p.settle(ctx, j, cur)
}

// busyRecheck is how long a run that found another run sending the same
// attempt waits before it looks again.
const busyRecheck = 30 * time.Second

// pauseOf returns the pause among the lender's pauses that stops r on
// channel, if any.
func pauseOf(pauses []nudge.Pause, r nudge.Reminder, channel nudge.ChannelKind) (nudge.Pause, bool) {
	for _, ps := range pauses {
		if ps.Covers(r.Key.Cadence, channel) {
			return ps, true
		}
	}
	return nudge.Pause{}, false
}

// sentText is what an attempt records as sent: the SMS text or call script,
// or an email's subject and text part.
func sentText(m *nudge.Message) string {
	if m.Channel == nudge.Email && m.Subject != "" {
		return m.Subject + "\n\n" + m.Text
	}
	return m.Text
}
