package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/web"
)

// actionRequest is the body of a reminder action: why it is taken.
type actionRequest struct {
	Reason string `json:"reason"`
}

// pauseRequest is the body of a pause or resume.
type pauseRequest struct {
	Scope  nudge.PauseScope `json:"scope"`
	Target string           `json:"target"`
	Reason string           `json:"reason"`
}

// pauseJSON is one pause.
type pauseJSON struct {
	Scope     nudge.PauseScope `json:"scope"`
	Target    string           `json:"target,omitempty"`
	Reason    string           `json:"reason"`
	By        string           `json:"by"`
	CreatedAt time.Time        `json:"created_at"`
}

// actionResult answers a reminder action or a pause.
type actionResult struct {
	Reminder *reminderJSON `json:"reminder,omitempty"`
	Pause    *pauseJSON    `json:"pause,omitempty"`
	// Changed is false when there was nothing to do (the same pause exists,
	// or there was none to lift).
	Changed bool `json:"changed"`
}

func (a *API) control() (*dispatcher.Control, error) {
	if a.Control == nil {
		return nil, errorf(http.StatusNotFound, "queue actions are not available here")
	}
	return a.Control, nil
}

func (a *API) retryReminder(c *call) error {
	return a.reminderAction(c, (*dispatcher.Control).Retry)
}

func (a *API) cancelReminder(c *call) error {
	return a.reminderAction(c, (*dispatcher.Control).Cancel)
}

type reminderActionFunc func(ctl *dispatcher.Control, ctx context.Context, lender, id, actor, why string) (nudge.Reminder, error)

func (a *API) reminderAction(c *call, act reminderActionFunc) error {
	ctl, err := a.control()
	if err != nil {
		return err
	}
	var req actionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	r, err := act(ctl, c.ctx, c.lender(), c.r.PathValue("id"), c.key.ID, strings.TrimSpace(req.Reason))
	if err != nil {
		return controlError(err)
	}
	rj := reminderView(r)
	web.WriteJSON(c.w, http.StatusOK, actionResult{Reminder: &rj, Changed: true})
	return nil
}

func (a *API) listPauses(c *call) error {
	ps, err := a.Store.ListPauses(c.ctx, c.lender())
	if err != nil {
		return err
	}
	out := make([]pauseJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, pauseJSON{Scope: p.Scope, Target: p.Target, Reason: p.Reason, By: p.Actor, CreatedAt: p.CreatedAt})
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"pauses": out})
	return nil
}

func (a *API) pause(c *call) error {
	ctl, err := a.control()
	if err != nil {
		return err
	}
	var req pauseRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p := nudge.Pause{Lender: c.lender(), Scope: req.Scope, Target: strings.TrimSpace(req.Target), Reason: strings.TrimSpace(req.Reason), Actor: c.key.ID}
	added, err := ctl.Pause(c.ctx, p)
	if err != nil {
		return controlError(err)
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	web.WriteJSON(c.w, status, actionResult{Pause: &pauseJSON{Scope: p.Scope, Target: p.Target, Reason: p.Reason, By: p.Actor}, Changed: added})
	return nil
}

func (a *API) resume(c *call) error {
	ctl, err := a.control()
	if err != nil {
		return err
	}
	var req pauseRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	cleared, err := ctl.Resume(c.ctx, c.lender(), req.Scope, strings.TrimSpace(req.Target), c.key.ID, strings.TrimSpace(req.Reason))
	if err != nil {
		return controlError(err)
	}
	web.WriteJSON(c.w, http.StatusOK, actionResult{Pause: &pauseJSON{Scope: req.Scope, Target: req.Target}, Changed: cleared})
	return nil
}

// controlError turns a queue action's error into the API's answer.
func controlError(err error) error {
	switch {
	case errors.Is(err, dispatcher.ErrReasonRequired):
		return &apiError{status: http.StatusBadRequest, msg: "invalid request", problems: []problemJSON{{Field: "reason", Message: err.Error()}}}
	case errors.Is(err, dispatcher.ErrBadPause):
		return &apiError{status: http.StatusBadRequest, msg: "invalid pause", problems: []problemJSON{{Field: "scope", Message: err.Error()}}}
	}
	return err
}
