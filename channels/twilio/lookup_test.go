package twilio_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
)

// record is one message or call in the fake list endpoints.
type record struct {
	Sid         string    `json:"sid"`
	To          string    `json:"to"`
	From        string    `json:"from"`
	Body        string    `json:"body,omitempty"`
	Direction   string    `json:"direction"`
	Status      string    `json:"status"`
	ErrorCode   *int      `json:"error_code"`
	Created     time.Time `json:"-"`
	DateCreated string    `json:"date_created"`
}

// lister mimics Twilio's list endpoints for Messages and Calls: filters To
// and From, lists newest first, pages with Page/PageSize/PageToken and names
// the next page in next_page_uri.
type lister struct {
	mu       sync.Mutex
	messages []record
	calls    []record
	queries  []url.Values
	fail     int // answer every request with this HTTP status and a Twilio error
}

func (l *lister) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := r.URL.Query()
	l.queries = append(l.queries, q)
	if user, pass, ok := r.BasicAuth(); !ok || user != testSID || pass != testToken {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return
	}
	if l.fail != 0 {
		writeJSON(w, l.fail, map[string]any{"code": 20500, "message": "Internal Server Error", "status": l.fail})
		return
	}
	base := "/2010-04-01/Accounts/" + testSID
	var all []record
	key := ""
	switch r.URL.Path {
	case base + "/Messages.json":
		all, key = l.messages, "messages"
	case base + "/Calls.json":
		all, key = l.calls, "calls"
	default:
		http.NotFound(w, r)
		return
	}
	var match []record
	for _, rec := range all {
		if (q.Get("To") == "" || rec.To == q.Get("To")) && (q.Get("From") == "" || rec.From == q.Get("From")) {
			rec.DateCreated = rec.Created.UTC().Format(time.RFC1123Z)
			match = append(match, rec)
		}
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].Created.After(match[j].Created) })
	size, _ := strconv.Atoi(q.Get("PageSize"))
	if size <= 0 {
		size = 50
	}
	page, _ := strconv.Atoi(q.Get("Page"))
	start := min(page*size, len(match))
	end := min(start+size, len(match))
	out := map[string]any{key: match[start:end], "page": page, "page_size": size, "next_page_uri": nil}
	if end < len(match) {
		next := url.Values{}
		for k := range q {
			next.Set(k, q.Get(k))
		}
		next.Set("Page", strconv.Itoa(page+1))
		next.Set("PageToken", "PA"+strconv.Itoa(end))
		out["next_page_uri"] = r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

func (l *lister) requests() []url.Values {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]url.Values(nil), l.queries...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func sid(prefix string, n int) string {
	s := strconv.Itoa(n)
	for len(s) < 32 {
		s = "0" + s
	}
	return prefix + s
}

type lookupBundle struct {
	list  *lister
	sms   *twilio.SMS
	voice *twilio.Voice
	// at is when the attempt called Twilio.
	at time.Time
}

func setupLookup(t *testing.T) *lookupBundle {
	t.Helper()
	l := &lister{}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	cfg := validConfig()
	cfg.BaseURL = srv.URL
	s, err := twilio.New(cfg)
	require.NoError(t, err)
	v, err := twilio.NewVoice(cfg, func(*nudge.Message) (string, error) { return "tok", nil }, twilio.WithCallerID("+14155550199"))
	require.NoError(t, err)
	return &lookupBundle{list: l, sms: s, voice: v, at: time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC)}
}

const (
	borrower = "+14155550123"
	body     = "Hi, your payment of $200 is due Friday. Ref 7f3a. Reply STOP to opt out."
)

func (b *lookupBundle) query() nudge.ProviderQuery {
	return nudge.ProviderQuery{AttemptID: "att_7f3a_sms", Lender: "acme", Channel: nudge.SMS, To: borrower, Body: body,
		Since: b.at, Until: b.at.Add(10 * time.Second)}
}

func code(n int) *int { return &n }

