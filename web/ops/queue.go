package ops

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// OpsQueueListLimit is how many reminders each list of the queue view shows.
const OpsQueueListLimit = 50

// queueData is the lender's queue view.
type queueData struct {
	Channels []nudge.ChannelKind
	Counts   []queueCountRow
	Pauses   []nudge.Pause
	Lists    []queueList
	// CanAct is true for keys that may retry, cancel, pause and resume.
	CanAct bool
	Done   string
}

// queueCountRow is one status with its count on each channel.
type queueCountRow struct {
	Status nudge.ReminderStatus
	N      []int
	Total  int
}

// queueList is one list of the view: reminders in some statuses.
type queueList struct {
	ID, Title string
	Rows      []queueRow
	// More is true when there were more than OpsQueueListLimit.
	More bool
	// Action is the action its rows offer: "retry", "cancel" or "".
	Action string
}

// queueRow is one reminder with what Asynq says of its task.
type queueRow struct {
	nudge.Reminder
	// Task is the Asynq state of its task (scheduled, retry, archived, …),
	// or "" when the queue holds none; TaskNext and TaskError say when it
	// runs next and what its last run failed with.
	Task      string
	TaskNext  time.Time
	TaskError string
}

// queueLists are the lists the view shows, in order.
var queueLists = []struct {
	id, title, action string
	statuses          []nudge.ReminderStatus
}{
	{"failed", msg("Failed"), "retry", []nudge.ReminderStatus{nudge.ReminderFailed}},
	{"unknown", msg("Unknown (the provider's answer was lost; being reconciled)"), "", []nudge.ReminderStatus{nudge.ReminderUnknown}},
	{"deferred", msg("Deferred (waiting for an allowed time, a pause or a retry)"), "cancel", []nudge.ReminderStatus{nudge.ReminderDeferred}},
	{"queued", msg("Queued and scheduled"), "cancel", []nudge.ReminderStatus{nudge.ReminderQueued, nudge.ReminderPlanned}},
}

// queueView shows the lender's own queue: counts by status and channel,
// its pauses, and the failed, unknown, deferred and queued reminders with
// their reasons and the state of their Asynq tasks.
func (o *Ops) queueView(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	ctx := r.Context()
	v.Title, v.Nav = v.T("Queue"), "queue"
	o.live(v)
	d := queueData{Channels: nudge.Channels, CanAct: o.cfg.Control != nil && canAct(p.Key), Done: r.URL.Query().Get("done")}
	counts, err := o.cfg.Store.QueueCounts(ctx, p.Lender)
	if err != nil {
		return "", err
	}
	d.Counts = countRows(counts)
	if d.Pauses, err = o.cfg.Store.ListPauses(ctx, p.Lender); err != nil {
		return "", err
	}
	for _, l := range queueLists {
		ql := queueList{ID: l.id, Title: v.T(l.title), Action: l.action}
		for _, st := range l.statuses {
			rs, err := o.cfg.Store.PageReminders(ctx, store.ReminderQuery{Lender: p.Lender, Status: st, Limit: OpsQueueListLimit + 1})
			if err != nil {
				return "", err
			}
			for _, rem := range rs {
				if len(ql.Rows) == OpsQueueListLimit {
					ql.More = true
					break
				}
				ql.Rows = append(ql.Rows, o.taskRow(rem))
			}
		}
		d.Lists = append(d.Lists, ql)
	}
	v.Data = d
	return "queue", nil
}

// taskRow pairs a reminder with its Asynq task, when the queue has one.
func (o *Ops) taskRow(r nudge.Reminder) queueRow {
	row := queueRow{Reminder: r}
	if o.cfg.Queues == nil {
		return row
	}
	// The task is on the lender's queue, or, enqueued before per-lender
	// queues, on the channel's shared one.
	own, err := dispatcher.QueueFor(r.Channel, r.Key.Lender)
	if err != nil {
		return row
	}
	legacy, err := dispatcher.ChannelQueue(r.Channel)
	if err != nil {
		return row
	}
	var info *asynq.TaskInfo
	for _, queue := range []string{own, legacy} {
		info, err = o.cfg.Queues.GetTaskInfo(queue, r.ID)
		if err == nil {
			break
		}
		if !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			o.cfg.Logger.Warn("ops task info", "queue", queue, "err", err)
		}
	}
	if err != nil {
		return row
	}
	row.Task, row.TaskNext, row.TaskError = info.State.String(), info.NextProcessAt, info.LastErr
	return row
}

