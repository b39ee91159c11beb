package ops

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
)

// OpsListPageSize is how many rows a list page shows.
const OpsListPageSize = 50

// opsAttemptStatuses are the statuses the attempts list offers, in order.
var opsAttemptStatuses = []nudge.AttemptStatus{
	nudge.AttemptFailed, nudge.AttemptUndelivered, nudge.AttemptUnknown, nudge.AttemptSent, nudge.AttemptDelivered,
	nudge.AttemptRinging, nudge.AttemptAnswered, nudge.AttemptCompleted, nudge.AttemptBusy, nudge.AttemptNoAnswer,
	nudge.AttemptCanceled, nudge.AttemptRetrying, nudge.AttemptClaimed, nudge.AttemptSending,
}

// Status lists the overview's headline numbers link to.
var (
	opsFailedStatuses    = []nudge.AttemptStatus{nudge.AttemptFailed, nudge.AttemptUndelivered}
	opsDeliveredStatuses = []nudge.AttemptStatus{nudge.AttemptDelivered, nudge.AttemptCompleted}
	opsSentStatuses      = func() []nudge.AttemptStatus {
		var out []nudge.AttemptStatus
		for _, s := range opsAttemptStatuses {
			if sentStatus(s) {
				out = append(out, s)
			}
		}
		return out
	}()
)

// statusParam is a list of statuses as a query value: comma-separated.
func statusParam(ss []nudge.AttemptStatus) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// listPage is what every list shows besides its rows: its filters and the
// links to the next and previous pages.
type listPage struct {
	// Channel is the channel filter ("" for all).
	Channel  string
	Channels []nudge.ChannelKind
	// Next and Prev link the neighbouring pages ("?" and a query), "" when none.
	Next, Prev template.URL
	// Page is the 1-based page number of offset lists.
	Page int
}

// channelParam reads the channel filter.
func channelParam(q url.Values) (nudge.ChannelKind, error) {
	c := strings.TrimSpace(q.Get("channel"))
	if c == "" {
		return "", nil
	}
	ch, err := nudge.ParseChannel(c)
	if err != nil {
		return "", opsErrorf(http.StatusBadRequest, "channel: %v", err)
	}
	return ch, nil
}

// pageParam reads the 1-based page number of an offset list.
func pageParam(q url.Values) (int, error) {
	s := q.Get("page")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || (n-1)*OpsListPageSize > store.MaxOpsOffset {
		return 0, opsErrorf(http.StatusBadRequest, "page: %q is not a page number from 1 to %d", s, store.MaxOpsOffset/OpsListPageSize+1)
	}
	return n, nil
}

// withParam returns a link to the same page with q's parameters and key set
// to value (removed when empty).
func withParam(q url.Values, key, value string) template.URL {
	c := url.Values{}
	for k, vs := range q {
		c[k] = slices.Clone(vs)
	}
	if value == "" {
		c.Del(key)
	} else {
		c.Set(key, value)
	}
	return template.URL("?" + c.Encode()) //nolint:gosec // a query of url.Values.Encode: escaped, and only ever a relative link
}

// offsetPage fills the neighbours of page n of an offset list whose page
// came back with more rows than it shows.
// pageOf cuts rows, read with a limit of OpsListPageSize+1, to one page and
// reports whether more follow.
func pageOf[T any](rows []T) ([]T, bool) {
	if len(rows) > OpsListPageSize {
		return rows[:OpsListPageSize], true
	}
	return rows, false
}

// keysetPage cuts rows to a page of a keyset list and links its next page,
// after the last row's key (its creation time and id) when more follow, and
// its first page from any other.
func keysetPage[T any](lp *listPage, q url.Values, first bool, rows []T, key func(T) (time.Time, string)) []T {
	rows, more := pageOf(rows)
	if more {
		created, id := key(rows[len(rows)-1])
		lp.Next = withParam(q, "after", fmt.Sprintf("%d~%s", created.UnixMicro(), id))
	}
	if !first {
		lp.Prev = withParam(q, "after", "") // back to the first page
	}
	return rows
}

func offsetPage(q url.Values, n int, more bool) listPage {
	lp := listPage{Page: n}
	if more {
		lp.Next = withParam(q, "page", strconv.Itoa(n+1))
	}
	if n > 1 {
		prev := ""
		if n > 2 {
			prev = strconv.Itoa(n - 1)
		}
		lp.Prev = withParam(q, "page", prev)
	}
	return lp
}

// attemptsData is the list of attempts.
type attemptsData struct {
	listPage
	Rows []nudge.Attempt
	// Status is the status filter as given (comma-separated), Statuses
	// the statuses offered, Code the error code filter.
	Status   string
	Statuses []nudge.AttemptStatus
	Code     string
	// First is true on the first page (no cursor).
	First bool
}

// cursorParam reads an attempts page cursor: the creation time in unix
// microseconds and the id, joined by "~".
func cursorParam(s string) (store.Cursor, error) {
	if s == "" {
		return store.Cursor{}, nil
	}
	at, id, ok := strings.Cut(s, "~")
	us, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return store.Cursor{}, opsErrorf(http.StatusBadRequest, "after: %q is not a page cursor", s)
	}
	return store.Cursor{At: time.UnixMicro(us).UTC(), ID: id}, nil
}

