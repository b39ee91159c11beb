package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// deadLetterJSON is one failed reminder with its last attempt.
type deadLetterJSON struct {
	Reminder reminderJSON `json:"reminder"`
	// LastAttempt is absent when the reminder failed before an attempt.
	LastAttempt *attemptJSON `json:"last_attempt,omitempty"`
	// Replayable is false when an attempt may have reached the provider.
	Replayable bool `json:"replayable"`
}

func deadLetterView(d store.DeadLetter) deadLetterJSON {
	out := deadLetterJSON{Reminder: reminderView(d.Reminder), Replayable: d.Replayable}
	if d.Attempt.ID != "" {
		a := attemptView(d.Attempt)
		out.LastAttempt = &a
	}
	return out
}

// replayRequest is the body of a dead-letter replay.
type replayRequest struct {
	IDs    []string `json:"ids"`
	Reason string   `json:"reason"`
}

// replayResultJSON is the outcome of one id of a replay.
type replayResultJSON struct {
	ID       string                   `json:"id"`
	Outcome  dispatcher.ReplayOutcome `json:"outcome"`
	Note     string                   `json:"note,omitempty"`
	Reminder *reminderJSON            `json:"reminder,omitempty"`
}

func (a *API) listDeadLetters(c *call) error {
	lq, err := a.readList(c)
	if err != nil {
		return err
	}
	if lq.account != "" {
		return badParam("account", "dead letters are not filtered by account")
	}
	ch, err := channelParam(c)
	if err != nil {
		return err
	}
	rows, err := a.Store.PageDeadLetters(c.ctx, store.DeadLetterQuery{Lender: c.lender(), Channel: ch, After: lq.after, Limit: lq.limit + 1})
	if err != nil {
		return err
	}
	writePage(c, rows, lq.limit, deadLetterView, store.DeadLetter.Cursor)
	return nil
}

func (a *API) replayDeadLetters(c *call) error {
	ctl, err := a.control()
	if err != nil {
		return err
	}
	var req replayRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	res, err := ctl.Replay(c.ctx, c.lender(), req.IDs, c.key.ID, strings.TrimSpace(req.Reason))
	if errors.Is(err, dispatcher.ErrBadReplay) {
		return &apiError{status: http.StatusBadRequest, msg: "invalid request", problems: []problemJSON{{Field: "ids", Message: err.Error()}}}
	}
	if err != nil {
		return controlError(err)
	}
	out := make([]replayResultJSON, len(res))
	for i, r := range res {
		out[i] = replayResultJSON{ID: r.ID, Outcome: r.Outcome, Note: r.Note}
		if r.Outcome == dispatcher.Replayed {
			rj := reminderView(r.Reminder)
			out[i].Reminder = &rj
		}
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"results": out})
	return nil
}
