package channels

import "strings"

// ErrorCode is one provider error code an attempt may record, with what it
// means for a person reading the attempt.
type ErrorCode struct {
	// Code is the code as stored on the attempt ("30007", "550", "network").
	Code string
	// Provider names who reports it: "Twilio", "SMTP" or "Nudge".
	Provider string
	// Meaning is one short sentence: what happened and what it means for
	// the borrower's number or address.
	Meaning string
}

// errorCodes is the one table of error codes the console, the API and the
// docs show: Twilio's REST and delivery codes (twilio.com/docs/api/errors),
// SMTP reply codes (RFC 5321) and the codes Nudge itself records when a
// provider gave none.
var errorCodes = []ErrorCode{
	{"20003", "Twilio", "Twilio refused the account credentials; fix the Twilio configuration."},
	{"20404", "Twilio", "Twilio has no such resource (message, call or number)."},
	{"20429", "Twilio", "Too many concurrent requests to Twilio; the send is retried."},
	{"21211", "Twilio", "The To number is not a valid phone number."},
	{"21217", "Twilio", "The number called is not a valid phone number."},
	{"21408", "Twilio", "The Twilio account may not send to this country or region."},
	{"21606", "Twilio", "The From number cannot send SMS to this destination."},
	{"21608", "Twilio", "A trial account may only send to verified numbers."},
	{"21610", "Twilio", "The borrower replied STOP to this sender: it is an opt-out and is never retried."},
	{"21611", "Twilio", "The sender's outgoing queue is full; the send is retried later."},
	{"21612", "Twilio", "The To number cannot be reached by SMS from this sender."},
	{"21614", "Twilio", "The To number is not a mobile number and cannot receive SMS."},
	{"21635", "Twilio", "The To number is a landline and cannot receive SMS."},
	{"13224", "Twilio", "The number called is not a valid phone number (call rejected before dialing)."},
	{"13225", "Twilio", "The call was blocked: the number is on Twilio's fraud block list."},
	{"13227", "Twilio", "The Twilio account may not call this country (geographic permissions)."},
	{"30001", "Twilio", "The message waited too long in the sender's queue and was not sent."},
	{"30002", "Twilio", "The Twilio account was suspended."},
	{"30003", "Twilio", "The handset is off or out of coverage; the message may be retried."},
	{"30004", "Twilio", "The message was blocked by the carrier or the handset."},
	{"30005", "Twilio", "The number does not exist at the carrier (unknown destination)."},
	{"30006", "Twilio", "A landline or an unreachable carrier: the number cannot receive SMS."},
	{"30007", "Twilio", "The carrier filtered the message as spam or unregistered traffic."},
	{"30008", "Twilio", "The carrier reported an unknown error; the message may be retried."},
	{"30034", "Twilio", "The sender is not registered for A2P 10DLC, so US carriers block it."},
	{"421", "SMTP", "The mail server is not available now; the email is retried."},
	{"450", "SMTP", "The mailbox is busy or not available now; the email is retried."},
	{"451", "SMTP", "The mail server had a local error; the email is retried."},
	{"452", "SMTP", "The mail server is out of storage; the email is retried."},
	{"550", "SMTP", "The mailbox does not exist or the server refused the email."},
	{"551", "SMTP", "The mailbox is not on that server."},
	{"552", "SMTP", "The mailbox is full or the email is too large."},
	{"553", "SMTP", "The address is not allowed (a bad mailbox name)."},
	{"554", "SMTP", "The server refused the email (policy, spam or a blocked sender)."},
	{"network", "Nudge", "The request never reached the provider whole (DNS, connection or TLS failure); it is retried."},
	{"no_answer", "Nudge", "The provider's answer was lost after the request was sent; the reconciler checks whether it was sent."},
	{"no_sender", "Nudge", "No sender is configured for this channel and lender."},
	{"invalid_address", "Nudge", "The address is not a valid email address."},
	{"console_write", "Nudge", "The console sender could not write the message."},
}

var errorCodeIndex = func() map[string]ErrorCode {
	m := make(map[string]ErrorCode, len(errorCodes))
	for _, c := range errorCodes {
		m[c.Code] = c
	}
	return m
}()

// ErrorCodes returns every known error code, in the table's order.
func ErrorCodes() []ErrorCode { return append([]ErrorCode(nil), errorCodes...) }

// LookupErrorCode returns what code means. Codes are compared without
// surrounding space; an SMTP reply code followed by an enhanced status
// ("550 5.1.1") is looked up by its first three digits.
func LookupErrorCode(code string) (ErrorCode, bool) {
	code = strings.TrimSpace(code)
	if c, ok := errorCodeIndex[code]; ok {
		return c, true
	}
	if len(code) > 3 && code[3] == ' ' {
		if c, ok := errorCodeIndex[code[:3]]; ok && c.Provider == "SMTP" {
			return c, true
		}
	}
	return ErrorCode{}, false
}

// ErrorMeaning returns the short meaning of code, or "" when the code is
// empty or not in the table.
func ErrorMeaning(code string) string {
	c, _ := LookupErrorCode(code)
	return c.Meaning
}