// countRows turns the store's counts into one row per status, one column
// per channel.
func countRows(counts []store.QueueCount) []queueCountRow {
	var rows []queueCountRow
	index := map[nudge.ReminderStatus]int{}
	for _, c := range counts {
		i, ok := index[c.Status]
		if !ok {
			i = len(rows)
			index[c.Status] = i
			rows = append(rows, queueCountRow{Status: c.Status, N: make([]int, len(nudge.Channels))})
		}
		for j, ch := range nudge.Channels {
			if ch == c.Channel {
				rows[i].N[j] += c.N
			}
		}
		rows[i].Total += c.N
	}
	return rows
}

// canAct reports whether key may change a queue: a lender's operator or
// admin, or a platform admin.
func canAct(key nudge.APIKey) bool {
	if key.Platform() {
		return key.Role == nudge.RoleAdmin
	}
	return key.Role == nudge.RoleAdmin || key.Role == nudge.RoleOperator
}

// actor names a key in the audit log.
func actor(key nudge.APIKey) string {
	if key.Platform() {
		return "platform:" + key.ID
	}
	return key.ID
}

// reminderAction retries or cancels one of the lender's reminders.
func (o *Ops) reminderAction(w http.ResponseWriter, r *http.Request, p *opsPrincipal, _ *opsView) (string, error) {
	if err := o.checkAct(p); err != nil {
		return "", err
	}
	id, why := r.PathValue("id"), strings.TrimSpace(r.PostFormValue("reason"))
	var err error
	switch r.PathValue("action") {
	case "retry":
		_, err = o.cfg.Control.Retry(r.Context(), p.Lender, id, actor(p.Key), why)
	case "cancel":
		_, err = o.cfg.Control.Cancel(r.Context(), p.Lender, id, actor(p.Key), why)
	default:
		return "", opsErrorf(http.StatusNotFound, "no action %q", r.PathValue("action"))
	}
	if err := actionError(err); err != nil {
		return "", err
	}
	http.Redirect(w, r, web.OpsPath+"/queue?done="+url.QueryEscape(r.PathValue("action")+" "+id), http.StatusSeeOther)
	return "", nil
}

// pauseAction pauses or resumes the lender, a cadence or a channel.
func (o *Ops) pauseAction(w http.ResponseWriter, r *http.Request, p *opsPrincipal, _ *opsView) (string, error) {
	if err := o.checkAct(p); err != nil {
		return "", err
	}
	scope, target := nudge.PauseScope(r.PostFormValue("scope")), strings.TrimSpace(r.PostFormValue("target"))
	if scope == nudge.PauseLender {
		target = ""
	}
	why := strings.TrimSpace(r.PostFormValue("reason"))
	var err error
	switch r.PathValue("action") {
	case "pause":
		_, err = o.cfg.Control.Pause(r.Context(), nudge.Pause{Lender: p.Lender, Scope: scope, Target: target, Reason: why, Actor: actor(p.Key)})
	case "resume":
		_, err = o.cfg.Control.Resume(r.Context(), p.Lender, scope, target, actor(p.Key), why)
	default:
		return "", opsErrorf(http.StatusNotFound, "no action %q", r.PathValue("action"))
	}
	if err := actionError(err); err != nil {
		return "", err
	}
	http.Redirect(w, r, web.OpsPath+"/queue?done="+url.QueryEscape(r.PathValue("action")+" "+string(scope)+" "+target), http.StatusSeeOther)
	return "", nil
}

func (o *Ops) checkAct(p *opsPrincipal) error {
	if o.cfg.Control == nil {
		return opsErrorf(http.StatusNotFound, "queue actions are not available here")
	}
	if !canAct(p.Key) {
		return opsErrorf(http.StatusForbidden, "the %s role may look at the queue but not change it", p.Key.Role)
	}
	return nil
}

// actionError turns a queue action's error into what the page shows.
func actionError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nudge.ErrNotFound):
		return opsErrorf(http.StatusNotFound, "no such reminder for this lender")
	case errors.Is(err, nudge.ErrConflict):
		return opsErrorf(http.StatusConflict, "the reminder cannot change now: %v", err)
	case errors.Is(err, dispatcher.ErrReasonRequired), errors.Is(err, dispatcher.ErrBadPause):
		return opsErrorf(http.StatusBadRequest, "the action was refused: %v", err)
	}
	return err
}
