package channels_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/channels/twilio"
)

func TestErrorMeaning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, code, want string
	}{
		{name: "opt-out", code: "21610", want: "The borrower replied STOP to this sender: it is an opt-out and is never retried."},
		{name: "carrier filtering", code: "30007", want: "The carrier filtered the message as spam or unregistered traffic."},
		{name: "invalid call number", code: "13224", want: "The number called is not a valid phone number (call rejected before dialing)."},
		{name: "surrounding space", code: " 30003 ", want: "The handset is off or out of coverage; the message may be retried."},
		{name: "smtp with enhanced status", code: "550 5.1.1", want: "The mailbox does not exist or the server refused the email."},
		{name: "lost answer", code: "no_answer", want: "The provider's answer was lost after the request was sent; the reconciler checks whether it was sent."},
		{name: "unknown code", code: "99999", want: ""},
		{name: "twilio code with a suffix is not smtp", code: "306 x", want: ""},
		{name: "empty", code: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, channels.ErrorMeaning(tt.code))
		})
	}
}

// Every code the Twilio classifier names, and every code Nudge records
// itself, has a meaning; the table has each code once, with a sentence.
func TestErrorCodesTable(t *testing.T) {
	t.Parallel()
	named := []int{
		twilio.CodeAuthenticate, twilio.CodeNotFound, twilio.CodeTooManyRequests, twilio.CodeInvalidTo,
		twilio.CodeInvalidCallTo, twilio.CodeOptedOut, twilio.CodeToNotReachable, twilio.CodeNotMobile,
		twilio.CodeLandlineNotAllowed, twilio.CodeUnreachable, twilio.CodeBlocked, twilio.CodeUnknownDestination,
		twilio.CodeLandline, twilio.CodeFiltered, twilio.CodeUnknownError,
	}
	for _, c := range named {
		code, ok := channels.LookupErrorCode(strconv.Itoa(c))
		require.True(t, ok, "twilio code %d has no meaning", c)
		require.Equal(t, "Twilio", code.Provider)
	}
	for _, c := range []string{twilio.NetworkCode, twilio.NoAnswerCode} {
		_, ok := channels.LookupErrorCode(c)
		require.True(t, ok, "code %s has no meaning", c)
	}
	seen := map[string]bool{}
	for _, c := range channels.ErrorCodes() {
		require.False(t, seen[c.Code], "code %s is listed twice", c.Code)
		seen[c.Code] = true
		require.Contains(t, []string{"Twilio", "SMTP", "Nudge"}, c.Provider, c.Code)
		require.True(t, strings.HasSuffix(c.Meaning, "."), "meaning of %s is not a sentence", c.Code)
	}
}
