package payment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed payment webhook request.
const (
	// TimestampHeader carries the time of signing in Unix seconds.
	TimestampHeader = "Nudge-Timestamp"
	// SignatureHeader carries "v1=" and the hex HMAC-SHA256, keyed with the
	// lender's webhook secret, of the timestamp, a period and the body.
	SignatureHeader = "Nudge-Signature"
)

// SignatureTolerance is how far a request's timestamp may be from now,
// either way: an older request is refused as a possible replay.
const SignatureTolerance = 5 * time.Minute

// signatureScheme prefixes the signature in SignatureHeader.
const signatureScheme = "v1="

// Errors of Verify.
var (
	// ErrMalformedSignature is a missing or unreadable timestamp or signature.
	ErrMalformedSignature = errors.New("payment webhook: missing or malformed signature headers")
	// ErrStaleSignature is a timestamp further than SignatureTolerance from now.
	ErrStaleSignature = errors.New("payment webhook: timestamp outside the tolerance")
	// ErrBadSignature is a signature that does not match.
	ErrBadSignature = errors.New("payment webhook: signature does not match")
)

// Sign returns the SignatureHeader value for body sent at ts with secret:
// "v1=" + hex(HMAC-SHA256(secret, "<unix seconds>." + body)).
func Sign(secret string, ts time.Time, body []byte) string {
	return signatureScheme + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

// Verify checks a request's TimestampHeader and SignatureHeader values
// against body and secret at now: the timestamp within SignatureTolerance
// and the signature equal, compared in constant time.
func Verify(secret, timestamp, signature string, body []byte, now time.Time) error {
	secs, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrMalformedSignature, TimestampHeader, timestamp)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(signature), signatureScheme)
	if !ok {
		return fmt.Errorf("%w: %s does not start with %s", ErrMalformedSignature, SignatureHeader, signatureScheme)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: %s is not a hex SHA-256 HMAC", ErrMalformedSignature, SignatureHeader)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return fmt.Errorf("%w: signed %s from now", ErrStaleSignature, d.Round(time.Second))
	}
	if !hmac.Equal(got, mac(secret, strconv.FormatInt(secs, 10), body)) {
		return ErrBadSignature
	}
	return nil
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// WebhookPath is the route of the signed payment webhook.
const WebhookPath = "/webhooks/payments"

// MaxPaymentIDLength is the longest payment id (the lender's reference)
// accepted.
const MaxPaymentIDLength = 128
