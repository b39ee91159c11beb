package borrower

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// newFormNonce returns 16 random bytes, base64url: a form's idempotency key.
func newFormNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("form nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// nonceLength is the length of a nonce made by newFormNonce.
const nonceLength = 22

// formBinding is what a CSRF token binds: the page token, the action and
// the nonce.
func formBinding(pageToken, action, nonce string) string {
	sum := sha256.Sum256([]byte(pageToken + "\x00" + action + "\x00" + nonce))
	return hex.EncodeToString(sum[:])
}

// csrfToken signs the binding of a form (link.Service.SignForm).
func (p *SelfService) csrfToken(q *ssRequest, action, nonce string) string {
	ttl := p.FormTTL
	if ttl <= 0 {
		ttl = DefaultFormTTL
	}
	return p.Links.SignForm(formBinding(q.token, action, nonce), q.now.Add(ttl))
}

// checkCSRF reports whether token is a valid, unexpired CSRF token for the
// page, action and nonce.
func (p *SelfService) checkCSRF(q *ssRequest, action, nonce, token string) bool {
	if len(nonce) != nonceLength || token == "" {
		return false
	}
	switch action {
	case ActionPromise, ActionPaid, ActionStop, ActionPlanPreview, ActionPlan:
	default:
		return false
	}
	return p.Links.VerifyForm(token, formBinding(q.token, action, nonce), q.now)
}
