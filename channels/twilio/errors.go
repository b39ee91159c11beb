package twilio

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"

	nudge "github.com/nudgehq/nudge"
	"github.com/twilio/twilio-go/client"
)

// Twilio error codes Nudge treats specially (COMPLIANCE.md, "Provider limits").
const (
	CodeAuthenticate       = 20003 // bad credentials
	CodeNotFound           = 20404 // the resource does not exist
	CodeTooManyRequests    = 20429 // API concurrency limit
	CodeInvalidTo          = 21211 // the To number is not a valid phone number
	CodeInvalidCallTo      = 21217 // the To number of a call is not a valid phone number
	CodeOptedOut           = 21610 // the recipient replied STOP to this sender
	CodeToNotReachable     = 21612 // the To number cannot be reached over SMS
	CodeNotMobile          = 21614 // the To number is not a mobile number
	CodeLandlineNotAllowed = 21635 // the To number is a landline
	CodeUnreachable        = 30003 // the handset is off or out of coverage
	CodeBlocked            = 30004 // the message was blocked
	CodeUnknownDestination = 30005 // the destination handset does not exist
	CodeLandline           = 30006 // a landline or an unreachable carrier
	CodeFiltered           = 30007 // carrier filtering
	CodeUnknownError       = 30008 // an unknown error at the carrier
)

// Codes Classify puts in nudge.ProviderError.Code when Twilio named none.
const (
	// NetworkCode marks a request that never reached Twilio whole: it failed
	// while resolving, dialing, in the TLS handshake or while being written.
	NetworkCode = "network"
	// NoAnswerCode marks a request Twilio may have acted on whose answer was
	// lost: a timeout, reset or EOF after it was written, or a 2xx answer
	// that could not be read or named no sid.
	NoAnswerCode = "no_answer"
)

// Classify turns an error from the Twilio API into a *nudge.ProviderError,
// by whether Twilio may have accepted the request:
//
//   - Twilio answered with an error (a REST error with a code or status):
//     classified by code and HTTP status (ClassifyCode), so 429 and 5xx are
//     retried and other 4xx are permanent.
//   - An HTTP answer whose body is not a Twilio error: a 502, 503 or 504
//     came from a proxy or gateway that may have passed the request on, so it
//     is MaybeAccepted (Code is the status, Reason nudge.ReasonUnknownOutcome);
//     any other status is classified by ClassifyCode.
//   - Nothing was sent, or not all of it (DNS, dial and TLS handshake
//     failures, connection refused, a context that ended before the request
//     was written, a failed write): retryable, Code NetworkCode.
//   - The request was written and the answer was lost (a timeout or
//     cancellation, a reset, EOF or unexpected EOF), or a 2xx answer could
//     not be read or named no sid: MaybeAccepted with Retry false, Code
//     NoAnswerCode, Reason nudge.ReasonUnknownOutcome. Such a send must be
//     reconciled (see Lookup), never resent blind.
//
// The requests made by SMS and Voice carry what net/http/httptrace saw of
// the write; for any other error Classify judges by the error alone and
// treats whatever does not prove that nothing was sent as MaybeAccepted. A
// nil error yields nil; an error that already is a ProviderError is returned
// as is.
func Classify(err error) *nudge.ProviderError {
	if err == nil {
		return nil
	}
	if pe, ok := nudge.AsProviderError(err); ok {
		return pe
	}
	var rest *client.TwilioRestError
	if errors.As(err, &rest) && (rest.Code != 0 || rest.Status != 0) {
		return ClassifyCode(rest.Code, rest.Status, err)
	}
	var v1 *client.RestErrorV1
	if errors.As(err, &v1) {
		return ClassifyCode(v1.Code, v1.HttpStatusCode, err)
	}
	var status *httpStatusError
	if errors.As(err, &status) {
		switch status.code {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return maybeAccepted(strconv.Itoa(status.code), err)
		}
		return ClassifyCode(0, status.code, err)
	}
	var unsent *unsentError
	if errors.As(err, &unsent) || notSent(err) {
		return &nudge.ProviderError{Retry: true, Code: NetworkCode, Reason: nudge.ReasonProviderRetry, Err: err}
	}
	return maybeAccepted(NoAnswerCode, err)
}

