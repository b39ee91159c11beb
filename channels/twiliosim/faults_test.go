package twiliosim_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

// create sends a message or a call to to through twilio-go and returns the
// SID of the answer (empty on error) and the error.
func create(svc *api.ApiService, kind, to, callback string) (string, error) {
	if kind == twiliosim.RequestCall {
		p := &api.CreateCallParams{}
		p.SetTo(to)
		p.SetFrom(from)
		p.SetTwiml("<Response><Say>Hello.</Say><Hangup/></Response>")
		p.SetStatusCallback(callback)
		p.SetTimeout(30)
		c, err := svc.CreateCall(p)
		if err != nil {
			return "", err
		}
		return *c.Sid, nil
	}
	p := &api.CreateMessageParams{}
	p.SetTo(to)
	p.SetFrom(from)
	p.SetBody("Your payment is due. Ref " + to)
	p.SetStatusCallback(callback)
	p.SetValidityPeriod(900)
	m, err := svc.CreateMessage(p)
	if err != nil {
		return "", err
	}
	return *m.Sid, nil
}

// held returns the SIDs of the messages or calls the simulator holds for to.
func held(sim *twiliosim.Sim, kind, to string) []string {
	var out []string
	if kind == twiliosim.RequestCall {
		for _, c := range sim.Calls() {
			if c.To == to {
				out = append(out, c.SID)
			}
		}
		return out
	}
	for _, m := range sim.Messages() {
		if m.To == to && m.Direction == "outbound-api" {
			out = append(out, m.SID)
		}
	}
	return out
}

// onlyRequest returns the one logged request to to.
func onlyRequest(t *testing.T, sim *twiliosim.Sim, to string) twiliosim.Request {
	t.Helper()
	var out []twiliosim.Request
	for _, r := range sim.Requests() {
		if r.To == to {
			out = append(out, r)
		}
	}
	require.Len(t, out, 1)
	return out[0]
}

// requireNoAnswer checks that err is a transport failure, not an answer.
func requireNoAnswer(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var rest *client.TwilioRestError
	require.False(t, errors.As(err, &rest), "want no HTTP answer, got %v", err)
	var uerr *url.Error
	require.ErrorAs(t, err, &uerr)
}

func TestFaultAcceptDrop(t *testing.T) {
	t.Parallel()
	for i, kind := range []string{twiliosim.RequestMessage, twiliosim.RequestCall} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			to := fmt.Sprintf("+1415555023%d", i)
			b.sim.Script(to, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent, Call: twiliosim.CallHuman})
			b.sim.ScriptFaults(to, twiliosim.FaultAcceptDrop)
			callback := b.app.url(twilio.StatusCallbackPath)

			got, err := create(b.restClient(t), kind, to, callback)
			requireNoAnswer(t, err)
			require.Empty(t, got)
			require.Contains(t, err.Error(), "EOF")

			// The provider holds the resource and plays it out.
			sids := held(b.sim, kind, to)
			require.Len(t, sids, 1, "the request was accepted once, not retried")
			require.Equal(t, 1, b.sim.CreateCount(to))
			r := onlyRequest(t, b.sim, to)
			require.Equal(t, twiliosim.FaultAcceptDrop, r.Fault)
			require.Equal(t, sids[0], r.SID)
			require.Zero(t, r.Status)
			require.Equal(t, kind, r.Kind)
			final := "delivered"
			if kind == twiliosim.RequestCall {
				final = "completed"
				require.Equal(t, 30, r.Timeout)
			} else {
				require.Equal(t, 900, r.ValidityPeriod)
			}
			d, err := b.sim.Await(ctx(t), func(d twiliosim.Delivery) bool {
				return d.SID == sids[0] && (d.Form.Get("MessageStatus") == final || d.Form.Get("CallStatus") == final)
			})
			require.NoError(t, err)
			require.True(t, d.OK())

			// The next request is served normally.
			again, err := create(b.restClient(t), kind, to, callback)
			require.NoError(t, err)
			require.Len(t, held(b.sim, kind, to), 2)
			require.Equal(t, again, b.sim.Requests()[1].SID)
			require.NoError(t, b.sim.Idle(ctx(t)))
		})
	}
}

