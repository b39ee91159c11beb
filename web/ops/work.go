package ops

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// repliesData is the queue of replies needing a person, or (All) every
// reply of the range.
type repliesData struct {
	listPage
	All  bool
	Rows []replyRow
	// CanAct is true for keys that may assign and resolve.
	CanAct bool
	// Me is the acting key as the queue names assignees.
	Me   string
	Done string
}

// replyRow is a reply and its parse in words.
type replyRow struct {
	store.ReplyRow
	// Intent is what the reply means, in English words (a catalogue key).
	Intent string
	// Keypad is the key a borrower pressed on a call ("" otherwise); Spoken
	// is true for a call answer that was said, not pressed.
	Keypad string
	Spoken bool
}

// intentWords says what each intent means, for the pages, in English
// words that the templates translate ({{$.T .Intent}}).
var intentWords = map[nudge.Intent]string{
	nudge.IntentOptOut:             msg("Asked to stop (opt-out)"),
	nudge.IntentOptIn:              msg("Asked to receive messages again (opt-in)"),
	nudge.IntentHelp:               msg("Asked for help"),
	nudge.IntentPromise:            msg("Promised to pay"),
	nudge.IntentPaid:               msg("Says they have already paid"),
	nudge.IntentWrongNumber:        msg("Says this is the wrong number"),
	nudge.IntentTalkToPerson:       msg("Asked to talk to a person"),
	nudge.IntentUnknown:            msg("Not understood: read it and decide"),
	nudge.IntentLegalThreat:        msg("Threatens legal action or names a lawyer"),
	nudge.IntentComplaint:          msg("Complains of harassment or says they will report the lender"),
	nudge.IntentCeaseCommunication: msg("Asks that all communication stop"),
}

// intentText returns the words of intent, or the intent itself when it has none.
func intentText(in nudge.Intent) string {
	if s, ok := intentWords[in]; ok {
		return s
	}
	return string(in)
}

// replyWords reads a reply for a person: its intent in words and, for a
// call, the key pressed (the intent is what that key meant at that step of
// the call) or that it was said.
func replyWords(r store.ReplyRow) replyRow {
	row := replyRow{ReplyRow: r, Intent: intentText(r.Intent)}
	if r.Channel == nudge.Voice && r.Body != "" {
		if strings.IndexFunc(r.Body, func(c rune) bool { return !unicode.IsDigit(c) && c != '*' && c != '#' }) < 0 {
			row.Keypad = r.Body
		} else {
			row.Spoken = true
		}
	}
	return row
}

// replies is the work queue of the lender's replies needing a person
// (received in the range, not resolved, newest first), or with view=all
// every reply of the range; each with its parse in words.
func (o *Ops) replies(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	q := r.URL.Query()
	d := repliesData{All: q.Get("view") == "all", CanAct: canAct(p.Key), Me: actor(p.Key), Done: q.Get("done")}
	v.Title, v.Nav, v.Filter = v.T("Replies needing a person"), "replies", f
	if d.All {
		v.Title = v.T("Replies")
	}
	n, err := pageParam(q)
	if err != nil {
		return "", err
	}
	rq := store.ReplyQuery{Lender: p.Lender, Since: f.Since, Until: f.Until, Open: !d.All,
		Intent: nudge.Intent(strings.TrimSpace(q.Get("intent"))), Offset: (n - 1) * OpsListPageSize, Limit: OpsListPageSize + 1}
	if rq.Channel, err = channelParam(q); err != nil {
		return "", err
	}
	rows, err := o.cfg.Store.PageReplies(r.Context(), rq)
	if err != nil {
		return "", err
	}
	rows, more := pageOf(rows)
	d.listPage = offsetPage(q, n, more)
	d.Channel, d.Channels = string(rq.Channel), nudge.Channels
	for _, row := range rows {
		d.Rows = append(d.Rows, replyWords(row))
	}
	v.Data = d
	return "replies", nil
}

// replyAction assigns a reply needing a person to the acting key, or
// resolves it with a note; both are written to the audit log.
func (o *Ops) replyAction(w http.ResponseWriter, r *http.Request, p *opsPrincipal, _ *opsView) (string, error) {
	if !canAct(p.Key) {
		return "", opsErrorf(http.StatusForbidden, "the %s role may read the replies but not work them", p.Key.Role)
	}
	id, who := r.PathValue("id"), actor(p.Key)
	var err error
	switch r.PathValue("action") {
	case "assign":
		err = o.cfg.Store.AssignReply(r.Context(), p.Lender, id, who, who, o.now())
	case "resolve":
		note := strings.TrimSpace(r.PostFormValue("note"))
		if note == "" {
			return "", opsErrorf(http.StatusBadRequest, "note: say what was done before resolving the reply")
		}
		if len([]rune(note)) > store.MaxResolutionNote {
			return "", opsErrorf(http.StatusBadRequest, "note: longer than %d characters", store.MaxResolutionNote)
		}
		err = o.cfg.Store.ResolveReply(r.Context(), p.Lender, id, who, note, o.now())
	default:
		return "", opsErrorf(http.StatusNotFound, "no action %q", r.PathValue("action"))
	}
	switch {
	case errors.Is(err, nudge.ErrNotFound):
		return "", opsErrorf(http.StatusNotFound, "no such reply for this lender")
	case errors.Is(err, nudge.ErrConflict):
		return "", opsErrorf(http.StatusConflict, "this reply is no longer waiting for a person: someone resolved it")
	case err != nil:
		return "", err
	}
	back := url.Values{"done": {r.PathValue("action")}}
	for _, k := range []string{"range", "from", "to"} {
		if s := r.PostFormValue(k); s != "" {
			back.Set(k, s)
		}
	}
	http.Redirect(w, r, web.OpsPath+"/replies?"+back.Encode(), http.StatusSeeOther)
	return "", nil
}
