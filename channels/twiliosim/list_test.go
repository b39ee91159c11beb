package twiliosim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

// apiClient is a twilio-go API client whose requests go to the simulator
// at base, each bounded by timeout (none when zero).
func apiClient(t *testing.T, base string, timeout time.Duration) *api.ApiService {
	t.Helper()
	target, err := url.Parse(base)
	require.NoError(t, err)
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient:  &http.Client{Transport: rewrite{target: target}, Timeout: timeout},
	}
	c.SetAccountSid(sid)
	return api.NewApiServiceWithClient(c)
}

// getJSON fetches path from the simulator with basic auth and decodes the answer.
func getJSON(t *testing.T, base, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth(sid, token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	return resp.StatusCode, out
}

func createMessage(t *testing.T, svc *api.ApiService, to, sender, body string) string {
	t.Helper()
	p := &api.CreateMessageParams{}
	p.SetTo(to)
	p.SetFrom(sender)
	p.SetBody(body)
	m, err := svc.CreateMessage(p)
	require.NoError(t, err)
	return *m.Sid
}

func messageSIDs(ms []api.ApiV2010Message) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, *m.Sid)
	}
	return out
}

func TestListMessages(t *testing.T) {
	t.Parallel()
	const (
		alice = "+14155550201"
		bob   = "+14155550202"
		other = "+14155550199"
	)
	day1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := nudge.NewFixedClock(day1)
	b := setup(t, func(c *twiliosim.Config) {
		c.Clock = clock
		c.Mix = []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}}
	})
	svc := b.restClient(t)
	// Each message is sent (date_sent) at the time it is created: the
	// clock only moves once the simulator is idle.
	send := func(at time.Time, to, sender string) string {
		clock.Set(at)
		s := createMessage(t, svc, to, sender, "Your payment is due. Ref "+at.Format(time.Kitchen))
		require.NoError(t, b.sim.Idle(ctx(t)))
		return s
	}
	// In creation order.
	a1 := send(day1, alice, from)
	a2 := send(day1.Add(time.Minute), alice, from)
	a3 := send(day1.Add(2*time.Minute), alice, from)
	b1 := send(day1.Add(23*time.Hour), bob, from)
	o1 := send(day1.Add(23*time.Hour+time.Minute), bob, other)
	a4 := send(day1.Add(46*time.Hour), alice, from)
	a5 := send(day1.Add(46*time.Hour+time.Minute), alice, from)

	// The read-only subtests run in parallel; "page shape" creates a
	// message, so it runs after them.
	t.Run("read-only", func(t *testing.T) { listMessagesReadOnly(t, b, svc, day1, []string{a1, a2, a3, a4, a5, b1, o1}) })
	t.Run("page shape", func(t *testing.T) {
		p := &api.ListMessageParams{}
		p.SetTo(alice).SetPageSize(2)
		first, err := svc.PageMessage(p, "", "")
		require.NoError(t, err)
		require.Equal(t, []string{a5, a4}, messageSIDs(first.Messages))
		require.Equal(t, 0, first.Page)
		require.Equal(t, 2, first.PageSize)
		require.Equal(t, 0, first.Start)
		require.Equal(t, 1, first.End)
		require.Nil(t, first.PreviousPageUri)
		base := "/2010-04-01/Accounts/" + sid + "/Messages.json?To=%2B14155550201&PageSize=2&Page="
		require.Equal(t, base+"0", first.FirstPageUri)
		require.Equal(t, base+"0", first.Uri)
		require.Equal(t, base+"1&PageToken=PA"+a4, *first.NextPageUri)

		// A message created meanwhile does not shift the next page.
		clock.Set(day1.Add(50 * time.Hour))
		a6 := createMessage(t, svc, alice, from, "Your payment is due. Later")
		next, err := svc.PageMessage(p, "PA"+a4, "1")
		require.NoError(t, err)
		require.Equal(t, []string{a3, a2}, messageSIDs(next.Messages))
		require.Equal(t, 2, next.Start)
		require.Equal(t, 3, next.End)
		require.Equal(t, base+"0&PageToken=PB"+a3, *next.PreviousPageUri)

		prev, err := svc.PageMessage(p, "PB"+a3, "0")
		require.NoError(t, err)
		require.Equal(t, []string{a5, a4}, messageSIDs(prev.Messages))

		last, err := svc.PageMessage(p, "PA"+a2, "2")
		require.NoError(t, err)
		require.Equal(t, []string{a1}, messageSIDs(last.Messages))
		require.Nil(t, last.NextPageUri)

		status, raw := getJSON(t, b.server.URL, first.FirstPageUri)
		require.Equal(t, http.StatusOK, status)
		for _, k := range []string{"messages", "first_page_uri", "next_page_uri", "previous_page_uri", "page", "page_size", "uri", "start", "end"} {
			require.Contains(t, raw, k)
		}
		require.Nil(t, raw["previous_page_uri"])
		require.Equal(t, a6, raw["messages"].([]any)[0].(map[string]any)["sid"])
	})
}