func TestFaultAcceptSlow(t *testing.T) {
	t.Parallel()
	for i, kind := range []string{twiliosim.RequestMessage, twiliosim.RequestCall} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *twiliosim.Config) {
				c.Faults = twiliosim.Faults{Share: 1, Kinds: []twiliosim.FaultKind{twiliosim.FaultAcceptSlow}}
			})
			to := fmt.Sprintf("+1415555024%d", i)
			const timeout = 300 * time.Millisecond
			began := time.Now()
			got, err := create(apiClient(t, b.server.URL, timeout), kind, to, b.app.url(twilio.StatusCallbackPath))
			requireNoAnswer(t, err)
			var nerr net.Error
			require.ErrorAs(t, err, &nerr)
			require.True(t, nerr.Timeout(), "want a client timeout, got %v", err)
			require.Empty(t, got)
			require.Less(t, time.Since(began), twiliosim.DefaultSlowFor, "the client's own timeout ends its wait")

			r, err := b.sim.AwaitRequest(ctx(t), func(r twiliosim.Request) bool { return r.To == to && r.SID != "" })
			require.NoError(t, err)
			require.Equal(t, twiliosim.FaultAcceptSlow, r.Fault)
			require.Equal(t, []string{r.SID}, held(b.sim, kind, to))
			require.Equal(t, 1, b.sim.CreateCount(to))
			require.Equal(t, http.StatusCreated, r.Status)
			require.NoError(t, b.sim.Idle(ctx(t)))
		})
	}
}

func TestFaultAcceptSlowAnswersLate(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twiliosim.Config) {
		c.Faults = twiliosim.Faults{Share: 1, Kinds: []twiliosim.FaultKind{twiliosim.FaultAcceptSlow}, SlowFor: 100 * time.Millisecond}
	})
	const to = "+14155550250"
	began := time.Now()
	got, err := create(apiClient(t, b.server.URL, 10*time.Second), twiliosim.RequestMessage, to, "")
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(began), 100*time.Millisecond)
	require.Equal(t, held(b.sim, twiliosim.RequestMessage, to), []string{got})
	require.NoError(t, b.sim.Idle(ctx(t)))
}

func TestFaultAcceptSlowCutShortByClose(t *testing.T) {
	t.Parallel()
	sim := twiliosim.New(twiliosim.Config{AccountSID: sid, AuthToken: token, Speed: 1e5,
		Faults: twiliosim.Faults{Share: 1, Kinds: []twiliosim.FaultKind{twiliosim.FaultAcceptSlow}, SlowFor: time.Hour}})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	const to = "+14155550251"
	svc := apiClient(t, sim.URL(), 0)
	errc := make(chan error, 1)
	go func() {
		_, err := create(svc, twiliosim.RequestMessage, to, "")
		errc <- err
	}()
	r, err := sim.AwaitRequest(ctx(t), func(r twiliosim.Request) bool { return r.To == to && r.SID != "" })
	require.NoError(t, err)
	require.Equal(t, twiliosim.FaultAcceptSlow, r.Fault)
	closed := make(chan error, 1)
	go func() { closed <- sim.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a held answer")
	}
	select {
	case err := <-errc:
		// The message exists: the client gets no answer rather than an error
		// claiming it does not.
		requireNoAnswer(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the held request was never cut short")
	}
	require.Equal(t, []string{r.SID}, held(sim, twiliosim.RequestMessage, to))
	require.Zero(t, onlyRequest(t, sim, to).Status)
}

func TestFaultRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault  twiliosim.FaultKind
		status int
		code   int
	}{
		{fault: twiliosim.FaultRefuse429, status: http.StatusTooManyRequests, code: 20429},
		{fault: twiliosim.FaultRefuse500, status: http.StatusInternalServerError, code: 20500},
	}
	for i, tc := range tests {
		for j, kind := range []string{twiliosim.RequestMessage, twiliosim.RequestCall} {
			t.Run(string(tc.fault)+"/"+kind, func(t *testing.T) {
				t.Parallel()
				b := setup(t, func(c *twiliosim.Config) {
					c.Faults = twiliosim.Faults{Share: 1, Kinds: []twiliosim.FaultKind{tc.fault}}
				})
				to := fmt.Sprintf("+141555502%d%d", 6+i, j)
				got, err := create(b.restClient(t), kind, to, "")
				var rest *client.TwilioRestError
				require.ErrorAs(t, err, &rest)
				require.Equal(t, tc.status, rest.Status)
				require.Equal(t, tc.code, rest.Code)
				require.Empty(t, got)
				require.Empty(t, held(b.sim, kind, to), "a refused request creates nothing")
				require.Empty(t, b.sim.Messages())
				require.Empty(t, b.sim.Calls())
				require.Equal(t, 1, b.sim.CreateCount(to))
				r := onlyRequest(t, b.sim, to)
				require.Equal(t, tc.fault, r.Fault)
				require.Empty(t, r.SID)
				require.Equal(t, tc.status, r.Status)
				require.Equal(t, tc.code, r.Code)
			})
		}
	}
}

func TestScriptedFaultsComeInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const to = "+14155550280"
	b.sim.Script(to, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	b.sim.ScriptFaults(to, twiliosim.FaultRefuse429, twiliosim.FaultNone, twiliosim.FaultAcceptDrop, twiliosim.FaultRefuse500)
	b.sim.FailCreates(to, 1, http.StatusServiceUnavailable, 20503)
	svc := b.restClient(t)
	var errs []error
	for range 6 {
		_, err := create(svc, twiliosim.RequestMessage, to, "")
		errs = append(errs, err)
	}
	var faults []twiliosim.FaultKind
	var statuses []int
	for _, r := range b.sim.Requests() {
		faults = append(faults, r.Fault)
		statuses = append(statuses, r.Status)
	}
	require.Equal(t, []twiliosim.FaultKind{twiliosim.FaultRefuse429, twiliosim.FaultNone, twiliosim.FaultAcceptDrop,
		twiliosim.FaultRefuse500, twiliosim.FaultRefuse, twiliosim.FaultNone}, faults)
	require.Equal(t, []int{429, 201, 0, 500, 503, 201}, statuses)
	require.NoError(t, errs[1])
	requireNoAnswer(t, errs[2])
	require.NoError(t, errs[5])
	require.Len(t, b.sim.Messages(), 3, "accepted: the one answered, the one dropped, the last")
	require.Equal(t, 6, b.sim.CreateCount(to))
	require.NoError(t, b.sim.Idle(ctx(t)))
}

// drawFaults sends one message to each of n numbers through a simulator
// with faults and returns the fault each request suffered.
func drawFaults(t *testing.T, faults twiliosim.Faults, n int) []twiliosim.FaultKind {
	t.Helper()
	b := setup(t, func(c *twiliosim.Config) { c.Faults = faults })
	svc := apiClient(t, b.server.URL, 5*time.Second)
	numbers := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for to := range numbers {
				// Faults are the point: errors are expected.
				_, _ = create(svc, twiliosim.RequestMessage, to, "")
			}
		}()
	}
	for i := range n {
		numbers <- fmt.Sprintf("+1415555%04d", 3000+i)
	}
	close(numbers)
	wg.Wait()
	byNumber := map[string]twiliosim.FaultKind{}
	for _, r := range b.sim.Requests() {
		byNumber[r.To] = r.Fault
	}
	out := make([]twiliosim.FaultKind, n)
	for i := range n {
		out[i] = byNumber[fmt.Sprintf("+1415555%04d", 3000+i)]
	}
	accepted := 0
	for _, f := range out {
		if f == twiliosim.FaultNone || f == twiliosim.FaultAcceptDrop || f == twiliosim.FaultAcceptSlow {
			accepted++
		}
	}
	outbound := 0
	for _, m := range b.sim.Messages() {
		if m.Direction == "outbound-api" {
			outbound++
		}
	}
	require.Equal(t, accepted, outbound, "every accepted request, answered or not, is held")
	return out
}

