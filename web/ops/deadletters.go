package ops

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
)

// deadLettersData is the lender's dead letters: its failed reminders with
// their last attempt, and the outcomes of a replay just made.
type deadLettersData struct {
	listPage
	Rows []store.DeadLetter
	// First is true on the first page (no cursor).
	First bool
	// CanReplay is true for admin keys (a lender's or the platform's).
	CanReplay bool
	// Results are the outcomes of the replay the page answers, if any.
	Results []replayRow
	// Replayed counts the results that were replayed.
	Replayed int
}

// replayRow is one outcome of a replay, with its label in the page's
// language.
type replayRow struct {
	dispatcher.ReplayResult
	Label string
}

// replayLabels are the English labels of the replay outcomes.
var replayLabels = map[dispatcher.ReplayOutcome]string{
	dispatcher.Replayed:              msg("replayed: queued for every send-time check again"),
	dispatcher.ReplayNotFailed:       msg("not failed: nothing changed"),
	dispatcher.ReplayReachedProvider: msg("not replayed: an attempt may have reached the provider"),
	dispatcher.ReplayNotFound:        msg("not found for this lender"),
}

// canReplay reports whether key may replay dead letters: an admin, as on
// the lender API.
func canReplay(key nudge.APIKey) bool { return key.Role == nudge.RoleAdmin }

// deadLetters lists the lender's failed reminders, newest failure first,
// with their last attempt and a replay form for admins.
func (o *Ops) deadLetters(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	return o.deadLetterPage(r, p, v, nil)
}

// deadLetterPage fills the dead-letter page, with results when it answers
// a replay.
func (o *Ops) deadLetterPage(r *http.Request, p *opsPrincipal, v *opsView, results []dispatcher.ReplayResult) (string, error) {
	v.Title, v.Nav = v.T("Dead letters"), "dead-letters"
	q := r.URL.Query()
	d := deadLettersData{CanReplay: o.cfg.Control != nil && canReplay(p.Key)}
	for _, res := range results {
		if res.Outcome == dispatcher.Replayed {
			d.Replayed++
		}
		d.Results = append(d.Results, replayRow{ReplayResult: res, Label: v.T(replayLabels[res.Outcome])})
	}
	dq := store.DeadLetterQuery{Lender: p.Lender, Limit: OpsListPageSize + 1}
	var err error
	if dq.Channel, err = channelParam(q); err != nil {
		return "", err
	}
	if dq.After, err = cursorParam(q.Get("after")); err != nil {
		return "", err
	}
	d.First = dq.After.IsZero()
	rows, err := o.cfg.Store.PageDeadLetters(r.Context(), dq)
	if err != nil {
		return "", err
	}
	d.Channel, d.Channels = string(dq.Channel), nudge.Channels
	d.Rows = keysetPage(&d.listPage, q, d.First, rows, func(d store.DeadLetter) (time.Time, string) {
		return d.Reminder.UpdatedAt, d.Reminder.ID
	})
	v.Data = d
	return "deadletters", nil
}

// replayDeadLetters replays the dead letters ticked on the page (the form's
// id fields) with the reason given, and shows each one's outcome.
func (o *Ops) replayDeadLetters(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	if o.cfg.Control == nil {
		return "", opsErrorf(http.StatusNotFound, "queue actions are not available here")
	}
	if !canReplay(p.Key) {
		return "", opsErrorf(http.StatusForbidden, "the %s role may look at dead letters but not replay them", p.Key.Role)
	}
	if err := r.ParseForm(); err != nil {
		return "", opsErrorf(http.StatusBadRequest, "the form could not be read: %v", err)
	}
	results, err := o.cfg.Control.Replay(r.Context(), p.Lender, r.PostForm["id"], actor(p.Key), strings.TrimSpace(r.PostFormValue("reason")))
	switch {
	case errors.Is(err, dispatcher.ErrReasonRequired), errors.Is(err, dispatcher.ErrBadReplay):
		return "", opsErrorf(http.StatusBadRequest, "the replay was refused: %v", err)
	case err != nil:
		return "", err
	}
	return o.deadLetterPage(r, p, v, results)
}