// listMessagesReadOnly lists the messages of TestListMessages (sids a1–a5
// to alice, b1 to bob, o1 to bob from another number) without changing them.
func listMessagesReadOnly(t *testing.T, b *bundle, svc *api.ApiService, day1 time.Time, sids []string) {
	const (
		alice = "+14155550201"
		bob   = "+14155550202"
		other = "+14155550199"
	)
	a1, a2, a3, a4, a5, b1, o1 := sids[0], sids[1], sids[2], sids[3], sids[4], sids[5], sids[6]
	t.Run("all of a recipient, newest first, over several pages", func(t *testing.T) {
		t.Parallel()
		p := &api.ListMessageParams{}
		p.SetTo(alice).SetPageSize(2)
		got, err := svc.ListMessage(p)
		require.NoError(t, err)
		require.Equal(t, []string{a5, a4, a3, a2, a1}, messageSIDs(got))
		for _, m := range got {
			require.Equal(t, alice, *m.To)
			require.Equal(t, from, *m.From)
			require.Equal(t, "delivered", *m.Status)
			require.Contains(t, *m.Body, "Your payment is due.")
			require.NotNil(t, m.DateSent)
			require.NotNil(t, m.DateCreated)
			require.Nil(t, m.ErrorCode)
		}
	})
	t.Run("stream stops at the limit", func(t *testing.T) {
		t.Parallel()
		p := &api.ListMessageParams{}
		p.SetPageSize(2).SetLimit(3)
		records, errs := svc.StreamMessage(p)
		var got []string
		for m := range records {
			got = append(got, *m.Sid)
		}
		require.NoError(t, <-errs)
		require.Equal(t, []string{a5, a4, o1}, got)
	})
	t.Run("from", func(t *testing.T) {
		t.Parallel()
		p := &api.ListMessageParams{}
		p.SetFrom(other)
		got, err := svc.ListMessage(p)
		require.NoError(t, err)
		require.Equal(t, []string{o1}, messageSIDs(got))
	})
	dateTests := []struct {
		name string
		set  func(*api.ListMessageParams)
		want []string
	}{
		{name: "DateSent is a UTC day", set: func(p *api.ListMessageParams) { p.SetDateSent(day1) }, want: []string{a3, a2, a1}},
		{name: "DateSent at another offset is that instant's UTC day", set: func(p *api.ListMessageParams) {
			p.SetDateSent(time.Date(2026, 12, 2, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)))
		}, want: []string{a5, a4}},
		{name: "DateSent> is on or after", set: func(p *api.ListMessageParams) { p.SetDateSentAfter(day1.Add(time.Minute)) }, want: []string{a5, a4, o1, b1, a3, a2}},
		{name: "DateSent< is on or before", set: func(p *api.ListMessageParams) { p.SetDateSentBefore(day1.Add(time.Minute)) }, want: []string{a2, a1}},
		{name: "a window for one recipient", set: func(p *api.ListMessageParams) {
			p.SetTo(alice).SetDateSentAfter(day1.Add(time.Minute)).SetDateSentBefore(day1.Add(46 * time.Hour))
		}, want: []string{a4, a3, a2}},
		{name: "nothing", set: func(p *api.ListMessageParams) { p.SetTo(bob).SetDateSent(day1) }, want: []string{}},
	}
	for _, tc := range dateTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &api.ListMessageParams{}
			tc.set(p)
			got, err := svc.ListMessage(p)
			require.NoError(t, err)
			require.Equal(t, tc.want, messageSIDs(got))
		})
	}
	t.Run("dates as Twilio documents them", func(t *testing.T) {
		t.Parallel()
		q := url.Values{"DateSent>": {"2026-12-02"}, "PageSize": {"10"}}
		status, page := getJSON(t, b.server.URL, "/2010-04-01/Accounts/"+sid+"/Messages.json?"+q.Encode())
		require.Equal(t, http.StatusOK, status)
		var got []string
		for _, m := range page["messages"].([]any) {
			got = append(got, m.(map[string]any)["sid"].(string))
		}
		require.Equal(t, []string{a5, a4, o1, b1}, got)
		q = url.Values{"DateSent<": {"2026-12-01"}}
		_, page = getJSON(t, b.server.URL, "/2010-04-01/Accounts/"+sid+"/Messages.json?"+q.Encode())
		require.Len(t, page["messages"], 3, "DateSent< includes the day given")
	})
	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{"PageSize=0", "PageSize=1001", "Page=-1", "PageToken=XX123", "PageToken=PASM00000000000000000000000000000000", "DateSent=yesterday", "DateSent%3E=2026-13-01"} {
			status, body := getJSON(t, b.server.URL, "/2010-04-01/Accounts/"+sid+"/Messages.json?"+q)
			require.Equal(t, http.StatusBadRequest, status, q)
			require.InDelta(t, 20001, body["code"], 0, q)
		}
		status, _ := getJSON(t, b.server.URL, "/2010-04-01/Accounts/ACffffffffffffffffffffffffffffffff/Messages.json")
		require.Equal(t, http.StatusUnauthorized, status)
	})
}

