// Package link makes and resolves the tokens in the links Nudge sends
// borrowers and providers: one-click email unsubscribe (/u/{token}), the
// self-service page (/p/{token}), the webhooks of a call
// (/webhooks/twilio/voice/{token}) and the Reply-To of an email
// (replies+{tag}@…, the tag being the token's address form).
//
// Links carry no data. A token is TokenLength characters of base64url
// holding TokenBytes random bytes (128 bits) and nothing else; the store maps
// it to its purpose, lender, account, channel, address, attempt and expiry.
// Erasing a borrower deletes their tokens, after which the links answer as
// unknown ones do. A Service issues tokens (reusing a live one for the same
// purpose, account, channel and address, so a borrower's links stay stable
// and the table does not grow per message), resolves them, and signs the
// short-lived form tokens of the self-service page.
package link

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	// Reply names the borrower an email reply comes from: the token, in its
	// address form (AddressTag), is the plus-address tag of the email's
	// Reply-To.
	Reply Purpose = "r"
)

// Valid reports whether p is one of the purposes.
func (p Purpose) Valid() bool {
	switch p {
	case Unsubscribe, SelfService, Voice, Reply:
		return true
	}
	return false
}

// VoiceHeader is the key, in a call's nudge.Message Headers, of the token
// naming the call's webhooks (the renderer issues it; the voice sender puts
// it in the call's URLs).
const VoiceHeader = "Nudge-Voice-Token"

// ReplyHeader is the key, in an email's nudge.Message Headers, of the
// address form of its reply token (the renderer issues it; the SMTP sender
// plus-addresses the Reply-To with it and does not send the header).
const ReplyHeader = "Nudge-Reply-Tag"

// Token sizes: TokenBytes random bytes, base64url without padding.
const (
	TokenBytes  = 16
	TokenLength = 22
)

// MinKeyLength is the shortest secret accepted, in bytes.
const MinKeyLength = 32

// Errors returned by Resolve.
var (
	// ErrMalformed: the string cannot be a token (a truncated or altered link).
	ErrMalformed = errors.New("link: malformed token")
	// ErrUnknown: no such token, or it was revoked by an erasure.
	ErrUnknown = errors.New("link: unknown or revoked token")
	// ErrExpired: the token's time has passed.
	ErrExpired = errors.New("link: expired")
	// ErrPurpose: the token exists for another purpose.
	ErrPurpose = errors.New("link: token is for another purpose")
)

// Link is what the store knows about a token.
type Link struct {
	Token     string
	Purpose   Purpose
	Lender    string
	AccountID string
	Channel   nudge.ChannelKind
	// Address is the contact the link was sent to.
	Address string
	// Attempt is the attempt a Voice token belongs to.
	Attempt   string
	CreatedAt time.Time
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time
}

// Expired reports whether the link has expired at now.
func (l Link) Expired(now time.Time) bool {
	return !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt)
}

var enc = base64.RawURLEncoding

// NewToken returns a new random token.
func NewToken() string {
	var b [TokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails.
	return enc.EncodeToString(b[:])
}

// ValidToken reports whether s has the form of a token: TokenLength
// characters of the base64url alphabet, in the one encoding NewToken makes.
func ValidToken(s string) bool {
	if len(s) != TokenLength {
		return false
	}
	b, err := enc.DecodeString(s)
	return err == nil && len(b) == TokenBytes && enc.EncodeToString(b) == s
}

// Mask returns what logs may show of a token: the first four characters
// of a token, and nothing of a string that is not one (a mistyped path may
// hold anything).
func Mask(token string) string {
	if !ValidToken(token) {
		return "(not a token)"
	}
	return token[:4] + "…"
}

// Store keeps tokens; *store.DB is one.
type Store interface {
	// IssueLink returns a stored token with l's purpose, lender, account,
	// channel, address and attempt that expires at or after reuseFrom (or,
	// when l.ExpiresAt is zero, never expires); when there is none it stores
	// l and returns it.
	IssueLink(ctx context.Context, l Link, reuseFrom time.Time) (Link, error)
	// GetLink returns the token's link, or nudge.ErrNotFound.
	GetLink(ctx context.Context, token string) (Link, error)
}

// Service issues and resolves tokens and signs form tokens.
type Service struct {
	store   Store
	clock   nudge.Clock
	formKey []byte
	// legacyKey verifies the signed unsubscribe tokens of emails sent
	// before links became opaque.
	legacyKey []byte
}

// New returns a Service over store. secret is the deployment's secret (at
// least MinKeyLength bytes); the form-token key is derived from it.
func New(secret []byte, store Store, clock nudge.Clock) (*Service, error) {
	if len(secret) < MinKeyLength {
		return nil, fmt.Errorf("link: the secret must be at least %d bytes, got %d", MinKeyLength, len(secret))
	}
	if store == nil {
		return nil, errors.New("link: a store is required")
	}
	if clock == nil {
		clock = nudge.SystemClock
	}
	return &Service{store: store, clock: clock, formKey: DeriveKey(secret, "nudge/link/form/v1"),
		legacyKey: append([]byte(nil), secret...)}, nil
}

// DeriveKey derives a 32-byte key for one use, named by label, from the
// deployment's secret (HKDF-SHA256), so no two uses share a key.
func DeriveKey(secret []byte, label string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, label, 32)
	if err != nil {
		panic(fmt.Sprintf("link: derive key %q: %v", label, err)) // only for lengths HKDF cannot give
	}
	return k
}

