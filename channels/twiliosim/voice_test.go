package twiliosim_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/nudgehq/nudge/channels/twiliosim"
)

const menu = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather numDigits="1" action="/voice/gather" input="dtmf">
    <Say>Press 1 to promise a payment.</Say>
  </Gather>
  <Say>We did not get your answer. Goodbye.</Say>
</Response>`

const thanks = `<Response><Say>Thank you.</Say><Hangup/></Response>`

func TestCallConversation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		borrower   twiliosim.Borrower
		events     []string
		wantEvents []string // CallStatus of each status callback
		answeredBy string
		said       []string
		inputs     []string
		final      string
	}{
		{
			name:       "human presses 1",
			borrower:   twiliosim.Borrower{Call: twiliosim.CallHuman, Digits: []string{"1"}},
			events:     []string{"initiated", "ringing", "answered", "completed"},
			wantEvents: []string{"initiated", "ringing", "in-progress", "completed"},
			answeredBy: "human",
			said:       []string{"Press 1 to promise a payment.", "Thank you."},
			inputs:     []string{"1"},
			final:      "completed",
		},
		{
			name:       "voicemail gives no input",
			borrower:   twiliosim.Borrower{Behaviour: twiliosim.BehaviourPromise, Call: twiliosim.CallMachine},
			wantEvents: []string{"completed"},
			answeredBy: "machine_end_beep",
			said:       []string{"Press 1 to promise a payment.", "We did not get your answer. Goodbye."},
			final:      "completed",
		},
		{
			name:       "generated keys from behaviour",
			borrower:   twiliosim.Borrower{Behaviour: twiliosim.BehaviourWrongNumber},
			wantEvents: []string{"completed"},
			answeredBy: "human",
			said:       []string{"Press 1 to promise a payment.", "Thank you."},
			inputs:     []string{"2"},
			final:      "completed",
		},
		{
			name:       "no answer",
			borrower:   twiliosim.Borrower{Call: twiliosim.CallNoAnswer},
			events:     []string{"ringing", "completed"},
			wantEvents: []string{"ringing", "no-answer"},
			final:      "no-answer",
		},
		{
			name:       "busy",
			borrower:   twiliosim.Borrower{Call: twiliosim.CallBusy},
			wantEvents: []string{"busy"},
			final:      "busy",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			b.app.twiml["/voice"] = menu
			b.app.twiml["/voice/gather"] = thanks
			to := "+1415555020" + string(rune('0'+i))
			b.sim.Script(to, tt.borrower)

			params := &api.CreateCallParams{}
			params.SetTo(to)
			params.SetFrom(from)
			params.SetUrl(b.app.url("/voice"))
			params.SetStatusCallback(b.app.url("/voice/status"))
			params.SetMachineDetection("Enable")
			if tt.events != nil {
				params.SetStatusCallbackEvent(tt.events)
			}
			created, err := b.restClient(t).CreateCall(params)
			require.NoError(t, err)
			require.Regexp(t, `^CA[0-9a-f]{32}$`, *created.Sid)
			require.Equal(t, "queued", *created.Status)
			require.NoError(t, b.sim.Idle(ctx(t)))

			var statuses []string
			for _, h := range b.app.hooksOn("/voice/status") {
				require.NoError(t, h.SigErr)
				require.Equal(t, *created.Sid, h.Form.Get("CallSid"))
				statuses = append(statuses, h.Form.Get("CallStatus"))
			}
			require.Equal(t, tt.wantEvents, statuses)

			for _, h := range b.app.hooksOn("/voice") {
				require.NoError(t, h.SigErr)
				require.Equal(t, "in-progress", h.Form.Get("CallStatus"))
				require.Equal(t, tt.answeredBy, h.Form.Get("AnsweredBy"))
			}
			var digits []string
			for _, h := range b.app.hooksOn("/voice/gather") {
				require.NoError(t, h.SigErr)
				digits = append(digits, h.Form.Get("Digits"))
			}
			require.Equal(t, tt.inputs, digits)

			c, ok := b.sim.Call(*created.Sid)
			require.True(t, ok)
			require.Equal(t, tt.final, c.Status)
			require.Equal(t, tt.said, c.Said)
			require.Equal(t, tt.inputs, c.Inputs)
			require.Empty(t, c.Error)

			fetched, err := b.restClient(t).FetchCall(*created.Sid, nil)
			require.NoError(t, err)
			require.Equal(t, tt.final, *fetched.Status)
		})
	}
}

const identity = `<Response>
  <Gather numDigits="1" action="/voice/menu" input="dtmf speech"><Say>Press 1 if you are Ana.</Say></Gather>
</Response>`

const mainMenu = `<Response>
  <Gather numDigits="1" action="/voice/choice" input="dtmf speech"><Say>Press 3 if you have paid.</Say></Gather>
