package twiliosim

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Paging defaults of Twilio's list endpoints.
const (
	// DefaultPageSize is the page size when a list request names none.
	DefaultPageSize = 50
	// MaxPageSize is the largest PageSize accepted.
	MaxPageSize = 1000
)

// listPage is the paging envelope of Twilio's list answers.
type listPage struct {
	End             int     `json:"end"`
	FirstPageURI    string  `json:"first_page_uri"`
	NextPageURI     *string `json:"next_page_uri"`
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	PreviousPageURI *string `json:"previous_page_uri"`
	Start           int     `json:"start"`
	URI             string  `json:"uri"`
}

type messagePage struct {
	listPage
	Messages []messageJSON `json:"messages"`
}

type callPage struct {
	listPage
	Calls []callJSON `json:"calls"`
}

// paging is a list request's PageSize, Page and PageToken.
type paging struct {
	size, page int
	token      string
}

func parsePaging(q url.Values) (paging, error) {
	p := paging{size: DefaultPageSize, token: q.Get("PageToken")}
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, fmt.Errorf("invalid PageSize %q: it must be an integer between 1 and %d", v, MaxPageSize)
		}
		p.size = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, fmt.Errorf("invalid Page %q: it must be a non-negative integer", v)
		}
		p.page = n
	}
	if p.token != "" && !strings.HasPrefix(p.token, "PA") && !strings.HasPrefix(p.token, "PB") {
		return p, fmt.Errorf("invalid PageToken %q", p.token)
	}
	return p, nil
}

// paginate returns the page p of the items of all (newest first) that
// keep accepts, and whether a next page may follow. A PageToken "PA<sid>"
// starts after the resource sid, "PB<sid>" ends before it (the previous
// page); without a token the page starts at Page×PageSize. Tokens name a
// position in the whole list, so resources created meanwhile (at the
// front) do not shift the pages that follow.
func paginate[T any](all []T, sid func(T) string, keep func(T) bool, p paging) ([]T, bool, error) {
	if p.token == "" {
		kept := filter(all, keep)
		from := min(p.page*p.size, len(kept))
		to := min(from+p.size, len(kept))
		return kept[from:to], to < len(kept), nil
	}
	at := slices.IndexFunc(all, func(t T) bool { return sid(t) == p.token[2:] })
	if at < 0 {
		return nil, false, fmt.Errorf("invalid PageToken %q", p.token)
	}
	if strings.HasPrefix(p.token, "PA") {
		kept := filter(all[at+1:], keep)
		to := min(p.size, len(kept))
		return kept[:to], to < len(kept), nil
	}
	kept := filter(all[:at], keep)
	from := max(len(kept)-p.size, 0)
	return kept[from:], slices.ContainsFunc(all[at:], keep), nil
}

func filter[T any](all []T, keep func(T) bool) []T {
	var out []T
	for _, t := range all {
		if keep(t) {
			out = append(out, t)
		}
	}
	return out
}

// envelope builds the paging fields for a page of n items whose first and
// last resources are first and last. filters are the request's filter
// parameters in the order they are echoed.
func envelope(path string, filters [][2]string, p paging, n int, more bool, first, last string) listPage {
	uri := func(page int, token string) string {
		var b strings.Builder
		b.WriteString(path)
		sep := "?"
		add := func(k, v string) {
			b.WriteString(sep + url.QueryEscape(k) + "=" + url.QueryEscape(v))
			sep = "&"
		}
		for _, f := range filters {
			add(f[0], f[1])
		}
		add("PageSize", strconv.Itoa(p.size))
		add("Page", strconv.Itoa(page))
		if token != "" {
			add("PageToken", token)
		}
		return b.String()
	}
	lp := listPage{
		FirstPageURI: uri(0, ""),
		Page:         p.page,
		PageSize:     p.size,
		Start:        p.page * p.size,
		URI:          uri(p.page, p.token),
	}
	lp.End = lp.Start + max(n-1, 0)
	if more && n > 0 {
		next := uri(p.page+1, "PA"+last)
		lp.NextPageURI = &next
	}
	if p.page > 0 && n > 0 {
		prev := uri(p.page-1, "PB"+first)
		lp.PreviousPageURI = &prev
	}
	return lp
}

// timeFilter is one date filter of a list request: Twilio's Key, Key< and
// Key> (for example DateSent, DateSent< and DateSent>).
type timeFilter struct {
	op  byte // '=', '<' or '>'
	at  time.Time
	day bool // at is a date (YYYY-MM-DD, UTC) rather than an instant
}

// parseTimeFilters reads key, key< and key> from q. Each value is a UTC
// date YYYY-MM-DD, as Twilio documents, or an RFC 3339 date-time, which is
// what twilio-go sends (time.RFC3339). A '+' of a time zone offset sent
// unescaped arrives as a space and is taken back as '+'.
func parseTimeFilters(q url.Values, key string) ([]timeFilter, [][2]string, error) {
	var fs []timeFilter
	var echo [][2]string
	for _, op := range []string{"", "<", ">"} {
		raw := q.Get(key + op)
		if raw == "" {
			continue
		}
		v := strings.ReplaceAll(strings.TrimSpace(raw), " ", "+")
		f := timeFilter{op: '='}
		if op != "" {
			f.op = op[0]
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			f.at, f.day = t, true
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			f.at = t
		} else {
			return nil, nil, fmt.Errorf("invalid %s%s %q: it must be a date YYYY-MM-DD or an RFC 3339 date-time", key, op, raw)
		}
		fs = append(fs, f)
		echo = append(echo, [2]string{key + op, raw})
	}
	return fs, echo, nil
}