func TestSMSLookup(t *testing.T) {
	t.Parallel()
	msg := func(n int, created time.Time, mod func(*record)) record {
		r := record{Sid: sid("SM", n), To: borrower, From: "+14155550100", Body: body, Direction: "outbound-api", Status: "delivered", Created: created}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	tests := []struct {
		name     string
		messages func(at time.Time) []record
		mod      func(*nudge.ProviderQuery)
		want     nudge.ProviderRecord
	}{
		{name: "found", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(2*time.Second), nil)}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 1), Status: nudge.AttemptDelivered}},
		{name: "queued and failed with a code", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(time.Second), func(r *record) { r.Status, r.ErrorCode = "failed", code(30007) })}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 1), Status: nudge.AttemptFailed, ErrorCode: "30007"}},
		{name: "status Nudge does not know", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(time.Second), func(r *record) { r.Status = "pending_review" })}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 1), Status: nudge.AttemptSent}},
		{name: "within the slack before Since", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(-50*time.Second), nil)}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 1), Status: nudge.AttemptDelivered}},
		{name: "nothing sent", messages: func(time.Time) []record { return nil }},
		{name: "other body", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(time.Second), func(r *record) { r.Body = body + " " })}
		}},
		{name: "too early", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(-2*time.Minute), nil)}
		}},
		{name: "too late", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(3*time.Minute), nil)}
		}},
		{name: "no upper bound", mod: func(q *nudge.ProviderQuery) { q.Until = time.Time{} }, messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(3*time.Minute), nil)}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 1), Status: nudge.AttemptDelivered}},
		{name: "inbound", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(time.Second), func(r *record) { r.Direction = "inbound" })}
		}},
		{name: "known sid skipped for the next", mod: func(q *nudge.ProviderQuery) { q.Known = []string{sid("SM", 1)} }, messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(time.Second), nil), msg(2, at.Add(3*time.Second), func(r *record) { r.Status = "sent" })}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 2), Status: nudge.AttemptSent}},
		{name: "earliest of two", messages: func(at time.Time) []record {
			return []record{msg(2, at.Add(4*time.Second), nil), msg(1, at.Add(time.Second), func(r *record) { r.Status = "sent" })}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 1), Status: nudge.AttemptSent}},
		{name: "other recipient", messages: func(at time.Time) []record {
			return []record{msg(1, at.Add(time.Second), func(r *record) { r.To = "+14155550124" })}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupLookup(t)
			b.list.messages = tt.messages(b.at)
			q := b.query()
			if tt.mod != nil {
				tt.mod(&q)
			}
			got, err := b.sms.Lookup(context.Background(), q)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			reqs := b.list.requests()
			require.NotEmpty(t, reqs)
			require.Equal(t, borrower, reqs[0].Get("To"))
			require.Empty(t, reqs[0].Get("DateSent>"), "queued messages have no date_sent")
		})
	}
}

