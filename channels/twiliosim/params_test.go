package twiliosim_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

func TestMessageParametersAreRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const to = "+14155550221"
	b.sim.Script(to, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	svc := b.restClient(t)
	p := &api.CreateMessageParams{}
	p.SetTo(to)
	p.SetFrom(from)
	p.SetBody("Your payment is due.")
	p.SetValidityPeriod(600)
	p.SetSmartEncoded(true)
	m, err := svc.CreateMessage(p)
	require.NoError(t, err)
	got, ok := b.sim.Message(*m.Sid)
	require.True(t, ok)
	require.Equal(t, 600, got.ValidityPeriod)
	require.True(t, got.SmartEncoded)
	reqs := b.sim.Requests()
	require.Len(t, reqs, 1)
	require.NotEmpty(t, reqs[0].RemoteAddr)
	require.Equal(t, twiliosim.Request{
		Time: reqs[0].Time, Kind: twiliosim.RequestMessage, Account: b.sim.AccountSID(), RemoteAddr: reqs[0].RemoteAddr, To: to, From: from, Body: "Your payment is due.",
		SID: *m.Sid, Status: http.StatusCreated, ValidityPeriod: 600, SmartEncoded: true,
	}, reqs[0])
	require.NoError(t, b.sim.Idle(ctx(t)))
}

func TestSmartEncodingCountsGSMSegments(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	svc := b.restClient(t)
	// 100 characters with curly quotes: UCS-2 (2 segments) unless the
	// quotes are replaced by their GSM-7 look-alikes (1 segment).
	body := "It’s due – “Friday”. " + strings.Repeat("x", 79)
	require.Equal(t, 100, len([]rune(body)))
	for _, smart := range []bool{false, true} {
		p := &api.CreateMessageParams{}
		p.SetTo("+14155550222")
		p.SetFrom(from)
		p.SetBody(body)
		p.SetSmartEncoded(smart)
		m, err := svc.CreateMessage(p)
		require.NoError(t, err)
		want := "2"
		if smart {
			want = "1"
		}
		require.Equal(t, want, *m.NumSegments, "SmartEncoded=%v", smart)
		require.Equal(t, body, *m.Body)
	}
	require.NoError(t, b.sim.Idle(ctx(t)))
}

func TestCreateParameterValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	msgs := b.server.URL + "/2010-04-01/Accounts/" + sid + "/Messages.json"
	calls := b.server.URL + "/2010-04-01/Accounts/" + sid + "/Calls.json"
	msg := url.Values{"To": {"+14155550223"}, "From": {from}, "Body": {"hi"}}
	call := url.Values{"To": {"+14155550223"}, "From": {from}, "Twiml": {"<Response><Hangup/></Response>"}}
	with := func(base url.Values, k, v string) url.Values {
		out := url.Values{k: {v}}
		for key, vs := range base {
			out[key] = vs
		}
		return out
	}
	tests := []struct {
		name   string
		target string
		form   url.Values
		status int
		code   int
	}{
		{name: "ValidityPeriod 0", target: msgs, form: with(msg, "ValidityPeriod", "0"), status: 400, code: 90014},
		{name: "ValidityPeriod negative", target: msgs, form: with(msg, "ValidityPeriod", "-5"), status: 400, code: 90014},
		{name: "ValidityPeriod not a number", target: msgs, form: with(msg, "ValidityPeriod", "1h"), status: 400, code: 90014},
		{name: "ValidityPeriod too long", target: msgs, form: with(msg, "ValidityPeriod", "36001"), status: 400, code: 90007},
		{name: "ValidityPeriod 1", target: msgs, form: with(msg, "ValidityPeriod", "1"), status: 201},
		{name: "ValidityPeriod 36000", target: msgs, form: with(msg, "ValidityPeriod", "36000"), status: 201},
		{name: "SmartEncoded not a boolean", target: msgs, form: with(msg, "SmartEncoded", "yes"), status: 400, code: 20001},
		{name: "SmartEncoded False", target: msgs, form: with(msg, "SmartEncoded", "False"), status: 201},
		{name: "Timeout 0", target: calls, form: with(call, "Timeout", "0"), status: 400, code: 20001},
		{name: "Timeout 601", target: calls, form: with(call, "Timeout", "601"), status: 400, code: 20001},
		{name: "Timeout not a number", target: calls, form: with(call, "Timeout", "soon"), status: 400, code: 20001},
		{name: "Timeout 600", target: calls, form: with(call, "Timeout", "600"), status: 201},
		{name: "TimeLimit 0", target: calls, form: with(call, "TimeLimit", "0"), status: 400, code: 20001},
		{name: "TimeLimit negative", target: calls, form: with(call, "TimeLimit", "-1"), status: 400, code: 20001},
		{name: "TimeLimit 14400", target: calls, form: with(call, "TimeLimit", "14400"), status: 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := post(t, tc.target, sid, token, tc.form)
			require.Equal(t, tc.status, status, body)
			if tc.code != 0 {
				require.Contains(t, body, `"code":`+strconv.Itoa(tc.code))
			}
		})
	}
	t.Run("through twilio-go", func(t *testing.T) {
		t.Parallel()
		p := &api.CreateMessageParams{}
		p.SetTo("+14155550224")
		p.SetFrom(from)
		p.SetBody("hi")
		p.SetValidityPeriod(36001)
		_, err := b.restClient(t).CreateMessage(p)
		var rest *client.TwilioRestError
		require.ErrorAs(t, err, &rest)
		require.Equal(t, 90007, rest.Code)
		require.Equal(t, http.StatusBadRequest, rest.Status)
		for _, r := range b.sim.Requests() {
			if r.To == "+14155550224" {
				require.Equal(t, 36001, r.ValidityPeriod)
				require.Empty(t, r.SID)
				require.Equal(t, 90007, r.Code)
			}
		}
	})
}

