package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"

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
// a form that repeats a key, then accepts what twilio-go's RequestValidator
// accepts: the signature of url with its port or without (https and :443,
// http and :80). One of the two is url itself, the one Twilio signs when it
// calls the URL it was given, so that signature is computed first, once,
// without the validator's URL parsing and formatting; only a signature that
// does not match it is handed to the validator, which tries both.
func ValidateSignature(authToken, url string, form url.Values, signature string) error {
	if signature == "" {
		return ErrMissingSignature
	}
	single := true // every key has one value, as in every parsed form
	for k, vs := range form {
		if len(vs) > 1 {
			return fmt.Errorf("%w: %q", ErrRepeatedParameter, k)
		}
		single = single && len(vs) == 1
	}
	if single && subtle.ConstantTimeCompare([]byte(SignRequest(authToken, url, form)), []byte(signature)) == 1 {
		return nil
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		params[k] = ""
		if len(vs) == 1 {
			params[k] = vs[0]
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
	n := len(url)
	for k, vs := range form {
		keys = append(keys, k)
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, url...)
	for _, k := range keys {
		vs := form[k]
		if len(vs) > 1 {
			vs = slices.Sorted(slices.Values(vs))
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, v...)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write(b)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
