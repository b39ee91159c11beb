package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/experiment"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/web"
)

// experimentJSON is one experiment with its result so far; better is null
// until an arm is found better.
type experimentJSON struct {
	experiment.View
	Better *string `json:"better"`
}

// listExperiments answers GET /v1/experiments: every experiment of the
// lender's active cadences with each arm's counters, rates and 95% Wilson
// intervals, the z-tests of the primary metric and the better arm, as the
// console's /ops/experiments shows them.
func (a *API) listExperiments(c *call) error {
	out := []experimentJSON{}
	if a.Cadences != nil {
		views, err := experiment.Evaluate(c.ctx, a.Store, a.Cadences, c.lender(), a.now(), a.CureDays)
		if err != nil {
			return err
		}
		for _, v := range views {
			x := experimentJSON{View: v}
			if v.Better != "" {
				x.Better = &v.Better
			}
			out = append(out, x)
		}
	}
	web.WriteJSON(c.w, http.StatusOK, pageJSON[experimentJSON]{Data: out})
	return nil
}

// promoteRequest is the body of POST /v1/experiments/{cadence}/promote.
type promoteRequest struct {
	Arm string `json:"arm"`
}

// promoteArm answers POST /v1/experiments/{cadence}/promote: the arm named
// becomes the cadence, as a new active version without the experiment,
// stored, activated and audited (cadence.promote) in one transaction.
func (a *API) promoteArm(c *call) error {
	var req promoteRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Arm = strings.TrimSpace(req.Arm); req.Arm == "" {
		return &apiError{status: http.StatusBadRequest, msg: "invalid promotion",
			problems: []problemJSON{{Field: "arm", Message: "is required"}}}
	}
	w, ok := a.Store.(experiment.Writer)
	if !ok || a.Cadences == nil {
		return errorf(http.StatusNotFound, "promotion is not available on this server")
	}
	name := c.r.PathValue("cadence")
	v, err := experiment.Promote(c.ctx, w, a.Cadences, c.lender(), name, req.Arm, c.key.ID, a.now(), a.CadenceOptions...)
	switch {
	case errors.Is(err, nudge.ErrNotFound):
		return errorf(http.StatusNotFound, "the lender has no active cadence %q", name)
	case errors.Is(err, schedules.ErrNoExperiment):
		return errorf(http.StatusConflict, "cadence %s has no experiment to promote an arm of", name)
	case errors.Is(err, schedules.ErrUnknownArm):
		return &apiError{status: http.StatusUnprocessableEntity, msg: "invalid promotion",
			problems: []problemJSON{{Field: "arm", Message: err.Error()}}}
	case err != nil:
		return errorf(http.StatusUnprocessableEntity, "the promotion was refused: %v", err)
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"cadence": name, "arm": req.Arm, "version": v, "active": true})
	return nil
}
