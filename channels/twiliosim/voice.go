package twiliosim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxTwiMLSteps bounds the documents one call walks through (Gather
// actions and Redirects), as a guard against redirect loops.
const maxTwiMLSteps = 20

// gatherDelay is how long a borrower takes to answer a <Gather> at Speed 1.
const gatherDelay = time.Second

// runCall plays a call: initiated, ringing, then busy / no-answer / failed,
// or answered and driven through its TwiML, then completed.
func (s *Sim) runCall(sid string) {
	s.mu.Lock()
	c := s.calls[sid]
	b := s.borrowerLocked(c.To)
	ringFor := time.Duration(c.Timeout) * time.Second
	c.StartTime = s.cfg.Clock.Now()
	s.mu.Unlock()
	seq := 0
	s.setCallStatus(sid, "initiated", "initiated", &seq, nil)
	if !s.wait(ringDelay) {
		return
	}
	s.setCallStatus(sid, "ringing", "ringing", &seq, nil)
	outcome := b.callOutcome()
	if outcome == CallHuman && !s.answersNow(b.Number, sid) {
		outcome = CallNoAnswer // not at this hour (hours.go)
	}
	if (outcome == CallHuman || outcome == CallMachine) && ringFor > 0 && ringFor < answerDelay {
		// The call stops ringing (Timeout) before the borrower picks up.
		if s.wait(ringFor) {
			s.finishCall(sid, string(CallNoAnswer), &seq)
		}
		return
	}
	if !s.wait(answerDelay) {
		return
	}
	switch outcome {
	case CallBusy, CallNoAnswer, CallFailed:
		s.finishCall(sid, string(outcome), &seq)
		return
	}
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	c.answeredAt = now
	if c.MachineDetection != "" {
		c.AnsweredBy = "human"
		if outcome == CallMachine {
			c.AnsweredBy = "machine_end_beep"
		}
	}
	s.mu.Unlock()
	s.setCallStatus(sid, "in-progress", "answered", &seq, nil)
	s.converse(sid, b, outcome == CallHuman)
	s.finishCall(sid, "completed", &seq)
}

// finishCall stores a final status and posts the completed event.
func (s *Sim) finishCall(sid, status string, seq *int) {
	s.mu.Lock()
	c := s.calls[sid]
	now := s.cfg.Clock.Now()
	c.EndTime = now
	if !c.answeredAt.IsZero() {
		c.Duration = int(now.Sub(c.answeredAt).Seconds())
	}
	duration := c.Duration
	s.mu.Unlock()
	extra := url.Values{}
	if status == "completed" {
		extra.Set("CallDuration", fmt.Sprint(duration))
		extra.Set("Duration", fmt.Sprint((duration+59)/60))
	}
	s.setCallStatus(sid, status, "completed", seq, extra)
}

// setCallStatus stores status and, when the call asked for event, posts
// the status callback.
func (s *Sim) setCallStatus(sid, status, event string, seq *int, extra url.Values) {
	s.mu.Lock()
	c := s.calls[sid]
	c.Status = status
	c.DateUpdated = s.cfg.Clock.Now()
	snapshot := c.clone()
	s.notifyLocked()
	s.mu.Unlock()
	if snapshot.StatusCallback == "" || !slices.Contains(snapshot.StatusCallbackEvents, event) {
		return
	}
	form := s.callParams(&snapshot)
	form.Set("CallbackSource", "call-progress-events")
	form.Set("SequenceNumber", fmt.Sprint(*seq))
	form.Set("Timestamp", rfc2822(snapshot.DateUpdated))
	for k, v := range extra {
		form[k] = v
	}
	*seq++
	s.post(KindCallStatus, sid, snapshot.StatusCallbackMethod, snapshot.StatusCallback, form)
}

// callParams are the standard parameters of every voice webhook.
func (s *Sim) callParams(c *Call) url.Values {
	form := url.Values{
		"AccountSid": {c.AccountSID},
		"ApiVersion": {APIVersion},
		"CallSid":    {c.SID},
		"CallStatus": {c.Status},
		"Called":     {c.To},
		"Caller":     {c.From},
		"Direction":  {"outbound-api"},
		"From":       {c.From},
		"To":         {c.To},
	}
	if c.AnsweredBy != "" {
		form.Set("AnsweredBy", c.AnsweredBy)
	}
	return form
}

// twimlNode is a generic TwiML element.
type twimlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr  `xml:",any,attr"`
	Text     string      `xml:",chardata"`
	Children []twimlNode `xml:",any"`
}

