package twilio_test

import (
	"net/url"
	"testing"

	"github.com/nudgehq/nudge/channels/twilio"
)

// BenchmarkValidateSignature measures the check of one message status
// callback's X-Twilio-Signature, as every webhook request pays it.
func BenchmarkValidateSignature(b *testing.B) {
	const (
		token = "12345678901234567890123456789012"
		url_  = "https://nudge.example.com" + twilio.StatusCallbackPath
	)
	form := url.Values{
		"AccountSid":    {"AC00000000000000000000000000000001"},
		"ApiVersion":    {"2010-04-01"},
		"From":          {"+15005550006"},
		"MessageSid":    {"SM0123456789abcdef0123456789abcdef"},
		"MessageStatus": {"delivered"},
		"SmsSid":        {"SM0123456789abcdef0123456789abcdef"},
		"SmsStatus":     {"delivered"},
		"To":            {"+12125550123"},
	}
	sig := twilio.SignRequest(token, url_, form)
	b.ReportAllocs()
	for b.Loop() {
		if err := twilio.ValidateSignature(token, url_, form, sig); err != nil {
			b.Fatal(err)
		}
	}
}
