package link_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const testSecret = "0123456789abcdef0123456789abcdef"

type bundle struct {
	svc   *link.Service
	store *link.MemoryStore
	clock *nudge.FixedClock
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{store: link.NewMemoryStore(), clock: nudge.NewFixedClock(t0)}
	var err error
	b.svc, err = link.New([]byte(testSecret), b.store, b.clock)
	require.NoError(t, err)
	return b
}

// sms is the self-service link of an SMS reminder.
var sms = link.Link{Purpose: link.SelfService, Lender: "acme", AccountID: "L-100021", Channel: nudge.SMS, Address: "+14155550149"}

func TestTokenShape(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		tok := link.NewToken()
		require.Len(t, tok, link.TokenLength)
		require.True(t, link.ValidToken(tok), tok)
		require.False(t, seen[tok], "tokens repeat")
		seen[tok] = true
	}
	tests := []struct {
		name  string
		token string
		valid bool
	}{
		{name: "made here", token: "AAAAAAAAAAAAAAAAAAAAAA", valid: true},
		{name: "short", token: "AAAAAAAAAAAAAAAAAAAAA"},
		{name: "long", token: "AAAAAAAAAAAAAAAAAAAAAAA"},
		{name: "not base64url", token: "AAAAAAAAAAAAAAAAAAAA+/"},
		{name: "non-canonical last character", token: "AAAAAAAAAAAAAAAAAAAAAB"},
		{name: "empty"},
		{name: "old signed token", token: "eyJwIjoicCIsImwiOiJhY21lIn0.c2lnbmF0dXJl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.valid, link.ValidToken(tt.token))
		})
	}
}

// TestLinkLength checks what a borrower's SMS carries: the path is far
// under 40 characters, and the whole link with a typical public URL stays
// near it.
func TestLinkLength(t *testing.T) {
	t.Parallel()
	tok := link.NewToken()
	path := "/p/" + tok
	require.LessOrEqual(t, len(path), 40)
	for _, base := range []string{"http://127.0.0.1:8080", "https://nudge.example.com"} {
		require.LessOrEqual(t, len(base+path), 50, base)
	}
}

func TestIssueReuses(t *testing.T) {
	t.Parallel()
	const ttl = 30 * 24 * time.Hour
	tests := []struct {
		name  string
		later time.Duration
		mod   func(l *link.Link)
		ttl   time.Duration
		same  bool
	}{
		{name: "same account, channel and address", later: time.Hour, same: true},
		{name: "fifteen days later", later: 15 * 24 * time.Hour, same: true},
		{name: "less than half the time left", later: 15*24*time.Hour + time.Second},
		{name: "another channel", mod: func(l *link.Link) { l.Channel, l.Address = nudge.Email, "ana@example.com" }},
		{name: "another number", mod: func(l *link.Link) { l.Address = "+14155550150" }},
		{name: "another account", mod: func(l *link.Link) { l.AccountID = "L-100022" }},
		{name: "another purpose", mod: func(l *link.Link) { l.Purpose = link.Unsubscribe }, ttl: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			first, err := b.svc.Issue(ctx, sms, ttl)
			require.NoError(t, err)
			require.Equal(t, t0.Add(ttl), first.ExpiresAt)
			b.clock.Advance(tt.later)
			l := sms
			if tt.mod != nil {
				tt.mod(&l)
			}
			d := ttl
			if tt.ttl < 0 {
				d = 0
			}
			second, err := b.svc.Issue(ctx, l, d)
			require.NoError(t, err)
			require.Equal(t, tt.same, first.Token == second.Token)
			want := 1
			if !tt.same {
				want = 2
			}
			require.Equal(t, want, b.store.Len())
		})
	}
}

func TestIssueWithoutExpiryAlwaysReuses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u := link.Link{Purpose: link.Unsubscribe, Lender: "acme", AccountID: "L-1", Channel: nudge.Email, Address: "ana@example.com"}
	first, err := b.svc.Issue(ctx, u, 0)
	require.NoError(t, err)
	require.True(t, first.ExpiresAt.IsZero())
	b.clock.Advance(5 * 365 * 24 * time.Hour)
	second, err := b.svc.Issue(ctx, u, 0)
	require.NoError(t, err)
	require.Equal(t, first.Token, second.Token)
}

func TestIssueRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		l    link.Link
	}{
		{name: "no purpose", l: link.Link{Lender: "acme", AccountID: "A"}},
		{name: "no lender", l: link.Link{Purpose: link.SelfService, AccountID: "A"}},
		{name: "no account", l: link.Link{Purpose: link.SelfService, Lender: "acme"}},
		{name: "voice without attempt", l: link.Link{Purpose: link.Voice, Lender: "acme", AccountID: "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, err := b.svc.Issue(context.Background(), tt.l, time.Hour)
			require.Error(t, err)
			require.Zero(t, b.store.Len())
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		token func(b *bundle, tok string) string
		want  link.Purpose
		later time.Duration
		err   error
	}{
		{name: "valid", token: func(_ *bundle, tok string) string { return tok }, want: link.SelfService},
		{name: "expired", token: func(_ *bundle, tok string) string { return tok }, want: link.SelfService, later: time.Hour, err: link.ErrExpired},
		{name: "another purpose", token: func(_ *bundle, tok string) string { return tok }, want: link.Unsubscribe, err: link.ErrPurpose},
		{name: "unknown", token: func(*bundle, string) string { return link.NewToken() }, want: link.SelfService, err: link.ErrUnknown},
		{name: "revoked", token: func(b *bundle, tok string) string {
			b.store.Revoke("acme", "L-100021")
			return tok
		}, want: link.SelfService, err: link.ErrUnknown},
		{name: "truncated", token: func(_ *bundle, tok string) string { return tok[:20] }, want: link.SelfService, err: link.ErrMalformed},
		{name: "altered", token: func(_ *bundle, tok string) string { return tok + "x" }, want: link.SelfService, err: link.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			l, err := b.svc.Issue(ctx, sms, time.Hour)
			require.NoError(t, err)
			tok := tt.token(b, l.Token)
			b.clock.Advance(tt.later)
			got, err := b.svc.Resolve(ctx, tok, tt.want)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				if errors.Is(tt.err, link.ErrExpired) {
					require.Equal(t, "acme", got.Lender, "an expired link still names its lender")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, l, got)
		})
	}
}

func TestForms(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other, err := link.New([]byte(strings.Repeat("x", link.MinKeyLength)), b.store, b.clock)
	require.NoError(t, err)
	tok := b.svc.SignForm("page/promise/nonce", t0.Add(time.Hour))
	require.NotContains(t, tok, "page")
	tests := []struct {
		name    string
		token   string
		binding string
		now     time.Time
		ok      bool
	}{
		{name: "valid", token: tok, binding: "page/promise/nonce", now: t0, ok: true},
		{name: "another binding", token: tok, binding: "page/paid/nonce", now: t0},
		{name: "expired", token: tok, binding: "page/promise/nonce", now: t0.Add(time.Hour)},
		{name: "another secret", token: other.SignForm("page/promise/nonce", t0.Add(time.Hour)), binding: "page/promise/nonce", now: t0},
		{name: "expiry moved", token: strconv.FormatInt(t0.Add(2*time.Hour).Unix(), 36) + tok[strings.Index(tok, "."):], binding: "page/promise/nonce", now: t0.Add(time.Hour)},
		{name: "no signature", token: strings.Split(tok, ".")[0], binding: "page/promise/nonce", now: t0},
		{name: "empty", binding: "page/promise/nonce", now: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.ok, b.svc.VerifyForm(tt.token, tt.binding, tt.now))
		})
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	_, err := link.New([]byte("short"), link.NewMemoryStore(), nil)
	require.Error(t, err)
	_, err = link.New([]byte(testSecret), nil, nil)
	require.Error(t, err)
}

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	a := link.DeriveKey([]byte(testSecret), "one")
	require.Len(t, a, 32)
	require.Equal(t, a, link.DeriveKey([]byte(testSecret), "one"))
	require.NotEqual(t, a, link.DeriveKey([]byte(testSecret), "two"))
	require.NotEqual(t, a, []byte(testSecret))
}

func TestMask(t *testing.T) {
	t.Parallel()
	tok := link.NewToken()
	require.Equal(t, tok[:4]+"…", link.Mask(tok))
	require.Equal(t, "(not a token)", link.Mask("+14155550149"))
	require.Equal(t, "(not a token)", link.Mask(""))
}

// legacyToken signs claims as Nudge did before links became opaque.
func legacyToken(secret, claims string) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestResolveLegacyUnsubscribe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const claims = `{"p":"u","l":"acme","a":"L-1","c":"email","d":"ana@example.com"}`
	good := legacyToken(testSecret, claims)
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{name: "signed before the upgrade", token: good, ok: true},
		{name: "another secret", token: legacyToken(strings.Repeat("x", 32), claims)},
		{name: "self-service", token: legacyToken(testSecret, `{"p":"p","l":"acme","a":"L-1","c":"email","d":"ana@example.com"}`)},
		{name: "no address", token: legacyToken(testSecret, `{"p":"u","l":"acme","a":"L-1","c":"email"}`)},
		{name: "altered signature", token: good[:len(good)-2] + "AA"},
		{name: "opaque token", token: link.NewToken()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, ok := b.svc.ResolveLegacyUnsubscribe(tt.token)
			require.Equal(t, tt.ok, ok)
			if ok {
				require.Equal(t, link.Link{Purpose: link.Unsubscribe, Lender: "acme", AccountID: "L-1", Channel: nudge.Email,
					Address: "ana@example.com"}, l)
			}
		})
	}
}