</Response>`

func TestCallFollowsOurMenu(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		borrower twiliosim.Borrower
		inputs   []string
		said     []string
	}{
		{
			name:     "paid presses 1 then 3",
			borrower: twiliosim.Borrower{Behaviour: twiliosim.BehaviourPaid},
			inputs:   []string{"1", "3"},
			said:     []string{"Press 1 if you are Ana.", "Press 3 if you have paid.", "Thank you."},
		},
		{
			name:     "stop presses 1 then 9",
			borrower: twiliosim.Borrower{Behaviour: twiliosim.BehaviourStop},
			inputs:   []string{"1", "9"},
			said:     []string{"Press 1 if you are Ana.", "Press 3 if you have paid.", "Thank you."},
		},
		{
			name:     "wrong person presses 2 only",
			borrower: twiliosim.Borrower{Behaviour: twiliosim.BehaviourWrongNumber},
			inputs:   []string{"2"},
			said:     []string{"Press 1 if you are Ana.", "Press 3 if you have paid."},
		},
		{
			name:     "speech answers",
			borrower: twiliosim.Borrower{Call: twiliosim.CallHuman, Speech: []string{"yes", "已经还了"}},
			inputs:   []string{"yes", "已经还了"},
			said:     []string{"Press 1 if you are Ana.", "Press 3 if you have paid.", "Thank you."},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			b.app.twiml["/voice"] = identity
			b.app.twiml["/voice/menu"] = mainMenu
			b.app.twiml["/voice/choice"] = thanks
			to := "+1415555021" + string(rune('0'+i))
			b.sim.Script(to, tt.borrower)
			params := &api.CreateCallParams{}
			params.SetTo(to)
			params.SetFrom(from)
			params.SetUrl(b.app.url("/voice"))
			created, err := b.restClient(t).CreateCall(params)
			require.NoError(t, err)
			require.NoError(t, b.sim.Idle(ctx(t)))
			c, ok := b.sim.Call(*created.Sid)
			require.True(t, ok)
			require.Equal(t, tt.inputs, c.Inputs)
			require.Equal(t, tt.said, c.Said)
			require.Empty(t, c.Error)
		})
	}
}

func TestCallRejectsTwiMLWithoutResponseRoot(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.app.twiml["/voice"] = `<Say>Hello</Say>`
	to := "+14155550220"
	b.sim.Script(to, twiliosim.Borrower{Call: twiliosim.CallHuman})
	params := &api.CreateCallParams{}
	params.SetTo(to)
	params.SetFrom(from)
	params.SetUrl(b.app.url("/voice"))
	created, err := b.restClient(t).CreateCall(params)
	require.NoError(t, err)
	require.NoError(t, b.sim.Idle(ctx(t)))
	c, ok := b.sim.Call(*created.Sid)
	require.True(t, ok)
	require.Contains(t, c.Error, "want <Response>")
	require.Empty(t, c.Said)
}

func TestCallFollowsDialAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   string // Config.DialStatus; empty is the default
		want     string
		duration string
	}{
		{name: "the number dialed answers by default", want: "completed", duration: "60"},
		{name: "nobody answers", status: "no-answer", want: "no-answer"},
		{name: "busy", status: "busy", want: "busy"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *twiliosim.Config) { c.DialStatus = tt.status })
			b.app.twiml["/voice"] = `<Response><Say>Please hold.</Say><Dial action="/voice/dialed" timeout="20">+18005550199</Dial><Say>Never heard.</Say></Response>`
			b.app.twiml["/voice/dialed"] = `<Response><Say>Someone will call you back.</Say><Hangup/></Response>`
			to := "+1415555023" + string(rune('0'+i))
			b.sim.Script(to, twiliosim.Borrower{Call: twiliosim.CallHuman})
			params := &api.CreateCallParams{}
			params.SetTo(to)
			params.SetFrom(from)
			params.SetUrl(b.app.url("/voice"))
			created, err := b.restClient(t).CreateCall(params)
			require.NoError(t, err)
			require.NoError(t, b.sim.Idle(ctx(t)))
			c, ok := b.sim.Call(*created.Sid)
			require.True(t, ok)
			require.Empty(t, c.Error)
			require.Equal(t, []string{"+18005550199"}, c.Dialed)
			require.Equal(t, []string{"Please hold.", "Someone will call you back."}, c.Said)
			hooks := b.app.hooksOn("/voice/dialed")
			require.Len(t, hooks, 1)
			require.NoError(t, hooks[0].SigErr)
			require.Equal(t, tt.want, hooks[0].Form.Get("DialCallStatus"))
			require.Equal(t, tt.duration, hooks[0].Form.Get("DialCallDuration"))
			require.Regexp(t, `^CA[0-9a-f]{32}$`, hooks[0].Form.Get("DialCallSid"))
		})
	}
}

func TestCallEndsAtDialWithoutAction(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.app.twiml["/voice"] = `<Response><Dial>+18005550199</Dial><Say>Never heard.</Say></Response>`
	to := "+14155550240"
	b.sim.Script(to, twiliosim.Borrower{Call: twiliosim.CallHuman})
	params := &api.CreateCallParams{}
	params.SetTo(to)
	params.SetFrom(from)
	params.SetUrl(b.app.url("/voice"))
	created, err := b.restClient(t).CreateCall(params)
	require.NoError(t, err)
	require.NoError(t, b.sim.Idle(ctx(t)))
	c, ok := b.sim.Call(*created.Sid)
	require.True(t, ok)
	require.Equal(t, []string{"+18005550199"}, c.Dialed)
	require.Empty(t, c.Said)
}