func TestFaultShareIsSeeded(t *testing.T) {
	t.Parallel()
	const n = 200
	faults := twiliosim.Faults{Share: 0.25, SlowFor: time.Millisecond}
	first := drawFaults(t, faults, n)
	require.Equal(t, first, drawFaults(t, faults, n), "the same seed faults the same requests, whatever their order")
	faults.Seed = 1
	require.NotEqual(t, first, drawFaults(t, faults, n), "another fault seed faults other requests")

	counts := map[twiliosim.FaultKind]int{}
	for _, f := range first {
		counts[f]++
	}
	require.InDelta(t, 0.25, 1-float64(counts[twiliosim.FaultNone])/n, 0.06)
	for _, k := range twiliosim.FaultKinds {
		require.Positive(t, counts[k], "kind %s drawn", k)
	}
}

func TestSetFaultsAtRunTime(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	svc := b.restClient(t)
	_, err := create(svc, twiliosim.RequestMessage, "+14155550290", "")
	require.NoError(t, err)

	b.sim.SetFaults(twiliosim.Faults{Share: 1, Kinds: []twiliosim.FaultKind{twiliosim.FaultRefuse500}})
	_, err = create(svc, twiliosim.RequestCall, "+14155550291", "")
	var rest *client.TwilioRestError
	require.ErrorAs(t, err, &rest)
	require.Equal(t, 20500, rest.Code)

	// Changing the faults while requests flow is safe.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 50 {
			b.sim.SetFaults(twiliosim.Faults{Share: float64(i%2) / 2, Kinds: []twiliosim.FaultKind{twiliosim.FaultRefuse429}})
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 20 {
			_, _ = create(svc, twiliosim.RequestMessage, fmt.Sprintf("+141555503%02d", i), "")
		}
	}()
	wg.Wait()

	b.sim.SetFaults(twiliosim.Faults{})
	_, err = create(svc, twiliosim.RequestMessage, "+14155550292", "")
	require.NoError(t, err)
	require.NoError(t, b.sim.Idle(ctx(t)))
}

func TestDroppedAnswerThroughChannel(t *testing.T) {
	t.Parallel()
	// The dispatcher's own Twilio channel sees a dropped answer as an error
	// that proves nothing, while the provider holds the message.
	b := setup(t, nil)
	const to = "+14155550293"
	b.sim.ScriptFaults(to, twiliosim.FaultAcceptDrop)
	_, err := b.sms.Send(context.Background(), &nudge.Message{Channel: nudge.SMS, To: to, Text: "Your payment is due."})
	require.Error(t, err)
	require.Len(t, held(b.sim, twiliosim.RequestMessage, to), 1)
	require.NoError(t, b.sim.Idle(ctx(t)))
}

func TestFailSender(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	svc := b.restClient(t)
	b.sim.FailSender(from, time.Now().Add(time.Hour))
	to := "+14155550291"
	got, err := create(svc, twiliosim.RequestMessage, to, "")
	var rest *client.TwilioRestError
	require.ErrorAs(t, err, &rest)
	require.Equal(t, http.StatusInternalServerError, rest.Status)
	require.Equal(t, 20500, rest.Code)
	require.Empty(t, got)
	require.Empty(t, held(b.sim, twiliosim.RequestMessage, to), "a refused request creates nothing")
	r := onlyRequest(t, b.sim, to)
	require.Equal(t, twiliosim.FaultRefuse500, r.Fault)
	require.Equal(t, from, r.From)

	// A failure that has run its course, or was lifted, lets requests through.
	b.sim.FailSender(from, time.Now().Add(-time.Second))
	_, err = create(svc, twiliosim.RequestMessage, "+14155550292", "")
	require.NoError(t, err)
	b.sim.FailSender(from, time.Now().Add(time.Hour))
	b.sim.FailSender(from, time.Time{})
	_, err = create(svc, twiliosim.RequestMessage, "+14155550293", "")
	require.NoError(t, err)
}
