package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	nudge "github.com/nudgehq/nudge"
)

// LookupSlack widens the window of a nudge.ProviderQuery on both sides, for
// clock skew between Nudge and Twilio.
const LookupSlack = time.Minute

// lookupPageSize is how many records one list request asks for.
const lookupPageSize = 100

// apiBaseURL is where twilio-go sends API requests; list pages name their
// successors relative to it.
const apiBaseURL = "https://api.twilio.com"

// Lookup searches Twilio's messages to q.To for the message of an attempt
// whose answer was lost (a Send error with MaybeAccepted set). In each
// account the senders of the borrower's route (q.Lender, q.To) send
// through (the main account, subaccounts of pool senders) it lists the
// messages to q.To, newest first, and stops paging once a page reaches
// messages created before q.Since (less LookupSlack); no filter on date_sent
// is used, since a queued message has none yet. A message matches when it is
// outbound, was created within [q.Since-LookupSlack, q.Until+LookupSlack] (no
// upper bound when q.Until is zero), its body equals q.Body exactly and its
// sid is not in q.Known; the earliest match wins. The record carries the
// message's sid, its status (StatusFromTwilio, nudge.AttemptSent when Twilio
// names none Nudge knows) and its error code. Errors from Twilio are returned
// as they are, for the caller to try again later; the whole lookup is bounded
// by Config.Timeout.
func (s *SMS) Lookup(ctx context.Context, q nudge.ProviderQuery) (nudge.ProviderRecord, error) {
	what := "twilio sms: look up attempt " + q.AttemptID
	if q.Channel != "" && q.Channel != nudge.SMS {
		return nudge.ProviderRecord{}, fmt.Errorf("%s: query is for channel %q", what, q.Channel)
	}
	if strings.TrimSpace(q.Body) == "" {
		return nudge.ProviderRecord{}, fmt.Errorf("%s: query has no body to recognise the message by", what)
	}
	w, err := newWindow(q)
	if err != nil {
		return nudge.ProviderRecord{}, fmt.Errorf("%s: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	m := &nudge.Message{Lender: q.Lender, To: q.To}
	var found *api.ApiV2010Message
	var foundAt time.Time
	// A pool's senders may belong to several (sub)accounts: each keeps
	// its own records.
	for _, acct := range accountsOf(s.cfg, s.route(m)) {
		msg, at, err := s.lookupIn(ctx, acct, q, w)
		if err != nil {
			return nudge.ProviderRecord{}, fmt.Errorf("%s: %w", what, err)
		}
		if msg != nil && (found == nil || at.Before(foundAt)) {
			found, foundAt = msg, at
		}
	}
	if found == nil {
		return nudge.ProviderRecord{}, nil
	}
	rec := nudge.ProviderRecord{Found: true, ProviderID: *found.Sid, Status: StatusFromTwilio(value(found.Status))}
	if rec.Status == "" {
		rec.Status = nudge.AttemptSent
	}
	if found.ErrorCode != nil && *found.ErrorCode != 0 {
		rec.ErrorCode = strconv.Itoa(*found.ErrorCode)
	}
	return rec, nil
}

// lookupIn searches the messages of one account for q's message (see
// SMS.Lookup): the earliest match and its creation time, or nil.
func (s *SMS) lookupIn(ctx context.Context, acct account, q nudge.ProviderQuery, w window) (*api.ApiV2010Message, time.Time, error) {
	c := newCall(ctx, acct, s.cfg.Timeout, s.base, s.target)
	params := &api.ListMessageParams{}
	params.SetTo(q.To)
	params.SetPageSize(lookupPageSize)
	page, err := c.api.PageMessage(params, "", "")
	var found *api.ApiV2010Message
	var foundAt time.Time
	for {
		if err != nil {
			return nil, time.Time{}, err
		}
		older := false
		for i := range page.Messages {
			m := &page.Messages[i]
			at, ok := parseTime(m.DateCreated)
			if !ok {
				continue
			}
			if at.Before(w.from) {
				older = true
				continue
			}
			if !w.holds(at) || !outbound(m.Direction) || value(m.To) != q.To || m.Body == nil || *m.Body != q.Body || w.known[value(m.Sid)] || value(m.Sid) == "" {
				continue
			}
			if found == nil || at.Before(foundAt) {
				found, foundAt = m, at
			}
		}
		next := value(page.NextPageUri)
		if older || next == "" {
			return found, foundAt, nil
		}
		page = &api.ListMessageResponse{}
		err = c.next(next, page)
	}
}

// accountsOf lists the distinct accounts the members of route r send
// through, in the pool's order.
func accountsOf(cfg Config, r SenderRoute) []account {
	var out []account
	seen := map[string]bool{}
	for _, p := range r.members() {
		a := cfg.accountOf(p)
		if !seen[a.sid] {
			seen[a.sid] = true
			out = append(out, a)
		}
	}
	return out
}

// Lookup searches Twilio's calls for the call of an attempt whose answer was
// lost (a Send error with MaybeAccepted set). In each account the caller IDs
// of the borrower's route (q.Lender, q.To; voice_senders, else the default
// caller ID) call through, it lists the calls to q.To, newest first, and
// stops paging once a page reaches calls created before q.Since (less
// LookupSlack). A call matches when it comes from one of the route's caller
// IDs in that account, is outbound, was created within [q.Since-LookupSlack, q.Until+LookupSlack] (no
// upper bound when q.Until is zero) and its sid is not in q.Known; the
// earliest match wins. The record carries the CallSid and its status
// (CallStatusFromTwilio, nudge.AttemptSent when Twilio names none Nudge
// knows). Errors from Twilio are returned as they are, for the caller to try
// again later; the whole lookup is bounded by Config.Timeout.
func (v *Voice) Lookup(ctx context.Context, q nudge.ProviderQuery) (nudge.ProviderRecord, error) {
	what := "twilio voice: look up attempt " + q.AttemptID
	if q.Channel != "" && q.Channel != nudge.Voice {
		return nudge.ProviderRecord{}, fmt.Errorf("%s: query is for channel %q", what, q.Channel)
	}
	w, err := newWindow(q)
	if err != nil {
		return nudge.ProviderRecord{}, fmt.Errorf("%s: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	r := v.route(&nudge.Message{Lender: q.Lender, To: q.To})
	var found *api.ApiV2010Call
	var foundAt time.Time
	// Each (sub)account of the route's caller IDs keeps its own records.
	for _, acct := range accountsOf(v.cfg, r) {
		callers := map[string]bool{}
		for _, p := range r.members() {
			if v.cfg.accountOf(p).sid == acct.sid {
				callers[p.From] = true
			}
		}
		call, at, err := v.lookupIn(ctx, acct, callers, q, w)
		if err != nil {
			return nudge.ProviderRecord{}, fmt.Errorf("%s: %w", what, err)
		}
		if call != nil && (found == nil || at.Before(foundAt)) {
			found, foundAt = call, at
		}
	}
	if found == nil {
		return nudge.ProviderRecord{}, nil
	}
	rec := nudge.ProviderRecord{Found: true, ProviderID: *found.Sid, Status: CallStatusFromTwilio(value(found.Status))}
	if rec.Status == "" {
		rec.Status = nudge.AttemptSent
	}
	return rec, nil
}

// lookupIn searches the calls of one account to q.To from one of callers
// for q's call (see Voice.Lookup): the earliest match and its creation time,
// or nil. With one caller ID the list is filtered by it at Twilio.
func (v *Voice) lookupIn(ctx context.Context, acct account, callers map[string]bool, q nudge.ProviderQuery, w window) (*api.ApiV2010Call, time.Time, error) {
	c := newCall(ctx, acct, v.cfg.Timeout, v.base, v.target)
	params := &api.ListCallParams{}
	params.SetTo(q.To)
	if len(callers) == 1 {
		for from := range callers {
			params.SetFrom(from)
		}
	}
	params.SetPageSize(lookupPageSize)
	page, err := c.api.PageCall(params, "", "")
	var found *api.ApiV2010Call
	var foundAt time.Time
	for {
		if err != nil {
			return nil, time.Time{}, err
		}
		older := false
		for i := range page.Calls {
			call := &page.Calls[i]
			at, ok := parseTime(call.DateCreated)
			if !ok {
				if at, ok = parseTime(call.StartTime); !ok {
					continue
				}
			}
			if at.Before(w.from) {
				older = true
				continue
			}
			if !w.holds(at) || !outbound(call.Direction) || value(call.To) != q.To || !callers[value(call.From)] || w.known[value(call.Sid)] || value(call.Sid) == "" {
				continue
			}
			if found == nil || at.Before(foundAt) {
				found, foundAt = call, at
			}
		}
		next := value(page.NextPageUri)
		if older || next == "" {
			return found, foundAt, nil
		}
		page = &api.ListCallResponse{}
		err = c.next(next, page)
	}
}

// window is the time range and exclusions of one lookup.
type window struct {
	from, until time.Time // until is zero when unbounded
	known       map[string]bool
}

func newWindow(q nudge.ProviderQuery) (window, error) {
	switch {
	case strings.TrimSpace(q.To) == "":
		return window{}, errors.New("query has no recipient")
	case q.Since.IsZero():
		return window{}, errors.New("query has no start time")
	case !q.Until.IsZero() && q.Until.Before(q.Since):
		return window{}, fmt.Errorf("query ends (%s) before it starts (%s)", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	w := window{from: q.Since.Add(-LookupSlack), known: make(map[string]bool, len(q.Known))}
	if !q.Until.IsZero() {
		w.until = q.Until.Add(LookupSlack)
	}
	for _, sid := range q.Known {
		w.known[sid] = true
	}
	return w, nil
}

// holds reports whether t falls within the window.
func (w window) holds(t time.Time) bool {
	return !t.Before(w.from) && (w.until.IsZero() || !t.After(w.until))
}

// next fetches the list page Twilio named as next_page_uri into page.
func (c *call) next(uri string, page any) error {
	u := uri
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		u = apiBaseURL + "/" + strings.TrimLeft(uri, "/")
	}
	resp, err := c.api.RequestHandler().Get(u, nil, nil, "")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if err := json.NewDecoder(resp.Body).Decode(page); err != nil {
		return fmt.Errorf("decode list page: %w", err)
	}
	return nil
}

// outbound reports whether a Twilio direction ("outbound-api",
// "outbound-reply", "inbound", …) is outbound; a record that names none is
// taken as outbound, since the To filter already excludes inbound traffic to
// the borrower's number.
func outbound(direction *string) bool {
	return direction == nil || *direction == "" || strings.HasPrefix(*direction, "outbound")
}

// parseTime reads a Twilio timestamp: RFC 2822 ("Thu, 30 Jul 2015 20:12:31
// +0000") as the API writes it, or RFC 3339.
func parseTime(s *string) (time.Time, bool) {
	if s == nil || *s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339Nano} {
		if t, err := time.Parse(layout, *s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func value(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
