package twilio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

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

// Classify turns an error from the Twilio API into a *nudge.ProviderError.
// Twilio REST errors are classified by code and HTTP status (ClassifyCode);
// timeouts, cancellations and network failures are retryable; anything else
// is retryable too, because it leaves unknown whether Twilio accepted the
// message and the pipeline's claim decides what a retry may do. A nil error
// yields nil; an error that already is a ProviderError is returned as is.
func Classify(err error) *nudge.ProviderError {
	if err == nil {
		return nil
	}
	if pe, ok := nudge.AsProviderError(err); ok {
		return pe
	}
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		return ClassifyCode(rest.Code, rest.Status, err)
	}
	var v1 *client.RestErrorV1
	if errors.As(err, &v1) {
		return ClassifyCode(v1.Code, v1.HttpStatusCode, err)
	}
	var status *httpStatusError
	if errors.As(err, &status) {
		return ClassifyCode(0, status.code, err)
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &netErr):
		return &nudge.ProviderError{Retry: true, Code: "network", Reason: nudge.ReasonProviderRetry, Err: err}
	}
	return &nudge.ProviderError{Retry: true, Reason: nudge.ReasonProviderRetry, Err: err}
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
