// Package link makes and checks the opaque, unforgeable tokens in the links
// Nudge sends borrowers and providers: one-click email unsubscribe
// (/u/{token}), the self-service page (/p/{token}) and the webhooks of a call
// (/webhooks/twilio/voice/{token}). A token is bound to a lender, an account, a
// channel and an address, carries its purpose and expiry, and is signed with
// HMAC-SHA256 under the deployment's secret; changing any byte breaks it.
package link

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// Purpose says what a token may be used for.
type Purpose string

// Purposes.
const (
	Unsubscribe Purpose = "u"
	SelfService Purpose = "p"
	// Voice names a call's webhooks (/webhooks/twilio/voice/{token}): the
	// token binds the call to its attempt.
	Voice Purpose = "v"
)

// MinKeyLength is the shortest secret accepted, in bytes.
const MinKeyLength = 32

// Errors returned by Verify.
var (
	ErrMalformed = errors.New("link: malformed token")
	ErrForged    = errors.New("link: bad signature")
	ErrExpired   = errors.New("link: expired")
	ErrPurpose   = errors.New("link: token is for another purpose")
)

// Claims is what a token says.
type Claims struct {
	Purpose   Purpose           `json:"p"`
	Lender    string            `json:"l"`
	AccountID string            `json:"a"`
	Channel   nudge.ChannelKind `json:"c,omitempty"`
	Address   string            `json:"d,omitempty"`
	// Expires is a Unix time; zero means the token does not expire.
	Expires int64 `json:"e,omitempty"`
	// Attempt is the attempt a Voice token belongs to.
	Attempt string `json:"t,omitempty"`
}

// Signer signs and verifies tokens with one secret.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for key, which must be at least MinKeyLength bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("link: the secret must be at least %d bytes, got %d", MinKeyLength, len(key))
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

var enc = base64.RawURLEncoding

// Sign returns the token for c.
func (s *Signer) Sign(c Claims) string {
	payload, _ := json.Marshal(c) // Claims always marshals
	body := enc.EncodeToString(payload)
	return body + "." + enc.EncodeToString(s.mac(body))
}

// Verify checks token's signature, purpose and expiry at now and returns its claims.
func (s *Signer) Verify(token string, want Purpose, now time.Time) (Claims, error) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok || body == "" || sig == "" {
		return Claims{}, ErrMalformed
	}
	got, err := enc.DecodeString(sig)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	if !hmac.Equal(got, s.mac(body)) || enc.EncodeToString(got) != sig { // one encoding per signature: no malleable tokens
		return Claims{}, ErrForged
	}
	payload, err := enc.DecodeString(body)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, ErrMalformed
	}
	if c.Purpose != want {
		return Claims{}, ErrPurpose
	}
	if c.Expires != 0 && !now.Before(time.Unix(c.Expires, 0)) {
		return c, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}