// Issue returns a token for l (its Token, CreatedAt and ExpiresAt are set
// here). A token with ttl > 0 expires ttl from now; a live token for the
// same purpose, lender, account, channel, address and attempt with at least
// half of ttl left is reused instead of making a new one. A token with ttl
// 0 never expires, and one already stored is always reused.
func (s *Service) Issue(ctx context.Context, l Link, ttl time.Duration) (Link, error) {
	if !l.Purpose.Valid() {
		return Link{}, fmt.Errorf("link: issue: unknown purpose %q", l.Purpose)
	}
	if l.Lender == "" || l.AccountID == "" {
		return Link{}, errors.New("link: issue: lender and account are required")
	}
	if l.Purpose == Voice && l.Attempt == "" {
		return Link{}, errors.New("link: issue: a voice token needs its attempt")
	}
	now := s.clock.Now().UTC()
	l.Token, l.CreatedAt, l.ExpiresAt = NewToken(), now, time.Time{}
	var reuseFrom time.Time
	if ttl > 0 {
		l.ExpiresAt = now.Add(ttl)
		reuseFrom = now.Add(ttl / 2)
	}
	got, err := s.store.IssueLink(ctx, l, reuseFrom)
	if err != nil {
		return Link{}, fmt.Errorf("link: issue %s token: %w", l.Purpose, err)
	}
	return got, nil
}

// Resolve returns the link of token if it is one for want: ErrMalformed
// when token cannot be a token, ErrUnknown when the store has none (or it
// was revoked), ErrPurpose when it is for another purpose, and the link
// with ErrExpired when its time has passed.
func (s *Service) Resolve(ctx context.Context, token string, want Purpose) (Link, error) {
	if !ValidToken(token) {
		return Link{}, ErrMalformed
	}
	l, err := s.store.GetLink(ctx, token)
	if errors.Is(err, nudge.ErrNotFound) {
		return Link{}, ErrUnknown
	}
	if err != nil {
		return Link{}, fmt.Errorf("link: resolve %s: %w", Mask(token), err)
	}
	if l.Purpose != want {
		return Link{}, ErrPurpose
	}
	if l.Expired(s.clock.Now()) {
		return l, ErrExpired
	}
	return l, nil
}

// SignForm returns a form token binding binding until expires: the expiry
// and an HMAC under a key of its own, no other data.
func (s *Service) SignForm(binding string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 36)
	return exp + "." + enc.EncodeToString(s.formMAC(exp, binding))
}

// VerifyForm reports whether token is a form token SignForm made for
// binding that has not expired at now.
func (s *Service) VerifyForm(token, binding string, now time.Time) bool {
	exp, sig, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(exp, 36, 64)
	if err != nil || strconv.FormatInt(unix, 36) != exp || !now.Before(time.Unix(unix, 0)) {
		return false
	}
	got, err := enc.DecodeString(sig)
	if err != nil || enc.EncodeToString(got) != sig { // one encoding per signature
		return false
	}
	return hmac.Equal(got, s.formMAC(exp, binding))
}

func (s *Service) formMAC(exp, binding string) []byte {
	m := hmac.New(sha256.New, s.formKey)
	m.Write([]byte(exp))
	m.Write([]byte{0})
	m.Write([]byte(binding))
	return m.Sum(nil)
}

// legacyClaims is what a signed token of a Nudge before opaque links held.
type legacyClaims struct {
	Purpose   Purpose           `json:"p"`
	Lender    string            `json:"l"`
	AccountID string            `json:"a"`
	Channel   nudge.ChannelKind `json:"c,omitempty"`
	Address   string            `json:"d,omitempty"`
}

// ResolveLegacyUnsubscribe returns the link of a one-click unsubscribe
// token signed by a Nudge from before opaque links (base64url JSON claims, a
// dot, and their HMAC-SHA256 under the secret), so that the unsubscribe
// link of an email sent before the upgrade keeps working (RFC 8058, and a
// way out must keep working for as long as such emails are read). No such
// token is issued any more; the caller should check that the address is
// still the account's, since the token itself cannot be revoked.
func (s *Service) ResolveLegacyUnsubscribe(token string) (Link, bool) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok || body == "" || sig == "" {
		return Link{}, false
	}
	got, err := enc.DecodeString(sig)
	if err != nil || enc.EncodeToString(got) != sig {
		return Link{}, false
	}
	m := hmac.New(sha256.New, s.legacyKey)
	m.Write([]byte(body))
	if !hmac.Equal(got, m.Sum(nil)) {
		return Link{}, false
	}
	payload, err := enc.DecodeString(body)
	if err != nil {
		return Link{}, false
	}
	var c legacyClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.Purpose != Unsubscribe || c.Lender == "" || c.Address == "" || !c.Channel.Valid() {
		return Link{}, false
	}
	return Link{Purpose: Unsubscribe, Lender: c.Lender, AccountID: c.AccountID, Channel: c.Channel, Address: c.Address}, true
}