// match reports whether t passes every filter; a zero t (never sent,
// never started) passes none. Key (=) keeps the UTC day of the value;
// Key> keeps times on or after it (from the start of the day for a date);
// Key< keeps times before it, or on or before it when inclusive (Twilio's
// DateSent< includes the day given; StartTime< and EndTime< do not).
// Times compare at the second, the precision of the resources' RFC 2822
// timestamps.
func match(fs []timeFilter, t time.Time, inclusive bool) bool {
	if len(fs) == 0 {
		return true
	}
	if t.IsZero() {
		return false
	}
	t = t.UTC().Truncate(time.Second)
	for _, f := range fs {
		at := f.at.UTC()
		day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		switch {
		case f.op == '=' && (t.Before(day) || !t.Before(day.AddDate(0, 0, 1))):
			return false
		case f.op == '>' && f.day && t.Before(day), f.op == '>' && !f.day && t.Before(at):
			return false
		case f.op == '<' && f.day && inclusive && !t.Before(day.AddDate(0, 0, 1)),
			f.op == '<' && f.day && !inclusive && !t.Before(day),
			f.op == '<' && !f.day && inclusive && t.After(at),
			f.op == '<' && !f.day && !inclusive && !t.Before(at):
			return false
		}
	}
	return true
}

// textFilters reads the exact-match filters keys from q, in order.
func textFilters(q url.Values, keys ...string) (map[string]string, [][2]string) {
	got := map[string]string{}
	var echo [][2]string
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			// An unescaped '+' of an E.164 number arrives as a space.
			got[k] = strings.TrimSpace(strings.Replace(v, " ", "+", 1))
			echo = append(echo, [2]string{k, v})
		}
	}
	return got, echo
}

// newestFirst orders resources by creation time, newest first; resources
// created at the same time keep their reverse creation order.
func newestFirst[T any](order []string, get func(string) T, created func(T) time.Time) []T {
	out := make([]T, 0, len(order))
	for _, sid := range slices.Backward(order) {
		out = append(out, get(sid))
	}
	slices.SortStableFunc(out, func(a, b T) int { return cmp.Compare(created(b).UnixNano(), created(a).UnixNano()) })
	return out
}

// listMessages serves GET …/Messages.json: messages (outbound and inbound)
// filtered by To, From, DateSent, DateSent< and DateSent>, newest first.
func (s *Sim) listMessages(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authorize(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	text, echo := textFilters(q, "To", "From")
	dates, dateEcho, err := parseTimeFilters(q, "DateSent")
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	echo = append(echo, dateEcho...)
	p, err := parsePaging(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	keep := func(m *Message) bool {
		return m.AccountSID == acct && (text["To"] == "" || m.To == text["To"]) &&
			(text["From"] == "" || m.From == text["From"]) &&
			match(dates, m.DateSent, true)
	}
	s.mu.Lock()
	all := newestFirst(s.msgOrder, func(sid string) *Message { return s.messages[sid] }, func(m *Message) time.Time { return m.DateCreated })
	items, more, err := paginate(all, func(m *Message) string { return m.SID }, keep, p)
	page := messagePage{Messages: make([]messageJSON, 0, len(items))}
	for _, m := range items {
		page.Messages = append(page.Messages, m.json())
	}
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	first, last := "", ""
	if len(items) > 0 {
		first, last = items[0].SID, items[len(items)-1].SID
	}
	page.listPage = envelope(r.URL.Path, echo, p, len(items), more, first, last)
	writeJSON(w, http.StatusOK, page)
}

// callStatuses are the values of a call's status (Twilio's call_enum_status).
var callStatuses = []string{"queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}

// listCalls serves GET …/Calls.json: calls filtered by To, From,
// ParentCallSid, Status, StartTime (and < >), EndTime (and < >), newest
// first.
func (s *Sim) listCalls(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authorize(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	text, echo := textFilters(q, "To", "From", "ParentCallSid", "Status")
	if st := text["Status"]; st != "" && !slices.Contains(callStatuses, st) {
		writeError(w, http.StatusBadRequest, 20001, fmt.Sprintf("Status %q must be one of %s", st, strings.Join(callStatuses, ", ")))
		return
	}
	starts, startEcho, err := parseTimeFilters(q, "StartTime")
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	ends, endEcho, err := parseTimeFilters(q, "EndTime")
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	echo = append(append(echo, startEcho...), endEcho...)
	p, err := parsePaging(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	keep := func(c *Call) bool {
		return c.AccountSID == acct && (text["To"] == "" || c.To == text["To"]) &&
			(text["From"] == "" || c.From == text["From"]) &&
			text["ParentCallSid"] == "" && // the simulator places no child calls
			(text["Status"] == "" || c.Status == text["Status"]) &&
			match(starts, c.StartTime, false) && match(ends, c.EndTime, false)
	}
	s.mu.Lock()
	all := newestFirst(s.callOrder, func(sid string) *Call { return s.calls[sid] }, func(c *Call) time.Time { return c.DateCreated })
	items, more, err := paginate(all, func(c *Call) string { return c.SID }, keep, p)
	page := callPage{Calls: make([]callJSON, 0, len(items))}
	for _, c := range items {
		page.Calls = append(page.Calls, c.json())
	}
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	first, last := "", ""
	if len(items) > 0 {
		first, last = items[0].SID, items[len(items)-1].SID
	}
	page.listPage = envelope(r.URL.Path, echo, p, len(items), more, first, last)
	writeJSON(w, http.StatusOK, page)
}