func TestValidityPeriodExpiresQueuedMessages(t *testing.T) {
	t.Parallel()
	// Messages wait 10 simulated seconds in the queue.
	b := setup(t, func(c *twiliosim.Config) { c.QueueDelay = 10 * time.Second })
	const expires, survives = "+14155550225", "+14155550226"
	for _, n := range []string{expires, survives} {
		b.sim.Script(n, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	}
	svc := b.restClient(t)
	create := func(to string, validity int) string {
		p := &api.CreateMessageParams{}
		p.SetTo(to)
		p.SetFrom(from)
		p.SetBody("Your payment is due.")
		p.SetValidityPeriod(validity)
		p.SetStatusCallback(b.app.url(twilio.StatusCallbackPath))
		m, err := svc.CreateMessage(p)
		require.NoError(t, err)
		require.Equal(t, "queued", *m.Status)
		return *m.Sid
	}
	expired := create(expires, 5)
	kept := create(survives, 11)
	require.NoError(t, b.sim.Idle(ctx(t)))

	m, ok := b.sim.Message(expired)
	require.True(t, ok)
	require.Equal(t, "failed", m.Status)
	require.Equal(t, 30036, m.ErrorCode)
	require.True(t, m.DateSent.IsZero(), "an expired message is never sent")
	m, ok = b.sim.Message(kept)
	require.True(t, ok)
	require.Equal(t, "delivered", m.Status)

	statuses := map[string][]string{}
	for _, h := range b.app.hooksOn(twilio.StatusCallbackPath) {
		require.NoError(t, h.SigErr)
		sid := h.Form.Get("MessageSid")
		statuses[sid] = append(statuses[sid], h.Form.Get("MessageStatus")+"/"+h.Form.Get("ErrorCode"))
	}
	require.Equal(t, []string{"failed/30036"}, statuses[expired])
	require.Equal(t, []string{"sent/", "delivered/"}, statuses[kept])

	got, err := svc.FetchMessage(expired, nil)
	require.NoError(t, err)
	require.Equal(t, 30036, *got.ErrorCode)
	require.Equal(t, "Validity Period Expired", *got.ErrorMessage)
}

func TestCallParametersAreRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const answers, rushed = "+14155550227", "+14155550228"
	b.sim.Script(answers, twiliosim.Borrower{Call: twiliosim.CallHuman})
	b.sim.Script(rushed, twiliosim.Borrower{Call: twiliosim.CallHuman})
	svc := b.restClient(t)
	create := func(to string, timeout int) string {
		p := &api.CreateCallParams{}
		p.SetTo(to)
		p.SetFrom(from)
		p.SetTwiml("<Response><Say>Hello.</Say><Hangup/></Response>")
		p.SetTimeout(timeout)
		p.SetTimeLimit(300)
		c, err := svc.CreateCall(p)
		require.NoError(t, err)
		return *c.Sid
	}
	answered := create(answers, 30)
	// The borrower picks up after 4 simulated seconds: a 2s ring time ends first.
	missed := create(rushed, 2)
	require.NoError(t, b.sim.Idle(ctx(t)))

	c, ok := b.sim.Call(answered)
	require.True(t, ok)
	require.Equal(t, 30, c.Timeout)
	require.Equal(t, 300, c.TimeLimit)
	require.Equal(t, "completed", c.Status)
	require.Equal(t, []string{"Hello."}, c.Said)
	c, ok = b.sim.Call(missed)
	require.True(t, ok)
	require.Equal(t, 2, c.Timeout)
	require.Equal(t, "no-answer", c.Status)
	require.Empty(t, c.Said)
	require.False(t, c.StartTime.IsZero(), "an unanswered call was dialed")
	require.Zero(t, c.Duration)

	for _, r := range b.sim.Requests() {
		require.Equal(t, twiliosim.RequestCall, r.Kind)
		require.Equal(t, 300, r.TimeLimit)
		require.Contains(t, []int{2, 30}, r.Timeout)
		require.NotEmpty(t, r.SID)
	}
}
