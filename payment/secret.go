package payment

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// SecretPrefix starts every payment webhook secret.
const SecretPrefix = "nudge_whsec_"

// sealPrefix marks the version of a sealed secret.
const sealPrefix = "v1:"

// MinSealKeyLength is the shortest deployment secret a Sealer accepts.
const MinSealKeyLength = 32

// ErrSealed is a sealed secret that does not open: altered, sealed for
// another lender or under another deployment secret.
var ErrSealed = errors.New("payment webhook secret: cannot open the sealed secret")

// NewSecret returns a new random payment webhook secret: SecretPrefix and
// 32 random bytes in base64url. The whole string is the HMAC key.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("payment webhook secret: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Sealer seals payment webhook secrets for the store and opens them again.
// Unlike an API key, which is checked against its hash, a webhook secret
// must be known to check a signature: the store keeps it encrypted with
// AES-256-GCM under a key derived from the deployment's secret and bound to
// the lender id, so a copy of the database alone cannot sign a payment.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the sealing key from the deployment secret (at least
// MinSealKeyLength bytes).
func NewSealer(deploymentSecret []byte) (*Sealer, error) {
	if len(deploymentSecret) < MinSealKeyLength {
		return nil, fmt.Errorf("payment webhook sealer: the secret must be at least %d bytes", MinSealKeyLength)
	}
	m := hmac.New(sha256.New, deploymentSecret)
	m.Write([]byte("nudge payment webhook secret v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("payment webhook sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("payment webhook sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts lender's secret for the store.
func (s *Sealer) Seal(lender, secret string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("payment webhook secret: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(secret), []byte(lender))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a secret Seal sealed for lender, or returns ErrSealed.
func (s *Sealer) Open(lender, sealed string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", ErrSealed
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", ErrSealed
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(lender))
	if err != nil {
		return "", ErrSealed
	}
	return string(plain), nil
}
