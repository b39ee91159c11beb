package twiliosim

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nudgehq/nudge/channels/twilio"
)

// runMessage plays a message's life: queued for Config.QueueDelay (it
// fails with 30036 if its validity period ends first), sent, then
// delivered or a carrier error, then the borrower's reply.
func (s *Sim) runMessage(sid string) {
	s.mu.Lock()
	m := *s.messages[sid]
	b := s.borrowerLocked(m.To)
	s.mu.Unlock()
	if validity := time.Duration(m.ValidityPeriod) * time.Second; m.ValidityPeriod > 0 && validity < s.cfg.QueueDelay {
		if s.wait(validity) {
			s.setMessageStatus(&m, "failed", 30036)
		}
		return
	}
	final, code := b.smsOutcome()
	if final != "failed" {
		if !s.wait(s.cfg.QueueDelay) {
			return
		}
		s.setMessageStatus(&m, "sent", 0)
	}
	if !s.wait(finalDelay) {
		return
	}
	s.setMessageStatus(&m, final, code)
	if final != "delivered" || !s.answersNow(b.Number, m.SID) {
		return
	}
	s.mu.Lock()
	n := s.replies[m.To]
	text, ok := b.replyFor(s.cfg.Seed, m.Body, n)
	if ok {
		s.replies[m.To] = n + 1
	}
	s.mu.Unlock()
	text = withPromiseDate(text, s.cfg.Clock.Now())
	if !ok || !s.wait(replyDelay) {
		return
	}
	s.receive(m.To, s.senderNumber(&m), text, &m)
}

// setMessageStatus stores a new status and posts the status callback.
func (s *Sim) setMessageStatus(m *Message, status string, code int) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	stored := s.messages[m.SID]
	stored.Status, stored.ErrorCode, stored.DateUpdated = status, code, now
	if status == "sent" {
		stored.DateSent = now
	}
	*m = *stored
	s.notifyLocked()
	s.mu.Unlock()
	if m.StatusCallback == "" {
		return
	}
	form := url.Values{
		"AccountSid":    {m.AccountSID},
		"ApiVersion":    {APIVersion},
		"From":          {s.senderNumber(m)},
		"MessageSid":    {m.SID},
		"MessageStatus": {status},
		"SmsSid":        {m.SID},
		"SmsStatus":     {status},
		"To":            {m.To},
	}
	if m.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if code != 0 {
		form.Set("ErrorCode", fmt.Sprint(code))
	}
	if status == "delivered" || status == "undelivered" {
		form.Set("RawDlrDoneDate", now.UTC().Format("0601021504"))
	}
	s.post(KindMessageStatus, m.SID, "POST", m.StatusCallback, form)
}

// senderNumber is the number the borrower sees a message come from.
func (s *Sim) senderNumber(m *Message) string {
	if m.From != "" {
		return m.From
	}
	if n, ok := s.cfg.ServiceNumbers[m.MessagingServiceSID]; ok {
		return n
	}
	return DefaultServiceNumber
}

// Inbound simulates a text from a borrower's number to one of the
// account's numbers, as if the borrower had typed it: Twilio's opt-out
// keywords are applied and the inbound webhook is posted to InboundURL.
// It returns the SID of the inbound message and waits for the webhook.
func (s *Sim) Inbound(from, to, body string) (string, Delivery) {
	s.mu.Lock()
	var last *Message
	for _, sid := range slices.Backward(s.msgOrder) {
		m := s.messages[sid]
		if m.Direction == "outbound-api" && m.To == from && s.senderNumber(m) == to {
			c := *m
			last = &c
			break
		}
	}
	s.mu.Unlock()
	return s.receive(from, to, body, last)
}

// receive stores an inbound message, applies opt-out keywords against the
// sender of replyTo (or the number texted) and posts the inbound webhook.
func (s *Sim) receive(from, to, body string, replyTo *Message) (string, Delivery) {
	key := to
	if replyTo != nil {
		key = replyTo.senderKey()
	}
	now := s.cfg.Clock.Now()
	m := &Message{
		SID: newSID("SM"), AccountSID: s.cfg.AccountSID, From: from, To: to, Body: body,
		Direction: "inbound", Status: "received", NumSegments: Segments(body),
		DateCreated: now, DateUpdated: now, DateSent: now,
	}
	if replyTo != nil {
		// The reply reaches the number (and so the account) that texted.
		m.MessagingServiceSID, m.AccountSID = replyTo.MessagingServiceSID, replyTo.AccountSID
	}
	keyword := strings.ToUpper(strings.TrimSpace(body))
	optOutType := ""
	switch {
	case slices.Contains(optOutKeywords, keyword):
		optOutType = "STOP"
	case slices.Contains(optInKeywords, keyword):
		optOutType = "START"
	case slices.Contains(helpKeywords, keyword):
		optOutType = "HELP"
	}
	s.mu.Lock()
	switch optOutType {
	case "STOP":
		s.optOuts[key+"|"+from] = true
	case "START":
		delete(s.optOuts, key+"|"+from)
	}
	s.messages[m.SID] = m
	s.msgOrder = append(s.msgOrder, m.SID)
	s.notifyLocked()
	s.mu.Unlock()
	if s.cfg.InboundURL == "" {
		return m.SID, Delivery{}
	}
	form := url.Values{
		"AccountSid":    {m.AccountSID},
		"ApiVersion":    {APIVersion},
		"Body":          {body},
		"From":          {from},
		"FromCountry":   {twilio.Region(from)},
		"MessageSid":    {m.SID},
		"NumMedia":      {"0"},
		"NumSegments":   {fmt.Sprint(m.NumSegments)},
		"SmsMessageSid": {m.SID},
		"SmsSid":        {m.SID},
		"SmsStatus":     {"received"},
		"To":            {to},
		"ToCountry":     {twilio.Region(to)},
	}
	if m.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if optOutType != "" {
		form.Set("OptOutType", optOutType)
	}
	return m.SID, s.post(KindInbound, m.SID, "POST", s.cfg.InboundURL, form)
}