func TestSMSLookupPaging(t *testing.T) {
	t.Parallel()
	b := setupLookup(t)
	var msgs []record
	// 250 newer messages to the borrower (other bodies), then the attempt's,
	// then 300 older ones that must never be fetched.
	for i := range 250 {
		msgs = append(msgs, record{Sid: sid("SM", 1000+i), To: borrower, Body: "other", Direction: "outbound-api", Status: "delivered",
			Created: b.at.Add(20*time.Second + time.Duration(i)*time.Second)})
	}
	msgs = append(msgs, record{Sid: sid("SM", 7), To: borrower, Body: body, Direction: "outbound-api", Status: "sending", Created: b.at.Add(time.Second)})
	for i := range 300 {
		msgs = append(msgs, record{Sid: sid("SM", 5000+i), To: borrower, Body: body, Direction: "outbound-api", Status: "delivered",
			Created: b.at.Add(-time.Hour - time.Duration(i)*time.Minute)})
	}
	b.list.messages = msgs
	q := b.query()
	q.Until = time.Time{}
	got, err := b.sms.Lookup(context.Background(), q)
	require.NoError(t, err)
	require.Equal(t, nudge.ProviderRecord{Found: true, ProviderID: sid("SM", 7), Status: nudge.AttemptSent}, got)
	reqs := b.list.requests()
	// 100 per page: pages 0 and 1 hold newer messages, page 2 the match and
	// the first older ones, after which paging stops.
	require.Len(t, reqs, 3)
	require.Equal(t, "100", reqs[0].Get("PageSize"))
	require.Equal(t, "2", reqs[2].Get("Page"))
	require.Equal(t, borrower, reqs[2].Get("To"))
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	b := setupLookup(t)
	b.list.fail = http.StatusInternalServerError
	_, err := b.sms.Lookup(context.Background(), b.query())
	var rest *client.TwilioRestError
	require.ErrorAs(t, err, &rest)
	require.Equal(t, 20500, rest.Code)
	require.ErrorContains(t, err, "att_7f3a_sms")

	q := b.query()
	q.Channel = nudge.Voice
	_, err = b.voice.Lookup(context.Background(), q)
	require.ErrorAs(t, err, &rest)

	tests := []struct {
		name string
		mod  func(*nudge.ProviderQuery)
		want string
	}{
		{name: "no body", mod: func(q *nudge.ProviderQuery) { q.Body = "" }, want: "no body"},
		{name: "no recipient", mod: func(q *nudge.ProviderQuery) { q.To = "" }, want: "no recipient"},
		{name: "no start", mod: func(q *nudge.ProviderQuery) { q.Since = time.Time{} }, want: "no start time"},
		{name: "ends before it starts", mod: func(q *nudge.ProviderQuery) { q.Until = q.Since.Add(-time.Second) }, want: "before it starts"},
		{name: "wrong channel", mod: func(q *nudge.ProviderQuery) { q.Channel = nudge.Email }, want: `channel "email"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := b.query()
			tt.mod(&q)
			_, err := b.sms.Lookup(context.Background(), q)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestLookupTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	s := smsAt(t, srv.URL, 100*time.Millisecond)
	q := nudge.ProviderQuery{AttemptID: "a", To: borrower, Body: body, Since: time.Now()}
	_, err := s.Lookup(context.Background(), q)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestVoiceLookup(t *testing.T) {
	t.Parallel()
	const caller = "+14155550199"
	callAt := func(n int, created time.Time, mod func(*record)) record {
		r := record{Sid: sid("CA", n), To: borrower, From: caller, Direction: "outbound-api", Status: "completed", Created: created}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	tests := []struct {
		name  string
		calls func(at time.Time) []record
		known []string
		want  nudge.ProviderRecord
	}{
		{name: "found", calls: func(at time.Time) []record {
			return []record{callAt(1, at.Add(time.Second), func(r *record) { r.Status = "in-progress" })}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("CA", 1), Status: nudge.AttemptAnswered}},
		{name: "queued", calls: func(at time.Time) []record {
			return []record{callAt(1, at.Add(time.Second), func(r *record) { r.Status = "queued" })}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("CA", 1), Status: nudge.AttemptSent}},
		{name: "earliest of two", calls: func(at time.Time) []record {
			return []record{callAt(2, at.Add(5*time.Second), nil), callAt(1, at.Add(time.Second), func(r *record) { r.Status = "no-answer" })}
		}, want: nudge.ProviderRecord{Found: true, ProviderID: sid("CA", 1), Status: nudge.AttemptNoAnswer}},
		{name: "known skipped", known: []string{sid("CA", 1)}, calls: func(at time.Time) []record {
			return []record{callAt(1, at.Add(time.Second), nil)}
		}},
		{name: "from another caller ID", calls: func(at time.Time) []record {
			return []record{callAt(1, at.Add(time.Second), func(r *record) { r.From = "+14155550100" })}
		}},
		{name: "outside the window", calls: func(at time.Time) []record {
			return []record{callAt(1, at.Add(-5*time.Minute), nil), callAt(2, at.Add(5*time.Minute), nil)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupLookup(t)
			b.list.calls = tt.calls(b.at)
			q := b.query()
			q.Channel, q.Body, q.Known = nudge.Voice, "", tt.known
			got, err := b.voice.Lookup(context.Background(), q)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			reqs := b.list.requests()
			require.Len(t, reqs, 1)
			require.Equal(t, borrower, reqs[0].Get("To"))
			require.Equal(t, caller, reqs[0].Get("From"))
		})
	}
}