func TestListCalls(t *testing.T) {
	t.Parallel()
	const (
		human  = "+14155550211"
		busy   = "+14155550212"
		nobody = "+14155550213"
		caller = "+14155550198"
	)
	day1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := nudge.NewFixedClock(day1)
	b := setup(t, func(c *twiliosim.Config) { c.Clock = clock })
	b.sim.Script(human, twiliosim.Borrower{Call: twiliosim.CallHuman})
	b.sim.Script(busy, twiliosim.Borrower{Call: twiliosim.CallBusy})
	b.sim.Script(nobody, twiliosim.Borrower{Call: twiliosim.CallNoAnswer})
	svc := b.restClient(t)
	call := func(at time.Time, to, sender string) string {
		clock.Set(at)
		p := &api.CreateCallParams{}
		p.SetTo(to)
		p.SetFrom(sender)
		p.SetTwiml("<Response><Say>Hello.</Say><Hangup/></Response>")
		c, err := svc.CreateCall(p)
		require.NoError(t, err)
		require.NoError(t, b.sim.Idle(ctx(t)))
		return *c.Sid
	}
	h1 := call(day1, human, from)
	b1 := call(day1.Add(time.Hour), busy, from)
	n1 := call(day1.Add(2*time.Hour), nobody, caller)
	h2 := call(day1.Add(24*time.Hour), human, from)
	b2 := call(day1.Add(25*time.Hour), busy, from)

	sids := func(cs []api.ApiV2010Call) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, *c.Sid)
		}
		return out
	}
	tests := []struct {
		name string
		set  func(*api.ListCallParams)
		want []string
	}{
		{name: "all, one per page", set: func(p *api.ListCallParams) { p.SetPageSize(1) }, want: []string{b2, h2, n1, b1, h1}},
		{name: "To", set: func(p *api.ListCallParams) { p.SetTo(human) }, want: []string{h2, h1}},
		{name: "From", set: func(p *api.ListCallParams) { p.SetFrom(caller) }, want: []string{n1}},
		{name: "Status", set: func(p *api.ListCallParams) { p.SetStatus("busy").SetPageSize(1) }, want: []string{b2, b1}},
		{name: "StartTime is a UTC day", set: func(p *api.ListCallParams) { p.SetStartTime(day1) }, want: []string{n1, b1, h1}},
		{name: "StartTime< is strictly before", set: func(p *api.ListCallParams) { p.SetStartTimeBefore(day1.Add(time.Hour)) }, want: []string{h1}},
		{name: "StartTime> is on or after", set: func(p *api.ListCallParams) { p.SetStartTimeAfter(day1.Add(2 * time.Hour)) }, want: []string{b2, h2, n1}},
		{name: "a window for one recipient", set: func(p *api.ListCallParams) {
			p.SetTo(busy).SetStartTimeAfter(day1).SetStartTimeBefore(day1.Add(25 * time.Hour))
		}, want: []string{b1}},
		{name: "unanswered calls started too", set: func(p *api.ListCallParams) { p.SetStatus("no-answer").SetStartTimeAfter(day1) }, want: []string{n1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &api.ListCallParams{}
			tc.set(p)
			got, err := svc.ListCall(p)
			require.NoError(t, err)
			require.Equal(t, tc.want, sids(got))
		})
	}
	t.Run("resources", func(t *testing.T) {
		t.Parallel()
		p := &api.ListCallParams{}
		p.SetTo(human)
		got, err := svc.ListCall(p)
		require.NoError(t, err)
		require.Len(t, got, 2)
		c := got[0]
		require.Equal(t, "completed", *c.Status)
		require.Equal(t, from, *c.From)
		require.Equal(t, human, *c.To)
		start, err := time.Parse(time.RFC1123Z, *c.StartTime)
		require.NoError(t, err)
		require.True(t, start.Equal(day1.Add(24*time.Hour)))
	})
	t.Run("page shape and bad parameters", func(t *testing.T) {
		t.Parallel()
		q := url.Values{"Status": {"busy"}, "StartTime>": {"2026-12-01"}, "PageSize": {"1"}}
		status, page := getJSON(t, b.server.URL, "/2010-04-01/Accounts/"+sid+"/Calls.json?"+q.Encode())
		require.Equal(t, http.StatusOK, status)
		require.Len(t, page["calls"], 1)
		require.Equal(t, "/2010-04-01/Accounts/"+sid+"/Calls.json?Status=busy&StartTime%3E=2026-12-01&PageSize=1&Page=1&PageToken=PA"+b2, page["next_page_uri"])
		require.Nil(t, page["previous_page_uri"])
		status, next := getJSON(t, b.server.URL, page["next_page_uri"].(string))
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, b1, next["calls"].([]any)[0].(map[string]any)["sid"])
		require.Nil(t, next["next_page_uri"])
		require.NotNil(t, next["previous_page_uri"])

		for _, q := range []string{"Status=exploded", "StartTime=soon", "EndTime%3C=12/01/2026", "PageSize=abc"} {
			status, body := getJSON(t, b.server.URL, "/2010-04-01/Accounts/"+sid+"/Calls.json?"+q)
			require.Equal(t, http.StatusBadRequest, status, q)
			require.InDelta(t, 20001, body["code"], 0, q)
		}
		p := &api.ListCallParams{}
		p.SetStatus("exploded")
		_, err := svc.ListCall(p)
		var rest *client.TwilioRestError
		require.ErrorAs(t, err, &rest)
		require.Equal(t, http.StatusBadRequest, rest.Status)
		require.Equal(t, 20001, rest.Code)
	})
}
