package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
)

// APITokenPrefix starts every API token: nudge_<id>_<secret>.
const APITokenPrefix = "nudge_"

// Per-key request rate defaults.
const (
	DefaultKeyRate  = 20.0 // requests a second
	DefaultKeyBurst = 40
)

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// RandomString returns n random bytes encoded in unpadded lower-case
// base32: API key ids and secrets, and the console's session nonces.
func RandomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random bytes: %w", err)
	}
	return lowerBase32.EncodeToString(b), nil
}

// NewAPIKey makes a key of lender (nudge.PlatformLender for a platform
// operator's admin or viewer key) with role, created at now. It returns the
// token to show once (nudge_<id>_<secret>) and the key to store, which holds
// only the SHA-256 of the secret.
func NewAPIKey(lender string, role nudge.Role, now time.Time) (string, nudge.APIKey, error) {
	if lender == "" {
		return "", nudge.APIKey{}, errors.New("new api key: lender is required")
	}
	if !role.Valid() {
		return "", nudge.APIKey{}, fmt.Errorf("new api key: unknown role %q (want admin, operator or viewer)", role)
	}
	if lender == nudge.PlatformLender && role == nudge.RoleOperator {
		return "", nudge.APIKey{}, errors.New("new api key: a platform key is admin or viewer")
	}
	id, err := RandomString(10)
	if err != nil {
		return "", nudge.APIKey{}, err
	}
	secret, err := RandomString(32)
	if err != nil {
		return "", nudge.APIKey{}, err
	}
	k := nudge.APIKey{ID: id, Lender: lender, Role: role, Hash: HashSecret(secret), CreatedAt: now.UTC()}
	return APITokenPrefix + id + "_" + secret, k, nil
}

// ParseAPIToken splits a token nudge_<id>_<secret> into its id and secret.
func ParseAPIToken(token string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(token, APITokenPrefix)
	if !ok {
		return "", "", fmt.Errorf("api token: want the %s prefix", APITokenPrefix)
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || id == "" || secret == "" || strings.Contains(secret, "_") {
		return "", "", errors.New("api token: want nudge_<id>_<secret>")
	}
	return id, secret, nil
}

// KeyStore finds stored API keys by the hash of their secret; *store.DB is
// one.
type KeyStore interface {
	APIKeyByHash(ctx context.Context, hash string) (nudge.APIKey, error)
}

// ErrInvalidKey is Authenticate's answer to a token that is malformed or
// names no live key.
var ErrInvalidKey = errors.New("api key: not valid")

// Authenticate finds the key of a token nudge_<id>_<secret> in keys. A
// malformed token, or one naming no key, a revoked key or a key of an
// unknown role, is ErrInvalidKey; a failing store is another error. The
// lender API (a Bearer header) and the operator console (its login form)
// both log in through it.
func Authenticate(ctx context.Context, keys KeyStore, token string) (nudge.APIKey, error) {
	id, secret, err := ParseAPIToken(token)
	if err != nil {
		return nudge.APIKey{}, ErrInvalidKey
	}
	k, err := keys.APIKeyByHash(ctx, HashSecret(secret))
	if errors.Is(err, nudge.ErrNotFound) {
		return nudge.APIKey{}, ErrInvalidKey
	}
	if err != nil {
		return nudge.APIKey{}, fmt.Errorf("look up api key: %w", err)
	}
	if k.ID != id || !k.RevokedAt.IsZero() || !k.Role.Valid() {
		return nudge.APIKey{}, ErrInvalidKey
	}
	return k, nil
}

// HashSecret returns the hex SHA-256 of a key's secret, as stored.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// KeyLimiter limits the request rate of each API key.
type KeyLimiter interface {
	// Allow takes one request from key's allowance; when none is left it
	// reports false and how long until one is.
	Allow(ctx context.Context, key string) (bool, time.Duration, error)
}

// TokenBuckets is an in-process KeyLimiter: one token bucket per key,
// refilled Rate tokens a second up to Burst. Each API process limits on its
// own; use RedisKeyLimiter to share the limit between replicas.
type TokenBuckets struct {
	rate  float64
	burst float64
	clock nudge.Clock

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewTokenBuckets returns buckets refilling perSecond tokens a second up to
// burst (DefaultKeyRate and DefaultKeyBurst when not positive) on clock.
func NewTokenBuckets(perSecond float64, burst int, clock nudge.Clock) *TokenBuckets {
	if perSecond <= 0 {
		perSecond = DefaultKeyRate
	}
	if burst <= 0 {
		burst = DefaultKeyBurst
	}
	if clock == nil {
		clock = nudge.SystemClock
	}
	return &TokenBuckets{rate: perSecond, burst: float64(burst), clock: clock, buckets: map[string]*bucket{}}
}

// Allow implements KeyLimiter.
func (t *TokenBuckets) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.buckets[key]
	if !ok {
		b = &bucket{tokens: t.burst, at: now}
		t.buckets[key] = b
	}
	if now.After(b.at) {
		b.tokens = min(t.burst, b.tokens+now.Sub(b.at).Seconds()*t.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0, nil
	}
	wait := time.Duration((1 - b.tokens) / t.rate * float64(time.Second))
	return false, wait, nil
}

// RedisKeyLimiter is a KeyLimiter over the Redis token buckets of the
// dispatcher, shared by every API replica.
type RedisKeyLimiter struct {
	Limiter   *dispatcher.RateLimiter
	PerSecond float64
	Burst     int
}

// Allow implements KeyLimiter.
func (l RedisKeyLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	rate, burst := l.PerSecond, l.Burst
	if rate <= 0 {
		rate = DefaultKeyRate
	}
	if burst <= 0 {
		burst = DefaultKeyBurst
	}
	return l.Limiter.Take(ctx, "api:"+key, rate, burst)
}
