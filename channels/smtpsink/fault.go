package smtpsink

import (
	"io"
	"net"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// Fault is a failure the sink injects on purpose, so a client's handling of
// it can be tested over a real connection. Turn one on with SetFault or
// FaultNext; Injected counts how often each was applied.
type Fault string

// Faults the sink can inject.
const (
	// FaultDropAfterData stores a message and then closes the connection
	// without replying to its final dot: the client reads EOF where the 250
	// should be and cannot know that the message was accepted.
	FaultDropAfterData Fault = "drop_after_data"
	// FaultOutage greets each new connection with 421 and closes it, and
	// answers 421 4.3.2 to MAIL, RCPT and DATA on connections already open.
	// With Options.ImplicitTLS the client sees a failed TLS handshake
	// instead of the 421 greeting.
	FaultOutage Fault = "outage"
	// FaultRejectSender answers 550 5.7.1 to MAIL FROM: the server refuses
	// the sending identity (relay policy, quota), whatever the recipient.
	FaultRejectSender Fault = "reject_sender"
	// FaultTempFailRcpt answers 451 4.3.0 to RCPT TO.
	FaultTempFailRcpt Fault = "temp_fail_rcpt"
	// FaultTempFailData answers 451 4.3.0 to the message, after reading it
	// to its final dot; the message is not stored.
	FaultTempFailData Fault = "temp_fail_data"
)

// faultForever marks a fault that stays on until SetFault turns it off.
const faultForever = -1

// SetFault turns f on (for every connection or command it applies to,
// until turned off) or off. Turning it off also cancels a FaultNext count.
func (s *Sink) SetFault(f Fault, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.faults[f] = faultForever
	} else {
		delete(s.faults, f)
	}
}

// FaultNext turns f on for the next n times it applies (connections refused
// or commands answered for FaultOutage, messages for the others), after
// which it turns itself off. It replaces an earlier setting of f; n <= 0
// turns f off.
func (s *Sink) FaultNext(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.faults, f)
		return
	}
	s.faults[f] = n
}

// Injected is how many times f was applied so far: connections refused
// and commands answered 421 for FaultOutage, MAIL FROM commands refused
// for FaultRejectSender, replies for the temporary failures and
// connections dropped for FaultDropAfterData.
func (s *Sink) Injected(f Fault) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injected[f]
}

// inject reports whether f is on, counting it (and using up one of a
// FaultNext count) when it is.
func (s *Sink) inject(f Fault) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	left, on := s.faults[f]
	if !on {
		return false
	}
	switch {
	case left == 1:
		delete(s.faults, f)
	case left > 1:
		s.faults[f] = left - 1
	}
	s.injected[f]++
	return true
}

// refuseTimeout bounds writing the 421 greeting to a refused connection.
const refuseTimeout = time.Second

// refuse answers a new connection with 421 and closes it, as a server
// shutting down or out of resources does (RFC 5321 §3.8).
func (s *Sink) refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(refuseTimeout))
	_, _ = io.WriteString(c, "421 4.3.2 "+s.opts.Domain+" Service not available, closing transmission channel\r\n")
	_ = c.Close()
}

// Replies of the injected faults.
var (
	errOutage         = &gosmtp.SMTPError{Code: 421, EnhancedCode: gosmtp.EnhancedCode{4, 3, 2}, Message: "Service not available"}
	errSenderRejected = &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Sender refused: relaying not permitted"}
	errTempFail       = &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Temporary local problem, try again later"}
	// errDropped is returned by a session whose connection was closed
	// before its reply; the client never reads it.
	errDropped = &gosmtp.SMTPError{Code: 421, EnhancedCode: gosmtp.EnhancedCode{4, 4, 2}, Message: "Connection dropped"}
)
