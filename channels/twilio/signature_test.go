package twilio_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/twilio"
)

// referenceSignature is an independent implementation of Twilio's webhook
// signature for forms with one value per key: HMAC-SHA1 over the URL
// followed by each key and value in key order, base64-encoded.
func referenceSignature(token, u string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	data := u
	for _, k := range keys {
		data += k + params[k]
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestValidateSignature(t *testing.T) {
	t.Parallel()
	const token = "12345abcdef67890"
	const hookURL = "https://nudge.example.com/webhooks/twilio/sms/status"
	params := map[string]string{
		"MessageSid":    "SM0123456789abcdef0123456789abcdef",
		"MessageStatus": "delivered",
		"To":            "+14155550123",
		"AccountSid":    "AC0123456789abcdef0123456789abcdef",
		"Body":          "Pagaré el 5 de diciembre",
	}
	form := func(mod func(url.Values)) url.Values {
		v := url.Values{}
		for k, val := range params {
			v.Set(k, val)
		}
		if mod != nil {
			mod(v)
		}
		return v
	}
	good := referenceSignature(token, hookURL, params)

	tests := []struct {
		name    string
		token   string
		url     string
		form    url.Values
		sig     string
		wantErr error
	}{
		{name: "good", token: token, url: hookURL, form: form(nil), sig: good},
		{name: "wrong token", token: "00000abcdef67890", url: hookURL, form: form(nil), sig: good, wantErr: twilio.ErrBadSignature},
		{name: "altered parameter", token: token, url: hookURL, form: form(func(v url.Values) { v.Set("MessageStatus", "failed") }), sig: good, wantErr: twilio.ErrBadSignature},
		{name: "added parameter", token: token, url: hookURL, form: form(func(v url.Values) { v.Set("ErrorCode", "30003") }), sig: good, wantErr: twilio.ErrBadSignature},
		{name: "altered URL", token: token, url: hookURL + "?x=1", form: form(nil), sig: good, wantErr: twilio.ErrBadSignature},
		{name: "other host", token: token, url: "https://evil.example.com/webhooks/twilio/sms/status", form: form(nil), sig: good, wantErr: twilio.ErrBadSignature},
		{name: "missing header", token: token, url: hookURL, form: form(nil), sig: "", wantErr: twilio.ErrMissingSignature},
		{name: "repeated key", token: token, url: hookURL, form: form(func(v url.Values) { v.Add("To", "+14155550199") }), sig: good, wantErr: twilio.ErrRepeatedParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := twilio.ValidateSignature(tt.token, tt.url, tt.form, tt.sig)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestValidateSignatureExplicitPort(t *testing.T) {
	t.Parallel()
	// Twilio may sign https URLs with or without the default port.
	const token = "abc123"
	params := map[string]string{"CallSid": "CA0123456789abcdef0123456789abcdef"}
	sig := referenceSignature(token, "https://nudge.example.com:443/webhooks/twilio/voice", params)
	form := url.Values{"CallSid": {params["CallSid"]}}
	require.NoError(t, twilio.ValidateSignature(token, "https://nudge.example.com/webhooks/twilio/voice", form, sig))
	// And the other way round: a URL configured with its port, signed without it.
	sig = referenceSignature(token, "https://nudge.example.com/webhooks/twilio/voice", params)
	require.NoError(t, twilio.ValidateSignature(token, "https://nudge.example.com:443/webhooks/twilio/voice", form, sig))
	// A form with an empty value list is signed as twilio-go signs it (the
	// key with an empty value).
	empty := url.Values{"CallSid": {params["CallSid"]}, "Digits": {}}
	sig = referenceSignature(token, "https://nudge.example.com/webhooks/twilio/voice", map[string]string{"CallSid": params["CallSid"], "Digits": ""})
	require.NoError(t, twilio.ValidateSignature(token, "https://nudge.example.com/webhooks/twilio/voice", empty, sig))
}

func TestSignRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		url    string
		params map[string]string
	}{
		{name: "no params", url: "https://a.example/x", params: map[string]string{}},
		{name: "several params", url: "https://a.example/hook?lender=acme", params: map[string]string{"b": "2", "a": "1", "Body": "我明天还款"}},
		{name: "empty value", url: "http://127.0.0.1:8080/in", params: map[string]string{"ErrorCode": "", "To": "+1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{}
			for k, v := range tt.params {
				form.Set(k, v)
			}
			sig := twilio.SignRequest("tok3n", tt.url, form)
			require.Equal(t, referenceSignature("tok3n", tt.url, tt.params), sig)
			require.NoError(t, twilio.ValidateSignature("tok3n", tt.url, form, sig))
		})
	}
}