func maybeAccepted(code string, err error) *nudge.ProviderError {
	return &nudge.ProviderError{MaybeAccepted: true, Code: code, Reason: nudge.ReasonUnknownOutcome, Err: err}
}

// notSent reports whether err alone proves the request never left: a DNS
// failure, a failed dial (connection refused, no route) or a failed TLS
// handshake all happen before a byte of the request is written.
func notSent(err error) bool {
	var lost *lostAnswerError
	if errors.As(err, &lost) {
		return false
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &dnsErr), errors.Is(err, syscall.ECONNREFUSED):
		return true
	case errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect"):
		return true
	case errors.As(err, &verify), errors.As(err, &record), errors.As(err, &alert),
		errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid):
		return true
	}
	return false
}

// ClassifyReportedCode classifies an error code Twilio reported on a message
// after accepting it (a status callback's ErrorCode, a message record's
// error_code) as ClassifyCode does; nil when there is none ("", "0") or it
// is not a number. An absent code costs no parsing.
func ClassifyReportedCode(code string) *nudge.ProviderError {
	if code == "" {
		return nil
	}
	if n, err := strconv.Atoi(code); err == nil && n != 0 {
		return ClassifyCode(n, 0, nil)
	}
	return nil
}

// ClassifyCode classifies a Twilio error code (from an API error or the
// ErrorCode of a status callback) together with the HTTP status, if any (0
// when there is none). Opt-outs (21610) are permanent with OptOut set;
// invalid, non-mobile and landline numbers (21211, 21217, 21612, 21614, 21635,
// 30005, 30006) are permanent and Undeliverable; blocked and filtered
// messages (30004, 30007) are permanent; an unreachable handset (30003), an
// unknown carrier error (30008), rate limiting (429, 20429), server errors
// (5xx) and bad credentials (20003, which an operator can fix before the
// capped retries run out) are retryable; every other 4xx is permanent.
func ClassifyCode(code, httpStatus int, cause error) *nudge.ProviderError {
	pe := &nudge.ProviderError{Code: strconv.Itoa(code), Err: cause}
	if code == 0 {
		pe.Code = strconv.Itoa(httpStatus)
	}
	if pe.Err == nil {
		pe.Err = fmt.Errorf("twilio error %d (http %d)", code, httpStatus)
	}
	switch code {
	case CodeOptedOut:
		pe.OptOut = true
		pe.Reason = nudge.ReasonOptedOut
		return pe
	case CodeInvalidTo, CodeInvalidCallTo, CodeToNotReachable, CodeNotMobile, CodeLandlineNotAllowed, CodeUnknownDestination, CodeLandline:
		pe.Undeliverable = true
		pe.Reason = nudge.ReasonUndeliverable
		return pe
	case CodeBlocked, CodeFiltered:
		pe.Reason = nudge.ReasonProviderFailed
		return pe
	case CodeUnreachable, CodeUnknownError, CodeTooManyRequests, CodeAuthenticate:
		pe.Retry = true
		pe.Reason = nudge.ReasonProviderRetry
		return pe
	}
	if httpStatus == http.StatusTooManyRequests || httpStatus >= 500 {
		pe.Retry = true
		pe.Reason = nudge.ReasonProviderRetry
		return pe
	}
	pe.Reason = nudge.ReasonProviderFailed
	return pe
}

// httpStatusError records a non-2xx HTTP status whose body twilio-go could
// not decode as a Twilio error (an HTML page from a proxy, an empty 503).
type httpStatusError struct {
	code int
	err  error
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("twilio API answered HTTP %d: %v", e.code, e.err)
}

func (e *httpStatusError) Unwrap() error { return e.err }

// unsentError marks an error after which the transport proved the request
// never reached Twilio whole.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return "request not sent: " + e.err.Error() }

func (e *unsentError) Unwrap() error { return e.err }

// lostAnswerError marks an error after which Twilio may have acted on the
// request: it was written (or Twilio answered 2xx) and the answer was lost.
type lostAnswerError struct{ err error }

func (e *lostAnswerError) Error() string { return "answer lost: " + e.err.Error() }

func (e *lostAnswerError) Unwrap() error { return e.err }
