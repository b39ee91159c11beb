package twilio_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
)

func restErr(status, code int) error {
	return &client.TwilioRestError{Status: status, Code: code, Message: "m", MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		err           error
		retry         bool
		optOut        bool
		undeliverable bool
		maybeAccepted bool
		reason        nudge.Reason
		code          string
	}{
		{name: "opted out", err: restErr(400, 21610), optOut: true, reason: nudge.ReasonOptedOut, code: "21610"},
		{name: "invalid To", err: restErr(400, 21211), undeliverable: true, reason: nudge.ReasonUndeliverable, code: "21211"},
		{name: "invalid call To", err: restErr(400, 21217), undeliverable: true, reason: nudge.ReasonUndeliverable, code: "21217"},
		{name: "not mobile", err: restErr(400, 21614), undeliverable: true, reason: nudge.ReasonUndeliverable, code: "21614"},
		{name: "landline not allowed", err: restErr(400, 21635), undeliverable: true, reason: nudge.ReasonUndeliverable, code: "21635"},
		{name: "landline or unreachable carrier", err: restErr(400, 30006), undeliverable: true, reason: nudge.ReasonUndeliverable, code: "30006"},
		{name: "blocked", err: restErr(400, 30004), reason: nudge.ReasonProviderFailed, code: "30004"},
		{name: "carrier filtered", err: restErr(400, 30007), reason: nudge.ReasonProviderFailed, code: "30007"},
		{name: "handset unreachable", err: restErr(400, 30003), retry: true, reason: nudge.ReasonProviderRetry, code: "30003"},
		{name: "unknown carrier error", err: restErr(400, 30008), retry: true, reason: nudge.ReasonProviderRetry, code: "30008"},
		{name: "too many requests code", err: restErr(429, 20429), retry: true, reason: nudge.ReasonProviderRetry, code: "20429"},
		{name: "HTTP 429 other code", err: restErr(429, 0), retry: true, reason: nudge.ReasonProviderRetry, code: "429"},
		{name: "server error", err: restErr(503, 20500), retry: true, reason: nudge.ReasonProviderRetry, code: "20500"},
		{name: "other client error", err: restErr(400, 21602), reason: nudge.ReasonProviderFailed, code: "21602"},
		{name: "wrapped rest error", err: fmt.Errorf("send: %w", restErr(400, 21610)), optOut: true, reason: nudge.ReasonOptedOut, code: "21610"},
		{name: "v1 error", err: &client.RestErrorV1{Code: 20429, HttpStatusCode: 429}, retry: true, reason: nudge.ReasonProviderRetry, code: "20429"},
		{name: "deadline", err: &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: context.DeadlineExceeded}, maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, code: "no_answer"},
		{name: "canceled", err: context.Canceled, maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, code: "no_answer"},
		{name: "reset", err: &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, code: "no_answer"},
		{name: "EOF", err: &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: io.EOF}, maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, code: "no_answer"},
		{name: "unexpected EOF", err: io.ErrUnexpectedEOF, maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, code: "no_answer"},
		{name: "unknown error", err: errors.New("boom"), maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, code: "no_answer"},
		{name: "empty rest error from a proxy's JSON", err: &client.TwilioRestError{Message: "bad gateway"}, maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, code: "no_answer"},
		{name: "connection refused", err: &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, retry: true, reason: nudge.ReasonProviderRetry, code: "network"},
		{name: "ECONNREFUSED", err: fmt.Errorf("post: %w", syscall.ECONNREFUSED), retry: true, reason: nudge.ReasonProviderRetry, code: "network"},
		{name: "DNS", err: &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: &net.DNSError{Err: "no such host", Name: "api.twilio.com", IsNotFound: true}}, retry: true, reason: nudge.ReasonProviderRetry, code: "network"},
		{name: "TLS unknown authority", err: &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: x509.UnknownAuthorityError{}}, retry: true, reason: nudge.ReasonProviderRetry, code: "network"},
		{name: "TLS alert", err: fmt.Errorf("handshake: %w", tls.AlertError(40)), retry: true, reason: nudge.ReasonProviderRetry, code: "network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pe := twilio.Classify(tt.err)
			require.NotNil(t, pe)
			require.Equal(t, tt.retry, pe.Retry, "retry")
			require.Equal(t, tt.optOut, pe.OptOut, "opt-out")
			require.Equal(t, tt.undeliverable, pe.Undeliverable, "undeliverable")
			require.Equal(t, tt.maybeAccepted, pe.MaybeAccepted, "maybe accepted")
			require.False(t, pe.Retry && pe.MaybeAccepted, "a send that may have been accepted is never retried")
			require.Equal(t, tt.reason, pe.Reason)
			require.Equal(t, tt.code, pe.Code)
			require.ErrorIs(t, pe, tt.err)
		})
	}
}

func TestClassifyNilAndProviderError(t *testing.T) {
	t.Parallel()
	require.Nil(t, twilio.Classify(nil))
	pe := &nudge.ProviderError{Code: "x"}
	require.Same(t, pe, twilio.Classify(fmt.Errorf("wrapped: %w", pe)))
}

func TestClassifyCodeFromCallback(t *testing.T) {
	t.Parallel()
	pe := twilio.ClassifyCode(30005, 0, nil)
	require.True(t, pe.Undeliverable)
	require.False(t, pe.Retry)
	require.Equal(t, "30005", pe.Code)
	require.Error(t, pe.Err)
}

// TestClassifyReportedCode: a code reported after acceptance is classified
// as ClassifyCode classifies it; no code, a zero or a non-number is nothing.
func TestClassifyReportedCode(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"", "0", "abc"} {
		require.Nil(t, twilio.ClassifyReportedCode(code), "code %q", code)
	}
	require.True(t, twilio.ClassifyReportedCode("21610").OptOut)
	require.True(t, twilio.ClassifyReportedCode("30006").Undeliverable)
	pe := twilio.ClassifyReportedCode("30007")
	require.False(t, pe.OptOut || pe.Undeliverable || pe.Retry)
	require.Equal(t, "30007", pe.Code)
}