func (n twimlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// converse walks the call's TwiML: it records what is said, answers each
// <Gather> (when a person picked up and has input left) by posting Digits or
// SpeechResult to its action, follows <Redirect> and the action of a <Dial>
// (see dial), and stops at <Hangup>, <Reject>, a <Dial> without an action or
// the end of a document.
func (s *Sim) converse(sid string, b Borrower, human bool) {
	s.mu.Lock()
	c := s.calls[sid].clone()
	s.mu.Unlock()
	doc, docURL, err := c.Twiml, c.URL, error(nil)
	if doc == "" {
		doc, err = s.fetchTwiML(sid, http.MethodPost, c.URL, c.Method, nil)
	}
	gathered := 0
	for step := 0; err == nil && step < maxTwiMLSteps; step++ {
		var root twimlNode
		if err = xml.Unmarshal([]byte(doc), &root); err != nil {
			err = fmt.Errorf("twiliosim: call %s: TwiML from %s: %w", sid, docURL, err)
			break
		}
		if root.XMLName.Local != "Response" {
			// Twilio ends such a call with an application error (12100).
			err = fmt.Errorf("twiliosim: call %s: TwiML from %s has root <%s>, want <Response>", sid, docURL, root.XMLName.Local)
			break
		}
		next, nextMethod, input, done := s.walk(sid, docURL, root.Children, b, human, &gathered)
		if done || next == "" {
			break
		}
		target, rerr := resolve(docURL, next)
		if rerr != nil {
			err = fmt.Errorf("twiliosim: call %s: action %q: %w", sid, next, rerr)
			break
		}
		if !s.wait(gatherDelay) {
			return
		}
		docURL = target
		doc, err = s.fetchTwiML(sid, http.MethodPost, target, nextMethod, input)
	}
	if err != nil {
		s.mu.Lock()
		s.calls[sid].Error = err.Error()
		s.mu.Unlock()
	}
}

// walk runs the verbs of the document fetched from docURL. It returns the URL to fetch next
// (a Gather action or a Redirect), its method and extra parameters, or
// done when the call ends here.
func (s *Sim) walk(sid, docURL string, verbs []twimlNode, b Borrower, human bool, gathered *int) (next, method string, input url.Values, done bool) {
	for _, v := range verbs {
		switch v.XMLName.Local {
		case "Say":
			s.hear(sid, v.Text)
		case "Gather":
			for _, child := range v.Children {
				if child.XMLName.Local == "Say" {
					s.hear(sid, child.Text)
				}
			}
			if !human {
				continue
			}
			in, ok := s.answer(b, v, *gathered)
			if !ok {
				continue
			}
			*gathered++
			s.mu.Lock()
			s.calls[sid].Inputs = append(s.calls[sid].Inputs, in.Get("Digits")+in.Get("SpeechResult"))
			s.mu.Unlock()
			action := v.attr("action")
			if action == "" {
				action = docURL // Twilio posts to the current document by default
			}
			return action, v.attr("method"), in, false
		case "Redirect":
			return strings.TrimSpace(v.Text), v.attr("method"), nil, false
		case "Dial":
			return s.dial(sid, v)
		case "Hangup", "Reject":
			return "", "", nil, true
		}
	}
	return "", "", nil, true
}

// dial connects the call to the number of a <Dial> and, when the verb has an
// action, returns it with the outcome Twilio posts there (Config.DialStatus
// as DialCallStatus, a DialCallSid, and DialCallDuration when it
// connected); the call goes on with the TwiML the action answers. Without
// an action the call ends with the dialed leg.
func (s *Sim) dial(sid string, v twimlNode) (next, method string, input url.Values, done bool) {
	number := strings.TrimSpace(v.Text)
	for _, child := range v.Children {
		if child.XMLName.Local == "Number" {
			number = strings.TrimSpace(child.Text)
		}
	}
	s.mu.Lock()
	s.calls[sid].Dialed = append(s.calls[sid].Dialed, number)
	status := s.cfg.DialStatus
	s.mu.Unlock()
	action := v.attr("action")
	if action == "" {
		return "", "", nil, true
	}
	in := url.Values{"DialCallStatus": {status}, "DialCallSid": {newSID("CA")}}
	if status == "completed" || status == "answered" {
		in.Set("DialCallDuration", "60")
	}
	method = v.attr("method")
	if method == "" {
		method = http.MethodPost
	}
	return action, method, in, false
}

// answer picks the borrower's input for the n-th <Gather> of the call.
func (s *Sim) answer(b Borrower, gather twimlNode, n int) (url.Values, bool) {
	inputs := strings.Split(gather.attr("input"), " ")
	if slices.Contains(inputs, "speech") && n < len(b.Speech) {
		return url.Values{"SpeechResult": {b.Speech[n]}, "Confidence": {"0.92"}}, true
	}
	digits := b.Digits
	if digits == nil {
		if k, ok := s.cfg.Keys[b.Behaviour]; ok {
			digits = strings.Fields(k)
		}
	}
	if n < len(digits) && digits[n] != "" {
		return url.Values{"Digits": {digits[n]}}, true
	}
	return nil, false
}

func (s *Sim) hear(sid, text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	s.mu.Lock()
	s.calls[sid].Said = append(s.calls[sid].Said, text)
	s.mu.Unlock()
}

// fetchTwiML requests TwiML with the call's parameters plus extra.
func (s *Sim) fetchTwiML(sid, fallback, target, method string, extra url.Values) (string, error) {
	if method == "" {
		method = fallback
	}
	s.mu.Lock()
	c := s.calls[sid].clone()
	s.mu.Unlock()
	form := s.callParams(&c)
	for k, v := range extra {
		form[k] = v
	}
	d := s.post(KindTwiML, sid, strings.ToUpper(method), target, form)
	if !d.OK() {
		return "", fmt.Errorf("twiliosim: call %s: fetch TwiML: %w", sid, d.Err)
	}
	return d.Response, nil
}

func resolve(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if r.IsAbs() {
		return r.String(), nil
	}
	b, err := url.Parse(base)
	if err != nil || !b.IsAbs() {
		return "", fmt.Errorf("relative URL without an absolute base %q", base)
	}
	return b.ResolveReference(r).String(), nil
}
