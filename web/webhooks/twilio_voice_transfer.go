package webhooks

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/templates"
)

// DefaultTransferTimeout is how long a transfer to the lender's agent line
// rings before it counts as unanswered, unless TwilioVoice.TransferTimeout
// says otherwise.
const DefaultTransferTimeout = 20 * time.Second

// Actions of the call events (nudge.EventCallback) about a transfer.
const (
	// ActionTransfer records that the call was transferred to AgentPhone.
	ActionTransfer = "transfer"
	// ActionTransferOutcome records how the transfer ended: Detail carries
	// dial_status (Twilio's DialCallStatus), connected, dial_call_sid and
	// dial_duration.
	ActionTransferOutcome = "transfer_outcome"
	// ActionCallback records that the borrower was told a person will call
	// back: no agent line, or a transfer that did not connect (Detail's
	// reason).
	ActionCallback = "callback"
)

// dialConnected are the DialCallStatus values of a transfer that reached a
// person.
var dialConnected = map[string]bool{"completed": true, "answered": true}

// transfer connects the borrower with the lender's agent line, or promises a
// call back when the lender has none. The <Dial> reports its outcome to
// VoiceDialURL, where dial takes it.
func (t *TwilioVoice) transfer(ctx context.Context, c *voiceCall, digits, speech string, parts map[string]string) ([]twiml.Element, error) {
	if err := t.apply(ctx, c, nudge.IntentTalkToPerson, StepMenu+"/"+string(nudge.IntentTalkToPerson), digits, speech, nudge.Date{}, ""); err != nil {
		return nil, err
	}
	p := c.phrases()
	if c.lender.AgentPhone == "" {
		if err := t.record(ctx, c, ActionCallback, map[string]any{"reason": "no_agent_line"}); err != nil {
			return nil, err
		}
		return []twiml.Element{c.say(p.callback), c.say(parts[templates.PartGoodbye]), &twiml.VoiceHangup{}}, nil
	}
	timeout := t.transferTimeout()
	if err := t.record(ctx, c, ActionTransfer, map[string]any{"to": "agent_phone", "timeout": int(timeout / time.Second)}); err != nil {
		return nil, err
	}
	return []twiml.Element{c.say(p.transfer), &twiml.VoiceDial{
		Number: c.lender.AgentPhone, Action: twilio.VoiceDialURL(t.PublicURL, c.token), Method: http.MethodPost,
		Timeout: strconv.Itoa(int(timeout / time.Second)),
	}}, nil
}

// dial takes the outcome of a transfer (the <Dial> action): it records it
// once per call, whatever it was, and when nobody answered (no-answer, busy,
// failed, canceled) tells the borrower a person will call back and records
// that too. The talk_to_person answer recorded at the transfer is the
// person's task.
func (t *TwilioVoice) dial(w http.ResponseWriter, r *http.Request, c *voiceCall) {
	ctx := r.Context()
	if err := t.load(ctx, c); err != nil {
		t.fail(w, "loading the call", err)
		return
	}
	st := c.form.Get("DialCallStatus")
	connected := dialConnected[st]
	detail := map[string]any{"dial_status": st, "connected": connected, "dial_call_sid": c.form.Get("DialCallSid"),
		"dial_duration": c.form.Get("DialCallDuration")}
	if err := t.record(ctx, c, ActionTransferOutcome, detail); err != nil {
		t.fail(w, "recording the transfer outcome", err)
		return
	}
	if connected {
		t.writeTwiML(w, []twiml.Element{&twiml.VoiceHangup{}})
		return
	}
	if err := t.record(ctx, c, ActionCallback, map[string]any{"reason": "transfer_not_connected", "dial_status": st}); err != nil {
		t.fail(w, "recording the call back", err)
		return
	}
	parts, err := t.render(c)
	if err != nil {
		t.fail(w, "rendering the call back", err)
		return
	}
	p := c.phrases()
	t.writeTwiML(w, []twiml.Element{c.say(p.notConnected), c.say(p.callback), c.say(parts[templates.PartGoodbye]), &twiml.VoiceHangup{}})
}

func (t *TwilioVoice) transferTimeout() time.Duration {
	if t.TransferTimeout <= 0 {
		return DefaultTransferTimeout
	}
	return t.TransferTimeout
}

// VoicemailBusinessName is how a limited-content voicemail of lender l names
// the business: the first of its VoicemailBusinessName and its Name that is
// set and does not say it collects debts (compliance.DebtWording), else
// nothing (configuration refuses such a lender; one stored otherwise is not
// named rather than named as a collector).
func VoicemailBusinessName(l nudge.Lender) string {
	for _, name := range []string{l.VoicemailBusinessName, l.Name} {
		if name != "" && compliance.DebtWording(name) == "" {
			return name
		}
	}
	return ""
}
