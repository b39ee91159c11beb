package dispatcher

import (
	"context"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge"
)

// render builds the message for the claimed attempt. A template or data
// error (nudge.ErrUnrenderable) fails the attempt and the reminder for good:
// rendering it again would fail again. Any other error (the database, a
// deadline) can pass: the task is retried and the attempt stays claimed.
func (p *Pipeline) render(ctx context.Context, j *job) (bool, error) {
	in := RenderInput{Reminder: j.reminder, Account: j.account, Attempt: j.attempt, Decision: j.decision, History: j.history,
		Contacted: j.contacted}
	in.Attempt.Channel, in.Attempt.Address = j.channel, j.address
	m, err := p.cfg.Renderer.Render(ctx, in)
	if err == nil && m == nil {
		err = errNoMessage
	}
	if err != nil && !errors.Is(err, nudge.ErrUnrenderable) && !errors.Is(err, errNoMessage) {
		return false, fmt.Errorf("render: %w", err)
	}
	if err != nil {
		if uerr := p.updateAttempt(ctx, j, j.attempt.ID, nudge.AttemptUpdate{
			From: nudge.AttemptClaimed, Status: nudge.AttemptFailed, Reason: nudge.ReasonRenderFailed,
		}, attemptDetail{Error: err.Error()}); uerr != nil {
			return false, uerr
		}
		j.log.Error("render failed", "template", j.reminder.Template, "err", err)
		return true, p.finish(ctx, j, nudge.ReminderFailed, nudge.ReasonRenderFailed)
	}
	m.AttemptID = j.attempt.ID
	m.ReminderID = j.reminder.ID
	m.Lender = j.reminder.Key.Lender
	m.AccountID = j.reminder.Key.AccountID
	m.Channel = j.channel
	// The message goes to the address compliance approved, whatever the template says.
	m.To = j.address
	j.message = m
	return false, nil
}

// errNoMessage is a renderer's nil message without an error: a bug that
// rendering again would repeat.
var errNoMessage = errors.New("renderer returned no message")