// attempts lists the lender's attempts in the range, newest first, by
// status (one or a comma-separated list), channel and error code, a page
// at a time (keyset paging).
func (o *Ops) attempts(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = v.T("Attempts"), "overview", f
	q := r.URL.Query()
	d := attemptsData{Status: q.Get("status"), Code: strings.TrimSpace(q.Get("code")), Statuses: opsAttemptStatuses}
	aq := store.AttemptQuery{Lender: p.Lender, Since: f.Since, Until: f.Until, ErrorCode: d.Code, Newest: true, Limit: OpsListPageSize + 1}
	for s := range strings.SplitSeq(d.Status, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		st := nudge.AttemptStatus(s)
		if st.Rank() < 0 {
			return "", opsErrorf(http.StatusBadRequest, "status: %q is not an attempt status", s)
		}
		aq.Statuses = append(aq.Statuses, st)
	}
	if aq.Channel, err = channelParam(q); err != nil {
		return "", err
	}
	if len(d.Code) > 40 {
		return "", opsErrorf(http.StatusBadRequest, "code: longer than 40 characters")
	}
	if aq.After, err = cursorParam(q.Get("after")); err != nil {
		return "", err
	}
	d.First = aq.After.IsZero()
	rows, err := o.cfg.Store.PageAttempts(r.Context(), aq)
	if err != nil {
		return "", err
	}
	d.Channel, d.Channels = string(aq.Channel), nudge.Channels
	d.Rows = keysetPage(&d.listPage, q, d.First, rows, func(r nudge.Attempt) (time.Time, string) { return r.CreatedAt, r.ID })
	v.Data = d
	return "attempts", nil
}

// decidedData is the list of deferred or suppressed reminders.
type decidedData struct {
	listPage
	Action string
	Reason string
	Rows   []store.DecidedReminder
}

// deferred lists the reminders deferred in the range (at planning or send
// time) with their reason and next time.
func (o *Ops) deferred(w http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	return o.decided(w, r, p, v, store.ActionDefer, msg("Deferred reminders"))
}

// suppressed lists the reminders suppressed in the range with their reason.
func (o *Ops) suppressed(w http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	return o.decided(w, r, p, v, store.ActionSuppress, msg("Suppressed reminders"))
}

// decided lists the reminders whose last decision in the range was action;
// title is the page's title in English (translated here).
func (o *Ops) decided(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView, action, title string) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = v.T(title), "overview", f
	q := r.URL.Query()
	n, err := pageParam(q)
	if err != nil {
		return "", err
	}
	dq := store.DecidedQuery{Lender: p.Lender, Action: action, Since: f.Since, Until: f.Until,
		Reason: nudge.Reason(strings.TrimSpace(q.Get("reason"))), Offset: (n - 1) * OpsListPageSize, Limit: OpsListPageSize + 1}
	if dq.Channel, err = channelParam(q); err != nil {
		return "", err
	}
	rows, err := o.cfg.Store.PageDecided(r.Context(), dq)
	if err != nil {
		return "", err
	}
	rows, more := pageOf(rows)
	d := decidedData{listPage: offsetPage(q, n, more), Action: action, Reason: string(dq.Reason), Rows: rows}
	d.Channel, d.Channels = string(dq.Channel), nudge.Channels
	v.Data = d
	return "decided", nil
}

// optOutsData is the list of opt-outs.
type optOutsData struct {
	listPage
	Source string
	Rows   []store.OptOutRow
}

// optOuts lists the opt-outs recorded in the range, newest first, each with
// the accounts it stops.
func (o *Ops) optOuts(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = v.T("Opt-outs"), "overview", f
	q := r.URL.Query()
	n, err := pageParam(q)
	if err != nil {
		return "", err
	}
	oq := store.OptOutQuery{Lender: p.Lender, Since: f.Since, Until: f.Until, Source: strings.TrimSpace(q.Get("source")),
		Offset: (n - 1) * OpsListPageSize, Limit: OpsListPageSize + 1}
	if oq.Channel, err = channelParam(q); err != nil {
		return "", err
	}
	rows, err := o.cfg.Store.PageOptOuts(r.Context(), oq)
	if err != nil {
		return "", err
	}
	rows, more := pageOf(rows)
	d := optOutsData{listPage: offsetPage(q, n, more), Source: oq.Source, Rows: rows}
	d.Channel, d.Channels = string(oq.Channel), nudge.Channels
	v.Data = d
	return "optouts", nil
}

// promisesData is the list of promises.
type promisesData struct {
	listPage
	Status   string
	Statuses []nudge.PromiseStatus
	Rows     []nudge.Promise
	First    bool
}

// promises lists the promises made in the range, newest first, by status.
func (o *Ops) promises(_ http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	f, err := o.filter(r, p, v)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Filter = v.T("Promises to pay"), "overview", f
	q := r.URL.Query()
	d := promisesData{Status: q.Get("status"),
		Statuses: []nudge.PromiseStatus{nudge.PromisePending, nudge.PromiseKept, nudge.PromiseBroken, nudge.PromiseCanceled}}
	pq := store.PromiseQuery{Lender: p.Lender, Status: nudge.PromiseStatus(d.Status), Since: f.Since, Until: f.Until,
		Newest: true, Limit: OpsListPageSize + 1}
	if d.Status != "" && !slices.Contains(d.Statuses, pq.Status) {
		return "", opsErrorf(http.StatusBadRequest, "status: %q is not a promise status", d.Status)
	}
	if pq.After, err = cursorParam(q.Get("after")); err != nil {
		return "", err
	}
	d.First = pq.After.IsZero()
	rows, err := o.cfg.Store.PagePromises(r.Context(), pq)
	if err != nil {
		return "", err
	}
	d.Rows = keysetPage(&d.listPage, q, d.First, rows, func(r nudge.Promise) (time.Time, string) { return r.CreatedAt, r.ID })
	v.Data = d
	return "promises", nil
}
