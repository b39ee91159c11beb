package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge"
)

// MaxReplay is the most reminders one Replay takes.
const MaxReplay = 500

// ActionReplay is the audit action of a dead-letter replay (the store
// writes it with the replay).
const ActionReplay = "dead_letter.replay"

// ErrBadReplay is returned for a replay without ids or with too many.
var ErrBadReplay = errors.New("invalid replay")

// ReplayOutcome is what a replay did with one reminder.
type ReplayOutcome string

// The outcomes of a replay.
const (
	// Replayed: the reminder is queued again and goes through the whole
	// send-time re-check.
	Replayed ReplayOutcome = "replayed"
	// ReplayNotFailed: the reminder is not failed (any more); nothing changed.
	ReplayNotFailed ReplayOutcome = "not_failed"
	// ReplayReachedProvider: an attempt may have reached the provider, so a
	// replay could send twice; nothing changed.
	ReplayReachedProvider ReplayOutcome = "reached_provider"
	// ReplayNotFound: the lender has no such reminder.
	ReplayNotFound ReplayOutcome = "not_found"
)

// ReplayResult is the outcome of one reminder of a replay.
type ReplayResult struct {
	ID      string
	Outcome ReplayOutcome
	// Reminder is the reminder as it is now when it was replayed.
	Reminder nudge.Reminder
	// Note says why nothing changed, or that the reminder was replayed but
	// not enqueued at once (the scheduler's catch-up enqueues it).
	Note string
}

// Replay sends lender's failed reminders ids (dead letters) back through
// the whole pipeline after a fix: each is queued again with its refused
// attempts set aside, recorded on the timeline and in the audit log with
// actor and why, and enqueued (task id = reminder id). A reminder that is
// not failed, whose attempt may have reached the provider, or that is not
// the lender's is left alone and reported so. At most MaxReplay ids, each
// once; the error is for a bad request or a store failure, with the
// results of the ids done before it.
func (c *Control) Replay(ctx context.Context, lender string, ids []string, actor, why string) ([]ReplayResult, error) {
	if strings.TrimSpace(why) == "" {
		return nil, ErrReasonRequired
	}
	seen := make(map[string]bool, len(ids))
	var todo []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		todo = append(todo, id)
	}
	switch {
	case len(todo) == 0:
		return nil, fmt.Errorf("%w: name at least one reminder id", ErrBadReplay)
	case len(todo) > MaxReplay:
		return nil, fmt.Errorf("%w: %d reminder ids, at most %d at once", ErrBadReplay, len(todo), MaxReplay)
	}
	out := make([]ReplayResult, 0, len(todo))
	for _, id := range todo {
		res := ReplayResult{ID: id}
		r, err := c.Store.ReplayReminder(ctx, lender, id, actor, why, c.Clock.Now())
		switch {
		case err == nil:
			res.Outcome, res.Reminder = Replayed, r
			if err := c.Queue.Enqueue(ctx, r, r.NextAt); err != nil {
				res.Note = fmt.Sprintf("replayed; not enqueued now (the scheduler's catch-up will): %v", err)
			}
		case errors.Is(err, nudge.ErrNotFound):
			res.Outcome, res.Note = ReplayNotFound, "no such reminder for this lender"
		case errors.Is(err, nudge.ErrReachedProvider):
			res.Outcome, res.Note = ReplayReachedProvider, "an attempt may have reached the provider: replaying could send twice"
		case errors.Is(err, nudge.ErrNotFailed):
			res.Outcome, res.Note = ReplayNotFailed, "the reminder is not failed"
		default:
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}
