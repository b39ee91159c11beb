package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// SignatureHeader is the HTTP header carrying Twilio's webhook signature.
const SignatureHeader = "X-Twilio-Signature"

// Errors returned by ValidateSignature. A web handler answers 403 to each.
var (
	// ErrMissingSignature means the request carried no X-Twilio-Signature.
	ErrMissingSignature = errors.New("twilio: missing X-Twilio-Signature")
	// ErrRepeatedParameter means a form key appeared more than once; Twilio's
	// validator takes one value per key, so such a form cannot be checked.
	ErrRepeatedParameter = errors.New("twilio: form repeats a parameter")
	// ErrBadSignature means the signature does not match the URL and form.
	ErrBadSignature = errors.New("twilio: signature does not match")
)

// ValidateSignature checks a webhook's X-Twilio-Signature. url must be the
// exact public URL Twilio called (Config.PublicURL plus the path and query),
// never one rebuilt from the Host header. It rejects a missing signature and
// a form that repeats a key before asking twilio-go's RequestValidator.
func ValidateSignature(authToken, url string, form url.Values, signature string) error {
	if signature == "" {
		return ErrMissingSignature
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 1 {
			return fmt.Errorf("%w: %q", ErrRepeatedParameter, k)
		}
		if len(vs) == 1 {
			params[k] = vs[0]
		} else {
			params[k] = ""
		}
	}
	v := client.NewRequestValidator(authToken)
	if !v.Validate(url, params, signature) {
		return ErrBadSignature
	}
	return nil
}

// TokenFor is the auth token a webhook's signature is checked with: the
// token of the account its form's AccountSid names, when tokens holds one
// (a pool sender's subaccount signs its webhooks with its own token), else
// fallback (the main account's). Choosing by AccountSid gives a forger
// nothing: the signature must still match that account's token.
func TokenFor(tokens map[string]string, fallback string, form url.Values) string {
	if t := tokens[form.Get("AccountSid")]; t != "" {
		return t
	}
	return fallback
}

// SignRequest computes the X-Twilio-Signature Twilio sends for a form POST to
// url: the base64 HMAC-SHA1, keyed by the auth token, of the URL followed by
// every parameter name and value, sorted by name (values of a repeated name
// in sorted order), with no delimiters.
func SignRequest(authToken, url string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(url)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
