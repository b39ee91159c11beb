package smtp

import (
	"errors"
	"net/textproto"
	"strconv"
	"strings"

	mail "github.com/wneessen/go-mail"

	"github.com/nudgehq/nudge"
)

// Classify turns an error from sending one message into a ProviderError
// whose Err is err:
//
//   - a 4xx reply, a failure without a reply (connection refused or
//     dropped, timeout) or anything unrecognised is transient: Retry,
//     ReasonProviderRetry;
//   - a 5xx reply to RCPT TO or to the message (DATA) is permanent and marks
//     the address undeliverable (Undeliverable, ReasonUndeliverable), unless
//     its enhanced status code (RFC 3463) says the problem is not the
//     mailbox's: only X.1.x (address) and X.2.x (mailbox) do, when the
//     server sends one;
//   - a 5xx reply to MAIL FROM, or any other 5xx, is permanent but says
//     nothing about the recipient (ReasonProviderFailed).
//
// Code is the three-digit reply code ("550"), or "" without a reply.
func Classify(err error) *nudge.ProviderError {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return classifyDial(err)
	}
	code := se.ErrorCode()
	pe := &nudge.ProviderError{Err: err}
	if code != 0 {
		pe.Code = strconv.Itoa(code)
	}
	switch {
	case code >= 500 && code < 600:
		pe.Reason = nudge.ReasonProviderFailed
		switch se.Reason {
		case mail.ErrSMTPRcptTo, mail.ErrSMTPData, mail.ErrSMTPDataClose, mail.ErrWriteContent:
			if mailboxProblem(se.EnhancedStatusCode()) {
				pe.Undeliverable, pe.Reason = true, nudge.ReasonUndeliverable
			}
		}
	default:
		pe.Retry, pe.Reason = true, nudge.ReasonProviderRetry
	}
	return pe
}

// mailboxProblem reports whether an enhanced status code ("5.1.1") blames
// the recipient's address or mailbox; a reply without one is taken to.
func mailboxProblem(enhanced string) bool {
	if enhanced == "" {
		return true
	}
	parts := strings.Split(enhanced, ".")
	return len(parts) == 3 && (parts[1] == "1" || parts[1] == "2")
}

// classifyDial classifies a failure to connect, greet, start TLS or
// authenticate. None of them is the recipient's fault and an operator can
// fix each, so all are transient; Code is the server's reply code when
// there is one (535 for bad credentials).
func classifyDial(err error) *nudge.ProviderError {
	pe := &nudge.ProviderError{Retry: true, Reason: nudge.ReasonProviderRetry, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		pe.Code = strconv.Itoa(te.Code)
	}
	return pe
}
