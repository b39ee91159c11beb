package smtp

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	"github.com/nudgehq/nudge"
)

// Stage is the step of the SMTP conversation a failure happened at. Where
// it happened decides what it means: before the message's final dot was
// written the server cannot have accepted the message; after it, a lost
// reply leaves the outcome unknown.
type Stage string

// Stages of sending one message.
const (
	// StageConnect covers dialing, the greeting, EHLO, STARTTLS and AUTH.
	StageConnect Stage = "connect"
	// StageMail is the MAIL FROM command: the server judges the sender.
	StageMail Stage = "mail"
	// StageRcpt is the RCPT TO command: the server judges the recipient.
	StageRcpt Stage = "rcpt"
	// StageData is the DATA command, before any of the message is written.
	StageData Stage = "data"
	// StageMessage is writing the message up to and including its final
	// dot; a failure here means the dot never left, so the server cannot
	// have accepted the message.
	StageMessage Stage = "message"
	// StageReply is reading the server's reply to the final dot, which was
	// written: the server may hold the message even when the reply is lost.
	StageReply Stage = "reply"
)

// Error is a failure at one stage of sending a message.
type Error struct {
	// Stage is where the conversation failed.
	Stage Stage
	// Code is the server's reply code (550), or 0 when no reply was read
	// (a refused or dropped connection, a timeout, EOF).
	Code int
	// Enhanced is the reply's RFC 3463 enhanced status code ("5.1.1"), or
	// "" when the server sent none.
	Enhanced string
	// Err is the underlying error.
	Err error
}

// stageError builds an Error for err at stage, reading the reply code and
// enhanced status code from a *textproto.Error in its chain.
func stageError(stage Stage, err error) *Error {
	e := &Error{Stage: stage, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		e.Code = te.Code
		if m := enhancedRE.FindStringSubmatch(te.Msg); m != nil && m[1] == strconv.Itoa(te.Code/100) {
			e.Enhanced = m[0]
		}
	}
	return e
}

// enhancedRE matches an enhanced status code at the start of a reply text.
var enhancedRE = regexp.MustCompile(`^([245])\.\d{1,3}\.\d{1,3}\b`)

// Error names the stage and the underlying error.
func (e *Error) Error() string {
	return fmt.Sprintf("smtp %s: %v", e.Stage, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Classify turns an error from sending one message into a ProviderError
// whose Err is err, by where the conversation failed (the *Error in err's
// chain; an error without one is taken as a connection failure):
//
//	stage                 reply        outcome
//	connect, TLS, AUTH    any or none  Retry, ReasonProviderRetry
//	any                   4xx          Retry, ReasonProviderRetry
//	MAIL FROM             5xx          SenderRefused, ReasonPaused
//	RCPT TO               5xx          Undeliverable, ReasonUndeliverable (*)
//	DATA, after the dot   5xx          permanent, ReasonProviderFailed (**)
//	before the dot        none         Retry, ReasonProviderRetry
//	after the dot         none         MaybeAccepted, ReasonUnknownOutcome
//
// (*) unless the enhanced status code blames something other than the
// address or mailbox (X.1.x, X.2.x; 5.7.1 policy, say), which is a
// permanent ReasonProviderFailed. (**) Undeliverable, ReasonUndeliverable
// when the enhanced status code blames the mailbox (552 5.2.2, mailbox
// full).
//
// A reply the conversation did not expect (a 2xx or 3xx in the wrong
// place) counts as no reply. Code is the three-digit reply code ("550"), or
// "" without a reply.
func Classify(err error) *nudge.ProviderError {
	pe := &nudge.ProviderError{Err: err}
	var se *Error
	if !errors.As(err, &se) {
		se = stageError(StageConnect, err)
	}
	if se.Code != 0 {
		pe.Code = strconv.Itoa(se.Code)
	}
	switch class := se.Code / 100; {
	case se.Stage == StageConnect || class == 4:
		pe.Retry, pe.Reason = true, nudge.ReasonProviderRetry
	case class == 5:
		switch se.Stage {
		case StageMail:
			pe.SenderRefused, pe.Reason = true, nudge.ReasonPaused
		case StageRcpt:
			pe.Undeliverable, pe.Reason = mailboxProblem(se.Enhanced, true), nudge.ReasonUndeliverable
		default:
			pe.Undeliverable, pe.Reason = mailboxProblem(se.Enhanced, false), nudge.ReasonUndeliverable
		}
		if !pe.Undeliverable && !pe.SenderRefused {
			pe.Reason = nudge.ReasonProviderFailed
		}
	case se.Stage == StageReply:
		pe.MaybeAccepted, pe.Reason = true, nudge.ReasonUnknownOutcome
	default:
		pe.Retry, pe.Reason = true, nudge.ReasonProviderRetry
	}
	return pe
}

// mailboxProblem reports whether an enhanced status code ("5.1.1") blames
// the recipient's address (X.1.x) or mailbox (X.2.x); a reply without one
// is taken to when orNone is set.
func mailboxProblem(enhanced string, orNone bool) bool {
	if enhanced == "" {
		return orNone
	}
	parts := strings.Split(enhanced, ".")
	return len(parts) == 3 && (parts[1] == "1" || parts[1] == "2")
}
