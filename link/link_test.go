package link_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

func setup(t *testing.T) *link.Signer {
	t.Helper()
	s, err := link.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return s
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	s := setup(t)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := link.Claims{Purpose: link.Unsubscribe, Lender: "demo", AccountID: "L-1", Channel: nudge.Email, Address: "ana@example.com", Expires: now.Add(time.Hour).Unix()}
	tok := s.Sign(c)
	require.NotContains(t, tok, "ana@example.com", "the token is opaque")

	got, err := s.Verify(tok, link.Unsubscribe, now)
	require.NoError(t, err)
	require.Equal(t, c, got)

	_, err = s.Verify(tok, link.SelfService, now)
	require.ErrorIs(t, err, link.ErrPurpose)
	_, err = s.Verify(tok, link.Unsubscribe, now.Add(2*time.Hour))
	require.ErrorIs(t, err, link.ErrExpired)
}

func TestForgedTokens(t *testing.T) {
	t.Parallel()
	s := setup(t)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tok := s.Sign(link.Claims{Purpose: link.Unsubscribe, Lender: "demo", AccountID: "L-1", Channel: nudge.Email, Address: "ana@example.com"})
	other, err := link.NewSigner([]byte("another-secret-another-secret-xx"))
	require.NoError(t, err)
	body, sig, _ := strings.Cut(tok, ".")
	flipped := []byte(body)
	flipped[3] ^= 1
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{name: "other key", token: other.Sign(link.Claims{Purpose: link.Unsubscribe, Lender: "demo"}), want: link.ErrForged},
		{name: "altered body", token: string(flipped) + "." + sig, want: link.ErrForged},
		{name: "altered signature", token: body + "." + sig[:len(sig)-2] + "AA", want: link.ErrForged},
		{name: "no signature", token: body, want: link.ErrMalformed},
		{name: "empty", token: "", want: link.ErrMalformed},
		{name: "garbage", token: "!!.??", want: link.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Verify(tt.token, link.Unsubscribe, now)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestShortKeyRefused(t *testing.T) {
	t.Parallel()
	_, err := link.NewSigner([]byte("short"))
	require.Error(t, err)
}
